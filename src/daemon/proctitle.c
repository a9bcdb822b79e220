/*
 * Process titles.  Linux shows /proc/PID/cmdline, which is the memory of the
 * original argv strings (followed contiguously by the environment strings).
 * proctitle_init() moves argv and environ to the heap so that whole area
 * becomes ours; proctitle_set() writes the title there and NUL-fills the
 * rest.  Owns the copies (never freed: they live as long as the process).
 * Refuses nothing; when the area is not contiguous only argv[0] is used.
 */
#include "daemon/proctitle.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *title_area;                 /* start of argv[0] */
static size_t title_size;                /* bytes we may overwrite */

static char *xstrdup_or_die(const char *s)
{
    char *d = strdup(s);

    if (d == NULL)
        abort();
    return d;
}

/* Moves environ to the heap; returns the end of the contiguous env area. */
static char *move_environ(char *end)
{
    size_t n = 0;
    char **copy;

    while (environ[n] != NULL)
        n++;
    copy = calloc(n + 1, sizeof(*copy));
    if (copy == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (environ[i] == end + 1)       /* UNSAFE: contiguity check only */
            end = environ[i] + strlen(environ[i]);
        copy[i] = xstrdup_or_die(environ[i]);
    }
    environ = copy;
    return end;
}

void proctitle_init(int argc, char **argv)
{
    char *end;

    if (argc <= 0 || argv[0] == NULL)
        return;
    title_area = argv[0];
    end = argv[0] + strlen(argv[0]);
    for (int i = 1; i < argc; i++) {
        if (argv[i] == end + 1)          /* UNSAFE: contiguity check only */
            end = argv[i] + strlen(argv[i]);
    }
    end = move_environ(end);
    for (int i = 0; i < argc; i++)
        argv[i] = xstrdup_or_die(argv[i]);
    title_size = (size_t)(end - title_area) + 1;
}

void proctitle_set(const char *title)
{
    size_t len;

    prctl(PR_SET_NAME, (unsigned long)title, 0, 0, 0);
    if (title_area == NULL || title_size < 2)
        return;
    len = strlen(title);
    if (len > title_size - 1)
        len = title_size - 1;
    memcpy(title_area, title, len);
    memset(title_area + len, '\0', title_size - len);
}
