#ifndef WINNOW_CORE_COUNTERS_H
#define WINNOW_CORE_COUNTERS_H
/*
 * Counters of the lower layers (Redis pool, DNS resolver) that the daemon
 * reports in /metrics, /status and `winnowadm control stat`.  The layers
 * below the daemon cannot see its shared memory, so they count through
 * `core_counters`: a process-local block until the daemon points it into
 * its shared segment (core_counters_share), after which every worker adds
 * to the same numbers.  Relaxed atomics: these are statistics.
 */
#include <stdatomic.h>
#include <stdint.h>

#define CORE_COUNTERS_ERRLEN 160

struct core_counters {
    _Atomic uint64_t redis_commands;         /* sent */
    _Atomic uint64_t redis_errors;           /* error replies, lost connections */
    _Atomic uint64_t redis_timeouts;         /* commands that hit their timeout */
    _Atomic uint64_t redis_connect_failures; /* connections refused, closed, timed out */
    _Atomic uint64_t redis_last_ok;          /* unix time of the last connect or reply */
    _Atomic uint64_t redis_last_fail;        /* unix time of the last failure */
    _Atomic uint64_t redis_error_seq;        /* odd while redis_last_error is written */
    char redis_last_error[CORE_COUNTERS_ERRLEN];
    _Atomic uint64_t dns_queries;            /* sent to a server (cache misses) */
    _Atomic uint64_t dns_errors;             /* SERVFAIL, REFUSED, bad answers */
    _Atomic uint64_t dns_timeouts;           /* no answer in time */
};

/* Never NULL. */
extern struct core_counters *core_counters;

/* Makes every later count go to *shared (zeroed memory, or a block that
 * already holds counts).  Called by the daemon before forking workers. */
void core_counters_share(struct core_counters *shared);

static inline void core_count(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Records a Redis failure: time, count of connect failures when `connect`,
 * and the text (what the status page and `control stat` show). */
void core_counters_redis_fail(const char *what, int connect);
/* Records a Redis success (connection made or reply received). */
void core_counters_redis_ok(void);
/* Copies the last Redis error text into out (size > 0), "" if none. */
void core_counters_redis_last_error(char *out, unsigned outsize);

#endif
