#ifndef WINNOW_NET_DNS_H
#define WINNOW_NET_DNS_H
/*
 * Asynchronous DNS on the worker's libev loop (c-ares), with a cache that
 * respects TTLs.  One resolver per worker process.  Answers are delivered to
 * a callback; a cached answer is delivered before dns_query() returns.
 *
 * Task-bound lookups go through dns_task_query(): it counts against the
 * task's lookup budget, marks the lookup pending on the task (so the task
 * waits for it or times out), and drops the reply if the task is gone by the
 * time it arrives — callbacks never see a freed task.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/netaddr.h"

struct arena;
struct ev_loop;
struct task;

enum dns_type {
    DNS_T_A = 1, DNS_T_PTR = 12, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28,
};

enum dns_status {
    DNS_OK = 0,                  /* answer; n may be 0 (NODATA) */
    DNS_NXDOMAIN,
    DNS_TEMPFAIL,                /* timeout, SERVFAIL, refused, network error */
    DNS_LIMIT,                   /* per-task lookup budget exhausted */
};

struct dns_rr {
    union {
        struct netaddr addr;     /* A, AAAA */
        struct {
            const char *s;       /* TXT: the record's strings concatenated */
            size_t len;          /* may contain NULs */
        } txt;
        struct {
            unsigned pref;
            const char *host;
        } mx;
        const char *ptr;
    } v;
};

struct dns_reply {
    enum dns_status status;
    enum dns_type type;
    const char *name;
    struct dns_rr *rrs;          /* MX sorted by preference */
    size_t n;
    uint32_t ttl;
    const char *error;           /* for DNS_TEMPFAIL: "query timed out", ... */
};

struct dns_settings {
    const char *nameservers;     /* "127.0.0.1:53,[::1]:53"; NULL = /etc/resolv.conf */
    double timeout;              /* per try, seconds (default 1) */
    unsigned retransmits;        /* tries after the first (default 2) */
    size_t cache_size;           /* entries, 0 = 10000 */
};

struct dns_resolver;

typedef void (*dns_cb)(const struct dns_reply *reply, void *data);

struct dns_resolver *dns_resolver_new(struct ev_loop *loop, const struct dns_settings *s,
                                      const char **error_r);
void dns_resolver_free(struct dns_resolver **r);

/* The worker process's resolver, shared by all modules (NULL outside a
 * worker or before modules_worker_init). */
struct dns_resolver *dns_default(void);
void dns_default_set(struct dns_resolver *r);

/* The reply passed to cb is valid during the callback only. */
void dns_query(struct dns_resolver *r, const char *name, enum dns_type type, dns_cb cb,
               void *data);

/* Task-bound query: at most `limit` per task (0 = 64).  cb receives the task
 * (still alive) and a reply whose strings live in the task's arena. */
typedef void (*dns_task_cb)(struct task *task, const struct dns_reply *reply, void *data);
void dns_task_query(struct dns_resolver *r, struct task *task, const char *name,
                    enum dns_type type, dns_task_cb cb, void *data);
void dns_set_task_limit(struct dns_resolver *r, unsigned limit);

/* Statistics for the controller and logs. */
struct dns_stats {
    uint64_t queries, cache_hits, failures, timeouts;
};
void dns_get_stats(const struct dns_resolver *r, struct dns_stats *st);

/* Parses a raw DNS message (as c-ares hands it over) into a reply allocated
 * in arena; NULL when malformed.  Exposed for the fuzz target and tests. */
struct dns_reply *dns_reply_parse(struct arena *arena, const unsigned char *abuf, size_t alen,
                                  enum dns_type type, const char *name);
struct dns_reply *dns_reply_copy(struct arena *arena, const struct dns_reply *rep);
/* Smallest TTL of the answer section, or -1 when the message is malformed. */
long dns_answer_min_ttl(const unsigned char *abuf, size_t alen);

#endif
