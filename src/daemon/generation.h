#ifndef WINNOW_DAEMON_GENERATION_H
#define WINNOW_DAEMON_GENERATION_H
/*
 * Configuration generations and worker slots of the main process (see
 * generation.c).  For supervisor.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf/settings.h"

struct listener;
struct worker_def;

struct generation;

struct slot {
    struct generation *gen;
    const struct worker_conf *wc;
    const struct worker_def *def;
    struct listener **listeners; /* this block's sockets */
    size_t nlisteners;
    unsigned index;
    pid_t pid;                   /* 0 = not running */
    double started;
    double backoff;              /* last delay used, 0 = none yet */
    double restart_at;           /* > 0: start again at this time */
    unsigned restarts;
};

struct generation {
    unsigned id;
    struct arena *arena;
    struct config *cfg;
    struct slot *slots;
    size_t nslots;
    struct listener **refs;      /* one reference each, released with the generation */
    size_t nrefs;
    bool retiring;
    struct generation *next;
};

/*
 * Builds a generation for cfg: binds every enabled, implemented block's
 * sockets and lays out the slots (no process is started).  On error nothing
 * stays bound that was not bound before, cfg is left to the caller, and
 * *error_r points to static storage.
 */
struct generation *gen_new(struct config *cfg, unsigned id, const char **error_r);
/* Releases the sockets and frees the configuration snapshot. */
void gen_free(struct generation *g);

void gen_start(struct generation *g, double now);
void slot_start(struct slot *s, double now);
void gen_signal(struct generation *g, int sig);
bool gen_has_children(const struct generation *g);
/* SIGTERM to its workers, no more restarts. */
void gen_retire(struct generation *g);

/* Records the exit of s's process; schedules a restart (with back-off)
 * unless the daemon is stopping or the generation retiring. */
void slot_exited(struct slot *s, int status, double now, bool stopping);

#endif
