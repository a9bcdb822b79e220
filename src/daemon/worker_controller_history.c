/*
 * The controller's /history and /historyreset (spec §5.4, §10.2), reading
 * the Redis list the history module writes (modules/history.h).
 *
 * /history answers {"version":2,"rows":[...]}, newest row first, rows
 * `from`..`to` (query parameters, row indexes, inclusive).  Each row is
 * re-parsed before it is copied into the reply: the list is outside our
 * process, and one damaged row must cost that row, not the whole reply.
 * Without Redis the reply is an error that says so, never an empty list
 * that looks like "no mail".
 */
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "daemon/worker.h"
#include "daemon/worker_controller.h"
#include "modules/history.h"

#define HISTORY_OFF "History is not available: it needs Redis (local.d/redis.conf) and the " \
                    "history module enabled"

struct hist_job {
    struct conn *conn;
    bool keep_alive;
};

static struct hist_job *job_new(struct ctl_req *r)
{
    struct hist_job *job = calloc(1, sizeof(*job));

    if (job == NULL)
        panic("out of memory");
    job->conn = r->conn;
    job->keep_alive = r->keep_alive;
    conn_task_begin(r->conn);
    return job;
}

/* Ends the job: the connection may be freed by conn_task_end. */
static void job_end(struct hist_job *job)
{
    struct conn *c = job->conn;
    free(job);
    conn_task_end(c);
}

/* Appends one stored row as JSON, or nothing when it does not parse. */
static bool append_row(struct json_writer *jw, struct buf *tmp, const char *p, size_t len)
{
    struct arena *a = arena_new(0);
    struct conf_parse_opts po = {.no_includes = true, .max_depth = 16};
    const char *err = NULL;
    struct conf_obj *o = conf_parse_buf(a, "history row", p, len, &po, &err);
    bool ok = o != NULL && o->type == CONF_OBJECT;

    if (ok) {
        buf_reset(tmp);
        conf_emit_json(o, tmp, false);
        json_raw(jw, tmp->data, tmp->len);
    }
    arena_free(&a);
    return ok;
}

static void history_rows_cb(const redisReply *reply, const char *error, void *data)
{
    struct hist_job *job = data;
    struct buf b = BUF_INIT, tmp = BUF_INIT;
    struct json_writer jw;
    size_t bad = 0;

    if (conn_peer_gone(job->conn)) {
        job_end(job);
        return;
    }
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        char msg[256];
        snprintf(msg, sizeof(msg), "Cannot read history from Redis: %s",
                 error ? error : (reply && reply->str ? reply->str : "unexpected reply"));
        ctl_reply_error(job->conn, 500, msg, job->keep_alive);
        job_end(job);
        return;
    }
    json_init(&jw, &b, false);
    json_obj_begin(&jw);
    json_key(&jw, "version"); json_int(&jw, 2);
    json_key(&jw, "rows");
    json_arr_begin(&jw);
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_STRING || !append_row(&jw, &tmp, e->str, e->len))
            bad++;
    }
    json_arr_end(&jw);
    json_obj_end(&jw);
    if (bad > 0)
        log_warn("controller: %zu damaged history rows skipped", bad);
    ctl_reply_json(job->conn, 200, b.data, b.len, job->keep_alive);
    buf_free(&b);
    buf_free(&tmp);
    job_end(job);
}

static bool query_index(const struct http_request *req, const char *name, int64_t *v_r)
{
    const char *s = http_request_query(req, name);
    uint64_t v;

    if (s == NULL)
        return true;
    if (str_to_u64(s, strlen(s), &v) < 0 || v > 1000000)
        return false;
    *v_r = (int64_t)v;
    return true;
}

void ctl_ep_history(struct ctl_req *r)
{
    int64_t from = 0, to = -1;

    if (!query_index(r->req, "from", &from) || !query_index(r->req, "to", &to)) {
        ctl_reply_error(r->conn, 400, "from and to must be row numbers", r->keep_alive);
        return;
    }
    if (to >= 0 && to < from) {
        ctl_reply_error(r->conn, 400, "to must not be less than from", r->keep_alive);
        return;
    }
    if (!history_available()) {
        ctl_reply_error(r->conn, 503, HISTORY_OFF, r->keep_alive);
        return;
    }
    history_fetch(from, to, history_rows_cb, job_new(r));
}

static void history_reset_cb(const redisReply *reply, const char *error, void *data)
{
    struct hist_job *job = data;
    static const char ok[] = "{\"success\":true}";

    if (!conn_peer_gone(job->conn)) {
        if (reply != NULL && reply->type != REDIS_REPLY_ERROR) {
            ctl_reply_json(job->conn, 200, ok, sizeof(ok) - 1, job->keep_alive);
        } else {
            char msg[256];
            snprintf(msg, sizeof(msg), "Cannot reset history in Redis: %s",
                     error ? error : (reply && reply->str ? reply->str : "error"));
            ctl_reply_error(job->conn, 500, msg, job->keep_alive);
        }
    }
    job_end(job);
}

void ctl_ep_historyreset(struct ctl_req *r)
{
    if (!history_available()) {
        ctl_reply_error(r->conn, 503, HISTORY_OFF, r->keep_alive);
        return;
    }
    log_notice("controller: history reset by %s", conn_peer(r->conn));
    history_reset(history_reset_cb, job_new(r));
}
