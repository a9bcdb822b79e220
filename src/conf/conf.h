#ifndef WINNOW_CONF_CONF_H
#define WINNOW_CONF_CONF_H
/*
 * UCL/JSON configuration object model.  A tree of conf_obj allocated in one
 * arena (the configuration snapshot's).  Repeated keys at the same priority
 * become an implicit array (type CONF_ARRAY with `implicit` set): conf_get()
 * returns the whole value, conf_first() its first element, and conf_each()
 * iterates a value whether it is a scalar, an implicit or an explicit array.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct arena;

enum conf_type {
    CONF_NULL = 0,
    CONF_BOOL,
    CONF_INT,
    CONF_FLOAT,
    CONF_TIME,                   /* seconds, in v.d (from "10s", "5min", "1d") */
    CONF_STRING,
    CONF_ARRAY,
    CONF_OBJECT,
};

struct conf_obj {
    enum conf_type type;
    const char *key;             /* NUL-terminated key in the parent object, or NULL */
    size_t keylen;
    struct conf_obj *next;       /* next sibling (object member / array element) */
    union {
        bool b;
        int64_t i;
        double d;
        struct {
            const char *s;       /* NUL-terminated (may contain NULs before len) */
            size_t len;
        } str;
        struct {
            struct conf_obj *head;
            struct conf_obj *tail;
            size_t n;
        } list;                  /* CONF_ARRAY and CONF_OBJECT */
    } v;
    bool implicit;               /* array made of repeated keys */
    unsigned priority;           /* from .include(priority=N), 0..15 */
    const char *file;            /* where it was defined */
    unsigned line, col;
    struct arena *arena;         /* the arena the node lives in (typed getters
                                    allocate their error strings there) */
    struct conf_index *index;    /* CONF_OBJECT: key index, built past a few
                                    members; change objects only through
                                    conf_obj_insert() so it stays right */
};

struct conf_index;
struct conf_vars;                /* $CONFDIR ... */

struct conf_vars *conf_vars_new(struct arena *arena);
void conf_vars_set(struct conf_vars *vars, const char *name, const char *value);
const char *conf_vars_get(const struct conf_vars *vars, const char *name);

struct conf_parse_opts {
    const struct conf_vars *vars;
    unsigned max_depth;          /* 0 = 64 */
    unsigned max_include_depth;  /* 0 = 16 */
    bool no_includes;            /* refuse .include (fuzzing, untrusted text) */
};

/* Parses a file (following .include) into a new object; on error returns NULL
 * and *error_r = "FILE:LINE:COL: problem". */
struct conf_obj *conf_parse_file(struct arena *arena, const char *path,
                                 const struct conf_parse_opts *opts, const char **error_r);
/* Parses a buffer; `name` is used in error messages and as the base for
 * relative includes. */
struct conf_obj *conf_parse_buf(struct arena *arena, const char *name, const char *p, size_t len,
                                const struct conf_parse_opts *opts, const char **error_r);

/* Lookup (case-sensitive keys, as UCL). */
const struct conf_obj *conf_get(const struct conf_obj *obj, const char *key);
/* "a.b.c" path through objects. */
const struct conf_obj *conf_get_path(const struct conf_obj *obj, const char *path);
const struct conf_obj *conf_first(const struct conf_obj *v);
/* Iteration: for (e = conf_each_first(v); e; e = conf_each_next(v, e)). Scalars
 * yield themselves once; arrays yield their elements. */
const struct conf_obj *conf_each_first(const struct conf_obj *v);
const struct conf_obj *conf_each_next(const struct conf_obj *v, const struct conf_obj *cur);

/* Typed getters with defaults.  A wrong type returns -1 and sets *error_r
 * to "FILE:LINE: KEY: expected ..." (the value stays the default). */
int conf_get_bool(const struct conf_obj *obj, const char *key, bool def, bool *v_r,
                  const char **error_r);
int conf_get_int(const struct conf_obj *obj, const char *key, int64_t def, int64_t *v_r,
                 const char **error_r);
int conf_get_double(const struct conf_obj *obj, const char *key, double def, double *v_r,
                    const char **error_r);
/* Accepts numbers (seconds) and time strings. */
int conf_get_time(const struct conf_obj *obj, const char *key, double def, double *v_r,
                  const char **error_r);
/* Accepts strings and numbers (size suffixes allowed). */
int conf_get_size(const struct conf_obj *obj, const char *key, uint64_t def, uint64_t *v_r,
                  const char **error_r);
int conf_get_string(const struct conf_obj *obj, const char *key, const char *def,
                    const char **v_r, const char **error_r);

/* Converters for a single value. */
bool conf_as_bool(const struct conf_obj *v, bool *b_r);
bool conf_as_double(const struct conf_obj *v, double *d_r);
const char *conf_as_string(const struct conf_obj *v);  /* NULL unless CONF_STRING */

/* Builders (used by the parser, settings and tests). */
struct conf_obj *conf_new(struct arena *arena, enum conf_type type);
struct conf_obj *conf_new_string(struct arena *arena, const char *s, size_t len);
/* Adds `child` under key with UCL duplicate semantics at child->priority. */
enum conf_dup { CONF_DUP_APPEND = 0, CONF_DUP_MERGE, CONF_DUP_REWRITE, CONF_DUP_ERROR };
int conf_obj_insert(struct arena *arena, struct conf_obj *obj, const char *key, size_t keylen,
                    struct conf_obj *child, enum conf_dup dup, const char **error_r);
void conf_array_append(struct conf_obj *arr, struct conf_obj *elem);

/* Emitters. */
void conf_emit_json(const struct conf_obj *obj, struct buf *out, bool pretty);
/* The same with every secret replaced by "<hidden>": values of keys that
 * contain "password" or "secret", and strings holding a private key (the
 * controller's read-only configuration view). */
void conf_emit_json_redacted(const struct conf_obj *obj, struct buf *out, bool pretty);
void conf_emit_ucl(const struct conf_obj *obj, struct buf *out);

#endif
