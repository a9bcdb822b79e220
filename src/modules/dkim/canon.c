/*
 * DKIM canonicalization (RFC 6376 §3.4) feeding message digests.
 *
 * Body: a streaming state machine, so the milter can feed chunks of any size
 * (a CR at the end of one chunk and its LF at the start of the next still
 * make one line end).  Bare LF is taken as CRLF, so a message stored with
 * Unix line ends hashes as it did on the wire; a CR not followed by LF is
 * ordinary data.  Trailing empty lines are held back as a counter and only
 * emitted when more data follows, which is how both "simple" and "relaxed"
 * drop them without buffering the body.  The l= cap applies to canonical
 * bytes; the total is still counted so the verifier can see l= beyond the
 * body.
 *
 * Headers: one field at a time from its raw bytes, with an optional byte
 * range left out (the b= value of the signature being computed), and the
 * bottom-up selection of §5.4.2 for h= lists: each name takes the lowest
 * instance not yet used; a name with no instance left adds nothing, which is
 * what makes oversigning work.
 *
 * Owns the digest contexts it creates (freed by arena cleanups).
 */
#include <string.h>

#include <openssl/evp.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/str.h"
#include "modules/dkim/dkim_private.h"

const EVP_MD *dkim_alg_md(enum dkim_alg alg)
{
    return alg == DKIM_ALG_RSA_SHA1 ? EVP_sha1() : EVP_sha256();
}

static void md_cleanup(void *p)
{
    EVP_MD_CTX_free(p);
}

EVP_MD_CTX *dkim_md_new(struct arena *arena, enum dkim_alg alg)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, dkim_alg_md(alg), NULL) != 1)
        panic("EVP digest init failed");
    arena_cleanup_add(arena, md_cleanup, md);
    return md;
}

/* ---- body ---- */

struct dkim_body *dkim_body_new(struct arena *arena, enum dkim_canon canon, enum dkim_alg alg,
                                bool has_limit, uint64_t limit)
{
    struct dkim_body *b = ARENA_NEW(arena, struct dkim_body);
    b->canon = canon;
    b->md = dkim_md_new(arena, alg);
    b->has_limit = has_limit;
    b->limit = limit;
    return b;
}

static void body_flush(struct dkim_body *b)
{
    size_t n = b->outlen;
    if (b->has_limit && b->hashed + n > b->limit)
        n = (size_t)(b->limit - b->hashed);
    if (n > 0)
        EVP_DigestUpdate(b->md, b->out, n);
    b->hashed += n;
    b->outlen = 0;
}

static void body_out(struct dkim_body *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b->outlen == sizeof(b->out))
            body_flush(b);
        b->out[b->outlen++] = (unsigned char)p[i];
    }
    b->total += n;
}

static void body_line_end(struct dkim_body *b)
{
    b->pending_wsp = false;
    if (b->line_has_data) {
        body_out(b, "\r\n", 2);
        b->line_has_data = false;
    } else {
        b->pending_crlf++;
    }
}

static void body_data(struct dkim_body *b, char c)
{
    if (b->canon == DKIM_CANON_RELAXED && (c == ' ' || c == '\t')) {
        b->pending_wsp = true;
        return;
    }
    if (!b->line_has_data) {
        /* the empty lines held back were not trailing after all */
        for (; b->pending_crlf > 0; b->pending_crlf--)
            body_out(b, "\r\n", 2);
        b->line_has_data = true;
    }
    if (b->pending_wsp) {
        body_out(b, " ", 1);
        b->pending_wsp = false;
    }
    body_out(b, &c, 1);
}

void dkim_body_update(struct dkim_body *b, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (b->pending_cr) {
            b->pending_cr = false;
            if (c == '\n') {
                body_line_end(b);
                continue;
            }
            body_data(b, '\r');
        }
        if (c == '\r')
            b->pending_cr = true;
        else if (c == '\n')
            body_line_end(b);
        else
            body_data(b, c);
    }
}

void dkim_body_final(struct dkim_body *b, unsigned char *out, size_t *out_len_r)
{
    if (b->pending_cr) {
        b->pending_cr = false;
        body_data(b, '\r');
    }
    if (b->line_has_data) {
        b->pending_wsp = false;     /* trailing WSP of the last line goes */
        body_out(b, "\r\n", 2);
        b->line_has_data = false;
    }
    if (b->canon == DKIM_CANON_SIMPLE && b->total == 0)
        body_out(b, "\r\n", 2);     /* §3.4.3: an empty body is one CRLF */
    body_flush(b);
    unsigned int n = 0;
    EVP_DigestFinal_ex(b->md, out, &n);
    *out_len_r = n;
}

const char *dkim_body_hash(struct arena *arena, enum dkim_canon canon, enum dkim_alg alg,
                           int64_t l, const char *body, size_t len)
{
    struct dkim_body *b = dkim_body_new(arena, canon, alg, l >= 0, l >= 0 ? (uint64_t)l : 0);
    unsigned char d[EVP_MAX_MD_SIZE];
    size_t dlen;
    dkim_body_update(b, body, len);
    dkim_body_final(b, d, &dlen);
    return dkim_base64_encode(arena, d, dlen);
}

/* ---- headers ---- */

struct sink {
    EVP_MD_CTX *md;
    size_t n;
    unsigned char buf[1024];
};

static void sink_put(struct sink *s, char c)
{
    if (s->n == sizeof(s->buf)) {
        EVP_DigestUpdate(s->md, s->buf, s->n);
        s->n = 0;
    }
    s->buf[s->n++] = (unsigned char)c;
}

static void sink_flush(struct sink *s)
{
    if (s->n > 0)
        EVP_DigestUpdate(s->md, s->buf, s->n);
    s->n = 0;
}

int dkim_header_name(const struct dkim_header *h, size_t *name_len_r, size_t *colon_r)
{
    size_t i = h->name_len;
    if (i == 0) {
        while (i < h->raw_len && h->raw[i] != ':')
            i++;
    } else {
        while (i < h->raw_len && (h->raw[i] == ' ' || h->raw[i] == '\t'))
            i++;
    }
    if (i >= h->raw_len || h->raw[i] != ':')
        return -1;
    *colon_r = i;
    size_t n = h->name_len ? h->name_len : i;
    while (n > 0 && (h->raw[n - 1] == ' ' || h->raw[n - 1] == '\t'))
        n--;
    *name_len_r = n;
    return 0;
}

/* Length of raw without its final line end. */
static size_t content_len(const struct dkim_header *h)
{
    size_t n = h->raw_len;
    if (n > 0 && h->raw[n - 1] == '\n')
        n--;
    if (n > 0 && h->raw[n - 1] == '\r')
        n--;
    return n;
}

static bool skipped(size_t i, size_t skip_off, size_t skip_end)
{
    return skip_end != 0 && i >= skip_off && i < skip_end;
}

static void canon_simple(struct sink *s, const struct dkim_header *h, size_t skip_off,
                         size_t skip_end)
{
    size_t end = content_len(h);
    for (size_t i = 0; i < end; i++) {
        if (skipped(i, skip_off, skip_end))
            continue;
        /* bare LF inside a folded field is a CRLF that lost its CR */
        if (h->raw[i] == '\n' && (i == 0 || h->raw[i - 1] != '\r'))
            sink_put(s, '\r');
        sink_put(s, h->raw[i]);
    }
}

static void canon_relaxed(struct sink *s, const struct dkim_header *h, size_t skip_off,
                          size_t skip_end)
{
    size_t name_len, colon;
    if (dkim_header_name(h, &name_len, &colon) < 0) {
        canon_simple(s, h, skip_off, skip_end);   /* no colon: nothing to relax */
        return;
    }
    for (size_t i = 0; i < name_len; i++) {
        char c = h->raw[i];
        sink_put(s, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
    }
    sink_put(s, ':');
    size_t end = content_len(h);
    bool wsp = false, started = false;
    for (size_t i = colon + 1; i < end; i++) {
        char c = h->raw[i];
        if (skipped(i, skip_off, skip_end) || c == '\n' ||
            (c == '\r' && i + 1 < end && h->raw[i + 1] == '\n'))
            continue;               /* unfold; a bare CR is data */
        if (c == ' ' || c == '\t') {
            wsp = started;          /* WSP after the colon goes entirely */
            continue;
        }
        if (wsp)
            sink_put(s, ' ');
        wsp = false;
        started = true;
        sink_put(s, c);
    }
}

void dkim_header_canon(EVP_MD_CTX *md, enum dkim_canon canon, const struct dkim_header *h,
                       bool crlf, size_t skip_off, size_t skip_end)
{
    struct sink s = {.md = md, .n = 0};
    if (canon == DKIM_CANON_SIMPLE)
        canon_simple(&s, h, skip_off, skip_end);
    else
        canon_relaxed(&s, h, skip_off, skip_end);
    if (crlf) {
        sink_put(&s, '\r');
        sink_put(&s, '\n');
    }
    sink_flush(&s);
}

static bool name_is(const struct dkim_header *h, const char *name)
{
    size_t name_len, colon;
    if (dkim_header_name(h, &name_len, &colon) < 0)
        return false;
    return str_ieq_cstr(h->raw, name_len, name);
}

void dkim_headers_hash(EVP_MD_CTX *md, enum dkim_canon canon, const struct dkim_header *hdrs,
                       size_t n, const char *const *hnames, size_t nh, bool *used)
{
    memset(used, 0, n * sizeof(*used));
    for (size_t j = 0; j < nh; j++) {
        for (size_t i = n; i > 0; i--) {
            if (!used[i - 1] && name_is(&hdrs[i - 1], hnames[j])) {
                used[i - 1] = true;
                dkim_header_canon(md, canon, &hdrs[i - 1], true, 0, 0);
                break;
            }
        }
    }
}
