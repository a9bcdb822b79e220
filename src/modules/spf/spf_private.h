#ifndef WINNOW_MODULES_SPF_PRIVATE_H
#define WINNOW_MODULES_SPF_PRIVATE_H
/* For spf*.c only. */
#include "modules/spf/spf.h"

#define SPF_MAX_TERMS 1024

enum spf_mech { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS };

struct spf_term {
    enum spf_mech mech;
    char qualifier;              /* + - ~ ? */
    const char *domain_spec;     /* NULL = current domain */
    size_t spec_len;
    int cidr4, cidr6;            /* -1 = full */
    struct netmask net;          /* ip4/ip6 */
    const char *text;            /* as written, for the outcome */
};

struct spf_record {
    struct spf_term *terms;      /* sized from the record, at most SPF_MAX_TERMS */
    size_t nterms;
    const char *redirect, *exp;  /* domain-specs, NULL when absent */
    size_t redirect_len, exp_len;
};

struct spf_eval {
    struct arena *arena;
    const struct spf_request *req;
    const char *sender;          /* MAIL FROM, or postmaster@helo */
    spf_resolve_fn resolve;
    void *rctx;
    unsigned dns_terms;
    unsigned void_lookups;
    bool pending;                /* a lookup is outstanding: result is PENDING */
    const char *reason;
    const char *mechanism;
    const char *explanation;
};

/* Parses a whole record (spf.c); NULL with *error_r on any syntax error. */
struct spf_record *spf_parse(struct spf_eval *ev, const char *rec, const char **error_r);
int spf_expand(struct spf_eval *ev, const char *s, size_t len, const char *domain, bool exp,
               const char **out_r);
const char *spf_truncate_domain(const char *d);
/* %{p}: a validated host name of the client IP, or "unknown". */
const char *spf_validated_name(struct spf_eval *ev, const char *domain);
/* Resolves through the caller; returns -1 (and marks the evaluation
 * pending) when the answer is not available yet. */
int spf_lookup(struct spf_eval *ev, enum spf_rr type, const char *name,
               struct spf_dns_answer *ans_r);

#endif
