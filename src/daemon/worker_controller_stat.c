/*
 * The controller's read-only views of counters and policy: /auth, /stat
 * (spec §5.3: same keys in the same order as Rspamd 3.4, so rspamc and the
 * Rspamd web UI parse it), /statreset, /actions and /symbols.  The numbers
 * come from the shared-memory counters every worker adds to (stats.h).
 * Memory-pool figures Rspamd reports have no meaning here and are 0;
 * scan_times are the last scans' times, oldest first.  statfiles are the
 * Bayes classes (BAYES_SPAM, BAYES_HAM), read from Redis by the bayes
 * module (bayes_stats_fetch) before the reply is written; empty when Bayes
 * is off, and empty with a log line when Redis cannot answer, so /stat
 * itself never fails on Redis.
 */
#include <ev.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/symbols.h"
#include "daemon/stats.h"
#include "daemon/worker.h"
#include "daemon/worker_controller.h"
#include "modules/bayes/bayes_module.h"

#define STAT_VERSION "3.4"       /* what Rspamd-shaped clients compare against */

static uint64_t action_count(int id)
{
    return daemon_stats_read(&daemon_stats_get()->actions[id]);
}

static void reply_writer(struct ctl_req *r, struct buf *b)
{
    ctl_reply_json(r->conn, 200, b->data, b->len, r->keep_alive);
    buf_free(b);
}

void ctl_ep_auth(struct ctl_req *r)
{
    struct daemon_stats *st = daemon_stats_get();
    struct buf b = BUF_INIT;
    struct json_writer jw;

    json_init(&jw, &b, false);
    json_obj_begin(&jw);
    json_key(&jw, "version"); json_str(&jw, STAT_VERSION);
    json_key(&jw, "auth"); json_str(&jw, "ok");
    json_key(&jw, "uptime"); json_int(&jw, (int64_t)daemon_stats_uptime());
    json_key(&jw, "clean"); json_int(&jw, (int64_t)action_count(ACTION_NO_ACTION));
    json_key(&jw, "probable");
    json_int(&jw, (int64_t)(action_count(ACTION_ADD_HEADER) + action_count(ACTION_REWRITE_SUBJECT)));
    json_key(&jw, "greylist"); json_int(&jw, (int64_t)action_count(ACTION_GREYLIST));
    json_key(&jw, "reject"); json_int(&jw, (int64_t)action_count(ACTION_REJECT));
    json_key(&jw, "soft_reject"); json_int(&jw, (int64_t)action_count(ACTION_SOFT_REJECT));
    json_key(&jw, "scanned"); json_int(&jw, (int64_t)daemon_stats_read(&st->scanned));
    json_key(&jw, "learned"); json_int(&jw, (int64_t)daemon_stats_read(&st->learned));
    json_key(&jw, "read_only"); json_bool(&jw, r->read_only);
    json_key(&jw, "config_id"); json_str(&jw, ctl_config_id(r->w));
    json_obj_end(&jw);
    reply_writer(r, &b);
}

static void stat_actions(struct json_writer *jw, const struct actions *acts)
{
    json_key(jw, "actions");
    json_obj_begin(jw);
    for (size_t i = 0; i < acts->n; i++) {
        if (!daemon_stats_action_listed(acts, i))
            continue;
        json_key(jw, acts->a[i].name);
        json_int(jw, (int64_t)action_count((int)i));
    }
    json_obj_end(jw);
}

static void stat_zeroes(struct json_writer *jw)
{
    static const char *const keys[] = {
        "pools_allocated", "pools_freed", "bytes_allocated", "chunks_allocated",
        "shared_chunks_allocated", "chunks_freed", "chunks_oversized", "fragmented",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_key(jw, keys[i]);
        json_int(jw, 0);
    }
}

/* The last STATS_SCAN_TIMES scan times in seconds, oldest first. */
static void stat_scan_times(struct json_writer *jw, struct daemon_stats *st)
{
    uint64_t pos = daemon_stats_read(&st->scan_times_pos);
    uint64_t from = pos > STATS_SCAN_TIMES ? pos - STATS_SCAN_TIMES : 0;

    json_key(jw, "scan_times");
    json_arr_begin(jw);
    for (uint64_t i = from; i < pos; i++)
        json_double(jw, (double)daemon_stats_read(&st->scan_times_us[i % STATS_SCAN_TIMES]) / 1e6);
    json_arr_end(jw);
}

/* Rspamd's statfile objects: revision = learns of the class over all
 * users; Redis has no blocks, so used, total and size are 0. */
static void stat_statfile(struct json_writer *jw, const char *symbol, uint64_t revision,
                          uint64_t users)
{
    json_obj_begin(jw);
    json_key(jw, "revision"); json_int(jw, (int64_t)revision);
    json_key(jw, "used"); json_int(jw, 0);
    json_key(jw, "total"); json_int(jw, 0);
    json_key(jw, "size"); json_int(jw, 0);
    json_key(jw, "symbol"); json_str(jw, symbol);
    json_key(jw, "type"); json_str(jw, "redis");
    json_key(jw, "languages"); json_int(jw, 0);
    json_key(jw, "users"); json_int(jw, (int64_t)users);
    json_obj_end(jw);
}

static void stat_statfiles(struct json_writer *jw, const struct bayes_stats *bs)
{
    json_key(jw, "statfiles");
    json_arr_begin(jw);
    if (bs != NULL) {
        stat_statfile(jw, bayes_stats_symbol(true), bs->learns_spam, bs->users);
        stat_statfile(jw, bayes_stats_symbol(false), bs->learns_ham, bs->users);
    }
    json_arr_end(jw);
}

static void stat_render(struct ctl_req *r, struct buf *b, const struct bayes_stats *bs)
{
    struct daemon_stats *st = daemon_stats_get();
    struct json_writer jw;
    uint64_t learned = daemon_stats_read(&st->learned);

    json_init(&jw, b, false);
    json_obj_begin(&jw);
    json_key(&jw, "version"); json_str(&jw, STAT_VERSION);
    json_key(&jw, "config_id"); json_str(&jw, ctl_config_id(r->w));
    json_key(&jw, "uptime"); json_int(&jw, (int64_t)daemon_stats_uptime());
    json_key(&jw, "read_only"); json_bool(&jw, r->read_only);
    json_key(&jw, "scanned"); json_int(&jw, (int64_t)daemon_stats_read(&st->scanned));
    json_key(&jw, "learned"); json_int(&jw, (int64_t)learned);
    stat_actions(&jw, &r->w->cfg->actions);
    stat_scan_times(&jw, st);
    json_key(&jw, "spam_count"); json_int(&jw, (int64_t)daemon_stats_read(&st->spam_count));
    json_key(&jw, "ham_count"); json_int(&jw, (int64_t)daemon_stats_read(&st->ham_count));
    json_key(&jw, "connections"); json_int(&jw, (int64_t)daemon_stats_read(&st->connections));
    json_key(&jw, "control_connections");
    json_int(&jw, (int64_t)daemon_stats_read(&st->control_connections));
    stat_zeroes(&jw);
    json_key(&jw, "total_learns"); json_int(&jw, (int64_t)learned);
    stat_statfiles(&jw, bs);
    json_obj_end(&jw);
}

/* Zeroes what Rspamd's /statreset zeroes (not the Bayes statistics). */
static void stat_reset(struct ctl_req *r)
{
    struct daemon_stats *st = daemon_stats_get();

    for (size_t i = 0; i < ACTIONS_MAX; i++)
        atomic_store(&st->actions[i], 0);
    atomic_store(&st->scanned, 0);
    atomic_store(&st->learned, 0);
    atomic_store(&st->spam_count, 0);
    atomic_store(&st->ham_count, 0);
    atomic_store(&st->connections, 0);
    atomic_store(&st->control_connections, 0);
    log_notice("controller: statistics reset by %s", conn_peer(r->conn));
}

/* A request waiting for the Bayes figures: the request's fields are copied
 * (the router's ctl_req lives on its stack); the connection is held with
 * conn_task_begin until the reply. */
struct bayes_job {
    struct ctl_req r;
    ctl_bayes_fn fn;
    bool flag;
};

static void bayes_fetched(const struct bayes_stats *bs, const char *error, void *data)
{
    struct bayes_job *job = data;
    struct conn *c = job->r.conn;

    if (bs == NULL)
        log_warn("controller: replying without the Bayes statistics: %s",
                 error ? error : "no reply");
    if (!conn_peer_gone(c))
        job->fn(&job->r, bs, job->flag);
    free(job);
    conn_task_end(c);
}

void ctl_with_bayes_stats(struct ctl_req *r, ctl_bayes_fn fn, bool flag)
{
    if (!bayes_stats_available()) {
        fn(r, NULL, flag);
        return;
    }
    struct bayes_job *job = calloc(1, sizeof(*job));
    if (job == NULL)
        panic("out of memory");
    job->r = *r;
    job->r.req = NULL;           /* not kept past this call */
    job->fn = fn;
    job->flag = flag;
    conn_task_begin(r->conn);
    bayes_stats_fetch(bayes_fetched, job);
}

/* Another worker may count between rendering and a reset; that scan is
 * then lost from both views, which is acceptable for statistics. */
static void stat_reply(struct ctl_req *r, const struct bayes_stats *bs, bool reset)
{
    struct buf b = BUF_INIT;

    stat_render(r, &b, bs);
    if (reset)
        stat_reset(r);
    reply_writer(r, &b);
}

void ctl_ep_stat(struct ctl_req *r)
{
    ctl_with_bayes_stats(r, stat_reply, false);
}

/* Shows the counters, then zeroes them. */
void ctl_ep_statreset(struct ctl_req *r)
{
    ctl_with_bayes_stats(r, stat_reply, true);
}

/* /actions: enabled thresholds in ascending order, then the disabled
 * classic actions with null, as Rspamd 3.4 lists them. */
static int threshold_cmp(const void *a, const void *b)
{
    const struct action_def *x = *(const struct action_def *const *)a;
    const struct action_def *y = *(const struct action_def *const *)b;
    return (x->threshold > y->threshold) - (x->threshold < y->threshold);
}

void ctl_ep_actions(struct ctl_req *r)
{
    const struct actions *acts = &r->w->cfg->actions;
    const struct action_def *on[ACTIONS_MAX];
    size_t non = 0;
    struct buf b = BUF_INIT;
    struct json_writer jw;

    for (size_t i = 0; i < acts->n && i < ACTIONS_MAX; i++)
        if (!isnan(acts->a[i].threshold))
            on[non++] = &acts->a[i];
    qsort(on, non, sizeof(on[0]), threshold_cmp);
    json_init(&jw, &b, false);
    json_arr_begin(&jw);
    for (size_t i = 0; i < non; i++) {
        json_obj_begin(&jw);
        json_key(&jw, "action"); json_str(&jw, on[i]->name);
        json_key(&jw, "value"); json_double(&jw, on[i]->threshold);
        json_obj_end(&jw);
    }
    for (size_t i = 0; i < ACTION_DISCARD && i < acts->n; i++) {
        if (!isnan(acts->a[i].threshold))
            continue;
        json_obj_begin(&jw);
        json_key(&jw, "action"); json_str(&jw, acts->a[i].name);
        json_key(&jw, "value"); json_null(&jw);
        json_obj_end(&jw);
    }
    json_arr_end(&jw);
    reply_writer(r, &b);
}

/* Share of scanned messages the symbol fired on, as Rspamd reports it. */
double ctl_symbol_frequency(const char *name)
{
    uint64_t scanned = daemon_stats_read(&daemon_stats_get()->scanned);
    return scanned ? (double)daemon_stats_symbol_hits(name) / (double)scanned : 0.0;
}

static void symbol_rule(struct json_writer *jw, const struct symbol_def *d)
{
    json_obj_begin(jw);
    json_key(jw, "symbol"); json_str(jw, d->name);
    json_key(jw, "weight"); json_double(jw, d->score);
    json_key(jw, "description"); json_str(jw, d->description ? d->description : "");
    json_key(jw, "frequency"); json_double(jw, ctl_symbol_frequency(d->name));
    json_key(jw, "frequency_stddev"); json_int(jw, 0);
    json_key(jw, "time"); json_int(jw, 0);
    json_obj_end(jw);
}

static const char *group_of(const struct symbol_def *d)
{
    return d->group != NULL ? d->group : "ungrouped";
}

/* /symbols: groups in order of first appearance, each with its rules. */
void ctl_ep_symbols(struct ctl_req *r)
{
    const struct symtab *st = r->w->cfg->symtab;
    size_t n = st ? symtab_count(st) : 0;
    struct buf b = BUF_INIT;
    struct json_writer jw;

    json_init(&jw, &b, false);
    json_arr_begin(&jw);
    for (size_t i = 0; i < n; i++) {
        const char *g = group_of(symtab_at(st, i));
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(group_of(symtab_at(st, j)), g) == 0;
        if (seen)
            continue;
        json_obj_begin(&jw);
        json_key(&jw, "group"); json_str(&jw, g);
        json_key(&jw, "rules");
        json_arr_begin(&jw);
        for (size_t j = i; j < n; j++) {
            const struct symbol_def *d = symtab_at(st, j);
            if (strcmp(group_of(d), g) == 0 && !(d->flags & SYMBOL_IGNORE))
                symbol_rule(&jw, d);
        }
        json_arr_end(&jw);
        json_obj_end(&jw);
    }
    json_arr_end(&jw);
    reply_writer(r, &b);
}
