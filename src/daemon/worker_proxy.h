#ifndef WINNOW_DAEMON_WORKER_PROXY_H
#define WINNOW_DAEMON_WORKER_PROXY_H
/*
 * Between the files of the proxy worker (worker "rspamd_proxy", milter =
 * yes): worker_proxy.c (connections and the milter sessions),
 * worker_proxy_conf.c (options and upstream lists), worker_proxy_scan.c
 * (the scan request built at end of message, in-process scanning, the
 * task -> result conversion), worker_proxy_upstream.c (HTTP to scanners,
 * round robin and failover, v2 JSON -> result).  For those files only.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "proto/milter/reply.h"
#include "proto/milter/session.h"

struct arena;
struct config;
struct worker;
struct worker_def;
struct worker_conf;

#define PROXY_HOSTS_MAX 32

struct proxy_host {
    char name[128];              /* "127.0.0.1:11333", for logs */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    unsigned errors;             /* since first_error */
    double first_error;
    double failed_until;         /* marked failed until then (0 = alive) */
};

struct proxy_upstream {
    const char *name;
    bool self_scan;
    bool is_default;
    double timeout;
    const char *settings_id;
    struct proxy_host *hosts;
    size_t nhosts;
    size_t rr;                   /* round-robin cursor */
};

struct proxy_conf {
    bool milter;
    double timeout;              /* per-upstream request / milter I/O, 120 s */
    unsigned max_retries;        /* connect attempts per message, 5 */
    bool accept_on_failure;      /* failure_mode = "accept" */
    struct milter_reply_opts reply;
    const char *client_ca_name;
    struct milter_session_limits limits;
    struct proxy_upstream *upstreams;
    size_t nupstreams;
    struct proxy_upstream *def;  /* used for every milter message */
};

/* The worker's row (workers.c). */
extern const struct worker_def worker_proxy_def;

/* worker_proxy_conf.c: reads the worker block; -1 with *error_r. */
int proxy_conf_parse(const struct config *cfg, const struct worker_conf *wc, struct arena *arena,
                     struct proxy_conf *pc, const char **error_r);

/* One request header of the scan request (spec §4.3). */
struct proxy_hdr {
    const char *name;
    const char *value;
};

/* What one message is scanned with; strings live in `arena` or in the
 * session (which stays unchanged until the answer). */
struct proxy_request {
    struct arena *arena;
    struct proxy_hdr *h;
    size_t n, cap;
    const char *body;
    size_t body_len;
    const char *queue_id;        /* for log lines, "-" when unknown */
};

/* worker_proxy_scan.c */
void proxy_request_build(struct proxy_request *req, const struct milter_session *s,
                         const struct proxy_conf *pc, const struct proxy_upstream *u);

/*
 * Completion of a scan: r is the result (valid during the call only) or
 * NULL with `error` saying why the scan failed.  `via` names what scanned
 * ("local", "127.0.0.1:11333").
 */
typedef void (*proxy_scan_done_fn)(void *data, const struct milter_result *r, const char *error,
                                   const char *via);

/* In-process scan (self_scan): builds the task exactly as the scanner's
 * HTTP path does (scan_request_to_task), runs the pipeline.  done may run
 * before this returns. */
void proxy_scan_local(struct worker *w, const struct proxy_request *req, proxy_scan_done_fn done,
                      void *data);

/* worker_proxy_upstream.c: POST /checkv2 to the upstream's hosts, round
 * robin, connect retries up to max_retries, failed hosts skipped for a
 * while.  done runs once, never before this returns. */
void proxy_scan_upstream(struct worker *w, const struct proxy_conf *pc, struct proxy_upstream *u,
                         const struct proxy_request *req, proxy_scan_done_fn done, void *data);

/* Parses a v2 JSON reply into r (strings in arena); -1 with *error_r. */
int proxy_result_from_json(struct arena *arena, const char *p, size_t len,
                           struct milter_result *r, const char **error_r);

#endif
