/*
 * inputs: turns winnowc's file arguments into a list of messages to scan.
 *
 * A regular file is only opened here to look at its first five bytes: an
 * mbox ("From " on the first line) with two messages or more is read whole
 * and split; anything else, including a single message that starts with a
 * From_ line (the SpamAssassin corpus, `mail` saves), is sent unchanged under
 * its own name, as rspamc does, and read later, when its request starts, so a large directory never sits in
 * memory at once.  Directories are walked recursively with entries sorted by
 * name (readdir order is arbitrary; sorted output is reproducible); symlinked
 * directories are not followed, to avoid loops.  Owns the names, paths and
 * in-memory messages of the list.
 */
#include "cli/inputs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPUT_MAX_BYTES ((size_t)1 << 30)

static char errbuf[512];

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

static struct input *inputs_push(struct input_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (l->v == NULL)
            abort();
    }
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    return &l->v[l->n++];
}

void inputs_add_data(struct input_list *l, const char *name, char *data, size_t len)
{
    struct input *in = inputs_push(l);

    in->name = xstrdup(name);
    in->data = data;
    in->len = len;
}

static bool excluded(const struct input_list *l, const char *path)
{
    const char *base = strrchr(path, '/');

    base = base != NULL ? base + 1 : path;
    for (size_t i = 0; i < l->nexcludes; i++)
        if (fnmatch(l->excludes[i], path, 0) == 0 || fnmatch(l->excludes[i], base, 0) == 0)
            return true;
    return false;
}

int inputs_read_fd(int fd, size_t max, char **data_r, size_t *len_r)
{
    size_t len = 0, cap = 65536;
    char *data = malloc(cap);

    if (data == NULL)
        abort();
    for (;;) {
        ssize_t n;
        if (len == cap) {
            if (cap >= max) {
                free(data);
                errno = EFBIG;
                return -1;
            }
            cap *= 2;
            data = realloc(data, cap);
            if (data == NULL)
                abort();
        }
        n = read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(data);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *data_r = data;
    *len_r = len;
    return 0;
}

/* Appends [p, p+len) to out, dropping one '>' from lines matching ^>+From . */
static size_t mbox_unquote(char *out, const char *p, size_t len)
{
    size_t o = 0, i = 0;

    while (i < len) {
        const char *nl = memchr(p + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - p) + 1 : len;
        size_t q = i;
        while (q < end && p[q] == '>')
            q++;
        if (q > i && end - q >= 5 && memcmp(p + q, "From ", 5) == 0)
            i++;
        memcpy(out + o, p + i, end - i);
        o += end - i;
        i = end;
    }
    return o;
}

static void mbox_add(struct input_list *l, const char *name, unsigned n, const char *p,
                     size_t len)
{
    char label[4096];
    char *data = malloc(len + 1);

    if (data == NULL)
        abort();
    snprintf(label, sizeof(label), "%s:%u", name, n);
    inputs_add_data(l, label, data, mbox_unquote(data, p, len));
}

void inputs_split_mbox(struct input_list *l, const char *name, const char *p, size_t len)
{
    size_t pos = 0;
    unsigned n = 0;

    while (pos < len) {
        const char *nl = memchr(p + pos, '\n', len - pos);   /* end of the From_ line */
        size_t body = nl != NULL ? (size_t)(nl - p) + 1 : len;
        size_t end = body;

        for (;;) {                       /* next line starting with "From " */
            const char *next = memchr(p + end, '\n', len - end);
            if (next == NULL) {
                end = len;
                break;
            }
            end = (size_t)(next - p) + 1;
            if (len - end >= 5 && memcmp(p + end, "From ", 5) == 0)
                break;
        }
        mbox_add(l, name, ++n, p + body, end - body);
        pos = end;
    }
}

static int add_dir(struct input_list *l, const char *path, const char **error_r);

/* Messages in an mbox: lines starting with "From " (the first one included). */
static size_t mbox_count(const char *p, size_t len)
{
    size_t n = 0, pos = 0;

    while (pos < len) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        if (len - pos >= 5 && memcmp(p + pos, "From ", 5) == 0)
            n++;
        if (nl == NULL)
            break;
        pos = (size_t)(nl - p) + 1;
    }
    return n;
}

/* An mbox with several messages is split into the list; returns 1 when it
 * did, 0 when the file is to be sent as it is, -1 on a read error. */
static int add_mbox(struct input_list *l, const char *path, int fd, const char **error_r)
{
    char *data;
    size_t len;

    if (lseek(fd, 0, SEEK_SET) != 0 || inputs_read_fd(fd, INPUT_MAX_BYTES, &data, &len) < 0) {
        snprintf(errbuf, sizeof(errbuf), "cannot read file %s: %s", path, strerror(errno));
        *error_r = errbuf;
        return -1;
    }
    if (mbox_count(data, len) < 2) {
        free(data);             /* one message: send it unchanged, like rspamc */
        return 0;
    }
    inputs_split_mbox(l, path, data, len);
    free(data);
    return 1;
}

static int add_file(struct input_list *l, const char *path, const char **error_r)
{
    char head[5];
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct input *in;

    if (fd < 0) {
        snprintf(errbuf, sizeof(errbuf), "cannot open file %s: %s", path, strerror(errno));
        *error_r = errbuf;
        return -1;
    }
    if (read(fd, head, sizeof(head)) == 5 && memcmp(head, "From ", 5) == 0)
        rc = add_mbox(l, path, fd, error_r);
    close(fd);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    in = inputs_push(l);
    in->name = xstrdup(path);
    in->path = xstrdup(path);
    return 0;
}

int inputs_add_path(struct input_list *l, const char *path, const char **error_r)
{
    struct stat st;

    if (excluded(l, path))
        return 0;
    if (stat(path, &st) < 0) {
        snprintf(errbuf, sizeof(errbuf), "cannot stat file %s: %s", path, strerror(errno));
        *error_r = errbuf;
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return add_dir(l, path, error_r);
    return add_file(l, path, error_r);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the entry names of a directory, sorted. */
static char **dir_names(DIR *d, size_t *n_r)
{
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;

    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof(*names));
            if (names == NULL)
                abort();
        }
        names[n++] = xstrdup(de->d_name);
    }
    if (n > 0)
        qsort(names, n, sizeof(*names), name_cmp);
    *n_r = n;
    return names;
}

static int add_dir(struct input_list *l, const char *path, const char **error_r)
{
    DIR *d = opendir(path);
    char **names;
    size_t n;
    int rc = 0;

    if (d == NULL) {
        snprintf(errbuf, sizeof(errbuf), "cannot open directory %s: %s", path, strerror(errno));
        *error_r = errbuf;
        return -1;
    }
    names = dir_names(d, &n);
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        char child[4096];
        struct stat st;
        size_t plen = strlen(path);
        snprintf(child, sizeof(child), "%s%s%s", path,
                 plen > 0 && path[plen - 1] == '/' ? "" : "/", names[i]);
        free(names[i]);
        if (lstat(child, &st) < 0)
            continue;
        if (S_ISLNK(st.st_mode) && (stat(child, &st) < 0 || S_ISDIR(st.st_mode)))
            continue;                    /* dangling link or link to a directory */
        if ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
            inputs_add_path(l, child, error_r) < 0)
            rc = -1;
    }
    free(names);
    return rc;
}

void inputs_free(struct input_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].path);
        free(l->v[i].data);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
