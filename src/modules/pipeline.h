#ifndef WINNOW_MODULES_PIPELINE_H
#define WINNOW_MODULES_PIPELINE_H
/*
 * The scan pipeline: parse the message, run every enabled module, wait for
 * their lookups (or the task timeout), compute the action, run post-scan
 * hooks, write the task's log line, then call `done`.
 */
#include "core/task.h"

struct config;

/* Configures every module of registry.c against cfg (fills cfg->symtab and
 * cfg->modules).  Returns -1 with *error_r on a bad module configuration. */
int modules_configure(struct config *cfg, const char **error_r);

/* Module names and whether each is enabled, for configdump -m and the log. */
const char *modules_describe(const struct config *cfg);

/* The i-th module of the registry: its name, whether it runs, why not
 * (NULL when it runs) and whether it keeps state in Redis.  false past the
 * last one. */
struct module_status {
    const char *name;
    const char *why_off;
    bool enabled;
    bool uses_redis;
};
bool modules_status_at(const struct config *cfg, size_t i, struct module_status *out);

/* In each worker process after fork: creates the process's default DNS
 * resolver (options { dns {} }, see net/dns.h dns_default()) and runs every
 * enabled module's worker_init.  modules_worker_deinit() undoes it. */
int modules_worker_init(const struct config *cfg, struct ev_loop *loop, const char **error_r);
void modules_worker_deinit(const struct config *cfg);

/* Starts scanning task (raw message and envelope already set). */
void pipeline_run(const struct config *cfg, struct task *task, task_done_fn done, void *data);

#endif
