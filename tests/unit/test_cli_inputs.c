/* Table-driven tests of winnowc's mbox splitting (src/cli/inputs.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/inputs.h"

static const struct {
    const char *name;
    const char *mbox;
    size_t want_n;
    const char *want[3];
} cases[] = {
    {"two messages",
     "From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody1\n\n"
     "From c@d Mon Jan  1 00:00:00 2024\nSubject: two\n\nbody2\n",
     2, {"Subject: one\n\nbody1\n\n", "Subject: two\n\nbody2\n"}},
    {">From unquoted once",
     "From a@b x\nS: 1\n\n>From me\n>>From you\n> From not\nFrom c@d y\nS: 2\n\nx",
     2, {"S: 1\n\nFrom me\n>From you\n> From not\n", "S: 2\n\nx"}},
    {"From inside a line is not a separator",
     "From a x\nS: 1\n\nsay From here\nFrom b y\n", 2, {"S: 1\n\nsay From here\n", ""}},
    {"no trailing newline on From_ line", "From a x", 1, {""}},
};

static void test_split(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct input_list l = {0};

        inputs_split_mbox(&l, "box", cases[i].mbox, strlen(cases[i].mbox));
        if (l.n != cases[i].want_n)
            fail_msg("%s: %zu messages, want %zu", cases[i].name, l.n, cases[i].want_n);
        for (size_t k = 0; k < l.n; k++) {
            char name[32];
            snprintf(name, sizeof(name), "box:%zu", k + 1);
            assert_string_equal(l.v[k].name, name);
            assert_null(l.v[k].path);
            if (l.v[k].len != strlen(cases[i].want[k]) ||
                memcmp(l.v[k].data, cases[i].want[k], l.v[k].len) != 0)
                fail_msg("%s: message %zu is '%.*s'", cases[i].name, k + 1, (int)l.v[k].len,
                         l.v[k].data);
        }
        inputs_free(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
