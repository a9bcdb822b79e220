#ifndef WINNOW_DAEMON_SUPERVISOR_H
#define WINNOW_DAEMON_SUPERVISOR_H
/*
 * The main process after start-up: binds the workers' sockets, drops
 * privileges, forks and supervises the workers, reloads on SIGHUP, reopens
 * logs on SIGUSR1, stops gracefully on SIGTERM/SIGINT.
 */
#include <stdbool.h>

#include "conf/settings.h"

struct supervisor_opts {
    struct config_load_opts load;    /* how to load the configuration again */
    const char *user, *group;        /* -u / -g (override the configuration's) */
    const char *pidfile;             /* -p, else options.pidfile, may be NULL */
    bool pidfile_explicit;           /* -p given: failing to write it is fatal */
    bool foreground;                 /* -f */
};

/* Takes cfg (loaded and modules configured).  Returns the process's exit
 * code: 0 after a clean stop, 1 when start-up failed (message logged). */
int supervisor_run(struct config *cfg, const struct supervisor_opts *opts);

#endif
