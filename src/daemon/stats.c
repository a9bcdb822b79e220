/*
 * Shared-memory counters (see stats.h).  Owns the one mapping; it is never
 * unmapped, it lives as long as the processes.  Refuses nothing: a counter
 * index outside the table is ignored rather than trusted.
 *
 * Several processes write the same time bucket and the same error slot
 * without a lock.  A bucket that starts a new period is claimed with a
 * compare-and-swap on its stamp, zeroed, then published; a count that
 * arrives during those few instructions is dropped, which statistics can
 * afford.  Error slots carry a sequence number (odd while written), so a
 * reader never returns a half-written line.
 */
#include "daemon/stats.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/task.h"

#define STAMP_BUSY UINT64_MAX

const double daemon_stats_hist_bounds[STATS_HIST_N] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
};

static struct daemon_stats *stats_segment;
static char process_type[24] = "main";

static void error_hook(enum log_level level, const char *module, const char *task_id,
                       const char *msg);

struct daemon_stats *daemon_stats_create(void)
{
    void *p;

    if (stats_segment != NULL)
        return stats_segment;
    p = mmap(NULL, sizeof(struct daemon_stats), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        panic("mmap of the shared counters failed");
    /* MAP_ANONYMOUS memory is zero-filled, which is a valid atomic zero. */
    stats_segment = p;
    atomic_store(&stats_segment->start_time, (uint64_t)time(NULL));
    core_counters_share(&stats_segment->lower);
    log_set_hook(error_hook);
    return stats_segment;
}

struct daemon_stats *daemon_stats_get(void)
{
    return stats_segment;
}

void daemon_stats_set_process(const char *type)
{
    snprintf(process_type, sizeof(process_type), "%s", type ? type : "?");
}

/* ---- scans ---- */

static void bucket_add(struct stats_bucket *ring, size_t n, uint64_t period, int series)
{
    struct stats_bucket *b = &ring[period % n];
    uint64_t want = period + 1, st = atomic_load(&b->stamp);

    if (st != want) {
        if (st == STAMP_BUSY || st > want)
            return;              /* being reset, or a clock that went back */
        if (!atomic_compare_exchange_strong(&b->stamp, &st, STAMP_BUSY))
            return;
        for (size_t i = 0; i < STATS_SERIES; i++)
            atomic_store_explicit(&b->n[i], 0, memory_order_relaxed);
        atomic_store(&b->stamp, want);
    }
    atomic_fetch_add_explicit(&b->n[series], 1, memory_order_relaxed);
}

static void count_time(struct daemon_stats *s, double t)
{
    uint64_t us = (uint64_t)(t * 1e6 + 0.5);
    size_t i = 0;

    while (i < STATS_HIST_N && t > daemon_stats_hist_bounds[i])
        i++;
    daemon_stats_inc(&s->scan_hist[i]);
    atomic_fetch_add_explicit(&s->scan_time_sum_us, us, memory_order_relaxed);
    uint64_t pos = atomic_fetch_add_explicit(&s->scan_times_pos, 1, memory_order_relaxed);
    atomic_store_explicit(&s->scan_times_us[pos % STATS_SCAN_TIMES], us, memory_order_relaxed);
}

void daemon_stats_count_scan(const struct actions *acts, int action, double scan_time)
{
    struct daemon_stats *s = stats_segment;

    if (s == NULL)
        return;
    daemon_stats_inc(&s->scanned);
    if (action >= 0 && action < ACTIONS_MAX)
        daemon_stats_inc(&s->actions[action]);
    if (acts != NULL && actions_is_spam(acts, action))
        daemon_stats_inc(&s->spam_count);
    else
        daemon_stats_inc(&s->ham_count);
    if (action >= 0 && action < STATS_SERIES) {
        uint64_t now = (uint64_t)time(NULL);
        bucket_add(s->minutes, STATS_MINUTES, now / 60, action);
        bucket_add(s->halfhours, STATS_HALFHOURS, now / 1800, action);
    }
    if (scan_time >= 0)
        count_time(s, scan_time);
}

/* ---- derived views ---- */

uint64_t daemon_stats_uptime(void)
{
    uint64_t now = (uint64_t)time(NULL);
    uint64_t start = stats_segment ? daemon_stats_read(&stats_segment->start_time) : now;
    return now > start ? now - start : 0;
}

double daemon_stats_scan_time_average(void)
{
    struct daemon_stats *s = stats_segment;
    uint64_t n = s ? daemon_stats_read(&s->scan_times_pos) : 0, sum = 0;
    size_t k = n < STATS_SCAN_TIMES ? (size_t)n : STATS_SCAN_TIMES;

    for (size_t i = 0; i < k; i++)
        sum += daemon_stats_read(&s->scan_times_us[i]);
    return k ? (double)sum / (double)k / 1e6 : 0.0;
}

bool daemon_stats_action_listed(const struct actions *acts, size_t i)
{
    if (i >= acts->n || i >= ACTIONS_MAX)
        return false;
    return i < ACTION_DISCARD || !isnan(acts->a[i].threshold) ||
           (stats_segment != NULL && daemon_stats_read(&stats_segment->actions[i]) != 0);
}

/* ---- symbols ---- */

static uint64_t name_hash(const char *name)
{
    uint64_t h = 1469598103934665603ULL;            /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h == 0 || h == STAMP_BUSY ? 1 : h;
}

/* The slot of name, claimed when create; NULL when absent (or the table is
 * full: the symbol then goes uncounted rather than evicting another). */
static struct stats_symbol *symbol_slot(struct daemon_stats *s, const char *name, bool create)
{
    uint64_t h = name_hash(name);
    size_t len = strlen(name);

    if (len >= sizeof(s->symbols[0].name))
        return NULL;
    for (size_t i = 0; i < STATS_SYMBOLS; i++) {
        struct stats_symbol *sym = &s->symbols[(h + i) & (STATS_SYMBOLS - 1)];
        uint64_t cur = atomic_load(&sym->hash);
        if (cur == 0 && create && atomic_compare_exchange_strong(&sym->hash, &cur, STAMP_BUSY)) {
            memcpy(sym->name, name, len + 1);
            atomic_store(&sym->hash, h);
            return sym;
        }
        /* cur now holds the slot's hash even when another process won it. */
        if (cur == 0)
            return NULL;             /* absent (lookup only) */
        if (cur == STAMP_BUSY)
            return NULL;             /* being claimed right now: skip one count */
        if (cur == h && strcmp(sym->name, name) == 0)
            return sym;
    }
    return NULL;
}

uint64_t daemon_stats_symbol_hits(const char *name)
{
    struct stats_symbol *sym = stats_segment ? symbol_slot(stats_segment, name, false) : NULL;
    return sym ? atomic_load_explicit(&sym->hits, memory_order_relaxed) : 0;
}

void daemon_stats_count_task(const struct task *task)
{
    struct daemon_stats *s = stats_segment;

    if (s == NULL || (task->flags & TASK_NO_STAT))
        return;
    daemon_stats_count_scan(task->actions, task->action, task_elapsed(task));
    for (const struct task_symbol *ts = task->symbols; ts != NULL; ts = ts->next) {
        struct stats_symbol *sym = symbol_slot(s, ts->name, true);
        if (sym != NULL)
            daemon_stats_inc(&sym->hits);
    }
}

/* ---- /graph ---- */

struct graph_type {
    const char *name;
    unsigned npoints;
    unsigned per_point;          /* buckets per point */
    bool minutes;                /* from the minute ring, else half hours */
};

static const struct graph_type graph_types[] = {
    {"hour", 60, 1, true},
    {"day", 288, 5, true},
    {"week", 336, 1, false},
    {"month", 360, 4, false},
    {"year", 365, 48, false},
};

static uint64_t bucket_count(const struct stats_bucket *ring, size_t n, uint64_t period,
                             int series)
{
    const struct stats_bucket *b = &ring[period % n];
    if (atomic_load(&b->stamp) != period + 1)
        return 0;
    return atomic_load_explicit(&b->n[series], memory_order_relaxed);
}

int daemon_stats_graph(const char *type, uint64_t now, struct stats_point *out, size_t max)
{
    const struct graph_type *g = NULL;
    struct daemon_stats *s = stats_segment;

    for (size_t i = 0; i < sizeof(graph_types) / sizeof(graph_types[0]); i++)
        if (type != NULL && strcmp(type, graph_types[i].name) == 0)
            g = &graph_types[i];
    if (g == NULL)
        return -1;
    if (s == NULL)
        return 0;
    uint64_t len = g->minutes ? 60 : 1800;
    const struct stats_bucket *ring = g->minutes ? s->minutes : s->halfhours;
    size_t ringn = g->minutes ? STATS_MINUTES : STATS_HALFHOURS;
    uint64_t last = now / len;                 /* the current, partial bucket */
    uint64_t start = daemon_stats_read(&s->start_time);
    size_t n = g->npoints < max ? g->npoints : max;
    uint64_t first = last + 1 >= (uint64_t)n * g->per_point
                     ? last + 1 - (uint64_t)n * g->per_point : 0;

    for (size_t p = 0; p < n; p++) {
        uint64_t b0 = first + (uint64_t)p * g->per_point;
        struct stats_point *pt = &out[p];
        pt->x = b0 * len;
        pt->known = (b0 + g->per_point) * len > start;
        for (int k = 0; k < STATS_SERIES; k++) {
            uint64_t sum = 0;
            for (unsigned j = 0; j < g->per_point; j++)
                sum += bucket_count(ring, ringn, b0 + j, k);
            pt->y[k] = (double)sum / ((double)(g->per_point * len) / 60.0);
        }
    }
    return (int)n;
}

/* ---- /errors ---- */

/* "redis(bayes): cannot ..." -> module "redis(bayes)" when the caller gave
 * none: most lines name their subsystem that way. */
static void module_of(const char *msg, char *out, size_t outsize)
{
    size_t n = strcspn(msg, ": ");
    out[0] = '\0';
    if (n > 0 && n < outsize && msg[n] == ':' && msg[n + 1] == ' ') {
        memcpy(out, msg, n);
        out[n] = '\0';
    }
}

static void error_hook(enum log_level level, const char *module, const char *task_id,
                       const char *msg)
{
    struct daemon_stats *s = stats_segment;
    struct stats_error *e;
    struct timespec ts;
    uint64_t seq;

    (void)level;
    if (s == NULL)
        return;
    e = &s->errors[atomic_fetch_add(&s->errors_pos, 1) % STATS_ERRORS];
    seq = atomic_load(&e->seq);
    /* Another process is writing this slot (the ring wrapped under a burst):
     * one line fewer is better than a torn one. */
    if ((seq & 1) || !atomic_compare_exchange_strong(&e->seq, &seq, seq + 1))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    e->ts = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    e->pid = (int32_t)getpid();
    snprintf(e->type, sizeof(e->type), "%s", process_type);
    snprintf(e->id, sizeof(e->id), "%s", task_id ? task_id : "");
    if (module != NULL)
        snprintf(e->module, sizeof(e->module), "%s", module);
    else
        module_of(msg, e->module, sizeof(e->module));
    snprintf(e->message, sizeof(e->message), "%s", msg);
    atomic_store(&e->seq, seq + 2);
}

static bool error_copy(struct stats_error *src, struct stats_error *dst)
{
    uint64_t before = atomic_load(&src->seq);

    if (before == 0 || (before & 1))
        return false;
    dst->ts = src->ts;
    dst->pid = src->pid;
    memcpy(dst->type, src->type, sizeof(dst->type));
    memcpy(dst->id, src->id, sizeof(dst->id));
    memcpy(dst->module, src->module, sizeof(dst->module));
    memcpy(dst->message, src->message, sizeof(dst->message));
    dst->type[sizeof(dst->type) - 1] = dst->id[sizeof(dst->id) - 1] = '\0';
    dst->module[sizeof(dst->module) - 1] = dst->message[sizeof(dst->message) - 1] = '\0';
    return atomic_load(&src->seq) == before;
}

size_t daemon_stats_errors(struct stats_error *out, size_t max)
{
    struct daemon_stats *s = stats_segment;
    size_t n = 0;

    if (s == NULL)
        return 0;
    uint64_t pos = atomic_load(&s->errors_pos);
    uint64_t from = pos > STATS_ERRORS ? pos - STATS_ERRORS : 0;
    for (uint64_t i = from; i < pos && n < max; i++)
        if (error_copy(&s->errors[i % STATS_ERRORS], &out[n]))
            n++;
    return n;
}

/* ---- workers ---- */

void daemon_stats_worker_started(pid_t pid, const char *type, unsigned restarts)
{
    struct daemon_stats *s = stats_segment;

    if (s == NULL)
        return;
    for (size_t i = 0; i < STATS_WORKERS; i++) {
        struct stats_worker *w = &s->workers[i];
        if (atomic_load(&w->pid) != 0)
            continue;
        snprintf(w->type, sizeof(w->type), "%s", type);
        atomic_store(&w->started, (uint64_t)time(NULL));
        atomic_store(&w->restarts, restarts);
        atomic_store(&w->pid, (int64_t)pid);
        return;
    }
}

void daemon_stats_worker_exited(pid_t pid)
{
    struct daemon_stats *s = stats_segment;

    if (s == NULL)
        return;
    for (size_t i = 0; i < STATS_WORKERS; i++)
        if (atomic_load(&s->workers[i].pid) == (int64_t)pid)
            atomic_store(&s->workers[i].pid, 0);
}
