#ifndef WINNOW_DAEMON_PRIVS_H
#define WINNOW_DAEMON_PRIVS_H
/*
 * Dropping root: supplementary groups, gid, uid, in that order, in one
 * place, then a check that root cannot be regained.
 */

/*
 * When running as root: switches to user (and group, or the user's primary
 * group when group is NULL).  Without a user, logs a warning that workers
 * will run as root and returns 0.  When not root: a user/group that is not
 * the current one is an error (we cannot switch), otherwise nothing to do.
 * Returns -1 with *error_r (static storage) on failure.
 */
int privs_drop(const char *user, const char *group, const char **error_r);

#endif
