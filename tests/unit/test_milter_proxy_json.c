/*
 * An upstream's v2 JSON reply -> milter result (src/daemon/worker_proxy_json.c).
 * Table-driven: a reply body, and the result's fields rendered as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "daemon/worker_proxy.h"

struct json_case {
    const char *name;
    const char *body;
    const char *want;            /* NULL = refused */
};

static const struct json_case cases[] = {
    {"ham with milter block",
     "{\"is_skipped\":false,\"score\":0.3,\"required_score\":15,\"action\":\"no action\","
     "\"symbols\":{},\"messages\":{},\"milter\":{\"add_headers\":{\"X-Spamd-Result\":"
     "{\"value\":\"default: False [0.30 / 15.00]\",\"order\":-1},\"X-Top\":{\"value\":\"1\","
     "\"order\":1}},\"remove_headers\":{\"X-Spam\":0,\"X-Old\":-1}}}",
     "action=no action;-X-Spam/0;-X-Old/-1;+X-Spamd-Result=default: False [0.30 / 15.00]/-1;"
     "+X-Top=1/1"},
    {"reject with smtp_message and dkim array",
     "{\"action\":\"reject\",\"messages\":{\"smtp_message\":\"Gtube pattern\"},"
     "\"dkim-signature\":[\"v=1; d=a\",\"v=1; d=b\"]}",
     "action=reject;msg=Gtube pattern;dkim=v=1; d=a|v=1; d=b"},
    {"rewrite subject, dkim string",
     "{\"action\":\"rewrite subject\",\"subject\":\"[SPAM] hi\",\"dkim-signature\":\"v=1\"}",
     "action=rewrite subject;subject=[SPAM] hi;dkim=v=1"},
    {"array and legacy string add_headers",
     "{\"action\":\"add header\",\"milter\":{\"add_headers\":{\"X-A\":[{\"value\":\"1\"},"
     "{\"value\":\"2\",\"order\":0}],\"X-B\":\"legacy\"},\"no_action\":true,"
     "\"spam_header\":\"Maybe\",\"reject\":\"discard\",\"change_from\":\"<x@y>\","
     "\"add_rcpt\":[\"<r@y>\"],\"del_rcpt\":\"<d@y>\"}}",
     "action=add header;reject=discard;no_action;spam_header=Maybe;from=<x@y>;+rcpt=<r@y>;"
     "-rcpt=<d@y>;+X-A=1/-1;+X-A=2/0;+X-B=legacy/-1"},
    {"milter action reject mode at top level", "{\"action\":\"reject\",\"reject\":\"quarantine\"}",
     "action=reject;reject=quarantine"},
    {"no action member", "{\"score\":1}", "action=-"},
    {"wrong member types ignored",
     "{\"action\":\"no action\",\"milter\":{\"add_headers\":[1,2],\"remove_headers\":\"x\"}}",
     "action=no action"},
    {"not an object", "[1,2,3]", NULL},
    {"truncated", "{\"action\":\"rej", NULL},
    {"empty", "", NULL},
};

static void render(const struct milter_result *r, char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, "action=%s", r->action ? r->action : "-");
#define ADD(...) n += (size_t)snprintf(out + n, size - n, __VA_ARGS__)
    if (r->smtp_message)
        ADD(";msg=%s", r->smtp_message);
    if (r->subject)
        ADD(";subject=%s", r->subject);
    if (r->reject_mode)
        ADD(";reject=%s", r->reject_mode);
    if (r->no_action)
        ADD(";no_action");
    if (r->spam_header)
        ADD(";spam_header=%s", r->spam_header);
    if (r->change_from)
        ADD(";from=%s", r->change_from);
    for (size_t i = 0; i < r->nadd_rcpt; i++)
        ADD(";+rcpt=%s", r->add_rcpt[i]);
    for (size_t i = 0; i < r->ndel_rcpt; i++)
        ADD(";-rcpt=%s", r->del_rcpt[i]);
    for (size_t i = 0; i < r->nops; i++) {
        if (r->ops[i].value == NULL)
            ADD(";-%s/%d", r->ops[i].name, r->ops[i].order);
        else
            ADD(";+%s=%s/%d", r->ops[i].name, r->ops[i].value, r->ops[i].order);
    }
    for (size_t i = 0; i < r->ndkim; i++)
        ADD("%s%s", i ? "|" : ";dkim=", r->dkim[i]);
#undef ADD
}

static void test_cases(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct json_case *c = &cases[i];
        struct arena *arena = arena_new(0);
        struct milter_result r;
        const char *err = NULL;
        char got[1024];
        int rc = proxy_result_from_json(arena, c->body, strlen(c->body), &r, &err);
        if (c->want == NULL) {
            if (rc != -1 || err == NULL)
                fail_msg("%s: accepted", c->name);
        } else {
            if (rc != 0)
                fail_msg("%s: refused: %s", c->name, err ? err : "?");
            render(&r, got, sizeof(got));
            if (strcmp(got, c->want) != 0)
                fail_msg("%s:\n got  %s\n want %s", c->name, got, c->want);
        }
        arena_free(&arena);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
