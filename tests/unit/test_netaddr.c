#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/netaddr.h"

static void test_parse_format(void **state)
{
    static const struct {
        const char *in;
        int ok;
        const char *want;
    } cases[] = {
        {"192.0.2.10", 0, "192.0.2.10"}, {"::1", 0, "::1"}, {"[2001:db8::1]", 0, "2001:db8::1"},
        {"IPv6:2001:db8::2", 0, "2001:db8::2"}, {"::ffff:10.1.2.3", 0, "10.1.2.3"},
        {"999.1.1.1", -1, NULL}, {"", -1, NULL}, {"not an ip", -1, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct netaddr a;
        assert_int_equal(netaddr_parse(cases[i].in, strlen(cases[i].in), &a), cases[i].ok);
        if (cases[i].ok == 0) {
            char out[64];
            assert_string_equal(netaddr_format(&a, out, sizeof(out)), cases[i].want);
        }
    }
}

static void test_masks(void **state)
{
    static const struct {
        const char *mask, *addr;
        bool want;
    } cases[] = {
        {"10.0.0.0/8", "10.200.1.1", true}, {"10.0.0.0/8", "11.0.0.1", false},
        {"192.168.1.0/24", "192.168.1.255", true}, {"192.168.1.7", "192.168.1.7", true},
        {"192.168.1.7", "192.168.1.8", false}, {"fd00::/8", "fd12::1", true},
        {"fd00::/8", "fe80::1", false}, {"0.0.0.0/0", "8.8.8.8", true},
        {"10.0.0.0/8", "::1", false}, {"172.16.0.0/12", "172.31.255.1", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct netmask m;
        struct netaddr a;
        assert_int_equal(netmask_parse(cases[i].mask, strlen(cases[i].mask), &m), 0);
        assert_int_equal(netaddr_parse(cases[i].addr, strlen(cases[i].addr), &a), 0);
        assert_int_equal(netmask_match(&m, &a), cases[i].want);
    }
    struct netmask m;
    assert_int_equal(netmask_parse("10.0.0.0/33", 11, &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_masks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
