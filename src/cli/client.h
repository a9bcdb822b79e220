#ifndef WINNOW_CLI_CLIENT_H
#define WINNOW_CLI_CLIENT_H
/*
 * winnowc's HTTP/1.1 client: one request per connection (the scanner closes
 * after each reply anyway), up to N connections in flight, driven by poll().
 * The response parser (proto/http/httpresp.h) is push-style, so tests and
 * the fuzz target feed it bytes directly, and the milter proxy's upstream
 * client uses it too.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "proto/http/httpresp.h"

/* ---- where to connect ---- */

#define CLIENT_MAX_ADDRS 8

struct client_target {
    struct sockaddr_storage addrs[CLIENT_MAX_ADDRS];
    socklen_t addrlens[CLIENT_MAX_ADDRS];
    size_t naddrs;
    char host[256];              /* for the Host header */
};

/* "host", "host:port", "[v6]", "[v6]:port", "v6addr" or "/unix/path".
 * Resolves names with getaddrinfo (blocking: fine for a command-line tool).
 * The error text is static or in a static buffer. */
int client_target_parse(const char *spec, uint16_t default_port, struct client_target *t,
                        const char **error_r);

/* ---- requests ---- */

struct client_req {
    /* filled by the start callback */
    struct buf out;              /* the whole request bytes */
    /* results */
    bool done;
    bool failed;                 /* transport error or non-2xx */
    char *error;                 /* heap, NULL on success */
    int status;
    struct buf body;             /* reply body */
    double elapsed;              /* seconds */
    /* private */
    int fd;
    size_t sent;
    size_t addr_idx;
    double start, deadline;
    struct http_resp resp;
};

struct client_ops {
    /* Fills req->out; -1 with req->error set (e.g. the file cannot be read). */
    int (*start)(struct client_req *req, size_t idx, void *ctx);
    /* Called once per request, in completion order. */
    void (*done)(struct client_req *req, size_t idx, void *ctx);
};

/* Runs n requests, at most `parallel` at a time, each with `timeout` seconds
 * for connect + send + reply. */
void client_run(struct client_req *reqs, size_t n, const struct client_target *t,
                unsigned parallel, double timeout, const struct client_ops *ops, void *ctx);

double client_now(void);

#endif
