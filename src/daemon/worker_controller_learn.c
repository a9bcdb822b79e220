/*
 * The controller's commands that take a message: /learnspam and /learnham
 * (through the Bayes module, asynchronously), and /checkv2 (/check, /scan),
 * which scans in this process exactly as the scanner does.
 *
 * A learn request becomes a task (envelope headers such as Deliver-To
 * apply, as for a scan), handed to bayes_learn_task(); the reply waits for
 * its verdict, bounded by the task timeout.  Replies: {"success":true};
 * 208 with {"error":"... already learned as spam"} when the learn cache
 * knows the message (Rspamd uses 208 there too, so rspamc users see the
 * same); 400 when the message cannot be learned (too few tokens); 500 when
 * Redis fails; 503 when no Bayes module is running.  Every request and its
 * outcome is logged with the client address.
 *
 * The Bayes call sits in learn_dispatch() only.  Its symbols are declared
 * weak until the module is linked into every build: without it, learning
 * answers 503 instead of failing to link.
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/log.h"
#include "core/task.h"
#include "daemon/stats.h"
#include "daemon/worker.h"
#include "daemon/worker_controller.h"
#include "modules/bayes/bayes_module.h"
#include "modules/pipeline.h"
#include "proto/scan.h"

#pragma weak bayes_learn_task
#pragma weak bayes_learn_available

#define LEARN_OFF "Learning is not available: the Bayes module is disabled or has no Redis " \
                  "(local.d/redis.conf)"

struct learn_job {
    struct conn *conn;
    struct task *task;
    bool spam;
    bool keep_alive;
    bool answered;               /* bayes' done callback ran */
    enum bayes_learn_status status;
    const char *message;
};

static bool learn_available(void)
{
    return bayes_learn_available != NULL && bayes_learn_task != NULL && bayes_learn_available();
}

static void learn_done(struct task *task, enum bayes_learn_status status, const char *message,
                       void *data)
{
    struct learn_job *job = data;

    (void)task;
    job->answered = true;
    job->status = status;
    job->message = message;
}

/* The one place that asks the Bayes module to learn. */
static void learn_dispatch(struct learn_job *job)
{
    bayes_learn_task(job->task, job->spam, learn_done, job);
}

static void learn_reply(struct learn_job *job)
{
    static const char ok[] = "{\"success\":true}";
    const char *msg = job->message ? job->message : "learning failed";
    const char *cls = job->spam ? "spam" : "ham";
    char esc[256];

    log_escape(esc, sizeof(esc), msg, strlen(msg));
    if (!job->answered) {
        log_warn("controller: learn class=%s peer=%s result=timeout", cls, conn_peer(job->conn));
        ctl_reply_error(job->conn, 504, "Learning timed out (Redis too slow?)", job->keep_alive);
        return;
    }
    log_info("controller: learn class=%s peer=%s result=\"%s\"", cls, conn_peer(job->conn), esc);
    switch (job->status) {
    case BAYES_LEARN_OK:
        daemon_stats_inc(&daemon_stats_get()->learned);
        ctl_reply_json(job->conn, 200, ok, sizeof(ok) - 1, job->keep_alive);
        return;
    case BAYES_LEARN_ALREADY: {
        struct buf b = BUF_INIT;
        buf_puts(&b, "{\"error\":");
        json_escape(&b, msg, strlen(msg));
        buf_puts(&b, "}");
        ctl_reply(job->conn, 208, "Already Reported", "application/json", b.data, b.len,
                  job->keep_alive);
        buf_free(&b);
        return;
    }
    case BAYES_LEARN_REFUSED:
        ctl_reply_error(job->conn, 400, msg, job->keep_alive);
        return;
    case BAYES_LEARN_ERROR:
        ctl_reply_error(job->conn, 500, msg, job->keep_alive);
        return;
    }
}

static void learn_waited(struct task *task, void *data)
{
    struct learn_job *job = data;
    struct conn *c = job->conn;

    if (!conn_peer_gone(c))
        learn_reply(job);
    task_free(&task);            /* job lives in the task's arena */
    conn_task_end(c);
}

static struct task *request_task(struct ctl_req *r)
{
    const struct config *cfg = r->w->cfg;
    struct task *task = task_new(r->w->loop, cfg->symtab, &cfg->actions);
    const char *error = NULL;

    if (scan_request_to_task(r->req, task, &error) < 0) {
        ctl_reply_error(r->conn, 400, error ? error : "bad request", r->keep_alive);
        task_free(&task);
        return NULL;
    }
    task->timeout = r->w->task_timeout;
    return task;
}

static void learn_start(struct ctl_req *r, bool spam)
{
    struct learn_job *job;
    struct task *task;

    if (r->req->body_len == 0) {
        ctl_reply_error(r->conn, 400, "Empty message: send the message as the request body",
                        r->keep_alive);
        return;
    }
    if (!learn_available()) {
        ctl_reply_error(r->conn, 503, LEARN_OFF, r->keep_alive);
        return;
    }
    if ((task = request_task(r)) == NULL)
        return;
    task->flags |= TASK_NO_STAT;
    job = ARENA_NEW(task->arena, struct learn_job);
    job->conn = r->conn;
    job->task = task;
    job->spam = spam;
    job->keep_alive = r->keep_alive;
    conn_task_begin(r->conn);
    learn_dispatch(job);
    /* bayes holds the task with task_async_begin while it works; this
     * wakes when it is done, or at the task timeout. */
    task_wait(task, task->timeout, learn_waited, job);
}

void ctl_ep_learnspam(struct ctl_req *r)
{
    learn_start(r, true);
}

void ctl_ep_learnham(struct ctl_req *r)
{
    learn_start(r, false);
}

/* ---- /checkv2: as the scanner does it (worker_normal.c) ---- */

struct scan_job {
    struct conn *conn;
    struct task *task;
    bool v2;
    bool keep_alive;
    bool running, finished;
};

static void scan_finish(struct scan_job *job)
{
    struct conn *c = job->conn;
    struct task *task = job->task;
    struct buf body = BUF_INIT;

    daemon_stats_count_task(task);
    if (job->v2)
        scan_reply_v2(task, &body);
    else
        scan_reply_v1(task, &body);
    if (!conn_peer_gone(c))
        ctl_reply_json(c, 200, body.data, body.len, job->keep_alive);
    buf_free(&body);
    task_free(&task);            /* job lives in the task's arena */
    conn_task_end(c);
}

static void scan_done(struct task *task, void *data)
{
    struct scan_job *job = data;

    (void)task;
    job->finished = true;
    if (!job->running)
        scan_finish(job);
}

void ctl_ep_scan(struct ctl_req *r)
{
    struct task *task = request_task(r);
    struct scan_job *job;

    if (task == NULL)
        return;
    job = ARENA_NEW(task->arena, struct scan_job);
    job->conn = r->conn;
    job->task = task;
    job->v2 = scan_command_from_path(r->req->path) == SCAN_CMD_CHECKV2;
    job->keep_alive = r->keep_alive;
    conn_task_begin(r->conn);
    job->running = true;         /* pipeline_run may finish before it returns */
    pipeline_run(r->w->cfg, task, scan_done, job);
    job->running = false;
    if (job->finished)
        scan_finish(job);
}
