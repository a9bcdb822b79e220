#ifndef WINNOW_MODULES_DMARC_H
#define WINNOW_MODULES_DMARC_H
/*
 * DMARC (RFC 7489): policy record discovery at _dmarc.<From domain>, then at
 * the organisational domain (Public Suffix List), identifier alignment of
 * the passing DKIM and SPF domains (relaxed or strict), and the applicable
 * policy (p, or sp for subdomains when the record came from the
 * organisational domain).  pct is reported, not applied: the caller decides
 * what a failed message means.
 *
 * DNS goes through a callback that may answer "pending"; the evaluation is
 * then repeated once the answer is cached, like SPF's.
 */
#include <stdbool.h>
#include <stddef.h>

struct arena;
struct dns_reply;

enum dmarc_result {
    DMARC_RESULT_NONE = 0,       /* no (valid) record */
    DMARC_RESULT_PASS,
    DMARC_RESULT_FAIL,
    DMARC_RESULT_TEMPERROR,
    DMARC_RESULT_PERMERROR,      /* unusable From domain */
    DMARC_RESULT_PENDING,
};

enum dmarc_policy { DMARC_POLICY_UNSET = 0, DMARC_POLICY_NONE, DMARC_POLICY_QUARANTINE,
                    DMARC_POLICY_REJECT };

struct dmarc_record {
    enum dmarc_policy p, sp;     /* sp UNSET = same as p */
    bool adkim_strict, aspf_strict;
    int pct;                     /* 0..100, default 100 */
    const char *rua;             /* may be NULL */
};

/* Returns 0 and fills *reply_r, or 1 when the answer is pending. */
typedef int (*dmarc_lookup_fn)(void *ctx, const char *name, const struct dns_reply **reply_r);

struct dmarc_request {
    const char *from_domain;     /* RFC5322.From domain */
    const char *const *dkim_domains; /* d= of passing DKIM signatures */
    size_t ndkim;
    const char *spf_domain;      /* domain of a passing SPF check, or NULL */
};

struct dmarc_outcome {
    enum dmarc_result result;
    enum dmarc_policy policy;    /* applicable policy (p or sp) */
    struct dmarc_record record;
    const char *record_text;     /* the record as published */
    const char *record_domain;   /* where it was found */
    const char *org_domain;
    const char *dkim_aligned;    /* the aligned DKIM domain, or NULL */
    bool spf_aligned;
    bool bad_record;             /* a v=DMARC1 record was found but is invalid */
    const char *reason;
};

enum dmarc_result dmarc_check(struct arena *arena, const struct dmarc_request *req,
                              dmarc_lookup_fn lookup, void *ctx, struct dmarc_outcome *out);

/* Parses one TXT record; -1 with *error_r when it is not a valid DMARC
 * record (not v=DMARC1 first, or no usable policy). */
int dmarc_record_parse(const char *p, size_t len, struct dmarc_record *rec_r,
                       const char **error_r);

/* Organisational domain (eTLD+1) of a domain, lower-case, in arena; the
 * domain itself when it is a public suffix or unknown. */
const char *dmarc_org_domain(struct arena *arena, const char *domain);

const char *dmarc_result_name(enum dmarc_result r);
const char *dmarc_policy_name(enum dmarc_policy p);

#endif
