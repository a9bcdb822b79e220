/*
 * The status object (see status.h).  Everything comes from the shared
 * segment (stats.h), so any process can build it: the numbers are those of
 * all workers together.
 */
#include "daemon/status.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/counters.h"
#include "core/json.h"
#include "core/log.h"
#include "daemon/stats.h"
#include "modules/pipeline.h"

static bool redis_configured(const struct config *cfg)
{
    const struct conf_obj *r = config_section(cfg, "redis");
    struct module_status m;

    if (r != NULL && (conf_get(r, "servers") || conf_get(r, "write_servers") ||
                      conf_get(r, "read_servers")))
        return true;
    for (size_t i = 0; modules_status_at(cfg, i, &m); i++)
        if (m.enabled && m.uses_redis)
            return true;
    return false;
}

const char *daemon_status_redis_state(const struct config *cfg)
{
    const struct core_counters *c = core_counters;
    uint64_t ok = atomic_load(&c->redis_last_ok), fail = atomic_load(&c->redis_last_fail);

    if (!redis_configured(cfg))
        return "unconfigured";
    if (ok == 0 && fail == 0)
        return "unknown";
    /* Whole seconds: a failure and a success in the same second count as up. */
    return fail > ok ? "down" : "up";
}

static void int_member(struct json_writer *jw, const char *key, uint64_t v)
{
    json_key(jw, key);
    json_int(jw, (int64_t)v);
}

static void status_counters(struct json_writer *jw, struct daemon_stats *st, const struct config *cfg)
{
    json_key(jw, "version"); json_str(jw, WINNOW_VERSION);
    int_member(jw, "uptime", daemon_stats_uptime());
    int_member(jw, "start_time", daemon_stats_read(&st->start_time));
    int_member(jw, "scanned", daemon_stats_read(&st->scanned));
    int_member(jw, "learned", daemon_stats_read(&st->learned));
    int_member(jw, "spam_count", daemon_stats_read(&st->spam_count));
    int_member(jw, "ham_count", daemon_stats_read(&st->ham_count));
    int_member(jw, "connections", daemon_stats_read(&st->connections));
    int_member(jw, "control_connections", daemon_stats_read(&st->control_connections));
    int_member(jw, "worker_restarts", daemon_stats_read(&st->worker_restarts));
    json_key(jw, "actions");
    json_obj_begin(jw);
    for (size_t i = 0; i < cfg->actions.n; i++)
        if (daemon_stats_action_listed(&cfg->actions, i))
            int_member(jw, cfg->actions.a[i].name, daemon_stats_read(&st->actions[i]));
    json_obj_end(jw);
    json_key(jw, "scan_time_average");
    json_double(jw, daemon_stats_scan_time_average());
}

static void status_workers(struct json_writer *jw, struct daemon_stats *st)
{
    uint64_t now = (uint64_t)time(NULL);

    json_key(jw, "workers");
    json_arr_begin(jw);
    for (size_t i = 0; i < STATS_WORKERS; i++) {
        struct stats_worker *w = &st->workers[i];
        int64_t pid = atomic_load(&w->pid);
        uint64_t started = atomic_load(&w->started);
        if (pid == 0)
            continue;
        json_obj_begin(jw);
        json_key(jw, "pid"); json_int(jw, pid);
        json_key(jw, "type"); json_strn(jw, w->type, strnlen(w->type, sizeof(w->type)));
        int_member(jw, "uptime", now > started ? now - started : 0);
        int_member(jw, "restarts", atomic_load(&w->restarts));
        json_obj_end(jw);
    }
    json_arr_end(jw);
}

static void status_deps(struct json_writer *jw, const struct config *cfg)
{
    struct core_counters *c = core_counters;
    char err[CORE_COUNTERS_ERRLEN];

    core_counters_redis_last_error(err, sizeof(err));
    json_key(jw, "redis");
    json_obj_begin(jw);
    json_key(jw, "state"); json_str(jw, daemon_status_redis_state(cfg));
    int_member(jw, "commands", atomic_load(&c->redis_commands));
    int_member(jw, "errors", atomic_load(&c->redis_errors));
    int_member(jw, "timeouts", atomic_load(&c->redis_timeouts));
    int_member(jw, "connect_failures", atomic_load(&c->redis_connect_failures));
    int_member(jw, "last_ok", atomic_load(&c->redis_last_ok));
    int_member(jw, "last_fail", atomic_load(&c->redis_last_fail));
    json_key(jw, "last_error"); json_str(jw, err);
    json_obj_end(jw);
    json_key(jw, "dns");
    json_obj_begin(jw);
    int_member(jw, "queries", atomic_load(&c->dns_queries));
    int_member(jw, "errors", atomic_load(&c->dns_errors));
    int_member(jw, "timeouts", atomic_load(&c->dns_timeouts));
    json_obj_end(jw);
}

/* Modules, and the features an administrator would miss: a Redis-backed
 * module that is off, or on while Redis is down. */
static void status_modules(struct json_writer *jw, const struct config *cfg)
{
    struct module_status m;
    bool redis_down = strcmp(daemon_status_redis_state(cfg), "down") == 0;

    json_key(jw, "modules");
    json_arr_begin(jw);
    for (size_t i = 0; modules_status_at(cfg, i, &m); i++) {
        json_obj_begin(jw);
        json_key(jw, "name"); json_str(jw, m.name);
        json_key(jw, "enabled"); json_bool(jw, m.enabled);
        json_key(jw, "uses_redis"); json_bool(jw, m.uses_redis);
        if (m.why_off != NULL) {
            json_key(jw, "why_off"); json_str(jw, m.why_off);
        }
        json_obj_end(jw);
    }
    json_arr_end(jw);
    json_key(jw, "features_off");
    json_arr_begin(jw);
    for (size_t i = 0; modules_status_at(cfg, i, &m); i++)
        if (m.uses_redis && (!m.enabled || redis_down))
            json_str(jw, m.name);
    json_arr_end(jw);
}

void daemon_status_log_features(const struct config *cfg)
{
    struct module_status m;
    struct buf off = BUF_INIT;

    for (size_t i = 0; modules_status_at(cfg, i, &m); i++)
        if (m.uses_redis && !m.enabled && strcmp(m.why_off, "disabled (explicitly)") != 0)
            buf_printf(&off, "%s%s", off.len ? ", " : "", m.name);
    if (off.len > 0 && !redis_configured(cfg))
        log_warn("Redis is not configured: %s %s off; set servers in local.d/redis.conf "
                 "(docs/configuration.md, \"redis {}\")", off.data,
                 strchr(off.data, ',') ? "are" : "is");
    buf_free(&off);
}

void daemon_status_json(const struct config *cfg, struct buf *out)
{
    struct daemon_stats *st = daemon_stats_get();
    struct json_writer jw;

    json_init(&jw, out, false);
    json_obj_begin(&jw);
    if (st != NULL) {
        status_counters(&jw, st, cfg);
        status_workers(&jw, st);
    }
    status_deps(&jw, cfg);
    status_modules(&jw, cfg);
    json_obj_end(&jw);
}
