#ifndef WINNOW_DAEMON_STATS_H
#define WINNOW_DAEMON_STATS_H
/*
 * Counters shared by the main process and every worker: one anonymous
 * MAP_SHARED mapping made before the first fork, so all processes see the
 * same memory.  Fields are lock-free atomics; workers add with relaxed
 * ordering (the numbers are statistics, not synchronisation).  The mapping
 * survives reloads: a new configuration keeps counting where the old one
 * stopped.  The controller reads it for /stat, /graph, /errors, /metrics
 * and /status; the main process for the control socket.
 *
 * Besides plain counters it holds:
 *   - a scan-time histogram and the last STATS_SCAN_TIMES scan times;
 *   - the lower layers' counters (Redis, DNS: core/counters.h);
 *   - per-action message counts in time buckets (a day of minutes, a year
 *     of half hours) for /graph;
 *   - a ring of the last STATS_ERRORS error and warning log lines;
 *   - the table of running workers (written by the main process).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/actions.h"
#include "core/counters.h"

#define STATS_SCAN_TIMES 31      /* as many as Rspamd's /stat scan_times */
#define STATS_HIST_N 12          /* finite histogram bounds; one more bucket for +Inf */
#define STATS_SERIES 6           /* reject .. no action: the classic actions */
#define STATS_MINUTES 1440       /* one day of one-minute buckets */
#define STATS_HALFHOURS 17568    /* 366 days of half-hour buckets */
#define STATS_ERRORS 64
#define STATS_WORKERS 128
#define STATS_SYMBOLS 2048       /* distinct symbol names counted (a power of two) */

/* Upper bounds (seconds) of the scan-time histogram buckets. */
extern const double daemon_stats_hist_bounds[STATS_HIST_N];

struct stats_bucket {
    _Atomic uint64_t stamp;      /* period index + 1; 0 never used; UINT64_MAX being reset */
    _Atomic uint64_t n[STATS_SERIES];
};

struct stats_error {
    _Atomic uint64_t seq;        /* odd while being written */
    double ts;                   /* unix time */
    int32_t pid;
    char type[24];               /* process: main, normal, controller, ... */
    char id[24];                 /* task id, "" if none */
    char module[32];
    char message[416];
};

/* Hits per symbol name, for /counters and the frequency in /symbols.  By
 * name, not by index, so a reload that reorders symbols keeps counting. */
struct stats_symbol {
    _Atomic uint64_t hash;       /* 0 free, UINT64_MAX being claimed */
    char name[56];
    _Atomic uint64_t hits;
};

struct stats_worker {
    _Atomic int64_t pid;         /* 0 = free slot */
    _Atomic uint64_t started;    /* unix time */
    _Atomic uint64_t restarts;
    char type[24];
};

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

    _Atomic uint64_t scan_hist[STATS_HIST_N + 1];  /* per bucket, not cumulative */
    _Atomic uint64_t scan_time_sum_us;
    _Atomic uint64_t scan_times_us[STATS_SCAN_TIMES];
    _Atomic uint64_t scan_times_pos;         /* scans recorded in scan_times_us, ever */

    struct core_counters lower;              /* what core_counters points to */

    _Atomic uint64_t errors_pos;             /* lines ever recorded */
    struct stats_error errors[STATS_ERRORS];
    struct stats_worker workers[STATS_WORKERS];
    struct stats_symbol symbols[STATS_SYMBOLS];
    struct stats_bucket minutes[STATS_MINUTES];
    struct stats_bucket halfhours[STATS_HALFHOURS];
};

/* Maps the segment, points core_counters into it and hooks the log for
 * the error ring; panics if mmap fails (start-up only). */
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

/* Counts one finished scan: scanned, the action, spam/ham, the time
 * series, and (scan_time >= 0, seconds) the histogram and recent times. */
void daemon_stats_count_scan(const struct actions *acts, int action, double scan_time);

struct task;
/* Everything a finished task counts (unless it has TASK_NO_STAT):
 * daemon_stats_count_scan() with its action and time, and a hit for each
 * of its symbols. */
void daemon_stats_count_task(const struct task *task);

/* Hits of one symbol since start (0 if never seen). */
uint64_t daemon_stats_symbol_hits(const char *name);

/* Seconds since the main process started. */
uint64_t daemon_stats_uptime(void);
/* The mean of the recent scan times (seconds), 0 before the first scan. */
double daemon_stats_scan_time_average(void);
/* Whether action i has a place in the per-action views (/stat, /status,
 * /metrics): Rspamd 3.4 lists its six classic actions; discard and
 * quarantine appear once enabled or counted. */
bool daemon_stats_action_listed(const struct actions *acts, size_t i);

/* The process type named in the error ring ("main", "normal", ...). */
void daemon_stats_set_process(const char *type);

/* ---- /graph ---- */

struct stats_point {
    uint64_t x;                  /* unix time the point's interval starts */
    double y[STATS_SERIES];      /* messages per minute, averaged over the interval */
    bool known;                  /* false: the interval is before the daemon started */
};

/* Fills up to max points (oldest first) for "hour", "day", "week", "month"
 * or "year" ending at now.  Returns the number of points, or -1 for an
 * unknown type. */
int daemon_stats_graph(const char *type, uint64_t now, struct stats_point *out, size_t max);

/* ---- /errors ---- */

/* Copies the recorded lines, oldest first, into out (up to max); returns
 * how many. */
size_t daemon_stats_errors(struct stats_error *out, size_t max);

/* ---- the worker table (main process) ---- */

void daemon_stats_worker_started(pid_t pid, const char *type, unsigned restarts);
void daemon_stats_worker_exited(pid_t pid);

#endif
