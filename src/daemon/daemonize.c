/*
 * Detaching (double fork, setsid) and the pid file.  Owns nothing beyond
 * the calls.  The pid file is written after detaching so it names the
 * process that stays; it is removed at exit only when it still holds our
 * pid (a second daemon started by mistake must not delete the first one's).
 */
#include "daemon/daemonize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char daemon_error[512];

static int daemon_fail(const char **error_r, const char *what, const char *arg)
{
    snprintf(daemon_error, sizeof(daemon_error), "%s%s%s: %s", what, arg ? " " : "",
             arg ? arg : "", strerror(errno));
    *error_r = daemon_error;
    return -1;
}

int daemonize(const char **error_r)
{
    pid_t pid;
    int fd;

    pid = fork();
    if (pid < 0)
        return daemon_fail(error_r, "fork", NULL);
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return daemon_fail(error_r, "setsid", NULL);
    pid = fork();                        /* not a session leader: no controlling tty ever */
    if (pid < 0)
        return daemon_fail(error_r, "fork", NULL);
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return daemon_fail(error_r, "chdir", "/");
    fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return daemon_fail(error_r, "open", "/dev/null");
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
    return 0;
}

int pidfile_write(const char *path, const char **error_r)
{
    char line[32];
    int fd, n;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return daemon_fail(error_r, "cannot write pid file", path);
    n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
    if (write(fd, line, (size_t)n) != n) {
        close(fd);
        return daemon_fail(error_r, "cannot write pid file", path);
    }
    close(fd);
    return 0;
}

void pidfile_remove(const char *path)
{
    char line[32];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return;
    n = read(fd, line, sizeof(line) - 1);
    close(fd);
    if (n <= 0)
        return;
    line[n] = '\0';
    if (atoi(line) == (int)getpid())
        unlink(path);
}
