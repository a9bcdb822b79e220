/*
 * The proxy's HTTP client to its scanners: one `POST /checkv2` per message
 * on a fresh connection (Connection: close), non-blocking in the worker's
 * loop.  Host choice is round robin over the hosts not marked failed; a
 * host is marked failed for FAIL_REVIVE seconds after max_retries - 1
 * errors within max_retries * timeout seconds (spec §1.4), and when every
 * host is failed the least recently failed one is tried anyway.  A connect
 * failure moves on to the next host, up to max_retries attempts (the connect
 * attempts share one timeout between them); an error
 * after the request went out (timeout, reset, bad reply) ends the scan as
 * failed, and the caller answers by its failure mode.
 *
 * Owns each attempt's socket, watchers and buffers, all freed before done
 * runs.  The reply is parsed with a length-checked response parser and JSON
 * parser (shared with winnowc) under size limits.
 */
#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/jsonparse.h"
#include "core/log.h"
#include "daemon/worker.h"
#include "daemon/worker_proxy.h"
#include "proto/http/httpresp.h"

#define FAIL_REVIVE 60.0
#define REPLY_MAX_BODY ((size_t)64 << 20)
#define READ_CHUNK 16384

struct up_job {
    struct worker *w;
    const struct proxy_conf *pc;
    struct proxy_upstream *u;
    struct arena *arena;
    proxy_scan_done_fn done;
    void *data;
    struct buf req;              /* the whole request, resent per attempt */
    size_t sent;
    unsigned attempts;
    struct proxy_host *host;
    bool connected;
    int fd;
    ev_io io;
    ev_timer timer;
    ev_idle kick;                /* reports an immediate failure from the loop */
    const char *error;
    struct http_resp resp;
};

static void up_attempt(struct up_job *j);

static double up_timeout(const struct up_job *j)
{
    return j->u->timeout > 0 ? j->u->timeout : 120.0;
}

static void host_error(struct up_job *j, struct proxy_host *h)
{
    double now = ev_now(j->w->loop);
    unsigned limit = j->pc->max_retries > 1 ? j->pc->max_retries - 1 : 1;
    if (h->errors == 0 || now - h->first_error > j->pc->max_retries * j->u->timeout) {
        h->errors = 0;
        h->first_error = now;
    }
    if (++h->errors >= limit && h->failed_until <= now) {
        h->failed_until = now + FAIL_REVIVE;
        log_warn("upstream %s: host %s marked failed for %.0fs after %u errors", j->u->name,
                 h->name, FAIL_REVIVE, h->errors);
    }
}

static void host_ok(struct proxy_host *h)
{
    h->errors = 0;
    h->failed_until = 0;
}

/* Round robin over live hosts; with none alive, the one failed longest ago.
 * A retry avoids the host that just failed when there is another. */
static struct proxy_host *host_pick(struct up_job *j)
{
    struct proxy_upstream *u = j->u;
    double now = ev_now(j->w->loop);
    struct proxy_host *oldest = NULL;
    for (size_t k = 0; k < u->nhosts; k++) {
        struct proxy_host *h = &u->hosts[u->rr++ % u->nhosts];
        if (h == j->host && u->nhosts > 1)
            continue;
        if (h->failed_until <= now)
            return h;
        if (oldest == NULL || h->failed_until < oldest->failed_until)
            oldest = h;
    }
    return oldest ? oldest : &u->hosts[0];
}

static void up_close(struct up_job *j)
{
    if (j->fd >= 0) {
        ev_io_stop(j->w->loop, &j->io);
        close(j->fd);
        j->fd = -1;
    }
    ev_timer_stop(j->w->loop, &j->timer);
    ev_idle_stop(j->w->loop, &j->kick);
    http_resp_deinit(&j->resp);
}

static void up_finish(struct up_job *j, const struct milter_result *r, const char *error)
{
    struct arena *arena = j->arena;
    char via[sizeof(j->host->name)];
    snprintf(via, sizeof(via), "%s", j->host ? j->host->name : "-");
    up_close(j);
    buf_free(&j->req);
    j->done(j->data, r, error, via);
    arena_free(&arena);          /* j and r's strings with it */
}

/* A failure before the request was delivered: try another host. */
static void up_retry_or_fail(struct up_job *j, const char *error)
{
    host_error(j, j->host);
    up_close(j);
    if (j->attempts < j->pc->max_retries) {
        log_info("upstream %s: %s: %s; retrying", j->u->name, j->host->name, error);
        up_attempt(j);
        return;
    }
    up_finish(j, NULL, arena_printf(j->arena, "%s: %s (after %u attempts)", j->host->name, error,
                                    j->attempts));
}

static void up_fail(struct up_job *j, const char *error)
{
    host_error(j, j->host);
    up_finish(j, NULL, arena_printf(j->arena, "%s: %s", j->host->name, error));
}

static void up_reply_done(struct up_job *j)
{
    struct milter_result r;
    const char *err = NULL;
    if (j->resp.status != 200) {
        up_fail(j, arena_printf(j->arena, "HTTP %d %s", j->resp.status, j->resp.reason));
        return;
    }
    if (proxy_result_from_json(j->arena, j->resp.body.data ? j->resp.body.data : "",
                               j->resp.body.len, &r, &err) < 0) {
        up_fail(j, arena_printf(j->arena, "bad reply: %s", err ? err : "?"));
        return;
    }
    host_ok(j->host);
    up_finish(j, &r, NULL);
}

static void up_read(struct up_job *j)
{
    char chunk[READ_CHUNK];
    const char *err = NULL;
    for (;;) {
        ssize_t n = read(j->fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n < 0) {
            up_fail(j, strerror(errno));
            return;
        }
        int rc = n == 0 ? http_resp_eof(&j->resp, &err) : http_resp_feed(&j->resp, chunk,
                                                                           (size_t)n, &err);
        if (rc < 0) {
            up_fail(j, n == 0 ? "connection closed before the reply was complete" : err);
            return;
        }
        if (rc == 1) {
            up_reply_done(j);
            return;
        }
    }
}

static void up_write(struct up_job *j)
{
    while (j->sent < j->req.len) {
        ssize_t n = write(j->fd, j->req.data + j->sent, j->req.len - j->sent);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n < 0) {
            up_fail(j, strerror(errno));
            return;
        }
        j->sent += (size_t)n;
    }
    ev_io_stop(j->w->loop, &j->io);
    ev_io_set(&j->io, j->fd, EV_READ);
    ev_io_start(j->w->loop, &j->io);
}

static void up_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct up_job *j = io->data;
    if (!j->connected) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr != 0) {
            up_retry_or_fail(j, strerror(soerr));
            return;
        }
        j->connected = true;
        /* Connected: the reply gets the whole timeout from here. */
        ev_timer_stop(loop, &j->timer);
        ev_timer_set(&j->timer, up_timeout(j), 0.0);
        ev_timer_start(loop, &j->timer);
    }
    if (revents & EV_WRITE)
        up_write(j);
    else if (revents & EV_READ)
        up_read(j);
}

static void up_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct up_job *j = t->data;
    if (!j->connected)
        up_retry_or_fail(j, "connect timed out");
    else
        up_fail(j, arena_printf(j->arena, "no reply within %.1fs", j->u->timeout));
}

static void up_kick_cb(struct ev_loop *loop, ev_idle *idle, int revents)
{
    struct up_job *j = idle->data;
    ev_idle_stop(loop, idle);
    up_retry_or_fail(j, j->error);
}

static void up_attempt(struct up_job *j)
{
    struct ev_loop *loop = j->w->loop;
    j->attempts++;
    j->host = host_pick(j);
    j->sent = 0;
    j->connected = false;
    http_resp_init(&j->resp, &(struct http_resp_limits){.max_body = REPLY_MAX_BODY});
    j->fd = socket(j->host->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (j->fd < 0 || (connect(j->fd, (struct sockaddr *)&j->host->addr, j->host->addrlen) < 0 &&
                      errno != EINPROGRESS)) {
        /* Reported from the loop, so done never runs inside the caller. */
        j->error = arena_strdup(j->arena, strerror(errno));
        ev_idle_start(loop, &j->kick);
        return;
    }
    ev_io_set(&j->io, j->fd, EV_WRITE);
    ev_io_start(loop, &j->io);
    /* All connect attempts together fit in one timeout, so a host that
     * drops SYNs cannot hold the MTA for max_retries timeouts. */
    double ct = up_timeout(j) / j->pc->max_retries;
    ev_timer_set(&j->timer, ct < 1.0 ? 1.0 : ct, 0.0);
    ev_timer_start(loop, &j->timer);
}

static void up_render(struct up_job *j, const struct proxy_request *req)
{
    buf_printf(&j->req, "POST /checkv2 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                        "Content-Length: %zu\r\n", j->u->name, req->body_len);
    for (size_t i = 0; i < req->n; i++)
        buf_printf(&j->req, "%s: %s\r\n", req->h[i].name, req->h[i].value);
    buf_puts(&j->req, "\r\n");
    buf_append(&j->req, req->body, req->body_len);
}

void proxy_scan_upstream(struct worker *w, const struct proxy_conf *pc, struct proxy_upstream *u,
                         const struct proxy_request *req, proxy_scan_done_fn done, void *data)
{
    struct arena *arena = arena_new(0);
    struct up_job *j = ARENA_NEW(arena, struct up_job);
    j->w = w;
    j->pc = pc;
    j->u = u;
    j->arena = arena;
    j->done = done;
    j->data = data;
    j->fd = -1;
    ev_init(&j->io, up_io_cb);
    j->io.data = j;
    ev_init(&j->timer, up_timeout_cb);
    j->timer.data = j;
    ev_idle_init(&j->kick, up_kick_cb);
    j->kick.data = j;
    up_render(j, req);
    up_attempt(j);
}
