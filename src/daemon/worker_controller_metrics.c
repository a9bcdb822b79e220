/*
 * The controller's monitoring views: /graph (messages per minute per action
 * over an hour .. a year), /pie (Rspamd's action pie), /errors (recent
 * error and warning lines), /counters (hits per symbol), /metrics (Prometheus text format, spec §5.5,
 * with winnow's own families added), /status (health: workers, Redis, DNS,
 * modules; status.c) and /configdump (the effective configuration with
 * secrets hidden).  All numbers come from the shared segment (stats.h), so
 * they cover every worker.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "core/counters.h"
#include "core/json.h"
#include "core/symbols.h"
#include "daemon/stats.h"
#include "daemon/status.h"
#include "daemon/worker.h"
#include "daemon/worker_controller.h"
#include "modules/bayes/bayes_module.h"

static void reply_buf(struct ctl_req *r, struct buf *b)
{
    ctl_reply_json(r->conn, 200, b->data, b->len, r->keep_alive);
    buf_free(b);
}

/* ---- /graph ---- */

void ctl_ep_graph(struct ctl_req *r)
{
    static struct stats_point pts[400];
    const char *type = http_request_query(r->req, "type");
    struct buf b = BUF_INIT;
    struct json_writer jw;
    int n = daemon_stats_graph(type ? type : "", (uint64_t)time(NULL), pts, 400);

    if (n < 0) {
        ctl_reply_error(r->conn, 400, "Invalid graph type", r->keep_alive);
        return;
    }
    json_init(&jw, &b, false);
    json_arr_begin(&jw);
    for (int k = 0; k < STATS_SERIES; k++) {
        json_arr_begin(&jw);
        for (int i = 0; i < n; i++) {
            json_obj_begin(&jw);
            json_key(&jw, "x"); json_int(&jw, (int64_t)pts[i].x);
            json_key(&jw, "y");
            if (pts[i].known)
                json_double(&jw, pts[i].y[k]);
            else
                json_null(&jw);
            json_obj_end(&jw);
        }
        json_arr_end(&jw);
    }
    json_arr_end(&jw);
    reply_buf(r, &b);
}

/* ---- /pie ---- */

void ctl_ep_pie(struct ctl_req *r)
{
    static const struct { const char *color, *label; int a, b; } slices[] = {
        {"#66cc00", "Clean", ACTION_NO_ACTION, -1},
        {"#cc9966", "Temporarily rejected", ACTION_SOFT_REJECT, -1},
        {"#FFD700", "Probable spam", ACTION_ADD_HEADER, ACTION_REWRITE_SUBJECT},
        {"#436EEE", "Greylisted", ACTION_GREYLIST, -1},
        {"#FF0000", "Rejected", ACTION_REJECT, -1},
    };
    struct daemon_stats *st = daemon_stats_get();
    struct buf b = BUF_INIT;
    struct json_writer jw;

    json_init(&jw, &b, false);
    json_arr_begin(&jw);
    for (size_t i = 0; i < sizeof(slices) / sizeof(slices[0]); i++) {
        uint64_t v = daemon_stats_read(&st->actions[slices[i].a]);
        if (slices[i].b >= 0)
            v += daemon_stats_read(&st->actions[slices[i].b]);
        json_obj_begin(&jw);
        json_key(&jw, "color"); json_str(&jw, slices[i].color);
        json_key(&jw, "label"); json_str(&jw, slices[i].label);
        json_key(&jw, "data"); json_double(&jw, (double)v);
        json_key(&jw, "value"); json_double(&jw, (double)v);
        json_obj_end(&jw);
    }
    json_arr_end(&jw);
    reply_buf(r, &b);
}

/* ---- /counters ---- */

/* Every registered symbol with its hits since start (Rspamd's shape). */
void ctl_ep_counters(struct ctl_req *r)
{
    const struct symtab *tab = r->w->cfg->symtab;
    size_t n = tab ? symtab_count(tab) : 0;
    struct buf b = BUF_INIT;
    struct json_writer jw;

    json_init(&jw, &b, false);
    json_arr_begin(&jw);
    for (size_t i = 0; i < n; i++) {
        const struct symbol_def *d = symtab_at(tab, i);
        if (d->flags & SYMBOL_IGNORE)
            continue;
        json_obj_begin(&jw);
        json_key(&jw, "symbol"); json_str(&jw, d->name);
        json_key(&jw, "weight"); json_double(&jw, d->score);
        json_key(&jw, "frequency"); json_double(&jw, ctl_symbol_frequency(d->name));
        json_key(&jw, "hits"); json_int(&jw, (int64_t)daemon_stats_symbol_hits(d->name));
        json_key(&jw, "time"); json_int(&jw, 0);
        json_obj_end(&jw);
    }
    json_arr_end(&jw);
    reply_buf(r, &b);
}

/* ---- /errors ---- */

void ctl_ep_errors(struct ctl_req *r)
{
    static struct stats_error errs[STATS_ERRORS];
    size_t n = daemon_stats_errors(errs, STATS_ERRORS);
    struct buf b = BUF_INIT;
    struct json_writer jw;

    json_init(&jw, &b, false);
    json_arr_begin(&jw);
    for (size_t i = 0; i < n; i++) {
        json_obj_begin(&jw);
        json_key(&jw, "ts"); json_double(&jw, errs[i].ts);
        json_key(&jw, "type"); json_str(&jw, errs[i].type);
        json_key(&jw, "pid"); json_int(&jw, errs[i].pid);
        json_key(&jw, "id"); json_str(&jw, errs[i].id);
        json_key(&jw, "module"); json_str(&jw, errs[i].module);
        json_key(&jw, "message"); json_str(&jw, errs[i].message);
        json_obj_end(&jw);
    }
    json_arr_end(&jw);
    reply_buf(r, &b);
}

/* ---- /status, /configdump ---- */

void ctl_ep_status(struct ctl_req *r)
{
    struct buf b = BUF_INIT;
    daemon_status_json(r->w->cfg, &b);
    reply_buf(r, &b);
}

void ctl_ep_configdump(struct ctl_req *r)
{
    struct buf b = BUF_INIT;
    conf_emit_json_redacted(r->w->cfg->root, &b, false);
    reply_buf(r, &b);
}

/* ---- /metrics ---- */

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric(struct buf *b, const char *name, const char *type, const char *help,
                   uint64_t v)
{
    family(b, name, type, help);
    buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void metric_double(struct buf *b, const char *name, const char *help, double v)
{
    family(b, name, "gauge", help);
    buf_printf(b, "%s %.6f\n", name, isfinite(v) ? v : 0.0);
}

/* A plain counter of the shared segment (in_lower: of its core_counters). */
struct counter_metric {
    const char *name, *type, *help;
    size_t offset;
    bool in_lower;
};

#define SHARED(field) offsetof(struct daemon_stats, field), false
#define LOWER(field) offsetof(struct core_counters, field), true

/* Rspamd 3.4's families first (spec §5.5), so its dashboards work. */
static const struct counter_metric counters_rspamd[] = {
    {"rspamd_scanned_total", "counter", "Scanned messages", SHARED(scanned)},
    {"rspamd_learned_total", "counter", "Learned messages", SHARED(learned)},
    {"rspamd_spam_total", "counter", "Messages classified as spam", SHARED(spam_count)},
    {"rspamd_ham_total", "counter", "Messages classified as ham", SHARED(ham_count)},
    {"rspamd_connections", "gauge", "Connections accepted by the workers", SHARED(connections)},
    {"rspamd_control_connections_total", "counter", "Controller connections",
     SHARED(control_connections)},
    {"rspamd_learns_total", "counter", "Total learns", SHARED(learned)},
};

static const struct counter_metric counters_winnow[] = {
    {"winnow_worker_restarts_total", "counter", "Workers restarted after an unexpected exit",
     SHARED(worker_restarts)},
    {"winnow_bad_requests_total", "counter", "Requests refused as malformed or too large",
     SHARED(bad_requests)},
    {"winnow_redis_commands_total", "counter", "Redis commands sent", LOWER(redis_commands)},
    {"winnow_redis_errors_total", "counter", "Redis commands that failed", LOWER(redis_errors)},
    {"winnow_redis_timeouts_total", "counter", "Redis commands that timed out",
     LOWER(redis_timeouts)},
    {"winnow_redis_connect_failures_total", "counter", "Redis connections lost or refused",
     LOWER(redis_connect_failures)},
    {"winnow_dns_queries_total", "counter", "DNS queries sent (cache misses)", LOWER(dns_queries)},
    {"winnow_dns_errors_total", "counter",
     "DNS queries that failed (SERVFAIL, REFUSED, bad answers)", LOWER(dns_errors)},
    {"winnow_dns_timeouts_total", "counter", "DNS queries without an answer in time",
     LOWER(dns_timeouts)},
};

static void counters_emit(struct buf *b, struct daemon_stats *st,
                          const struct counter_metric *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *base = m[i].in_lower ? (char *)core_counters : (char *)st;
        metric(b, m[i].name, m[i].type, m[i].help,
               daemon_stats_read((_Atomic uint64_t *)(base + m[i].offset)));
    }
}

/* Label values are our own names, but escape as the format asks anyway. */
static void label_value(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_putc(b, '\\');
        if (*s == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *s);
    }
}

static void metrics_rspamd(struct buf *b, struct ctl_req *r, struct daemon_stats *st)
{
    const struct actions *acts = &r->w->cfg->actions;

    family(b, "rspamd_build_info", "gauge", "A metric with a constant '1' value labeled by version");
    buf_printf(b, "rspamd_build_info{version=\"%s\"} 1\n", WINNOW_VERSION);
    family(b, "rspamd_config", "gauge", "A metric with a constant '1' value labeled by the config id");
    buf_printf(b, "rspamd_config{id=\"%s\"} 1\n", ctl_config_id(r->w));
    metric_double(b, "rspamd_scan_time_average", "Average scan time of the recent scans, seconds",
                  daemon_stats_scan_time_average());
    metric(b, "process_start_time_seconds", "gauge", "Start time of the process since the epoch",
           daemon_stats_read(&st->start_time));
    metric(b, "rspamd_read_only", "gauge", "Whether the caller holds only the read password",
           r->read_only);
    counters_emit(b, st, counters_rspamd, sizeof(counters_rspamd) / sizeof(counters_rspamd[0]));
    family(b, "rspamd_actions_total", "counter", "Messages per action");
    for (size_t i = 0; i < acts->n; i++) {
        if (!daemon_stats_action_listed(acts, i))
            continue;
        buf_puts(b, "rspamd_actions_total{type=\"");
        label_value(b, acts->a[i].name);
        buf_printf(b, "\"} %llu\n", (unsigned long long)daemon_stats_read(&st->actions[i]));
    }
}

static void metrics_histogram(struct buf *b, struct daemon_stats *st)
{
    uint64_t cum = 0;

    family(b, "winnow_scan_duration_seconds", "histogram", "Time from a message's arrival to its verdict");
    for (size_t i = 0; i <= STATS_HIST_N; i++) {
        cum += daemon_stats_read(&st->scan_hist[i]);
        if (i < STATS_HIST_N)
            buf_printf(b, "winnow_scan_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       daemon_stats_hist_bounds[i], (unsigned long long)cum);
        else
            buf_printf(b, "winnow_scan_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                       (unsigned long long)cum);
    }
    buf_printf(b, "winnow_scan_duration_seconds_sum %.6f\n",
               (double)daemon_stats_read(&st->scan_time_sum_us) / 1e6);
    buf_printf(b, "winnow_scan_duration_seconds_count %llu\n", (unsigned long long)cum);
}

static void metrics_winnow(struct buf *b, struct ctl_req *r, struct daemon_stats *st)
{
    const char *state = daemon_status_redis_state(r->w->cfg);
    size_t nworkers = 0;

    for (size_t i = 0; i < STATS_WORKERS; i++)
        nworkers += atomic_load(&st->workers[i].pid) != 0;
    metrics_histogram(b, st);
    metric(b, "winnow_workers", "gauge", "Worker processes running", nworkers);
    metric(b, "winnow_redis_up", "gauge",
           "1 when Redis answered last, 0 when it failed last or is not configured",
           strcmp(state, "up") == 0);
    counters_emit(b, st, counters_winnow, sizeof(counters_winnow) / sizeof(counters_winnow[0]));
}

/* rspamd_statfiles_*: one sample per Bayes class; Redis has no blocks, so
 * used, totals and size are 0 as in Rspamd's Redis backend. */
static void metrics_statfiles(struct buf *b, const struct bayes_stats *bs)
{
    static const char *const fams[] = {"revision", "used", "totals", "size", "languages", "users"};

    if (bs == NULL)
        return;
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        char name[64];
        snprintf(name, sizeof(name), "rspamd_statfiles_%s", fams[f]);
        family(b, name, "gauge", "Bayes statistics per class (Redis backend)");
        for (int spam = 1; spam >= 0; spam--) {
            uint64_t v = f == 0 ? (spam ? bs->learns_spam : bs->learns_ham)
                       : f == 5 ? bs->users : 0;
            buf_printf(b, "%s{symbol=\"", name);
            label_value(b, bayes_stats_symbol(spam));
            buf_printf(b, "\",type=\"redis\"} %llu\n", (unsigned long long)v);
        }
    }
}

static void metrics_reply(struct ctl_req *r, const struct bayes_stats *bs, bool unused)
{
    struct daemon_stats *st = daemon_stats_get();
    struct buf b = BUF_INIT;

    (void)unused;
    metrics_rspamd(&b, r, st);
    metrics_statfiles(&b, bs);
    metrics_winnow(&b, r, st);
    buf_puts(&b, "# EOF\n");
    ctl_reply(r->conn, 200, NULL, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len,
              r->keep_alive);
    buf_free(&b);
}

void ctl_ep_metrics(struct ctl_req *r)
{
    ctl_with_bayes_stats(r, metrics_reply, false);
}
