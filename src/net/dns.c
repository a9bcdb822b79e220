/*
 * The resolver: one c-ares channel per worker, its sockets watched by libev
 * (ARES_OPT_SOCK_STATE_CB) and its retransmission timer driven by an
 * ev_timer.  Answers are cached per (type, name) until their TTL runs out
 * (negative answers per their SOA minimum, capped at 5 minutes), in an LRU
 * bounded by cache_size.  Temporary failures are never cached.
 *
 * Ownership: each cache entry owns a small arena holding its reply; a
 * pending query is a heap object freed after its callback.  Freeing the
 * resolver cancels pending queries (their callbacks see DNS_TEMPFAIL).
 */
#include "net/dns.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/str.h"
#include "core/task.h"

#define CACHE_BUCKETS 4096
#define NEGATIVE_TTL_MAX 300
#define POSITIVE_TTL_MAX 86400

struct sock_watch {
    ev_io io;
    struct dns_resolver *res;
    struct sock_watch *next;
};

struct cache_entry {
    char *key;                   /* "<type>:<lower-case name>" */
    uint64_t hash;
    double expires;
    struct arena *arena;
    struct dns_reply *reply;
    struct cache_entry *hnext;   /* bucket chain */
    struct cache_entry *prev, *next; /* LRU: head = most recent */
};

struct dns_resolver {
    struct ev_loop *loop;
    ares_channel channel;
    ev_timer timer;
    struct sock_watch *socks;
    struct cache_entry *buckets[CACHE_BUCKETS];
    struct cache_entry *lru_head, *lru_tail;
    size_t cache_n, cache_max;
    unsigned task_limit;
    struct dns_stats stats;
};

struct pending_query {
    struct dns_resolver *res;
    char *name;
    enum dns_type type;
    dns_cb cb;
    void *data;
};

/* ---- cache ---- */

static char *cache_key(enum dns_type type, const char *name, size_t *len_r)
{
    size_t n = strlen(name);
    while (n > 0 && name[n - 1] == '.')
        n--;
    char *k = malloc(n + 8);
    if (k == NULL)
        panic("dns: out of memory");
    int off = snprintf(k, 8, "%u:", (unsigned)type);
    memcpy(k + off, name, n);
    k[off + (int)n] = '\0';
    str_lower(k, (size_t)off + n);
    *len_r = (size_t)off + n;
    return k;
}

static void lru_unlink(struct dns_resolver *r, struct cache_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        r->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        r->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(struct dns_resolver *r, struct cache_entry *e)
{
    e->next = r->lru_head;
    e->prev = NULL;
    if (r->lru_head)
        r->lru_head->prev = e;
    r->lru_head = e;
    if (r->lru_tail == NULL)
        r->lru_tail = e;
}

static void cache_drop(struct dns_resolver *r, struct cache_entry *e)
{
    struct cache_entry **pp = &r->buckets[e->hash % CACHE_BUCKETS];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(r, e);
    arena_free(&e->arena);
    free(e->key);
    free(e);
    r->cache_n--;
}

static struct cache_entry *cache_get(struct dns_resolver *r, enum dns_type type,
                                     const char *name)
{
    size_t klen;
    char *key = cache_key(type, name, &klen);
    uint64_t h = str_hash(key, klen);
    struct cache_entry *e = r->buckets[h % CACHE_BUCKETS];
    while (e != NULL && !(e->hash == h && strcmp(e->key, key) == 0))
        e = e->hnext;
    free(key);
    if (e == NULL)
        return NULL;
    if (e->expires <= ev_now(r->loop)) {
        cache_drop(r, e);
        return NULL;
    }
    lru_unlink(r, e);
    lru_push(r, e);
    return e;
}

static void cache_put(struct dns_resolver *r, const struct dns_reply *rep)
{
    uint32_t ttl = rep->ttl;
    if (rep->status == DNS_TEMPFAIL || ttl == 0)
        return;
    if (rep->status != DNS_OK || rep->n == 0)
        ttl = ttl > NEGATIVE_TTL_MAX ? NEGATIVE_TTL_MAX : ttl;
    else if (ttl > POSITIVE_TTL_MAX)
        ttl = POSITIVE_TTL_MAX;
    struct cache_entry *old = cache_get(r, rep->type, rep->name);
    if (old != NULL)
        cache_drop(r, old);
    while (r->cache_n >= r->cache_max && r->lru_tail != NULL)
        cache_drop(r, r->lru_tail);
    struct cache_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        panic("dns: out of memory");
    size_t klen;
    e->key = cache_key(rep->type, rep->name, &klen);
    e->hash = str_hash(e->key, klen);
    e->expires = ev_now(r->loop) + ttl;
    e->arena = arena_new(1024);
    e->reply = dns_reply_copy(e->arena, rep);
    e->hnext = r->buckets[e->hash % CACHE_BUCKETS];
    r->buckets[e->hash % CACHE_BUCKETS] = e;
    lru_push(r, e);
    r->cache_n++;
}

/* ---- c-ares <-> libev ---- */

static void reschedule(struct dns_resolver *r)
{
    struct timeval tv, *tvp = ares_timeout(r->channel, NULL, &tv);
    ev_timer_stop(r->loop, &r->timer);
    if (tvp != NULL) {
        double after = (double)tvp->tv_sec + (double)tvp->tv_usec / 1e6;
        ev_timer_set(&r->timer, after > 0.001 ? after : 0.001, 0.0);
        ev_timer_start(r->loop, &r->timer);
    }
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sock_watch *sw = w->data;
    struct dns_resolver *r = sw->res;
    ares_process_fd(r->channel, (revents & EV_READ) ? w->fd : ARES_SOCKET_BAD,
                    (revents & EV_WRITE) ? w->fd : ARES_SOCKET_BAD);
    reschedule(r);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct dns_resolver *r = w->data;
    ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    reschedule(r);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns_resolver *r = data;
    struct sock_watch **pp = &r->socks;
    while (*pp != NULL && (*pp)->io.fd != fd)
        pp = &(*pp)->next;
    struct sock_watch *sw = *pp;
    if (!readable && !writable) {
        if (sw != NULL) {
            ev_io_stop(r->loop, &sw->io);
            *pp = sw->next;
            free(sw);
        }
        return;
    }
    if (sw == NULL) {
        sw = calloc(1, sizeof(*sw));
        if (sw == NULL)
            panic("dns: out of memory");
        sw->res = r;
        sw->next = r->socks;
        r->socks = sw;
        ev_io_init(&sw->io, io_cb, fd, 0);
        sw->io.data = sw;
    }
    ev_io_stop(r->loop, &sw->io);
    ev_io_set(&sw->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    ev_io_start(r->loop, &sw->io);
}

struct dns_resolver *dns_resolver_new(struct ev_loop *loop, const struct dns_settings *s,
                                      const char **error_r)
{
    static int lib_init;
    if (!lib_init && ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
        *error_r = "c-ares initialisation failed";
        return NULL;
    }
    lib_init = 1;
    struct dns_resolver *r = calloc(1, sizeof(*r));
    if (r == NULL)
        panic("dns: out of memory");
    r->loop = loop;
    r->cache_max = s->cache_size ? s->cache_size : 10000;
    r->task_limit = 64;
    struct ares_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.sock_state_cb = sock_state_cb;
    opts.sock_state_cb_data = r;
    opts.timeout = (int)((s->timeout > 0 ? s->timeout : 1.0) * 1000);
    opts.tries = (int)(s->retransmits ? s->retransmits : 2) + 1;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    int rc = ares_init_options(&r->channel, &opts, mask);
    if (rc != ARES_SUCCESS) {
        *error_r = ares_strerror(rc);
        free(r);
        return NULL;
    }
    if (s->nameservers != NULL && *s->nameservers != '\0') {
        rc = ares_set_servers_ports_csv(r->channel, s->nameservers);
        if (rc != ARES_SUCCESS) {
            *error_r = "dns: invalid nameserver list";
            ares_destroy(r->channel);
            free(r);
            return NULL;
        }
    }
    ev_timer_init(&r->timer, timer_cb, 1.0, 0.0);
    r->timer.data = r;
    return r;
}

void dns_resolver_free(struct dns_resolver **rp)
{
    struct dns_resolver *r = *rp;
    if (r == NULL)
        return;
    *rp = NULL;
    ares_destroy(r->channel);    /* pending callbacks run with ARES_EDESTRUCTION */
    ev_timer_stop(r->loop, &r->timer);
    while (r->socks != NULL) {
        struct sock_watch *sw = r->socks;
        ev_io_stop(r->loop, &sw->io);
        r->socks = sw->next;
        free(sw);
    }
    while (r->lru_head != NULL)
        cache_drop(r, r->lru_head);
    free(r);
}

/* ---- the process's resolver ---- */

static struct dns_resolver *default_resolver;

struct dns_resolver *dns_default(void)
{
    return default_resolver;
}

void dns_default_set(struct dns_resolver *r)
{
    default_resolver = r;
}

/* ---- queries ---- */

static const char *status_text(int status)
{
    switch (status) {
    case ARES_ETIMEOUT: return "query timed out";
    case ARES_ESERVFAIL: return "server failure";
    case ARES_EREFUSED: return "query refused";
    case ARES_ECONNREFUSED: return "connection refused";
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED: return "resolver shut down";
    default: return ares_strerror(status);
    }
}

static void ares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct pending_query *pq = arg;
    struct dns_resolver *r = pq->res;
    struct arena *a = arena_new(2048);
    struct dns_reply *rep = NULL;
    if (status == ARES_SUCCESS && abuf != NULL) {
        rep = dns_reply_parse(a, abuf, (size_t)alen, pq->type, pq->name);
        if (rep == NULL)
            status = ARES_EBADRESP;
    }
    if (rep == NULL) {
        rep = ARENA_NEW(a, struct dns_reply);
        rep->type = pq->type;
        rep->name = arena_strdup(a, pq->name);
        rep->rrs = ARENA_NEW(a, struct dns_rr);
        if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
            rep->status = status == ARES_ENOTFOUND ? DNS_NXDOMAIN : DNS_OK;
            long ttl = abuf ? dns_answer_min_ttl(abuf, (size_t)alen) : -1;
            rep->ttl = ttl > 0 ? (uint32_t)ttl : 60;
        } else {
            rep->status = DNS_TEMPFAIL;
            rep->error = status_text(status);
            if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED) {
                r->stats.failures++;
                if (status == ARES_ETIMEOUT) {
                    r->stats.timeouts++;
                    core_count(&core_counters->dns_timeouts);
                } else {
                    core_count(&core_counters->dns_errors);
                }
            }
        }
    }
    if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED)
        cache_put(r, rep);
    pq->cb(rep, pq->data);
    arena_free(&a);
    free(pq->name);
    free(pq);
}

void dns_query(struct dns_resolver *r, const char *name, enum dns_type type, dns_cb cb,
               void *data)
{
    r->stats.queries++;
    struct cache_entry *e = cache_get(r, type, name);
    if (e != NULL) {
        r->stats.cache_hits++;
        cb(e->reply, data);
        return;
    }
    struct pending_query *pq = calloc(1, sizeof(*pq));
    if (pq == NULL)
        panic("dns: out of memory");
    pq->res = r;
    pq->name = strdup(name);
    pq->type = type;
    pq->cb = cb;
    pq->data = data;
    core_count(&core_counters->dns_queries);
    ares_query(r->channel, name, ns_c_in, (int)type, ares_cb, pq);
    reschedule(r);
}

/* ---- task-bound queries ---- */

struct task_query {
    struct task_ref ref;
    char *what;                  /* name given to task_async_begin */
    dns_task_cb cb;
    void *data;
};

static void task_reply_cb(const struct dns_reply *rep, void *data)
{
    struct task_query *tq = data;
    struct task *t = task_ref_get(tq->ref);
    if (t != NULL) {
        /* Strings handed to the module live as long as the task. */
        struct dns_reply *copy = dns_reply_copy(t->arena, rep);
        const char *what = arena_strdup(t->arena, tq->what);
        tq->cb(t, copy, tq->data);
        task_async_end(t, what);   /* may finish (and free) the task */
    }
    free(tq->what);
    free(tq);
}

void dns_set_task_limit(struct dns_resolver *r, unsigned limit)
{
    r->task_limit = limit ? limit : 64;
}

static const char *type_name(enum dns_type t)
{
    switch (t) {
    case DNS_T_A: return "A";
    case DNS_T_AAAA: return "AAAA";
    case DNS_T_TXT: return "TXT";
    case DNS_T_MX: return "MX";
    case DNS_T_PTR: return "PTR";
    }
    return "?";
}

void dns_task_query(struct dns_resolver *r, struct task *task, const char *name,
                    enum dns_type type, dns_task_cb cb, void *data)
{
    if (task->dns_requests >= r->task_limit) {
        struct dns_reply rep = {DNS_LIMIT, type, name, NULL, 0, 0, "per-message DNS limit"};
        if (task->dns_requests++ == r->task_limit)
            log_task_warn(task, "dns: more than %u lookups for one message; further lookups "
                                "are refused", r->task_limit);
        cb(task, &rep, data);
        return;
    }
    task->dns_requests++;
    struct task_query *tq = calloc(1, sizeof(*tq));
    if (tq == NULL)
        panic("dns: out of memory");
    char what[300];
    snprintf(what, sizeof(what), "dns:%.255s %s", name, type_name(type));
    tq->ref = task_ref(task);
    tq->what = strdup(what);
    tq->cb = cb;
    tq->data = data;
    task_async_begin(task, what);
    dns_query(r, name, type, task_reply_cb, tq);
}

void dns_get_stats(const struct dns_resolver *r, struct dns_stats *st)
{
    *st = r->stats;
}
