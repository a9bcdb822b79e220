#ifndef WINNOW_DAEMON_WORKER_PRIVATE_H
#define WINNOW_DAEMON_WORKER_PRIVATE_H
/*
 * Between worker.c (the process: loop, accept, signals, drain) and conn.c
 * (one HTTP connection).  For those two files only.
 */
#include <sys/socket.h>

#include "daemon/worker.h"

/* conn.c */
void conn_new(struct worker *w, int fd, const struct sockaddr *sa, socklen_t salen);
/* Drain: closes connections waiting for a request; the others finish. */
void conn_close_idle_all(void);
/* Connections that still have work (reading a request, running, writing). */
unsigned conn_busy_count(void);

/* worker.c */
void worker_accept_pause(struct worker *w);
void worker_accept_resume(struct worker *w);
/* Ends the loop when stopping and nothing is left to finish. */
void worker_check_drained(struct worker *w);

#endif
