/*
 * The worker process skeleton (see worker.h): after fork it restores the
 * signal mask the main process blocked, names itself, closes the listening
 * sockets of other workers, and runs one libev loop accepting on its own.
 * Owns the loop, the accept watchers and the signal watchers.
 *
 * Stopping (SIGTERM/SIGINT, also sent by the main process on reload): stop
 * accepting and close the listening fds, close idle connections, let
 * running tasks and pending writes finish, then leave the loop.  A drain
 * deadline (task timeout + DRAIN_SLACK) bounds the wait.  If the main
 * process dies the kernel sends us SIGTERM (PR_SET_PDEATHSIG), so workers
 * never outlive it.
 */
#include "daemon/worker_private.h"

#include <errno.h>
#include <ev.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/log.h"
#include "daemon/listen.h"
#include "daemon/proctitle.h"
#include "daemon/stats.h"
#include "modules/pipeline.h"

#define DRAIN_SLACK 2.0          /* seconds beyond the task timeout */
#define ACCEPT_BATCH 64
#define EMFILE_PAUSE 1.0

struct acceptor {
    ev_io io;
    struct worker *w;
};

static struct worker the_worker;
static struct acceptor *acceptors;
static size_t nacceptors;
static bool accept_paused;
static ev_timer accept_retry;    /* after EMFILE */
static ev_timer drain_deadline;
static ev_signal sig_term, sig_int, sig_usr1;

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct acceptor *a = (struct acceptor *)io;
    struct daemon_stats *s = daemon_stats_get();

    for (int i = 0; i < ACCEPT_BATCH && !accept_paused; i++) {
        struct sockaddr_storage ss;
        socklen_t slen = sizeof(ss);
        int fd = accept4(io->fd, (struct sockaddr *)&ss, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_warn("accept: %s; pausing %.0fs", strerror(errno), EMFILE_PAUSE);
                worker_accept_pause(a->w);
                ev_timer_set(&accept_retry, EMFILE_PAUSE, 0.0);
                ev_timer_start(loop, &accept_retry);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_warn("accept: %s", strerror(errno));
            }
            return;
        }
        if (s != NULL)
            daemon_stats_inc(&s->connections);
        if (a->w->def->on_accept != NULL)
            a->w->def->on_accept(a->w, fd, (struct sockaddr *)&ss, slen);
        else
            conn_new(a->w, fd, (struct sockaddr *)&ss, slen);
    }
}

void worker_accept_pause(struct worker *w)
{
    if (accept_paused)
        return;
    accept_paused = true;
    for (size_t i = 0; i < nacceptors; i++)
        ev_io_stop(w->loop, &acceptors[i].io);
}

void worker_accept_resume(struct worker *w)
{
    if (!accept_paused || w->stopping || ev_is_active(&accept_retry))
        return;
    if (w->wc->max_tasks > 0 && w->active_tasks >= w->wc->max_tasks)
        return;
    accept_paused = false;
    for (size_t i = 0; i < nacceptors; i++)
        ev_io_start(w->loop, &acceptors[i].io);
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    worker_accept_resume(&the_worker);
}

void worker_check_drained(struct worker *w)
{
    if (w->stopping && w->active_tasks == 0 && w->busy == 0 && conn_busy_count() == 0)
        ev_break(w->loop, EVBREAK_ALL);
}

void worker_busy_begin(struct worker *w)
{
    w->busy++;
}

void worker_busy_end(struct worker *w)
{
    ASSERT(w->busy > 0);
    w->busy--;
    worker_check_drained(w);
}

static void drain_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    log_warn("drain deadline reached: %u tasks and %u connections abandoned",
             the_worker.active_tasks, conn_busy_count());
    ev_break(loop, EVBREAK_ALL);
}

static void worker_stop(struct worker *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    log_info("worker stopping: %u tasks in flight", w->active_tasks);
    worker_accept_pause(w);
    ev_timer_stop(w->loop, &accept_retry);
    for (size_t i = 0; i < nacceptors; i++) {
        close(acceptors[i].io.fd);
        acceptors[i].io.fd = -1;
    }
    conn_close_idle_all();
    if (w->def->on_stop != NULL)
        w->def->on_stop(w);
    ev_timer_init(&drain_deadline, drain_deadline_cb, w->task_timeout + DRAIN_SLACK, 0.0);
    ev_timer_start(w->loop, &drain_deadline);
    worker_check_drained(w);
}

static void signal_cb(struct ev_loop *loop, ev_signal *sw, int revents)
{
    if (sw->signum == SIGUSR1) {
        log_reopen();
        return;
    }
    worker_stop(&the_worker);
}

/* The main process blocks the signals it waits for: undo that here. */
static void worker_signals_reset(void)
{
    sigset_t none;
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);        /* reload is the main process's business */
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void worker_signals_watch(struct ev_loop *loop)
{
    ev_signal_init(&sig_term, signal_cb, SIGTERM);
    ev_signal_init(&sig_int, signal_cb, SIGINT);
    ev_signal_init(&sig_usr1, signal_cb, SIGUSR1);
    ev_signal_start(loop, &sig_term);
    ev_signal_start(loop, &sig_int);
    ev_signal_start(loop, &sig_usr1);
}

static void worker_acceptors_start(struct worker *w, const struct worker_start *ws)
{
    acceptors = calloc(ws->nlisteners ? ws->nlisteners : 1, sizeof(*acceptors));
    if (acceptors == NULL)
        panic("out of memory");
    nacceptors = ws->nlisteners;
    for (size_t i = 0; i < nacceptors; i++) {
        acceptors[i].w = w;
        ev_io_init(&acceptors[i].io, accept_cb, ws->listeners[i]->fd, EV_READ);
        ev_io_start(w->loop, &acceptors[i].io);
    }
    ev_init(&accept_retry, accept_retry_cb);
}

static double worker_task_timeout(const struct config *cfg, const struct worker_conf *wc)
{
    if (isfinite(wc->task_timeout) && wc->task_timeout > 0)
        return wc->task_timeout;
    if (isfinite(cfg->options.task_timeout) && cfg->options.task_timeout > 0)
        return cfg->options.task_timeout;
    return 8.0;
}

void worker_run(const struct worker_start *ws)
{
    struct worker *w = &the_worker;
    const char *error = NULL;
    char title[64];
    pid_t parent = getppid();

    worker_signals_reset();
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != parent)
        exit(0);                         /* the main process died already */
    log_set_process(ws->def->name);
    daemon_stats_set_process(ws->def->name);
    snprintf(title, sizeof(title), "winnowd: %s", ws->def->name);
    proctitle_set(title);
    listen_close_others(ws->listeners, ws->nlisteners);

    w->loop = ev_default_loop(EVFLAG_AUTO);
    w->cfg = ws->cfg;
    w->wc = ws->wc;
    w->def = ws->def;
    w->index = ws->index;
    w->task_timeout = worker_task_timeout(ws->cfg, ws->wc);
    /* Per-process state of the scan pipeline: DNS resolver, module pools. */
    if (modules_worker_init(w->cfg, w->loop, &error) < 0) {
        log_error("worker %s: %s", w->def->name, error ? error : "?");
        exit(1);
    }
    if (w->def->init != NULL && w->def->init(w, &error) < 0) {
        log_error("worker %s init failed: %s", w->def->name, error ? error : "?");
        exit(1);
    }
    worker_signals_watch(w->loop);
    worker_acceptors_start(w, ws);
    log_debug("worker", "worker %s running, pid %d", w->def->name, (int)getpid());

    ev_run(w->loop, 0);

    if (w->def->deinit != NULL)
        w->def->deinit(w);
    modules_worker_deinit(w->cfg);
    log_info("worker %s exiting", w->def->name);
    exit(0);
}
