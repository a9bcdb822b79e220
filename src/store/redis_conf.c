/*
 * Redis settings from the configuration (spec §8.5): a module's own servers
 * win over the global redis {} section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/str.h"
#include "store/redis.h"

/* One address: "unix:/p", "/p", "host", "host:port", "[v6]:port", "v6". */
static int parse_addr(struct arena *a, const char *p, size_t len, struct redis_server_addr *out,
                      const char **error_r)
{
    str_trim(&p, &len);
    memset(out, 0, sizeof(*out));
    if (len > 5 && memcmp(p, "unix:", 5) == 0)
        p += 5, len -= 5;
    if (len > 0 && (p[0] == '/' || p[0] == '.')) {
        out->path = arena_strndup(a, p, len);
        return 0;
    }
    const char *host = p, *port = NULL;
    size_t hlen = len, plen = 0;
    if (len > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', len);
        if (close == NULL)
            return *error_r = "redis: unterminated [ in server address", -1;
        host = p + 1, hlen = (size_t)(close - host);
        size_t rest = len - (size_t)(close + 1 - p);
        if (rest > 0) {
            if (close[1] != ':')
                return *error_r = "redis: junk after ] in server address", -1;
            port = close + 2, plen = rest - 1;
        }
    } else {
        const char *colon = memchr(p, ':', len);
        /* exactly one ':' is host:port; several mean a bare IPv6 address */
        if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon + 1 - p)) == NULL) {
            hlen = (size_t)(colon - p);
            port = colon + 1, plen = len - hlen - 1;
        }
    }
    out->port = 6379;
    if (port != NULL) {
        uint64_t v;
        if (str_to_u64(port, plen, &v) < 0 || v == 0 || v > 65535)
            return *error_r = "redis: bad port in server address", -1;
        out->port = (int)v;
    }
    if (hlen == 0)
        return *error_r = "redis: empty server address", -1;
    out->host = arena_strndup(a, host, hlen);
    if (strcmp(out->host, "localhost") == 0)
        out->host = "127.0.0.1";
    return 0;
}

/* Accepts a string list (comma/space separated, optional strategy prefix)
 * or an array of strings. */
static int parse_list(struct arena *a, const struct conf_obj *v, struct redis_server_addr **out,
                      size_t *n_r, const char **error_r)
{
    size_t cap = 8, n = 0;
    struct redis_server_addr *addrs = ARENA_NEW_N(a, struct redis_server_addr, cap);
    for (const struct conf_obj *e = conf_each_first(v); e; e = conf_each_next(v, e)) {
        const char *s = conf_as_string(e);
        if (s == NULL)
            return *error_r = "redis: servers must be strings", -1;
        static const char *const strategies[] = {"master-slave:", "round-robin:", "random:",
                                                 "sequential:", "hash:"};
        for (size_t k = 0; k < sizeof(strategies) / sizeof(strategies[0]); k++)
            if (strncmp(s, strategies[k], strlen(strategies[k])) == 0)
                s += strlen(strategies[k]);
        const char *p = s;
        while (*p) {
            size_t len = strcspn(p, ", ;");
            if (len > 0) {
                if (n == cap)
                    return *error_r = "redis: too many servers (at most 8)", -1;
                if (parse_addr(a, p, len, &addrs[n], error_r) < 0)
                    return -1;
                n++;
            }
            p += len;
            p += strspn(p, ", ;");
        }
    }
    *out = addrs;
    *n_r = n;
    return 0;
}

static bool has_servers(const struct conf_obj *sec)
{
    return sec != NULL && (conf_get(sec, "servers") || conf_get(sec, "read_servers") ||
                           conf_get(sec, "write_servers"));
}

int redis_settings_parse(struct arena *a, const struct conf_obj *module_section,
                         const struct conf_obj *global_section, struct redis_settings *s,
                         const char **error_r)
{
    memset(s, 0, sizeof(*s));
    const struct conf_obj *sec = has_servers(module_section) ? module_section : global_section;
    if (!has_servers(sec))
        return 0;   /* not configured: Redis-backed features stay off */
    const struct conf_obj *all = conf_get(sec, "servers");
    const struct conf_obj *rd = conf_get(sec, "read_servers");
    const struct conf_obj *wr = conf_get(sec, "write_servers");
    if ((rd ? rd : all) == NULL || (wr ? wr : all) == NULL)
        return *error_r = "redis: read_servers and write_servers must both be set when "
                          "servers is absent", -1;
    if (parse_list(a, rd ? rd : all, &s->read, &s->nread, error_r) < 0)
        return -1;
    if (rd == NULL && wr == NULL) {
        /* One list for both: the pool then shares the connections. */
        s->write = s->read;
        s->nwrite = s->nread;
    } else if (parse_list(a, wr ? wr : all, &s->write, &s->nwrite, error_r) < 0) {
        return -1;
    }
    conf_get_string(sec, "password", NULL, &s->password, error_r);
    const struct conf_obj *db = conf_get(sec, "db");
    if (db == NULL)
        db = conf_get(sec, "dbname");
    if (db == NULL)
        db = conf_get(sec, "database");
    if (db != NULL) {
        double d;
        const char *str = conf_as_string(conf_first(db));
        uint64_t v;
        if (conf_as_double(conf_first(db), &d) && d >= 0 && d < 1000000)
            s->db = (int)d;
        else if (str != NULL && str_to_u64(str, strlen(str), &v) == 0 && v < 1000000)
            s->db = (int)v;
        else
            return *error_r = "redis: db must be a database number", -1;
    }
    if (conf_get_time(sec, "timeout", 1.0, &s->timeout, error_r) < 0)
        return -1;
    s->configured = s->nread > 0 && s->nwrite > 0;
    return 0;
}
