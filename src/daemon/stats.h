#ifndef WINNOW_DAEMON_STATS_H
#define WINNOW_DAEMON_STATS_H
/*
 * Counters shared by the main process and every worker: one anonymous
 * MAP_SHARED mapping made before the first fork, so all processes see the
 * same memory.  Fields are lock-free atomics; workers add with relaxed
 * ordering (the numbers are statistics, not synchronisation).  The mapping
 * survives reloads: a new configuration keeps counting where the old one
 * stopped.  The controller (a later worker type) reads it for `/stat`.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/actions.h"

struct daemon_stats {
    _Atomic uint64_t start_time;             /* Unix time the main process started */
    _Atomic uint64_t scanned;                /* tasks finished (excluding TASK_NO_STAT) */
    _Atomic uint64_t actions[ACTIONS_MAX];   /* per action id, same condition */
    _Atomic uint64_t spam_count, ham_count;  /* by actions_is_spam() */
    _Atomic uint64_t learned;                /* learn_spam / learn_ham (controller) */
    _Atomic uint64_t connections;            /* accepted connections, all workers */
    _Atomic uint64_t control_connections;    /* controller connections */
    _Atomic uint64_t worker_restarts;        /* workers restarted after an exit */
    _Atomic uint64_t bad_requests;           /* requests answered 4xx/5xx by the parser */
};

/* Maps the segment; panics if mmap fails (start-up only). */
struct daemon_stats *daemon_stats_create(void);

/* The process's mapping (NULL before daemon_stats_create). */
struct daemon_stats *daemon_stats_get(void);

static inline void daemon_stats_inc(_Atomic uint64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static inline uint64_t daemon_stats_read(_Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

/* Counts one finished scan: scanned, the action and spam/ham. */
void daemon_stats_count_scan(const struct actions *acts, int action);

#endif
