/*
 * test_controller_cli: winnowc's controller reports (output_ctl.c): the
 * history table from /history replies (well-formed, missing and mistyped
 * fields, long and hostile values), the progress bar and the learn error
 * extraction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/output_ctl.h"
#include "core/arena.h"

struct history_case {
    const char *name;
    const char *reply;
    bool verbose;
    const char *const want[6];   /* substrings that must appear */
    const char *const not_want[3];
};

static const struct history_case history_cases[] = {
    {"one row",
     "{\"version\":2,\"rows\":[{\"unix_time\":0,\"action\":\"reject\",\"score\":15.5,"
     "\"required_score\":15,\"ip\":\"192.0.2.1\",\"sender_smtp\":\"a@example.net\","
     "\"rcpt_smtp\":[\"b@example.com\",\"c@example.com\"],\"subject\":\"Hello\"}]}",
     false,
     {"Time", "reject", "15.50/15.00", "192.0.2.1", "b@example.com +1", "1 row\n"},
     {"symbols:", NULL, NULL}},
    {"mime sender when smtp empty",
     "{\"rows\":[{\"sender_smtp\":\"\",\"sender_mime\":\"m@example.org\",\"rcpt_mime\":[\"x@y\"]}]}",
     false, {"m@example.org", "x@y", "1 row", NULL, NULL, NULL}, {NULL, NULL, NULL}},
    {"missing and mistyped fields",
     "{\"rows\":[{\"score\":\"high\",\"unix_time\":\"yesterday\",\"action\":7}, 5, null]}", false,
     {"-", "1 row\n", NULL, NULL, NULL, NULL}, {NULL, NULL, NULL}},
    {"no rows", "{\"version\":2,\"rows\":[]}", false, {"0 rows", NULL, NULL, NULL, NULL, NULL},
     {NULL, NULL, NULL}},
    {"legacy array form", "[{\"action\":\"no action\"}]", false,
     {"no action", "1 row", NULL, NULL, NULL, NULL}, {NULL, NULL, NULL}},
    {"control characters masked", "{\"rows\":[{\"subject\":\"a\\u001b[2Jb\"}]}", false,
     {"a?[2Jb", NULL, NULL, NULL, NULL, NULL}, {"\033", NULL, NULL}},
    {"long subject cut",
     "{\"rows\":[{\"subject\":\"0123456789012345678901234567890123456789EXTRA\"}]}", false,
     {"012345678901234567890123456789012345678~", NULL, NULL, NULL, NULL, NULL},
     {"EXTRA", NULL, NULL}},
    {"utf-8 cut on a character boundary",
     "{\"rows\":[{\"ip\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
     "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}]}",
     false, {"\xc3\xa9~", NULL, NULL, NULL, NULL, NULL}, {"\xc3~", NULL, NULL}},
    {"verbose symbols",
     "{\"rows\":[{\"message-id\":\"m1@x\",\"symbols\":{\"A_SYM\":{\"score\":1.5},"
     "\"B_SYM\":{\"score\":-0.1}}}]}",
     true, {"message-id: m1@x", "A_SYM(1.50)", "B_SYM(-0.10)", NULL, NULL, NULL},
     {NULL, NULL, NULL}},
};

static void test_history(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(history_cases) / sizeof(history_cases[0]); i++) {
        const struct history_case *tc = &history_cases[i];
        struct arena *a = arena_new(0);
        const char *err = NULL;
        const struct jv *reply = jv_parse(a, tc->reply, strlen(tc->reply), &err);
        struct buf out = BUF_INIT;

        if (reply == NULL)
            fail_msg("%s: test reply does not parse: %s", tc->name, err);
        output_history(&out, reply, tc->verbose);
        buf_putc(&out, '\0');
        for (size_t j = 0; j < 6 && tc->want[j]; j++)
            if (strstr(out.data, tc->want[j]) == NULL)
                fail_msg("%s: want %s in:\n%s", tc->name, tc->want[j], out.data);
        for (size_t j = 0; j < 3 && tc->not_want[j]; j++)
            if (strstr(out.data, tc->not_want[j]) != NULL)
                fail_msg("%s: did not want %s in:\n%s", tc->name, tc->not_want[j], out.data);
        buf_free(&out);
        arena_free(&a);
    }
}

static void test_progress(void **state)
{
    static const struct {
        size_t done, total, width;
        const char *want;
    } cases[] = {
        {0, 4, 30, "[.......................] 0/4"},
        {2, 4, 30, "[###########............] 2/4"},
        {4, 4, 30, "[#######################] 4/4"},
        {9, 4, 30, "[#######################] 9/4"},
        {1, 1, 0, "[##########] 1/1"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;
        output_progress(&out, cases[i].done, cases[i].total, cases[i].width);
        buf_putc(&out, '\0');
        assert_string_equal(out.data, cases[i].want);
        buf_free(&out);
    }
}

static void test_learn_error(void **state)
{
    struct arena *a = arena_new(0);
    const char *err = NULL;

    (void)state;
    const char *r1 = "{\"error\":\"<m@x> is already learned as spam\"}";
    const char *r2 = "{\"success\":true}";
    assert_string_equal(output_learn_error(jv_parse(a, r1, strlen(r1), &err)),
                        "<m@x> is already learned as spam");
    assert_null(output_learn_error(jv_parse(a, r2, strlen(r2), &err)));
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_learn_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
