/*
 * The proxy worker (worker "rspamd_proxy", milter = yes): takes each
 * accepted socket itself and runs one milter session per connection
 * (proto/milter/session.c), reading and writing without blocking.  At end
 * of message it scans through the default upstream (in-process for
 * self_scan, else HTTP to the scanners) and answers from the result; when
 * the scan cannot run it answers by failure_mode (TEMPFAIL, or ACCEPT) and
 * says so at error level.  One log line per message.
 *
 * Owns the connections: socket, watchers, session, input buffer.  A
 * connection is reference counted (its I/O side, plus a scan in flight),
 * so a scan whose MTA hung up finishes on a valid object and its answer is
 * dropped.  Refuses: protocol errors and oversized frames (logged, that
 * connection closed); an MTA silent for `timeout` (closed).  While draining
 * (SIGTERM, reload) idle sessions close at once, busy ones after their
 * answer is written.
 */
#include <errno.h>
#include <ev.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/settings.h"
#include "core/arena.h"
#include "core/log.h"
#include "daemon/worker.h"
#include "daemon/worker_proxy.h"

#define READ_CHUNK 65536

struct pconn {
    struct worker *w;
    const struct proxy_conf *pc;
    int fd;
    unsigned refs;
    bool closed, scanning, close_after_write;
    bool starting;               /* inside scan_start(): the caller goes on */
    struct milter_session *sess;
    struct buf in;               /* received, not yet taken by the session */
    size_t out_off;              /* written part of the session's output */
    ev_io rio, wio;
    ev_timer timer;
    double scan_start;
    char peer[80];
    struct pconn *prev, *next;
};

struct proxy_ctx {
    struct arena *arena;
    struct proxy_conf conf;
};

static struct pconn *pconns;

static void pconn_process(struct pconn *c);

static void pconn_unref(struct pconn *c)
{
    ASSERT(c->refs > 0);
    if (--c->refs > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        pconns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    milter_session_free(&c->sess);
    buf_free(&c->in);
    free(c);
}

static void pconn_close(struct pconn *c, const char *why)
{
    if (c->closed)
        return;
    log_debug("milter", "close %s: %s", c->peer, why);
    c->closed = true;
    ev_io_stop(c->w->loop, &c->rio);
    ev_io_stop(c->w->loop, &c->wio);
    ev_timer_stop(c->w->loop, &c->timer);
    close(c->fd);
    c->fd = -1;
    worker_busy_end(c->w);
    pconn_unref(c);
}

static void pconn_timer_reset(struct pconn *c)
{
    ev_timer_stop(c->w->loop, &c->timer);
    if (!c->scanning) {
        ev_timer_set(&c->timer, c->pc->timeout, 0.0);
        ev_timer_start(c->w->loop, &c->timer);
    }
}

/* Writes what the session has queued; returns false if c was closed. */
static bool pconn_flush(struct pconn *c)
{
    struct buf *out = milter_session_output(c->sess);
    while (c->out_off < out->len) {
        ssize_t n = write(c->fd, out->data + c->out_off, out->len - c->out_off);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(c->w->loop, &c->wio);
            return true;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            pconn_close(c, strerror(errno));
            return false;
        }
        c->out_off += (size_t)n;
    }
    buf_reset(out);
    c->out_off = 0;
    ev_io_stop(c->w->loop, &c->wio);
    if (c->close_after_write) {
        pconn_close(c, "done");
        return false;
    }
    return true;
}

/* ---- end of message ---- */

static void log_failure(struct pconn *c, const char *qid, const char *why, const char *answer)
{
    char esc[512];
    log_error("milter: SCAN FAILED qid=%s peer=%s reason=\"%s\" answered=%s (failure_mode=%s)",
              qid, c->peer, log_escape(esc, sizeof(esc), why, strlen(why)), answer,
              c->pc->accept_on_failure ? "accept" : "tempfail");
}

struct scan_ctx {
    struct pconn *c;
    const char *qid;             /* escaped copy: the request arena dies first */
    char qidbuf[96];
};

static void scan_done(void *data, const struct milter_result *r, const char *error,
                      const char *via)
{
    struct scan_ctx *sc = data;
    struct pconn *c = sc->c;
    const char *answer;
    double ms = (ev_now(c->w->loop) - c->scan_start) * 1000.0;

    if (r == NULL) {
        answer = milter_session_answer_failure(c->sess, c->pc->accept_on_failure);
        log_failure(c, sc->qid, error ? error : "scan failed", answer);
    } else {
        char act[64];
        const char *a = r->action ? r->action : "-";
        answer = milter_session_answer(c->sess, r, &c->pc->reply);
        log_info("milter: qid=%s peer=%s action=\"%s\" reply=%s via=%s time=%.1fms", sc->qid,
                 c->peer, log_escape(act, sizeof(act), a, strlen(a)), answer, via ? via : "-",
                 ms);
    }
    free(sc);
    c->scanning = false;
    if (!c->closed) {
        if (c->w->stopping)
            c->close_after_write = true;
        ev_io_start(c->w->loop, &c->rio);
        pconn_timer_reset(c);
        if (!c->starting)
            pconn_process(c);
    }
    pconn_unref(c);
}

static void scan_start(struct pconn *c)
{
    struct proxy_upstream *u = c->pc->def;
    struct proxy_request req = {.arena = arena_new(0)};
    struct scan_ctx *sc = calloc(1, sizeof(*sc));
    const struct milter_envelope *env = milter_session_envelope(c->sess);

    if (sc == NULL)
        panic("out of memory");
    proxy_request_build(&req, c->sess, c->pc, u);
    log_escape(sc->qidbuf, sizeof(sc->qidbuf), req.queue_id, strlen(req.queue_id));
    sc->qid = sc->qidbuf;
    sc->c = c;
    c->refs++;
    c->scanning = true;
    c->scan_start = ev_now(c->w->loop);
    ev_io_stop(c->w->loop, &c->rio);      /* the MTA waits for our answer */
    ev_timer_stop(c->w->loop, &c->timer);
    c->starting = true;
    if (env->over_limit != NULL)
        scan_done(sc, NULL, env->over_limit, NULL);
    else if (u->self_scan)
        proxy_scan_local(c->w, &req, scan_done, sc);
    else
        proxy_scan_upstream(c->w, c->pc, u, &req, scan_done, sc);
    c->starting = false;
    arena_free(&req.arena);
}

/* Feeds buffered input to the session until it needs more, a scan starts,
 * or the connection ends. */
static void pconn_process(struct pconn *c)
{
    while (!c->closed && !c->scanning) {
        const char *error = NULL;
        size_t used = 0;
        int ev = milter_session_feed(c->sess, c->in.data, c->in.len, &used, &error);
        buf_consume(&c->in, used);
        if (ev < 0) {
            char esc[256];
            log_warn("milter: protocol error from %s: %s; closing", c->peer,
                     log_escape(esc, sizeof(esc), error ? error : "?",
                                error ? strlen(error) : 1));
            c->close_after_write = true;
        } else if (ev == MILTER_EV_CLOSE) {
            c->close_after_write = true;
        }
        if (c->close_after_write) {
            ev_io_stop(c->w->loop, &c->rio);   /* nothing more is read */
            buf_reset(&c->in);
        }
        if (!pconn_flush(c))
            return;
        if (ev == MILTER_EV_SCAN) {
            scan_start(c);       /* may answer before returning */
            continue;
        }
        if (ev != MILTER_EV_NONE || used == 0 || c->in.len == 0)
            return;
    }
}

static void pconn_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct pconn *c = io->data;
    char chunk[READ_CHUNK];
    ssize_t n = read(c->fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        pconn_close(c, n == 0 ? "peer closed" : strerror(errno));
        return;
    }
    buf_append(&c->in, chunk, (size_t)n);
    pconn_timer_reset(c);
    c->refs++;                   /* process may close c */
    pconn_process(c);
    pconn_unref(c);
}

static void pconn_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct pconn *c = io->data;
    c->refs++;
    pconn_flush(c);
    pconn_unref(c);
}

static void pconn_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pconn *c = t->data;
    log_info("milter: %s idle for %.0fs; closing", c->peer, c->pc->timeout);
    pconn_close(c, "timeout");
}

static void proxy_on_accept(struct worker *w, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct proxy_ctx *ctx = w->ctx;
    struct pconn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        panic("out of memory");
    c->w = w;
    c->pc = &ctx->conf;
    c->fd = fd;
    c->refs = 1;
    c->sess = milter_session_new(&ctx->conf.limits);
    netaddr_sockaddr_text(sa, salen, c->peer, sizeof(c->peer), NULL);
    ev_io_init(&c->rio, pconn_read_cb, fd, EV_READ);
    ev_io_init(&c->wio, pconn_write_cb, fd, EV_WRITE);
    ev_init(&c->timer, pconn_timeout_cb);
    c->rio.data = c->wio.data = c->timer.data = c;
    c->next = pconns;
    if (pconns)
        pconns->prev = c;
    pconns = c;
    worker_busy_begin(w);
    ev_io_start(w->loop, &c->rio);
    pconn_timer_reset(c);
}

/* Draining: sessions between messages close now, the others after their
 * answer (scan_done sets close_after_write). */
static void proxy_on_stop(struct worker *w)
{
    struct pconn *c = pconns, *next;
    for (; c != NULL; c = next) {
        next = c->next;
        if (!c->scanning && milter_session_output(c->sess)->len == 0)
            pconn_close(c, "stopping");
        else
            c->close_after_write = true;
    }
}

static int proxy_init(struct worker *w, const char **error_r)
{
    struct proxy_ctx *ctx;
    struct arena *arena = arena_new(0);
    ctx = ARENA_NEW(arena, struct proxy_ctx);
    ctx->arena = arena;
    if (proxy_conf_parse(w->cfg, w->wc, arena, &ctx->conf, error_r) < 0)
        return -1;
    if (!ctx->conf.milter) {
        *error_r = "milter = no (HTTP proxying) is not implemented: set milter = yes";
        return -1;
    }
    w->ctx = ctx;
    const struct proxy_upstream *u = ctx->conf.def;
    log_info("milter proxy ready: upstream %s (%s), failure_mode=%s, timeout=%.0fs", u->name,
             u->self_scan ? "self_scan" : u->hosts[0].name,
             ctx->conf.accept_on_failure ? "accept" : "tempfail", ctx->conf.timeout);
    return 0;
}

static void proxy_deinit(struct worker *w)
{
    struct proxy_ctx *ctx = w->ctx;
    while (pconns != NULL) {
        struct pconn *c = pconns;
        if (c->closed) {         /* held by a scan abandoned at the drain deadline */
            pconns = c->next;
            c->next = c->prev = NULL;
            continue;
        }
        pconn_close(c, "exiting");
    }
    if (ctx != NULL) {
        struct arena *a = ctx->arena;
        arena_free(&a);
        w->ctx = NULL;
    }
}

const struct worker_def worker_proxy_def = {
    .type = WORKER_PROXY,
    .name = "proxy",
    .init = proxy_init,
    .on_request = NULL,
    .deinit = proxy_deinit,
    .on_accept = proxy_on_accept,
    .on_stop = proxy_on_stop,
};
