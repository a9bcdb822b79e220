#ifndef WINNOW_MODULES_HISTORY_H
#define WINNOW_MODULES_HISTORY_H
/*
 * The history module's interface to the controller: the rows the module's
 * post_scan hook pushes into Redis (docs/redis-schema.md, "History"), read
 * back and trimmed through the same per-process pool.  Only valid in a
 * worker process after modules_worker_init().
 */
#include <stdbool.h>
#include <stdint.h>

#include "store/redis.h"

/* False when the module is disabled or Redis is not configured. */
bool history_available(void);

/* Rows in list order (newest first), indexes from..to inclusive (clamped to
 * the configured number of rows).  cb gets an array reply of JSON strings.
 * -1 when !history_available() (cb is not called). */
int history_fetch(int64_t from, int64_t to, redis_cb cb, void *data);

/* Empties the list; cb as for history_fetch. */
int history_reset(redis_cb cb, void *data);

#endif
