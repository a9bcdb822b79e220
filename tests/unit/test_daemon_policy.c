/* Unit tests for daemon/policy.c: default worker count and back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/policy.h"

static void test_default_count(void **state)
{
    static const struct {
        long ncpus;
        int want;
    } cases[] = {
        {-1, 1}, {0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 2}, {5, 3}, {6, 4}, {7, 4}, {64, 4},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(policy_default_count(cases[i].ncpus), cases[i].want);
}

static void test_backoff(void **state)
{
    static const struct {
        double prev, lived, want;
    } cases[] = {
        {0, 0, 1},        /* first death: 1 s */
        {1, 0.5, 2},      /* doubles while it keeps dying fast */
        {2, 3, 4},
        {32, 1, 60},      /* capped */
        {60, 1, 60},
        {60, 59.9, 60},
        {60, 60, 1},      /* it lived a minute: start over */
        {8, 3600, 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(policy_next_backoff(cases[i].prev, cases[i].lived) == cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_count),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
