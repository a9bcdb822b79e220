/* Table-driven tests of src/modules/addr_compat.c: what Rspamd 3.4 makes
 * of an address header (first element, count, validity). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "modules/addr_compat.h"

struct case_ {
    const char *value;
    size_t want_n;
    const char *want_addr;       /* first element */
    const char *want_domain;
    bool want_valid, want_8bit;
};

static const struct case_ cases[] = {
    {"alice@example.com", 1, "alice@example.com", "example.com", true, false},
    {"\"Alice\" <alice@example.com>", 1, "alice@example.com", "example.com", true, false},
    {"Alice <alice@example.com>, bob@example.org", 2, "alice@example.com", "example.com", true, false},
    {"\"Smith, J\" <j@example.com>", 1, "j@example.com", "example.com", true, false},
    {"<\"odd local\"@example.com>", 1, "odd local@example.com", "example.com", true, false},
    {"<@relay.example:a@example.com>", 1, "a@example.com", "example.com", true, false},
    {"root@[192.0.2.1]", 1, "root@[192.0.2.1]", "192.0.2.1", true, false},
    {"x@[IPv6:2001:db8::1]", 1, "x@[IPv6:2001:db8::1]", "IPv6:2001:db8::1", true, false},
    {"<>", 1, "", "", true, false},
    {"a@b@example.com", 1, "a@b@example.com", "example.com", false, false},
    {"\"s@example.net\"@example.com", 1, "@example.com", "example.com", false, false},
    {"z@[1086695621], [u]@example.com", 2, "z@[1086695621]", "[1086695621]", false, false},
    {"\xb4O@example.com", 1, "\xb4O@example.com", "example.com", false, true},
    {"j\xc3\xb6rg@example.com", 1, "j\xc3\xb6rg@example.com", "example.com", true, false},
    {"a.@example.com", 1, "a.@example.com", "example.com", false, false},
    {"a@-example.com", 1, "a@-example.com", "-example.com", false, false},
    {"Alice Smith", 1, "", "", false, false},
    {"undisclosed-recipients:;", 1, "", "", false, false},
    {"a@example.com (Alice)", 1, "a@example.com", "example.com", true, false},
    {"", 0, NULL, NULL, false, false},
    {"  ,  ", 0, NULL, NULL, false, false},
    {"<unterminated@example.com", 1, "unterminated@example.com", "example.com", false, false},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct case_ *c = &cases[i];
        struct arena *a = arena_new(0);
        struct compat_addrlist l = {0};
        addr_compat_parse(a, c->value, strlen(c->value), &l);
        if (l.n != c->want_n)
            fail_msg("%s: %zu addresses, want %zu", c->value, l.n, c->want_n);
        if (c->want_n > 0) {
            if (strcmp(l.a[0].addr, c->want_addr) != 0 || strcmp(l.a[0].domain, c->want_domain) != 0 ||
                l.a[0].valid != c->want_valid || l.a[0].has_8bit != c->want_8bit)
                fail_msg("%s: got addr '%s' domain '%s' valid %d 8bit %d", c->value, l.a[0].addr,
                         l.a[0].domain, l.a[0].valid, l.a[0].has_8bit);
        }
        arena_free(&a);
    }
}

static void test_dealias(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct compat_addrlist l = {0};
    const char *v = "joe+news@example.org, J.Doe@gmail.com, x@googlemail.com";
    addr_compat_parse(a, v, strlen(v), &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(addr_compat_dealias(a, &l), 3);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.a[3].addr, "joe@example.org");
    assert_string_equal(l.a[4].addr, "JDoe@gmail.com");
    assert_string_equal(l.a[5].addr, "x@gmail.com");
    struct compat_addrlist plain = {0};
    v = "joe@example.org, +x@example.org";
    addr_compat_parse(a, v, strlen(v), &plain);
    assert_int_equal(addr_compat_dealias(a, &plain), 0);
    assert_int_equal(plain.n, 2);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_dealias),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
