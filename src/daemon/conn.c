/*
 * One client connection of a worker: reads bytes, feeds the HTTP request
 * parser, hands each complete request to the worker type's on_request(),
 * writes the answer (partial writes wait for an ev_io write watcher), then
 * either reads the next request (keep-alive) or closes.
 *
 * Owns the socket, the parser, the input/output buffers and the timers.
 * The connection object is reference counted: the I/O side holds one
 * reference until close, each running task (conn_task_begin) one more, so
 * a task whose client vanished still finishes on a valid object.
 *
 * Refuses: malformed requests (the parser's 400/413/431... with a JSON
 * error, then close), requests that do not arrive within
 * options.request_timeout (408, close).  Idle keep-alive connections close
 * after the worker `timeout`.  Nothing read from the peer ends the process.
 */
#include "daemon/worker_private.h"

#include <errno.h>
#include <ev.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "daemon/stats.h"

#define CONN_READ_CHUNK 16384
#define CONN_DEFAULT_TIMEOUT 60.0
#define CONN_LINGER_TIME 2.0
#define CONN_LINGER_BYTES (1024 * 1024)

enum conn_state {
    CONN_IDLE = 0,               /* waiting for the first byte of a request */
    CONN_READING,                /* part of a request received */
    CONN_BUSY,                   /* the handler has the request */
    CONN_WRITING,                /* answer being written */
    CONN_LINGER,                 /* answer sent, write side shut, discarding input */
    CONN_CLOSED,                 /* socket closed, object kept for a task */
};

struct conn {
    struct worker *w;
    int fd;
    enum conn_state state;
    unsigned refs;
    bool in_dispatch;            /* inside conn_dispatch(): do not recurse */
    bool close_after_write;
    struct http_parser_state *parser;
    struct buf in;               /* received, not yet fed to the parser */
    struct buf out;
    size_t out_off;
    size_t lingered;             /* bytes discarded in CONN_LINGER */
    ev_io rio, wio;
    ev_timer timer;
    char peer[64];
    struct netaddr peer_addr;    /* family 0 for unix sockets */
    struct conn *prev, *next;
};

static struct conn *conns;       /* all connections of this process */

static void conn_dispatch(struct conn *c);

struct worker *conn_worker(const struct conn *c)
{
    return c->w;
}

const char *conn_peer(const struct conn *c)
{
    return c->peer;
}

const struct netaddr *conn_peer_addr(const struct conn *c)
{
    return &c->peer_addr;
}

bool conn_peer_gone(const struct conn *c)
{
    return c->state == CONN_CLOSED;
}

static double conn_idle_timeout(const struct conn *c)
{
    double t = c->w->wc->timeout;

    return isfinite(t) && t > 0 ? t : CONN_DEFAULT_TIMEOUT;
}

static double conn_request_timeout(const struct conn *c)
{
    double t = c->w->cfg->options.request_timeout;

    return isfinite(t) && t > 0 ? t : CONN_DEFAULT_TIMEOUT;
}

static void conn_timer_set(struct conn *c, double seconds)
{
    ev_timer_stop(c->w->loop, &c->timer);
    if (seconds > 0) {
        ev_timer_set(&c->timer, seconds, 0.0);
        ev_timer_start(c->w->loop, &c->timer);
    }
}

static void conn_unref(struct conn *c)
{
    ASSERT(c->refs > 0);
    if (--c->refs > 0)
        return;
    ASSERT(c->state == CONN_CLOSED);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    http_request_parser_free(&c->parser);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

/* Closes the socket; the object lives on while tasks hold references. */
static void conn_close(struct conn *c, const char *reason)
{
    struct worker *w = c->w;

    if (c->state == CONN_CLOSED)
        return;
    log_debug("conn", "close %s: %s", c->peer, reason);
    ev_io_stop(w->loop, &c->rio);
    ev_io_stop(w->loop, &c->wio);
    ev_timer_stop(w->loop, &c->timer);
    close(c->fd);
    c->fd = -1;
    c->state = CONN_CLOSED;
    conn_unref(c);               /* the I/O side's reference */
    worker_check_drained(w);
}

/*
 * Closing right after the answer while unread request bytes sit in the
 * socket makes the kernel send a reset, and the client may lose the answer
 * (an error for an oversized request, typically).  So shut our side and
 * discard input for a moment first, as web servers do ("lingering close").
 */
static void conn_linger(struct conn *c)
{
    struct worker *w = c->w;

    shutdown(c->fd, SHUT_WR);
    buf_free(&c->in);
    c->state = CONN_LINGER;
    conn_timer_set(c, CONN_LINGER_TIME);
    ev_io_start(w->loop, &c->rio);
    worker_check_drained(w);
}

/* The answer is out: next request (keep-alive) or close. */
static void conn_write_done(struct conn *c)
{
    struct worker *w = c->w;

    ev_io_stop(w->loop, &c->wio);
    buf_reset(&c->out);
    c->out_off = 0;
    if (c->close_after_write || w->stopping) {
        conn_linger(c);
        return;
    }
    http_request_parser_reset(c->parser);
    c->state = CONN_IDLE;
    conn_timer_set(c, conn_idle_timeout(c));
    ev_io_start(w->loop, &c->rio);
    if (!c->in_dispatch && c->in.len > 0)
        conn_dispatch(c);        /* a pipelined request is already here */
}

static void conn_flush(struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                ev_io_start(c->w->loop, &c->wio);
                conn_timer_set(c, conn_idle_timeout(c));
                return;
            }
            conn_close(c, strerror(errno));
            return;
        }
        c->out_off += (size_t)n;
    }
    conn_write_done(c);
}

void conn_reply(struct conn *c, struct buf *reply, bool keep_alive)
{
    if (c->state == CONN_CLOSED) {
        buf_free(reply);
        return;
    }
    ASSERT(c->state == CONN_BUSY);
    buf_free(&c->out);
    c->out = *reply;
    *reply = (struct buf)BUF_INIT;
    c->out_off = 0;
    c->close_after_write = !keep_alive;
    c->state = CONN_WRITING;
    /* Nothing more is read until this answer is out (a peer that sends
     * without reading must not grow our input buffer). */
    ev_io_stop(c->w->loop, &c->rio);
    ev_timer_stop(c->w->loop, &c->timer);
    conn_flush(c);
}

void conn_reply_http(struct conn *c, int status, const char *content_type, const char *body,
                     size_t body_len, bool keep_alive)
{
    struct buf out = BUF_INIT;

    keep_alive = keep_alive && !c->w->stopping;
    http_reply(&out, status, http_status_reason(status), content_type, body, body_len,
               keep_alive, NULL);
    conn_reply(c, &out, keep_alive);
}

void conn_reply_error(struct conn *c, int status, const char *msg, bool keep_alive)
{
    struct buf out = BUF_INIT;

    keep_alive = keep_alive && !c->w->stopping;
    http_reply_error(&out, status, msg, keep_alive);
    conn_reply(c, &out, keep_alive);
}

void conn_task_begin(struct conn *c)
{
    struct worker *w = c->w;

    c->refs++;
    w->active_tasks++;
    if (w->wc->max_tasks > 0 && w->active_tasks >= w->wc->max_tasks)
        worker_accept_pause(w);
}

void conn_task_end(struct conn *c)
{
    struct worker *w = c->w;

    ASSERT(w->active_tasks > 0);
    w->active_tasks--;
    if (w->wc->max_tasks == 0 || w->active_tasks < w->wc->max_tasks)
        worker_accept_resume(w);
    conn_unref(c);
    worker_check_drained(w);
}

/* The parser refused the input: answer its status and close. */
static void conn_bad_request(struct conn *c, int status, const char *error)
{
    struct daemon_stats *s = daemon_stats_get();
    char esc[128];

    if (s != NULL)
        daemon_stats_inc(&s->bad_requests);
    log_info("bad request from %s: %d %s", c->peer, status,
             log_escape(esc, sizeof(esc), error, strlen(error)));
    buf_reset(&c->in);
    c->state = CONN_BUSY;
    conn_reply_error(c, status, error, false);
}

/* One complete request to the handler; reading pauses until it answers. */
static void conn_handle(struct conn *c, struct http_request *req)
{
    c->state = CONN_BUSY;
    ev_io_stop(c->w->loop, &c->rio);
    ev_timer_stop(c->w->loop, &c->timer);
    c->w->def->on_request(c, req);
}

/*
 * `Expect: 100-continue` (curl sends it for large bodies and otherwise waits
 * a second).  Best effort: 25 bytes on a socket we have not written to yet
 * do not block; if they do not go out the client just waits its second.
 */
static void conn_send_continue(struct conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

    if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) < 0)
        log_debug("conn", "100 Continue to %s: %s", c->peer, strerror(errno));
}

/*
 * Feeds buffered input to the parser and runs complete requests, as long
 * as the connection is waiting for one.  Handlers may answer synchronously,
 * which brings the state back to IDLE inside this loop (no recursion: see
 * in_dispatch); a reference is held so the object survives a close.
 */
static void conn_dispatch(struct conn *c)
{
    c->refs++;
    c->in_dispatch = true;
    while ((c->state == CONN_IDLE || c->state == CONN_READING) && c->in.len > 0) {
        struct http_request *req = NULL;
        size_t consumed = 0;
        int status = 400;
        const char *error = NULL;
        int rc = http_request_feed(c->parser, c->in.data, c->in.len, &consumed, &req,
                                   &status, &error);

        if (rc < 0) {
            conn_bad_request(c, status, error != NULL ? error : "bad request");
            break;
        }
        buf_consume(&c->in, consumed <= c->in.len ? consumed : c->in.len);
        if (rc == 0) {
            if (c->state == CONN_IDLE) {
                c->state = CONN_READING;
                conn_timer_set(c, conn_request_timeout(c));
            }
            if (http_request_parser_want_continue(c->parser))
                conn_send_continue(c);
            if (consumed == 0)
                break;           /* the parser wants more than we have */
            continue;
        }
        conn_handle(c, req);
    }
    c->in_dispatch = false;
    conn_unref(c);
}

static void conn_linger_read(struct conn *c)
{
    char junk[4096];
    ssize_t n = recv(c->fd, junk, sizeof(junk), 0);

    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n > 0)
        c->lingered += (size_t)n;
    if (n <= 0 || c->lingered > CONN_LINGER_BYTES)
        conn_close(c, "reply sent");
}

static void conn_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;
    ssize_t n;

    if (c->state == CONN_LINGER) {
        conn_linger_read(c);
        return;
    }
    if (c->state != CONN_IDLE && c->state != CONN_READING) {
        ev_io_stop(loop, io);
        return;
    }

    buf_reserve(&c->in, CONN_READ_CHUNK);
    n = recv(c->fd, c->in.data + c->in.len, CONN_READ_CHUNK, 0);
    if (n < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            conn_close(c, strerror(errno));
        return;
    }
    if (n == 0) {
        conn_close(c, c->state == CONN_READING ? "eof inside a request" : "eof");
        return;
    }
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = '\0';
    conn_dispatch(c);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    conn_flush(io->data);
}

static void conn_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct conn *c = t->data;

    switch (c->state) {
    case CONN_READING:
        log_info("request timeout from %s", c->peer);
        buf_reset(&c->in);
        c->state = CONN_BUSY;
        conn_reply_error(c, 408, "request timeout", false);
        break;
    case CONN_WRITING:
        conn_close(c, "write timeout");
        break;
    case CONN_LINGER:
        conn_close(c, "reply sent");
        break;
    default:
        conn_close(c, "idle timeout");
        break;
    }
}

static struct http_limits conn_limits(const struct worker *w)
{
    struct http_limits lim = {0};
    const struct options_conf *o = &w->cfg->options;

    lim.max_header_bytes = (size_t)o->max_header_size;
    lim.max_body = (size_t)o->max_message;
    return lim;
}

void conn_new(struct worker *w, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct conn *c = calloc(1, sizeof(*c));
    struct http_limits lim = conn_limits(w);

    if (c == NULL)
        panic("out of memory");
    c->w = w;
    c->fd = fd;
    c->refs = 1;
    c->state = CONN_IDLE;
    c->parser = http_request_parser_new(&lim);
    netaddr_sockaddr_text(sa, salen, c->peer, sizeof(c->peer), &c->peer_addr);
    ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
    ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
    ev_init(&c->timer, conn_timeout_cb);
    c->rio.data = c->wio.data = c->timer.data = c;
    c->next = conns;
    if (conns != NULL)
        conns->prev = c;
    conns = c;
    ev_io_start(w->loop, &c->rio);
    conn_timer_set(c, conn_idle_timeout(c));
    log_debug("conn", "accepted %s", c->peer);
}

void conn_close_idle_all(void)
{
    struct conn *c = conns, *next;

    while (c != NULL) {
        next = c->next;
        if (c->state == CONN_IDLE && c->in.len == 0)
            conn_close(c, "worker stopping");
        c = next;
    }
}

unsigned conn_busy_count(void)
{
    unsigned n = 0;

    for (struct conn *c = conns; c != NULL; c = c->next) {
        if (c->state != CONN_CLOSED && c->state != CONN_IDLE && c->state != CONN_LINGER)
            n++;
    }
    return n;
}
