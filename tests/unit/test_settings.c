/*
 * Unit tests of the configuration snapshot (src/conf/settings*.c, bind.c):
 * the shipped etc/ loads, an Rspamd first-time setup dropped into local.d
 * unchanged merges as documented (the acceptance), override.d
 * replaces, errors name file and line, bind_socket values parse.
 * argv[1] is the source tree's etc/ directory; each test works on a copy.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "conf/settings_private.h"
#include "core/arena.h"

static const char *etc_src;
static char dir[64];

static int setup(void **state)
{
    char cmd[512];
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/winnow-settings-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "cp -r '%s/.' '%s/'", etc_src, dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[512];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct config *load(const char **err)
{
    char path[256];
    static const char *vars[] = {"DBDIR=/tmp/winnow-test-db", NULL};
    snprintf(path, sizeof(path), "%s/winnow.conf", dir);
    struct config_load_opts o = {.path = path, .vars = vars};
    return config_load(&o, err);
}

static char *dump(const struct conf_obj *o)
{
    struct buf b = BUF_INIT;
    conf_emit_json(o, &b, false);
    return buf_steal(&b, NULL);
}

static void test_shipped(void **state)
{
    (void)state;
    const char *err = NULL;
    struct config *cfg = load(&err);
    if (cfg == NULL)
        fail_msg("%s", err);
    assert_true(cfg->options.task_timeout == 8.0);
    assert_int_equal(cfg->options.max_message, 52428800);
    assert_int_equal(cfg->options.max_header_size, 65536);
    assert_int_equal(cfg->options.history_rows, 200);
    assert_string_equal(cfg->options.control_socket, "/tmp/winnow-test-db/winnow.sock mode=0600");
    assert_int_equal(cfg->options.nlocal_addrs, 6);
    assert_int_equal(cfg->logging.type, LOG_TYPE_CONSOLE);
    assert_int_equal(cfg->logging.level, LOG_LVL_INFO);
    assert_true(cfg->actions.a[ACTION_REJECT].threshold == 15.0);
    assert_true(cfg->actions.a[ACTION_ADD_HEADER].threshold == 6.0);
    assert_true(cfg->actions.a[ACTION_GREYLIST].threshold == 4.0);
    assert_true(isnan(cfg->actions.a[ACTION_REWRITE_SUBJECT].threshold));
    assert_int_equal(cfg->nworkers, 3);
    assert_string_equal(cfg->workers[0].name, "normal");
    assert_true(cfg->workers[0].enabled);
    assert_int_equal(cfg->workers[0].nbinds, 1);
    assert_string_equal(cfg->workers[0].binds[0].host, "127.0.0.1");
    assert_int_equal(cfg->workers[0].binds[0].port, 11333);
    assert_true(cfg->workers[1].enabled);   /* the controller, on loopback */
    assert_int_equal(cfg->workers[2].type, WORKER_PROXY);
    struct netaddr a;
    assert_int_equal(netaddr_parse("10.1.2.3", 8, &a), 0);
    assert_true(config_is_local_addr(cfg, &a));
    assert_int_equal(netaddr_parse("8.8.8.8", 7, &a), 0);
    assert_false(config_is_local_addr(cfg, &a));
    assert_int_equal(netaddr_parse("::1", 3, &a), 0);
    assert_true(config_is_local_addr(cfg, &a));
    assert_non_null(config_section(cfg, "dkim_signing"));
    assert_null(config_section(cfg, "no_such_section"));
    config_free(&cfg);
    assert_null(cfg);
}

/* The acceptance: the files of an Rspamd first-time setup, unchanged. */
static void test_first_time_setup(void **state)
{
    (void)state;
    put("local.d/redis.conf", "servers = \"unix:/run/redis/redis-server.sock\";\n");
    put("local.d/actions.conf", "actions {\n  add_header = 6.0;\n  rewrite_subject = 8.0;\n"
                                "  reject = 15.0;\n  greylist = 4.0;\n}\n");
    put("local.d/dkim_signing.conf",
        "path = \"/var/lib/winnow/dkim/$selector.$domain.key\";\n"
        "selector_map = \"/etc/winnow/dkim_selectors.map\";\n"
        "key_map = \"/etc/winnow/dkim_keys.map\";\n"
        "signing_table = \"/etc/winnow/dkim_signing.map\";\n"
        "use_esld = false;\n"
        "allow_username_mismatch = true;\n");
    put("local.d/worker-controller.inc",
        "bind_socket = \"127.0.0.1:11334\";\n"
        "password = \"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG\";\n"
        "enable_password = \"$argon2id$v=19$m=65536,t=2,p=1$b3RoZXJzYWx0$aGFzaGhhc2hoYXNo\";\n");
    const char *err = NULL;
    struct config *cfg = load(&err);
    if (cfg == NULL)
        fail_msg("%s", err);
    char *s = dump(config_section(cfg, "redis"));
    assert_string_equal(s, "{\"servers\":\"unix:/run/redis/redis-server.sock\"}");
    free(s);
    s = dump(config_section(cfg, "actions"));
    assert_string_equal(s, "{\"reject\":15.0,\"add_header\":6.0,\"greylist\":4.0,\"rewrite_subject\":8.0}");
    free(s);
    assert_true(cfg->actions.a[ACTION_REWRITE_SUBJECT].threshold == 8.0);
    assert_int_equal(actions_for_score(&cfg->actions, 5.0), ACTION_GREYLIST);
    assert_int_equal(actions_for_score(&cfg->actions, 9.0), ACTION_REWRITE_SUBJECT);
    s = dump(config_section(cfg, "dkim_signing"));
    assert_string_equal(s, "{\"path\":\"/var/lib/winnow/dkim/$selector.$domain.key\","
                           "\"selector_map\":\"/etc/winnow/dkim_selectors.map\","
                           "\"key_map\":\"/etc/winnow/dkim_keys.map\","
                           "\"signing_table\":\"/etc/winnow/dkim_signing.map\","
                           "\"use_esld\":false,\"allow_username_mismatch\":true}");
    free(s);
    const struct worker_conf *ctl = &cfg->workers[1];
    assert_int_equal(ctl->type, WORKER_CONTROLLER);
    assert_int_equal(ctl->nbinds, 1);
    assert_int_equal(ctl->binds[0].port, 11334);
    assert_string_equal(conf_as_string(conf_get(ctl->section, "password")),
                        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG");
    assert_string_equal(conf_as_string(conf_get(ctl->section, "enable_password")),
                        "$argon2id$v=19$m=65536,t=2,p=1$b3RoZXJzYWx0$aGFzaGhhc2hoYXNo");
    config_free(&cfg);
}

/* Spec §14: the typical snippet set passes. */
static void test_spec14_snippets(void **state)
{
    (void)state;
    put("local.d/worker-normal.inc", "bind_socket = \"localhost:11333\";\n# count = 1;\n");
    put("local.d/worker-proxy.inc", "bind_socket = \"localhost:11332\";\nmilter = yes;\n"
                                    "timeout = 120s;\nupstream \"local\" { default = yes; self_scan = yes; }\n");
    put("local.d/worker-controller.inc", "password = \"$2$abc\";\n# enable_password = \"$2$...\";\n"
                                         "# bind_socket = \"*:11334\";\n");
    put("local.d/redis.conf", "servers = \"127.0.0.1\";\n");
    put("local.d/classifier-bayes.conf", "autolearn = true;\n# per_user = true;\n");
    put("local.d/actions.conf", "reject = 15; add_header = 6; greylist = 4;\n"
                                "rewrite_subject = 8; subject = \"***SPAM*** %s\";\n");
    put("local.d/milter_headers.conf", "use = [\"x-spamd-bar\", \"x-spam-level\", \"authentication-results\"];\n"
                                       "extended_spam_headers = true;\n"
                                       "# authenticated_headers = [\"authentication-results\"];\n");
    put("local.d/dkim_signing.conf", "path = \"/var/lib/rspamd/dkim/$domain.$selector.key\";\n"
                                     "selector = \"dkim\";\nallow_username_mismatch = true;\n"
                                     "domain { example.com { path = \"/var/lib/rspamd/dkim/example.com.key\"; selector = \"2024\"; } }\n");
    put("local.d/greylist.conf", "# timeout = 5min; expire = 1d;\n");
    put("local.d/options.inc", "dns { nameserver = [\"127.0.0.1:53:10\"]; }\n"
                               "local_addrs = \"192.168.0.0/16, 10.0.0.0/8, 172.16.0.0/12, fd00::/8, 169.254.0.0/16, fe80::/10\";\n");
    put("local.d/logging.inc", "level = \"warning\";\n");
    const char *err = NULL;
    struct config *cfg = load(&err);
    if (cfg == NULL)
        fail_msg("%s", err);
    assert_int_equal(cfg->logging.level, LOG_LVL_WARN);
    assert_string_equal(cfg->actions.subject, "***SPAM*** %s");
    assert_int_equal(cfg->options.nlocal_addrs, 6);
    assert_string_equal(cfg->workers[0].binds[0].host, "localhost");
    assert_int_equal(cfg->workers[2].binds[0].port, 11332);
    char *s = dump(conf_get_path(config_section(cfg, "options"), "dns"));
    /* The shipped options.inc sets no nameserver, so the administrator's
     * list is the whole list (a shipped one would be appended to). */
    assert_string_equal(s, "{\"timeout\":1.0,\"retransmits\":2,"
                           "\"nameserver\":[\"127.0.0.1:53:10\"]}");
    free(s);
    s = dump(conf_get(conf_get_path(cfg->root, "dkim_signing.domain"), "example.com"));
    assert_string_equal(s, "{\"path\":\"/var/lib/rspamd/dkim/example.com.key\",\"selector\":\"2024\"}");
    free(s);
    config_free(&cfg);
}

static void test_override(void **state)
{
    (void)state;
    put("local.d/actions.conf", "reject = 20; add_header = 7;\n");
    put("override.d/actions.conf", "reject = 30;\n");
    put("local.d/options.inc", "dns { timeout = 3s; }\n");
    put("override.d/options.inc", "dns { nameserver = \"10.0.0.1\"; }\n");
    const char *err = NULL;
    struct config *cfg = load(&err);
    if (cfg == NULL)
        fail_msg("%s", err);
    assert_true(cfg->actions.a[ACTION_REJECT].threshold == 30.0);
    assert_true(cfg->actions.a[ACTION_ADD_HEADER].threshold == 7.0);
    char *s = dump(conf_get_path(config_section(cfg, "options"), "dns"));
    assert_string_equal(s, "{\"nameserver\":\"10.0.0.1\"}");   /* replaced wholesale */
    free(s);
    config_free(&cfg);
}

static void test_local_addrs_map(void **state)
{
    (void)state;
    put("nets.map", "# local networks\n10.0.0.0/8\n192.0.2.0/24, 2001:db8::/32 # lab\n");
    put("local.d/options.inc", "local_addrs = \"$LOCAL_CONFDIR/nets.map\";\n");
    const char *err = NULL;
    struct config *cfg = load(&err);
    if (cfg == NULL)
        fail_msg("%s", err);
    assert_int_equal(cfg->options.nlocal_addrs, 3);
    struct netaddr a;
    assert_int_equal(netaddr_parse("2001:db8::5", 11, &a), 0);
    assert_true(config_is_local_addr(cfg, &a));
    assert_int_equal(netaddr_parse("192.168.1.1", 11, &a), 0);
    assert_false(config_is_local_addr(cfg, &a));
    config_free(&cfg);
    put("nets.map", "10.0.0.0/8\n\nnot-a-net\n");
    assert_null(load(&err));
    assert_non_null(strstr(err, "nets.map:3: local_addrs: 'not-a-net' is not an address"));
}

struct error_case {
    const char *file, *text, *want;
};

static const struct error_case error_cases[] = {
    {"local.d/actions.conf", "reject = ;\n", "local.d/actions.conf:1:10: string value must not be empty"},
    {"local.d/actions.conf", "add_header = 6;\n\nreject = \"high\";\n",
     "local.d/actions.conf:3: reject: expected a number or null"},
    {"local.d/actions.conf", "reject { score = 20; flags = [\"bogus\"]; }\n", "flags: unknown flag"},
    {"local.d/options.inc", "task_timeout = \"soon\";\n", "local.d/options.inc:1: task_timeout: expected a time"},
    {"local.d/options.inc", "history_rows = -1;\n", "history_rows: out of range"},
    {"local.d/options.inc", "local_addrs = \"10.0.0.0/33\";\n", "local_addrs: '10.0.0.0/33' is not"},
    {"local.d/logging.inc", "level = \"loud\";\n", "local.d/logging.inc:1: level: expected error"},
    {"local.d/logging.inc", "type = \"file\";\n", "needs a filename"},
    {"local.d/worker-normal.inc", "bind_socket = \"127.0.0.1:99999\";\n",
     "local.d/worker-normal.inc:1: bind_socket: bind_socket \"127.0.0.1:99999\": the port must be"},
    {"local.d/worker-normal.inc", "count = -5;\n", "count: expected -1"},
    {"winnow.conf.local", "worker \"bogus\" { }\n", "winnow.conf.local:1: bogus: unknown worker type"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        char path[256];
        put(c->file, c->text);
        const char *err = NULL;
        struct config *cfg = load(&err);
        if (cfg != NULL)
            fail_msg("case %zu: %s loaded", i, c->text);
        if (strstr(err, c->want) == NULL || strncmp(err, dir, strlen(dir)) != 0)
            fail_msg("case %zu: got %s\nwant %s", i, err, c->want);
        snprintf(path, sizeof(path), "%s/%s", dir, c->file);
        unlink(path);
    }
}

static void test_vars_override(void **state)
{
    (void)state;
    char path[256];
    static const char *vars[] = {"DBDIR=relative/db", "RUNDIR=/tmp/run-x", "BAD", NULL};
    snprintf(path, sizeof(path), "%s/winnow.conf", dir);
    struct config_load_opts o = {.path = path, .vars = vars};
    const char *err = NULL;
    assert_null(config_load(&o, &err));
    assert_non_null(strstr(err, "'BAD': expected NAME=VALUE"));
    vars[2] = NULL;
    struct config *cfg = config_load(&o, &err);
    assert_non_null(cfg);
    assert_string_equal(cfg->options.rundir, "/tmp/run-x");
    assert_string_equal(cfg->options.pidfile, "/tmp/run-x/winnowd.pid");
    assert_true(cfg->options.dbdir[0] == '/');   /* made absolute */
    assert_non_null(strstr(cfg->options.dbdir, "relative/db"));
    config_free(&cfg);
}

struct bind_case {
    const char *in;
    int want_rc;
    bool want_unix;
    const char *want_host;       /* or path */
    unsigned want_port_or_mode;
    const char *want_owner, *want_group;
};

static const struct bind_case bind_cases[] = {
    {"127.0.0.1:11333", 0, false, "127.0.0.1", 11333, NULL, NULL},
    {"localhost", 0, false, "localhost", 11000, NULL, NULL},
    {"[::1]:11334", 0, false, "::1", 11334, NULL, NULL},
    {"::1", 0, false, "::1", 11000, NULL, NULL},
    {"*:11332", 0, false, "*", 11332, NULL, NULL},
    {"*v4:1", 0, false, "*v4", 1, NULL, NULL},
    {"*v6:2", 0, false, "*v6", 2, NULL, NULL},
    {"/run/winnow/milter.sock mode=0660 owner=winnow group=postfix", 0, true,
     "/run/winnow/milter.sock", 0660, "winnow", "postfix"},
    {"./var/s.sock", 0, true, "./var/s.sock", 0644, NULL, NULL},
    {"/x mode=0x1ff", 0, true, "/x", 0777, NULL, NULL},
    {"/x mode=0999", -1, true, NULL, 0, NULL, NULL},
    {"/x mode=99999", -1, true, NULL, 0, NULL, NULL},
    {"/x perms=1", -1, true, NULL, 0, NULL, NULL},
    {"host:0", -1, false, NULL, 0, NULL, NULL},
    {"host:http", -1, false, NULL, 0, NULL, NULL},
    {"[::1", -1, false, NULL, 0, NULL, NULL},
    {"bad host:1", -1, false, NULL, 0, NULL, NULL},
    {"systemd:0", -1, false, NULL, 0, NULL, NULL},
    {"", -1, false, NULL, 0, NULL, NULL},
};

static void test_bind(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof(bind_cases) / sizeof(bind_cases[0]); i++) {
        const struct bind_case *c = &bind_cases[i];
        struct bind_spec s;
        const char *err = NULL;
        int rc = bind_spec_parse(a, c->in, 11000, &s, &err);
        if (rc != c->want_rc)
            fail_msg("case %zu (%s): rc %d err %s", i, c->in, rc, err ? err : "-");
        if (rc < 0) {
            assert_non_null(err);
            continue;
        }
        assert_int_equal(s.is_unix, c->want_unix);
        if (c->want_unix) {
            assert_string_equal(s.path, c->want_host);
            assert_int_equal(s.mode, c->want_port_or_mode);
            if (c->want_owner)
                assert_string_equal(s.owner, c->want_owner);
            if (c->want_group)
                assert_string_equal(s.group, c->want_group);
        } else {
            assert_string_equal(s.host, c->want_host);
            assert_int_equal(s.port, c->want_port_or_mode);
        }
    }
    arena_free(&a);
}

static void test_options_documented(void **state)
{
    (void)state;
    size_t n;
    const struct setting_row *rows = settings_option_rows(&n);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(rows[i].desc);
        assert_true(strlen(rows[i].desc) > 10);
    }
}

int main(int argc, char **argv)
{
    etc_src = argc > 1 ? argv[1] : "etc";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_time_setup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spec14_snippets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vars_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_addrs_map, setup, teardown),
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_options_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
