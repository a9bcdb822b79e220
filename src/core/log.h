#ifndef WINNOW_CORE_LOG_H
#define WINNOW_CORE_LOG_H
/*
 * Logging.  One line per event, key=value where it matters, to stderr, a file
 * or syslog.  The level is checked before formatting.  Lines about a task
 * carry its short id: use the log_task_* macros.  Peer bytes must go through
 * log_escape() (or the %.Ns width) before they reach a line; secrets never do.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_type { LOG_TYPE_CONSOLE = 0, LOG_TYPE_FILE, LOG_TYPE_SYSLOG };

struct log_settings {
    enum log_type type;
    enum log_level level;
    const char *filename;        /* LOG_TYPE_FILE */
    const char *facility;        /* LOG_TYPE_SYSLOG, e.g. "mail" */
    bool color;
    const char *const *debug_modules; /* NULL-terminated, may be NULL */
};

extern enum log_level log_current_level;

/* Called by the main process and again by each worker after fork (so the
 * process tag is right).  Returns -1 with *error_r when a log file cannot be
 * opened. */
int log_configure(const struct log_settings *s, const char **error_r);
void log_set_process(const char *tag);           /* "main", "normal", ... */
const char *log_process(void);                   /* the tag set last */
int log_level_parse(const char *name, enum log_level *level_r);
void log_reopen(void);                           /* SIGUSR1 */
bool log_debug_enabled(const char *module);

void log_write(enum log_level level, const char *module, const char *task_id,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_vwrite(enum log_level level, const char *module, const char *task_id,
                const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#define LOG_AT(lvl, mod, tid, ...)                                            \
    do {                                                                      \
        if ((lvl) <= log_current_level)                                       \
            log_write((lvl), (mod), (tid), __VA_ARGS__);                      \
    } while (0)

#define log_error(...) LOG_AT(LOG_LVL_ERROR, NULL, NULL, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_LVL_WARN, NULL, NULL, __VA_ARGS__)
#define log_notice(...) LOG_AT(LOG_LVL_NOTICE, NULL, NULL, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LVL_INFO, NULL, NULL, __VA_ARGS__)
#define log_debug(mod, ...)                                                   \
    do {                                                                      \
        if (log_current_level >= LOG_LVL_DEBUG || log_debug_enabled(mod))     \
            log_write(LOG_LVL_DEBUG, (mod), NULL, __VA_ARGS__);               \
    } while (0)

/* Called with the text of every error and warning line (without the time
 * and process prefix) after it is formatted: the daemon keeps the recent
 * ones for the controller's /errors.  NULL removes the hook. */
typedef void (*log_hook_fn)(enum log_level level, const char *module, const char *task_id,
                            const char *msg);
void log_set_hook(log_hook_fn fn);

/* Task-scoped: t is a struct task *. */
#define log_task_error(t, ...) LOG_AT(LOG_LVL_ERROR, NULL, (t)->uid, __VA_ARGS__)
#define log_task_warn(t, ...) LOG_AT(LOG_LVL_WARN, NULL, (t)->uid, __VA_ARGS__)
#define log_task_info(t, ...) LOG_AT(LOG_LVL_INFO, NULL, (t)->uid, __VA_ARGS__)
#define log_task_debug(t, mod, ...)                                           \
    do {                                                                      \
        if (log_current_level >= LOG_LVL_DEBUG || log_debug_enabled(mod))     \
            log_write(LOG_LVL_DEBUG, (mod), (t)->uid, __VA_ARGS__);           \
    } while (0)

/* Escapes peer bytes for a log line: non-printables become \xNN, at most max
 * input bytes are shown (then "..."). Result is written into out (size > 0)
 * and always NUL-terminated; returns out. */
char *log_escape(char *out, size_t outsize, const char *p, size_t len);

/* Fatal internal error (a bug): logs file:line and aborts. */
void panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(cond)                                                          \
    do {                                                                      \
        if (!(cond))                                                          \
            panic_at(__FILE__, __LINE__, "assertion failed: %s", #cond);      \
    } while (0)

#endif
