/*
 * Binding listening sockets (see listen.h).  Owns the process's list of
 * listeners and their fds.  TCP sockets get SO_REUSEADDR (a restarted
 * daemon must not wait for TIME_WAIT) and IPV6_V6ONLY on IPv6 (so `*` can
 * bind 0.0.0.0 and :: on the same port).  Unix sockets: a stale socket file
 * is unlinked, but only when nothing answers on it and it really is a
 * socket; a regular file at that path is refused, never removed.  Name
 * resolution (getaddrinfo for a host name) blocks: it runs in the main
 * process at start-up and reload only.
 */
#include "daemon/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/settings.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/netaddr.h"

static struct listener *listeners;

struct listener *listen_all(void)
{
    return listeners;
}

static struct listener *listen_find(const char *key)
{
    for (struct listener *l = listeners; l != NULL; l = l->next) {
        if (strcmp(l->key, key) == 0)
            return l;
    }
    return NULL;
}

static struct listener *listen_add(int fd, bool is_unix, const char *key)
{
    struct listener *l = calloc(1, sizeof(*l));
    char *k = strdup(key);

    if (l == NULL || k == NULL)
        panic("out of memory");
    l->fd = fd;
    l->is_unix = is_unix;
    l->key = k;
    l->next = listeners;
    listeners = l;
    return l;
}

static int add_ref(struct listener *l, struct listener **refs_r, size_t refs_cap, size_t *nrefs)
{
    for (size_t i = 0; i < *nrefs; i++) {
        if (refs_r[i] == l)
            return 0;                    /* the same worker named it twice */
    }
    if (*nrefs >= refs_cap)
        return -1;
    refs_r[(*nrefs)++] = l;
    l->refs++;
    return 0;
}

/* Binds one TCP address; returns the fd or -1 with errno set. */
static int bind_tcp_addr(const struct sockaddr *sa, socklen_t salen)
{
    int fd, one = 1, saved;

    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, sa, salen) < 0 || listen(fd, SOMAXCONN) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* The addresses a TCP bind_spec host stands for. */
static int resolve_host(const char *host, uint16_t port, struct addrinfo **res_r,
                        bool *optional_v6_r)
{
    struct addrinfo hints;
    char portstr[8];
    const char *node = host;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    *optional_v6_r = false;
    if (host == NULL || strcmp(host, "*") == 0) {
        node = NULL;                     /* AI_PASSIVE: 0.0.0.0 and :: */
    } else if (strcmp(host, "*v4") == 0) {
        node = NULL;
        hints.ai_family = AF_INET;
    } else if (strcmp(host, "*v6") == 0) {
        node = NULL;
        hints.ai_family = AF_INET6;
    } else if (strcmp(host, "localhost") == 0) {
        node = "localhost";
        *optional_v6_r = true;           /* ::1 only if the host has IPv6 */
    }
    snprintf(portstr, sizeof(portstr), "%u", port);
    return getaddrinfo(node, portstr, &hints, res_r);
}

static int listen_bind_tcp(struct arena *arena, const struct bind_spec *spec,
                           struct listener **refs_r, size_t refs_cap, size_t *nrefs,
                           const char **error_r)
{
    struct addrinfo *res, *ai;
    bool optional_v6;
    size_t bound = 0;
    int rc, fd;
    char key[80];

    rc = resolve_host(spec->host, spec->port, &res, &optional_v6);
    if (rc != 0) {
        *error_r = arena_printf(arena, "bind_socket \"%s\": %s", spec->text, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        struct listener *l;

        netaddr_sockaddr_text(ai->ai_addr, ai->ai_addrlen, key, sizeof(key), NULL);
        l = listen_find(key);
        if (l == NULL) {
            fd = bind_tcp_addr(ai->ai_addr, ai->ai_addrlen);
            if (fd < 0) {
                if (optional_v6 && ai->ai_family == AF_INET6 &&
                    (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
                    continue;
                *error_r = arena_printf(arena, "bind_socket \"%s\": cannot bind %s: %s",
                                        spec->text, key, strerror(errno));
                freeaddrinfo(res);
                return -1;
            }
            l = listen_add(fd, false, key);
            log_info("listening on %s", key);
        }
        if (add_ref(l, refs_r, refs_cap, nrefs) < 0) {
            *error_r = arena_printf(arena, "bind_socket \"%s\": too many addresses", spec->text);
            freeaddrinfo(res);
            return -1;
        }
        bound++;
    }
    freeaddrinfo(res);
    if (bound == 0) {
        *error_r = arena_printf(arena, "bind_socket \"%s\": no address to bind", spec->text);
        return -1;
    }
    return 0;
}

/* 0 if the path is free (or was a stale socket, now removed), -1 if not. */
static int unix_path_prepare(struct arena *arena, const struct bind_spec *spec,
                             const struct sockaddr_un *sun, const char **error_r)
{
    struct stat st;
    int fd, rc;

    if (lstat(spec->path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        *error_r = arena_printf(arena, "bind_socket \"%s\": %s exists and is not a socket",
                                spec->text, spec->path);
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
    close(fd);
    if (rc == 0) {
        *error_r = arena_printf(arena, "bind_socket \"%s\": %s is in use by a running process",
                                spec->text, spec->path);
        return -1;
    }
    log_info("removing stale socket %s", spec->path);
    unlink(spec->path);
    return 0;
}

/* chown/chmod as the spec says; the owner's primary group unless group=. */
static int unix_path_perms(struct arena *arena, const struct bind_spec *spec,
                           const char **error_r)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;

    if (spec->owner != NULL) {
        struct passwd *pw = getpwnam(spec->owner);
        if (pw == NULL) {
            *error_r = arena_printf(arena, "bind_socket \"%s\": unknown user %s", spec->text,
                                    spec->owner);
            return -1;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if (spec->group != NULL) {
        struct group *gr = getgrnam(spec->group);
        if (gr == NULL) {
            *error_r = arena_printf(arena, "bind_socket \"%s\": unknown group %s", spec->text,
                                    spec->group);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(spec->path, uid, gid) < 0) {
        *error_r = arena_printf(arena, "bind_socket \"%s\": chown: %s", spec->text,
                                strerror(errno));
        return -1;
    }
    if (chmod(spec->path, spec->mode != 0 ? spec->mode : 0644) < 0) {
        *error_r = arena_printf(arena, "bind_socket \"%s\": chmod: %s", spec->text,
                                strerror(errno));
        return -1;
    }
    return 0;
}

static int listen_bind_unix(struct arena *arena, const struct bind_spec *spec,
                            struct listener **refs_r, size_t refs_cap, size_t *nrefs,
                            const char **error_r)
{
    struct sockaddr_un sun;
    struct listener *l = listen_find(spec->path);
    int fd;

    if (l == NULL) {
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        if (strlen(spec->path) >= sizeof(sun.sun_path)) {
            *error_r = arena_printf(arena, "bind_socket \"%s\": path too long", spec->text);
            return -1;
        }
        memcpy(sun.sun_path, spec->path, strlen(spec->path));
        if (unix_path_prepare(arena, spec, &sun, error_r) < 0)
            return -1;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
            listen(fd, SOMAXCONN) < 0) {
            *error_r = arena_printf(arena, "bind_socket \"%s\": %s", spec->text,
                                    strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        if (unix_path_perms(arena, spec, error_r) < 0) {
            close(fd);
            unlink(spec->path);
            return -1;
        }
        l = listen_add(fd, true, spec->path);
        log_info("listening on %s", spec->path);
    }
    if (add_ref(l, refs_r, refs_cap, nrefs) < 0) {
        *error_r = arena_printf(arena, "bind_socket \"%s\": too many sockets", spec->text);
        return -1;
    }
    return 0;
}

int listen_bind(struct arena *arena, const struct bind_spec *spec,
                struct listener **refs_r, size_t refs_cap, size_t *nrefs,
                const char **error_r)
{
    if (spec->is_unix)
        return listen_bind_unix(arena, spec, refs_r, refs_cap, nrefs, error_r);
    return listen_bind_tcp(arena, spec, refs_r, refs_cap, nrefs, error_r);
}

static void listen_destroy(struct listener *l)
{
    if (l->fd >= 0)
        close(l->fd);
    if (l->is_unix)
        unlink(l->key);
    free((char *)l->key);
    free(l);
}

void listen_release(struct listener *l)
{
    struct listener **pp;

    ASSERT(l->refs > 0);
    if (--l->refs > 0)
        return;
    for (pp = &listeners; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    log_info("closing listener %s", l->key);
    listen_destroy(l);
}

void listen_close_others(struct listener *const *keep, size_t nkeep)
{
    for (struct listener *l = listeners; l != NULL; l = l->next) {
        bool kept = false;

        for (size_t i = 0; i < nkeep; i++)
            kept = kept || keep[i] == l;
        if (!kept && l->fd >= 0) {
            close(l->fd);
            l->fd = -1;
        }
    }
}

void listen_close_all(void)
{
    while (listeners != NULL) {
        struct listener *l = listeners;

        listeners = l->next;
        listen_destroy(l);
    }
}
