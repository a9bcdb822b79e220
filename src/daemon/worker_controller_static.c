/*
 * The web interface's files, served by the controller from `static_dir`
 * (worker option; default $WWWDIR, where `meson install` puts ui/, unless
 * `--var WWWDIR=...` says otherwise).  "/" and any path ending in '/' mean
 * index.html.  The files hold no secrets and need no password: the pages
 * ask for one and send it with every API call.
 *
 * The request path comes from a stranger, so it is decoded into a relative
 * path and refused (404, logged) when it holds anything but plain names:
 * no '.' or '..' segments and no hidden files (a segment starting with
 * '.'), no empty segments, no backslash, control bytes or NUL, and no
 * %-escape that decodes to one of those or to '/'.  The file is then
 * opened one segment at a time with openat(O_NOFOLLOW) from a descriptor
 * of static_dir, so a symbolic link below static_dir cannot lead out of it
 * even if someone plants one; static_dir itself may be a link (that is the
 * administrator's choice).  Only regular files of at most 4 MiB with an
 * extension in types[] are served; anything else is `404 Not found`, as
 * for any unknown path of the controller.
 *
 * Each file is read whole per request (they are small, and re-reading
 * means an upgrade of ui/ needs no restart).  Replies carry
 * `Cache-Control: no-store` like every controller reply, plus a
 * Content-Security-Policy that lets the pages load only from this origin:
 * a bug in the UI must not become a way to send the password elsewhere.
 * HEAD gets the headers of the GET with no body.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/str.h"
#include "daemon/worker.h"
#include "daemon/worker_controller.h"

#define STATIC_MAX_FILE (4u * 1024 * 1024)
#define STATIC_MAX_PATH 1024             /* decoded relative path, bytes */
#define STATIC_MAX_DEPTH 16              /* segments */

#define STATIC_HEADERS                                                              \
    "Cache-Control: no-store\r\n"                                                   \
    "X-Content-Type-Options: nosniff\r\n"                                           \
    "X-Frame-Options: DENY\r\n"                                                     \
    "Referrer-Policy: no-referrer\r\n"                                              \
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "           \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n"

/* Set by ctl_static_configure() in the worker process: the option's value,
 * "" when the administrator switched the web interface off, NULL when
 * absent.  The default, $WWWDIR, is then looked up per request in the
 * worker's configuration snapshot: configure sees only the worker block,
 * not the variables. */
static const char *static_dir;

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
};

int ctl_static_configure(const struct conf_obj *section, struct arena *arena,
                         const char **error_r)
{
    const struct conf_obj *v = section ? conf_first(conf_get(section, "static_dir")) : NULL;
    const char *s;

    static_dir = NULL;
    if (v == NULL)
        return 0;
    s = conf_as_string(v);
    if (s == NULL) {
        *error_r = "static_dir: expected a directory name as a string (\"\" switches the web "
                   "interface off)";
        return -1;
    }
    /* The worker's working directory is not the configuration's: a relative
     * name would depend on how the daemon was started. */
    if (s[0] != '\0' && s[0] != '/') {
        *error_r = "static_dir: expected an absolute directory name, such as \"$WWWDIR\"";
        return -1;
    }
    static_dir = arena_strdup(arena, s);
    return 0;
}

/* Ends the segment that starts at out[seg_start] and is o - seg_start
 * bytes long; -1 with *why_r when it may not be served. */
static int segment_check(const char *out, size_t seg_start, size_t o, size_t *depth,
                         const char **why_r)
{
    if (o == seg_start)
        *why_r = "empty path segment";
    else if (out[seg_start] == '.')
        *why_r = "'.', '..' or hidden file";
    else if (++*depth > STATIC_MAX_DEPTH)
        *why_r = "too deep";
    else
        return 0;
    return -1;
}

/*
 * The request path [p, p+len) as a path relative to static_dir in out
 * (NUL-terminated, segments separated by single '/'), with index.html
 * appended to a directory ("/", "/dir/").  -1 with *why_r when refused.
 */
int ctl_static_path(const char *p, size_t len, char *out, size_t outsize, const char **why_r)
{
    static const char index[] = "index.html";
    size_t o = 0, seg_start = 0, depth = 0;

    if (len == 0 || p[0] != '/') {
        *why_r = "not an absolute path";
        return -1;
    }
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == '/') {
            if (segment_check(out, seg_start, o, &depth, why_r) < 0)
                return -1;
        } else if (c == '%') {
            int hi = i + 2 < len ? str_hexval((unsigned char)p[i + 1]) : -1;
            int lo = i + 2 < len ? str_hexval((unsigned char)p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why_r = "malformed %-escape";
                return -1;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (c == '/') {
                *why_r = "escaped '/'";
                return -1;
            }
        }
        if (c < 0x20 || c == 0x7f || c == '\\') {
            *why_r = "control byte or backslash";
            return -1;
        }
        if (o + 1 >= outsize) {
            *why_r = "too long";
            return -1;
        }
        out[o++] = (char)c;
        if (c == '/')
            seg_start = o;
    }
    if (o > seg_start) {
        if (segment_check(out, seg_start, o, &depth, why_r) < 0)
            return -1;
        out[o] = '\0';
        return 0;
    }
    if (o + sizeof(index) > outsize) {
        *why_r = "too long";
        return -1;
    }
    memcpy(out + o, index, sizeof(index));
    return 0;
}

static const char *static_type(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    const char *dot = strrchr(slash ? slash : rel, '.');

    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/*
 * Opens rel (checked by ctl_static_path) below dir, one segment at a time,
 * never following a symbolic link.  Returns the descriptor, or -1 with
 * errno from the open that failed (ELOOP: a link).
 */
static int static_open(const char *dir, char *rel)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *seg = rel;

    while (dfd >= 0) {
        char *slash = strchr(seg, '/');
        int fd, saved;

        if (slash != NULL)
            *slash = '\0';
        /* O_NONBLOCK: a FIFO must not hang the worker before fstat()
         * refuses it. */
        fd = openat(dfd, seg, slash != NULL ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                                            : O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        saved = errno;
        close(dfd);
        errno = saved;
        if (slash == NULL)
            return fd;
        *slash = '/';
        dfd = fd;
        seg = slash + 1;
    }
    return -1;
}

/* The whole of a regular file of at most STATIC_MAX_FILE bytes, in a
 * malloc'd buffer the caller frees; NULL with *why_r otherwise. */
static char *static_read(int fd, size_t *len_r, const char **why_r)
{
    struct stat st;
    char *data;
    size_t got = 0;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        *why_r = "not a regular file";
        return NULL;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > STATIC_MAX_FILE) {
        *why_r = "larger than 4 MiB";
        return NULL;
    }
    data = malloc((size_t)st.st_size + 1);
    if (data == NULL) {
        *why_r = "out of memory";
        return NULL;
    }
    /* A file that shrinks meanwhile is sent as far as it goes; one that
     * grows is cut at the size fstat() saw. */
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    *len_r = got;
    return data;
}

static void not_found(struct ctl_req *r)
{
    ctl_reply(r->conn, 404, "Not found", "text/plain", "Not found", 9, r->keep_alive);
}

/* A refusal worth the administrator's attention: the path, or a file
 * under static_dir that is there but may not be served.  Peer bytes are
 * escaped and cut. */
static void log_refused(struct ctl_req *r, const char *why)
{
    char esc[128];

    log_escape(esc, sizeof(esc), r->req->path, strlen(r->req->path));
    log_info("controller: static refused peer=%s path=%s reason=\"%s\"", conn_peer(r->conn), esc,
             why);
}

void ctl_ep_static(struct ctl_req *r)
{
    const char *dir = static_dir ? static_dir : conf_vars_get(r->w->cfg->vars, "WWWDIR");
    const char *why = NULL, *type;
    char rel[STATIC_MAX_PATH];
    size_t len = 0;
    char *data;
    int fd;

    if (dir == NULL || dir[0] == '\0') {
        not_found(r);
        return;
    }
    if (ctl_static_path(r->req->path, strlen(r->req->path), rel, sizeof(rel), &why) < 0) {
        log_refused(r, why);
        not_found(r);
        return;
    }
    if ((type = static_type(rel)) == NULL) {
        not_found(r);
        return;
    }
    if ((fd = static_open(dir, rel)) < 0) {
        /* ENOENT is an ordinary 404; ELOOP is a symbolic link on the way. */
        if (errno == ELOOP)
            log_refused(r, "symbolic link below static_dir");
        not_found(r);
        return;
    }
    data = static_read(fd, &len, &why);
    close(fd);
    if (data == NULL) {
        log_refused(r, why);
        not_found(r);
        return;
    }

    struct buf out = BUF_INIT;
    bool ka = r->keep_alive && !r->w->stopping;

    http_reply(&out, 200, NULL, type, data, len, ka, STATIC_HEADERS);
    free(data);
    if (strcmp(r->req->method, "HEAD") == 0) {
        /* The same head, Content-Length included, without the body. */
        out.len -= len;
        out.data[out.len] = '\0';
    }
    conn_reply(r->conn, &out, ka);
}
