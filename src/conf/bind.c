/*
 * bind_socket values (spec §1.2): "host:port", "[v6]:port", "*:port",
 * "*v4:port", "*v6:port", "localhost:port", a bare host (the worker's default
 * port), and unix sockets "/path [mode=0660] [owner=u] [group=g]" (a value
 * starting with '/' or '.' is a path).  Only parses: resolving names and
 * binding is the main process's job.  Refuses empty values, bad ports,
 * unknown unix options and systemd socket activation (not supported).
 */
#include <ctype.h>
#include <string.h>

#include "conf/settings.h"
#include "core/arena.h"
#include "core/netaddr.h"
#include "core/str.h"

static int bind_error(struct arena *arena, const char *text, const char *why, const char **error_r)
{
    *error_r = arena_printf(arena, "bind_socket \"%s\": %s", text, why);
    return -1;
}

/* mode= is parsed like strtoul(..., 0): leading 0 octal, 0x hex. */
static int parse_mode(const char *p, size_t len, unsigned *mode_r)
{
    unsigned base = 10, v = 0;
    if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
        len -= 2;
    } else if (len > 1 && p[0] == '0') {
        base = 8;
    }
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int c = tolower((unsigned char)p[i]), d;
        if (isdigit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return -1;
        if ((unsigned)d >= base)
            return -1;
        v = v * base + (unsigned)d;
        if (v > 07777)
            return -1;
    }
    *mode_r = v;
    return 0;
}

static int parse_unix(struct arena *arena, const char *text, struct bind_spec *spec,
                      const char **error_r)
{
    const char *p = text;
    size_t plen = strcspn(p, " \t");
    spec->is_unix = true;
    spec->path = arena_strndup(arena, p, plen);
    spec->mode = 0644;
    p += plen;
    for (;;) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, " \t");
        if (n == 0)
            return 0;
        if (n > 5 && !strncmp(p, "mode=", 5)) {
            if (parse_mode(p + 5, n - 5, &spec->mode) < 0)
                return bind_error(arena, text, "mode= needs an octal mode such as 0660", error_r);
        } else if (n > 6 && !strncmp(p, "owner=", 6)) {
            spec->owner = arena_strndup(arena, p + 6, n - 6);
        } else if (n > 6 && !strncmp(p, "group=", 6)) {
            spec->group = arena_strndup(arena, p + 6, n - 6);
        } else {
            return bind_error(arena, text,
                              arena_printf(arena, "unknown option '%.*s' (mode=, owner=, group=)",
                                           (int)n, p),
                              error_r);
        }
        p += n;
    }
}

static int parse_port(const char *p, size_t len, uint16_t *port_r)
{
    uint64_t v;
    if (str_to_u64(p, len, &v) < 0 || v == 0 || v > 65535)
        return -1;
    *port_r = (uint16_t)v;
    return 0;
}

static bool valid_host(const char *h, size_t len)
{
    struct netaddr a;
    if (len == 0)
        return false;
    if (netaddr_parse(h, len, &a) == 0)
        return true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!isalnum(c) && c != '-' && c != '.' && c != '_')
            return false;
    }
    return true;
}

static int parse_inet(struct arena *arena, const char *text, uint16_t default_port,
                      struct bind_spec *spec, const char **error_r)
{
    const char *host = text, *colon = NULL;
    size_t hlen;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL)
            return bind_error(arena, text, "missing ']' after an IPv6 address", error_r);
        host = text + 1;
        hlen = (size_t)(close - host);
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1] != '\0')
            return bind_error(arena, text, "expected ':port' after ']'", error_r);
    } else {
        colon = strrchr(text, ':');
        if (colon != NULL && strchr(text, ':') != colon)
            colon = NULL;               /* a bare IPv6 address: no port */
        hlen = colon ? (size_t)(colon - text) : strlen(text);
    }
    spec->port = default_port;
    if (colon != NULL && parse_port(colon + 1, strlen(colon + 1), &spec->port) < 0)
        return bind_error(arena, text, "the port must be a number from 1 to 65535", error_r);
    if (spec->port == 0)
        return bind_error(arena, text, "no port given and the worker has no default", error_r);
    bool wild = (hlen == 1 && host[0] == '*') || (hlen == 3 && !strncmp(host, "*v4", 3)) ||
                (hlen == 3 && !strncmp(host, "*v6", 3));
    if (!wild && !valid_host(host, hlen))
        return bind_error(arena, text, "not a host name or IP address", error_r);
    spec->host = arena_strndup(arena, host, hlen);
    return 0;
}

int bind_spec_parse(struct arena *arena, const char *text, uint16_t default_port,
                    struct bind_spec *spec_r, const char **error_r)
{
    const char *p = text ? text : "";
    size_t len = strlen(p);
    str_trim(&p, &len);
    char *t = arena_strndup(arena, p, len);
    memset(spec_r, 0, sizeof(*spec_r));
    spec_r->text = t;
    if (len == 0)
        return bind_error(arena, t, "empty value", error_r);
    if (t[0] == '/' || t[0] == '.')
        return parse_unix(arena, t, spec_r, error_r);
    if (!strncmp(t, "systemd:", 8))
        return bind_error(arena, t, "systemd socket activation is not supported", error_r);
    if (strpbrk(t, " \t") != NULL)
        return bind_error(arena, t, "spaces are only allowed after a unix socket path", error_r);
    return parse_inet(arena, t, default_port, spec_r, error_r);
}
