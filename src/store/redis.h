#ifndef WINNOW_STORE_REDIS_H
#define WINNOW_STORE_REDIS_H
/*
 * Redis client layer: hiredis' asynchronous API on the worker's libev loop.
 *
 * A pool holds one connection per configured server (read and write sets
 * may differ).  Commands are pipelined on those connections, each with its
 * own timeout (hiredis 0.14 has none): a command that times out gets an
 * error at once and its connection is dropped and re-established with
 * exponential back-off, so one stuck server never holds scans.  While a
 * server is down, commands for it fail immediately ("redis unavailable")
 * instead of queueing.  Connection problems are logged once per outage, and
 * a unix socket we may not open is explained (owner, group, mode, the fix).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

struct arena;
struct conf_obj;
struct ev_loop;
struct task;

struct redis_server_addr {
    const char *host;            /* NULL for a unix socket */
    int port;
    const char *path;            /* unix socket */
};

struct redis_settings {
    struct redis_server_addr *read, *write;
    size_t nread, nwrite;
    const char *password;        /* NULL = no AUTH */
    int db;                      /* SELECT, 0 = none */
    double timeout;              /* per command, seconds (default 1) */
    bool configured;             /* false: no servers anywhere */
};

/*
 * Reads the module's own Redis keys if it has `servers`/`read_servers`/
 * `write_servers`, otherwise the global `redis {}` section (spec §8.5).
 * `servers` is "host[:port]", "unix:/path" or "/path", comma-separated or an
 * array, optionally prefixed with a rotation strategy ("master-slave:").
 */
int redis_settings_parse(struct arena *arena, const struct conf_obj *module_section,
                         const struct conf_obj *global_section, struct redis_settings *s_r,
                         const char **error_r);

enum redis_op { REDIS_READ = 0, REDIS_WRITE };

/* reply is NULL on failure (error set: "timeout", "redis unavailable", ...);
 * a Redis error reply arrives as reply->type == REDIS_REPLY_ERROR. */
typedef void (*redis_cb)(const redisReply *reply, const char *error, void *data);
typedef void (*redis_task_cb)(struct task *task, const redisReply *reply, const char *error,
                              void *data);

struct redis_pool;

struct redis_pool *redis_pool_new(struct ev_loop *loop, const struct redis_settings *s,
                                  const char *name);
void redis_pool_free(struct redis_pool **pool);

void redis_command(struct redis_pool *pool, enum redis_op op, int argc, const char **argv,
                   const size_t *argvlen, redis_cb cb, void *data);
/* Task-bound: keeps the task waiting and drops the reply if it finished. */
void redis_task_command(struct redis_pool *pool, struct task *task, enum redis_op op, int argc,
                        const char **argv, const size_t *argvlen, redis_task_cb cb, void *data);

/* true when at least one server for op is connected (or connecting). */
bool redis_pool_available(const struct redis_pool *pool, enum redis_op op);

struct redis_stats {
    uint64_t commands, errors, timeouts, reconnects;
};
void redis_pool_stats(const struct redis_pool *pool, struct redis_stats *st);

#endif
