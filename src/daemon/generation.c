/*
 * Configuration generations (see supervisor.c for the life cycle): one
 * snapshot, the worker slots it asks for, and one reference on each
 * listening socket it uses.  Owns the slots' processes as far as starting,
 * signalling and recording their exit go; reaping and scheduling belong to
 * supervisor.c.  Refuses a worker block without bind_socket and any socket
 * that cannot be bound: the whole generation is then abandoned.
 */
#include "daemon/generation.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/log.h"
#include "daemon/listen.h"
#include "daemon/policy.h"
#include "daemon/stats.h"
#include "daemon/worker.h"

#define MAX_WORKERS_PER_BLOCK 256

static int block_count(const struct worker_conf *wc)
{
    if (!wc->enabled || wc->count < 0)
        return 0;
    if (wc->count == 0)
        return policy_default_count(sysconf(_SC_NPROCESSORS_ONLN));
    return wc->count > MAX_WORKERS_PER_BLOCK ? MAX_WORKERS_PER_BLOCK : wc->count;
}

static void gen_add_refs(struct generation *g, struct listener **ls, size_t n)
{
    struct listener **all = ARENA_NEW_N(g->arena, struct listener *, g->nrefs + n + 1);

    if (g->nrefs > 0)
        memcpy(all, g->refs, g->nrefs * sizeof(*all));
    memcpy(all + g->nrefs, ls, n * sizeof(*all));
    g->refs = all;
    g->nrefs += n;
}

/* Binds one block's sockets; its listener array goes to *l_r / *n_r. */
static int gen_bind_block(struct generation *g, const struct worker_conf *wc,
                          struct listener ***l_r, size_t *n_r, const char **error_r)
{
    size_t cap = wc->nbinds * 8 + 8, n = 0;
    struct listener **ls = ARENA_NEW_N(g->arena, struct listener *, cap);

    if (wc->nbinds == 0) {
        *error_r = arena_printf(g->arena, "worker \"%s\": no bind_socket", wc->name);
        return -1;
    }
    for (size_t i = 0; i < wc->nbinds; i++) {
        if (listen_bind(g->arena, &wc->binds[i], ls, cap, &n, error_r) < 0) {
            gen_add_refs(g, ls, n);  /* so gen_free() releases what we got */
            return -1;
        }
    }
    *l_r = ls;
    *n_r = n;
    return 0;
}

void gen_free(struct generation *g)
{
    for (size_t i = 0; i < g->nrefs; i++)
        listen_release(g->refs[i]);
    if (g->cfg != NULL)
        config_free(&g->cfg);
    arena_free(&g->arena);
    free(g);
}

/* The worker slots of one block, appended to g->slots (capacity known). */
static void gen_add_slots(struct generation *g, const struct worker_conf *wc,
                          const struct worker_def *def, struct listener **ls, size_t n)
{
    int count = block_count(wc);

    for (int i = 0; i < count; i++) {
        struct slot *s = &g->slots[g->nslots++];

        s->gen = g;
        s->wc = wc;
        s->def = def;
        s->listeners = ls;
        s->nlisteners = n;
        s->index = (unsigned)i;
    }
}

static size_t gen_slot_capacity(const struct config *cfg)
{
    size_t n = 0;

    for (size_t i = 0; i < cfg->nworkers; i++)
        n += (size_t)block_count(&cfg->workers[i]);
    return n;
}

/*
 * Builds a generation for cfg: binds every enabled, implemented block's
 * sockets and lays out the slots (no process is started).  On error nothing
 * stays bound that was not bound before, and cfg is left to the caller.
 */
struct generation *gen_new(struct config *cfg, unsigned id, const char **error_r)
{
    struct generation *g = calloc(1, sizeof(*g));

    if (g == NULL)
        panic("out of memory");
    g->arena = arena_new(0);
    g->slots = ARENA_NEW_N(g->arena, struct slot, gen_slot_capacity(cfg) + 1);
    for (size_t i = 0; i < cfg->nworkers; i++) {
        const struct worker_conf *wc = &cfg->workers[i];
        const struct worker_def *def = worker_def_for(wc->type);
        struct listener **ls = NULL;
        size_t n = 0;

        if (block_count(wc) == 0) {
            log_info("worker \"%s\": disabled", wc->name);
            continue;
        }
        if (def == NULL) {
            log_notice("worker \"%s\": not implemented in this version, skipped", wc->name);
            continue;
        }
        if (gen_bind_block(g, wc, &ls, &n, error_r) < 0) {
            /* The message lives in g's arena, which goes now. */
            static char error_copy[512];

            snprintf(error_copy, sizeof(error_copy), "%s", *error_r);
            *error_r = error_copy;
            gen_free(g);         /* releases what was bound; cfg is the caller's */
            return NULL;
        }
        gen_add_refs(g, ls, n);
        gen_add_slots(g, wc, def, ls, n);
    }
    if (g->nslots == 0)
        log_warn("no worker to run: every worker block is disabled or not implemented");
    g->cfg = cfg;
    g->id = id;
    return g;
}

void slot_start(struct slot *s, double now)
{
    pid_t pid = fork();

    if (pid < 0) {
        s->backoff = policy_next_backoff(s->backoff, 0);
        s->restart_at = now + s->backoff;
        log_error("worker %s: fork failed: %s; retrying in %.0fs", s->wc->name,
                  strerror(errno), s->backoff);
        return;
    }
    if (pid == 0) {
        struct worker_start ws = {
            .cfg = s->gen->cfg, .wc = s->wc, .def = s->def,
            .listeners = s->listeners, .nlisteners = s->nlisteners, .index = s->index,
        };
        worker_run(&ws);
    }
    s->pid = pid;
    s->started = now;
    s->restart_at = 0;
    daemon_stats_worker_started(pid, s->def->name, s->restarts);
    if (s->restarts == 0)
        log_info("worker %s #%u started: pid=%d", s->wc->name, s->index, (int)pid);
    else
        log_warn("worker %s #%u restarted: pid=%d restarts=%u", s->wc->name, s->index,
                 (int)pid, s->restarts);
}

void gen_start(struct generation *g, double now)
{
    for (size_t i = 0; i < g->nslots; i++)
        slot_start(&g->slots[i], now);
}

void gen_signal(struct generation *g, int sig)
{
    for (size_t i = 0; i < g->nslots; i++) {
        if (g->slots[i].pid > 0)
            kill(g->slots[i].pid, sig);
    }
}

bool gen_has_children(const struct generation *g)
{
    for (size_t i = 0; i < g->nslots; i++) {
        if (g->slots[i].pid > 0)
            return true;
    }
    return false;
}

void gen_retire(struct generation *g)
{
    g->retiring = true;
    for (size_t i = 0; i < g->nslots; i++)
        g->slots[i].restart_at = 0;
    gen_signal(g, SIGTERM);
}

static void describe_status(int status, char *out, size_t outsize)
{
    if (WIFEXITED(status))
        snprintf(out, outsize, "exit code %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, outsize, "signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(out, outsize, "status 0x%x", (unsigned)status);
}

void slot_exited(struct slot *s, int status, double now, bool stopping)
{
    char why[96];
    struct daemon_stats *st = daemon_stats_get();
    pid_t pid;

    describe_status(status, why, sizeof(why));
    pid = s->pid;
    s->pid = 0;
    daemon_stats_worker_exited(pid);
    if (stopping || s->gen->retiring) {
        log_info("worker %s #%u exited: pid=%d %s", s->wc->name, s->index, (int)pid, why);
        return;
    }
    s->backoff = policy_next_backoff(s->backoff, now - s->started);
    s->restart_at = now + s->backoff;
    s->restarts++;
    if (st != NULL)
        daemon_stats_inc(&st->worker_restarts);
    log_error("worker %s #%u died: pid=%d %s after %.1fs; restarting in %.0fs", s->wc->name,
              s->index, (int)pid, why, now - s->started, s->backoff);
}
