/* Table-driven tests of winnowc's JSON reader (src/core/jsonparse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/jsonparse.h"

static const struct {
    const char *in;
    bool ok;
} cases[] = {
    {"{}", true}, {" [ ] ", true}, {"{\"a\":[1,-2.5e3,true,false,null,\"x\"]}", true},
    {"0", true}, {"-0.0", true}, {"\"\\u00e9\\ud83d\\ude00\\/\"", true},
    {"", false}, {"{", false}, {"[1,]", false}, {"{\"a\"}", false}, {"{\"a\":1,}", false},
    {"01", false}, {"1.", false}, {"-", false}, {"1e", false}, {"tru", false},
    {"\"abc", false}, {"\"a\\x\"", false}, {"\"\\u12\"", false}, {"\"a\nb\"", false},
    {"{} {}", false}, {"{1:2}", false}, {"[1 2]", false}, {"\"\\", false},
};

static void test_validity(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena *arena = arena_new(0);
        const char *error = NULL;
        struct jv *v = jv_parse(arena, cases[i].in, strlen(cases[i].in), &error);

        if ((v != NULL) != cases[i].ok)
            fail_msg("case %zu '%s': got %s (%s)", i, cases[i].in, v ? "ok" : "error",
                     error ? error : "");
        if (v == NULL)
            assert_non_null(error);
        arena_free(&arena);
    }
}

static void test_values(void **state)
{
    struct arena *arena = arena_new(0);
    const char *error = NULL;
    const char *in = "{\"s\":\"a\\\"b\\u00e9\\ud83d\\ude00\\ud800x\",\"n\":-2.5e1,\"b\":true,"
                     "\"o\":{\"k\":[1,2,3]},\"s\":\"dup\"}";
    struct jv *v = jv_parse(arena, in, strlen(in), &error);
    double d;

    (void)state;
    assert_non_null(v);
    assert_int_equal(v->type, JV_OBJ);
    assert_int_equal(v->n, 5);
    assert_string_equal(jv_str(jv_get(v, "s")), "a\"b\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx");
    assert_true(jv_num(jv_get(v, "n"), &d));
    assert_true(d == -25.0);
    assert_string_equal(jv_get(v, "n")->s, "-2.5e1");
    assert_true(jv_get(v, "b")->b);
    assert_int_equal(jv_get(jv_get(v, "o"), "k")->n, 3);
    assert_null(jv_get(v, "missing"));
    assert_null(jv_str(jv_get(v, "n")));
    arena_free(&arena);
}

static void test_depth(void **state)
{
    char deep[2 * (JV_MAX_DEPTH + 2)];
    struct arena *arena = arena_new(0);
    const char *error = NULL;
    size_t n = JV_MAX_DEPTH + 2;

    (void)state;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    assert_null(jv_parse(arena, deep, sizeof(deep), &error));
    assert_non_null(strstr(error, "deep"));
    /* exactly the limit is fine */
    assert_non_null(jv_parse(arena, deep + 1, sizeof(deep) - 2, &error));
    arena_free(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validity),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
