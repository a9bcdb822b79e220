#ifndef WINNOW_DAEMON_LISTEN_H
#define WINNOW_DAEMON_LISTEN_H
/*
 * Listening sockets of the main process.  Every `bind_socket` of every
 * worker is bound here, before privileges are dropped, and the fds are
 * inherited by the workers across fork.  A socket is shared by reference
 * count between configuration generations, so a reload that keeps an
 * address keeps the very same socket (no window where connections are
 * refused, no EADDRINUSE), and a socket no generation uses any more is
 * closed (and a unix socket unlinked).
 */
#include <stdbool.h>
#include <stddef.h>

struct arena;
struct bind_spec;

struct listener {
    int fd;
    bool is_unix;
    const char *key;             /* "127.0.0.1:11333", "[::1]:11333", "/path/sock" */
    unsigned refs;               /* generations using it */
    struct listener *next;
};

/* All listeners of the process (the main process's list). */
struct listener *listen_all(void);

/*
 * Binds (or finds already bound) every address of spec; appends the fds to
 * fds (capacity cap, count *n).  Each listener found or created gets one
 * more reference, recorded in refs_r/nrefs (capacity refs_cap) so the
 * caller can release exactly those.  `localhost` binds 127.0.0.1 and ::1
 * (the latter only if the host has IPv6), `*` binds 0.0.0.0 and ::.
 * Returns -1 with *error_r (allocated in arena) when nothing could be bound
 * or a unix socket is held by a live process.
 */
int listen_bind(struct arena *arena, const struct bind_spec *spec,
                struct listener **refs_r, size_t refs_cap, size_t *nrefs,
                const char **error_r);

/* Drops one reference; at zero the socket is closed and a unix socket
 * path unlinked. */
void listen_release(struct listener *l);

/* Closes every listener fd in this process except those listed (used by a
 * worker right after fork). */
void listen_close_others(struct listener *const *keep, size_t nkeep);

/* Closes everything and unlinks unix sockets (main process, at exit). */
void listen_close_all(void);

#endif
