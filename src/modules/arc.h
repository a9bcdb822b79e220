#ifndef WINNOW_MODULES_ARC_H
#define WINNOW_MODULES_ARC_H
/*
 * ARC chain validation (RFC 8617 §5.2), staged like DKIM verification so
 * the key lookups can be asynchronous:
 *
 *     v = arc_verify_new(arena, hdrs, n, body, len);   structure checks
 *     for i < arc_verify_nkeys(v): name = arc_verify_key_name(v, i) ... set_key
 *     r = arc_verify_finish(v, &reason);
 *
 * Key 0 is the newest ARC-Message-Signature's, keys 1..N the ARC-Seals'.
 * The implementation (arc_module.c) uses the DKIM library's primitives.
 */
#include <stddef.h>
#include <stdint.h>

#include "modules/dkim/dkim.h"

struct arena;

enum arc_result {
    ARC_RES_NONE = 0,            /* no ARC header fields */
    ARC_RES_PASS,
    ARC_RES_FAIL,                /* a signature does not verify, cv=fail */
    ARC_RES_INVALID,             /* structurally broken (missing sets, bad tags) */
    ARC_RES_TEMPERROR,           /* a key lookup failed temporarily */
};

struct arc_verify;

struct arc_verify *arc_verify_new(struct arena *arena, const struct dkim_header *hdrs, size_t n,
                                  const char *body, size_t body_len);
size_t arc_verify_nkeys(const struct arc_verify *v);
/* NULL when no lookup is needed (the result is already known). */
const char *arc_verify_key_name(const struct arc_verify *v, size_t i);
void arc_verify_set_key(struct arc_verify *v, size_t i, enum dkim_dns_status status,
                        const char *txt, size_t len);
enum arc_result arc_verify_finish(struct arc_verify *v, const char **reason_r);
/* Sealing: the three field values (without names) of the set this hop
 * adds, i = instances + 1, cv from `chain` (the result of validating v).
 * auth_results is the Authentication-Results value (authserv-id first).
 * -1 when no set may be added (chain already failed and sealed, 50 sets,
 * unknown outcome, no From field) or the key fails. */
struct dkim_privkey;
int arc_seal_message(struct arc_verify *v, enum arc_result chain, const struct dkim_privkey *key,
                     const char *domain, const char *selector, const char *auth_results,
                     int64_t now, const char **aar_r, const char **ams_r, const char **as_r);

/* The newest instance's number and its seal's d=, for the symbol option. */
unsigned arc_verify_instances(const struct arc_verify *v);
const char *arc_verify_domain(const struct arc_verify *v);

#endif
