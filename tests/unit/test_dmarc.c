/* DMARC record parsing and evaluation rules not covered by the shared cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "core/arena.h"
#include "modules/dmarc/dmarc.h"
#include "net/dns.h"

static void test_record_parse(void **state)
{
    static const struct {
        const char *rec;
        int ok;
        enum dmarc_policy p, sp;
        bool adkim_s;
        int pct;
    } cases[] = {
        {"v=DMARC1; p=reject", 0, DMARC_POLICY_REJECT, DMARC_POLICY_UNSET, false, 100},
        {"v=DMARC1;p=quarantine;sp=none;adkim=s;pct=20", 0, DMARC_POLICY_QUARANTINE,
         DMARC_POLICY_NONE, true, 20},
        {"v = DMARC1 ; p = Reject ; ", 0, DMARC_POLICY_REJECT, DMARC_POLICY_UNSET, false, 100},
        {"v=DMARC1; p=bogus; rua=mailto:d@example.com", 0, DMARC_POLICY_NONE, DMARC_POLICY_UNSET,
         false, 100},
        {"v=DMARC1; rua=mailto:d@example.com", 0, DMARC_POLICY_NONE, DMARC_POLICY_UNSET, false,
         100},
        {"v=DMARC1; p=bogus", -1, 0, 0, false, 0},
        {"v=DMARC1", -1, 0, 0, false, 0},
        {"p=reject; v=DMARC1", -1, 0, 0, false, 0},
        {"v=dmarc1; p=reject", -1, 0, 0, false, 0},
        {"v=DMARC1x; p=reject", -1, 0, 0, false, 0},
        {"v=DMARC1; p=reject; pct=101", 0, DMARC_POLICY_REJECT, DMARC_POLICY_UNSET, false, 100},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dmarc_record r;
        const char *err = NULL;
        int rc = dmarc_record_parse(cases[i].rec, strlen(cases[i].rec), &r, &err);
        if (rc != cases[i].ok)
            fail_msg("%s: rc %d (%s)", cases[i].rec, rc, err ? err : "-");
        if (rc == 0) {
            assert_int_equal(r.p, cases[i].p);
            assert_int_equal(r.sp, cases[i].sp);
            assert_int_equal(r.adkim_strict, cases[i].adkim_s);
            assert_int_equal(r.pct, cases[i].pct);
        }
    }
}

/* Zone: name -> records, several entries = several records. */
static const struct {
    const char *name, *rec;
} zone[] = {
    {"_dmarc.multi.example.com", "v=DMARC1; p=reject"},
    {"_dmarc.multi.example.com", "v=DMARC1; p=none"},
    {"_dmarc.example.com", "v=DMARC1; p=none; sp=reject"},
    {"_dmarc.example.org", "v=DMARC1; p=quarantine"},
    {"_dmarc.example.org", "some unrelated TXT"},
};

static int lookup(void *ctx, const char *name, const struct dns_reply **reply_r)
{
    struct arena *a = ctx;
    struct dns_reply *r = arena_calloc(a, 1, sizeof(*r));
    r->rrs = arena_calloc(a, 8, sizeof(struct dns_rr));
    r->type = DNS_T_TXT;
    r->status = DNS_NXDOMAIN;
    if (strcmp(name, "_dmarc.down.example.net") == 0) {
        r->status = DNS_TEMPFAIL;
    }
    for (size_t i = 0; i < sizeof(zone) / sizeof(zone[0]); i++) {
        if (strcasecmp(zone[i].name, name) == 0) {
            r->status = DNS_OK;
            r->rrs[r->n].v.txt.s = zone[i].rec;
            r->rrs[r->n].v.txt.len = strlen(zone[i].rec);
            r->n++;
        }
    }
    *reply_r = r;
    return 0;
}

static void test_evaluate(void **state)
{
    static const struct {
        const char *from, *dkim, *spf;
        enum dmarc_result want;
        enum dmarc_policy policy;
    } cases[] = {
        /* several records at the author domain: discarded, no fallback (§4.10) */
        {"multi.example.com", "multi.example.com", NULL, DMARC_RESULT_NONE, DMARC_POLICY_UNSET},
        /* subdomain takes sp= from the organisational record */
        {"sub.example.com", NULL, NULL, DMARC_RESULT_FAIL, DMARC_POLICY_REJECT},
        {"example.com", NULL, NULL, DMARC_RESULT_FAIL, DMARC_POLICY_NONE},
        {"example.org", "mail.example.org", NULL, DMARC_RESULT_PASS, DMARC_POLICY_QUARANTINE},
        {"example.org", NULL, "bounce.example.org", DMARC_RESULT_PASS, DMARC_POLICY_QUARANTINE},
        {"example.org", "example.org.evil.test", NULL, DMARC_RESULT_FAIL, DMARC_POLICY_QUARANTINE},
        {"down.example.net", NULL, NULL, DMARC_RESULT_TEMPERROR, DMARC_POLICY_UNSET},
        {"nothing.test", NULL, NULL, DMARC_RESULT_NONE, DMARC_POLICY_UNSET},
        {"localhost", NULL, NULL, DMARC_RESULT_PERMERROR, DMARC_POLICY_UNSET},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena *a = arena_new(0);
        const char *dk[1] = {cases[i].dkim};
        struct dmarc_request req = {cases[i].from, dk, cases[i].dkim ? 1 : 0, cases[i].spf};
        struct dmarc_outcome out;
        enum dmarc_result r = dmarc_check(a, &req, lookup, a, &out);
        if (r != cases[i].want || out.policy != cases[i].policy)
            fail_msg("%s: got %s/%s", cases[i].from, dmarc_result_name(r),
                     dmarc_policy_name(out.policy));
        arena_free(&a);
    }
}

static void test_org_domain(void **state)
{
    struct arena *a = arena_new(0);
    assert_string_equal(dmarc_org_domain(a, "a.b.example.co.uk"), "example.co.uk");
    assert_string_equal(dmarc_org_domain(a, "Mail.Example.COM."), "example.com");
    assert_string_equal(dmarc_org_domain(a, "example.com"), "example.com");
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_parse),
        cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_org_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
