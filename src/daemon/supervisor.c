/*
 * The main process's supervision loop (see supervisor.h).
 *
 * A "generation" is one configuration snapshot with its worker slots and
 * the listening sockets it references.  Start-up makes generation 1; each
 * good SIGHUP makes the next one, starts its workers, and retires the
 * previous one (SIGTERM to its workers, which drain; when the last has
 * exited the old snapshot is freed and its sockets released).  A bad
 * SIGHUP leaves everything as it was: `reload refused: <error>`.
 *
 * A slot is one worker position (type, index).  When its process dies
 * unexpectedly it is restarted after a back-off (1 s doubling to 60 s, back
 * to 1 s once a worker lived 60 s), so a crash loop cannot spin the CPU.
 *
 * Signals are blocked and taken synchronously through a signalfd: no
 * handler runs at an arbitrary point.  One poll() waits for signals and
 * for the control socket (ctlsock.c, `winnowadm control`); its timeout
 * doubles as the timer for scheduled restarts.  Owns the list of generations (generation.c
 * builds them), the pid file and (through listen.c) the sockets.  Workers
 * are never left behind: on exit the main process waits for them, and
 * kills them after the drain deadline.
 */
#include "daemon/supervisor.h"

#include <math.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/log.h"
#include "daemon/ctlsock.h"
#include "daemon/daemonize.h"
#include "daemon/generation.h"
#include "daemon/listen.h"
#include "daemon/privs.h"
#include "daemon/proctitle.h"
#include "daemon/stats.h"
#include "daemon/stats_file.h"
#include "daemon/status.h"
#include "modules/pipeline.h"

#define STOP_SLACK 5.0           /* beyond the longest task timeout */
struct supervisor {
    const struct supervisor_opts *opts;
    struct generation *gens;     /* newest first */
    unsigned next_gen_id;
    bool stopping;
    double stop_deadline;
    bool killed;
    const char *pidfile;
    int sigfd;                   /* signalfd of the blocked set */
    int ctlfd;                   /* control socket, -1 if none */
};

static struct supervisor sv;

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct slot *slot_by_pid(pid_t pid)
{
    for (struct generation *g = sv.gens; g != NULL; g = g->next) {
        for (size_t i = 0; i < g->nslots; i++) {
            if (g->slots[i].pid == pid)
                return &g->slots[i];
        }
    }
    return NULL;
}

/* Frees retiring generations whose last worker has gone. */
static void gens_collect(void)
{
    struct generation **pp = &sv.gens;

    while (*pp != NULL) {
        struct generation *g = *pp;

        if (g->retiring && !gen_has_children(g)) {
            *pp = g->next;
            log_info("configuration generation %u retired", g->id);
            gen_free(g);
        } else {
            pp = &g->next;
        }
    }
}

static void reap_children(double now)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct slot *s = slot_by_pid(pid);

        if (s != NULL)
            slot_exited(s, status, now, sv.stopping);
    }
    gens_collect();
}

static void start_due(double now)
{
    if (sv.stopping)
        return;
    for (struct generation *g = sv.gens; g != NULL; g = g->next) {
        for (size_t i = 0; i < g->nslots && !g->retiring; i++) {
            struct slot *s = &g->slots[i];

            if (s->pid == 0 && s->restart_at > 0 && s->restart_at <= now)
                slot_start(s, now);
        }
    }
}

/* Seconds until the next scheduled restart (at most 1 s). */
static double next_wakeup(double now)
{
    double wait = 1.0;

    for (struct generation *g = sv.gens; g != NULL; g = g->next) {
        for (size_t i = 0; i < g->nslots; i++) {
            double at = g->slots[i].restart_at;

            if (at > 0 && at - now < wait)
                wait = at - now;
        }
    }
    return wait < 0.01 ? 0.01 : wait;
}

/* ---- signals ---- */

static double max_task_timeout(void)
{
    double t = 8.0;

    for (struct generation *g = sv.gens; g != NULL; g = g->next) {
        if (isfinite(g->cfg->options.task_timeout) && g->cfg->options.task_timeout > t)
            t = g->cfg->options.task_timeout;
        for (size_t i = 0; i < g->cfg->nworkers; i++) {
            double wt = g->cfg->workers[i].task_timeout;
            if (isfinite(wt) && wt > t)
                t = wt;
        }
    }
    return t;
}

static void supervisor_stop(int sig, double now)
{
    if (sv.stopping) {
        log_warn("second %s: killing workers now", strsignal(sig));
        for (struct generation *g = sv.gens; g != NULL; g = g->next)
            gen_signal(g, SIGKILL);
        return;
    }
    log_info("%s: stopping workers", strsignal(sig));
    sv.stopping = true;
    sv.stop_deadline = now + max_task_timeout() + STOP_SLACK;
    for (struct generation *g = sv.gens; g != NULL; g = g->next)
        gen_signal(g, SIGTERM);
}

/* false with *error_r (static or the new configuration's arena) when the
 * running configuration stays. */
static bool supervisor_reload(double now, const char **error_r)
{
    const char *error = NULL;
    struct config *cfg;
    struct generation *g, *old;

    log_info("SIGHUP: reloading %s", sv.opts->load.path);
    cfg = config_load(&sv.opts->load, &error);
    if (cfg == NULL) {
        log_error("reload refused: %s", error ? error : "?");
        *error_r = "the configuration does not load; see the log";
        return false;
    }
    if (modules_configure(cfg, &error) < 0) {
        log_error("reload refused: %s", error ? error : "?");
        config_free(&cfg);
        *error_r = "a module refused the configuration; see the log";
        return false;
    }
    g = gen_new(cfg, ++sv.next_gen_id, &error);
    if (g == NULL) {
        log_error("reload refused: %s", error ? error : "?");
        config_free(&cfg);
        *error_r = "the new workers' sockets could not be bound; see the log";
        return false;
    }
    if (log_configure(&cfg->logging, &error) < 0)
        log_warn("reload: logging settings not applied: %s", error);
    old = sv.gens;
    g->next = sv.gens;
    sv.gens = g;
    gen_start(g, now);
    for (struct generation *o = old; o != NULL; o = o->next) {
        if (!o->retiring)
            gen_retire(o);
    }
    log_info("reloaded: configuration generation %u running", g->id);
    daemon_status_log_features(cfg);
    return true;
}

static void supervisor_reopen_logs(void)
{
    log_reopen();
    for (struct generation *g = sv.gens; g != NULL; g = g->next)
        gen_signal(g, SIGUSR1);
    log_info("logs reopened");
}

static void noop_handler(int sig)
{
    (void)sig;
}

static void signals_block(sigset_t *set)
{
    struct sigaction sa;

    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGCHLD);
    sigprocmask(SIG_BLOCK, set, NULL);
    /* SIGCHLD's default disposition is "ignore": give it a handler so the
     * kernel keeps it pending for the signalfd. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = noop_handler;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    sigaction(SIGPIPE, &sa, NULL);
}

static bool any_children(void)
{
    for (struct generation *g = sv.gens; g != NULL; g = g->next) {
        if (gen_has_children(g))
            return true;
    }
    return false;
}

/* ---- the control socket ---- */

static void control_serve(double now)
{
    char cmd[32];
    struct buf out = BUF_INIT;
    int fd = ctlsock_accept(sv.ctlfd, cmd, sizeof(cmd));

    if (fd < 0)
        return;
    if (strcmp(cmd, "stat") == 0) {
        daemon_status_json(sv.gens->cfg, &out);
        ctlsock_reply(fd, 200, out.data, out.len);
    } else if (strcmp(cmd, "reload") == 0 && !sv.stopping) {
        const char *error = NULL;
        struct json_writer jw;
        bool ok;

        log_info("control socket: reload requested");
        ok = supervisor_reload(now, &error);
        json_init(&jw, &out, false);
        json_obj_begin(&jw);
        json_key(&jw, "success"); json_bool(&jw, ok);
        if (!ok) {
            json_key(&jw, "error"); json_str(&jw, error);
        }
        json_obj_end(&jw);
        ctlsock_reply(fd, ok ? 200 : 500, out.data, out.len);
    } else {
        static const char unknown[] = "{\"error\":\"unknown command; try stat or reload\"}";
        ctlsock_reply(fd, 404, unknown, sizeof(unknown) - 1);
    }
    buf_free(&out);
}

/* ---- the loop ---- */

/* Waits up to `wait` seconds; returns the next pending signal (0 if none)
 * and serves control clients that arrive meanwhile. */
static int wait_event(double wait)
{
    struct pollfd p[2] = {{.fd = sv.sigfd, .events = POLLIN}, {.fd = sv.ctlfd, .events = POLLIN}};
    struct signalfd_siginfo si;
    nfds_t n = sv.ctlfd >= 0 ? 2 : 1;
    int rc = poll(p, n, (int)(wait * 1000.0) + 1);

    if (rc <= 0)
        return 0;
    if (n == 2 && (p[1].revents & POLLIN))
        control_serve(now_mono());
    if ((p[0].revents & POLLIN) && read(sv.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        return (int)si.ssi_signo;
    return 0;
}

static void supervisor_loop(void)
{
    for (;;) {
        double now = now_mono();
        const char *error = NULL;
        int sig;

        reap_children(now);
        start_due(now);
        if (sv.stopping && !any_children())
            return;
        if (sv.stopping && !sv.killed && now > sv.stop_deadline) {
            log_warn("workers did not stop in time: killing them");
            for (struct generation *g = sv.gens; g != NULL; g = g->next)
                gen_signal(g, SIGKILL);
            sv.killed = true;
        }
        sig = wait_event(next_wakeup(now));
        now = now_mono();
        switch (sig) {
        case SIGTERM:
        case SIGINT:
            supervisor_stop(sig, now);
            break;
        case SIGHUP:
            if (!sv.stopping)
                supervisor_reload(now, &error);
            break;
        case SIGUSR1:
            supervisor_reopen_logs();
            break;
        default:                 /* SIGCHLD, timeout, EINTR: reaped above */
            break;
        }
    }
}

/* ---- start-up ---- */

static int supervisor_setup(struct config *cfg, const struct supervisor_opts *opts)
{
    const char *error = NULL;
    const char *user = opts->user ? opts->user : cfg->user;
    const char *group = opts->group ? opts->group : cfg->group;
    struct generation *g;

    daemon_stats_create();
    daemon_stats_load(cfg->options.stats_file, &cfg->actions);
    g = gen_new(cfg, ++sv.next_gen_id, &error);
    if (g == NULL) {
        log_error("cannot start: %s", error);
        return -1;
    }
    sv.gens = g;
    /* Bound as root, owned by the daemon's user: root and that user may
     * use it.  A failure is not fatal: scanning matters more. */
    sv.ctlfd = ctlsock_open(cfg->arena, cfg, user, &error);
    if (sv.ctlfd == -1)
        log_warn("control socket not available: %s", error ? error : "?");
    if (privs_drop(user, group, &error) < 0) {
        log_error("cannot drop privileges: %s", error);
        return -1;
    }
    /* Errors up to here still reach the terminal (and the exit code). */
    if (!opts->foreground && daemonize(&error) < 0) {
        log_error("cannot daemonize: %s", error);
        return -1;
    }
    /* After the drop, so the unprivileged main process can remove it at
     * exit: it belongs in a directory the daemon's user owns (/run/winnow). */
    sv.pidfile = opts->pidfile;
    if (sv.pidfile != NULL && pidfile_write(sv.pidfile, &error) < 0) {
        if (opts->pidfile_explicit) {
            log_error("%s", error);
            sv.pidfile = NULL;
            return -1;
        }
        log_warn("%s; continuing without a pid file", error);
        sv.pidfile = NULL;
    }
    return 0;
}

static void supervisor_cleanup(void)
{
    while (sv.gens != NULL) {
        struct generation *g = sv.gens;

        sv.gens = g->next;
        gen_free(g);
    }
    listen_close_all();
    if (sv.pidfile != NULL)
        pidfile_remove(sv.pidfile);
}

int supervisor_run(struct config *cfg, const struct supervisor_opts *opts)
{
    sigset_t set;

    sv.opts = opts;
    sv.ctlfd = -1;
    proctitle_set("winnowd: main");
    signals_block(&set);
    sv.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sv.sigfd < 0) {
        log_error("cannot start: signalfd: %s", strerror(errno));
        config_free(&cfg);
        return 1;
    }
    if (supervisor_setup(cfg, opts) < 0) {
        if (sv.gens == NULL)
            config_free(&cfg);
        supervisor_cleanup();
        return 1;
    }
    log_info("winnowd %s started: pid=%d config=%s", WINNOW_VERSION, (int)getpid(),
             opts->load.path);
    daemon_status_log_features(cfg);
    gen_start(sv.gens, now_mono());
    supervisor_loop();
    daemon_stats_save(sv.gens->cfg->options.stats_file, &sv.gens->cfg->actions);
    supervisor_cleanup();
    log_info("winnowd stopped");
    return 0;
}
