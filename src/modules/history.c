/*
 * history: the last N scan results, kept in Redis for the controller's
 * /history and `winnowc history` (spec §5.4, §10.2).
 *
 * After every scan (post_scan) one compact JSON row - the v2 reply's
 * verdict and symbols plus envelope, subject, size and time, the shape
 * Rspamd's history_redis stores - is pushed onto a list with LPUSH and the
 * list is cut to `nrows` with LTRIM, so Redis never holds more than N rows
 * whatever the traffic.  Key: key_prefix + host name (`rs_history<host>`,
 * Rspamd's layout, uncompressed: Rspamd's `_zst` variant is not written).
 *
 * Off without Redis (nothing to keep the rows in) and for tasks that asked
 * not to be logged.  Writes are fire-and-forget on a per-process pool: a
 * scan never waits for its history row, and a Redis outage costs rows, not
 * scans (one log line per outage, not one per message).  The controller
 * reads through history.h.
 */
#include "modules/history.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/module.h"

#define HISTORY_MAX_ROWS 100000

struct history_ctx {
    struct redis_settings redis;
    const char *key;
    int64_t nrows;
    double expire;               /* seconds, 0 = never */
    struct redis_pool *pool;     /* per worker process */
};

/* The context of this process, for the controller (history.h). */
static struct history_ctx *history_proc;
static bool history_write_failing;

static int history_configure(const struct conf_obj *section, struct module_env *env,
                             void **ctx_r, const char **error_r)
{
    struct history_ctx *ctx = ARENA_NEW(env->arena, struct history_ctx);
    const char *prefix = NULL;
    char host[256] = "localhost";

    *ctx_r = NULL;
    if (env->config == NULL)
        return 0;                /* registry tests configure without a snapshot */
    if (redis_settings_parse(env->arena, section, config_section(env->config, "redis"),
                             &ctx->redis, error_r) < 0)
        return -1;
    if (!ctx->redis.configured)
        return 0;                /* no Redis: no history (configdump -m says so) */
    if (conf_get_int(section, "nrows", env->config->options.history_rows, &ctx->nrows,
                     error_r) < 0 ||
        conf_get_string(section, "key_prefix", "rs_history", &prefix, error_r) < 0 ||
        conf_get_time(section, "expire", 0, &ctx->expire, error_r) < 0)
        return -1;
    if (ctx->nrows < 1 || ctx->nrows > HISTORY_MAX_ROWS) {
        *error_r = "nrows: expected 1..100000";
        return -1;
    }
    if (gethostname(host, sizeof(host) - 1) < 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    ctx->key = arena_printf(env->arena, "%s%s", prefix, host);
    *ctx_r = ctx;
    return 0;
}

static int history_worker_init(void *data, struct ev_loop *loop, const char **error_r)
{
    struct history_ctx *ctx = data;

    (void)error_r;
    ctx->pool = redis_pool_new(loop, &ctx->redis, "history");
    history_proc = ctx;
    return 0;
}

static void history_worker_deinit(void *data)
{
    struct history_ctx *ctx = data;

    redis_pool_free(&ctx->pool);
    if (history_proc == ctx)
        history_proc = NULL;
}

static int history_scan(struct task *task, void *ctx)
{
    (void)task;
    (void)ctx;
    return 0;
}

/* ---- the row ---- */

static void row_symbols(struct json_writer *jw, const struct task *t)
{
    json_key(jw, "symbols");
    json_obj_begin(jw);
    for (const struct task_symbol *s = t->symbols; s != NULL; s = s->next) {
        json_key(jw, s->name);
        json_obj_begin(jw);
        json_key(jw, "name"); json_str(jw, s->name);
        json_key(jw, "score"); json_double(jw, s->score);
        json_key(jw, "metric_score"); json_double(jw, s->metric_score);
        if (s->noptions > 0) {
            json_key(jw, "options");
            json_arr_begin(jw);
            for (size_t i = 0; i < s->noptions; i++)
                json_str(jw, s->options[i]);
            json_arr_end(jw);
        }
        json_obj_end(jw);
    }
    json_obj_end(jw);
}

static void row_mime_addrs(struct json_writer *jw, const char *key, const struct mime_addrlist *l,
                           bool first_only)
{
    json_key(jw, key);
    if (first_only) {
        json_str(jw, l != NULL && l->n > 0 && l->a[0].addr ? l->a[0].addr : "");
        return;
    }
    json_arr_begin(jw);
    for (size_t i = 0; l != NULL && i < l->n; i++)
        if (l->a[i].addr != NULL)
            json_str(jw, l->a[i].addr);
    json_arr_end(jw);
}

static void row_envelope(struct json_writer *jw, const struct task *t)
{
    json_key(jw, "sender_smtp"); json_str(jw, t->env.from ? t->env.from : "");
    row_mime_addrs(jw, "sender_mime", t->msg ? &t->msg->from : NULL, true);
    json_key(jw, "rcpt_smtp");
    json_arr_begin(jw);
    for (size_t i = 0; i < t->env.nrcpts; i++)
        json_str(jw, t->env.rcpts[i]);
    json_arr_end(jw);
    row_mime_addrs(jw, "rcpt_mime", t->msg ? &t->msg->to : NULL, false);
    json_key(jw, "user"); json_str(jw, t->env.user ? t->env.user : "unknown");
    json_key(jw, "ip"); json_str(jw, t->env.ip_str ? t->env.ip_str : "unknown");
    if (t->env.queue_id != NULL) {
        json_key(jw, "qid");
        json_str(jw, t->env.queue_id);
    }
}

static void history_row(const struct task *t, struct buf *out)
{
    struct json_writer jw;

    json_init(&jw, out, false);
    json_obj_begin(&jw);
    json_key(&jw, "message-id"); json_str(&jw, t->message_id ? t->message_id : "undef");
    json_key(&jw, "unix_time"); json_int(&jw, (int64_t)time(NULL));
    json_key(&jw, "action"); json_str(&jw, t->actions->a[t->action].name);
    json_key(&jw, "score"); json_double(&jw, t->score);
    json_key(&jw, "required_score"); json_double(&jw, actions_required_score(t->actions));
    json_key(&jw, "is_skipped"); json_bool(&jw, t->is_skipped);
    row_symbols(&jw, t);
    row_envelope(&jw, t);
    json_key(&jw, "subject"); json_str(&jw, t->subject ? t->subject : "");
    json_key(&jw, "size"); json_int(&jw, (int64_t)t->raw_len);
    json_key(&jw, "time_real"); json_double(&jw, task_elapsed(t));
    json_obj_end(&jw);
}

/* Write results: only the first failure of an outage is logged. */
static void history_write_cb(const redisReply *reply, const char *error, void *data)
{
    (void)data;
    if (reply != NULL && reply->type != REDIS_REPLY_ERROR) {
        if (history_write_failing)
            log_notice("history: writing to Redis again");
        history_write_failing = false;
        return;
    }
    if (!history_write_failing)
        log_warn("history: cannot store scan rows in Redis: %s (rows are lost until it is back)",
                 error ? error : (reply && reply->str ? reply->str : "error reply"));
    history_write_failing = true;
}

static void history_post_scan(struct task *task, void *data)
{
    struct history_ctx *ctx = data;
    struct buf row = BUF_INIT;
    char stop[24], ttl[24];

    if (ctx->pool == NULL || (task->flags & TASK_NO_LOG))
        return;
    /* Earlier post-scan hooks may have added symbols: score them first
     * (idempotent; the pipeline does it again before replying). */
    task_finalize(task);
    history_row(task, &row);
    const char *push[] = {"LPUSH", ctx->key, row.data};
    size_t pushlen[] = {5, strlen(ctx->key), row.len};
    redis_command(ctx->pool, REDIS_WRITE, 3, push, pushlen, history_write_cb, NULL);
    buf_free(&row);
    snprintf(stop, sizeof(stop), "%lld", (long long)(ctx->nrows - 1));
    const char *trim[] = {"LTRIM", ctx->key, "0", stop};
    size_t trimlen[] = {5, strlen(ctx->key), 1, strlen(stop)};
    redis_command(ctx->pool, REDIS_WRITE, 4, trim, trimlen, history_write_cb, NULL);
    if (ctx->expire >= 1) {
        snprintf(ttl, sizeof(ttl), "%lld", (long long)ctx->expire);
        const char *exp[] = {"EXPIRE", ctx->key, ttl};
        size_t explen[] = {6, strlen(ctx->key), strlen(ttl)};
        redis_command(ctx->pool, REDIS_WRITE, 3, exp, explen, history_write_cb, NULL);
    }
}

/* ---- for the controller ---- */

bool history_available(void)
{
    return history_proc != NULL && history_proc->pool != NULL;
}

int history_fetch(int64_t from, int64_t to, redis_cb cb, void *data)
{
    char a[24], b[24];

    if (!history_available())
        return -1;
    if (from < 0)
        from = 0;
    if (to < 0 || to >= history_proc->nrows)
        to = history_proc->nrows - 1;
    snprintf(a, sizeof(a), "%lld", (long long)from);
    snprintf(b, sizeof(b), "%lld", (long long)to);
    const char *argv[] = {"LRANGE", history_proc->key, a, b};
    size_t argvlen[] = {6, strlen(history_proc->key), strlen(a), strlen(b)};
    redis_command(history_proc->pool, REDIS_READ, 4, argv, argvlen, cb, data);
    return 0;
}

int history_reset(redis_cb cb, void *data)
{
    if (!history_available())
        return -1;
    const char *argv[] = {"DEL", history_proc->key};
    size_t argvlen[] = {3, strlen(history_proc->key)};
    redis_command(history_proc->pool, REDIS_WRITE, 2, argv, argvlen, cb, data);
    return 0;
}

const struct module module_history = {
    .name = "history",
    .abi = MODULE_ABI,
    .configure = history_configure,
    .scan = history_scan,
    .post_scan = history_post_scan,
    .worker_init = history_worker_init,
    .worker_deinit = history_worker_deinit,
    .uses_redis = true,
};
