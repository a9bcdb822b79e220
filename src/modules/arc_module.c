/*
 * arc: ARC chain validation (RFC 8617 §5.2) and the symbols ARC_ALLOW,
 * ARC_REJECT, ARC_INVALID, ARC_DNSFAIL and ARC_NA (spec §9.4).
 *
 * The chain is checked in the RFC's order: every ARC field parses and
 * carries an instance i=1..50; each instance has exactly one
 * ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal, with no
 * gaps; cv= is "none" for i=1 and "pass" above (the newest cv=fail ends the
 * chain as failed); then the newest ARC-Message-Signature verifies like a
 * DKIM signature (body hash, h= fields, b=) and every ARC-Seal verifies
 * over the sets up to its own (relaxed header canonicalization).  Older
 * AMS are not checked (they may have been broken by later hops on purpose).
 *
 * The crypto and canonicalization are the DKIM library's (dkim_private.h):
 * ARC signatures are DKIM signatures with other tags.  Keys are looked up
 * through authdns like DKIM's; a lookup that fails temporarily gives
 * ARC_DNSFAIL.
 *
 * Sealing (post_scan) is on when the arc section says where keys are
 * (path, selector, maps, domain {}): the dkim_signing options and selection
 * with ARC's stock defaults (spec §9.3: inbound mail, the recipient's
 * domain, selector "arc").  The new set (i = N+1, cv = none / pass / fail
 * from the validation) is ARC-Authentication-Results (our
 * Authentication-Results), an ARC-Message-Signature over the usual fields
 * and an ARC-Seal, all relaxed, added at the top through the milter
 * headers, with the symbol ARC_SIGNED.
 */
#include "modules/arc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/str.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "core/log.h"
#include "modules/authdns.h"
#include "modules/dkim/dkim_private.h"
#include "modules/dkim_signing.h"
#include "modules/module.h"

#define ARC_MAX_I 50

enum arc_kind { ARC_AAR = 0, ARC_AMS, ARC_AS, ARC_KINDS };

struct arc_field {
    const struct dkim_header *h;
    size_t val_off;              /* value start in h->raw */
    struct dkim_taglist tl;      /* AMS / AS only */
};

struct arc_key {
    const char *name;
    bool set;
    enum dkim_dns_status status;
    const char *txt;
    size_t len;
};

struct arc_verify {
    struct arena *a;
    const struct dkim_header *hdrs;
    size_t n;
    const char *body;
    size_t body_len;
    /* [ARC_MAX_I + 1][ARC_KINDS], allocated apart (see arc_verify_new) */
    struct arc_field (*f)[ARC_KINDS];
    bool have[ARC_MAX_I + 1][ARC_KINDS];
    unsigned nsets;
    enum arc_result result;      /* final when `decided` */
    bool decided;
    const char *reason;
    struct arc_key keys[ARC_MAX_I + 1];
};

static const char *const kind_names[ARC_KINDS] = {
    "ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"};

static void decide(struct arc_verify *v, enum arc_result r, const char *reason)
{
    if (!v->decided) {
        v->decided = true;
        v->result = r;
        v->reason = reason;
    }
}

static const struct dkim_tag *tag(const struct arc_field *f, const char *name)
{
    return dkim_tags_get(&f->tl, name);
}

static bool tag_is(const struct arc_field *f, const char *name, const char *want)
{
    const struct dkim_tag *t = tag(f, name);
    return t != NULL && str_ieq_cstr(t->value, t->value_len, want);
}

/* "1".."50" -> 1..50, else 0. */
static unsigned instance(const char *p, size_t len)
{
    uint64_t v;
    if (len == 0 || len > 2 || str_to_u64(p, len, &v) < 0 || v < 1 || v > ARC_MAX_I)
        return 0;
    return (unsigned)v;
}

/* Parses one ARC field of the given kind; its instance, or 0 when broken. */
static unsigned parse_field(struct arc_verify *v, const struct dkim_header *h, size_t colon,
                            enum arc_kind kind, struct arc_field *f)
{
    const char *err = NULL;
    const char *val = h->raw + colon + 1;
    size_t len = h->raw_len - colon - 1;
    while (len > 0 && (val[len - 1] == '\n' || val[len - 1] == '\r'))
        len--;
    f->h = h;
    f->val_off = colon + 1;
    if (kind == ARC_AAR) {
        /* "i=N; authserv-id; ..." : only the first element is a tag. */
        const char *semi = memchr(val, ';', len);
        len = semi != NULL ? (size_t)(semi - val) : len;
    }
    if (dkim_tags_parse(val, len, &f->tl, &err) < 0)
        return 0;
    const struct dkim_tag *i = tag(f, "i");
    (void)v;
    return i != NULL ? instance(i->value, i->value_len) : 0;
}

static int field_kind(const struct dkim_header *h, size_t *colon_r)
{
    size_t nl;
    if (dkim_header_name(h, &nl, colon_r) < 0)
        return -1;
    for (int k = 0; k < ARC_KINDS; k++)
        if (str_ieq_cstr(h->raw, nl, kind_names[k]))
            return k;
    return -1;
}

/* Collects the ARC sets; decides INVALID on any structural problem. */
static void collect(struct arc_verify *v)
{
    for (size_t k = 0; k < v->n && !v->decided; k++) {
        size_t colon;
        int kind = field_kind(&v->hdrs[k], &colon);
        if (kind < 0)
            continue;
        struct arc_field f;
        unsigned i = parse_field(v, &v->hdrs[k], colon, (enum arc_kind)kind, &f);
        if (i == 0)
            decide(v, ARC_RES_INVALID, arena_printf(v->a, "malformed %s", kind_names[kind]));
        else if (v->have[i][kind])
            decide(v, ARC_RES_INVALID, arena_printf(v->a, "duplicate %s i=%u", kind_names[kind], i));
        else {
            v->f[i][kind] = f;
            v->have[i][kind] = true;
            if (i > v->nsets)
                v->nsets = i;
        }
    }
    for (unsigned i = 1; i <= v->nsets && !v->decided; i++)
        for (int k = 0; k < ARC_KINDS; k++)
            if (!v->have[i][k])
                decide(v, ARC_RES_INVALID, arena_printf(v->a, "ARC set %u lacks %s", i,
                                                        kind_names[k]));
    if (v->nsets == 0)
        decide(v, ARC_RES_NONE, "no ARC header fields");
}

/* cv= rules (RFC 8617 §5.2 steps 2-3). */
static void check_cv(struct arc_verify *v)
{
    if (v->decided)
        return;
    if (tag_is(&v->f[v->nsets][ARC_AS], "cv", "fail"))
        decide(v, ARC_RES_FAIL, "newest ARC-Seal has cv=fail");
    for (unsigned i = 1; i <= v->nsets && !v->decided; i++) {
        const struct arc_field *as = &v->f[i][ARC_AS];
        if (!tag_is(as, "cv", i == 1 ? "none" : "pass"))
            decide(v, ARC_RES_FAIL, arena_printf(v->a, "ARC-Seal i=%u: cv= must be %s", i,
                                                 i == 1 ? "none" : "pass"));
        else if (tag(as, "h") != NULL)
            decide(v, ARC_RES_FAIL, arena_printf(v->a, "ARC-Seal i=%u has h=", i));
    }
}

static int parse_alg(const struct arc_field *f, enum dkim_alg *alg_r)
{
    if (tag_is(f, "a", "rsa-sha256"))
        *alg_r = DKIM_ALG_RSA_SHA256;
    else if (tag_is(f, "a", "ed25519-sha256"))
        *alg_r = DKIM_ALG_ED25519_SHA256;
    else
        return -1;
    return 0;
}

/* The key name of a signing field; NULL after deciding FAIL. */
static const char *key_name(struct arc_verify *v, const struct arc_field *f, const char *what)
{
    const struct dkim_tag *d = tag(f, "d"), *s = tag(f, "s"), *b = tag(f, "b");
    enum dkim_alg alg;
    if (d == NULL || s == NULL || b == NULL || d->value_len == 0 || s->value_len == 0 ||
        parse_alg(f, &alg) < 0 || !dkim_domain_valid(d->value, d->value_len)) {
        decide(v, ARC_RES_FAIL, arena_printf(v->a, "%s: missing or bad a=, b=, d= or s=", what));
        return NULL;
    }
    return arena_printf(v->a, "%.*s._domainkey.%.*s", (int)s->value_len, s->value,
                        (int)d->value_len, d->value);
}

struct arc_verify *arc_verify_new(struct arena *arena, const struct dkim_header *hdrs, size_t n,
                                  const char *body, size_t body_len)
{
    struct arc_verify *v = ARENA_NEW(arena, struct arc_verify);
    v->a = arena;
    v->hdrs = hdrs;
    v->n = n;
    v->body = body;
    v->body_len = body_len;
    /* The field table (51 sets x 3 kinds, each with a DKIM tag list) is
     * large: zeroing it for every message cost ~6% of a scanner's time, and
     * almost no message carries ARC fields.  Without any, nothing reads past
     * row 0 (collect() decides "none"), so one row is enough. */
    size_t narc = 0, colon;
    for (size_t k = 0; k < n; k++)
        narc += field_kind(&hdrs[k], &colon) >= 0;
    v->f = (struct arc_field (*)[ARC_KINDS])arena_calloc(arena, narc ? ARC_MAX_I + 1 : 1,
                                                         sizeof(*v->f));
    collect(v);
    check_cv(v);
    if (v->decided)
        return v;
    v->keys[0].name = key_name(v, &v->f[v->nsets][ARC_AMS], "ARC-Message-Signature");
    for (unsigned i = 1; i <= v->nsets && !v->decided; i++)
        v->keys[i].name = key_name(v, &v->f[i][ARC_AS], "ARC-Seal");
    return v;
}

size_t arc_verify_nkeys(const struct arc_verify *v)
{
    return v->decided ? 0 : v->nsets + 1;
}

const char *arc_verify_key_name(const struct arc_verify *v, size_t i)
{
    return v->decided || i > v->nsets ? NULL : v->keys[i].name;
}

void arc_verify_set_key(struct arc_verify *v, size_t i, enum dkim_dns_status status,
                        const char *txt, size_t len)
{
    if (i > v->nsets)
        return;
    v->keys[i] = (struct arc_key){v->keys[i].name, true, status, txt, len};
}

/* ---- signatures ---- */

static int decode_b64(struct arena *a, const struct dkim_tag *t, unsigned char **out_r,
                      size_t *len_r)
{
    if (t == NULL)
        return -1;
    *out_r = arena_alloc(a, t->value_len * 3 / 4 + 3);
    return dkim_base64_decode(t->value, t->value_len, *out_r, len_r);
}

/* Usable public key for field f, or -1 after deciding why not. */
static int field_key(struct arc_verify *v, size_t ki, const struct arc_field *f,
                     struct dkim_pubkey *pk, enum dkim_alg *alg)
{
    const struct arc_key *k = &v->keys[ki];
    const char *err = NULL;
    parse_alg(f, alg);
    if (!k->set || k->status == DKIM_DNS_TEMPFAIL) {
        decide(v, ARC_RES_TEMPERROR, arena_printf(v->a, "key %s: lookup failed", k->name));
        return -1;
    }
    if (k->status != DKIM_DNS_OK || dkim_key_parse(v->a, k->txt, k->len, pk, &err) < 0 ||
        pk->revoked || pk->rsa != (*alg != DKIM_ALG_ED25519_SHA256) ||
        (pk->rsa && pk->bits < 1024)) {
        decide(v, ARC_RES_FAIL, arena_printf(v->a, "key %s: missing or unusable", k->name));
        return -1;
    }
    return 0;
}

static bool digest_verifies(struct arc_verify *v, EVP_MD_CTX *md, const struct dkim_pubkey *pk,
                            enum dkim_alg alg, const struct arc_field *f)
{
    unsigned char d[EVP_MAX_MD_SIZE], *b;
    unsigned int dlen = 0;
    size_t blen;
    EVP_DigestFinal_ex(md, d, &dlen);
    if (decode_b64(v->a, tag(f, "b"), &b, &blen) < 0)
        return false;
    return dkim_pkey_verify(pk->pkey, alg, d, dlen, b, blen) == 0;
}

static void feed_without_b(EVP_MD_CTX *md, enum dkim_canon c, const struct arc_field *f)
{
    const struct dkim_tag *b = tag(f, "b");
    dkim_header_canon(md, c, f->h, false, f->val_off + b->eq_off, f->val_off + b->end_off);
}

/* "relaxed/simple" -> header and body canonicalization.  Without c= the
 * ValiMail suite (ams_fields_c_na) expects relaxed/relaxed, ARC's usual
 * choice, rather than DKIM's simple/simple. */
static int parse_canon(const struct arc_field *f, enum dkim_canon *hc, enum dkim_canon *bc)
{
    const struct dkim_tag *c = tag(f, "c");
    *hc = *bc = DKIM_CANON_RELAXED;
    if (c == NULL)
        return 0;
    *bc = DKIM_CANON_SIMPLE;
    const char *slash = memchr(c->value, '/', c->value_len);
    size_t hl = slash ? (size_t)(slash - c->value) : c->value_len;
    if (!str_ieq_cstr(c->value, hl, "simple") && !str_ieq_cstr(c->value, hl, "relaxed"))
        return -1;
    *hc = str_ieq_cstr(c->value, hl, "relaxed") ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
    if (slash == NULL)
        return 0;
    size_t bl = c->value_len - hl - 1;
    if (!str_ieq_cstr(slash + 1, bl, "simple") && !str_ieq_cstr(slash + 1, bl, "relaxed"))
        return -1;
    *bc = str_ieq_cstr(slash + 1, bl, "relaxed") ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
    return 0;
}

/* h= as lower-case names (empty entries dropped: they name no field, as
 * the suite's ams_fields_h_empty / h_mis_hdr expect); -1 without h= or when
 * it lists ARC-Seal (RFC 8617 §4.1.2). */
static int parse_h(struct arena *a, const struct arc_field *f, const char ***names_r,
                   size_t *n_r)
{
    const struct dkim_tag *h = tag(f, "h");
    if (h == NULL)
        return -1;
    const char **names = ARENA_NEW_N(a, const char *, h->value_len + 1);
    size_t n = 0;
    *names_r = names;
    *n_r = 0;
    for (size_t i = 0; i < h->value_len;) {
        size_t j = i;
        while (j < h->value_len && h->value[j] != ':')
            j++;
        const char *p = h->value + i;
        size_t len = j - i;
        str_trim(&p, &len);
        i = j + 1;
        if (len == 0)
            continue;
        if (str_ieq_cstr(p, len, "arc-seal"))
            return -1;
        char *s = arena_strndup(a, p, len);
        str_lower(s, len);
        names[n++] = s;
    }
    *n_r = n;
    return 0;
}

static bool body_hash_ok(struct arc_verify *v, const struct arc_field *f, enum dkim_alg alg,
                         enum dkim_canon bc)
{
    const struct dkim_tag *l = tag(f, "l");
    uint64_t lv = 0;
    if (l != NULL && str_to_u64(l->value, l->value_len, &lv) < 0)
        return false;
    struct dkim_body *b = dkim_body_new(v->a, bc, alg, l != NULL, lv);
    unsigned char got[64], *want;
    size_t glen = 0, wlen;
    dkim_body_update(b, v->body, v->body_len);
    dkim_body_final(b, got, &glen);
    return decode_b64(v->a, tag(f, "bh"), &want, &wlen) == 0 && wlen == glen &&
           memcmp(got, want, glen) == 0;
}

static void verify_ams(struct arc_verify *v)
{
    const struct arc_field *f = &v->f[v->nsets][ARC_AMS];
    struct dkim_pubkey pk;
    enum dkim_alg alg;
    enum dkim_canon hc, bc;
    const char **names = NULL;
    size_t nh = 0;
    if (parse_h(v->a, f, &names, &nh) < 0 || parse_canon(f, &hc, &bc) < 0) {
        decide(v, ARC_RES_FAIL, "ARC-Message-Signature: bad h= or c=");
        return;
    }
    if (field_key(v, 0, f, &pk, &alg) < 0)
        return;
    if (!body_hash_ok(v, f, alg, bc)) {
        decide(v, ARC_RES_FAIL, "ARC-Message-Signature: body hash mismatch");
        return;
    }
    EVP_MD_CTX *md = dkim_md_new(v->a, alg);
    bool *used = ARENA_NEW_N(v->a, bool, v->n + 1);
    dkim_headers_hash(md, hc, v->hdrs, v->n, names, nh, used);
    feed_without_b(md, hc, f);
    if (!digest_verifies(v, md, &pk, alg, f))
        decide(v, ARC_RES_FAIL, "ARC-Message-Signature: signature mismatch");
}

static void verify_seal(struct arc_verify *v, unsigned i)
{
    const struct arc_field *f = &v->f[i][ARC_AS];
    struct dkim_pubkey pk;
    enum dkim_alg alg;
    if (field_key(v, i, f, &pk, &alg) < 0)
        return;
    EVP_MD_CTX *md = dkim_md_new(v->a, alg);
    for (unsigned k = 1; k <= i; k++) {
        dkim_header_canon(md, DKIM_CANON_RELAXED, v->f[k][ARC_AAR].h, true, 0, 0);
        dkim_header_canon(md, DKIM_CANON_RELAXED, v->f[k][ARC_AMS].h, true, 0, 0);
        if (k < i)
            dkim_header_canon(md, DKIM_CANON_RELAXED, v->f[k][ARC_AS].h, true, 0, 0);
    }
    feed_without_b(md, DKIM_CANON_RELAXED, f);
    if (!digest_verifies(v, md, &pk, alg, f))
        decide(v, ARC_RES_FAIL, arena_printf(v->a, "ARC-Seal i=%u: signature mismatch", i));
}

enum arc_result arc_verify_finish(struct arc_verify *v, const char **reason_r)
{
    if (!v->decided)
        verify_ams(v);
    for (unsigned i = v->nsets; i >= 1 && !v->decided; i--)
        verify_seal(v, i);
    decide(v, ARC_RES_PASS, "chain verified");
    *reason_r = v->reason;
    return v->result;
}

unsigned arc_verify_instances(const struct arc_verify *v)
{
    return v->nsets;
}

const char *arc_verify_domain(const struct arc_verify *v)
{
    const struct dkim_tag *d = v->nsets ? tag(&v->f[v->nsets][ARC_AS], "d") : NULL;
    return d != NULL ? arena_strndup(v->a, d->value, d->value_len) : NULL;
}

/* ---- sealing (RFC 8617 §5.1) ---- */

/* Header fields an AMS covers when present (no oversigning: ARC is about
 * the hop, not about protecting the fields). */
static const char *const ams_fields[] = {
    "from", "to", "cc", "subject", "date", "message-id", "reply-to", "in-reply-to",
    "references", "mime-version", "content-type", "content-transfer-encoding", "list-id", NULL,
};

static const char *ams_h_list(struct arena *a, const struct dkim_header *hdrs, size_t n)
{
    char *out = arena_strdup(a, "");
    for (size_t f = 0; ams_fields[f] != NULL; f++) {
        for (size_t i = 0; i < n; i++) {
            size_t nl, colon;
            if (dkim_header_name(&hdrs[i], &nl, &colon) == 0 &&
                str_ieq_cstr(hdrs[i].raw, nl, ams_fields[f])) {
                out = arena_printf(a, "%s%s%s", out, *out ? ":" : "", ams_fields[f]);
                break;
            }
        }
    }
    return out;
}

/* b= over md's digest, base64 in the arena; NULL on a key error. */
static const char *seal_b(struct arena *a, const struct dkim_privkey *key, EVP_MD_CTX *md)
{
    unsigned char d[EVP_MAX_MD_SIZE], *raw;
    unsigned int dlen = 0;
    size_t rlen;
    const char *err = NULL;
    EVP_DigestFinal_ex(md, d, &dlen);
    if (dkim_pkey_sign(a, key, d, dlen, &raw, &rlen, &err) < 0)
        return NULL;
    return dkim_base64_encode(a, raw, rlen);
}

struct arc_seal {
    unsigned i;
    const char *cv, *domain, *selector, *aar, *ams, *as;  /* values, without names */
};

/* The new set's ARC-Message-Signature value. */
static const char *seal_ams(struct arc_verify *v, const struct dkim_privkey *key,
                            struct arc_seal *s, int64_t now)
{
    enum dkim_alg alg = dkim_privkey_alg(key);
    const char *h = ams_h_list(v->a, v->hdrs, v->n);
    if (strstr(h, "from") == NULL)
        return NULL;
    const char *text = arena_printf(v->a, "i=%u; a=%s; c=relaxed/relaxed; d=%s; s=%s; t=%lld; "
                                          "h=%s; bh=%s; b=", s->i, dkim_alg_name(alg), s->domain,
                                    s->selector, (long long)now, h,
                                    dkim_body_hash(v->a, DKIM_CANON_RELAXED, alg, -1, v->body,
                                                   v->body_len));
    const char *field = arena_printf(v->a, "ARC-Message-Signature: %s", text);
    struct dkim_header self = {field, strlen(field), 0};
    const char **names = NULL;
    size_t nh = 0;
    struct arc_field tmp = {.h = &self};
    const char *err = NULL;
    if (dkim_tags_parse(text, strlen(text), &tmp.tl, &err) < 0 ||
        parse_h(v->a, &tmp, &names, &nh) < 0)
        return NULL;
    EVP_MD_CTX *md = dkim_md_new(v->a, alg);
    bool *used = ARENA_NEW_N(v->a, bool, v->n + 1);
    dkim_headers_hash(md, DKIM_CANON_RELAXED, v->hdrs, v->n, names, nh, used);
    dkim_header_canon(md, DKIM_CANON_RELAXED, &self, false, 0, 0);
    const char *b = seal_b(v->a, key, md);
    return b != NULL ? arena_printf(v->a, "%s%s", text, b) : NULL;
}

/* The new ARC-Seal value over the existing sets, then the new AAR and AMS. */
static const char *seal_as(struct arc_verify *v, const struct dkim_privkey *key,
                           const struct arc_seal *s, int64_t now)
{
    enum dkim_alg alg = dkim_privkey_alg(key);
    EVP_MD_CTX *md = dkim_md_new(v->a, alg);
    for (unsigned k = 1; k < s->i; k++)
        for (int kind = 0; kind < ARC_KINDS; kind++)
            dkim_header_canon(md, DKIM_CANON_RELAXED, v->f[k][kind].h, true, 0, 0);
    const char *aar = arena_printf(v->a, "ARC-Authentication-Results: %s\r\n", s->aar);
    const char *ams = arena_printf(v->a, "ARC-Message-Signature: %s\r\n", s->ams);
    struct dkim_header h1 = {aar, strlen(aar), 0}, h2 = {ams, strlen(ams), 0};
    dkim_header_canon(md, DKIM_CANON_RELAXED, &h1, true, 0, 0);
    dkim_header_canon(md, DKIM_CANON_RELAXED, &h2, true, 0, 0);
    const char *text = arena_printf(v->a, "i=%u; a=%s; t=%lld; cv=%s; d=%s; s=%s; b=", s->i,
                                    dkim_alg_name(alg), (long long)now, s->cv, s->domain,
                                    s->selector);
    const char *field = arena_printf(v->a, "ARC-Seal: %s", text);
    struct dkim_header self = {field, strlen(field), 0};
    dkim_header_canon(md, DKIM_CANON_RELAXED, &self, false, 0, 0);
    const char *b = seal_b(v->a, key, md);
    return b != NULL ? arena_printf(v->a, "%s%s", text, b) : NULL;
}

/* The cv= of the set to add, or NULL when no set may be added (a failed
 * chain already sealed as failed, too many sets, an unknown outcome). */
static const char *seal_cv(const struct arc_verify *v, enum arc_result r)
{
    if (v->nsets >= ARC_MAX_I)
        return NULL;
    if (v->nsets > 0 && v->have[v->nsets][ARC_AS] && tag_is(&v->f[v->nsets][ARC_AS], "cv", "fail"))
        return NULL;
    switch (r) {
    case ARC_RES_NONE: return "none";
    case ARC_RES_PASS: return "pass";
    /* FAIL is only decided on a complete structure (collect() runs first);
     * an INVALID one may lack fields the seal would have to cover. */
    case ARC_RES_FAIL: return v->nsets > 0 ? "fail" : NULL;
    case ARC_RES_INVALID:
    case ARC_RES_TEMPERROR: break;
    }
    return NULL;
}

int arc_seal_message(struct arc_verify *v, enum arc_result chain, const struct dkim_privkey *key,
                     const char *domain, const char *selector, const char *auth_results,
                     int64_t now, const char **aar_r, const char **ams_r, const char **as_r)
{
    struct arc_seal s = {.domain = domain, .selector = selector};
    s.cv = seal_cv(v, chain);
    if (s.cv == NULL)
        return -1;
    s.i = v->nsets + 1;
    s.aar = arena_printf(v->a, "i=%u; %s", s.i, auth_results);
    if ((s.ams = seal_ams(v, key, &s, now)) == NULL || (s.as = seal_as(v, key, &s, now)) == NULL)
        return -1;
    *aar_r = s.aar;
    *ams_r = s.ams;
    *as_r = s.as;
    return 0;
}

/* ---- the module ---- */

struct arc_ctx {
    struct auth_outbound outbound;
    struct sign_ctx *seal;       /* NULL: sealing not configured */
    const char *authserv_id;     /* this host's name, for the AAR */
};

struct arc_run {
    struct arc_verify *v;
    struct authdns *dns;
    bool reported;
    enum arc_result result;
};

static const char arc_run_key[] = "arc";

static const struct symbol_def arc_symbols[] = {
    {"ARC_ALLOW", -1.0, "arc", "ARC checks success", 0},
    {"ARC_REJECT", 1.0, "arc", "ARC checks failed", 0},
    {"ARC_INVALID", 0.5, "arc", "ARC structure invalid", 0},
    {"ARC_DNSFAIL", 0.0, "arc", "DNS error when checking ARC signatures", 0},
    {"ARC_NA", 0.0, "arc", "ARC signature absent", 0},
    {"ARC_SIGNED", 0.0, "arc", "Message has been ARC-sealed (option: domain)", 0},
};

/* Sealing is on when the arc section names where keys are. */
static bool seal_configured(const struct conf_obj *sec)
{
    static const char *const keys[] = {"path", "selector", "selector_map", "key_map", "path_map",
                                       "signing_table", "domain", NULL};
    for (size_t i = 0; sec != NULL && keys[i] != NULL; i++)
        if (conf_get(sec, keys[i]) != NULL)
            return true;
    return false;
}

static int arc_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                         const char **error_r)
{
    struct arc_ctx *ctx = ARENA_NEW(env->arena, struct arc_ctx);
    symtab_add_many(env->symtab, arc_symbols, sizeof(arc_symbols) / sizeof(arc_symbols[0]));
    if (auth_outbound_configure(section, env->config, &ctx->outbound, error_r) < 0)
        return -1;
    char host[256] = "localhost";
    if (gethostname(host, sizeof(host) - 1) < 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = '\0';
    ctx->authserv_id = arena_strdup(env->arena, host);
    if (seal_configured(section)) {
        ctx->seal = ARENA_NEW(env->arena, struct sign_ctx);
        if (sign_conf_parse(section, env->arena, env->config, true, ctx->seal, error_r) < 0)
            return -1;
    }
    *ctx_r = ctx;
    return 0;
}

static enum arc_result arc_report(struct task *t, struct arc_verify *v)
{
    const char *reason = NULL;
    enum arc_result r = arc_verify_finish(v, &reason);
    const char *d = arc_verify_domain(v);
    switch (r) {
    case ARC_RES_NONE: task_insert(t, "ARC_NA", 1.0, NULL); break;
    case ARC_RES_PASS:
        task_insertf(t, "ARC_ALLOW", 1.0, "%s:i=%u", d ? d : "?", arc_verify_instances(v));
        break;
    case ARC_RES_FAIL: task_insert(t, "ARC_REJECT", 1.0, reason); break;
    case ARC_RES_INVALID: task_insert(t, "ARC_INVALID", 1.0, reason); break;
    case ARC_RES_TEMPERROR: task_insert(t, "ARC_DNSFAIL", 1.0, reason); break;
    }
    return r;
}

static void arc_rerun(struct task *t, void *data)
{
    struct arc_run *run = data;
    bool waiting = false;
    for (size_t i = 0; i < arc_verify_nkeys(run->v); i++) {
        const char *name = arc_verify_key_name(run->v, i);
        const struct dns_reply *rep = name ? authdns_lookup(run->dns, name, DNS_T_TXT) : NULL;
        if (name == NULL)
            continue;
        if (rep == NULL) {
            waiting = true;
            continue;
        }
        enum dkim_dns_status st = rep->status == DNS_OK && rep->n > 0 ? DKIM_DNS_OK
                                  : rep->status == DNS_OK || rep->status == DNS_NXDOMAIN
                                      ? DKIM_DNS_NXDOMAIN : DKIM_DNS_TEMPFAIL;
        arc_verify_set_key(run->v, i, st, st == DKIM_DNS_OK ? rep->rrs[0].v.txt.s : NULL,
                           st == DKIM_DNS_OK ? rep->rrs[0].v.txt.len : 0);
    }
    if (!waiting && !run->reported) {
        run->reported = true;
        run->result = arc_report(t, run->v);
    }
}

static int arc_scan(struct task *t, void *data)
{
    struct arc_ctx *ctx = data;
    if (t->msg == NULL || auth_outbound_skip(t, &ctx->outbound))
        return 0;
    const struct message *m = t->msg;
    size_t n;
    struct dkim_header *h = auth_dkim_headers(t, &n);
    struct arc_run *run = ARENA_NEW(t->arena, struct arc_run);
    run->v = arc_verify_new(t->arena, h, n, m->body ? m->body : "", m->body_len);
    auth_task_data_set(t, arc_run_key, run);
    run->dns = authdns_new(t, arc_rerun, run);
    authdns_run(run->dns);
    return 0;
}

/* After the scan: seal the message as this hop (first selected key only).
 * Without a verification (outbound mail) only a message without ARC fields
 * is sealed, as i=1. */
static void arc_post_scan(struct task *t, void *data)
{
    struct arc_ctx *ctx = data;
    struct sign_target tg[SIGN_MAX_TARGETS];
    if (ctx->seal == NULL || t->msg == NULL || sign_select(t, ctx->seal, tg) == 0)
        return;
    struct arc_run *run = auth_task_data_get(t, arc_run_key);
    struct arc_verify *v = run != NULL ? run->v : NULL;
    enum arc_result chain = run != NULL && run->reported ? run->result : ARC_RES_TEMPERROR;
    if (run == NULL) {
        size_t n;
        const struct dkim_header *h = auth_dkim_headers(t, &n);
        v = arc_verify_new(t->arena, h, n, t->msg->body ? t->msg->body : "", t->msg->body_len);
        chain = v->decided && v->result == ARC_RES_NONE ? ARC_RES_NONE : ARC_RES_TEMPERROR;
    }
    const struct dkim_privkey *key = sign_key_get(tg[0].path, arena_printf(t->arena,
                                                  "%s (selector %s)", tg[0].domain,
                                                  tg[0].selector));
    const char *aar, *ams, *as;
    if (key == NULL || arc_seal_message(v, chain, key, tg[0].domain, tg[0].selector,
                                        auth_results_header(t, ctx->authserv_id),
                                        (int64_t)time(NULL), &aar, &ams, &as) < 0)
        return;
    task_add_milter_header(t, "ARC-Authentication-Results", aar, 1);
    task_add_milter_header(t, "ARC-Message-Signature", ams, 1);
    task_add_milter_header(t, "ARC-Seal", as, 1);
    task_insert(t, ctx->seal->symbol, 1.0, tg[0].domain);
    log_task_info(t, "arc: seal i=%u cv=%s for %s with selector %s", v->nsets + 1,
                  seal_cv(v, chain), tg[0].domain, tg[0].selector);
}

static void arc_worker_deinit(void *data)
{
    (void)data;
    sign_keys_free();
}

const struct module module_arc = {
    .name = "arc",
    .abi = MODULE_ABI,
    .configure = arc_configure,
    .scan = arc_scan,
    .post_scan = arc_post_scan,
    .worker_deinit = arc_worker_deinit,
};
