#ifndef WINNOW_MODULES_DKIM_DKIM_PRIVATE_H
#define WINNOW_MODULES_DKIM_DKIM_PRIVATE_H
/* For the implementation of the DKIM library only (tags.c, canon.c, key.c,
 * verify.c, sign.c) and its unit tests. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/dkim/dkim.h"

struct arena;
struct evp_md_ctx_st;
struct evp_pkey_st;

#define DKIM_MAX_TAGS 64
#define DKIM_MAX_FIELD 65536    /* bytes of one signature field or key record */

/* ---- tags.c ---- */

/* One tag of a tag list.  Offsets are into the parsed input: eq_off is just
 * after '=', end_off at the ';' ending the spec (or the end), so the b= value
 * "including all surrounding whitespace" is [eq_off, end_off). */
struct dkim_tag {
    const char *name;
    size_t name_len;
    const char *value;          /* trimmed of FWS at both ends */
    size_t value_len;
    size_t eq_off;
    size_t end_off;
};

struct dkim_taglist {
    struct dkim_tag tags[DKIM_MAX_TAGS];
    size_t n;
};

int dkim_tags_parse(const char *p, size_t len, struct dkim_taglist *tl, const char **error_r);
const struct dkim_tag *dkim_tags_get(const struct dkim_taglist *tl, const char *name);
/* Base64 with FWS ignored; padding optional.  out must hold len*3/4+3. */
int dkim_base64_decode(const char *p, size_t len, unsigned char *out, size_t *out_len_r);
char *dkim_base64_encode(struct arena *arena, const unsigned char *p, size_t len);

struct dkim_sig {
    enum dkim_alg alg;
    enum dkim_canon hcanon, bcanon;
    const char *domain;         /* lower-cased, NUL-terminated */
    const char *selector;
    const char *auid;
    const char **hnames;        /* h= names, lower-cased */
    size_t nh;
    unsigned char bh[64];
    size_t bh_len;
    unsigned char *b;
    size_t b_len;
    bool has_l, has_t, has_x;
    uint64_t l, t, x;
    bool signing;               /* input: b= may be empty (a template) */
};

/* Parses and validates a DKIM-Signature value (§3.5, §6.1.1).  Fields
 * already set in *sig (domain, selector) stay set on error so the result can
 * name them. b_eq_r/b_end_r: where the b= value sits in [p, p+len). */
int dkim_sig_parse(struct arena *arena, const char *p, size_t len, size_t max_h,
                   struct dkim_sig *sig, size_t *b_eq_r, size_t *b_end_r, const char **error_r);

struct dkim_pubkey {
    bool rsa;                   /* else ed25519 */
    bool revoked;               /* p= empty */
    bool testing;               /* t=y */
    bool strict;                /* t=s: i= domain must equal d= */
    bool sha1_ok, sha256_ok;    /* h= */
    struct evp_pkey_st *pkey;   /* freed by an arena cleanup */
    unsigned bits;
};

/* Parses a key record; on success *key is usable or revoked. */
int dkim_key_parse(struct arena *arena, const char *p, size_t len, struct dkim_pubkey *key,
                   const char **error_r);

bool dkim_domain_valid(const char *p, size_t len);

/* ---- canon.c ---- */

/* Streaming body canonicalizer feeding a digest, with an l= cap. */
struct dkim_body {
    enum dkim_canon canon;
    struct evp_md_ctx_st *md;
    bool has_limit;
    uint64_t limit;
    uint64_t hashed;            /* canonical bytes hashed */
    uint64_t total;             /* canonical bytes produced (beyond l= too) */
    uint64_t pending_crlf;      /* empty lines not yet emitted */
    bool line_has_data;
    bool pending_wsp;
    bool pending_cr;
    unsigned char out[4096];    /* batches digest updates */
    size_t outlen;
};

struct dkim_body *dkim_body_new(struct arena *arena, enum dkim_canon canon, enum dkim_alg alg,
                                bool has_limit, uint64_t limit);
void dkim_body_update(struct dkim_body *b, const char *p, size_t len);
/* Finishes; out receives the digest (up to 64 bytes). */
void dkim_body_final(struct dkim_body *b, unsigned char *out, size_t *out_len_r);

/* Finds the name of a header field: [raw, raw+*name_len_r), -1 if no colon. */
int dkim_header_name(const struct dkim_header *h, size_t *name_len_r, size_t *colon_r);
/* Feeds one canonicalized field to md.  With crlf false the final CRLF is
 * left out (the signature field itself).  skip_off/skip_end: a byte range of
 * raw to drop (the b= value), or skip_end == 0 for none. */
void dkim_header_canon(struct evp_md_ctx_st *md, enum dkim_canon canon,
                       const struct dkim_header *h, bool crlf, size_t skip_off, size_t skip_end);
/* Feeds the fields named by hnames, bottom-up per name (§5.4.2). */
void dkim_headers_hash(struct evp_md_ctx_st *md, enum dkim_canon canon,
                       const struct dkim_header *hdrs, size_t n,
                       const char *const *hnames, size_t nh, bool *used);

const struct evp_md_st *dkim_alg_md(enum dkim_alg alg);
struct evp_md_ctx_st *dkim_md_new(struct arena *arena, enum dkim_alg alg);

/* ---- key.c ---- */

struct dkim_privkey {
    struct evp_pkey_st *pkey;
    enum dkim_alg alg;
    unsigned bits;
};

/* Signs / verifies the header digest (RSA: PKCS#1 v1.5 over the digest;
 * ed25519: pure Ed25519 over the 32-byte SHA-256 digest, RFC 8463 §3). */
int dkim_pkey_sign(struct arena *arena, const struct dkim_privkey *key,
                   const unsigned char *digest, size_t dlen,
                   unsigned char **sig_r, size_t *sig_len_r, const char **error_r);
int dkim_pkey_verify(struct evp_pkey_st *pkey, enum dkim_alg alg,
                     const unsigned char *digest, size_t dlen,
                     const unsigned char *sig, size_t sig_len);

#endif
