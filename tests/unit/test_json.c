#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"

static void test_structure(void **state)
{
    struct buf b = BUF_INIT;
    struct json_writer w;
    json_init(&w, &b, false);
    json_obj_begin(&w);
    json_key(&w, "a");
    json_int(&w, 1);
    json_key(&w, "b");
    json_arr_begin(&w);
    json_double(&w, 9.3);
    json_double(&w, 15);
    json_double(&w, -0.0);
    json_bool(&w, true);
    json_null(&w);
    json_arr_end(&w);
    json_key(&w, "c");
    json_obj_begin(&w);
    json_obj_end(&w);
    json_obj_end(&w);
    assert_string_equal(b.data, "{\"a\":1,\"b\":[9.3,15.0,0.0,true,null],\"c\":{}}");
    buf_free(&b);
}

static void test_escape(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"q\"b\\", 4, "\"q\\\"b\\\\\""},
        {"\n\t\x01", 3, "\"\\n\\t\\u0001\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
        {"bad\xff", 4, "\"bad\xef\xbf\xbd\""},
        {"\xc3", 1, "\"\xef\xbf\xbd\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b = BUF_INIT;
        json_escape(&b, cases[i].in, cases[i].len);
        assert_string_equal(b.data, cases[i].want);
        buf_free(&b);
    }
}

static void test_pretty(void **state)
{
    struct buf b = BUF_INIT;
    struct json_writer w;
    json_init(&w, &b, true);
    json_obj_begin(&w);
    json_key(&w, "k");
    json_str(&w, "v");
    json_obj_end(&w);
    assert_string_equal(b.data, "{\n  \"k\": \"v\"\n}");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_pretty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
