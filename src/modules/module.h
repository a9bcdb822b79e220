#ifndef WINNOW_MODULES_MODULE_H
#define WINNOW_MODULES_MODULE_H
/*
 * A module is one file exporting one constant struct module; registry.c lists
 * them.  configure() receives the module's merged configuration section (NULL
 * when there is none), registers its symbols in env->symtab and returns a
 * private context allocated in env->arena.  scan() inserts symbols and may
 * start asynchronous lookups (task_async_begin/end).  Returning -1 from
 * configure() with *error_r stops the daemon from starting (a bad
 * configuration); returning 0 with *ctx_r = NULL disables the module quietly.
 */
#include <stdbool.h>

struct arena;
struct conf_obj;
struct config;
struct ev_loop;
struct symtab;
struct task;

#define MODULE_ABI 1

struct module_env {
    struct arena *arena;         /* the configuration snapshot's arena */
    struct symtab *symtab;
    const struct config *config;
};

struct module {
    const char *name;            /* also names modules.d/NAME.conf */
    unsigned abi;
    int (*configure)(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                     const char **error_r);
    int (*scan)(struct task *task, void *ctx);
    int (*learn)(struct task *task, void *ctx, bool spam);       /* optional */
    void (*post_scan)(struct task *task, void *ctx);             /* optional */
    /* Optional, in each worker process after fork: create per-process state
     * (Redis pools, caches) on the worker's loop; -1 stops the worker. */
    int (*worker_init)(void *ctx, struct ev_loop *loop, const char **error_r);
    void (*worker_deinit)(void *ctx);                            /* optional */
    /* 0: scanned first.  1: scanned once every lookup started in stage 0
     * has finished (DMARC needs SPF's and DKIM's results). */
    unsigned stage;
    /* Keeps its state in Redis: without Redis it is off or degraded, which
     * the controller's /status and `winnowadm control stat` report. */
    bool uses_redis;
};

#endif
