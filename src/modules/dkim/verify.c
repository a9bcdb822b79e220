/*
 * DKIM verification (RFC 6376 §6, RFC 8463).
 *
 * A struct dkim_verify walks one message through explicit steps (headers,
 * body chunks, one key per signature, finish) so that the daemon can park it
 * while the resolver works; dkim_verify_message() is the synchronous path.
 * Each signature ends in exactly one status: pass, fail (body hash or
 * signature mismatch), permerror (syntax, policy, no/bad/revoked/short key),
 * temperror (DNS failure or no key ever supplied).  A signature that failed
 * to parse is final at once and needs no lookup.
 *
 * Limits: at most max_sigs signatures are evaluated (later ones are only
 * counted, see dkim_verify_skipped()), at most max_headers fields are accepted, RSA keys outside
 * min..max bits are permerror.  The header fields are copied into the arena,
 * so the caller's buffers need not outlive dkim_verify_headers().
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/arena.h"
#include "core/str.h"
#include "modules/dkim/dkim_private.h"

struct vsig {
    struct dkim_sig sig;
    struct dkim_result res;
    bool final;                 /* result decided before finish */
    bool key_set;
    struct dkim_pubkey key;
    const char *key_name;
    struct dkim_body *body;
    unsigned char bh[EVP_MAX_MD_SIZE];
    size_t bh_len;
    size_t b_off, b_end;        /* b= value inside the raw field */
};

struct dkim_verify {
    struct arena *arena;
    struct dkim_verify_opts opts;
    struct dkim_header *hdrs;
    size_t nhdrs;
    struct vsig *sigs;
    size_t nsigs;
    size_t skipped;             /* signatures over max_sigs */
    bool body_done;
};

const char *dkim_status_name(enum dkim_status s)
{
    static const char *const names[] = {"none", "pass", "fail", "permerror", "temperror"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *dkim_alg_name(enum dkim_alg a)
{
    return a == DKIM_ALG_RSA_SHA1 ? "rsa-sha1" : a == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256"
                                                                             : "rsa-sha256";
}

static void limits_default(struct dkim_limits *l)
{
    if (l->max_sigs == 0)
        l->max_sigs = 5;
    if (l->max_headers == 0)
        l->max_headers = 1000;
    if (l->max_h_entries == 0)
        l->max_h_entries = 1000;   /* Rspamd accepts 900, refuses 1501 */
    if (l->min_rsa_bits == 0)
        l->min_rsa_bits = 1024;
    if (l->max_rsa_bits == 0)
        l->max_rsa_bits = 8192;
}

struct dkim_verify *dkim_verify_new(struct arena *arena, const struct dkim_verify_opts *opts)
{
    struct dkim_verify *v = ARENA_NEW(arena, struct dkim_verify);
    v->arena = arena;
    if (opts != NULL)
        v->opts = *opts;
    limits_default(&v->opts.limits);
    if (v->opts.now == 0)
        v->opts.now = (int64_t)time(NULL);
    if (v->opts.time_jitter == 0)
        v->opts.time_jitter = 6 * 3600;
    return v;
}

static void sig_final(struct vsig *s, enum dkim_status st, const char *reason)
{
    s->res.status = st;
    s->res.reason = reason;
    s->final = true;
}

static int check_times(const struct dkim_verify *v, struct vsig *s)
{
    if (v->opts.ignore_time)
        return 0;
    if (s->sig.has_x && s->sig.x < (uint64_t)v->opts.now) {
        sig_final(s, DKIM_STATUS_PERMERROR, "signature expired");
        return -1;
    }
    if (s->sig.has_t && s->sig.t > (uint64_t)(v->opts.now + v->opts.time_jitter)) {
        sig_final(s, DKIM_STATUS_PERMERROR, "signature timestamp in the future");
        return -1;
    }
    return 0;
}

/* Parses the DKIM-Signature field hdrs[i] into the next slot. */
static void add_sig(struct dkim_verify *v, size_t i, size_t colon)
{
    struct vsig *s = &v->sigs[v->nsigs++];
    const struct dkim_header *h = &v->hdrs[i];
    size_t vstart = colon + 1, vlen = h->raw_len - vstart;
    const char *err;
    s->res.header_index = i;
    if (dkim_sig_parse(v->arena, h->raw + vstart, vlen, v->opts.limits.max_h_entries, &s->sig,
                       &s->b_off, &s->b_end, &err) < 0) {
        s->res.domain = s->sig.domain;      /* whatever parsed before the error */
        s->res.selector = s->sig.selector;
        s->res.alg = s->sig.alg;
        sig_final(s, DKIM_STATUS_PERMERROR, err);
        return;
    }
    s->b_off += vstart;
    s->b_end += vstart;
    s->res.domain = s->sig.domain;
    s->res.selector = s->sig.selector;
    s->res.auid = s->sig.auid;
    s->res.alg = s->sig.alg;
    if (check_times(v, s) < 0)
        return;
    s->body = dkim_body_new(v->arena, s->sig.bcanon, s->sig.alg, s->sig.has_l, s->sig.l);
    s->key_name = arena_printf(v->arena, "%s._domainkey.%s", s->sig.selector, s->sig.domain);
}

int dkim_verify_headers(struct dkim_verify *v, const struct dkim_header *hdrs, size_t n,
                        const char **error_r)
{
    if (n > v->opts.limits.max_headers) {
        *error_r = "too many header fields";
        return -1;
    }
    v->hdrs = ARENA_NEW_N(v->arena, struct dkim_header, n ? n : 1);
    v->nhdrs = n;
    v->sigs = ARENA_NEW_N(v->arena, struct vsig, v->opts.limits.max_sigs);
    for (size_t i = 0; i < n; i++) {
        v->hdrs[i].raw = arena_strndup(v->arena, hdrs[i].raw, hdrs[i].raw_len);
        v->hdrs[i].raw_len = hdrs[i].raw_len;
        v->hdrs[i].name_len = hdrs[i].name_len;
    }
    /* Unparseable signatures count towards the limit too (Rspamd does the
     * same), so junk fields cannot push real work past it unnoticed. */
    for (size_t i = 0; i < n; i++) {
        size_t name_len, colon;
        if (dkim_header_name(&v->hdrs[i], &name_len, &colon) < 0 ||
            !str_ieq_cstr(v->hdrs[i].raw, name_len, "DKIM-Signature"))
            continue;
        if (v->nsigs < v->opts.limits.max_sigs)
            add_sig(v, i, colon);
        else
            v->skipped++;
    }
    return 0;
}

void dkim_verify_body(struct dkim_verify *v, const char *p, size_t len)
{
    for (size_t i = 0; i < v->nsigs; i++) {
        if (v->sigs[i].body != NULL)
            dkim_body_update(v->sigs[i].body, p, len);
    }
}

void dkim_verify_body_end(struct dkim_verify *v)
{
    if (v->body_done)
        return;
    v->body_done = true;
    for (size_t i = 0; i < v->nsigs; i++) {
        if (v->sigs[i].body != NULL)
            dkim_body_final(v->sigs[i].body, v->sigs[i].bh, &v->sigs[i].bh_len);
    }
}

size_t dkim_verify_count(const struct dkim_verify *v)
{
    return v->nsigs;
}

size_t dkim_verify_skipped(const struct dkim_verify *v)
{
    return v->skipped;
}

const char *dkim_verify_key_name(const struct dkim_verify *v, size_t i)
{
    return i < v->nsigs && !v->sigs[i].final ? v->sigs[i].key_name : NULL;
}

/* Key record vs signature: §6.1.2 and RFC 8463 §4. */
static const char *key_mismatch(const struct dkim_verify *v, const struct vsig *s)
{
    const struct dkim_pubkey *k = &s->key;
    const struct dkim_limits *lim = &v->opts.limits;
    if (k->revoked)
        return "key revoked";
    if (k->rsa != (s->sig.alg != DKIM_ALG_ED25519_SHA256))
        return "key type does not match a=";
    if (s->sig.alg == DKIM_ALG_RSA_SHA1 ? !k->sha1_ok : !k->sha256_ok)
        return "key h= does not allow the signature's hash";
    if (k->rsa && k->bits < lim->min_rsa_bits)
        return arena_printf(v->arena, "key too short (%u bits)", k->bits);
    if (k->rsa && k->bits > lim->max_rsa_bits)
        return arena_printf(v->arena, "key too long (%u bits)", k->bits);
    if (k->strict) {
        const char *at = strrchr(s->sig.auid, '@');
        if (at == NULL || strcasecmp(at + 1, s->sig.domain) != 0)
            return "key t=s forbids an i= subdomain";
    }
    return NULL;
}

static void pick_key(struct dkim_verify *v, struct vsig *s, const char *const *txt,
                     const size_t *txt_len, size_t ntxt)
{
    const char *err = "no key record";
    for (size_t j = 0; j < ntxt; j++) {
        if (dkim_key_parse(v->arena, txt[j], txt_len[j], &s->key, &err) == 0) {
            s->key_set = true;
            break;
        }
    }
    if (!s->key_set) {
        sig_final(s, DKIM_STATUS_PERMERROR, err);
        return;
    }
    s->res.key_bits = s->key.bits;
    s->res.testing = s->key.testing;
    const char *bad = key_mismatch(v, s);
    if (bad != NULL)
        sig_final(s, DKIM_STATUS_PERMERROR, bad);
}

void dkim_verify_set_key(struct dkim_verify *v, size_t i, enum dkim_dns_status status,
                         const char *const *txt, const size_t *txt_len, size_t ntxt)
{
    if (i >= v->nsigs || v->sigs[i].final || v->sigs[i].key_set)
        return;
    struct vsig *s = &v->sigs[i];
    if (status == DKIM_DNS_TEMPFAIL)
        sig_final(s, DKIM_STATUS_TEMPERROR, "key lookup failed temporarily");
    else if (status != DKIM_DNS_OK || ntxt == 0)
        sig_final(s, DKIM_STATUS_PERMERROR, "no key for signature");
    else
        pick_key(v, s, txt, txt_len, ntxt);
}

static void check_sig(struct dkim_verify *v, struct vsig *s)
{
    if (s->bh_len != s->sig.bh_len || memcmp(s->bh, s->sig.bh, s->bh_len) != 0) {
        s->res.status = DKIM_STATUS_FAIL;
        s->res.reason = s->sig.has_l && s->sig.l > s->body->total ? "l= exceeds body length"
                                                                    : "body hash mismatch";
        return;
    }
    EVP_MD_CTX *md = dkim_md_new(v->arena, s->sig.alg);
    bool *used = ARENA_NEW_N(v->arena, bool, v->nhdrs ? v->nhdrs : 1);
    dkim_headers_hash(md, s->sig.hcanon, v->hdrs, v->nhdrs, s->sig.hnames, s->sig.nh, used);
    dkim_header_canon(md, s->sig.hcanon, &v->hdrs[s->res.header_index], false, s->b_off,
                      s->b_end);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(md, d, &dlen);
    if (dkim_pkey_verify(s->key.pkey, s->sig.alg, d, dlen, s->sig.b, s->sig.b_len) == 0) {
        s->res.status = DKIM_STATUS_PASS;
        s->res.reason = "signature verified";
    } else {
        s->res.status = DKIM_STATUS_FAIL;
        s->res.reason = "signature mismatch";
    }
}

void dkim_verify_finish(struct dkim_verify *v)
{
    dkim_verify_body_end(v);
    for (size_t i = 0; i < v->nsigs; i++) {
        struct vsig *s = &v->sigs[i];
        if (s->final)
            continue;
        if (!s->key_set)
            sig_final(s, DKIM_STATUS_TEMPERROR, "no key was looked up");
        else
            check_sig(v, s);
    }
}

const struct dkim_result *dkim_verify_result(const struct dkim_verify *v, size_t i)
{
    return i < v->nsigs ? &v->sigs[i].res : NULL;
}

int dkim_verify_message(struct arena *arena, const struct dkim_verify_opts *opts,
                        const struct dkim_header *hdrs, size_t nhdrs,
                        const char *body, size_t body_len,
                        dkim_lookup_fn lookup, void *lookup_ctx,
                        const struct dkim_result **results_r, size_t *nresults_r,
                        const char **error_r)
{
    struct dkim_verify *v = dkim_verify_new(arena, opts);
    if (dkim_verify_headers(v, hdrs, nhdrs, error_r) < 0)
        return -1;
    dkim_verify_body(v, body, body_len);
    dkim_verify_body_end(v);
    for (size_t i = 0; i < v->nsigs; i++) {
        const char *name = dkim_verify_key_name(v, i);
        if (name == NULL)
            continue;
        const char *const *txt = NULL;
        const size_t *txt_len = NULL;
        size_t ntxt = 0;
        enum dkim_dns_status st = lookup(lookup_ctx, name, &txt, &txt_len, &ntxt);
        dkim_verify_set_key(v, i, st, txt, txt_len, ntxt);
    }
    dkim_verify_finish(v);
    struct dkim_result *res = ARENA_NEW_N(arena, struct dkim_result, v->nsigs ? v->nsigs : 1);
    for (size_t i = 0; i < v->nsigs; i++)
        res[i] = v->sigs[i].res;
    *results_r = res;
    *nresults_r = v->nsigs;
    return 0;
}

/* ---- splitting a raw message (tests, tools) ---- */

static size_t line_end(const char *msg, size_t len, size_t pos)
{
    const char *nl = memchr(msg + pos, '\n', len - pos);
    return nl != NULL ? (size_t)(nl - msg) + 1 : len;
}

static bool blank_line(const char *msg, size_t pos, size_t end)
{
    return (end - pos == 1 && msg[pos] == '\n') ||
           (end - pos == 2 && msg[pos] == '\r' && msg[pos + 1] == '\n');
}

int dkim_split_message(struct arena *arena, const char *msg, size_t len,
                       struct dkim_header **hdrs_r, size_t *nhdrs_r,
                       const char **body_r, size_t *body_len_r, const char **error_r)
{
    size_t cap = 16, n = 0, pos = 0;
    struct dkim_header *h = ARENA_NEW_N(arena, struct dkim_header, cap);
    while (pos < len) {
        size_t end = line_end(msg, len, pos);
        if (blank_line(msg, pos, end)) {
            pos = end;
            break;
        }
        if ((msg[pos] == ' ' || msg[pos] == '\t') && n > 0) {
            h[n - 1].raw_len = end - (size_t)(h[n - 1].raw - msg);   /* continuation */
        } else {
            if (n == 100000) {
                *error_r = "too many header fields";
                return -1;
            }
            if (n == cap) {
                h = arena_realloc(arena, h, cap * sizeof(*h), cap * 2 * sizeof(*h));
                cap *= 2;
            }
            h[n++] = (struct dkim_header){msg + pos, end - pos, 0};
        }
        pos = end;
    }
    *hdrs_r = h;
    *nhdrs_r = n;
    *body_r = msg + pos;
    *body_len_r = len - pos;
    return 0;
}
