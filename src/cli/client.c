/*
 * client: winnowc's connections.
 *
 * Resolves the -h target once, then runs the requests: up to `parallel`
 * non-blocking sockets (TCP or unix), one poll() loop, each request with its
 * own deadline covering connect, send and reply.  A refused connection moves
 * on to the target's next address (so "localhost" works whether the server
 * listens on 127.0.0.1 or ::1).  Replies go through httpresp.c.  Owns the
 * sockets it opens; each request's results (status, body, error text) belong
 * to the caller's client_req.  Error texts follow rspamc's ("IO write error:
 * Connection refused", "HTTP error: 500, invalid command").
 */
#include "cli/client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

double client_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int target_unix(const char *path, struct client_target *t, const char **error_r)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&t->addrs[0];

    if (strlen(path) >= sizeof(sun->sun_path)) {
        *error_r = "unix socket path too long";
        return -1;
    }
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, strlen(path) + 1);
    t->addrlens[0] = sizeof(*sun);
    t->naddrs = 1;
    snprintf(t->host, sizeof(t->host), "localhost");
    return 0;
}

/* Splits "host", "host:port", "[v6]:port", "[v6]" and a bare IPv6 address. */
static int target_split(const char *spec, char *host, size_t hostsz, const char **port_r,
                        const char **error_r)
{
    const char *colon = strrchr(spec, ':');
    size_t hlen;

    *port_r = NULL;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            *error_r = "bad address: expected [IPv6]:port";
            return -1;
        }
        hlen = (size_t)(close - spec - 1);
        spec++;
        *port_r = close[1] == ':' ? close + 2 : NULL;
    } else if (colon != NULL && strchr(spec, ':') == colon) {
        hlen = (size_t)(colon - spec);
        *port_r = colon + 1;
    } else {
        hlen = strlen(spec);             /* no colon, or a bare IPv6 address */
    }
    if (hlen == 0 || hlen >= hostsz) {
        *error_r = "bad address: empty or too long host";
        return -1;
    }
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    return 0;
}

int client_target_parse(const char *spec, uint16_t default_port, struct client_target *t,
                        const char **error_r)
{
    static char errbuf[600];
    char host[256], portbuf[8];
    const char *port;
    struct addrinfo hints, *res, *ai;
    int rc;

    memset(t, 0, sizeof(*t));
    if (spec[0] == '/' || spec[0] == '.')
        return target_unix(spec, t, error_r);
    if (target_split(spec, host, sizeof(host), &port, error_r) < 0)
        return -1;
    if (port == NULL || *port == '\0') {
        snprintf(portbuf, sizeof(portbuf), "%u", (unsigned)default_port);
        port = portbuf;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(errbuf, sizeof(errbuf), "cannot resolve %s port %s: %s", host, port,
                 gai_strerror(rc));
        *error_r = errbuf;
        return -1;
    }
    for (ai = res; ai != NULL && t->naddrs < CLIENT_MAX_ADDRS; ai = ai->ai_next) {
        memcpy(&t->addrs[t->naddrs], ai->ai_addr, ai->ai_addrlen);
        t->addrlens[t->naddrs++] = ai->ai_addrlen;
    }
    freeaddrinfo(res);
    snprintf(t->host, sizeof(t->host), "%s", host);
    return t->naddrs > 0 ? 0 : -1;
}

static void req_fail(struct client_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void req_fail(struct client_req *req, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    free(req->error);
    req->error = strdup(text);
    req->failed = true;
}

static void req_close(struct client_req *req)
{
    if (req->fd >= 0)
        close(req->fd);
    req->fd = -1;
}

/* Starts a non-blocking connect to the request's current address; returns
 * -1 (with the error recorded) only when it failed at once. */
static int req_connect(struct client_req *req, const struct client_target *t)
{
    const struct sockaddr *sa = (const struct sockaddr *)&t->addrs[req->addr_idx];
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        req_fail(req, "IO write error: %s", strerror(errno));
        return -1;
    }
    req->fd = fd;
    if (connect(fd, sa, t->addrlens[req->addr_idx]) < 0 && errno != EINPROGRESS) {
        req_fail(req, "IO write error: %s", strerror(errno));
        req_close(req);
        return -1;
    }
    return 0;
}

/* Connect failed: try the next address if there is one. */
static int req_retry(struct client_req *req, const struct client_target *t)
{
    while (req->addr_idx + 1 < t->naddrs) {
        req->addr_idx++;
        free(req->error);
        req->error = NULL;
        req->failed = false;
        if (req_connect(req, t) == 0)
            return 0;
    }
    return -1;
}

static void req_finish(struct client_req *req)
{
    char text[256];

    req_close(req);
    req->done = true;
    req->elapsed = client_now() - req->start;
    if (req->failed)
        return;
    req->status = req->resp.status;
    req->body = req->resp.body;
    memset(&req->resp.body, 0, sizeof(req->resp.body));
    if (req->status < 200 || req->status > 299) {
        snprintf(text, sizeof(text), "HTTP error: %d, %s", req->status, req->resp.reason);
        req_fail(req, "%s", text);
    }
}

static void req_write(struct client_req *req, const struct client_target *t)
{
    ssize_t n;

    if (req->sent == 0) {
        int err = 0;
        socklen_t elen = sizeof(err);
        getsockopt(req->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        if (err != 0) {
            req_close(req);
            req_fail(req, "IO write error: %s", strerror(err));
            if (req_retry(req, t) < 0)
                req_finish(req);
            return;
        }
    }
    n = send(req->fd, req->out.data + req->sent, req->out.len - req->sent, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        req_fail(req, "IO write error: %s", strerror(errno));
        req_finish(req);
        return;
    }
    req->sent += (size_t)n;
}

static void req_read(struct client_req *req)
{
    char chunk[16384];
    const char *error;
    ssize_t n = recv(req->fd, chunk, sizeof(chunk), 0);
    int rc;

    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        req_fail(req, "IO read error: %s", strerror(errno));
        req_finish(req);
        return;
    }
    rc = n == 0 ? http_resp_eof(&req->resp, &error)
                : http_resp_feed(&req->resp, chunk, (size_t)n, &error);
    if (rc < 0)
        req_fail(req, "Bad reply: %s", error);
    if (rc != 0)
        req_finish(req);
}

struct run {
    struct client_req *reqs;
    size_t n, next;
    size_t *slots;               /* request index per slot, SIZE_MAX = free */
    unsigned parallel;
    const struct client_target *t;
    double timeout;
    const struct client_ops *ops;
    void *ctx;
};

static void run_complete(struct run *run, size_t i)
{
    struct client_req *req = &run->reqs[i];

    http_resp_deinit(&req->resp);
    buf_free(&req->out);
    run->ops->done(req, i, run->ctx);
}

/* Starts the next request in a free slot; a request that fails before it
 * reaches the network completes at once and leaves the slot free. */
static void run_start_one(struct run *run, size_t slot)
{
    size_t i = run->next++;
    struct client_req *req = &run->reqs[i];

    req->fd = -1;
    req->start = client_now();
    req->deadline = req->start + run->timeout;
    http_resp_init(&req->resp, NULL);
    if (run->ops->start(req, i, run->ctx) < 0 ||
        (req_connect(req, run->t) < 0 && req_retry(req, run->t) < 0)) {
        req->failed = true;
        req_finish(req);
        run_complete(run, i);
        return;
    }
    run->slots[slot] = i;
}

static void run_event(struct run *run, struct client_req *req, short revents)
{
    if (req->sent < req->out.len) {
        if (revents & (POLLOUT | POLLERR | POLLHUP))
            req_write(req, run->t);
    } else if (revents & (POLLIN | POLLERR | POLLHUP)) {
        req_read(req);
    }
    if (!req->done && client_now() >= req->deadline) {
        req_fail(req, "%s", "IO timeout");
        req_finish(req);
    }
}

/* Fills free slots; returns how many slots are busy. */
static size_t run_fill(struct run *run)
{
    size_t busy = 0;

    for (size_t s = 0; s < run->parallel; s++) {
        while (run->slots[s] == SIZE_MAX && run->next < run->n)
            run_start_one(run, s);
        if (run->slots[s] != SIZE_MAX)
            busy++;
    }
    return busy;
}

static void run_poll(struct run *run, struct pollfd *pfd, size_t *slot_of)
{
    size_t np = 0;
    double now = client_now(), wait = run->timeout;

    for (size_t s = 0; s < run->parallel; s++) {
        struct client_req *req;
        if (run->slots[s] == SIZE_MAX)
            continue;
        req = &run->reqs[run->slots[s]];
        pfd[np].fd = req->fd;
        pfd[np].events = req->sent < req->out.len ? POLLOUT : POLLIN;
        pfd[np].revents = 0;
        slot_of[np++] = s;
        if (req->deadline - now < wait)
            wait = req->deadline - now;
    }
    poll(pfd, np, wait <= 0 ? 0 : (int)(wait * 1000) + 1);
    for (size_t k = 0; k < np; k++) {
        size_t s = slot_of[k], i = run->slots[s];
        run_event(run, &run->reqs[i], pfd[k].revents);
        if (run->reqs[i].done) {
            run->slots[s] = SIZE_MAX;
            run_complete(run, i);
        }
    }
}

void client_run(struct client_req *reqs, size_t n, const struct client_target *t,
                unsigned parallel, double timeout, const struct client_ops *ops, void *ctx)
{
    struct run run = {reqs, n, 0, NULL, parallel == 0 ? 1 : parallel, t, timeout, ops, ctx};
    struct pollfd *pfd = calloc(run.parallel, sizeof(*pfd));
    size_t *slot_of = calloc(run.parallel, sizeof(*slot_of));

    run.slots = calloc(run.parallel, sizeof(*run.slots));
    if (pfd == NULL || slot_of == NULL || run.slots == NULL)
        abort();
    for (size_t s = 0; s < run.parallel; s++)
        run.slots[s] = SIZE_MAX;
    while (run_fill(&run) > 0)
        run_poll(&run, pfd, slot_of);
    free(pfd);
    free(slot_of);
    free(run.slots);
}
