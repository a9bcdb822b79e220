/*
 * Privilege drop (see privs.h).  Owns nothing.  Refuses to continue when a
 * step fails: a daemon that meant to give up root and did not must not
 * start.  The order matters: initgroups and setgid need root, so they come
 * before setuid; afterwards setuid(0) must fail.
 */
#include "daemon/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/log.h"

static char privs_error[256];

static int privs_fail(const char **error_r, const char *what, const char *name)
{
    snprintf(privs_error, sizeof(privs_error), "%s %s: %s", what, name ? name : "",
             errno != 0 ? strerror(errno) : "not found");
    *error_r = privs_error;
    return -1;
}

static int privs_lookup(const char *user, const char *group, uid_t *uid_r, gid_t *gid_r,
                        const char **error_r)
{
    struct passwd *pw;
    struct group *gr;

    errno = 0;
    pw = getpwnam(user);
    if (pw == NULL)
        return privs_fail(error_r, "unknown user", user);
    *uid_r = pw->pw_uid;
    *gid_r = pw->pw_gid;
    if (group != NULL) {
        errno = 0;
        gr = getgrnam(group);
        if (gr == NULL)
            return privs_fail(error_r, "unknown group", group);
        *gid_r = gr->gr_gid;
    }
    return 0;
}

int privs_drop(const char *user, const char *group, const char **error_r)
{
    uid_t uid;
    gid_t gid;

    if (geteuid() != 0) {
        /* Not root: -u/-g can only name what we already are. */
        if (user != NULL) {
            if (privs_lookup(user, group, &uid, &gid, error_r) < 0)
                return -1;
            if (uid != geteuid()) {
                errno = EPERM;
                return privs_fail(error_r, "cannot switch (not root) to user", user);
            }
        }
        return 0;
    }
    if (user == NULL) {
        log_warn("running as root: no user given (-u USER or user = \"...\"); "
                 "workers will parse untrusted mail as root");
        return 0;
    }
    if (privs_lookup(user, group, &uid, &gid, error_r) < 0)
        return -1;

    /* The one block where privileges go. */
    if (initgroups(user, gid) < 0)
        return privs_fail(error_r, "initgroups", user);
    if (setgid(gid) < 0)
        return privs_fail(error_r, "setgid", group ? group : user);
    if (setuid(uid) < 0)
        return privs_fail(error_r, "setuid", user);
    if (uid != 0 && setuid(0) == 0) {
        errno = EPERM;
        return privs_fail(error_r, "root could be regained after dropping to", user);
    }
    log_info("dropped privileges to user=%s uid=%u gid=%u", user, (unsigned)uid, (unsigned)gid);
    return 0;
}
