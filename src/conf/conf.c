/*
 * The configuration object model: nodes, variables, lookups, typed getters
 * and the insertion rule that gives UCL its layering (priorities and the
 * duplicate policies of .include).  Everything lives in the caller's arena;
 * nothing here frees.  Objects keep their members in definition order (the
 * order configdump prints) and get a hash index once they grow, so a file
 * with many keys is not parsed in quadratic time.  Refuses nothing itself:
 * the parser and settings decide what is valid.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf_private.h"
#include "core/arena.h"

#define INDEX_MIN_MEMBERS 8

struct conf_index {
    struct conf_obj **slots;
    size_t cap;                  /* power of two */
    size_t n;
};

struct conf_var {
    const char *name, *value;
    struct conf_var *next;
};

struct conf_vars {
    struct arena *arena;
    struct conf_var *head;
};

struct conf_vars *conf_vars_new(struct arena *arena)
{
    struct conf_vars *vars = ARENA_NEW(arena, struct conf_vars);
    vars->arena = arena;
    return vars;
}

void conf_vars_set(struct conf_vars *vars, const char *name, const char *value)
{
    for (struct conf_var *v = vars->head; v != NULL; v = v->next) {
        if (strcmp(v->name, name) == 0) {
            v->value = arena_strdup(vars->arena, value);
            return;
        }
    }
    struct conf_var *v = ARENA_NEW(vars->arena, struct conf_var);
    v->name = arena_strdup(vars->arena, name);
    v->value = arena_strdup(vars->arena, value);
    v->next = vars->head;
    vars->head = v;
}

const char *conf_vars_get(const struct conf_vars *vars, const char *name)
{
    for (const struct conf_var *v = vars ? vars->head : NULL; v != NULL; v = v->next)
        if (strcmp(v->name, name) == 0)
            return v->value;
    return NULL;
}

/* The longest variable whose name starts [p, p+len) (libucl matches $NAME
 * as a prefix: "$CONFDIRx" is CONFDIR followed by "x"); exact when strict. */
static const struct conf_var *vars_match(const struct conf_vars *vars, const char *p, size_t len,
                                         bool strict)
{
    const struct conf_var *best = NULL;
    size_t bestlen = 0;
    for (const struct conf_var *v = vars ? vars->head : NULL; v != NULL; v = v->next) {
        size_t n = strlen(v->name);
        if (n == 0 || n > len || (strict && n != len) || memcmp(p, v->name, n) != 0)
            continue;
        if (n > bestlen) {
            best = v;
            bestlen = n;
        }
    }
    return best;
}

/* One '$' at p[0]: appends its expansion to out, or only counts its length
 * in *olen when out is NULL, and returns the bytes consumed; *found_r tells
 * whether a variable matched. */
static size_t expand_one(const struct conf_vars *vars, const char *p, size_t len, char *out,
                         size_t *olen, bool *found_r)
{
    const struct conf_var *v = NULL;
    size_t used = 1;
    if (len >= 2 && p[1] == '$') {
        /* "$$" is an escaped '$', as in libucl (which applies it only when the
         * string also holds a real variable; untouched strings are copied). */
        if (out != NULL)
            out[*olen] = '$';
        (*olen)++;
        return 2;
    }
    if (len >= 2 && p[1] == '{') {
        const char *close = memchr(p + 2, '}', len - 2);
        if (close != NULL && (v = vars_match(vars, p + 2, (size_t)(close - p - 2), true)) != NULL)
            used = (size_t)(close - p) + 1;
    } else {
        v = vars_match(vars, p + 1, len - 1, false);
        if (v != NULL)
            used = 1 + strlen(v->name);
    }
    if (v == NULL) {
        if (out != NULL)
            out[*olen] = '$';
        (*olen)++;
        return 1;
    }
    *found_r = true;
    size_t n = strlen(v->value);
    if (out != NULL)
        memcpy(out + *olen, v->value, n);
    *olen += n;
    return used;
}

char *conf_expand_vars(struct arena *arena, const struct conf_vars *vars, const char *p,
                       size_t len, size_t *len_r)
{
    bool found = false;
    size_t need = 0, olen = 0;
    for (size_t i = 0; i < len;) {
        if (p[i] == '$') {
            i += expand_one(vars, p + i, len - i, NULL, &need, &found);
        } else {
            i++;
            need++;
        }
    }
    if (!found) {
        *len_r = len;
        return arena_strndup(arena, p, len);
    }
    char *out = arena_alloc(arena, need + 1);
    for (size_t i = 0; i < len;) {
        if (p[i] == '$')
            i += expand_one(vars, p + i, len - i, out, &olen, &found);
        else
            out[olen++] = p[i++];
    }
    out[olen] = '\0';
    *len_r = olen;
    return out;
}

/* ---- nodes ---- */

struct conf_obj *conf_new(struct arena *arena, enum conf_type type)
{
    struct conf_obj *o = ARENA_NEW(arena, struct conf_obj);
    o->type = type;
    o->arena = arena;
    return o;
}

struct conf_obj *conf_new_string(struct arena *arena, const char *s, size_t len)
{
    struct conf_obj *o = conf_new(arena, CONF_STRING);
    o->v.str.s = arena_strndup(arena, s, len);
    o->v.str.len = len;
    return o;
}

void conf_array_append(struct conf_obj *arr, struct conf_obj *elem)
{
    elem->next = NULL;
    if (arr->v.list.tail != NULL)
        arr->v.list.tail->next = elem;
    else
        arr->v.list.head = elem;
    arr->v.list.tail = elem;
    arr->v.list.n++;
}

static uint64_t key_hash(const char *k, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static bool key_eq(const struct conf_obj *o, const char *key, size_t len)
{
    return o->key != NULL && o->keylen == len && memcmp(o->key, key, len) == 0;
}

static void index_put(struct conf_index *ix, struct conf_obj *o)
{
    size_t mask = ix->cap - 1, i = key_hash(o->key, o->keylen) & mask;
    while (ix->slots[i] != NULL)
        i = (i + 1) & mask;
    ix->slots[i] = o;
    ix->n++;
}

static void index_rebuild(struct arena *arena, struct conf_obj *obj)
{
    struct conf_index *ix = obj->index ? obj->index : ARENA_NEW(arena, struct conf_index);
    size_t cap = 16;
    while (cap < obj->v.list.n * 2 + 2)
        cap *= 2;
    ix->slots = ARENA_NEW_N(arena, struct conf_obj *, cap);
    ix->cap = cap;
    ix->n = 0;
    for (struct conf_obj *m = obj->v.list.head; m != NULL; m = m->next)
        index_put(ix, m);
    obj->index = ix;
}

static struct conf_obj *obj_find(const struct conf_obj *obj, const char *key, size_t len)
{
    if (obj == NULL || obj->type != CONF_OBJECT)
        return NULL;
    const struct conf_index *ix = obj->index;
    if (ix != NULL && ix->n == obj->v.list.n) {
        size_t mask = ix->cap - 1, i = key_hash(key, len) & mask;
        for (; ix->slots[i] != NULL; i = (i + 1) & mask)
            if (key_eq(ix->slots[i], key, len))
                return ix->slots[i];
        return NULL;
    }
    for (struct conf_obj *m = obj->v.list.head; m != NULL; m = m->next)
        if (key_eq(m, key, len))
            return m;
    return NULL;
}

static void obj_add(struct arena *arena, struct conf_obj *obj, struct conf_obj *child)
{
    conf_array_append(obj, child);
    if (obj->index != NULL && obj->index->n + 1 == obj->v.list.n &&
        (obj->index->n + 1) * 2 < obj->index->cap)
        index_put(obj->index, child);
    else if (obj->v.list.n >= INDEX_MIN_MEMBERS)
        index_rebuild(arena, obj);
}

/* Replaces old by new in place, so the member keeps its position and the
 * index stays valid. */
static void replace_in_place(struct conf_obj *old, const struct conf_obj *nw)
{
    const char *key = old->key;
    size_t keylen = old->keylen;
    struct conf_obj *next = old->next;
    *old = *nw;
    old->key = key;
    old->keylen = keylen;
    old->next = next;
}

static void append_implicit(struct arena *arena, struct conf_obj *old, struct conf_obj *nw)
{
    if (!old->implicit) {
        struct conf_obj *first = conf_new(arena, CONF_NULL);
        *first = *old;
        first->next = NULL;
        memset(&old->v, 0, sizeof(old->v));
        old->type = CONF_ARRAY;
        old->implicit = true;
        old->index = NULL;
        conf_array_append(old, first);
    }
    if (nw->implicit) {
        struct conf_obj *e = nw->v.list.head, *next;
        for (; e != NULL; e = next) {
            next = e->next;
            e->key = old->key;
            e->keylen = old->keylen;
            conf_array_append(old, e);
        }
    } else {
        nw->key = old->key;
        nw->keylen = old->keylen;
        conf_array_append(old, nw);
    }
}

static int merge_into(struct arena *arena, struct conf_obj *old, struct conf_obj *nw,
                      const char **error_r)
{
    if (old->type == CONF_OBJECT && !old->implicit && nw->type == CONF_OBJECT && !nw->implicit) {
        struct conf_obj *m = nw->v.list.head, *next;
        for (; m != NULL; m = next) {
            next = m->next;
            m->next = NULL;
            if (conf_obj_insert(arena, old, m->key, m->keylen, m, CONF_DUP_MERGE, error_r) < 0)
                return -1;
        }
        return 1;
    }
    if (old->type == CONF_ARRAY && !old->implicit && nw->type == CONF_ARRAY && !nw->implicit) {
        /* libucl concatenates arrays under duplicate=merge. */
        struct conf_obj *e = nw->v.list.head, *next;
        for (; e != NULL; e = next) {
            next = e->next;
            conf_array_append(old, e);
        }
        return 1;
    }
    return 0;
}

int conf_obj_insert(struct arena *arena, struct conf_obj *obj, const char *key, size_t keylen,
                    struct conf_obj *child, enum conf_dup dup, const char **error_r)
{
    struct conf_obj *old = obj_find(obj, key, keylen);
    if (child->arena == NULL)
        child->arena = arena;
    if (old == NULL) {
        child->key = arena_strndup(arena, key, keylen);
        child->keylen = keylen;
        if (child->implicit)
            for (struct conf_obj *e = child->v.list.head; e != NULL; e = e->next) {
                e->key = child->key;
                e->keylen = keylen;
            }
        obj_add(arena, obj, child);
        return 0;
    }
    switch (dup) {
    case CONF_DUP_REWRITE:
        replace_in_place(old, child);
        return 0;
    case CONF_DUP_ERROR:
        *error_r = arena_printf(arena, "duplicate element for key '%.*s' found", (int)keylen, key);
        return -1;
    case CONF_DUP_MERGE: {
        int r = merge_into(arena, old, child, error_r);
        if (r != 0)
            return r < 0 ? -1 : 0;
        break;
    }
    case CONF_DUP_APPEND:
        break;
    }
    if (child->priority == old->priority)
        append_implicit(arena, old, child);
    else if (child->priority > old->priority)
        replace_in_place(old, child);
    return 0;
}

/* ---- lookups ---- */

const struct conf_obj *conf_get(const struct conf_obj *obj, const char *key)
{
    return key ? obj_find(obj, key, strlen(key)) : NULL;
}

const struct conf_obj *conf_get_path(const struct conf_obj *obj, const char *path)
{
    const char *p = path;
    while (obj != NULL) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        obj = obj_find(conf_first(obj), p, n);
        if (dot == NULL)
            return obj;
        p = dot + 1;
    }
    return NULL;
}

const struct conf_obj *conf_first(const struct conf_obj *v)
{
    if (v != NULL && v->type == CONF_ARRAY && v->implicit)
        return v->v.list.head;
    return v;
}

const struct conf_obj *conf_each_first(const struct conf_obj *v)
{
    if (v == NULL)
        return NULL;
    if (v->type == CONF_ARRAY)
        return v->v.list.head;
    return v;
}

const struct conf_obj *conf_each_next(const struct conf_obj *v, const struct conf_obj *cur)
{
    if (v == NULL || cur == NULL || v->type != CONF_ARRAY)
        return NULL;
    return cur->next;
}

/* ---- converters and typed getters ---- */

bool conf_as_bool(const struct conf_obj *v, bool *b_r)
{
    v = conf_first(v);
    if (v == NULL)
        return false;
    if (v->type == CONF_BOOL) {
        *b_r = v->v.b;
        return true;
    }
    if (v->type == CONF_INT) {
        *b_r = v->v.i != 0;
        return true;
    }
    if (v->type != CONF_STRING)
        return false;
    static const struct { const char *w; bool b; } words[] = {
        {"true", true}, {"yes", true}, {"on", true},
        {"false", false}, {"no", false}, {"off", false},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i].w) == v->v.str.len &&
            strncasecmp(words[i].w, v->v.str.s, v->v.str.len) == 0) {
            *b_r = words[i].b;
            return true;
        }
    }
    return false;
}

/* A whole string as a UCL number ("10s", "1.5", "50mb"). */
static bool string_number(const struct conf_obj *v, bool bytes, double *d_r)
{
    enum conf_type t;
    int64_t i;
    double d;
    size_t used;
    const char *p = v->v.str.s, *end = p + v->v.str.len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end || conf_number_scan(p, end, bytes, &t, &i, &d, &used) != 1 || used != (size_t)(end - p))
        return false;
    *d_r = t == CONF_INT ? (double)i : d;
    return true;
}

bool conf_as_double(const struct conf_obj *v, double *d_r)
{
    v = conf_first(v);
    if (v == NULL)
        return false;
    switch (v->type) {
    case CONF_INT:
        *d_r = (double)v->v.i;
        return true;
    case CONF_FLOAT:
    case CONF_TIME:
        *d_r = v->v.d;
        return true;
    case CONF_STRING:
        return string_number(v, false, d_r);
    default:
        return false;
    }
}

const char *conf_as_string(const struct conf_obj *v)
{
    v = conf_first(v);
    return v != NULL && v->type == CONF_STRING ? v->v.str.s : NULL;
}

static int type_error(const struct conf_obj *v, const char *key, const char *what,
                      const char **error_r)
{
    if (error_r != NULL)
        *error_r = arena_printf(v->arena, "%s:%u: %s: expected %s", v->file ? v->file : "(config)",
                                v->line, key, what);
    return -1;
}

int conf_get_bool(const struct conf_obj *obj, const char *key, bool def, bool *v_r,
                  const char **error_r)
{
    const struct conf_obj *v = conf_first(conf_get(obj, key));
    *v_r = def;
    if (v == NULL)
        return 0;
    if (!conf_as_bool(v, v_r)) {
        *v_r = def;
        return type_error(v, key, "a boolean (true/false, yes/no, on/off)", error_r);
    }
    return 0;
}

int conf_get_double(const struct conf_obj *obj, const char *key, double def, double *v_r,
                    const char **error_r)
{
    const struct conf_obj *v = conf_first(conf_get(obj, key));
    *v_r = def;
    if (v == NULL)
        return 0;
    if (!conf_as_double(v, v_r) || isnan(*v_r)) {
        *v_r = def;
        return type_error(v, key, "a number", error_r);
    }
    return 0;
}

int conf_get_int(const struct conf_obj *obj, const char *key, int64_t def, int64_t *v_r,
                 const char **error_r)
{
    const struct conf_obj *v = conf_first(conf_get(obj, key));
    double d;
    *v_r = def;
    if (v == NULL)
        return 0;
    if (v->type == CONF_INT) {
        *v_r = v->v.i;
        return 0;
    }
    if (!conf_as_double(v, &d) || d != floor(d) || d < -9.2e18 || d > 9.2e18)
        return type_error(v, key, "an integer", error_r);
    *v_r = (int64_t)d;
    return 0;
}

int conf_get_time(const struct conf_obj *obj, const char *key, double def, double *v_r,
                  const char **error_r)
{
    const struct conf_obj *v = conf_first(conf_get(obj, key));
    *v_r = def;
    if (v == NULL)
        return 0;
    if (!conf_as_double(v, v_r) || isnan(*v_r) || *v_r < 0) {
        *v_r = def;
        return type_error(v, key, "a time (e.g. 10, 1.5s, 500ms, 5min, 1h, 1d)", error_r);
    }
    return 0;
}

int conf_get_size(const struct conf_obj *obj, const char *key, uint64_t def, uint64_t *v_r,
                  const char **error_r)
{
    const struct conf_obj *v = conf_first(conf_get(obj, key));
    double d;
    *v_r = def;
    if (v == NULL)
        return 0;
    if (v->type == CONF_INT && v->v.i >= 0) {
        *v_r = (uint64_t)v->v.i;
        return 0;
    }
    bool ok = v->type == CONF_STRING ? string_number(v, true, &d)
                                     : (v->type == CONF_FLOAT && conf_as_double(v, &d));
    if (!ok || d < 0 || d >= 1.8e19)
        return type_error(v, key, "a size (e.g. 65536, 64k, 50mb)", error_r);
    *v_r = (uint64_t)d;
    return 0;
}

int conf_get_string(const struct conf_obj *obj, const char *key, const char *def,
                    const char **v_r, const char **error_r)
{
    const struct conf_obj *v = conf_first(conf_get(obj, key));
    *v_r = def;
    if (v == NULL)
        return 0;
    switch (v->type) {
    case CONF_STRING:
        *v_r = v->v.str.s;
        return 0;
    case CONF_INT:
        /* `db = 0;` where a string is meant: UCL does not distinguish. */
        *v_r = arena_printf(v->arena, "%" PRId64, v->v.i);
        return 0;
    case CONF_FLOAT:
    case CONF_TIME:
        *v_r = arena_printf(v->arena, "%g", v->v.d);
        return 0;
    default:
        return type_error(v, key, "a string", error_r);
    }
}
