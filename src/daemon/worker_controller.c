/*
 * The controller worker (spec §5): the administrator's HTTP API on 11334.
 * This file routes: one table row per path with the privilege it needs
 * (none, read, enable), checks authentication (worker_controller_auth.c,
 * passwords in worker_controller_pw.c)
 * and calls the endpoint, which lives in a file of its concern: statistics
 * (_stat.c), history (_history.c), learning and scanning (_learn.c).
 *
 * Every reply carries `Cache-Control: no-store`.  Unknown paths get
 * `404 Not found` with a plain-text body, as Rspamd answers.  Authentication
 * failures are logged with the client address and path, never with the
 * password.  A GET for any other path is a file of the web interface
 * (worker_controller_static.c), which needs no password: the pages ask
 * for one and send it with every API call.
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/log.h"
#include "daemon/stats.h"
#include "daemon/worker.h"
#include "daemon/worker_controller.h"

#define NO_STORE "Cache-Control: no-store\r\n"

struct ctl_ctx {
    struct ctl_auth_conf auth;
    struct arena *arena;
    char config_id[17];
};

struct ctl_route {
    const char *path;            /* without the leading '/' */
    enum ctl_priv priv;
    void (*fn)(struct ctl_req *r);
};

static void ep_ping(struct ctl_req *r)
{
    ctl_reply(r->conn, 200, NULL, "text/plain", "pong\r\n", 6, r->keep_alive);
}

static void ep_healthy(struct ctl_req *r)
{
    static const char body[] = "{\"success\":true}";
    ctl_reply_json(r->conn, 200, body, sizeof(body) - 1, r->keep_alive);
}

static const struct ctl_route routes[] = {
    {"ping", CTL_PRIV_NONE, ep_ping},
    {"auth", CTL_PRIV_READ, ctl_ep_auth},
    {"stat", CTL_PRIV_READ, ctl_ep_stat},
    {"statreset", CTL_PRIV_ENABLE, ctl_ep_statreset},
    {"history", CTL_PRIV_READ, ctl_ep_history},
    {"historyreset", CTL_PRIV_ENABLE, ctl_ep_historyreset},
    {"actions", CTL_PRIV_READ, ctl_ep_actions},
    {"symbols", CTL_PRIV_READ, ctl_ep_symbols},
    {"learnspam", CTL_PRIV_ENABLE, ctl_ep_learnspam},
    {"learnham", CTL_PRIV_ENABLE, ctl_ep_learnham},
    {"checkv2", CTL_PRIV_READ, ctl_ep_scan},
    {"check", CTL_PRIV_READ, ctl_ep_scan},
    {"scan", CTL_PRIV_READ, ctl_ep_scan},
    {"graph", CTL_PRIV_READ, ctl_ep_graph},
    {"pie", CTL_PRIV_READ, ctl_ep_pie},
    {"counters", CTL_PRIV_READ, ctl_ep_counters},
    {"errors", CTL_PRIV_ENABLE, ctl_ep_errors},
    {"metrics", CTL_PRIV_READ, ctl_ep_metrics},
    {"status", CTL_PRIV_READ, ctl_ep_status},
    {"configdump", CTL_PRIV_READ, ctl_ep_configdump},
    {"healthy", CTL_PRIV_READ, ep_healthy},
    {"ready", CTL_PRIV_READ, ep_healthy},
};

/* ---- replies ---- */

void ctl_reply(struct conn *c, int status, const char *reason, const char *ctype,
               const char *body, size_t len, bool keep_alive)
{
    struct buf out = BUF_INIT;
    bool ka = keep_alive && !conn_worker(c)->stopping;

    http_reply(&out, status, reason, ctype, body, len, ka, NO_STORE);
    conn_reply(c, &out, ka);
}

void ctl_reply_json(struct conn *c, int status, const char *body, size_t len, bool keep_alive)
{
    ctl_reply(c, status, NULL, "application/json", body, len, keep_alive);
}

void ctl_reply_error(struct conn *c, int status, const char *msg, bool keep_alive)
{
    struct buf body = BUF_INIT;

    buf_puts(&body, "{\"error\":");
    json_escape(&body, msg, strlen(msg));
    buf_puts(&body, "}");
    ctl_reply_json(c, status, body.data, body.len, keep_alive);
    buf_free(&body);
}

const char *ctl_config_id(const struct worker *w)
{
    const struct ctl_ctx *ctx = w->ctx;
    return ctx->config_id;
}

/* ---- routing ---- */

static const struct ctl_route *route_find(const char *path)
{
    while (*path == '/')
        path++;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcasecmp(routes[i].path, path) == 0)
            return &routes[i];
    return NULL;
}

static const char *request_password(const struct http_request *req)
{
    const char *pw = http_request_header(req, "Password");
    return pw != NULL ? pw : http_request_query(req, "password");
}

static const char *request_forwarded(const struct http_request *req)
{
    const char *f = http_request_header(req, "X-Forwarded-For");
    return f != NULL ? f : http_request_header(req, "X-Real-IP");
}

/* 429 with Retry-After, and the connection closed. */
static void reply_locked(struct conn *c, const char *msg, double retry_after)
{
    struct buf body = BUF_INIT, out = BUF_INIT;
    char extra[96];

    buf_puts(&body, "{\"error\":");
    json_escape(&body, msg, strlen(msg));
    buf_puts(&body, "}");
    snprintf(extra, sizeof(extra), NO_STORE "Retry-After: %.0f\r\n", retry_after + 0.5);
    http_reply(&out, 429, NULL, "application/json", body.data, body.len, false, extra);
    conn_reply(c, &out, false);
    buf_free(&body);
}

static void auth_refuse(struct ctl_req *r, enum ctl_auth_result res, double retry_after)
{
    char path[96], msg[160];

    log_escape(path, sizeof(path), r->req->path, strlen(r->req->path));
    switch (res) {
    case CTL_AUTH_LOCKED:
        log_warn("controller: refused peer=%s path=%s reason=\"locked out after failed authentications\"",
                 conn_peer(r->conn), path);
        snprintf(msg, sizeof(msg), "Too many failed authentication attempts; retry in %.0f seconds",
                 retry_after + 0.5);
        reply_locked(r->conn, msg, retry_after);
        return;
    case CTL_AUTH_FORBIDDEN:
        log_notice("controller: refused peer=%s path=%s reason=\"needs the enable password\"",
                   conn_peer(r->conn), path);
        ctl_reply_error(r->conn, 403, "This command needs the enable password", r->keep_alive);
        return;
    case CTL_AUTH_NO_ENABLE:
        ctl_reply_error(r->conn, 403, "Write commands are disabled: set enable_password in "
                        "local.d/worker-controller.inc (winnowadm pw makes the hash)", r->keep_alive);
        return;
    case CTL_AUTH_WRONG:
        log_warn("controller: authentication failed peer=%s path=%s reason=\"wrong password\"",
                 conn_peer(r->conn), path);
        break;
    default:
        log_info("controller: authentication needed peer=%s path=%s reason=\"no password given\"",
                 conn_peer(r->conn), path);
        break;
    }
    ctl_reply_error(r->conn, 401, "Unauthorized", r->keep_alive);
}

static void ctl_on_request(struct conn *c, struct http_request *req)
{
    struct worker *w = conn_worker(c);
    struct ctl_ctx *ctx = w->ctx;
    struct ctl_req r = {.conn = c, .req = req, .w = w, .keep_alive = req->keep_alive};
    const struct ctl_route *rt;
    enum ctl_auth_result res;
    double retry = 0;

    if (req->proto != HTTP_PROTO_HTTP || req->path == NULL) {
        ctl_reply_error(c, 400, "the controller speaks HTTP only", false);
        return;
    }
    daemon_stats_inc(&daemon_stats_get()->control_connections);
    rt = route_find(req->path);
    if (rt == NULL) {
        if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
            ctl_ep_static(&r);
        else
            ctl_reply(c, 404, "Not found", "text/plain", "Not found", 9, req->keep_alive);
        return;
    }
    struct ctl_auth_check chk = {
        .peer = conn_peer_addr(c), .password = request_password(req),
        .forwarded = request_forwarded(req), .need = rt->priv, .now = ev_now(w->loop),
    };
    res = ctl_auth_decide(&ctx->auth, &chk, &r.read_only, &retry);
    if (res != CTL_AUTH_OK) {
        auth_refuse(&r, res, retry);
        return;
    }
    rt->fn(&r);
}

/* ---- life cycle ---- */

/* An opaque id that changes when the configuration does: a hash of the
 * effective configuration as JSON. */
static void make_config_id(struct ctl_ctx *ctx, const struct config *cfg)
{
    struct buf b = BUF_INIT;
    uint64_t h = 1469598103934665603ULL;       /* FNV-1a */

    conf_emit_json(cfg->root, &b, false);
    for (size_t i = 0; i < b.len; i++)
        h = (h ^ (uint8_t)b.data[i]) * 1099511628211ULL;
    buf_free(&b);
    snprintf(ctx->config_id, sizeof(ctx->config_id), "%016llx", (unsigned long long)h);
}

/* Rspamd's "$1$" (PBKDF2) and "$2$" (Catena) are verified
 * (worker_controller_pw.c); any other "$N$" id is unknown to Rspamd 3.4 too. */
static void warn_rspamd_hash(const char *key, const char *stored)
{
    if (ctl_auth_is_rspamd_hash(stored) && stored[1] != '1' && stored[1] != '2')
        log_warn("controller: %s is an Rspamd $%c$ hash, which winnow cannot verify: no client "
                 "password will match it; replace it in local.d/worker-controller.inc with the "
                 "output of `winnowadm pw`", key, stored[1]);
}

static int ctl_init(struct worker *w, const char **error_r)
{
    struct arena *arena = arena_new(0);
    struct ctl_ctx *ctx = ARENA_NEW(arena, struct ctl_ctx);

    ctx->arena = arena;
    if (ctl_auth_configure(&ctx->auth, w->wc->section, arena, error_r) < 0 ||
        ctl_static_configure(w->wc->section, arena, error_r) < 0) {
        arena_free(&arena);
        return -1;
    }
    make_config_id(ctx, w->cfg);
    w->ctx = ctx;
    warn_rspamd_hash("password", ctx->auth.password);
    warn_rspamd_hash("enable_password", ctx->auth.enable_password);
    log_info("controller: ready (%s password, %s enable_password, %zu secure_ip networks)",
             ctx->auth.password ? "with" : "no", ctx->auth.enable_password ? "with" : "no",
             ctx->auth.nsecure);
    return 0;
}

static void ctl_deinit(struct worker *w)
{
    struct ctl_ctx *ctx = w->ctx;
    struct arena *arena;

    if (ctx == NULL)
        return;
    arena = ctx->arena;
    w->ctx = NULL;
    ctl_auth_reset_state();
    arena_free(&arena);
}

const struct worker_def worker_controller_def = {
    .type = WORKER_CONTROLLER,
    .name = "controller",
    .init = ctl_init,
    .on_request = ctl_on_request,
    .deinit = ctl_deinit,
};
