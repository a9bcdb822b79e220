#ifndef WINNOW_DAEMON_CTLSOCK_H
#define WINNOW_DAEMON_CTLSOCK_H
/*
 * The main process's control socket (options.control_socket, default
 * "$DBDIR/winnow.sock mode=0600"): what `winnowadm control` talks to.  Like
 * Rspamd's, it speaks a minimal HTTP: the client sends `GET /stat` or
 * `GET /reload` and reads one JSON reply; one request per connection.
 *
 * The main process serves it between signals, synchronously, with a
 * one-second deadline per client, so a stuck client delays supervision by
 * at most that and cannot hold the socket.
 */
#include <stdbool.h>
#include <stddef.h>

struct arena;
struct config;

/* Binds the socket named by cfg's options (mode and owner as written;
 * owner defaults to `user` so the daemon's user may use it as well as
 * root).  Returns the listening fd, or -1 with *error_r; an empty
 * control_socket disables it: returns -2. */
int ctlsock_open(struct arena *arena, const struct config *cfg, const char *user,
                 const char **error_r);

/* Accepts one client on listen_fd and reads its request line: the command
 * ("stat", "reload", ...) goes into cmd.  Returns the client fd (to answer
 * with ctlsock_reply), or -1 when there was nothing usable to answer. */
int ctlsock_accept(int listen_fd, char *cmd, size_t cmdsize);

/* "GET /stat HTTP/1.0" or "stat" (NUL-terminated) -> "stat": letters,
 * digits and '_' only, shorter than cmdsize.  false when there is none. */
bool ctlsock_parse_command(const char *req, char *cmd, size_t cmdsize);

/* Writes an HTTP/1.0 reply with a JSON body and closes fd. */
void ctlsock_reply(int fd, int status, const char *json, size_t len);

#endif
