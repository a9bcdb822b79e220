#ifndef WINNOW_DAEMON_DAEMONIZE_H
#define WINNOW_DAEMON_DAEMONIZE_H
/*
 * Detaching from the terminal and the pid file.
 */

/* Double fork, setsid, chdir("/"), stdin/stdout/stderr to /dev/null.
 * Returns in the grandchild only; -1 with *error_r (static) on failure. */
int daemonize(const char **error_r);

/* Writes "PID\n" to path (replacing the file).  -1 with *error_r (static). */
int pidfile_write(const char *path, const char **error_r);
/* Removes the pid file if it still names this process. */
void pidfile_remove(const char *path);

#endif
