#ifndef WINNOW_CORE_TASK_H
#define WINNOW_CORE_TASK_H
/*
 * A task is one message being scanned: envelope, raw bytes, parsed message,
 * and the result.  Everything it allocates comes from task->arena and goes
 * with task_free().
 *
 * Asynchronous work: a module that starts a lookup calls task_async_begin()
 * and, when the reply (or its failure) arrives, task_async_end().  Callbacks
 * must not keep a bare task pointer across the event loop: they keep a
 * task_ref and call task_ref_get(), which returns NULL when the task is gone
 * (finished or timed out).  Anything pending at the task timeout is recorded
 * as a symbol (TASK_TIMEOUT with the names of the checks still waiting).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/actions.h"
#include "core/netaddr.h"

struct arena;
struct symtab;
struct message;                  /* mime/message.h */
struct ev_loop;

enum task_flags {
    TASK_PASS_ALL = 1 << 0,
    TASK_NO_LOG = 1 << 1,
    TASK_SKIP = 1 << 2,          /* skip all rules */
    TASK_SKIP_PROCESS = 1 << 3,
    TASK_NO_STAT = 1 << 4,
    TASK_SSL = 1 << 5,
    TASK_MILTER = 1 << 6,
    TASK_BODY_BLOCK = 1 << 7,
    TASK_GROUPS = 1 << 8,
    TASK_PROFILE = 1 << 9,
    TASK_EXT_URLS = 1 << 10,
    TASK_RAW = 1 << 11,          /* do not MIME-parse */
    TASK_LOCAL_CLIENT = 1 << 12, /* User-Agent: rspamc / controller */
    TASK_BROKEN_HEADERS = 1 << 13,
};

/* One request header as sent by the client (proto keeps them all). */
struct task_header {
    const char *name;
    const char *value;
    struct task_header *next;
};

struct task_envelope {
    struct netaddr ip;           /* family 0 = no IP given */
    const char *ip_str;          /* as given (may be a unix socket path) */
    const char *helo;
    const char *hostname;        /* validated rDNS; NULL when unknown */
    const char *from;            /* MAIL FROM without <>; "" = null sender; NULL = not given */
    const char **rcpts;          /* NULL-terminated */
    size_t nrcpts;
    const char *user;            /* authenticated user */
    const char *queue_id;
    const char *deliver_to;
    const char *mta_name;
    const char *settings_id;
    const char *log_tag;
    const char *filename;
    const char *tls_cipher;
    const char *user_agent;
};

/* A symbol inserted into a task. */
struct task_symbol {
    const char *name;
    const struct symbol_def *def;/* NULL if not registered */
    double score;                /* weight * multiplier (what counts) */
    double metric_score;         /* configured weight */
    const char **options;        /* NULL-terminated, deduplicated */
    size_t noptions;
    size_t options_cap;
    struct task_symbol *next;    /* insertion order */
};

struct task_passthrough {
    int action;
    double score;                /* NAN = keep computed score */
    const char *message;         /* smtp_message, may be NULL */
    const char *module;
    bool least;
};

/* A header the MTA should add or remove (milter). */
struct task_milter_header {
    const char *name;
    const char *value;           /* NULL for a removal */
    int order;                   /* add: -1 append, >= 0 insert index; remove: instance (0 = all) */
    struct task_milter_header *next;
};

struct task_kv {
    const char *key;
    const char *value;
    struct task_kv *next;
};

struct task;
typedef void (*task_done_fn)(struct task *task, void *data);
/* Called when nothing is pending while the task waits; returns true when it
 * started more work (the next pipeline stage), false when there is none. */
typedef bool (*task_idle_fn)(struct task *task, void *data);

struct task {
    struct arena *arena;
    uint64_t id;                 /* unique per process */
    char uid[8];                 /* short hex id for log lines */
    double start_time;           /* ev_now-style seconds */
    struct ev_loop *loop;
    const struct symtab *symtab;
    const struct actions *actions;
    unsigned flags;

    struct task_envelope env;
    struct task_header *req_headers; /* every request header, for modules */

    const char *raw;             /* the message as received */
    size_t raw_len;
    struct message *msg;         /* parsed message (NULL with TASK_RAW or parse failure) */
    const char *message_id;      /* without <>, NULL when absent */
    const char *subject;         /* decoded, NULL when absent */

    /* Result. */
    struct task_symbol *symbols;
    struct task_symbol *symbols_tail;
    size_t nsymbols;
    double score;
    int action;                  /* computed by task_finalize() */
    const char *new_subject;     /* for rewrite subject */
    struct task_passthrough *passthrough; /* highest-priority pre-result */
    struct task_kv *messages;    /* messages{} of the reply (smtp_message ...) */
    struct task_milter_header *milter_headers;
    const char **dkim_signatures;/* NULL-terminated header values */
    const char **urls;           /* unique host names, NULL-terminated */
    const char **emails;         /* NULL-terminated */
    struct addr_compat_cache *addr_compat; /* modules/addr_compat.c: made on first use */
    bool is_skipped;

    unsigned dns_requests;       /* lookups started, against the per-task limit */

    /* Async bookkeeping (owned by task.c). */
    unsigned pending;
    const char **pending_names;  /* what is still waiting, for TASK_TIMEOUT */
    size_t npending_names;
    bool finished;
    bool timed_out;
    double timeout;              /* seconds */
    void *timer;                 /* ev_timer, private */
    task_done_fn done;
    void *done_data;
    task_idle_fn idle;           /* see task_set_idle_hook */
    void *idle_data;
    bool in_idle;                /* the idle hook is running: no re-entry */
    void *pipeline_state;        /* owned by modules/pipeline.c */
};

struct task_ref {
    uint64_t id;
};

struct task *task_new(struct ev_loop *loop, const struct symtab *symtab,
                      const struct actions *actions);
void task_free(struct task **task);
struct task_ref task_ref(const struct task *task);
struct task *task_ref_get(struct task_ref ref);  /* NULL when gone */

/* Envelope helpers (values copied into the arena). */
void task_add_rcpt(struct task *task, const char *rcpt, size_t len);
const char *task_request_header(const struct task *task, const char *name);

/*
 * Inserts a symbol.  The score is weight * multiplier; options are added to
 * the symbol's option list (deduplicated, at most 32 kept).  Inserting an
 * existing symbol again adds its options and keeps the larger score.
 * opt may be NULL.  Returns the symbol, or NULL if it is disabled.
 */
struct task_symbol *task_insert(struct task *task, const char *name, double multiplier,
                                const char *opt);
struct task_symbol *task_insertf(struct task *task, const char *name, double multiplier,
                                 const char *optfmt, ...) __attribute__((format(printf, 4, 5)));
void task_symbol_add_option(struct task *task, struct task_symbol *sym, const char *opt,
                            size_t len);
const struct task_symbol *task_find_symbol(const struct task *task, const char *name);

/* Pre-result: forces an action (GTUBE, force_actions, greylist...). The first
 * non-least one set wins. */
void task_set_passthrough(struct task *task, int action, double score,
                          const char *message, const char *module, bool least);
void task_set_message(struct task *task, const char *key, const char *value);
void task_add_milter_header(struct task *task, const char *name, const char *value, int order);
void task_remove_milter_header(struct task *task, const char *name, int instance);

/* Async lookups. name says what is waited for ("dns:example.com TXT").
 * task_async_end() may complete the task and run its `done` callback, which
 * may free it: do not touch the task after calling it. */
void task_async_begin(struct task *task, const char *name);
void task_async_end(struct task *task, const char *name);

/*
 * Runs `done` once every pending lookup has ended or the timeout expired,
 * after task_finalize().  Called by the pipeline when all modules' scan
 * functions have returned.  If nothing is pending, done runs before this
 * returns.
 */
void task_wait(struct task *task, double timeout, task_done_fn done, void *data);

/* Installs the hook task_wait() runs each time the pending count reaches
 * zero, before completing: the pipeline starts its next stage there. */
void task_set_idle_hook(struct task *task, task_idle_fn idle, void *data);

/* Computes score and action from symbols and passthroughs; fills
 * new_subject. Idempotent. */
void task_finalize(struct task *task);

/* Elapsed seconds since task_new. */
double task_elapsed(const struct task *task);

#endif
