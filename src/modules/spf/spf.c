/*
 * SPF record syntax (RFC 7208 §4.5-§6, §7.1): a record is parsed completely
 * before evaluation, because any syntax error anywhere is a permerror
 * (§4.6).  Mechanisms, the dual CIDR suffix, ip4/ip6 networks, domain-spec
 * validity (it must end in a top label or a macro) and the redirect/exp
 * modifiers (at most once each) are checked here; spf_eval.c evaluates.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/str.h"
#include "modules/spf/spf.h"
#include "modules/spf/spf_private.h"

const char *spf_result_name(enum spf_result r)
{
    static const char *const names[] = {"none", "neutral", "pass", "fail", "softfail",
                                        "temperror", "permerror", "pending"};
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* ---- syntax ---- */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool is_toplabel(const char *p, size_t len)
{
    if (len == 0 || p[0] == '-' || p[len - 1] == '-')
        return false;
    bool alpha = false, hyphen = false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '-')
            hyphen = true;
        else if (!is_alnum(p[i]))
            return false;
        else if (!(p[i] >= '0' && p[i] <= '9'))
            alpha = true;
    }
    return alpha || hyphen;
}

/* Every macro of a domain-spec must be well formed and use a letter allowed
 * outside explanations (slodipvh, §7.1); checked at parse time so a bad
 * macro anywhere in the record is a permerror even if never evaluated. */
static bool macros_valid(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '%')
            continue;
        if (i + 1 >= len)
            return false;
        char n = p[++i];
        if (n == '%' || n == '_' || n == '-')
            continue;
        if (n != '{' || i + 2 >= len || !strchr("slodipvhSLODIPVH", p[i + 1]))
            return false;
        const char *close = memchr(p + i, '}', len - i);
        if (close == NULL)
            return false;
        for (const char *q = p + i + 2; q < close; q++)
            if (!strchr("0123456789rR.-+,/_=", *q))
                return false;
        i = (size_t)(close - p);
    }
    return true;
}

/* domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static bool domain_spec_valid(const char *p, size_t len)
{
    if (len == 0 || !macros_valid(p, len))
        return false;
    if (p[len - 1] == '}') {
        /* Must close a %{...}: find the matching "%{" */
        for (size_t i = len - 1; i-- > 0;)
            if (p[i] == '{')
                return i > 0 && p[i - 1] == '%';
        return false;
    }
    size_t end = len;
    if (p[end - 1] == '.')
        end--;
    size_t dot = end;
    while (dot > 0 && p[dot - 1] != '.')
        dot--;
    if (dot == 0)
        return false;   /* needs "." toplabel */
    return is_toplabel(p + dot, end - dot);
}

static int parse_cidr(const char *p, size_t len, int max, int *v_r)
{
    uint64_t v;
    if (len == 0 || len > 3 || (len > 1 && p[0] == '0') || str_to_u64(p, len, &v) < 0 ||
        v > (uint64_t)max)
        return -1;
    *v_r = (int)v;
    return 0;
}

/* Splits "spec/24//64" into spec and the dual cidr (from the end). */
static int split_dual_cidr(const char *p, size_t *len, struct spf_term *t)
{
    t->cidr4 = t->cidr6 = -1;
    size_t n = *len;
    const char *dd = NULL;
    for (size_t i = n; i >= 2; i--) {
        if (p[i - 1] == '/' && p[i - 2] == '/') {
            dd = p + i - 2;
            break;
        }
    }
    if (dd != NULL) {
        if (parse_cidr(dd + 2, (size_t)(p + n - dd - 2), 128, &t->cidr6) < 0)
            return -1;
        n = (size_t)(dd - p);
    }
    const char *s = NULL;
    for (size_t i = n; i >= 1; i--) {
        if (p[i - 1] == '/') {
            s = p + i - 1;
            break;
        }
        if (!(p[i - 1] >= '0' && p[i - 1] <= '9'))
            break;
    }
    if (s != NULL) {
        if (parse_cidr(s + 1, (size_t)(p + n - s - 1), 32, &t->cidr4) < 0)
            return -1;
        n = (size_t)(s - p);
    }
    *len = n;
    return 0;
}

static int parse_ip(const char *p, size_t len, struct spf_term *t, const char **error_r)
{
    const char *slash = memchr(p, '/', len);
    size_t alen = slash ? (size_t)(slash - p) : len;
    char tmp[64];
    if (alen == 0 || alen >= sizeof(tmp))
        return *error_r = "bad ip address", -1;
    memcpy(tmp, p, alen);
    tmp[alen] = '\0';
    struct netaddr a;
    bool v4 = t->mech == M_IP4;
    /* ip4 must be a dotted quad; ip6 must not be a plain v4 address. */
    if (netaddr_parse(tmp, alen, &a) < 0 || (v4 && (a.family != 4 || strchr(tmp, ':'))) ||
        (!v4 && !strchr(tmp, ':')))
        return *error_r = "bad ip address", -1;
    int cidr = v4 ? 32 : 128;
    if (slash != NULL && parse_cidr(slash + 1, len - alen - 1, cidr, &cidr) < 0)
        return *error_r = "bad cidr length", -1;
    t->net.net = a;
    t->net.prefix = (unsigned)cidr + (a.family == 4 ? 96 : 0);
    if (!v4 && a.family == 4)
        t->net.prefix = (unsigned)cidr;   /* ip6:::ffff:1.2.3.4 form */
    for (unsigned bit = t->net.prefix; bit < 128; bit++)
        t->net.net.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    return 0;
}

static const struct {
    const char *name;
    enum spf_mech mech;
    bool arg;                    /* domain-spec: 0 optional, 1 required */
    bool cidr;
} mechs[] = {
    {"all", M_ALL, false, false},    {"include", M_INCLUDE, true, false},
    {"a", M_A, false, true},         {"mx", M_MX, false, true},
    {"ptr", M_PTR, false, false},    {"ip4", M_IP4, true, false},
    {"ip6", M_IP6, true, false},     {"exists", M_EXISTS, true, false},
};

static int parse_mechanism(const char *p, size_t len, struct spf_term *t, const char **error_r)
{
    t->qualifier = '+';
    t->text = NULL;
    if (len > 0 && strchr("+-~?", p[0]))
        t->qualifier = *p++, len--;
    size_t nlen = 0;
    while (nlen < len && p[nlen] != ':' && p[nlen] != '/')
        nlen++;
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
        if (!str_ieq_cstr(p, nlen, mechs[i].name))
            continue;
        t->mech = mechs[i].mech;
        const char *rest = p + nlen;
        size_t rlen = len - nlen;
        t->domain_spec = NULL;
        t->spec_len = 0;
        t->cidr4 = t->cidr6 = -1;
        if (t->mech == M_IP4 || t->mech == M_IP6) {
            if (rlen < 2 || rest[0] != ':')
                return *error_r = "ip4/ip6 need an address", -1;
            return parse_ip(rest + 1, rlen - 1, t, error_r);
        }
        if (mechs[i].cidr && split_dual_cidr(rest, &rlen, t) < 0)
            return *error_r = "bad cidr length", -1;
        if (rlen > 0) {
            if (rest[0] != ':' || t->mech == M_ALL)
                return *error_r = "unexpected text after mechanism", -1;
            t->domain_spec = rest + 1;
            t->spec_len = rlen - 1;
            if (!domain_spec_valid(t->domain_spec, t->spec_len))
                return *error_r = "invalid domain-spec", -1;
        } else if (mechs[i].arg) {
            return *error_r = "mechanism needs a domain", -1;
        }
        return 0;
    }
    return *error_r = "unknown mechanism", -1;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) followed by '=' */
static long modifier_name_len(const char *p, size_t len)
{
    if (len == 0 || !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return -1;
    for (size_t i = 1; i < len; i++) {
        if (p[i] == '=')
            return (long)i;
        if (!is_alnum(p[i]) && p[i] != '-' && p[i] != '_' && p[i] != '.')
            return -1;
    }
    return -1;
}

static int parse_modifier(struct spf_eval *ev, const char *p, size_t len, size_t nlen,
                          struct spf_record *r, const char **error_r)
{
    const char *v = p + nlen + 1;
    size_t vlen = len - nlen - 1;
    const char *dummy;
    if (str_ieq_cstr(p, nlen, "redirect") || str_ieq_cstr(p, nlen, "exp")) {
        bool redir = p[0] == 'r' || p[0] == 'R';
        if ((redir ? r->redirect : r->exp) != NULL)
            return *error_r = "duplicate modifier", -1;
        if (!domain_spec_valid(v, vlen))
            return *error_r = "invalid domain-spec in modifier", -1;
        if (redir)
            r->redirect = v, r->redirect_len = vlen;
        else
            r->exp = v, r->exp_len = vlen;
        return 0;
    }
    /* Unknown modifiers are ignored, but must still be a macro-string. */
    if (spf_expand(ev, v, vlen, "example.invalid", false, &dummy) < 0)
        return *error_r = "invalid macro in modifier", -1;
    return 0;
}

static int parse_record(struct spf_eval *ev, const char *rec, struct spf_record *r,
                        const char **error_r)
{
    size_t len = strlen(rec), i = 6;   /* after "v=spf1" */
    memset(r, 0, sizeof(*r));
    size_t maxterms = 1;
    for (size_t k = i; k < len; k++)
        maxterms += rec[k] == ' ';
    if (maxterms > SPF_MAX_TERMS)
        return *error_r = "too many terms", -1;
    r->terms = ARENA_NEW_N(ev->arena, struct spf_term, maxterms);
    while (i < len) {
        if (rec[i] != ' ')
            return *error_r = "terms must be separated by spaces", -1;
        while (i < len && rec[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && rec[i] != ' ') {
            /* Terms are visible ASCII (§4.6.1): tabs, newlines, 8-bit are errors. */
            if ((unsigned char)rec[i] < 0x21 || (unsigned char)rec[i] > 0x7e)
                return *error_r = "invalid character in record", -1;
            i++;
        }
        if (i == start)
            break;
        const char *p = rec + start;
        size_t tlen = i - start;
        long nlen = modifier_name_len(p, tlen);
        if (nlen > 0 && !(tlen > 0 && strchr("+-~?", p[0]))) {
            /* "a=..." could also be an invalid mechanism; the '=' decides. */
            if (parse_modifier(ev, p, tlen, (size_t)nlen, r, error_r) < 0)
                return -1;
            continue;
        }
        struct spf_term *t = &r->terms[r->nterms++];
        if (parse_mechanism(p, tlen, t, error_r) < 0)
            return -1;
        t->text = arena_strndup(ev->arena, p, tlen);
    }
    return 0;
}

struct spf_record *spf_parse(struct spf_eval *ev, const char *rec, const char **error_r)
{
    struct spf_record *r = arena_alloc(ev->arena, sizeof(*r));
    return parse_record(ev, rec, r, error_r) < 0 ? NULL : r;
}

int spf_record_check(struct arena *arena, const char *record, size_t len, const char **error_r)
{
    struct spf_request req = {0};
    struct spf_eval ev = {0};
    ev.arena = arena;
    ev.req = &req;
    ev.sender = "postmaster@example.org";
    if (len < 6 || !str_ieq_cstr(record, 6, "v=spf1") || memchr(record, '\0', len) != NULL)
        return *error_r = "not an SPF record", -1;
    return spf_parse(&ev, arena_strndup(arena, record, len), error_r) != NULL ? 0 : -1;
}

