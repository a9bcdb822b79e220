/*
 * libFuzzer target for the UCL parser: any byte string must either parse or
 * fail with a message, never crash, hang or read out of bounds.  A parsed
 * tree also goes through both emitters, the UCL output is parsed again, and
 * the typed getters run on every top-level key.  Includes are refused so the
 * target never touches the file system.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void getters(const struct conf_obj *root)
{
    const char *err;
    bool b;
    int64_t i;
    double d;
    uint64_t u;
    const char *s;
    if (root->type != CONF_OBJECT)
        return;
    for (const struct conf_obj *m = root->v.list.head; m != NULL; m = m->next) {
        (void)conf_get_bool(root, m->key, false, &b, &err);
        (void)conf_get_int(root, m->key, 0, &i, &err);
        (void)conf_get_double(root, m->key, 0, &d, &err);
        (void)conf_get_time(root, m->key, 0, &d, &err);
        (void)conf_get_size(root, m->key, 0, &u, &err);
        (void)conf_get_string(root, m->key, NULL, &s, &err);
        for (const struct conf_obj *e = conf_each_first(m); e; e = conf_each_next(m, e))
            (void)conf_as_string(e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *arena = arena_new(0);
    struct conf_vars *vars = conf_vars_new(arena);
    conf_vars_set(vars, "CONFDIR", "/etc/winnow");
    conf_vars_set(vars, "DBDIR", "/var/lib/winnow");
    struct conf_parse_opts opts = {.vars = vars, .no_includes = true};
    const char *err = NULL;
    /* A private copy, so a read past size is caught by ASan. */
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    struct conf_obj *root = conf_parse_buf(arena, "fuzz", copy, size, &opts, &err);
    if (root != NULL) {
        struct buf b = BUF_INIT;
        conf_emit_json(root, &b, false);
        buf_reset(&b);
        conf_emit_json(root, &b, true);
        buf_reset(&b);
        conf_emit_ucl(root, &b);
        if (root->type == CONF_OBJECT && conf_parse_buf(arena, "fuzz-ucl", b.data ? b.data : "",
                                                        b.len, &opts, &err) == NULL)
            abort();                 /* our own UCL output must parse back */
        buf_free(&b);
        getters(root);
    } else if (err == NULL) {
        abort();
    }
    free(copy);
    arena_free(&arena);
    return 0;
}
