/*
 * The control socket (see ctlsock.h).  The request is read with explicit
 * bounds: at most CTL_REQ_MAX bytes, until the end of the header block or
 * the deadline.  Only the request line matters; "GET /stat HTTP/1.0" gives
 * the command "stat".  A bare "stat\n" is accepted too, for socat users.
 */
#include "daemon/ctlsock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/settings.h"
#include "core/arena.h"
#include "core/log.h"
#include "daemon/listen.h"

#define CTL_REQ_MAX 4096
#define CTL_DEADLINE_MS 1000

int ctlsock_open(struct arena *arena, const struct config *cfg, const char *user,
                 const char **error_r)
{
    const char *text = cfg->options.control_socket;
    struct bind_spec spec;
    struct listener *ref = NULL;
    size_t nref = 0;

    if (text == NULL || text[0] == '\0')
        return -2;
    if (bind_spec_parse(arena, text, 0, &spec, error_r) < 0)
        return -1;
    if (!spec.is_unix) {
        *error_r = arena_printf(arena, "control_socket \"%s\": must be a unix socket path", text);
        return -1;
    }
    if (spec.owner == NULL)
        spec.owner = user;
    if (listen_bind(arena, &spec, &ref, 1, &nref, error_r) < 0)
        return -1;
    return ref->fd;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads until a blank line (or, for the bare form, a newline), the size
 * limit, EOF or the deadline.  Returns the bytes read. */
static size_t read_request(int fd, char *buf, size_t size)
{
    double deadline = now_ms() + CTL_DEADLINE_MS;
    size_t n = 0;

    while (n + 1 < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n") ||
            (strncmp(buf, "GET ", 4) != 0 && memchr(buf, '\n', n)))
            break;
    }
    buf[n] = '\0';
    return n;
}

bool ctlsock_parse_command(const char *req, char *cmd, size_t cmdsize)
{
    const char *p = req;
    size_t n = 0;

    if (strncmp(p, "GET ", 4) == 0 || strncmp(p, "POST ", 5) == 0)
        p = strchr(p, ' ') + 1;
    while (*p == '/')
        p++;
    while (n + 1 < cmdsize && ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') ||
                               p[n] == '_'))
        n++;
    if (n == 0 || n + 1 >= cmdsize)
        return false;
    memcpy(cmd, p, n);
    cmd[n] = '\0';
    return true;
}

int ctlsock_accept(int listen_fd, char *cmd, size_t cmdsize)
{
    char req[CTL_REQ_MAX];
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            log_warn("control socket: accept: %s", strerror(errno));
        return -1;
    }
    if (read_request(fd, req, sizeof(req)) == 0) {
        close(fd);
        return -1;
    }
    if (!ctlsock_parse_command(req, cmd, cmdsize)) {
        static const char bad[] = "{\"error\":\"expected GET /COMMAND\"}";
        ctlsock_reply(fd, 400, bad, sizeof(bad) - 1);
        return -1;
    }
    return fd;
}

static void write_all(int fd, const char *p, size_t len)
{
    double deadline = now_ms() + CTL_DEADLINE_MS;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w > 0) {
            p += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return;
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            return;              /* the client does not read: give up */
    }
}

void ctlsock_reply(int fd, int status, const char *json, size_t len)
{
    char head[160];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.0 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : status == 404 ? "Not found" : "Error", len);
    write_all(fd, head, (size_t)n);
    write_all(fd, json, len);
    close(fd);
}
