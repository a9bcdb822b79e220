/*
 * Unit tests of the UCL parser, object model and emitters (src/conf/conf.c,
 * ucl_lex.c, ucl_parse.c, emit.c).  Table-driven: each case is an input and
 * the compact JSON it must produce, or the error it must give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/arena.h"

struct parse_case {
    const char *in;
    const char *want_json;       /* NULL: an error is expected */
    const char *want_error;      /* substring of the error */
};

static const struct parse_case parse_cases[] = {
    {"a = 1; b: 2; c 3;", "{\"a\":1,\"b\":2,\"c\":3}", NULL},
    {"a = 1\nb = 2\n", "{\"a\":1,\"b\":2}", NULL},
    {"{\"a\": [1, 2.5, \"x\", true, null], \"b\": {\"c\": \"d\"}}",
     "{\"a\":[1,2.5,\"x\",true,null],\"b\":{\"c\":\"d\"}}", NULL},
    {"[1, 2, 3]", "[1,2,3]", NULL},
    /* numbers and suffixes, exactly as libucl */
    {"a = 10k; b = 10kb; c = 5m; d = 5mb; e = 1g;",
     "{\"a\":10000,\"b\":10240,\"c\":5000000,\"d\":5242880,\"e\":1000000000}", NULL},
    {"a = 5min; b = 1.5s; c = 1d; d = 500ms; e = 2h; f = 1w; g = 10s;",
     "{\"a\":300.0,\"b\":1.5,\"c\":86400.0,\"d\":0.5,\"e\":7200.0,\"f\":604800.0,\"g\":10.0}", NULL},
    {"a = 0x1F; b = -5; c = 1e3; d = 6.0; e = -0.5;",
     "{\"a\":31,\"b\":-5,\"c\":1000.0,\"d\":6.0,\"e\":-0.5}", NULL},
    {"a = 127.0.0.1:53; b = 10 s; c = 1.2.3; d = 10foo;",
     "{\"a\":\"127.0.0.1:53\",\"b\":\"10 s\",\"c\":\"1.2.3\",\"d\":\"10foo\"}", NULL},
    {"a = 99999999999999999999;", NULL, "numeric value out of range"},
    /* booleans, null, bare strings */
    {"a = yes; b = no; c = on; d = off; e = true; f = false; g = null;",
     "{\"a\":true,\"b\":false,\"c\":true,\"d\":false,\"e\":true,\"f\":false,\"g\":null}", NULL},
    {"a = hello world  ;", "{\"a\":\"hello world\"}", NULL},
    {"a = [192.168.0.0/16, fd00::/8,];", "{\"a\":[\"192.168.0.0/16\",\"fd00::/8\"]}", NULL},
    /* strings */
    {"a = \"x\\ty\\n\\u00e9\\\"\";", "{\"a\":\"x\\ty\\n\xc3\xa9\\\"\"}", NULL},
    {"a = 'it\\'s $CONFDIR';", "{\"a\":\"it's $CONFDIR\"}", NULL},
    {"a = <<EOD\nline 1\nline 2\nEOD\nb = 1;", "{\"a\":\"line 1\\nline 2\",\"b\":1}", NULL},
    {"a = \"x\ny\";", NULL, "unexpected newline"},
    {"a = \"open", NULL, "no closing quote"},
    {"a = <<EOD\nno end\n", NULL, "unterminated multiline value"},
    /* comments */
    {"# c\na = 1; /* b = 2; /* nested */ still comment */ c = 3; # end\n",
     "{\"a\":1,\"c\":3}", NULL},
    {"a = 1; /* open", NULL, "unfinished multiline comment"},
    /* repeated keys and sections */
    {"a = 1; a = 2; a = 3;", "{\"a\":[1,2,3]}", NULL},
    {"worker \"normal\" { x = 1; }\nworker \"controller\" { y = 2; }",
     "{\"worker\":[{\"normal\":{\"x\":1}},{\"controller\":{\"y\":2}}]}", NULL},
    {"s a b { c = 1 }", "{\"s\":{\"a\":{\"b\":{\"c\":1}}}}", NULL},
    {"a { b = 1; } c { d = [] }", "{\"a\":{\"b\":1},\"c\":{\"d\":[]}}", NULL},
    /* variables */
    {"a = \"$CONFDIR/x\"; b = \"${CONFDIR}y\"; c = $CONFDIR; d = \"$selector.$domain\";",
     "{\"a\":\"/etc/w/x\",\"b\":\"/etc/wy\",\"c\":\"/etc/w\",\"d\":\"$selector.$domain\"}", NULL},
    {"p = \"$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA\";",
     "{\"p\":\"$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA\"}", NULL},
    {"a = \"${UNKNOWN}\";", "{\"a\":\"${UNKNOWN}\"}", NULL},
    {"a = \"$$x $CONFDIR\"; b = \"$$x\";", "{\"a\":\"$x /etc/w\",\"b\":\"$$x\"}", NULL},
    /* errors */
    {"a = ;", NULL, ":1:5: string value must not be empty"},
    {"a = 1 b = 2", "{\"a\":\"1 b = 2\"}", NULL},      /* libucl: one bare string */
    {"a = \"x\" b", NULL, "delimiter is missing"},
    {"a { b = 1;", NULL, "missing '}'"},
    {"a = [1, 2", NULL, "missing ']'"},
    {"}", NULL, "unexpected '}'"},
    {"a = 1;\n  = 2;", NULL, ":2:3:"},
    {".unknown \"x\"", NULL, "unknown macro"},
    {".include \"/nonexistent/winnow-test.conf\"", NULL, "cannot include"},
    {".include(try=true) \"/nonexistent/winnow-test.conf\"", "{}", NULL},
    {"{ a = 1 } b", NULL, "unexpected data after"},
    {"a = 1\x01", NULL, "control character"},
};

static struct conf_vars *test_vars(struct arena *a)
{
    struct conf_vars *v = conf_vars_new(a);
    conf_vars_set(v, "CONFDIR", "/etc/w");
    return v;
}

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct arena *a = arena_new(0);
        struct conf_parse_opts o = {.vars = test_vars(a)};
        const char *err = NULL;
        struct conf_obj *r = conf_parse_buf(a, "t.conf", c->in, strlen(c->in), &o, &err);
        if (c->want_json != NULL) {
            if (r == NULL)
                fail_msg("case %zu: %s: unexpected error %s", i, c->in, err);
            struct buf b = BUF_INIT;
            conf_emit_json(r, &b, false);
            if (strcmp(b.data, c->want_json) != 0)
                fail_msg("case %zu: %s\n got  %s\n want %s", i, c->in, b.data, c->want_json);
            buf_free(&b);
        } else {
            if (r != NULL)
                fail_msg("case %zu: %s: parsed, want error %s", i, c->in, c->want_error);
            if (strncmp(err, "t.conf:", 7) != 0 || strstr(err, c->want_error) == NULL)
                fail_msg("case %zu: %s: error %s, want %s", i, c->in, err, c->want_error);
        }
        arena_free(&a);
    }
}

/* Feeding the same input with every possible cut must never crash and a
 * prefix either parses or fails cleanly (the parser is one-shot; this is the
 * "small blocks" check for a length-bounded parser: no read past len). */
static void test_prefixes(void **state)
{
    (void)state;
    const char *in = "a = \"x\"; b { c = [1, 2.5s, 'q'] } d = <<E\nz\nE\n/* k */ e = 10kb;";
    size_t len = strlen(in);
    for (size_t n = 0; n <= len; n++) {
        struct arena *a = arena_new(0);
        char *copy = malloc(n ? n : 1);
        memcpy(copy, in, n);
        const char *err = NULL;
        struct conf_obj *r = conf_parse_buf(a, "p", copy, n, NULL, &err);
        assert_true(r != NULL || err != NULL);
        free(copy);
        arena_free(&a);
    }
}

static void test_getters(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const char *in = "t1 = 10; t2 = \"1.5s\"; t3 = 5min; s1 = \"64k\"; s2 = 100; s3 = 10kb;"
                     "b1 = yes; b2 = \"off\"; str = 5; bad = [1];";
    const char *err = NULL;
    struct conf_obj *r = conf_parse_buf(a, "g.conf", in, strlen(in), NULL, &err);
    assert_non_null(r);
    double d;
    uint64_t u;
    bool b;
    int64_t i;
    const char *s;
    assert_int_equal(conf_get_time(r, "t1", 0, &d, &err), 0);
    assert_true(d == 10.0);
    assert_int_equal(conf_get_time(r, "t2", 0, &d, &err), 0);
    assert_true(d == 1.5);
    assert_int_equal(conf_get_time(r, "t3", 0, &d, &err), 0);
    assert_true(d == 300.0);
    assert_int_equal(conf_get_time(r, "missing", 7, &d, &err), 0);
    assert_true(d == 7.0);
    assert_int_equal(conf_get_size(r, "s1", 0, &u, &err), 0);
    assert_int_equal(u, 65536);
    assert_int_equal(conf_get_size(r, "s2", 0, &u, &err), 0);
    assert_int_equal(u, 100);
    assert_int_equal(conf_get_size(r, "s3", 0, &u, &err), 0);
    assert_int_equal(u, 10240);
    assert_int_equal(conf_get_bool(r, "b1", false, &b, &err), 0);
    assert_true(b);
    assert_int_equal(conf_get_bool(r, "b2", true, &b, &err), 0);
    assert_false(b);
    assert_int_equal(conf_get_string(r, "str", NULL, &s, &err), 0);
    assert_string_equal(s, "5");
    assert_int_equal(conf_get_int(r, "bad", 3, &i, &err), -1);
    assert_int_equal(i, 3);
    assert_string_equal(err, "g.conf:1: bad: expected an integer");
    assert_int_equal(conf_get_bool(r, "t2", false, &b, &err), -1);
    arena_free(&a);
}

/* Priorities and duplicate policies (spec §8.2). */
static void test_insert_policies(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const char *err = NULL;
    struct conf_obj *root = conf_new(a, CONF_OBJECT);
    struct conf_obj *v0 = conf_new(a, CONF_INT), *v1 = conf_new(a, CONF_INT),
                    *v2 = conf_new(a, CONF_INT), *v3 = conf_new(a, CONF_INT);
    v0->v.i = 0;
    v1->v.i = 1;
    v1->priority = 1;
    v2->v.i = 2;                 /* priority 0 after priority 1: ignored */
    v3->v.i = 3;
    v3->priority = 1;            /* same priority: appended */
    assert_int_equal(conf_obj_insert(a, root, "k", 1, v0, CONF_DUP_APPEND, &err), 0);
    assert_int_equal(conf_obj_insert(a, root, "k", 1, v1, CONF_DUP_APPEND, &err), 0);
    assert_int_equal(conf_obj_insert(a, root, "k", 1, v2, CONF_DUP_APPEND, &err), 0);
    assert_int_equal(conf_obj_insert(a, root, "k", 1, v3, CONF_DUP_APPEND, &err), 0);
    struct buf b = BUF_INIT;
    conf_emit_json(root, &b, false);
    assert_string_equal(b.data, "{\"k\":[1,3]}");
    struct conf_obj *v4 = conf_new(a, CONF_INT);
    assert_int_equal(conf_obj_insert(a, root, "k", 1, v4, CONF_DUP_ERROR, &err), -1);
    assert_string_equal(err, "duplicate element for key 'k' found");
    buf_free(&b);
    arena_free(&a);
}

static void test_many_keys(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct buf in = BUF_INIT;
    for (int i = 0; i < 20000; i++)
        buf_printf(&in, "key%d = %d;\n", i, i);
    buf_puts(&in, "key77 = 1;\narr = [");
    for (int i = 0; i < 20000; i++)
        buf_puts(&in, "1,");
    buf_puts(&in, "];");
    const char *err = NULL;
    struct conf_obj *r = conf_parse_buf(a, "big", in.data, in.len, NULL, &err);
    assert_non_null(r);
    assert_int_equal(r->v.list.n, 20001);
    const struct conf_obj *k = conf_get(r, "key77");
    assert_true(k->type == CONF_ARRAY && k->implicit && k->v.list.n == 2);
    assert_int_equal(conf_get(r, "arr")->v.list.n, 20000);
    assert_int_equal(conf_get(r, "key19999")->v.i, 19999);
    buf_free(&in);
    arena_free(&a);
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct buf in = BUF_INIT;
    for (int i = 0; i < 100000; i++)
        buf_puts(&in, "a {");
    const char *err = NULL;
    assert_null(conf_parse_buf(a, "deep", in.data, in.len, NULL, &err));
    assert_non_null(strstr(err, "nested deeper"));
    buf_reset(&in);
    for (int i = 0; i < 100000; i++)
        buf_puts(&in, "a b ");
    buf_puts(&in, "{}");
    assert_null(conf_parse_buf(a, "deep", in.data, in.len, NULL, &err));
    assert_non_null(strstr(err, "nested deeper"));
    buf_free(&in);
    arena_free(&a);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_includes(void **state)
{
    (void)state;
    char dir[] = "/tmp/winnow-conf-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "main.conf",
               "sec {\n"
               "  a = 1; b { x = 1; y = 2; } l = [1];\n"
               "  .include(try=true;priority=1,duplicate=merge) \"local.conf\"\n"
               "  .include(try=true,priority=10) \"override.conf\"\n"
               "}\n"
               ".include(glob=true) \"$CONFDIR/mods/*.conf\"\n");
    write_file(dir, "local.conf", "sec { b { y = 3; } l = [2]; c = \"local\"; a = 5; }");
    write_file(dir, "override.conf", "a = 10;\n");
    char mods[600];
    snprintf(mods, sizeof(mods), "%s/mods", dir);
    mkdir(mods, 0700);
    write_file(mods, "b.conf", "m2 { z = 1; }");
    write_file(mods, "a.conf", "m1 { z = 1; }");
    struct arena *a = arena_new(0);
    struct conf_vars *v = conf_vars_new(a);
    conf_vars_set(v, "CONFDIR", dir);
    struct conf_parse_opts o = {.vars = v};
    char path[600];
    snprintf(path, sizeof(path), "%s/main.conf", dir);
    const char *err = NULL;
    struct conf_obj *r = conf_parse_file(a, path, &o, &err);
    if (r == NULL)
        fail_msg("%s", err);
    struct buf b = BUF_INIT;
    conf_emit_json(r, &b, false);
    assert_string_equal(b.data, "{\"sec\":{\"a\":10,\"b\":{\"x\":1,\"y\":3},\"l\":[1,2],"
                                "\"c\":\"local\"},\"m1\":{\"z\":1},\"m2\":{\"z\":1}}");
    /* an error inside an included file names that file */
    write_file(dir, "override.conf", "a = 10;\nb = ;\n");
    assert_null(conf_parse_file(a, path, &o, &err));
    assert_non_null(strstr(err, "override.conf:2:5: string value must not be empty"));
    buf_free(&b);
    arena_free(&a);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_emit_ucl(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const char *in = "s = \"q\\\"\"; n = 1; f = 6.0; o { x = [1, {y = 2}]; } r = 1; r = 2; \"a b\" = null;";
    const char *err = NULL;
    struct conf_obj *r = conf_parse_buf(a, "e", in, strlen(in), NULL, &err);
    assert_non_null(r);
    struct buf b = BUF_INIT;
    conf_emit_ucl(r, &b);
    assert_string_equal(b.data, "s = \"q\\\"\";\n"
                                "n = 1;\n"
                                "f = 6.0;\n"
                                "o {\n"
                                "    x [\n"
                                "        1,\n"
                                "        {\n"
                                "            y = 2;\n"
                                "        },\n"
                                "    ]\n"
                                "}\n"
                                "r = 1;\n"
                                "r = 2;\n"
                                "\"a b\" = null;\n");
    /* the UCL output parses back to the same tree */
    struct conf_obj *r2 = conf_parse_buf(a, "e2", b.data, b.len, NULL, &err);
    assert_non_null(r2);
    struct buf j1 = BUF_INIT, j2 = BUF_INIT;
    conf_emit_json(r, &j1, true);
    conf_emit_json(r2, &j2, true);
    assert_string_equal(j1.data, j2.data);
    buf_free(&b);
    buf_free(&j1);
    buf_free(&j2);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),   cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_getters),       cmocka_unit_test(test_insert_policies),
        cmocka_unit_test(test_many_keys),     cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_includes),      cmocka_unit_test(test_emit_ucl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
