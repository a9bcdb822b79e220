/*
 * Logging to stderr, a file or syslog.  Each line: time, pid and process
 * tag, level, optional task id and module, message.  Writes are one write(2)
 * per line so lines from several workers sharing a file or stderr do not
 * interleave.  SIGUSR1 -> log_reopen() for logrotate.
 */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_level log_current_level = LOG_LVL_INFO;

static struct {
    enum log_type type;
    int fd;
    char filename[1024];
    char process[32];
    const char *const *debug_modules;
} logger = {LOG_TYPE_CONSOLE, 2, "", "main", NULL};

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};

int log_level_parse(const char *name, enum log_level *level_r)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {
        {"error", LOG_LVL_ERROR}, {"silent", LOG_LVL_ERROR}, {"crit", LOG_LVL_ERROR},
        {"warning", LOG_LVL_WARN}, {"warn", LOG_LVL_WARN}, {"notice", LOG_LVL_NOTICE},
        {"message", LOG_LVL_NOTICE}, {"info", LOG_LVL_INFO}, {"debug", LOG_LVL_DEBUG},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *level_r = names[i].level;
            return 0;
        }
    }
    return -1;
}

static int facility_parse(const char *name)
{
    static const struct {
        const char *name;
        int fac;
    } f[] = {{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
             {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
             {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
             {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
    for (size_t i = 0; name && i < sizeof(f) / sizeof(f[0]); i++)
        if (strcasecmp(name, f[i].name) == 0)
            return f[i].fac;
    return LOG_MAIL;
}

static int open_file(const char *name)
{
    return open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int log_configure(const struct log_settings *s, const char **error_r)
{
    log_current_level = s->level;
    logger.debug_modules = s->debug_modules;
    if (s->type == LOG_TYPE_FILE) {
        if (s->filename == NULL || *s->filename == '\0') {
            *error_r = "logging: type = \"file\" needs a filename";
            return -1;
        }
        int fd = open_file(s->filename);
        if (fd < 0) {
            static char err[1200];
            snprintf(err, sizeof(err), "logging: cannot open %s: %s", s->filename,
                     strerror(errno));
            *error_r = err;
            return -1;
        }
        if (logger.type == LOG_TYPE_FILE && logger.fd > 2)
            close(logger.fd);
        logger.fd = fd;
        snprintf(logger.filename, sizeof(logger.filename), "%s", s->filename);
    } else if (s->type == LOG_TYPE_SYSLOG) {
        openlog("winnowd", LOG_PID | LOG_NDELAY, facility_parse(s->facility));
    } else {
        logger.fd = 2;
    }
    logger.type = s->type;
    return 0;
}

void log_set_process(const char *tag)
{
    snprintf(logger.process, sizeof(logger.process), "%s", tag);
}

const char *log_process(void)
{
    return logger.process;
}

void log_reopen(void)
{
    if (logger.type != LOG_TYPE_FILE)
        return;
    int fd = open_file(logger.filename);
    if (fd < 0)
        return;
    dup2(fd, logger.fd);
    close(fd);
}

bool log_debug_enabled(const char *module)
{
    if (module == NULL || logger.debug_modules == NULL)
        return false;
    for (const char *const *m = logger.debug_modules; *m != NULL; m++)
        if (strcmp(*m, module) == 0)
            return true;
    return false;
}

static log_hook_fn log_hook;

void log_set_hook(log_hook_fn fn)
{
    log_hook = fn;
}

void log_vwrite(enum log_level level, const char *module, const char *task_id, const char *fmt,
                va_list ap)
{
    char line[8192];
    size_t n = 0;
    if (logger.type == LOG_TYPE_SYSLOG) {
        n = (size_t)snprintf(line, sizeof(line), "(%s) ", logger.process);
    } else {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        struct tm tm;
        localtime_r(&tv.tv_sec, &tm);
        n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03d #%d(%s) %s: ",
                              (int)(tv.tv_usec / 1000), (int)getpid(), logger.process,
                              level_names[level]);
    }
    if (task_id != NULL && n < sizeof(line))
        n += (size_t)snprintf(line + n, sizeof(line) - n, "<%s> ", task_id);
    if (module != NULL && n < sizeof(line))
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: ", module);
    size_t msg_at = n < sizeof(line) ? n : sizeof(line) - 1;
    if (n < sizeof(line)) {
        int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        if (m > 0)
            n += (size_t)m;
    }
    if (n >= sizeof(line) - 1) {
        n = sizeof(line) - 5;
        memcpy(line + n, "...", 3);
        n += 3;
    }
    if (log_hook != NULL && level <= LOG_LVL_WARN) {
        line[n] = '\0';
        log_hook(level, module, task_id, line + (msg_at < n ? msg_at : n));
    }
    if (logger.type == LOG_TYPE_SYSLOG) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
        line[n] = '\0';
        syslog(prio[level], "%s", line);
        return;
    }
    line[n++] = '\n';
    ssize_t w = write(logger.fd, line, n);
    (void)w;
}

void log_write(enum log_level level, const char *module, const char *task_id, const char *fmt,
               ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, module, task_id, fmt, ap);
    va_end(ap);
}

char *log_escape(char *out, size_t outsize, const char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (outsize == 0)
        return out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;
        if (o + need + 4 >= outsize) {
            if (o + 3 < outsize) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o < outsize ? o : outsize - 1] = '\0';
    return out;
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_write(LOG_LVL_ERROR, NULL, NULL, "panic: %s:%d: %s", file, line, msg);
    abort();
}
