/*
 * jsonparse: the JSON reader of winnowc.
 *
 * Parses a server reply (untrusted: it comes over the network) into a jv
 * tree allocated in one arena.  Every read checks the cursor against the end;
 * nesting is limited to JV_MAX_DEPTH so a hostile reply cannot exhaust the
 * stack.  Strings are decoded (escapes, \u surrogate pairs to UTF-8); raw
 * bytes >= 0x80 are copied as they are.  Refuses trailing garbage, control
 * characters inside strings, leading zeros and bare words other than
 * true/false/null.  It does not validate UTF-8: winnowc only prints it.
 */
#include "core/jsonparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

struct jp {
    struct arena *arena;
    const char *p, *end, *start;
    const char *error;
};

static struct jv *jp_value(struct jp *jp, unsigned depth);

static int jp_fail(struct jp *jp, const char *what)
{
    if (jp->error == NULL)
        jp->error = arena_printf(jp->arena, "offset %zu: %s", (size_t)(jp->p - jp->start), what);
    return -1;
}

static void jp_ws(struct jp *jp)
{
    while (jp->p < jp->end &&
           (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static int jp_hex4(struct jp *jp, unsigned *v_r)
{
    unsigned v = 0;

    if (jp->end - jp->p < 4)
        return jp_fail(jp, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = jp->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return jp_fail(jp, "bad \\u escape");
    }
    jp->p += 4;
    *v_r = v;
    return 0;
}

static size_t utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* \uXXXX, possibly a surrogate pair; lone surrogates become U+FFFD. */
static int jp_unicode(struct jp *jp, char *out, size_t *olen)
{
    unsigned cp, lo;

    if (jp_hex4(jp, &cp) < 0)
        return -1;
    if (cp >= 0xd800 && cp < 0xdc00 && jp->end - jp->p >= 6 && jp->p[0] == '\\' &&
        jp->p[1] == 'u') {
        const char *save = jp->p;
        jp->p += 2;
        if (jp_hex4(jp, &lo) < 0)
            return -1;
        if (lo >= 0xdc00 && lo < 0xe000)
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        else
            jp->p = save;
    }
    if (cp >= 0xd800 && cp < 0xe000)
        cp = 0xfffd;
    *olen += utf8_put(out + *olen, cp);
    return 0;
}

static int jp_escape(struct jp *jp, char *out, size_t *olen)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit;

    if (jp->p >= jp->end)
        return jp_fail(jp, "truncated escape");
    if (*jp->p == 'u') {
        jp->p++;
        return jp_unicode(jp, out, olen);
    }
    hit = memchr(from, *jp->p, sizeof(from) - 1);
    if (hit == NULL)
        return jp_fail(jp, "bad escape");
    out[(*olen)++] = to[hit - from];
    jp->p++;
    return 0;
}

/* Decodes a string at the opening quote.  The decoded form is never longer
 * than the encoded one (\uXXXX: 6 bytes in, at most 3 out; a pair: 12 in, 4
 * out), so the output is sized by the encoded span. */
static int jp_string(struct jp *jp, const char **s_r, size_t *len_r)
{
    const char *q;
    char *out;
    size_t olen = 0;

    jp->p++;
    for (q = jp->p; q < jp->end && *q != '"'; q++)
        if (*q == '\\')
            q++;
    if (q >= jp->end)
        return jp_fail(jp, "unterminated string");
    out = arena_alloc(jp->arena, (size_t)(q - jp->p) + 1);
    while (jp->p < jp->end && *jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        if (c < 0x20)
            return jp_fail(jp, "control character in string");
        if (c == '\\') {
            jp->p++;
            if (jp_escape(jp, out, &olen) < 0)
                return -1;
            continue;
        }
        out[olen++] = (char)c;
        jp->p++;
    }
    if (jp->p >= jp->end)
        return jp_fail(jp, "unterminated string");
    jp->p++;
    out[olen] = '\0';
    *s_r = out;
    *len_r = olen;
    return 0;
}

static size_t jp_digits(struct jp *jp)
{
    size_t n = 0;
    while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9') {
        jp->p++;
        n++;
    }
    return n;
}

static int jp_number(struct jp *jp, struct jv *v)
{
    const char *start = jp->p;
    size_t n;

    if (jp->p < jp->end && *jp->p == '-')
        jp->p++;
    if (jp->p < jp->end && *jp->p == '0')
        jp->p++;
    else if (jp_digits(jp) == 0)
        return jp_fail(jp, "bad number");
    if (jp->p < jp->end && *jp->p == '.') {
        jp->p++;
        if (jp_digits(jp) == 0)
            return jp_fail(jp, "bad number");
    }
    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        jp->p++;
        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
            jp->p++;
        if (jp_digits(jp) == 0)
            return jp_fail(jp, "bad number");
    }
    n = (size_t)(jp->p - start);
    v->type = JV_NUM;
    v->s = arena_strndup(jp->arena, start, n);  /* NUL-terminated copy for strtod */
    v->len = n;
    v->num = strtod(v->s, NULL);
    return 0;
}

static int jp_word(struct jp *jp, struct jv *v)
{
    static const struct {
        const char *w;
        enum jv_type t;
        bool b;
    } words[] = {{"true", JV_BOOL, true}, {"false", JV_BOOL, false}, {"null", JV_NULL, false}};

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i].w);
        if ((size_t)(jp->end - jp->p) >= n && memcmp(jp->p, words[i].w, n) == 0) {
            jp->p += n;
            v->type = words[i].t;
            v->b = words[i].b;
            return 0;
        }
    }
    return jp_fail(jp, "unexpected character");
}

static void jv_append(struct jv *parent, struct jv *child)
{
    if (parent->tail != NULL)
        parent->tail->next = child;
    else
        parent->head = child;
    parent->tail = child;
    parent->n++;
}

/* Parses the members or elements after the opening bracket. */
static int jp_container(struct jp *jp, struct jv *v, unsigned depth)
{
    bool obj = *jp->p == '{';
    char close = obj ? '}' : ']';

    v->type = obj ? JV_OBJ : JV_ARR;
    jp->p++;
    jp_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        size_t keylen = 0;
        struct jv *child;

        jp_ws(jp);
        if (obj) {
            if (jp->p >= jp->end || *jp->p != '"')
                return jp_fail(jp, "expected member name");
            if (jp_string(jp, &key, &keylen) < 0)
                return -1;
            jp_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':')
                return jp_fail(jp, "expected ':'");
            jp->p++;
        }
        child = jp_value(jp, depth + 1);
        if (child == NULL)
            return -1;
        child->key = key;
        child->keylen = keylen;
        jv_append(v, child);
        jp_ws(jp);
        if (jp->p >= jp->end)
            return jp_fail(jp, "unterminated container");
        if (*jp->p == close) {
            jp->p++;
            return 0;
        }
        if (*jp->p != ',')
            return jp_fail(jp, "expected ',' or end of container");
        jp->p++;
    }
}

static struct jv *jp_value(struct jp *jp, unsigned depth)
{
    struct jv *v;
    int rc;

    if (depth > JV_MAX_DEPTH) {
        jp_fail(jp, "nesting too deep");
        return NULL;
    }
    jp_ws(jp);
    if (jp->p >= jp->end) {
        jp_fail(jp, "unexpected end of input");
        return NULL;
    }
    v = ARENA_NEW(jp->arena, struct jv);
    switch (*jp->p) {
    case '{':
    case '[':
        rc = jp_container(jp, v, depth);
        break;
    case '"':
        v->type = JV_STR;
        rc = jp_string(jp, &v->s, &v->len);
        break;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        rc = jp_number(jp, v);
        break;
    default:
        rc = jp_word(jp, v);
        break;
    }
    return rc < 0 ? NULL : v;
}

struct jv *jv_parse(struct arena *arena, const char *p, size_t len, const char **error_r)
{
    struct jp jp = {arena, p, p + len, p, NULL};
    struct jv *v = jp_value(&jp, 0);

    if (v != NULL) {
        jp_ws(&jp);
        if (jp.p != jp.end) {
            jp_fail(&jp, "trailing data after JSON value");
            v = NULL;
        }
    }
    if (v == NULL)
        *error_r = jp.error;
    return v;
}

const struct jv *jv_get(const struct jv *obj, const char *key)
{
    size_t klen;

    if (obj == NULL || obj->type != JV_OBJ)
        return NULL;
    klen = strlen(key);
    for (const struct jv *m = obj->head; m != NULL; m = m->next)
        if (m->keylen == klen && memcmp(m->key, key, klen) == 0)
            return m;
    return NULL;
}

const char *jv_str(const struct jv *v)
{
    return v != NULL && v->type == JV_STR ? v->s : NULL;
}

bool jv_num(const struct jv *v, double *d_r)
{
    if (v == NULL || v->type != JV_NUM)
        return false;
    *d_r = v->num;
    return true;
}
