/*
 * The milter_headers module (src/modules/milter_headers.c): which headers
 * a verdict produces, their exact values, and the removal of spoofed ones.
 * Table-driven: a module section, the symbols of a task, and the wanted
 * milter_headers list rendered as text.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/actions.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/symbols.h"
#include "core/task.h"
#include "modules/module.h"

extern const struct module module_milter_headers;

static const struct symbol_def syms[] = {
    {"BIG", 5.0, "test", "big", 0},
    {"SMALL_NEG", -0.5, "test", "small", 0},
    {"ZERO", 0.0, "test", "zero", 0},
    {"HIDDEN", 1.0, "test", "hidden", SYMBOL_IGNORE},
    {"R_SPF_ALLOW", 0.0, "spf", "spf", 0},
    {"R_DKIM_ALLOW", 0.0, "dkim", "dkim", 0},
    {"DMARC_POLICY_ALLOW", 0.0, "dmarc", "dmarc", 0},
};

struct hdr_case {
    const char *name;
    const char *section;         /* UCL, NULL = the module's defaults */
    const char *symbols[4];      /* "NAME" or "NAME:opt" */
    const char *queue_id;
    int passthrough;             /* -1 none */
    const char *want;            /* "-Name;+Name=value;..." */
};

#define RM "-X-Spam;-X-Spamd-Result;-X-Spam-Status;-X-Spamd-Bar;-X-Spam-Level;-X-Rspamd-Action;" \
           "-X-Rspamd-Pre-Result;-X-Rspamd-Server;-X-Rspamd-Queue-Id;"
#define RM_ONLY "-X-Spam;-X-Spamd-Result;-X-Spam-Status;-X-Spamd-Bar;-X-Spam-Level;" \
                "-X-Rspamd-Action;-X-Rspamd-Pre-Result;-X-Rspamd-Server;-X-Rspamd-Queue-Id"

static const struct hdr_case cases[] = {
    {"shipped defaults: result, status, queue id", NULL, {"BIG:a", "SMALL_NEG", "ZERO:x"},
     "4ABC", -1,
     RM "+X-Spamd-Result=default: False [4.50 / 15.00];\n\tBIG(5.00)[a];\n\tSMALL_NEG(-0.50)[];"
        "\n\tZERO(0.00)[x];+X-Spam-Status=No, score=4.50;+X-Rspamd-Queue-Id=4ABC"},
    {"no queue id: no X-Rspamd-Queue-Id", NULL, {"ZERO"}, NULL, -1,
     RM "+X-Spamd-Result=default: False [0.00 / 15.00];\n\tZERO(0.00)[];"
        "+X-Spam-Status=No, score=0.00"},
    {"reject is True and Yes", "use = [\"x-spamd-result\", \"x-spam-status\"];", {"BIG"}, NULL,
     ACTION_REJECT,
     RM "+X-Spamd-Result=default: True [5.00 / 15.00];\n\tBIG(5.00)[];"
        "+X-Spam-Status=Yes, score=5.00"},
    {"bar, level, action", "use = [\"x-spamd-bar\", \"x-spam-level\", \"x-rspamd-action\"];",
     {"BIG"}, NULL, -1, RM "+X-Spamd-Bar=+++++;+X-Spam-Level=*****;+X-Rspamd-Action=greylist"},
    {"negative bar, no level", "use = [\"x-spamd-bar\", \"x-spam-level\"];", {"SMALL_NEG"}, NULL,
     -1, RM "+X-Spamd-Bar=/"},
    {"Rspamd's empty use: only the removals", "use = [];", {"BIG"}, NULL, -1, RM_ONLY},
    {"no removal when switched off", "use = [\"x-rspamd-action\"]; remove_upstream_spam_flag = false;",
     {"BIG"}, NULL, -1, "-X-Rspamd-Action;+X-Rspamd-Action=greylist"},
    {"routine header renamed", "use = [\"x-spam-status\"]; routines { x-spam-status { header = \"X-Verdict\"; } }",
     {"ZERO"}, NULL, -1,
     "-X-Spam;-X-Spamd-Result;-X-Verdict;-X-Spamd-Bar;-X-Spam-Level;-X-Rspamd-Action;"
     "-X-Rspamd-Pre-Result;-X-Rspamd-Server;-X-Rspamd-Queue-Id;+X-Verdict=No, score=0.00"},
    {"pre-result", "use = [\"x-rspamd-pre-result\"];", {"ZERO"}, NULL, ACTION_REJECT,
     RM "+X-Rspamd-Pre-Result=action=reject; module=test; Gtube pattern"},
    {"skip_authenticated keeps only authenticated_headers",
     "use = [\"x-spam-status\", \"x-rspamd-action\"]; skip_authenticated = true;"
     "authenticated_headers = [\"x-rspamd-action\"];",
     {"ZERO"}, "AUTH", -1, RM "+X-Rspamd-Action=no action"},
    {"authentication-results from the auth symbols", "use = [\"authentication-results\"];",
     {"R_SPF_ALLOW:+ip4:192.0.2.0/24", "R_DKIM_ALLOW:example.org:s=sel", "DMARC_POLICY_ALLOW:example.org"},
     NULL, -1,
     RM "-Authentication-Results;+Authentication-Results=mx.example;\n\t"
        "dkim=pass header.d=example.org header.s=sel;\n\tspf=pass smtp.mailfrom=a@example.org;"
        "\n\tdmarc=pass header.from=example.org"},
    {"authentication-results without auth checks: none, theirs kept",
     "use = [\"authentication-results\"];", {"BIG"}, NULL, -1, RM_ONLY},
};

static void render(const struct task *t, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (const struct task_milter_header *h = t->milter_headers; h; h = h->next) {
        if (h->value == NULL)
            n += (size_t)snprintf(out + n, size - n, "%s-%s", n ? ";" : "", h->name);
        else
            n += (size_t)snprintf(out + n, size - n, "%s+%s=%s", n ? ";" : "", h->name, h->value);
    }
}

static void run_case(const struct hdr_case *c)
{
    struct arena *arena = arena_new(0);
    struct symtab *st = symtab_new(arena);
    struct actions *acts = ARENA_NEW(arena, struct actions);
    struct module_env env = {.arena = arena, .symtab = st, .config = NULL};
    const struct conf_obj *section = NULL;
    const char *err = NULL;
    void *ctx = NULL;
    char got[2048];

    symtab_add_many(st, syms, sizeof(syms) / sizeof(syms[0]));
    actions_init_defaults(acts);
    if (c->section != NULL) {
        section = conf_parse_buf(arena, "test", c->section, strlen(c->section), NULL, &err);
        if (section == NULL)
            fail_msg("%s: %s", c->name, err);
    }
    if (module_milter_headers.configure(section, &env, &ctx, &err) != 0)
        fail_msg("%s: configure: %s", c->name, err ? err : "?");
    struct task *t = task_new(NULL, st, acts);
    for (size_t i = 0; i < 4 && c->symbols[i]; i++) {
        char name[32];
        const char *colon = strchr(c->symbols[i], ':');
        snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - c->symbols[i]) : 31,
                 c->symbols[i]);
        task_insert(t, name, 1.0, colon ? colon + 1 : NULL);
    }
    t->env.from = "a@example.org";
    t->env.mta_name = "mx.example";
    if (strcmp(c->queue_id ? c->queue_id : "", "AUTH") == 0)
        t->env.user = "alice";
    else
        t->env.queue_id = c->queue_id;
    if (c->passthrough >= 0)
        task_set_passthrough(t, c->passthrough, NAN, "Gtube pattern", "test", false);
    task_finalize(t);
    module_milter_headers.post_scan(t, ctx);
    render(t, got, sizeof(got));
    if (strcmp(got, c->want) != 0)
        fail_msg("%s:\n got  %s\n want %s", c->name, got, c->want);
    task_free(&t);
    arena_free(&arena);
}

static void test_cases(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

static void test_bad_configuration(void **state)
{
    static const char *const bad[] = {
        "use = [\"x-no-such-routine\"];",
        "use = [1];",
        "skip_local = \"maybe\";",
        "routines { nope { header = \"X\"; } }",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct arena *arena = arena_new(0);
        struct symtab *st = symtab_new(arena);
        struct module_env env = {.arena = arena, .symtab = st, .config = NULL};
        const char *err = NULL;
        void *ctx = NULL;
        const struct conf_obj *s = conf_parse_buf(arena, "t", bad[i], strlen(bad[i]), NULL, &err);
        assert_non_null(s);
        assert_int_equal(module_milter_headers.configure(s, &env, &ctx, &err), -1);
        assert_non_null(err);
        arena_free(&arena);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_bad_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
