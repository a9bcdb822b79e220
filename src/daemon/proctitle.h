#ifndef WINNOW_DAEMON_PROCTITLE_H
#define WINNOW_DAEMON_PROCTITLE_H
/*
 * Process titles ("winnowd: main", "winnowd: normal") so that ps and
 * `ss -lntp` show which worker is which.
 */

/* Must run first thing in main(): copies argv strings and environ to the
 * heap and repoints argv[] at the copies, so the original argv/environ
 * memory can be overwritten later. */
void proctitle_init(int argc, char **argv);

/* Overwrites the argv area with title (truncated to fit) and sets the
 * kernel's comm name (prctl PR_SET_NAME, 15 bytes). */
void proctitle_set(const char *title);

#endif
