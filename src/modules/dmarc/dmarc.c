/*
 * DMARC record parsing and evaluation (RFC 7489 §6).  The record parser is
 * length-checked: a tag list of `tag = value` pairs separated by ';' with
 * optional whitespace; v=DMARC1 must come first and match exactly; unknown
 * tags are ignored; an invalid p (or sp) with a syntactically valid rua=
 * counts as p=none (§6.6.3), otherwise the record is unusable.
 */
#include "modules/dmarc/dmarc.h"

#include <libpsl.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/str.h"
#include "net/dns.h"

const char *dmarc_result_name(enum dmarc_result r)
{
    static const char *const n[] = {"none", "pass", "fail", "temperror", "permerror", "pending"};
    return (unsigned)r < sizeof(n) / sizeof(n[0]) ? n[r] : "?";
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
    static const char *const n[] = {"", "none", "quarantine", "reject"};
    return (unsigned)p < sizeof(n) / sizeof(n[0]) ? n[p] : "?";
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum dmarc_policy policy_parse(const char *v, size_t len)
{
    if (str_ieq_cstr(v, len, "none"))
        return DMARC_POLICY_NONE;
    if (str_ieq_cstr(v, len, "quarantine"))
        return DMARC_POLICY_QUARANTINE;
    if (str_ieq_cstr(v, len, "reject"))
        return DMARC_POLICY_REJECT;
    return DMARC_POLICY_UNSET;
}

/* rua must hold at least one URI with a scheme ("mailto:...") to rescue a
 * record whose policy is invalid. */
static bool rua_valid(const char *v, size_t len)
{
    const char *colon = memchr(v, ':', len);
    return colon != NULL && colon > v && (size_t)(colon - v) + 1 < len;
}

/* Splits the next "tag = value" off [*p, end); returns 0, or -1 at the end. */
static int next_tag(const char **p, const char *end, const char **tag, size_t *tlen,
                    const char **val, size_t *vlen)
{
    const char *s = *p;
    while (s < end && (is_wsp(*s) || *s == ';'))
        s++;
    if (s >= end)
        return -1;
    const char *semi = memchr(s, ';', (size_t)(end - s));
    const char *stop = semi ? semi : end;
    const char *eq = memchr(s, '=', (size_t)(stop - s));
    *p = semi ? semi + 1 : end;
    if (eq == NULL) {
        *tag = s, *tlen = (size_t)(stop - s), *val = stop, *vlen = 0;
    } else {
        *tag = s, *tlen = (size_t)(eq - s);
        *val = eq + 1, *vlen = (size_t)(stop - eq - 1);
    }
    str_trim(tag, tlen);
    str_trim(val, vlen);
    return 0;
}

int dmarc_record_parse(const char *p, size_t len, struct dmarc_record *rec, const char **error_r)
{
    const char *cur = p, *end = p + len, *tag, *val;
    size_t tlen, vlen;
    memset(rec, 0, sizeof(*rec));
    rec->pct = 100;
    if (memchr(p, '\0', len) != NULL)
        return *error_r = "NUL byte in record", -1;
    /* The version must be the first tag and exactly "DMARC1" (§6.4). */
    if (next_tag(&cur, end, &tag, &tlen, &val, &vlen) < 0 || !str_ieq_cstr(tag, tlen, "v") ||
        vlen != 6 || memcmp(val, "DMARC1", 6) != 0)
        return *error_r = "not a DMARC1 record", -1;
    bool p_seen = false, p_bad = false, sp_bad = false, rua_ok = false;
    while (next_tag(&cur, end, &tag, &tlen, &val, &vlen) == 0) {
        if (str_ieq_cstr(tag, tlen, "p")) {
            p_seen = true;
            rec->p = policy_parse(val, vlen);
            p_bad = rec->p == DMARC_POLICY_UNSET;
        } else if (str_ieq_cstr(tag, tlen, "sp")) {
            rec->sp = policy_parse(val, vlen);
            sp_bad = rec->sp == DMARC_POLICY_UNSET;
        } else if (str_ieq_cstr(tag, tlen, "adkim") || str_ieq_cstr(tag, tlen, "aspf")) {
            bool strict = str_ieq_cstr(val, vlen, "s");
            if (!strict && !str_ieq_cstr(val, vlen, "r"))
                continue;   /* invalid alignment mode: keep the default (relaxed) */
            if (tlen == 5)
                rec->adkim_strict = strict;
            else
                rec->aspf_strict = strict;
        } else if (str_ieq_cstr(tag, tlen, "pct")) {
            uint64_t v;
            if (str_to_u64(val, vlen, &v) == 0 && v <= 100)
                rec->pct = (int)v;
        } else if (str_ieq_cstr(tag, tlen, "rua")) {
            rua_ok = rua_valid(val, vlen);
        }
    }
    if (!p_seen || p_bad || sp_bad) {
        if (!rua_ok)
            return *error_r = p_seen ? "invalid policy" : "no policy (p=)", -1;
        /* §6.6.3: act as if p=none was published. */
        rec->p = DMARC_POLICY_NONE;
        rec->sp = DMARC_POLICY_UNSET;
    }
    return 0;
}

const char *dmarc_org_domain(struct arena *arena, const char *domain)
{
    static const psl_ctx_t *psl;
    if (psl == NULL)
        psl = psl_latest(NULL);   /* system list (publicsuffix package), else built-in */
    if (psl == NULL)
        psl = psl_builtin();
    char *lower = arena_strdup(arena, domain);
    size_t n = strlen(lower);
    while (n > 0 && lower[n - 1] == '.')
        lower[--n] = '\0';
    str_lower(lower, n);
    const char *reg = psl ? psl_registrable_domain(psl, lower) : NULL;
    return reg != NULL ? reg : lower;
}

static bool aligned(struct arena *a, const char *id, const char *from, const char *from_org,
                    bool strict)
{
    if (id == NULL || *id == '\0')
        return false;
    if (strcasecmp(id, from) == 0)
        return true;
    return !strict && strcasecmp(dmarc_org_domain(a, id), from_org) == 0;
}

/* Looks up _dmarc.<domain>.  Returns 1 found, 0 none, -1 discard (several
 * records: no fallback either), -2 temperror, -3 pending. */
static int fetch(struct arena *a, const char *domain, dmarc_lookup_fn lookup, void *ctx,
                 struct dmarc_outcome *out)
{
    const struct dns_reply *rep = NULL;
    const char *name = arena_printf(a, "_dmarc.%s", domain);
    if (lookup(ctx, name, &rep) != 0)
        return -3;
    if (rep->status == DNS_TEMPFAIL) {
        out->reason = rep->error ? rep->error : "DNS failure";
        return -2;
    }
    if (rep->status != DNS_OK)
        return 0;
    int found = 0;
    for (size_t i = 0; i < rep->n; i++) {
        const char *s = rep->rrs[i].v.txt.s;
        size_t len = rep->rrs[i].v.txt.len;
        if (len == 0 || (s[0] != 'v' && s[0] != 'V'))
            continue;   /* some other TXT record */
        struct dmarc_record rec;
        const char *err = NULL;
        if (dmarc_record_parse(s, len, &rec, &err) < 0) {
            /* "v = DMARC1" style records that fail to parse still count as bad. */
            if (str_isearch(s, len < 16 ? len : 16, "DMARC1", 6) >= 0) {
                out->bad_record = true;
                out->reason = err;
            }
            continue;
        }
        if (found++)
            break;
        out->record = rec;
        out->record_text = arena_strndup(a, s, len);
        out->record_domain = arena_strdup(a, domain);
    }
    if (found > 1) {
        out->reason = "several DMARC records published";
        out->record_text = NULL;
        return -1;
    }
    return found;
}

enum dmarc_result dmarc_check(struct arena *a, const struct dmarc_request *req,
                              dmarc_lookup_fn lookup, void *ctx, struct dmarc_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *from = req->from_domain;
    if (from == NULL || *from == '\0' || strchr(from, '.') == NULL) {
        out->reason = "no usable From domain";
        return out->result = DMARC_RESULT_PERMERROR;
    }
    out->org_domain = dmarc_org_domain(a, from);
    int rc = fetch(a, from, lookup, ctx, out);
    bool at_org = false;
    if (rc == 0 && strcasecmp(out->org_domain, from) != 0) {
        rc = fetch(a, out->org_domain, lookup, ctx, out);
        at_org = true;
    }
    if (rc == -3)
        return out->result = DMARC_RESULT_PENDING;
    if (rc == -2)
        return out->result = DMARC_RESULT_TEMPERROR;
    if (rc <= 0)
        return out->result = DMARC_RESULT_NONE;
    const struct dmarc_record *r = &out->record;
    out->policy = (at_org && r->sp != DMARC_POLICY_UNSET) ? r->sp : r->p;
    for (size_t i = 0; i < req->ndkim && out->dkim_aligned == NULL; i++) {
        if (aligned(a, req->dkim_domains[i], from, out->org_domain, r->adkim_strict))
            out->dkim_aligned = req->dkim_domains[i];
    }
    out->spf_aligned = aligned(a, req->spf_domain, from, out->org_domain, r->aspf_strict);
    out->result = (out->dkim_aligned || out->spf_aligned) ? DMARC_RESULT_PASS : DMARC_RESULT_FAIL;
    return out->result;
}
