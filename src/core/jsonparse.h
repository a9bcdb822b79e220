#ifndef WINNOW_CORE_JSONPARSE_H
#define WINNOW_CORE_JSONPARSE_H
/*
 * A small length-checked JSON reader for what our clients read from a
 * server: winnowc's and winnowadm's replies, the milter proxy's upstream
 * scan replies.  The tree lives in the caller's arena.  Numbers keep their raw text
 * as well as their value, so the reply can be re-emitted as the server wrote
 * it.  Object members keep their order (rspamc prints messages in reply order).
 */
#include <stdbool.h>
#include <stddef.h>

struct arena;

enum jv_type { JV_NULL = 0, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
    enum jv_type type;
    const char *key;             /* member name (decoded, NUL-terminated) or NULL */
    size_t keylen;
    struct jv *next;             /* next member / element */
    struct jv *head, *tail;      /* JV_ARR, JV_OBJ */
    size_t n;
    const char *s;               /* JV_STR: decoded; JV_NUM: raw text (NUL-terminated) */
    size_t len;
    double num;
    bool b;
};

#define JV_MAX_DEPTH 64

/* Parses exactly one JSON value (surrounding whitespace allowed) from
 * [p, p+len).  NULL with *error_r ("offset N: problem") on bad input. */
struct jv *jv_parse(struct arena *arena, const char *p, size_t len, const char **error_r);

/* Member lookup (first match), NULL when obj is not an object or lacks key. */
const struct jv *jv_get(const struct jv *obj, const char *key);
/* NULL unless v is a string. */
const char *jv_str(const struct jv *v);
/* false unless v is a number. */
bool jv_num(const struct jv *v, double *d_r);

#endif
