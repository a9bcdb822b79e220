/*
 * SPF term evaluation: DNS lookups through the caller's resolver, the
 * mechanisms, include/redirect recursion, exp= and %{p}.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/str.h"
#include "modules/spf/spf.h"
#include "modules/spf/spf_private.h"

#define SPF_MAX_DNS_TERMS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_NAMES 10

/* A name we may query: labels 1..63 bytes, total <= 253. */
static bool name_queryable(const char *name)
{
    size_t len = strlen(name), label = 0;
    if (len == 0 || len > 254 || (len == 254 && name[253] != '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '.') {
            if (label == 0 && i + 1 != len)
                return false;
            label = 0;
        } else if (++label > 63) {
            return false;
        }
    }
    return true;
}

int spf_lookup(struct spf_eval *ev, enum spf_rr type, const char *name,
               struct spf_dns_answer *ans_r)
{
    memset(ans_r, 0, sizeof(*ans_r));
    if (!name_queryable(name)) {
        ans_r->status = SPF_DNS_NXDOMAIN;
        return 0;
    }
    ev->resolve(ev->rctx, type, name, ans_r);
    if (ans_r->status == SPF_DNS_PENDING) {
        ev->pending = true;
        return -1;
    }
    return 0;
}

static void reverse_name(const struct netaddr *ip, char *out, size_t outsize)
{
    static const char hex[] = "0123456789abcdef";
    if (ip->family == 4) {
        snprintf(out, outsize, "%u.%u.%u.%u.in-addr.arpa", ip->addr[15], ip->addr[14],
                 ip->addr[13], ip->addr[12]);
        return;
    }
    size_t n = 0;
    for (int i = 15; i >= 0 && n + 5 < outsize; i--) {
        out[n++] = hex[ip->addr[i] & 15], out[n++] = '.';
        out[n++] = hex[ip->addr[i] >> 4], out[n++] = '.';
    }
    snprintf(out + n, outsize - n, "ip6.arpa");
}

/* Does any address of `name` (A or AAAA per the client's family) match? */
static int addr_match(struct spf_eval *ev, const char *name, int cidr4, int cidr6, bool count_void,
                      bool *match_r)
{
    const struct netaddr *ip = &ev->req->ip;
    struct spf_dns_answer ans;
    if (spf_lookup(ev, ip->family == 4 ? SPF_RR_A : SPF_RR_AAAA, name, &ans) < 0)
        return -1;
    if (ans.status == SPF_DNS_TEMPFAIL)
        return -2;
    if (count_void && (ans.status == SPF_DNS_NXDOMAIN || ans.naddrs == 0))
        ev->void_lookups++;
    *match_r = false;
    int cidr = ip->family == 4 ? (cidr4 < 0 ? 32 : cidr4) + 96 : (cidr6 < 0 ? 128 : cidr6);
    for (size_t i = 0; ans.status == SPF_DNS_OK && i < ans.naddrs; i++) {
        struct netmask m = {ans.addrs[i], (unsigned)cidr};
        for (unsigned bit = m.prefix; bit < 128; bit++)
            m.net.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
        if (netmask_match(&m, ip)) {
            *match_r = true;
            break;
        }
    }
    return 0;
}

/* PTR names of the client that resolve back to it (the first 10 names). */
static int validated_names(struct spf_eval *ev, const char ***names_r, size_t *n_r)
{
    char rev[128];
    reverse_name(&ev->req->ip, rev, sizeof(rev));
    struct spf_dns_answer ans;
    *n_r = 0;
    if (spf_lookup(ev, SPF_RR_PTR, rev, &ans) < 0)
        return -1;
    if (ans.status != SPF_DNS_OK)
        return 0;
    const char **out = ARENA_NEW_N(ev->arena, const char *, SPF_MAX_NAMES);
    for (size_t i = 0; i < ans.nstrs && i < SPF_MAX_NAMES; i++) {
        bool m = false;
        int rc = addr_match(ev, ans.strs[i], -1, -1, false, &m);
        if (rc == -1)
            return -1;
        if (rc == 0 && m)
            out[(*n_r)++] = ans.strs[i];
    }
    *names_r = out;
    return 0;
}

static bool name_within(const char *name, const char *domain)
{
    size_t n = strlen(name), d = strlen(domain);
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (d > 0 && domain[d - 1] == '.')
        d--;
    if (n == d)
        return strncasecmp(name, domain, n) == 0;
    return n > d && name[n - d - 1] == '.' && strncasecmp(name + n - d, domain, d) == 0;
}

const char *spf_validated_name(struct spf_eval *ev, const char *domain)
{
    const char **names;
    size_t n;
    if (validated_names(ev, &names, &n) < 0 || n == 0)
        return "unknown";
    for (size_t i = 0; i < n; i++)
        if (name_within(names[i], domain))
            return names[i];
    return names[0];
}

static enum spf_result check_host(struct spf_eval *ev, const char *domain, bool in_include);

/* Target domain of a term: its expanded domain-spec or the current domain. */
static int target(struct spf_eval *ev, const char *spec, size_t len, const char *domain,
                  const char **out_r)
{
    if (spec == NULL) {
        *out_r = domain;
        return 0;
    }
    if (spf_expand(ev, spec, len, domain, false, out_r) < 0)
        return -1;
    *out_r = spf_truncate_domain(*out_r);
    return 0;
}

/* Counts a DNS-querying term; false when the limit is exceeded. */
static bool count_term(struct spf_eval *ev)
{
    return ++ev->dns_terms <= SPF_MAX_DNS_TERMS;
}

enum { EV_NOMATCH = 0, EV_MATCH = 1, EV_PERM = -1, EV_TEMP = -2, EV_PENDING = -3 };

static int eval_mx(struct spf_eval *ev, const char *name, int c4, int c6)
{
    struct spf_dns_answer ans;
    if (spf_lookup(ev, SPF_RR_MX, name, &ans) < 0)
        return EV_PENDING;
    if (ans.status == SPF_DNS_TEMPFAIL)
        return EV_TEMP;
    if (ans.status == SPF_DNS_NXDOMAIN || ans.nstrs == 0) {
        ev->void_lookups++;
        return EV_NOMATCH;
    }
    if (ans.nstrs > SPF_MAX_NAMES) {
        ev->reason = "more than 10 MX names";
        return EV_PERM;
    }
    for (size_t i = 0; i < ans.nstrs; i++) {
        bool m = false;
        int rc = addr_match(ev, ans.strs[i], c4, c6, false, &m);
        if (rc == -1)
            return EV_PENDING;
        if (m)
            return EV_MATCH;
    }
    return EV_NOMATCH;
}

static int eval_ptr(struct spf_eval *ev, const char *name)
{
    const char **names;
    size_t n;
    if (validated_names(ev, &names, &n) < 0)
        return EV_PENDING;
    for (size_t i = 0; i < n; i++)
        if (name_within(names[i], name))
            return EV_MATCH;
    return EV_NOMATCH;
}

static int eval_include(struct spf_eval *ev, const char *name)
{
    switch (check_host(ev, name, true)) {
    case SPF_RESULT_PASS: return EV_MATCH;
    case SPF_RESULT_FAIL:
    case SPF_RESULT_SOFTFAIL:
    case SPF_RESULT_NEUTRAL: return EV_NOMATCH;
    case SPF_RESULT_TEMPERROR: return EV_TEMP;
    case SPF_RESULT_PENDING: return EV_PENDING;
    case SPF_RESULT_NONE:
        ev->reason = "included domain has no SPF record";
        return EV_PERM;
    default: return EV_PERM;
    }
}

static int eval_term(struct spf_eval *ev, const struct spf_term *t, const char *domain)
{
    const char *name = NULL;
    if (t->mech == M_ALL)
        return EV_MATCH;
    if (t->mech == M_IP4 || t->mech == M_IP6)
        return netmask_match(&t->net, &ev->req->ip) ? EV_MATCH : EV_NOMATCH;
    if (!count_term(ev)) {
        ev->reason = "more than 10 DNS-querying terms";
        return EV_PERM;
    }
    if (target(ev, t->domain_spec, t->spec_len, domain, &name) < 0) {
        ev->reason = "invalid macro";
        return EV_PERM;
    }
    int rc = EV_NOMATCH;
    bool m = false;
    switch (t->mech) {
    case M_INCLUDE: rc = eval_include(ev, name); break;
    case M_A:
        rc = addr_match(ev, name, t->cidr4, t->cidr6, true, &m);
        rc = rc == -1 ? EV_PENDING : rc == -2 ? EV_TEMP : (m ? EV_MATCH : EV_NOMATCH);
        break;
    case M_MX: rc = eval_mx(ev, name, t->cidr4, t->cidr6); break;
    case M_PTR: rc = eval_ptr(ev, name); break;
    default: {   /* M_EXISTS: an A query whatever the client's family */
        struct spf_dns_answer ans;
        if (spf_lookup(ev, SPF_RR_A, name, &ans) < 0)
            return EV_PENDING;
        if (ans.status == SPF_DNS_TEMPFAIL)
            return EV_TEMP;
        if (ans.status == SPF_DNS_NXDOMAIN || ans.naddrs == 0)
            ev->void_lookups++;
        rc = ans.status == SPF_DNS_OK && ans.naddrs > 0 ? EV_MATCH : EV_NOMATCH;
        break;
    }
    }
    if (rc >= 0 && ev->void_lookups > SPF_MAX_VOID) {
        ev->reason = "more than 2 void lookups";
        return EV_PERM;
    }
    return rc;
}

/* Selects the single "v=spf1" TXT record of domain (§4.5). */
static enum spf_result fetch_record(struct spf_eval *ev, const char *domain, const char **rec_r)
{
    struct spf_dns_answer ans;
    if (spf_lookup(ev, SPF_RR_TXT, domain, &ans) < 0)
        return SPF_RESULT_PENDING;
    if (ans.status == SPF_DNS_TEMPFAIL) {
        ev->reason = "DNS error fetching the SPF record";
        return SPF_RESULT_TEMPERROR;
    }
    const char *found = NULL;
    for (size_t i = 0; ans.status == SPF_DNS_OK && i < ans.nstrs; i++) {
        const char *s = ans.strs[i];
        if (strncasecmp(s, "v=spf1", 6) == 0 && (s[6] == '\0' || s[6] == ' ')) {
            if (ans.lens != NULL && ans.lens[i] != strlen(s)) {
                ev->reason = "NUL byte in the SPF record";
                return SPF_RESULT_PERMERROR;
            }
            if (found != NULL) {
                ev->reason = "more than one SPF record";
                return SPF_RESULT_PERMERROR;
            }
            found = s;
        }
    }
    if (found == NULL) {
        ev->reason = "no SPF record";
        return SPF_RESULT_NONE;
    }
    *rec_r = found;
    return SPF_RESULT_PASS;   /* "found" */
}

static void explain(struct spf_eval *ev, const struct spf_record *r, const char *domain)
{
    const char *name, *text;
    struct spf_dns_answer ans;
    if (ev->explanation != NULL || r->exp == NULL)
        return;
    if (target(ev, r->exp, r->exp_len, domain, &name) < 0 || spf_lookup(ev, SPF_RR_TXT, name, &ans) < 0)
        return;
    /* Any problem with the explanation is ignored (§6.2). */
    if (ans.status != SPF_DNS_OK || ans.nstrs != 1)
        return;
    if (spf_expand(ev, ans.strs[0], strlen(ans.strs[0]), domain, true, &text) == 0)
        ev->explanation = text;
}

static enum spf_result qualifier_result(char q)
{
    switch (q) {
    case '-': return SPF_RESULT_FAIL;
    case '~': return SPF_RESULT_SOFTFAIL;
    case '?': return SPF_RESULT_NEUTRAL;
    default: return SPF_RESULT_PASS;
    }
}

static enum spf_result check_host(struct spf_eval *ev, const char *domain, bool in_include)
{
    if (!name_queryable(domain) || strchr(domain, '.') == NULL) {
        ev->reason = "invalid domain";
        return SPF_RESULT_NONE;
    }
    const char *rec = NULL, *err = NULL;
    enum spf_result fr = fetch_record(ev, domain, &rec);
    if (fr != SPF_RESULT_PASS)
        return fr;
    struct spf_record *r = spf_parse(ev, rec, &err);
    if (r == NULL) {
        ev->reason = arena_printf(ev->arena, "%s in the SPF record of %s", err, domain);
        return SPF_RESULT_PERMERROR;
    }
    for (size_t i = 0; i < r->nterms; i++) {
        const struct spf_term *t = &r->terms[i];
        int rc = eval_term(ev, t, domain);
        if (rc == EV_PENDING)
            return SPF_RESULT_PENDING;
        if (rc == EV_TEMP)
            return SPF_RESULT_TEMPERROR;
        if (rc == EV_PERM)
            return SPF_RESULT_PERMERROR;
        if (rc == EV_MATCH) {
            enum spf_result res = qualifier_result(t->qualifier);
            if (!in_include)
                ev->mechanism = t->text;
            if (res == SPF_RESULT_FAIL && !in_include)
                explain(ev, r, domain);
            return ev->pending ? SPF_RESULT_PENDING : res;
        }
    }
    const char *name;
    if (r->redirect != NULL) {
        if (!count_term(ev)) {
            ev->reason = "more than 10 DNS-querying terms";
            return SPF_RESULT_PERMERROR;
        }
        if (target(ev, r->redirect, r->redirect_len, domain, &name) < 0)
            return SPF_RESULT_PERMERROR;
        enum spf_result res = check_host(ev, name, in_include);
        if (res == SPF_RESULT_NONE) {
            ev->reason = "redirect target has no SPF record";
            return SPF_RESULT_PERMERROR;
        }
        return res;
    }
    return SPF_RESULT_NEUTRAL;
}

enum spf_result spf_check(struct arena *arena, const struct spf_request *req,
                          spf_resolve_fn resolve, void *ctx, struct spf_outcome *out)
{
    struct spf_eval ev = {0};
    ev.arena = arena;
    ev.req = req;
    ev.resolve = resolve;
    ev.rctx = ctx;
    const char *helo = req->helo ? req->helo : "";
    if (req->sender != NULL && *req->sender != '\0') {
        const char *at = strrchr(req->sender, '@');
        ev.sender = (at == req->sender) ? arena_printf(arena, "postmaster%s", req->sender)
                                        : req->sender;
    } else {
        ev.sender = arena_printf(arena, "postmaster@%s", helo);
    }
    const char *at = strrchr(ev.sender, '@');
    const char *domain = at ? at + 1 : ev.sender;
    memset(out, 0, sizeof(*out));
    out->domain = domain;
    enum spf_result r = check_host(&ev, domain, false);
    if (ev.pending)
        r = SPF_RESULT_PENDING;
    out->result = r;
    out->mechanism = ev.mechanism;
    out->explanation = r == SPF_RESULT_FAIL ? ev.explanation : NULL;
    out->reason = ev.reason;
    out->dns_terms = ev.dns_terms;
    out->void_lookups = ev.void_lookups;
    return r;
}
