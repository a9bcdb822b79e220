/*
 * The normal worker: the scanner.  Answers /ping, turns a scan request
 * (/checkv2, /check and its aliases, /skip, and the legacy RSPAMC/SPAMC
 * request lines) into a task, runs the pipeline and renders the reply in
 * the protocol that asked.  Owns each task from task_new() to task_free()
 * (in the completion callback, whether or not the client is still there).
 * Refuses unknown paths (500 "invalid command") and requests whose scan
 * headers are invalid (400), with a JSON error.
 */
#include <ev.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/task.h"
#include "daemon/stats.h"
#include "daemon/worker.h"
#include "modules/pipeline.h"
#include "proto/scan.h"

struct scan_job {
    struct conn *conn;
    struct worker *w;
    struct task *task;
    enum scan_command cmd;
    enum http_proto proto;
    bool keep_alive;
    bool running;                /* inside pipeline_run() */
    bool finished;               /* done callback fired */
};

static void scan_render(const struct scan_job *job, struct buf *out)
{
    struct buf body = BUF_INIT;
    bool ka = job->keep_alive && !job->w->stopping;

    switch (job->proto) {
    case HTTP_PROTO_RSPAMC:
        scan_reply_rspamc(job->task, out);
        return;
    case HTTP_PROTO_SPAMC:
        scan_reply_spamc(job->task, out);
        return;
    case HTTP_PROTO_HTTP:
        break;
    }
    if (job->cmd == SCAN_CMD_CHECKV2)
        scan_reply_v2(job->task, &body);
    else
        scan_reply_v1(job->task, &body);
    http_reply(out, 200, "OK", "application/json", body.data, body.len, ka, NULL);
    buf_free(&body);
}

/* Counts, answers (if anyone listens), frees the task, releases the conn. */
static void scan_finish(struct scan_job *job)
{
    struct conn *c = job->conn;
    struct task *task = job->task;
    struct buf out = BUF_INIT;
    bool ka = job->keep_alive && job->proto == HTTP_PROTO_HTTP && !job->w->stopping;

    daemon_stats_count_task(task);
    if (!conn_peer_gone(c))
        scan_render(job, &out);
    task_free(&task);            /* job lives in the task's arena: gone too */
    if (!conn_peer_gone(c))
        conn_reply(c, &out, ka);
    else
        buf_free(&out);
    conn_task_end(c);
}

static void scan_done(struct task *task, void *data)
{
    struct scan_job *job = data;

    job->finished = true;
    if (!job->running)
        scan_finish(job);        /* else scan_start() finishes after pipeline_run */
}

static void scan_start(struct conn *c, struct http_request *req, enum scan_command cmd)
{
    struct worker *w = conn_worker(c);
    const struct config *cfg = w->cfg;
    struct task *task = task_new(w->loop, cfg->symtab, &cfg->actions);
    struct scan_job *job = ARENA_NEW(task->arena, struct scan_job);
    const char *error = NULL;

    if (scan_request_to_task(req, task, &error) < 0) {
        char esc[128];

        log_info("bad scan request from %s: %s", conn_peer(c),
                 log_escape(esc, sizeof(esc), error ? error : "?", error ? strlen(error) : 1));
        conn_reply_error(c, 400, error ? error : "bad request", req->keep_alive);
        task_free(&task);
        return;
    }
    if (cmd == SCAN_CMD_SKIP)
        task->flags |= TASK_SKIP;
    task->timeout = w->task_timeout;
    job->conn = c;
    job->w = w;
    job->task = task;
    job->cmd = cmd;
    job->proto = req->proto;
    job->keep_alive = req->keep_alive;
    conn_task_begin(c);
    /* The pipeline may call scan_done() before it returns; finishing then
     * would free the task under pipeline_run's feet, so wait for it. */
    job->running = true;
    pipeline_run(cfg, task, scan_done, job);
    job->running = false;
    if (job->finished)
        scan_finish(job);
}

static void normal_on_request(struct conn *c, struct http_request *req)
{
    enum scan_command cmd;

    if (req->proto != HTTP_PROTO_HTTP) {
        scan_start(c, req, SCAN_CMD_CHECK);  /* CHECK/SYMBOLS RSPAMC|SPAMC */
        return;
    }
    cmd = scan_command_from_path(req->path ? req->path : "");
    switch (cmd) {
    case SCAN_CMD_PING:
        conn_reply_http(c, 200, "text/plain", "pong\r\n", 6, req->keep_alive);
        return;
    case SCAN_CMD_UNKNOWN: {
        /* Rspamd puts "invalid command" in the status line itself. */
        static const char body[] = "{\"error\":\"invalid command\"}";
        struct buf out = BUF_INIT;
        bool ka = req->keep_alive && !conn_worker(c)->stopping;

        http_reply(&out, 500, "invalid command", "application/json", body, sizeof(body) - 1, ka,
                   NULL);
        conn_reply(c, &out, ka);
        return;
    }
    default:
        scan_start(c, req, cmd);
        return;
    }
}

const struct worker_def worker_normal_def = {
    .type = WORKER_NORMAL,
    .name = "normal",
    .init = NULL,
    .on_request = normal_on_request,
    .deinit = NULL,
};
