/*
 * dkim_signing maps: the administrator's one-line-per-domain files
 * (`example.com s2026`, `example.com /var/lib/winnow/dkim/s2026.example.com.key`,
 * `*@example.com example.com`), read in each worker and re-read when they
 * change (see dkim_signing.h for the rules).
 *
 * Owns one heap arena per loaded version of a file; a reload builds the new
 * version completely and only then frees the old, so a half-written file
 * never leaves a map half empty.  Lines longer than SIGN_MAP_LINE_MAX or
 * files larger than SIGN_MAP_FILE_MAX are refused (logged), keeping the old
 * version.
 */
#include "modules/dkim_signing.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "core/arena.h"
#include "core/log.h"

#define SIGN_MAP_FILE_MAX (16u << 20)
#define SIGN_MAP_LINE_MAX 4096

struct sign_map_entry {
    const char *key, *value;
};

struct sign_map {
    const char *name;            /* option name, for log lines */
    const char *path;
    struct arena *data;          /* current version, NULL before the first load */
    struct sign_map_entry *e;
    unsigned n;
    double checked;              /* last stat() */
    struct stat st;              /* of the loaded version */
    bool missing_logged;
};

static double clock_skew;

void sign_map_clock_skew(double seconds)
{
    clock_skew += seconds;
}

double sign_map_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + clock_skew;
}

/* The loaded version dies with the map (the configuration snapshot). */
static void map_cleanup(void *p)
{
    struct sign_map *m = p;
    arena_free(&m->data);
}

struct sign_map *sign_map_new(struct arena *arena, const char *name, const char *path)
{
    struct sign_map *m = ARENA_NEW(arena, struct sign_map);
    arena_cleanup_add(arena, map_cleanup, m);
    if (strncmp(path, "file://", 7) == 0)
        path += 7;
    m->name = arena_strdup(arena, name);
    m->path = arena_strdup(arena, path);
    m->checked = -1e9;
    return m;
}

static void trim(const char **p, size_t *len)
{
    while (*len > 0 && (**p == ' ' || **p == '\t'))
        (*p)++, (*len)--;
    while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t' ||
                        (*p)[*len - 1] == '\r'))
        (*len)--;
}

/* Adds one line "KEY [VALUE]" (comments already cut) to the growing array. */
static void add_line(struct arena *a, struct sign_map_entry **e, unsigned *n, unsigned *cap,
                     const char *p, size_t len)
{
    trim(&p, &len);
    if (len == 0)
        return;
    size_t k = strcspn(p, " \t");
    if (k > len)
        k = len;
    const char *v = p + k;
    size_t vlen = len - k;
    trim(&v, &vlen);
    if (*n == *cap) {
        unsigned ncap = *cap ? *cap * 2 : 16;
        *e = arena_realloc(a, *e, *cap * sizeof(**e), ncap * sizeof(**e));
        *cap = ncap;
    }
    (*e)[*n].key = arena_strndup(a, p, k);
    (*e)[*n].value = arena_strndup(a, v, vlen);
    (*n)++;
}

static int parse_file(struct sign_map *m, FILE *f, struct arena *a, struct sign_map_entry **e_r,
                      unsigned *n_r)
{
    char line[SIGN_MAP_LINE_MAX + 2];
    unsigned cap = 0;
    unsigned lineno = 0;
    *e_r = NULL;
    *n_r = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        lineno++;
        if (len > SIGN_MAP_LINE_MAX) {
            log_warn("dkim_signing: %s %s:%u: line too long, map not reloaded", m->name, m->path,
                     lineno);
            return -1;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        const char *hash = memchr(line, '#', len);
        if (hash != NULL)
            len = (size_t)(hash - line);
        add_line(a, e_r, n_r, &cap, line, len);
    }
    return 0;
}

static void map_load(struct sign_map *m, const struct stat *st)
{
    FILE *f = fopen(m->path, "r");
    if (f == NULL) {
        log_warn("dkim_signing: %s %s: %s", m->name, m->path, strerror(errno));
        return;
    }
    struct arena *a = arena_new(0);
    struct sign_map_entry *e;
    unsigned n;
    if (st->st_size > SIGN_MAP_FILE_MAX || parse_file(m, f, a, &e, &n) < 0) {
        fclose(f);
        arena_free(&a);
        return;
    }
    fclose(f);
    if (m->data != NULL)
        log_info("dkim_signing: %s %s reloaded (%u entries)", m->name, m->path, n);
    arena_free(&m->data);
    m->data = a;
    m->e = e;
    m->n = n;
    m->st = *st;
}

static bool changed(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
           a->st_size != b->st_size || a->st_ino != b->st_ino;
}

/* Re-reads the file when due and changed. */
static void map_refresh(struct sign_map *m)
{
    double now = sign_map_now();
    if (now - m->checked < SIGN_MAP_CHECK)
        return;
    m->checked = now;
    struct stat st;
    if (stat(m->path, &st) < 0) {
        if (!m->missing_logged)
            log_warn("dkim_signing: %s %s: %s (treated as empty)", m->name, m->path,
                     strerror(errno));
        m->missing_logged = true;
        arena_free(&m->data);
        m->e = NULL;
        m->n = 0;
        return;
    }
    m->missing_logged = false;
    if (m->data == NULL || changed(&st, &m->st))
        map_load(m, &st);
}

const char *sign_map_get(struct sign_map *m, const char *key)
{
    map_refresh(m);
    for (unsigned i = 0; i < m->n; i++)
        if (strcasecmp(m->e[i].key, key) == 0)
            return m->e[i].value;
    return NULL;
}

const char *sign_map_glob(struct sign_map *m, const char *subject)
{
    map_refresh(m);
    for (unsigned i = 0; i < m->n; i++)
        if (fnmatch(m->e[i].key, subject, FNM_CASEFOLD) == 0)
            return m->e[i].value;
    return NULL;
}

unsigned sign_map_count(struct sign_map *m)
{
    map_refresh(m);
    return m->n;
}

void sign_map_each(struct sign_map *m, void (*fn)(const char *key, const char *value, void *data),
                   void *data)
{
    map_refresh(m);
    for (unsigned i = 0; i < m->n; i++)
        fn(m->e[i].key, m->e[i].value, data);
}
