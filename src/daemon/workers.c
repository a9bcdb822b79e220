/*
 * The worker types this build implements, one row each (STYLE §2: all
 * workers share one skeleton, worker.c; a type only supplies its row).
 * A `worker` block of a type not listed here is skipped by the main process
 * with one log line.
 */
#include "daemon/worker.h"
#include "daemon/worker_proxy.h"

static const struct worker_def *const worker_defs[] = {
    &worker_normal_def,
    &worker_proxy_def,       /* worker_proxy.c: the milter proxy */
    &worker_controller_def,  /* worker_controller.c: the HTTP API on 11334 */
    NULL,
};

const struct worker_def *worker_def_for(enum worker_type type)
{
    for (size_t i = 0; worker_defs[i] != NULL; i++) {
        if (worker_defs[i]->type == type)
            return worker_defs[i];
    }
    return NULL;
}
