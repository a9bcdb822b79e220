/*
 * DKIM tag lists (RFC 6376 §3.2) and DKIM-Signature validation (§3.5,
 * §6.1.1).
 *
 * Input is peer bytes (p, len): a header value or a DNS TXT record.  The tag
 * parser keeps a cursor and never reads past len; it refuses bad tag names,
 * a spec without '=', control characters in values, duplicate tags (§3.2:
 * "MUST be treated as an error") and more than DKIM_MAX_TAGS tags.  Unknown
 * tags are kept in the list and ignored by the callers.  Leniencies, for
 * mail seen in the wild: FWS is any run of SP, HTAB, CR and LF; empty specs
 * (";;") are skipped; 8-bit bytes are allowed in values (EAI i=).
 *
 * dkim_sig_parse() turns a tag list into a struct dkim_sig and refuses what
 * §6.1.1 calls PERMFAIL: missing required tags, v= other than 1, unknown a=,
 * h= without "from", i= outside d=, x= before t=, undecodable base64, a d=
 * or s= that is not a domain name (so nothing is ever looked up for it).
 * Owns nothing: strings and decoded bytes go to the caller's arena.
 */
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "modules/dkim/dkim_private.h"

static bool is_fws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* VALCHAR (%x21-3A / %x3C-7E), FWS, and 8-bit bytes (EAI i= values). */
static bool is_valbyte(unsigned char c)
{
    return (c >= 0x21 && c != ';' && c != 0x7f) || is_fws(c);
}

static size_t skip_fws(const char *p, size_t len, size_t pos)
{
    while (pos < len && is_fws((unsigned char)p[pos]))
        pos++;
    return pos;
}

static bool tag_seen(const struct dkim_taglist *tl, const char *name, size_t name_len)
{
    for (size_t i = 0; i < tl->n; i++) {
        if (tl->tags[i].name_len == name_len && memcmp(tl->tags[i].name, name, name_len) == 0)
            return true;
    }
    return false;
}

/* Parses one tag-spec starting at *pos (FWS already skipped). */
static int parse_spec(const char *p, size_t len, size_t *pos, struct dkim_tag *t,
                      const char **error_r)
{
    size_t i = *pos;
    if (!is_alpha((unsigned char)p[i])) {
        *error_r = "bad tag name";
        return -1;
    }
    t->name = p + i;
    while (i < len && (is_alpha((unsigned char)p[i]) || is_digit((unsigned char)p[i]) || p[i] == '_'))
        i++;
    t->name_len = (size_t)(p + i - t->name);
    i = skip_fws(p, len, i);
    if (i >= len || p[i] != '=') {
        *error_r = "tag without '='";
        return -1;
    }
    t->eq_off = ++i;
    i = skip_fws(p, len, i);
    size_t vstart = i;
    while (i < len && p[i] != ';') {
        if (!is_valbyte((unsigned char)p[i])) {
            *error_r = "bad character in tag value";
            return -1;
        }
        i++;
    }
    t->end_off = i;
    size_t vend = i;
    while (vend > vstart && is_fws((unsigned char)p[vend - 1]))
        vend--;
    t->value = p + vstart;
    t->value_len = vend - vstart;
    *pos = i;
    return 0;
}

int dkim_tags_parse(const char *p, size_t len, struct dkim_taglist *tl, const char **error_r)
{
    size_t pos = 0;
    tl->n = 0;
    if (len > DKIM_MAX_FIELD) {
        *error_r = "tag list too long";
        return -1;
    }
    for (;;) {
        pos = skip_fws(p, len, pos);
        if (pos >= len)
            return 0;               /* empty list, or a trailing ';' */
        if (p[pos] == ';') {        /* empty spec: not in the grammar, seen in the wild */
            pos++;
            continue;
        }
        if (tl->n == DKIM_MAX_TAGS) {
            *error_r = "too many tags";
            return -1;
        }
        struct dkim_tag *t = &tl->tags[tl->n];
        if (parse_spec(p, len, &pos, t, error_r) < 0)
            return -1;
        if (tag_seen(tl, t->name, t->name_len)) {
            *error_r = "duplicate tag";
            return -1;
        }
        tl->n++;
        if (pos >= len)
            return 0;
        pos++;                      /* the ';' */
    }
}

const struct dkim_tag *dkim_tags_get(const struct dkim_taglist *tl, const char *name)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < tl->n; i++) {
        if (tl->tags[i].name_len == nlen && memcmp(tl->tags[i].name, name, nlen) == 0)
            return &tl->tags[i];
    }
    return NULL;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (is_digit(c))
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int dkim_base64_decode(const char *p, size_t len, unsigned char *out, size_t *out_len_r)
{
    uint32_t acc = 0;
    size_t bits = 0, o = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_fws(c))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad > 0)
            return -1;              /* junk, or data after padding */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* 6 leftover bits cannot encode a byte; more than two '=' is not base64 */
    if (bits >= 6 || pad > 2)
        return -1;
    *out_len_r = o;
    return 0;
}

char *dkim_base64_encode(struct arena *arena, const unsigned char *p, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = arena_alloc(arena, (len + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* A DNS name as DKIM uses it for d= and s=: dot-separated labels of letters,
 * digits, '-' and '_' (or 8-bit, for U-labels), 1..63 bytes each. */
bool dkim_domain_valid(const char *p, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c >= 0x80))
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0;
}

static const char *lower_dup(struct arena *arena, const char *p, size_t len)
{
    char *s = arena_strndup(arena, p, len);
    str_lower(s, len);
    return s;
}

static int decode_b64_tag(struct arena *arena, const struct dkim_tag *t, unsigned char **out_r,
                          size_t *len_r)
{
    unsigned char *out = arena_alloc(arena, t->value_len * 3 / 4 + 3);
    if (dkim_base64_decode(t->value, t->value_len, out, len_r) < 0)
        return -1;
    *out_r = out;
    return 0;
}

static int parse_alg(const struct dkim_tag *t, enum dkim_alg *alg_r)
{
    if (str_ieq_cstr(t->value, t->value_len, "rsa-sha256"))
        *alg_r = DKIM_ALG_RSA_SHA256;
    else if (str_ieq_cstr(t->value, t->value_len, "rsa-sha1"))
        *alg_r = DKIM_ALG_RSA_SHA1;
    else if (str_ieq_cstr(t->value, t->value_len, "ed25519-sha256"))
        *alg_r = DKIM_ALG_ED25519_SHA256;
    else
        return -1;
    return 0;
}

static int parse_one_canon(const char *p, size_t len, enum dkim_canon *c_r)
{
    if (str_ieq_cstr(p, len, "simple"))
        *c_r = DKIM_CANON_SIMPLE;
    else if (str_ieq_cstr(p, len, "relaxed"))
        *c_r = DKIM_CANON_RELAXED;
    else
        return -1;
    return 0;
}

static int parse_canon(const struct dkim_tag *t, struct dkim_sig *sig)
{
    sig->hcanon = sig->bcanon = DKIM_CANON_SIMPLE;
    if (t == NULL)
        return 0;
    const char *slash = memchr(t->value, '/', t->value_len);
    if (slash == NULL)
        return parse_one_canon(t->value, t->value_len, &sig->hcanon);
    size_t hlen = (size_t)(slash - t->value);
    if (parse_one_canon(t->value, hlen, &sig->hcanon) < 0)
        return -1;
    return parse_one_canon(slash + 1, t->value_len - hlen - 1, &sig->bcanon);
}

static bool hname_valid(const char *p, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 33 || c > 126 || c == ':')
            return false;
    }
    return true;
}

/* Splits h= on ':' with FWS trimmed around each name (Gmail folds before ':'). */
static int parse_hlist(struct arena *arena, const struct dkim_tag *t, size_t max_h,
                       struct dkim_sig *sig, const char **error_r)
{
    size_t count = 1;
    for (size_t i = 0; i < t->value_len; i++)
        count += t->value[i] == ':';
    if (count > max_h) {
        *error_r = "too many h= entries";
        return -1;
    }
    sig->hnames = ARENA_NEW_N(arena, const char *, count);
    sig->nh = 0;
    bool from = false;
    size_t start = 0;
    for (size_t i = 0; i <= t->value_len; i++) {
        if (i < t->value_len && t->value[i] != ':')
            continue;
        const char *n = t->value + start;
        size_t nlen = i - start;
        while (nlen > 0 && is_fws((unsigned char)n[nlen - 1]))
            nlen--;
        while (nlen > 0 && is_fws((unsigned char)*n)) {
            n++;
            nlen--;
        }
        if (!hname_valid(n, nlen)) {
            *error_r = "bad header name in h=";
            return -1;
        }
        from |= str_ieq_cstr(n, nlen, "from");
        sig->hnames[sig->nh++] = lower_dup(arena, n, nlen);
        start = i + 1;
    }
    if (!from) {
        *error_r = "h= does not include From";
        return -1;
    }
    return 0;
}

/* i= is [local-part] "@" domain, and that domain is d= or below it. */
static int check_auid(struct arena *arena, const struct dkim_tag *t, struct dkim_sig *sig,
                      const char **error_r)
{
    const char *at = NULL;
    for (size_t i = t->value_len; i > 0; i--) {
        if (t->value[i - 1] == '@') {
            at = t->value + i - 1;
            break;
        }
    }
    if (at == NULL) {
        *error_r = "i= has no '@'";
        return -1;
    }
    const char *dom = at + 1;
    size_t dlen = t->value_len - (size_t)(dom - t->value);
    size_t dl = strlen(sig->domain);
    bool ok = str_ieq(dom, dlen, sig->domain, dl) ||
              (dlen > dl && dom[dlen - dl - 1] == '.' &&
               str_ieq(dom + dlen - dl, dl, sig->domain, dl));
    if (!ok) {
        *error_r = "i= domain is not d= or a subdomain of it";
        return -1;
    }
    sig->auid = arena_strndup(arena, t->value, t->value_len);
    return 0;
}

static int parse_u64_tag(const struct dkim_tag *t, bool *has_r, uint64_t *v_r)
{
    if (t == NULL)
        return 0;
    if (str_to_u64(t->value, t->value_len, v_r) < 0)
        return -1;
    *has_r = true;
    return 0;
}

static bool q_has_dns_txt(const struct dkim_tag *t)
{
    size_t start = 0;
    for (size_t i = 0; i <= t->value_len; i++) {
        if (i < t->value_len && t->value[i] != ':')
            continue;
        const char *m = t->value + start;
        size_t mlen = i - start;
        str_trim(&m, &mlen);
        if (str_ieq_cstr(m, mlen, "dns/txt"))
            return true;
        start = i + 1;
    }
    return false;
}

static int sig_identity(struct arena *arena, const struct dkim_taglist *tl, struct dkim_sig *sig,
                        const char **error_r)
{
    const struct dkim_tag *d = dkim_tags_get(tl, "d"), *s = dkim_tags_get(tl, "s");
    if (d == NULL || s == NULL) {
        *error_r = d == NULL ? "missing d= tag" : "missing s= tag";
        return -1;
    }
    if (!dkim_domain_valid(d->value, d->value_len)) {
        *error_r = "d= is not a domain name";
        return -1;
    }
    sig->domain = lower_dup(arena, d->value, d->value_len);
    if (!dkim_domain_valid(s->value, s->value_len)) {
        *error_r = "s= is not a valid selector";
        return -1;
    }
    sig->selector = arena_strndup(arena, s->value, s->value_len);
    return 0;
}

static int sig_crypto_tags(struct arena *arena, const struct dkim_taglist *tl,
                           struct dkim_sig *sig, const char **error_r)
{
    const struct dkim_tag *v = dkim_tags_get(tl, "v"), *a = dkim_tags_get(tl, "a");
    const struct dkim_tag *b = dkim_tags_get(tl, "b"), *bh = dkim_tags_get(tl, "bh");
    if (v == NULL || a == NULL || b == NULL || bh == NULL) {
        *error_r = v == NULL ? "missing v= tag" : a == NULL ? "missing a= tag"
                 : b == NULL ? "missing b= tag" : "missing bh= tag";
        return -1;
    }
    if (!(v->value_len == 1 && v->value[0] == '1')) {
        *error_r = "v= is not 1";
        return -1;
    }
    if (parse_alg(a, &sig->alg) < 0) {
        *error_r = "unknown a= algorithm";
        return -1;
    }
    unsigned char *bhv;
    if (decode_b64_tag(arena, b, &sig->b, &sig->b_len) < 0 || (sig->b_len == 0 && !sig->signing)) {
        *error_r = "bad b= value";
        return -1;
    }
    size_t want = sig->alg == DKIM_ALG_RSA_SHA1 ? 20 : 32;
    if (decode_b64_tag(arena, bh, &bhv, &sig->bh_len) < 0 || sig->bh_len != want) {
        *error_r = "bad bh= value";
        return -1;
    }
    memcpy(sig->bh, bhv, sig->bh_len);
    return 0;
}

static int sig_optional_tags(struct arena *arena, const struct dkim_taglist *tl,
                             struct dkim_sig *sig, const char **error_r)
{
    const struct dkim_tag *i = dkim_tags_get(tl, "i"), *q = dkim_tags_get(tl, "q");
    if (parse_canon(dkim_tags_get(tl, "c"), sig) < 0) {
        *error_r = "bad c= value";
        return -1;
    }
    if (i != NULL) {
        if (check_auid(arena, i, sig, error_r) < 0)
            return -1;
    } else {
        sig->auid = arena_printf(arena, "@%s", sig->domain);
    }
    if (parse_u64_tag(dkim_tags_get(tl, "l"), &sig->has_l, &sig->l) < 0 ||
        parse_u64_tag(dkim_tags_get(tl, "t"), &sig->has_t, &sig->t) < 0 ||
        parse_u64_tag(dkim_tags_get(tl, "x"), &sig->has_x, &sig->x) < 0) {
        *error_r = "bad number in l=, t= or x=";
        return -1;
    }
    if (sig->has_t && sig->has_x && sig->x < sig->t) {
        *error_r = "x= is before t=";
        return -1;
    }
    if (q != NULL && !q_has_dns_txt(q)) {
        *error_r = "q= does not include dns/txt";
        return -1;
    }
    return 0;
}

int dkim_sig_parse(struct arena *arena, const char *p, size_t len, size_t max_h,
                   struct dkim_sig *sig, size_t *b_eq_r, size_t *b_end_r, const char **error_r)
{
    struct dkim_taglist tl;
    if (dkim_tags_parse(p, len, &tl, error_r) < 0)
        return -1;
    if (sig_identity(arena, &tl, sig, error_r) < 0 || sig_crypto_tags(arena, &tl, sig, error_r) < 0)
        return -1;
    const struct dkim_tag *h = dkim_tags_get(&tl, "h");
    if (h == NULL) {
        *error_r = "missing h= tag";
        return -1;
    }
    if (parse_hlist(arena, h, max_h, sig, error_r) < 0 ||
        sig_optional_tags(arena, &tl, sig, error_r) < 0)
        return -1;
    const struct dkim_tag *b = dkim_tags_get(&tl, "b");
    *b_eq_r = b->eq_off;
    *b_end_r = b->end_off;
    return 0;
}
