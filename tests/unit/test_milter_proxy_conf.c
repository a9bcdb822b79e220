/*
 * The proxy worker's options and upstream list (src/daemon/worker_proxy_conf.c).
 * Table-driven: a worker block in UCL, then the default upstream and its
 * hosts rendered as text, or the start of the error wanted.
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
#include "conf/settings.h"
#include "core/arena.h"
#include "daemon/worker_proxy.h"

struct conf_case {
    const char *name;
    const char *block;
    const char *want;            /* "name self|hosts;failure;retries" or "!error prefix" */
};

#define LOCAL "upstream \"local\" { default = yes; self_scan = yes; }\n"

static const struct conf_case cases[] = {
    {"shipped", "milter = yes;\n" LOCAL, "local self;tempfail;5;X-Spam;Spam message rejected"},
    {"last default wins",
     "milter = yes;\n" LOCAL "upstream \"scan\" { default = yes; hosts = \"127.0.0.1:1133,[::1]\"; }\n",
     "scan 127.0.0.1:1133 [::1]:11333;tempfail;5;X-Spam;Spam message rejected"},
    {"strategy prefix, priorities, separators",
     "upstream \"s\" { hosts = \"round-robin:127.0.0.1:1:10; 127.0.0.2 ,127.0.0.3:3\"; }\n",
     "s 127.0.0.1:1 127.0.0.2:11333 127.0.0.3:3;tempfail;5;X-Spam;Spam message rejected"},
    {"disabled upstream skipped",
     LOCAL "upstream \"x\" { default = yes; enabled = false; hosts = \"127.0.0.1\"; }\n",
     "local self;tempfail;5;X-Spam;Spam message rejected"},
    {"options", LOCAL "failure_mode = \"accept\"; max_retries = 2; spam_header = \"X-Junk\";"
                      "reject_message = \"No\";",
     "local self;accept;2;X-Junk;No"},
    {"unnamed block", "upstream { name = \"u\"; hosts = \"127.0.0.1:9\"; }\n",
     "u 127.0.0.1:9;tempfail;5;X-Spam;Spam message rejected"},
    {"no upstream", "milter = yes;\n", "!no upstream"},
    {"neither hosts nor self_scan", "upstream \"x\" { default = yes; }\n", "!upstream x: needs"},
    {"bad failure_mode", LOCAL "failure_mode = \"maybe\";", "!t:"},
    {"bad max_retries", LOCAL "max_retries = 0;", "!max_retries must be"},
    {"bad host", "upstream \"x\" { hosts = \"[::1\"; }\n", "!upstream x: bad host"},
};

static void render(const struct proxy_conf *pc, char *out, size_t size)
{
    const struct proxy_upstream *u = pc->def;
    size_t n = (size_t)snprintf(out, size, "%s", u->name);
    if (u->self_scan)
        n += (size_t)snprintf(out + n, size - n, " self");
    for (size_t i = 0; i < u->nhosts; i++)
        n += (size_t)snprintf(out + n, size - n, " %s", u->hosts[i].name);
    snprintf(out + n, size - n, ";%s;%u;%s;%s", pc->accept_on_failure ? "accept" : "tempfail",
             pc->max_retries, pc->reply.spam_header, pc->reply.reject_message);
}

static void test_cases(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct conf_case *c = &cases[i];
        struct arena *arena = arena_new(0);
        const char *err = NULL;
        struct conf_obj *blk = conf_parse_buf(arena, "t", c->block, strlen(c->block), NULL, &err);
        if (blk == NULL)
            fail_msg("%s: parse: %s", c->name, err);
        struct config cfg;
        struct worker_conf wc;
        struct proxy_conf pc;
        memset(&cfg, 0, sizeof(cfg));
        memset(&wc, 0, sizeof(wc));
        cfg.options.max_message = 50u << 20;
        wc.timeout = 120;
        wc.section = blk;
        char got[512];
        int rc = proxy_conf_parse(&cfg, &wc, arena, &pc, &err);
        if (c->want[0] == '!') {
            if (rc != -1 || err == NULL || strncmp(err, c->want + 1, strlen(c->want + 1)) != 0)
                fail_msg("%s: rc %d, error %s", c->name, rc, err ? err : "(none)");
        } else {
            if (rc != 0)
                fail_msg("%s: %s", c->name, err ? err : "?");
            render(&pc, got, sizeof(got));
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
