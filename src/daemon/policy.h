#ifndef WINNOW_DAEMON_POLICY_H
#define WINNOW_DAEMON_POLICY_H
/*
 * The main process's small numeric policies, apart so they can be tested.
 */

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 60.0
#define BACKOFF_RESET_AFTER 60.0     /* a worker that lived this long starts over */

/* Workers of a block when `count` is unset: min(4, max(1, CPUs - 2))
 * (Rspamd's built-in default, spec §1.1). */
int policy_default_count(long ncpus);

/* Delay before restarting a worker that died after living `lived` seconds,
 * given the previous delay (0 = first death): 1 s doubling to 60 s. */
double policy_next_backoff(double prev, double lived);

#endif
