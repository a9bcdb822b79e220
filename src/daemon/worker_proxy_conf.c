/*
 * The proxy worker's options (spec §1.4) and its upstream list, read from
 * the worker block after fork (the main process has already checked that
 * the block parses).  Upstream host names are resolved here, once, with
 * getaddrinfo: blocking, but before the worker's loop runs.
 *
 * Refuses (init fails with the reason): a wrong type for any option, an
 * unknown failure_mode, an upstream with neither hosts nor self_scan, a
 * host that does not resolve, no usable upstream at all.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "daemon/worker_proxy.h"

#define SCANNER_PORT "11333"
#define UPSTREAMS_MAX 16

static const char *const strategies[] = {"round-robin:", "master-slave:", "random:",
                                         "sequential:", "hash:"};

static int add_resolved(struct proxy_upstream *u, struct arena *arena, const char *host,
                        const char *port, const char **error_r)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        *error_r = arena_printf(arena, "upstream %s: cannot resolve %s: %s", u->name, host,
                                gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && u->nhosts < PROXY_HOSTS_MAX; ai = ai->ai_next) {
        struct proxy_host *h = &u->hosts[u->nhosts++];
        memset(h, 0, sizeof(*h));
        memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
        h->addrlen = ai->ai_addrlen;
        char hb[64];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, hb, sizeof(hb), NULL, 0, NI_NUMERICHOST) != 0)
            snprintf(hb, sizeof(hb), "%s", host);
        snprintf(h->name, sizeof(h->name), ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", hb,
                 port);
    }
    freeaddrinfo(res);
    return 0;
}

/* "host", "host:port", "host:port:priority", "[v6]:port", bare IPv6. */
static int add_host(struct proxy_upstream *u, struct arena *arena, const char *item,
                    const char **error_r)
{
    char *s = arena_strdup(arena, item), *host = s, *port = NULL;
    if (s[0] == '[') {
        char *rb = strchr(s, ']');
        if (rb == NULL) {
            *error_r = arena_printf(arena, "upstream %s: bad host \"%s\"", u->name, item);
            return -1;
        }
        *rb = '\0';
        host = s + 1;
        if (rb[1] == ':')
            port = rb + 2;
    } else {
        size_t colons = 0;
        for (const char *c = s; *c; c++)
            colons += *c == ':';
        char *c = strchr(s, ':');
        if (c != NULL && colons <= 2) {    /* else a bare IPv6 address */
            *c = '\0';
            port = c + 1;
        }
    }
    if (port != NULL) {
        char *prio = strchr(port, ':');
        if (prio != NULL)
            *prio = '\0';    /* priorities only matter to master-slave: ignored */
        if (*port == '\0')
            port = NULL;
    }
    return add_resolved(u, arena, host, port ? port : SCANNER_PORT, error_r);
}

static int parse_hosts(struct proxy_upstream *u, struct arena *arena, const char *list,
                       const char **error_r)
{
    for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
        if (strncasecmp(list, strategies[i], strlen(strategies[i])) == 0)
            list += strlen(strategies[i]);
    char *copy = arena_strdup(arena, list), *save = NULL;
    u->hosts = ARENA_NEW_N(arena, struct proxy_host, PROXY_HOSTS_MAX);
    for (char *tok = strtok_r(copy, ", ;\t", &save); tok; tok = strtok_r(NULL, ", ;\t", &save))
        if (add_host(u, arena, tok, error_r) < 0)
            return -1;
    if (u->nhosts == 0) {
        *error_r = arena_printf(arena, "upstream %s: hosts is empty", u->name);
        return -1;
    }
    return 0;
}

static int upstream_block(struct proxy_conf *pc, struct arena *arena, const char *name,
                          const struct conf_obj *blk, const char **error_r)
{
    bool enabled, self_scan, is_default;
    const char *hosts = NULL, *settings = NULL;
    struct proxy_upstream *u = &pc->upstreams[pc->nupstreams];
    memset(u, 0, sizeof(*u));
    if (conf_get_string(blk, "name", name, &u->name, error_r) < 0 ||
        conf_get_bool(blk, "enabled", true, &enabled, error_r) < 0 ||
        conf_get_bool(blk, "self_scan", false, &self_scan, error_r) < 0 ||
        conf_get_bool(blk, "default", false, &is_default, error_r) < 0 ||
        conf_get_time(blk, "timeout", pc->timeout, &u->timeout, error_r) < 0 ||
        conf_get_string(blk, "hosts", NULL, &hosts, error_r) < 0 ||
        conf_get_string(blk, "settings_id", NULL, &settings, error_r) < 0)
        return -1;
    if (!enabled)
        return 0;
    u->self_scan = self_scan;
    u->is_default = is_default;
    u->settings_id = settings;
    if (u->name == NULL)
        u->name = "default";
    if (!self_scan) {
        if (hosts == NULL) {
            *error_r = arena_printf(arena, "upstream %s: needs hosts = \"...\" or self_scan = yes",
                                    u->name);
            return -1;
        }
        if (parse_hosts(u, arena, hosts, error_r) < 0)
            return -1;
    }
    pc->nupstreams++;
    /* The last default wins, so local.d can point the milter elsewhere. */
    if (is_default || (self_scan && pc->def == NULL))
        pc->def = u;
    return 0;
}

static bool is_single_block(const struct conf_obj *e)
{
    return conf_get(e, "hosts") != NULL || conf_get(e, "self_scan") != NULL ||
           conf_get(e, "name") != NULL;
}

static int parse_upstreams(struct proxy_conf *pc, struct arena *arena,
                           const struct conf_obj *ups, const char **error_r)
{
    pc->upstreams = ARENA_NEW_N(arena, struct proxy_upstream, UPSTREAMS_MAX);
    for (const struct conf_obj *e = conf_each_first(ups); e; e = conf_each_next(ups, e)) {
        if (e->type != CONF_OBJECT) {
            *error_r = "upstream: expected a block { ... }";
            return -1;
        }
        if (is_single_block(e)) {
            if (pc->nupstreams < UPSTREAMS_MAX && upstream_block(pc, arena, NULL, e, error_r) < 0)
                return -1;
            continue;
        }
        for (const struct conf_obj *m = e->v.list.head; m; m = m->next) {
            for (const struct conf_obj *b = conf_each_first(m); b; b = conf_each_next(m, b)) {
                if (b->type != CONF_OBJECT)
                    continue;    /* `upstream "x" = null`: disabled */
                if (pc->nupstreams < UPSTREAMS_MAX &&
                    upstream_block(pc, arena, m->key, b, error_r) < 0)
                    return -1;
            }
        }
    }
    if (pc->def == NULL && pc->nupstreams > 0)
        pc->def = &pc->upstreams[pc->nupstreams - 1];
    if (pc->def == NULL) {
        *error_r = "no upstream: add upstream \"local\" { default = yes; self_scan = yes; }";
        return -1;
    }
    return 0;
}

static int parse_failure_mode(const struct conf_obj *sec, struct proxy_conf *pc,
                              const char **error_r)
{
    const char *mode;
    if (conf_get_string(sec, "failure_mode", "tempfail", &mode, error_r) < 0)
        return -1;
    if (strcasecmp(mode, "tempfail") == 0) {
        pc->accept_on_failure = false;
    } else if (strcasecmp(mode, "accept") == 0) {
        pc->accept_on_failure = true;
    } else {
        const struct conf_obj *v = conf_first(conf_get(sec, "failure_mode"));
        *error_r = arena_printf(v->arena, "%s:%u: failure_mode: expected \"tempfail\" or "
                                "\"accept\", not \"%s\"", v->file ? v->file : "?", v->line, mode);
        return -1;
    }
    return 0;
}

int proxy_conf_parse(const struct config *cfg, const struct worker_conf *wc, struct arena *arena,
                     struct proxy_conf *pc, const char **error_r)
{
    const struct conf_obj *sec = wc->section;
    int64_t retries, max_headers;
    memset(pc, 0, sizeof(*pc));
    pc->timeout = wc->timeout > 0 ? wc->timeout : 120.0;
    if (conf_get_bool(sec, "milter", false, &pc->milter, error_r) < 0 ||
        conf_get_int(sec, "max_retries", 5, &retries, error_r) < 0 ||
        conf_get_int(sec, "max_headers", 2000, &max_headers, error_r) < 0 ||
        conf_get_bool(sec, "discard_on_reject", false, &pc->reply.discard_on_reject, error_r) < 0 ||
        conf_get_bool(sec, "quarantine_on_reject", false, &pc->reply.quarantine_on_reject,
                      error_r) < 0 ||
        conf_get_string(sec, "spam_header", "X-Spam", &pc->reply.spam_header, error_r) < 0 ||
        conf_get_string(sec, "reject_message", "Spam message rejected", &pc->reply.reject_message,
                        error_r) < 0 ||
        conf_get_string(sec, "client_ca_name", NULL, &pc->client_ca_name, error_r) < 0 ||
        parse_failure_mode(sec, pc, error_r) < 0)
        return -1;
    if (retries < 1 || retries > 100 || max_headers < 1 || max_headers > 100000) {
        *error_r = "max_retries must be 1..100 and max_headers 1..100000";
        return -1;
    }
    pc->max_retries = (unsigned)retries;
    pc->limits.max_headers = (size_t)max_headers;
    pc->limits.max_message = (size_t)cfg->options.max_message;
    return parse_upstreams(pc, arena, conf_get(sec, "upstream"), error_r);
}
