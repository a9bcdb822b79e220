/* RFC 7208 §7.4 macro expansion examples, plus malformed macros. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "modules/spf/spf.h"

static void test_rfc_examples(void **state)
{
    static const struct {
        const char *in, *want;
        bool v6;
    } cases[] = {
        {"%{s}", "strong-bad@email.example.com", false},
        {"%{o}", "email.example.com", false},
        {"%{d}", "email.example.com", false},
        {"%{d4}", "email.example.com", false},
        {"%{d3}", "email.example.com", false},
        {"%{d2}", "example.com", false},
        {"%{d1}", "com", false},
        {"%{dr}", "com.example.email", false},
        {"%{d2r}", "example.email", false},
        {"%{l}", "strong-bad", false},
        {"%{l-}", "strong.bad", false},
        {"%{lr}", "strong-bad", false},
        {"%{lr-}", "bad.strong", false},
        {"%{l1r-}", "strong", false},
        {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com", false},
        {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com", false},
        {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com",
         false},
        {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com", false},
        {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net", false},
        {"%{ir}.%{v}._spf.%{d2}",
         "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com", true},
        {"a%%b%_c%-d", "a%b c%20d", false},
        {"%{L}", "strong-bad", false},
        {"%{S}", "strong-bad%40email.example.com", false},
    };
    struct arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct spf_request req = {0};
        const char *ip = cases[i].v6 ? "2001:db8::cb01" : "192.0.2.3";
        assert_int_equal(netaddr_parse(ip, strlen(ip), &req.ip), 0);
        req.sender = "strong-bad@email.example.com";
        req.helo = "mx.example.org";
        const char *out = NULL, *err = NULL;
        assert_int_equal(spf_macro_expand(a, cases[i].in, strlen(cases[i].in), &req,
                                          "email.example.com", false, &out, &err), 0);
        assert_string_equal(out, cases[i].want);
    }
    arena_free(&a);
}

static void test_bad_macros(void **state)
{
    static const char *const bad[] = {"%{x}", "%{d0}", "%", "%a", "%{d", "%{c}", "%{d2q}"};
    struct arena *a = arena_new(0);
    struct spf_request req = {0};
    netaddr_parse("192.0.2.3", 9, &req.ip);
    req.sender = "a@b.example";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *out = NULL, *err = NULL;
        assert_int_equal(spf_macro_expand(a, bad[i], strlen(bad[i]), &req, "b.example", false,
                                          &out, &err), -1);
    }
    arena_free(&a);
}

static void test_record_syntax(void **state)
{
    static const struct {
        const char *rec;
        int want;
    } cases[] = {
        {"v=spf1 -all", 0},
        {"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 ptr ~all", 0},
        {"v=spf1 include:_spf.example.com redirect=_spf.example.net", 0},
        {"v=spf1 a:example.com/24//64 exists:%{ir}.%{v}.rbl.example.org", 0},
        {"v=spf1 foo=bar -all", 0},
        {"v=spf1 a:1.2.3.4", -1},                  /* numeric top label */
        {"v=spf1 ip4:192.0.2.0/33", -1},
        {"v=spf1 ip4:1.2.3.4/08", -1},             /* leading zero */
        {"v=spf1 include", -1},
        {"v=spf1 all:foo.example", -1},
        {"v=spf1 redirect=a.example redirect=b.example", -1},
        {"v=spf1 exp=%{c}.example.com", -1},       /* c only in explanation text */
        {"v=spf1 -all\tip4:1.2.3.4", -1},
        {"v=spf1 frobnicate", -1},
    };
    struct arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *err = NULL;
        int rc = spf_record_check(a, cases[i].rec, strlen(cases[i].rec), &err);
        if (rc != cases[i].want)
            fail_msg("%s: got %d (%s)", cases[i].rec, rc, err ? err : "-");
    }
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_bad_macros),
        cmocka_unit_test(test_record_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
