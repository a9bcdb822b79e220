#ifndef WINNOW_DAEMON_WORKER_H
#define WINNOW_DAEMON_WORKER_H
/*
 * The skeleton every worker process shares: one libev loop, accepting on
 * the listening sockets inherited from the main process, HTTP connections
 * with keep-alive and timeouts, signals (SIGTERM/SIGINT drain and exit,
 * SIGUSR1 reopens logs), max_tasks, and a graceful drain on stop.  A worker
 * type only supplies a struct worker_def: what to do with one complete
 * request.  The normal (scanner) worker is worker_normal.c; the controller
 * and proxy of later issues plug in the same way (workers.c lists them).
 *
 * Request handling contract: on_request() gets one complete request.  It
 * answers either at once (conn_reply*) or later, after asynchronous work;
 * in the latter case it brackets the work with conn_task_begin() /
 * conn_task_end(), which keeps the connection object alive even if the
 * peer goes away meanwhile (conn_peer_gone() then says not to bother
 * answering).  No further request is read from a connection until the
 * current one has been answered and the answer written.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conf/settings.h"
#include "core/buf.h"
#include "core/netaddr.h"
#include "proto/http/http.h"

struct ev_loop;
struct conn;
struct worker;
struct listener;

struct worker_def {
    enum worker_type type;
    const char *name;            /* "normal": log tag and process title */
    /* After fork, before the loop runs (may set w->ctx).  -1 ends the
     * process with exit code 1 (the main process restarts it, backing off). */
    int (*init)(struct worker *w, const char **error_r);
    void (*on_request)(struct conn *c, struct http_request *req);
    void (*deinit)(struct worker *w);            /* optional */
    /* Optional: takes every accepted socket itself (non-blocking, close-on-
     * exec) instead of the HTTP connection code, for protocols that are not
     * HTTP (the milter side of the proxy).  It then owns fd; while it has
     * work in flight it holds worker_busy_begin()/_end() so a drain waits. */
    void (*on_accept)(struct worker *w, int fd, const struct sockaddr *sa, socklen_t salen);
    /* Optional: the worker starts draining (SIGTERM or a reload); close
     * idle sessions of your own here. */
    void (*on_stop)(struct worker *w);
};

struct worker {
    struct ev_loop *loop;
    const struct config *cfg;
    const struct worker_conf *wc;
    const struct worker_def *def;
    unsigned index;              /* 0..count-1 among its siblings */
    void *ctx;                   /* the type's own state */
    double task_timeout;         /* effective: worker's, else options' */
    unsigned active_tasks;       /* between conn_task_begin and _end */
    unsigned busy;               /* between worker_busy_begin and _end */
    bool stopping;               /* draining after SIGTERM */
};

/* Which implementation a worker block gets; NULL = not implemented yet. */
const struct worker_def *worker_def_for(enum worker_type type);

/* The rows of that table (workers.c), one per file. */
extern const struct worker_def worker_normal_def;    /* worker_normal.c */
extern const struct worker_def worker_controller_def; /* worker_controller.c */

/* What the main process hands a new worker process. */
struct worker_start {
    const struct config *cfg;
    const struct worker_conf *wc;
    const struct worker_def *def;
    struct listener *const *listeners;
    size_t nlisteners;
    unsigned index;
};

/* Runs the worker in the (freshly forked) current process; never returns. */
void worker_run(const struct worker_start *ws) __attribute__((noreturn));

/* For on_accept() implementations: work the drain must wait for. */
void worker_busy_begin(struct worker *w);
void worker_busy_end(struct worker *w);

/* --- for request handlers --- */
struct worker *conn_worker(const struct conn *c);
/* Peer address for log lines: "127.0.0.1:54321", "[::1]:5", "unix". */
const char *conn_peer(const struct conn *c);
/* Peer IP (family 0 for a unix socket), for secure_ip checks. */
const struct netaddr *conn_peer_addr(const struct conn *c);
/* True when the connection was closed (peer gone, write error, timeout). */
bool conn_peer_gone(const struct conn *c);

void conn_task_begin(struct conn *c);
/* May free c: do not touch it afterwards. */
void conn_task_end(struct conn *c);

/* Sends a complete, already-rendered response; takes the buffer's memory
 * (reply is left empty).  keep_alive = false closes after writing. */
void conn_reply(struct conn *c, struct buf *reply, bool keep_alive);
/* Convenience: HTTP response with a body / a {"error": msg} body. */
void conn_reply_http(struct conn *c, int status, const char *content_type, const char *body,
                     size_t body_len, bool keep_alive);
void conn_reply_error(struct conn *c, int status, const char *msg, bool keep_alive);

#endif
