#ifndef WINNOW_MODULES_SPF_H
#define WINNOW_MODULES_SPF_H
/*
 * SPF evaluation (RFC 7208): check_host() with every mechanism and modifier,
 * macros, and the processing limits (10 DNS-querying terms, 2 void lookups,
 * 10 MX/PTR names per term).
 *
 * DNS goes through a resolver callback.  An asynchronous caller answers
 * SPF_DNS_PENDING for a name it has not resolved yet; spf_check() then
 * returns SPF_RESULT_PENDING and is simply called again, from the start,
 * once the answer is in the caller's cache.  Evaluation is deterministic and
 * cheap, so replaying it keeps the code a plain recursive evaluator.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/netaddr.h"

struct arena;

enum spf_rr { SPF_RR_TXT = 0, SPF_RR_A, SPF_RR_AAAA, SPF_RR_MX, SPF_RR_PTR };

enum spf_dns_status {
    SPF_DNS_OK = 0,              /* answer (possibly empty = NODATA) */
    SPF_DNS_NXDOMAIN,
    SPF_DNS_TEMPFAIL,            /* timeout, SERVFAIL */
    SPF_DNS_PENDING,             /* asynchronous: ask again later */
};

struct spf_dns_answer {
    enum spf_dns_status status;
    /* TXT: one string per record (multi-string records already joined);
     * MX/PTR: host names (MX sorted by preference); A/AAAA: addrs. */
    const char **strs;
    const size_t *lens;          /* optional: byte lengths of strs (TXT may hold NULs) */
    size_t nstrs;
    struct netaddr *addrs;
    size_t naddrs;
};

typedef void (*spf_resolve_fn)(void *ctx, enum spf_rr type, const char *name,
                               struct spf_dns_answer *ans_r);

enum spf_result {
    SPF_RESULT_NONE = 0,
    SPF_RESULT_NEUTRAL,
    SPF_RESULT_PASS,
    SPF_RESULT_FAIL,
    SPF_RESULT_SOFTFAIL,
    SPF_RESULT_TEMPERROR,
    SPF_RESULT_PERMERROR,
    SPF_RESULT_PENDING,
};

struct spf_request {
    struct netaddr ip;
    const char *sender;          /* MAIL FROM; NULL or "" => postmaster@helo */
    const char *helo;
    const char *receiver;        /* %{r}, default "unknown" */
    int64_t now;                 /* %{t} */
};

struct spf_outcome {
    enum spf_result result;
    const char *domain;          /* the domain checked */
    const char *mechanism;       /* matched term ("+ip4:192.0.2.0/24"), or NULL */
    const char *explanation;     /* exp= text for fail, NULL otherwise */
    const char *reason;          /* why permerror/temperror/none */
    unsigned dns_terms, void_lookups;
};

enum spf_result spf_check(struct arena *arena, const struct spf_request *req,
                          spf_resolve_fn resolve, void *ctx, struct spf_outcome *out);

const char *spf_result_name(enum spf_result r);   /* "pass", "fail", ... */

/* Syntax check of one record (also the fuzz entry point); -1 with *error_r. */
int spf_record_check(struct arena *arena, const char *record, size_t len, const char **error_r);

/* Expands an SPF macro-string (RFC 7208 §7); exp = true allows c, r, t. */
int spf_macro_expand(struct arena *arena, const char *s, size_t len, const struct spf_request *req,
                     const char *domain, bool exp, const char **out_r, const char **error_r);

#endif
