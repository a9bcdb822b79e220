/*
 * Redis pool: connections, per-command timeouts, reconnection.
 *
 * Ownership: a pool owns its servers; a server owns its redisAsyncContext
 * while connected.  A command object lives until both the caller has been
 * answered and hiredis has let go of it (hiredis always calls the reply
 * callback, with NULL when the connection is torn down), tracked by the
 * `answered` / `in_hiredis` flags.
 */
#include "store/redis.h"

#include <errno.h>
#include <ev.h>
#include <grp.h>
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/task.h"

#define BACKOFF_MIN 0.5
#define BACKOFF_MAX 30.0

struct redis_server {
    struct redis_pool *pool;
    struct redis_server_addr addr;
    char label[300];
    redisAsyncContext *ac;
    bool connected;
    bool down_logged;            /* one log line per outage */
    double retry_at;
    double backoff;
    ev_timer retry;
};

struct redis_pool {
    struct ev_loop *loop;
    struct redis_settings s;
    char name[64];
    struct redis_server *read, *write;
    size_t nread, nwrite;
    size_t rr_read, rr_write;
    struct redis_stats stats;
};

struct redis_cmd {
    struct redis_pool *pool;
    struct redis_server *srv;
    redis_cb cb;
    void *data;
    ev_timer timer;
    bool answered;
    bool in_hiredis;
};

static void server_connect(struct redis_server *srv);

/* ---- diagnostics ---- */

/* Explains why a unix socket cannot be opened, once per outage. */
static void explain_socket(const struct redis_server *srv, const char *err)
{
    struct stat st;
    if (srv->addr.path == NULL || stat(srv->addr.path, &st) != 0 || errno == ENOENT) {
        log_error("redis(%s): cannot connect to %s: %s", srv->pool->name, srv->label, err);
        return;
    }
    struct passwd *pw = getpwuid(st.st_uid);
    struct group *gr = getgrgid(st.st_gid);
    struct passwd *me = getpwuid(geteuid());
    log_error("redis(%s): cannot connect to %s: %s; the socket is owned by %s:%s with mode "
              "%04o; add the user winnowd runs as (%s) to group %s (usermod -aG %s %s) and "
              "restart winnowd",
              srv->pool->name, srv->label, err, pw ? pw->pw_name : "?",
              gr ? gr->gr_name : "?", (unsigned)(st.st_mode & 07777), me ? me->pw_name : "?",
              gr ? gr->gr_name : "?", gr ? gr->gr_name : "?", me ? me->pw_name : "?");
}

static void server_down(struct redis_server *srv, const char *why)
{
    struct redis_pool *p = srv->pool;
    srv->connected = false;
    srv->ac = NULL;
    srv->backoff = srv->backoff == 0 ? BACKOFF_MIN : srv->backoff * 2;
    if (srv->backoff > BACKOFF_MAX)
        srv->backoff = BACKOFF_MAX;
    srv->retry_at = ev_now(p->loop) + srv->backoff;
    core_counters_redis_fail(why, 1);
    if (!srv->down_logged) {
        if (why != NULL && strstr(why, "ermission") != NULL)
            explain_socket(srv, why);
        else
            log_error("redis(%s): %s unreachable: %s; Redis-backed checks are off until it "
                      "is back (retrying)", p->name, srv->label, why ? why : "?");
        srv->down_logged = true;
    }
    ev_timer_stop(p->loop, &srv->retry);
    ev_timer_set(&srv->retry, srv->backoff, 0.0);
    ev_timer_start(p->loop, &srv->retry);
}

/* ---- connection ---- */

static void connect_cb(const redisAsyncContext *ac, int status)
{
    struct redis_server *srv = ac->data;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        server_down(srv, ac->errstr);
        return;
    }
    srv->connected = true;
    srv->backoff = 0;
    core_counters_redis_ok();
    if (srv->down_logged)
        log_notice("redis(%s): %s is reachable again", srv->pool->name, srv->label);
    srv->down_logged = false;
}

static void disconnect_cb(const redisAsyncContext *ac, int status)
{
    struct redis_server *srv = ac->data;
    if (srv->ac == ac)
        server_down(srv, status == REDIS_OK ? "connection closed" : ac->errstr);
}

static void setup_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply *reply = r;
    struct redis_server *srv = ac->data;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        log_error("redis(%s): %s refused %s: %s", srv->pool->name, srv->label,
                  (const char *)privdata, reply->str);
    }
}

static void server_connect(struct redis_server *srv)
{
    struct redis_pool *p = srv->pool;
    redisAsyncContext *ac = srv->addr.path ? redisAsyncConnectUnix(srv->addr.path)
                                           : redisAsyncConnect(srv->addr.host, srv->addr.port);
    if (ac == NULL)
        panic("redis: out of memory");
    if (ac->err) {
        char why[256];
        snprintf(why, sizeof(why), "%s", ac->errstr);
        redisAsyncFree(ac);
        server_down(srv, why);
        return;
    }
    ac->data = srv;
    srv->ac = ac;
    redisLibevAttach(p->loop, ac);
    redisAsyncSetConnectCallback(ac, connect_cb);
    redisAsyncSetDisconnectCallback(ac, disconnect_cb);
    /* Pipelined ahead of any command: hiredis sends them once connected. */
    if (p->s.password != NULL)
        redisAsyncCommand(ac, setup_cb, "AUTH", "AUTH %s", p->s.password);
    if (p->s.db > 0)
        redisAsyncCommand(ac, setup_cb, "SELECT", "SELECT %d", p->s.db);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct redis_server *srv = w->data;
    srv->pool->stats.reconnects++;
    server_connect(srv);
}

static void servers_init(struct redis_pool *p, const struct redis_server_addr *addrs, size_t n,
                         struct redis_server **out)
{
    *out = calloc(n ? n : 1, sizeof(**out));
    if (*out == NULL)
        panic("redis: out of memory");
    for (size_t i = 0; i < n; i++) {
        struct redis_server *srv = &(*out)[i];
        srv->pool = p;
        srv->addr = addrs[i];
        if (addrs[i].path)
            snprintf(srv->label, sizeof(srv->label), "unix:%s", addrs[i].path);
        else
            snprintf(srv->label, sizeof(srv->label), "%s:%d", addrs[i].host, addrs[i].port);
        ev_timer_init(&srv->retry, retry_cb, 1.0, 0.0);
        srv->retry.data = srv;
        server_connect(srv);
    }
}

struct redis_pool *redis_pool_new(struct ev_loop *loop, const struct redis_settings *s,
                                  const char *name)
{
    struct redis_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        panic("redis: out of memory");
    p->loop = loop;
    p->s = *s;
    if (p->s.timeout <= 0)
        p->s.timeout = 1.0;
    snprintf(p->name, sizeof(p->name), "%s", name ? name : "redis");
    p->nread = s->nread;
    p->nwrite = s->nwrite;
    servers_init(p, s->read, s->nread, &p->read);
    if (s->write == s->read)
        p->write = p->read;     /* same servers: one connection each */
    else
        servers_init(p, s->write, s->nwrite, &p->write);
    return p;
}

static void servers_free(struct redis_pool *p, struct redis_server *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ev_timer_stop(p->loop, &v[i].retry);
        redisAsyncContext *ac = v[i].ac;
        v[i].ac = NULL;
        if (ac != NULL)
            redisAsyncFree(ac);   /* pending commands are answered "connection lost" */
    }
    free(v);
}

void redis_pool_free(struct redis_pool **pp)
{
    struct redis_pool *p = *pp;
    if (p == NULL)
        return;
    *pp = NULL;
    if (p->write != p->read)
        servers_free(p, p->write, p->nwrite);
    servers_free(p, p->read, p->nread);
    free(p);
}

/* ---- commands ---- */

static void cmd_answer(struct redis_cmd *c, const redisReply *reply, const char *err)
{
    if (c->answered)
        return;
    c->answered = true;
    ev_timer_stop(c->pool->loop, &c->timer);
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        c->pool->stats.errors++;
        core_count(&core_counters->redis_errors);
    } else {
        core_counters_redis_ok();
    }
    c->cb(reply, err, c->data);
}

static void cmd_release(struct redis_cmd *c)
{
    if (c->answered && !c->in_hiredis)
        free(c);
}

static void reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_cmd *c = privdata;
    c->in_hiredis = false;
    cmd_answer(c, r, r == NULL ? "connection lost" : NULL);
    cmd_release(c);
}

static void cmd_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct redis_cmd *c = w->data;
    struct redis_server *srv = c->srv;
    c->pool->stats.timeouts++;
    core_count(&core_counters->redis_timeouts);
    cmd_answer(c, NULL, "timeout");
    /* A live timer means c is still queued on srv's current connection
     * (a dropped connection answers and releases its commands).  The
     * connection is stuck: drop it and reconnect with back-off.  Freeing it
     * answers the other pending commands "connection lost" and releases c
     * through reply_cb, so c must not be touched afterwards. */
    redisAsyncContext *ac = srv->ac;
    ASSERT(ac != NULL && c->in_hiredis);
    server_down(srv, "command timed out");
    redisAsyncFree(ac);
}

static struct redis_server *pick(struct redis_pool *p, enum redis_op op)
{
    struct redis_server *v = op == REDIS_WRITE ? p->write : p->read;
    size_t n = op == REDIS_WRITE ? p->nwrite : p->nread;
    size_t *rr = op == REDIS_WRITE ? &p->rr_write : &p->rr_read;
    for (size_t k = 0; k < n; k++) {
        struct redis_server *srv = &v[(*rr + k) % n];
        if (srv->ac != NULL) {
            *rr = (*rr + k + 1) % n;
            return srv;
        }
    }
    return NULL;
}

void redis_command(struct redis_pool *p, enum redis_op op, int argc, const char **argv,
                   const size_t *argvlen, redis_cb cb, void *data)
{
    p->stats.commands++;
    core_count(&core_counters->redis_commands);
    struct redis_server *srv = pick(p, op);
    if (srv == NULL) {
        p->stats.errors++;
        core_count(&core_counters->redis_errors);
        cb(NULL, "redis unavailable", data);
        return;
    }
    struct redis_cmd *c = calloc(1, sizeof(*c));
    if (c == NULL)
        panic("redis: out of memory");
    c->pool = p;
    c->srv = srv;
    c->cb = cb;
    c->data = data;
    if (redisAsyncCommandArgv(srv->ac, reply_cb, c, argc, argv, argvlen) != REDIS_OK) {
        free(c);
        p->stats.errors++;
        core_count(&core_counters->redis_errors);
        cb(NULL, "redis connection is closing", data);
        return;
    }
    c->in_hiredis = true;
    ev_timer_init(&c->timer, cmd_timeout_cb, p->s.timeout, 0.0);
    c->timer.data = c;
    ev_timer_start(p->loop, &c->timer);
}

struct task_cmd {
    struct task_ref ref;
    redis_task_cb cb;
    void *data;
};

static void task_cmd_cb(const redisReply *reply, const char *err, void *data)
{
    struct task_cmd *tc = data;
    struct task *t = task_ref_get(tc->ref);
    if (t != NULL) {
        tc->cb(t, reply, err, tc->data);
        task_async_end(t, "redis");   /* may finish (and free) the task */
    }
    free(tc);
}

void redis_task_command(struct redis_pool *p, struct task *task, enum redis_op op, int argc,
                        const char **argv, const size_t *argvlen, redis_task_cb cb, void *data)
{
    struct task_cmd *tc = calloc(1, sizeof(*tc));
    if (tc == NULL)
        panic("redis: out of memory");
    tc->ref = task_ref(task);
    tc->cb = cb;
    tc->data = data;
    task_async_begin(task, "redis");
    redis_command(p, op, argc, argv, argvlen, task_cmd_cb, tc);
}

bool redis_pool_available(const struct redis_pool *p, enum redis_op op)
{
    const struct redis_server *v = op == REDIS_WRITE ? p->write : p->read;
    size_t n = op == REDIS_WRITE ? p->nwrite : p->nread;
    for (size_t i = 0; i < n; i++)
        if (v[i].ac != NULL)
            return true;
    return false;
}

void redis_pool_stats(const struct redis_pool *p, struct redis_stats *st)
{
    *st = p->stats;
}
