/*
 * Emitters for the configuration object model: JSON (compact or pretty,
 * implicit arrays as JSON arrays) and UCL in the style of `rspamadm
 * configdump` (`key = value;`, `key {` blocks indented by four spaces,
 * strings double-quoted, implicit arrays as repeated keys, explicit arrays as
 * `key [ ... ]`).  Appends to a caller's buf; owns nothing.  Recursion is
 * bounded by the parser's depth limit on any tree the parser built.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "core/json.h"

static void indent(struct buf *out, int level, int width)
{
    for (int i = 0; i < level * width; i++)
        buf_putc(out, ' ');
}

/* Integral values keep one decimal ("6.0") as libucl prints them; others
 * get the shortest form that reads back the same. */
static void emit_double(struct buf *out, double d)
{
    char tmp[64];
    if (!isfinite(d)) {
        buf_puts(out, isnan(d) ? "null" : (d > 0 ? "1e999" : "-1e999"));
        return;
    }
    if (d == floor(d) && fabs(d) < 1e15) {
        buf_printf(out, "%.1f", d);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    buf_puts(out, tmp);
}

static void emit_scalar(const struct conf_obj *o, struct buf *out)
{
    switch (o->type) {
    case CONF_NULL: buf_puts(out, "null"); break;
    case CONF_BOOL: buf_puts(out, o->v.b ? "true" : "false"); break;
    case CONF_INT: buf_printf(out, "%" PRId64, o->v.i); break;
    case CONF_FLOAT:
    case CONF_TIME: emit_double(out, o->v.d); break;
    case CONF_STRING: json_escape(out, o->v.str.s ? o->v.str.s : "", o->v.str.len); break;
    default: break;
    }
}

struct json_opts {
    bool pretty;
    bool redact;                 /* secrets become "<hidden>" */
};

static void json_value(const struct conf_obj *o, struct buf *out, const struct json_opts *jo,
                       int level);

static bool key_has(const struct conf_obj *o, const char *word)
{
    size_t wl = strlen(word);
    for (size_t i = 0; o->key != NULL && i + wl <= o->keylen; i++)
        if (strncasecmp(o->key + i, word, wl) == 0)
            return true;
    return false;
}

/* A value a reader of the configuration must not see: passwords (hashes
 * included: they can be attacked offline), secrets, inline private keys. */
static bool is_secret(const struct conf_obj *o)
{
    if (key_has(o, "password") || key_has(o, "secret"))
        return true;
    return o->type == CONF_STRING && o->v.str.s != NULL &&
           memmem(o->v.str.s, o->v.str.len, "PRIVATE KEY", 11) != NULL;
}

static void json_members(const struct conf_obj *o, struct buf *out, const struct json_opts *jo,
                         int level, bool object)
{
    bool pretty = jo->pretty;
    bool first = true;
    buf_putc(out, object ? '{' : '[');
    for (const struct conf_obj *m = o->v.list.head; m != NULL; m = m->next) {
        if (!first)
            buf_putc(out, ',');
        first = false;
        if (pretty) {
            buf_putc(out, '\n');
            indent(out, level + 1, 2);
        }
        if (object) {
            json_escape(out, m->key ? m->key : "", m->keylen);
            buf_puts(out, pretty ? ": " : ":");
        }
        if (jo->redact && is_secret(m))
            buf_puts(out, "\"<hidden>\"");
        else
            json_value(m, out, jo, level + 1);
    }
    if (pretty && !first) {
        buf_putc(out, '\n');
        indent(out, level, 2);
    }
    buf_putc(out, object ? '}' : ']');
}

static void json_value(const struct conf_obj *o, struct buf *out, const struct json_opts *jo,
                       int level)
{
    if (o->type == CONF_OBJECT || o->type == CONF_ARRAY)
        json_members(o, out, jo, level, o->type == CONF_OBJECT);
    else
        emit_scalar(o, out);
}

void conf_emit_json(const struct conf_obj *obj, struct buf *out, bool pretty)
{
    if (obj == NULL) {
        buf_puts(out, "null");
        return;
    }
    struct json_opts jo = {.pretty = pretty};
    json_value(obj, out, &jo, 0);
    if (pretty)
        buf_putc(out, '\n');
}

void conf_emit_json_redacted(const struct conf_obj *obj, struct buf *out, bool pretty)
{
    struct json_opts jo = {.pretty = pretty, .redact = true};
    if (obj == NULL) {
        buf_puts(out, "null");
        return;
    }
    json_value(obj, out, &jo, 0);
    if (pretty)
        buf_putc(out, '\n');
}

/* ---- UCL ---- */

static bool key_is_bare(const char *k, size_t len)
{
    if (len == 0 || k[0] == '.' || k[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static void ucl_key(const struct conf_obj *o, struct buf *out)
{
    if (key_is_bare(o->key, o->keylen))
        buf_append(out, o->key, o->keylen);
    else
        json_escape(out, o->key ? o->key : "", o->keylen);
}

static void ucl_value(const struct conf_obj *o, struct buf *out, int level);

static void ucl_object_body(const struct conf_obj *o, struct buf *out, int level);

static void ucl_array_body(const struct conf_obj *o, struct buf *out, int level)
{
    buf_puts(out, "[\n");
    for (const struct conf_obj *e = o->v.list.head; e != NULL; e = e->next) {
        indent(out, level + 1, 4);
        ucl_value(e, out, level + 1);
        buf_puts(out, ",\n");
    }
    indent(out, level, 4);
    buf_putc(out, ']');
}

static void ucl_value(const struct conf_obj *o, struct buf *out, int level)
{
    if (o->type == CONF_OBJECT) {
        buf_puts(out, "{\n");
        ucl_object_body(o, out, level + 1);
        indent(out, level, 4);
        buf_putc(out, '}');
    } else if (o->type == CONF_ARRAY) {
        ucl_array_body(o, out, level);
    } else {
        emit_scalar(o, out);
    }
}

/* One `key = value;` or `key { ... }` line for a single (non-implicit) value. */
static void ucl_member(const struct conf_obj *key_of, const struct conf_obj *v, struct buf *out,
                       int level)
{
    indent(out, level, 4);
    ucl_key(key_of, out);
    if (v->type == CONF_OBJECT || v->type == CONF_ARRAY) {
        buf_putc(out, ' ');
        ucl_value(v, out, level);
        buf_putc(out, '\n');
    } else {
        buf_puts(out, " = ");
        emit_scalar(v, out);
        buf_puts(out, ";\n");
    }
}

static void ucl_object_body(const struct conf_obj *o, struct buf *out, int level)
{
    for (const struct conf_obj *m = o->v.list.head; m != NULL; m = m->next) {
        if (m->type == CONF_ARRAY && m->implicit) {
            for (const struct conf_obj *e = m->v.list.head; e != NULL; e = e->next)
                ucl_member(m, e, out, level);
        } else {
            ucl_member(m, m, out, level);
        }
    }
}

void conf_emit_ucl(const struct conf_obj *obj, struct buf *out)
{
    if (obj == NULL)
        return;
    if (obj->type == CONF_OBJECT) {
        ucl_object_body(obj, out, 0);
    } else if (obj->type == CONF_ARRAY && obj->implicit) {
        /* A section given by several blocks (worker): each with its key. */
        for (const struct conf_obj *e = obj->v.list.head; e != NULL; e = e->next)
            ucl_member(e, e, out, 0);
    } else {
        ucl_value(obj, out, 0);
        buf_putc(out, '\n');
    }
}
