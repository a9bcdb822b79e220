#ifndef WINNOW_CORE_JSON_H
#define WINNOW_CORE_JSON_H
/*
 * Minimal streaming JSON writer on a struct buf.  The caller writes the
 * structure in order; the writer inserts commas and escapes strings (bytes
 * that are not valid UTF-8 are replaced by U+FFFD so the output always
 * parses).  Numbers use the shortest form that round-trips enough for scores
 * (%.17g trimmed), integers are exact.  With pretty = true it indents by two.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define JSON_MAX_DEPTH 64

struct json_writer {
    struct buf *out;
    bool pretty;
    int depth;
    bool need_comma[JSON_MAX_DEPTH];
    bool after_key;
};

void json_init(struct json_writer *w, struct buf *out, bool pretty);
void json_obj_begin(struct json_writer *w);
void json_obj_end(struct json_writer *w);
void json_arr_begin(struct json_writer *w);
void json_arr_end(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_keyn(struct json_writer *w, const char *key, size_t len);
void json_str(struct json_writer *w, const char *s);             /* NULL => null */
void json_strn(struct json_writer *w, const char *s, size_t len);
void json_int(struct json_writer *w, int64_t v);
void json_double(struct json_writer *w, double v);              /* NaN/inf => 0 */
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* Raw, already-encoded JSON value. */
void json_raw(struct json_writer *w, const char *s, size_t len);

/* Appends s escaped as a JSON string (with the quotes) to b. */
void json_escape(struct buf *b, const char *s, size_t len);

#endif
