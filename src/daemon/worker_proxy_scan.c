/*
 * The scan request a milter message becomes (spec §4.3: macros and
 * envelope -> scan request headers, `Flags: milter,body_block`), and the
 * in-process scan of self_scan upstreams.  The same header list serves both
 * ways: rendered as HTTP for an upstream, or handed to
 * scan_request_to_task() here, so a message is scanned alike whichever way
 * the proxy is configured.
 *
 * Owns each in-process task from task_new() to task_free() (in the
 * pipeline's completion), and counts it in the shared statistics as the
 * scanner worker does.  Values that came from the MTA have CR and LF
 * replaced, as they may end up in an HTTP header block.
 */
#include <string.h>
#include <strings.h>

#include "conf/settings.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/task.h"
#include "daemon/stats.h"
#include "daemon/worker.h"
#include "daemon/worker_proxy.h"
#include "modules/pipeline.h"
#include "proto/scan.h"

static void req_add(struct proxy_request *req, const char *name, const char *value)
{
    if (value == NULL)
        return;
    if (req->n == req->cap) {
        size_t ncap = req->cap ? req->cap * 2 : 16;
        req->h = arena_realloc(req->arena, req->h, req->cap * sizeof(*req->h),
                               ncap * sizeof(*req->h));
        req->cap = ncap;
    }
    char *v = arena_strdup(req->arena, value);
    for (char *c = v; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    req->h[req->n].name = name;
    req->h[req->n].value = v;
    req->n++;
}

static bool usable_hostname(const char *h)
{
    return h != NULL && *h != '\0' && strcasecmp(h, "unknown") != 0;
}

/* Macros copied as they are: macro name -> request header. */
static const struct {
    const char *macro;
    const char *header;
} macro_headers[] = {
    {"i", "Queue-Id"},           {"v", "User-Agent"},   {"cipher", "TLS-Cipher"},
    {"tls_version", "TLS-Version"}, {"auth_authen", "User"}, {"rcpt_mailer", "Mailer"},
    {"cert_issuer", "TLS-Cert-Issuer"},
};

static void add_macros(struct proxy_request *req, const struct milter_session *s,
                       const struct proxy_conf *pc)
{
    for (size_t i = 0; i < sizeof(macro_headers) / sizeof(macro_headers[0]); i++) {
        const char *v = milter_session_macro(s, macro_headers[i].macro);
        if (v != NULL && *v != '\0')
            req_add(req, macro_headers[i].header, v);
    }
    const char *issuer = milter_session_macro(s, "cert_issuer");
    const char *subject = milter_session_macro(s, "cert_subject");
    if (pc->client_ca_name != NULL && issuer != NULL && subject != NULL &&
        strcmp(issuer, pc->client_ca_name) == 0 && milter_session_macro(s, "auth_authen") == NULL)
        req_add(req, "User", subject);
    const char *mta = milter_session_macro(s, "daemon_name");
    if (mta == NULL || *mta == '\0')
        mta = milter_session_macro(s, "j");
    if (mta != NULL && *mta != '\0')
        req_add(req, "MTA-Name", mta);
    const char *qid = milter_session_macro(s, "i");
    req->queue_id = qid && *qid ? arena_strdup(req->arena, qid) : "-";
}

void proxy_request_build(struct proxy_request *req, const struct milter_session *s,
                         const struct proxy_conf *pc, const struct proxy_upstream *u)
{
    const struct milter_envelope *env = milter_session_envelope(s);
    const char *host = env->hostname;
    if (!usable_hostname(host))
        host = milter_session_macro(s, "client_name");
    if (usable_hostname(host))
        req_add(req, "Hostname", host);
    if (env->family != 'U' && env->addr != NULL && *env->addr != '\0')
        req_add(req, "IP", env->addr);
    req_add(req, "Helo", env->helo);
    req_add(req, "From", env->from);
    for (size_t i = 0; i < env->nrcpts; i++)
        req_add(req, "Rcpt", env->rcpts[i]);
    add_macros(req, s, pc);
    req_add(req, "Flags", "milter,body_block");
    if (u != NULL && u->settings_id != NULL)
        req_add(req, "Settings-ID", u->settings_id);
    req->body = env->message;
    req->body_len = env->message_len;
}

/* ---- in-process scan ---- */

struct local_job {
    proxy_scan_done_fn done;
    void *data;
    bool running, finished;
};

static const char *find_message(const struct task *t, const char *key)
{
    for (const struct task_kv *kv = t->messages; kv != NULL; kv = kv->next)
        if (strcmp(kv->key, key) == 0)
            return kv->value;
    return NULL;
}

/* The task's verdict in the shape the reply encoder takes. */
static void result_from_task(const struct task *t, struct milter_result *r)
{
    const struct action_def *a = &t->actions->a[t->action];
    size_t n = 0;
    memset(r, 0, sizeof(*r));
    r->action = a->name;
    r->reject_mode = a->milter;
    r->smtp_message = find_message(t, "smtp_message");
    if (t->action == ACTION_REWRITE_SUBJECT)
        r->subject = t->new_subject;
    for (const struct task_milter_header *h = t->milter_headers; h; h = h->next)
        n++;
    struct milter_hdr_op *ops = ARENA_NEW_N(t->arena, struct milter_hdr_op, n + 1);
    n = 0;
    for (const struct task_milter_header *h = t->milter_headers; h; h = h->next)
        ops[n++] = (struct milter_hdr_op){h->name, h->value, h->order};
    r->ops = ops;
    r->nops = n;
    for (n = 0; t->dkim_signatures && t->dkim_signatures[n]; n++)
        ;
    r->dkim = t->dkim_signatures;
    r->ndkim = n;
}

static void local_finish(struct task *task, struct local_job *job)
{
    struct milter_result r;
    daemon_stats_count_task(task);
    result_from_task(task, &r);
    job->done(job->data, &r, NULL, "local");
    task_free(&task);            /* job lives in the task's arena: gone too */
}

static void local_done(struct task *task, void *data)
{
    struct local_job *job = data;
    job->finished = true;
    if (!job->running)
        local_finish(task, job);
}

void proxy_scan_local(struct worker *w, const struct proxy_request *req, proxy_scan_done_fn done,
                      void *data)
{
    const struct config *cfg = w->cfg;
    struct task *task = task_new(w->loop, cfg->symtab, &cfg->actions);
    struct local_job *job = ARENA_NEW(task->arena, struct local_job);
    struct http_hdr *hh = ARENA_NEW_N(task->arena, struct http_hdr, req->n + 1);
    const char *error = NULL;

    /* A request as the scanner's HTTP parser would hand it over. */
    for (size_t i = 0; i < req->n; i++) {
        hh[i].name = (char *)req->h[i].name;
        hh[i].value = (char *)req->h[i].value;
    }
    struct http_request hr = {
        .proto = HTTP_PROTO_HTTP, .method = "POST", .path = (char *)"/checkv2",
        .headers = hh, .nheaders = req->n, .body = (char *)req->body,
        .body_len = req->body_len, .keep_alive = false, .http_major = 1, .http_minor = 1,
    };
    if (scan_request_to_task(&hr, task, &error) < 0) {
        task_free(&task);
        done(data, NULL, error ? error : "bad scan request", "local");
        return;
    }
    task->flags |= TASK_MILTER;
    task->timeout = w->task_timeout;
    job->done = done;
    job->data = data;
    /* As in worker_normal.c: the pipeline may finish before it returns. */
    job->running = true;
    pipeline_run(cfg, task, local_done, job);
    job->running = false;
    if (job->finished)
        local_finish(task, job);
}
