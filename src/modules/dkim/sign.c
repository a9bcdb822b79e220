/*
 * DKIM signing (RFC 6376 §5, RFC 8463; Rspamd-compatible output, spec §9.3).
 *
 * A struct dkim_signer takes body chunks as they come and, given the header
 * fields at the end, builds the h= list from the sign_headers rules, writes
 * the DKIM-Signature field in the tag order Rspamd uses
 *     v=1; a=; c=; d=; s=; [x=;] t=; h=; bh=; b=
 * folded near 80 columns with "\r\n\t" (or "\n\t"), signs the field with an
 * empty b= and appends the folded signature.  The signature itself is
 * computed by dkim_sign_field(), which re-reads the field it is given: the
 * same code then serves known-answer tests that pass a field written by
 * someone else.
 *
 * sign_headers rules: "(o)name" oversigns (each instance plus one empty
 * entry, so nobody can add one later), "(x)name" oversigns only when the
 * field exists, a plain name is signed once per instance.  A message without
 * From is refused (h= must include from).  Owns nothing outside the arena.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"
#include "modules/dkim/dkim_private.h"

#define FOLD_WIDTH 80
#define MAX_SIGN_HEADERS 256   /* rules in a sign_headers list */
#define MAX_H_ENTRIES 1000     /* names in h=, as the verifier allows */

const char dkim_default_sign_headers[] =
    "(o)from:(x)sender:(o)reply-to:(o)subject:(x)date:(x)message-id:(o)to:(o)cc:"
    "(x)mime-version:(x)content-type:(x)content-transfer-encoding:resent-to:resent-cc:"
    "resent-from:resent-sender:resent-message-id:(x)in-reply-to:(x)references:list-id:"
    "list-help:list-owner:list-unsubscribe:list-unsubscribe-post:list-subscribe:list-post:"
    "(x)openpgp:(x)autocrypt";

enum hmode { HMODE_PLAIN, HMODE_OVERSIGN, HMODE_IF_PRESENT };

struct hrule {
    const char *name;
    enum hmode mode;
};

struct dkim_signer {
    struct arena *arena;
    const struct dkim_privkey *key;
    struct dkim_sign_opts opts;
    struct dkim_body *body;
    struct hrule *rules;
    size_t nrules;
};

static int parse_rules(struct dkim_signer *s, const char *spec, const char **error_r)
{
    size_t len = strlen(spec), start = 0, count = 1;
    for (size_t i = 0; i < len; i++)
        count += spec[i] == ':';
    if (count > MAX_SIGN_HEADERS) {
        *error_r = "sign_headers list too long";
        return -1;
    }
    s->rules = ARENA_NEW_N(s->arena, struct hrule, count);
    for (size_t i = 0; i <= len; i++) {
        if (i < len && spec[i] != ':')
            continue;
        const char *n = spec + start;
        size_t nlen = i - start;
        start = i + 1;
        str_trim(&n, &nlen);
        enum hmode mode = HMODE_PLAIN;
        if (str_istarts(n, nlen, "(o)") || str_istarts(n, nlen, "(x)")) {
            mode = n[1] == 'o' || n[1] == 'O' ? HMODE_OVERSIGN : HMODE_IF_PRESENT;
            n += 3, nlen -= 3;
        }
        if (nlen == 0)
            continue;
        if (nlen > 200 || memchr(n, ' ', nlen) != NULL || memchr(n, ';', nlen) != NULL) {
            *error_r = "bad sign_headers list";
            return -1;
        }
        char *lc = arena_strndup(s->arena, n, nlen);
        str_lower(lc, nlen);
        s->rules[s->nrules++] = (struct hrule){lc, mode};
    }
    return 0;
}

struct dkim_signer *dkim_sign_new(struct arena *arena, const struct dkim_privkey *key,
                                  const struct dkim_sign_opts *opts, const char **error_r)
{
    if (opts->domain == NULL || !dkim_domain_valid(opts->domain, strlen(opts->domain)) ||
        opts->selector == NULL || !dkim_domain_valid(opts->selector, strlen(opts->selector))) {
        *error_r = "signing domain or selector is not a valid DNS name";
        return NULL;
    }
    struct dkim_signer *s = ARENA_NEW(arena, struct dkim_signer);
    s->arena = arena;
    s->key = key;
    s->opts = *opts;
    if (parse_rules(s, opts->sign_headers ? opts->sign_headers : dkim_default_sign_headers,
                    error_r) < 0)
        return NULL;
    s->body = dkim_body_new(arena, opts->bcanon, key->alg, false, 0);
    return s;
}

void dkim_sign_body(struct dkim_signer *s, const char *p, size_t len)
{
    dkim_body_update(s->body, p, len);
}

static size_t count_fields(const struct dkim_header *hdrs, size_t n, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        size_t name_len, colon;
        if (dkim_header_name(&hdrs[i], &name_len, &colon) == 0 &&
            str_ieq_cstr(hdrs[i].raw, name_len, name))
            c++;
    }
    return c;
}

/* ---- folding writer ---- */

struct fold {
    struct buf out;
    size_t col;
    const char *nl;             /* "\r\n\t" or "\n\t" */
};

/* Appends a token, preceded by sep (" " or "") or by a fold if it would not
 * fit on the line. */
static void fold_put(struct fold *f, const char *sep, const char *tok, size_t len)
{
    size_t seplen = strlen(sep);
    if (f->col + seplen + len > FOLD_WIDTH && f->col > 1) {
        buf_puts(&f->out, f->nl);
        f->col = 1;
    } else {
        buf_puts(&f->out, sep);
        f->col += seplen;
    }
    buf_append(&f->out, tok, len);
    f->col += len;
}

static void fold_tag(struct fold *f, const char *tag)
{
    fold_put(f, " ", tag, strlen(tag));
}

static void fold_hlist(struct fold *f, const char *const *names, size_t nh)
{
    for (size_t i = 0; i < nh; i++) {
        char tok[300];
        int len = snprintf(tok, sizeof(tok), "%s%s%s", i == 0 ? "h=" : "", names[i],
                           i + 1 == nh ? ";" : ":");
        fold_put(f, i == 0 ? " " : "", tok, (size_t)len);
    }
}

/* The b= value, in pieces that fill the current line. */
static void fold_b64(struct fold *f, const char *b64)
{
    size_t len = strlen(b64), pos = 0;
    while (pos < len) {
        size_t room = f->col < FOLD_WIDTH ? FOLD_WIDTH - f->col : 0;
        if (room < 8) {
            buf_puts(&f->out, f->nl);
            f->col = 1;
            continue;
        }
        size_t n = len - pos < room ? len - pos : room;
        buf_append(&f->out, b64 + pos, n);
        f->col += n;
        pos += n;
    }
}

static const char **build_hlist(struct dkim_signer *s, const struct dkim_header *hdrs, size_t n,
                                size_t *nh_r)
{
    size_t cap = 0;
    for (size_t r = 0; r < s->nrules; r++)
        cap += count_fields(hdrs, n, s->rules[r].name) + 1;
    const char **names = ARENA_NEW_N(s->arena, const char *, cap ? cap : 1);
    size_t nh = 0;
    for (size_t r = 0; r < s->nrules; r++) {
        size_t c = count_fields(hdrs, n, s->rules[r].name);
        if (s->rules[r].mode == HMODE_OVERSIGN || (s->rules[r].mode == HMODE_IF_PRESENT && c > 0))
            c++;
        while (c-- > 0)
            names[nh++] = s->rules[r].name;
    }
    *nh_r = nh;
    return names;
}

static void write_tags(struct dkim_signer *s, struct fold *f, const char *const *names, size_t nh,
                       const char *bh)
{
    struct arena *a = s->arena;
    const struct dkim_sign_opts *o = &s->opts;
    int64_t t = o->timestamp == 0 ? (int64_t)time(NULL) : o->timestamp;
    buf_puts(&f->out, "DKIM-Signature: v=1;");
    f->col = f->out.len;
    fold_tag(f, arena_printf(a, "a=%s;", dkim_alg_name(s->key->alg)));
    fold_tag(f, arena_printf(a, "c=%s/%s;", o->hcanon == DKIM_CANON_SIMPLE ? "simple" : "relaxed",
                             o->bcanon == DKIM_CANON_SIMPLE ? "simple" : "relaxed"));
    fold_tag(f, arena_printf(a, "d=%s;", o->domain));
    fold_tag(f, arena_printf(a, "s=%s;", o->selector));
    if (o->expire > 0 && t > 0)
        fold_tag(f, arena_printf(a, "x=%lld;", (long long)(t + o->expire)));
    if (t > 0)
        fold_tag(f, arena_printf(a, "t=%lld;", (long long)t));
    fold_hlist(f, names, nh);
    if (o->body_length)
        fold_tag(f, arena_printf(a, "l=%llu;", (unsigned long long)s->body->total));
    fold_tag(f, arena_printf(a, "bh=%s;", bh));
    fold_tag(f, "b=");
}

int dkim_sign_finish(struct dkim_signer *s, const struct dkim_header *hdrs, size_t n,
                     const char **field_r, size_t *field_len_r, const char **error_r)
{
    if (count_fields(hdrs, n, "from") == 0) {
        *error_r = "message has no From header field";
        return -1;
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    size_t dlen;
    dkim_body_final(s->body, d, &dlen);
    size_t nh;
    const char **names = build_hlist(s, hdrs, n, &nh);
    struct fold f = {.out = BUF_INIT, .col = 0, .nl = s->opts.lf ? "\n\t" : "\r\n\t"};
    write_tags(s, &f, names, nh, dkim_base64_encode(s->arena, d, dlen));
    const char *b64;
    if (dkim_sign_field(s->arena, s->key, hdrs, n, f.out.data, f.out.len, &b64, error_r) < 0) {
        buf_free(&f.out);
        return -1;
    }
    fold_b64(&f, b64);
    *field_r = arena_strndup(s->arena, f.out.data, f.out.len);
    *field_len_r = f.out.len;
    buf_free(&f.out);
    return 0;
}

int dkim_sign_field(struct arena *arena, const struct dkim_privkey *key,
                    const struct dkim_header *hdrs, size_t n,
                    const char *sig_field, size_t sig_len,
                    const char **b64_r, const char **error_r)
{
    struct dkim_header self = {sig_field, sig_len, 0};
    size_t name_len, colon, b_off, b_end;
    if (dkim_header_name(&self, &name_len, &colon) < 0) {
        *error_r = "signature field has no colon";
        return -1;
    }
    struct dkim_sig sig = {.signing = true};
    if (dkim_sig_parse(arena, sig_field + colon + 1, sig_len - colon - 1, MAX_H_ENTRIES,
                       &sig, &b_off, &b_end, error_r) < 0)
        return -1;
    if (sig.alg != key->alg) {
        *error_r = "a= does not match the key";
        return -1;
    }
    EVP_MD_CTX *md = dkim_md_new(arena, sig.alg);
    bool *used = ARENA_NEW_N(arena, bool, n ? n : 1);
    dkim_headers_hash(md, sig.hcanon, hdrs, n, sig.hnames, sig.nh, used);
    dkim_header_canon(md, sig.hcanon, &self, false, b_off + colon + 1, b_end + colon + 1);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(md, d, &dlen);
    unsigned char *raw;
    size_t raw_len;
    if (dkim_pkey_sign(arena, key, d, dlen, &raw, &raw_len, error_r) < 0)
        return -1;
    *b64_r = dkim_base64_encode(arena, raw, raw_len);
    return 0;
}
