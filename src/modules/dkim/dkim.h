#ifndef WINNOW_MODULES_DKIM_DKIM_H
#define WINNOW_MODULES_DKIM_DKIM_H
/*
 * DKIM library (RFC 6376, RFC 8463): tag lists, canonicalization, signature
 * verification and signing.  Independent of the daemon: it knows nothing of
 * tasks, DNS or configuration, and needs only an arena, the raw header
 * fields in order and the body bytes.
 *
 * Verification is split into steps so that an asynchronous resolver can sit
 * between them:
 *
 *     v = dkim_verify_new(arena, &opts);
 *     dkim_verify_headers(v, hdrs, n, &err);    finds and parses signatures
 *     dkim_verify_body(v, chunk, len);          any number of times
 *     dkim_verify_body_end(v);
 *     for each i < dkim_verify_count(v):
 *         name = dkim_verify_key_name(v, i);    NULL: no lookup needed
 *         ... resolve TXT name ...
 *         dkim_verify_set_key(v, i, status, txt, txt_len, ntxt);
 *     dkim_verify_finish(v);
 *     dkim_verify_result(v, i) -> struct dkim_result
 *
 * The key names are known as soon as dkim_verify_headers() returns, so the
 * lookups may run while the body is still arriving; dkim_verify_set_key()
 * may be called before, between or after the body steps.
 * dkim_verify_message() runs those steps with a synchronous lookup callback.
 *
 * Signing mirrors it: dkim_sign_new, dkim_sign_body (chunks), and
 * dkim_sign_finish with the header fields, which returns the complete
 * "DKIM-Signature: ..." field.  Private keys sit behind struct dkim_privkey
 * (see STYLE.md §2: key in, signature out).
 *
 * All memory comes from the arena passed in; OpenSSL objects register arena
 * cleanups, so arena_free() releases everything.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

enum dkim_alg {
    DKIM_ALG_RSA_SHA256 = 0,
    DKIM_ALG_RSA_SHA1,          /* verify only */
    DKIM_ALG_ED25519_SHA256,
};

/* RELAXED is 0 so that zeroed signing options mean relaxed/relaxed. */
enum dkim_canon {
    DKIM_CANON_RELAXED = 0,
    DKIM_CANON_SIMPLE,
};

enum dkim_status {
    DKIM_STATUS_NONE = 0,       /* for callers: no signature (the library never returns it) */
    DKIM_STATUS_PASS,
    DKIM_STATUS_FAIL,           /* body hash or signature mismatch */
    DKIM_STATUS_PERMERROR,      /* syntax, bad/missing/revoked key, policy */
    DKIM_STATUS_TEMPERROR,      /* DNS failure */
};

/* One header field exactly as received: "Name: value\r\n" including folding
 * and the final line end (CRLF or LF; a missing final line end is fine).
 * name_len may be 0: the name is then everything before the first colon,
 * without trailing whitespace. */
struct dkim_header {
    const char *raw;
    size_t raw_len;
    size_t name_len;
};

/* 0 means the default for every field. */
struct dkim_limits {
    size_t max_sigs;            /* 5: signatures evaluated per message */
    size_t max_headers;         /* 1000: header fields accepted */
    size_t max_h_entries;       /* 1000: names in one h= list */
    unsigned min_rsa_bits;      /* 1024 */
    unsigned max_rsa_bits;      /* 8192 */
};

struct dkim_verify_opts {
    struct dkim_limits limits;
    int64_t now;                /* 0 = time(NULL); for x= and t= checks */
    int64_t time_jitter;        /* allowed t= in the future, seconds; 0 = 6 h */
    bool ignore_time;           /* tests: skip x=/t= checks */
};

struct dkim_result {
    enum dkim_status status;
    const char *domain;         /* d=, NULL if the signature did not parse that far */
    const char *selector;       /* s= */
    const char *auid;           /* i=, or "@d" when absent; NULL on parse errors */
    enum dkim_alg alg;
    const char *reason;         /* short English reason, never NULL */
    unsigned key_bits;          /* RSA modulus size, 256 for ed25519, 0 unknown */
    bool testing;               /* key record t=y */
    size_t header_index;        /* index of the DKIM-Signature field in hdrs */
};

const char *dkim_status_name(enum dkim_status s);  /* "pass", "fail", ... */
const char *dkim_alg_name(enum dkim_alg a);         /* "rsa-sha256", ... */

/* ---- verification ---- */

/* Result of a TXT lookup; records are whole TXT RRs (the strings of one RR
 * already concatenated, as RFC 6376 §3.6.2.2 asks). */
enum dkim_dns_status {
    DKIM_DNS_OK = 0,
    DKIM_DNS_NXDOMAIN,          /* NXDOMAIN or no TXT record: permerror "no key" */
    DKIM_DNS_TEMPFAIL,          /* timeout, SERVFAIL, ...: temperror */
};

struct dkim_verify;

struct dkim_verify *dkim_verify_new(struct arena *arena, const struct dkim_verify_opts *opts);
/* Copies the fields into the arena, finds the DKIM-Signature fields and
 * parses them.  -1 only when the header block itself is over a limit. */
int dkim_verify_headers(struct dkim_verify *v, const struct dkim_header *hdrs, size_t n,
                        const char **error_r);
void dkim_verify_body(struct dkim_verify *v, const char *p, size_t len);
void dkim_verify_body_end(struct dkim_verify *v);
size_t dkim_verify_count(const struct dkim_verify *v);
/* DKIM-Signature fields beyond limits.max_sigs, not evaluated (for logging). */
size_t dkim_verify_skipped(const struct dkim_verify *v);
/* "selector._domainkey.domain" for signature i, or NULL when the signature
 * already has a final result (syntax error) and needs no lookup. */
const char *dkim_verify_key_name(const struct dkim_verify *v, size_t i);
void dkim_verify_set_key(struct dkim_verify *v, size_t i, enum dkim_dns_status status,
                         const char *const *txt, const size_t *txt_len, size_t ntxt);
/* Computes all results; signatures whose key never arrived get temperror. */
void dkim_verify_finish(struct dkim_verify *v);
const struct dkim_result *dkim_verify_result(const struct dkim_verify *v, size_t i);

/* Synchronous lookup: fill *txt_r / *txt_len_r / *ntxt_r (memory owned by the
 * callback, valid until dkim_verify_message returns) and return a status. */
typedef enum dkim_dns_status (*dkim_lookup_fn)(void *ctx, const char *name,
                                               const char *const **txt_r,
                                               const size_t **txt_len_r, size_t *ntxt_r);

/* Runs every step over a whole message body.  Results live in the arena. */
int dkim_verify_message(struct arena *arena, const struct dkim_verify_opts *opts,
                        const struct dkim_header *hdrs, size_t nhdrs,
                        const char *body, size_t body_len,
                        dkim_lookup_fn lookup, void *lookup_ctx,
                        const struct dkim_result **results_r, size_t *nresults_r,
                        const char **error_r);

/* Splits a raw message (CRLF or LF) into header fields and body, for tests
 * and tools; the daemon uses its own header parser.  hdrs_r is in the arena. */
int dkim_split_message(struct arena *arena, const char *msg, size_t len,
                       struct dkim_header **hdrs_r, size_t *nhdrs_r,
                       const char **body_r, size_t *body_len_r, const char **error_r);

/* ---- keys ---- */

struct dkim_privkey;

/* PEM (PKCS#1 or PKCS#8 RSA, PKCS#8 Ed25519) or base64 of a raw Ed25519
 * 32-byte seed or 64-byte seed||public key (libsodium layout). */
int dkim_privkey_load_mem(struct arena *arena, const char *p, size_t len,
                          struct dkim_privkey **key_r, const char **error_r);
/* Refuses a file that "others" may read, naming the file and the chmod fix;
 * errors for missing or unreadable files name the path. */
int dkim_privkey_load_file(struct arena *arena, const char *path,
                           struct dkim_privkey **key_r, const char **error_r);
enum dkim_alg dkim_privkey_alg(const struct dkim_privkey *key);
unsigned dkim_privkey_bits(const struct dkim_privkey *key);
/* "v=DKIM1; k=rsa; p=..." for publishing the public half. */
const char *dkim_privkey_txt_record(struct arena *arena, const struct dkim_privkey *key);

/* ---- signing ---- */

struct dkim_sign_opts {
    const char *domain;
    const char *selector;
    enum dkim_canon hcanon;     /* default relaxed */
    enum dkim_canon bcanon;     /* default relaxed */
    /* "(o)from:(x)sender:subject" (spec §9.3); NULL = the 3.4 default list */
    const char *sign_headers;
    int64_t timestamp;          /* t=; 0 = time(NULL), -1 = omit t= */
    int64_t expire;             /* x= seconds after t=; 0 = no x= */
    bool lf;                    /* fold with "\n\t" instead of "\r\n\t" */
    bool body_length;           /* emit l= (tests) */
};

extern const char dkim_default_sign_headers[];

struct dkim_signer;

struct dkim_signer *dkim_sign_new(struct arena *arena, const struct dkim_privkey *key,
                                  const struct dkim_sign_opts *opts, const char **error_r);
void dkim_sign_body(struct dkim_signer *s, const char *p, size_t len);
/* Returns the whole field "DKIM-Signature: v=1; ...", folded, without a
 * final line end.  Refuses a message without a From field. */
int dkim_sign_finish(struct dkim_signer *s, const struct dkim_header *hdrs, size_t n,
                     const char **field_r, size_t *field_len_r, const char **error_r);

/* Low level, for known-answer tests and ARC: computes b= over the given
 * header fields (selected by the h= of sig_field) and sig_field itself, a
 * complete DKIM-Signature field whose b= value is empty or will be ignored.
 * Returns the base64 signature, NUL-terminated, in the arena. */
int dkim_sign_field(struct arena *arena, const struct dkim_privkey *key,
                    const struct dkim_header *hdrs, size_t n,
                    const char *sig_field, size_t sig_len,
                    const char **b64_r, const char **error_r);

/* Body hash alone (base64 in the arena), e.g. for KATs; l < 0 = whole body. */
const char *dkim_body_hash(struct arena *arena, enum dkim_canon canon, enum dkim_alg alg,
                           int64_t l, const char *body, size_t len);

#endif
