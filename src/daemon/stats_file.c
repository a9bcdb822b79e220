/*
 * Saving and restoring the counters (see stats_file.h).  Only plain
 * counters travel; a value that is not a non-negative number is skipped
 * with a log line, never trusted.
 */
#include "daemon/stats_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/log.h"
#include "daemon/stats.h"

#define STATS_FILE_VERSION 1

struct counter_field {
    const char *key;
    size_t offset;
};

#define FIELD(name) {#name, offsetof(struct daemon_stats, name)}
static const struct counter_field fields[] = {
    FIELD(scanned), FIELD(learned), FIELD(spam_count), FIELD(ham_count),
    FIELD(connections), FIELD(control_connections),
};

static _Atomic uint64_t *field_ptr(struct daemon_stats *st, const struct counter_field *f)
{
    return (_Atomic uint64_t *)((char *)st + f->offset);
}

static bool as_count(const struct conf_obj *v, uint64_t *n_r)
{
    double d;
    if (v == NULL || !conf_as_double(v, &d) || !(d >= 0) || d > 1e18)
        return false;
    *n_r = (uint64_t)d;
    return true;
}

void daemon_stats_load(const char *path, const struct actions *acts)
{
    struct daemon_stats *st = daemon_stats_get();
    struct arena *a;
    struct conf_parse_opts po = {.no_includes = true};
    const char *error = NULL;
    struct conf_obj *root;
    uint64_t n;

    if (st == NULL || path == NULL || path[0] == '\0' || access(path, F_OK) != 0)
        return;
    a = arena_new(0);
    root = conf_parse_file(a, path, &po, &error);
    if (root == NULL) {
        log_warn("stats_file %s is damaged (%s): counters start from zero", path,
                 error ? error : "?");
        arena_free(&a);
        return;
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (as_count(conf_get(root, fields[i].key), &n))
            atomic_fetch_add(field_ptr(st, &fields[i]), n);
    const struct conf_obj *actions = conf_get(root, "actions");
    for (size_t i = 0; actions != NULL && i < acts->n && i < ACTIONS_MAX; i++)
        if (as_count(conf_get(actions, acts->a[i].name), &n))
            atomic_fetch_add(&st->actions[i], n);
    log_info("counters restored from %s", path);
    arena_free(&a);
}

bool daemon_stats_save(const char *path, const struct actions *acts)
{
    struct daemon_stats *st = daemon_stats_get();
    struct buf b = BUF_INIT;
    struct json_writer jw;
    char tmp[4096];
    FILE *f;
    bool ok;

    if (st == NULL || path == NULL || path[0] == '\0')
        return true;
    json_init(&jw, &b, true);
    json_obj_begin(&jw);
    json_key(&jw, "version"); json_int(&jw, STATS_FILE_VERSION);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_key(&jw, fields[i].key);
        json_int(&jw, (int64_t)daemon_stats_read(field_ptr(st, &fields[i])));
    }
    json_key(&jw, "actions");
    json_obj_begin(&jw);
    for (size_t i = 0; i < acts->n && i < ACTIONS_MAX; i++) {
        json_key(&jw, acts->a[i].name);
        json_int(&jw, (int64_t)daemon_stats_read(&st->actions[i]));
    }
    json_obj_end(&jw);
    json_obj_end(&jw);
    buf_putc(&b, '\n');
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    f = fopen(tmp, "w");
    ok = f != NULL && fwrite(b.data, 1, b.len, f) == b.len;
    if (f != NULL && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        log_warn("cannot write stats_file %s: %s: counters will start from zero next time",
                 path, strerror(errno));
        unlink(tmp);
    }
    buf_free(&b);
    return ok;
}
