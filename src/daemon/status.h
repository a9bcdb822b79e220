#ifndef WINNOW_DAEMON_STATUS_H
#define WINNOW_DAEMON_STATUS_H
/*
 * The daemon's health in one JSON object: counters, workers, Redis and DNS,
 * which modules run and which features are off.  The controller serves it
 * as /status; the main process answers it on the control socket, where
 * `winnowadm control stat` reads it.  One builder, so both always agree.
 */
#include "core/buf.h"

struct config;

void daemon_status_json(const struct config *cfg, struct buf *out);

/* Logs, once per configuration, the Redis-backed features that are off
 * because Redis is not configured (JOURNEY §3), with the fix. */
void daemon_status_log_features(const struct config *cfg);

/* "up", "down", "unknown" (no command yet) or "unconfigured". */
const char *daemon_status_redis_state(const struct config *cfg);

#endif
