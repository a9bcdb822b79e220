/*
 * UCL tokens: blanks and comments (#, nested C comments), double-quoted
 * (JSON escapes, $VAR expansion), single-quoted (no expansion) and heredoc
 * strings, unquoted keys and atoms (numbers with libucl's suffixes, booleans,
 * null, bare strings).  Works on a (cursor, end) pair and never reads past
 * end; every byte consumed goes through lex_adv() so line and column stay
 * right.  Refuses raw control characters in quoted strings (as libucl does)
 * and anywhere between tokens.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_private.h"
#include "core/arena.h"

unsigned lex_col(const struct conf_lexer *lx)
{
    return (unsigned)(lx->p - lx->line_start) + 1;
}

static int lex_verror(struct conf_lexer *lx, unsigned line, unsigned col, const char *fmt,
                      va_list ap) __attribute__((format(printf, 4, 0)));

static int lex_verror(struct conf_lexer *lx, unsigned line, unsigned col, const char *fmt,
                      va_list ap)
{
    char *msg = arena_vprintf(lx->arena, fmt, ap);
    if (lx->error == NULL)
        lx->error = arena_printf(lx->arena, "%s:%u:%u: %s", lx->name, line, col, msg);
    return -1;
}

int lex_error(struct conf_lexer *lx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lex_verror(lx, lx->line, lex_col(lx), fmt, ap);
    va_end(ap);
    return -1;
}

int lex_error_at(struct conf_lexer *lx, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lex_verror(lx, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

void lex_adv(struct conf_lexer *lx, size_t n)
{
    const char *stop = lx->p + n, *nl;
    while ((nl = memchr(lx->p, '\n', (size_t)(stop - lx->p))) != NULL) {
        lx->line++;
        lx->p = nl + 1;
        lx->line_start = lx->p;
    }
    lx->p = stop;
}

static bool at_comment(const struct conf_lexer *lx, const char *q)
{
    return q < lx->end && (*q == '#' || (*q == '/' && q + 1 < lx->end && q[1] == '*'));
}

/* The cursor is on a comment start. */
static int skip_comment(struct conf_lexer *lx)
{
    if (*lx->p == '#') {
        const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
        lex_adv(lx, nl ? (size_t)(nl - lx->p) : (size_t)(lx->end - lx->p));
        return 0;
    }
    unsigned line = lx->line, col = lex_col(lx), nest = 0;
    const char *q = lx->p;
    while (q < lx->end) {
        if (q + 1 < lx->end && q[0] == '/' && q[1] == '*') {
            nest++;
            q += 2;
        } else if (q + 1 < lx->end && q[0] == '*' && q[1] == '/') {
            q += 2;
            if (--nest == 0) {
                lex_adv(lx, (size_t)(q - lx->p));
                return 0;
            }
        } else {
            q++;
        }
    }
    return lex_error_at(lx, line, col, "unfinished multiline comment");
}

int lex_skip_space(struct conf_lexer *lx, bool *sep_r)
{
    while (lx->p < lx->end) {
        unsigned char c = (unsigned char)*lx->p;
        if (c == '\n') {
            if (sep_r != NULL)
                *sep_r = true;
            lex_adv(lx, 1);
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
            lex_adv(lx, 1);
        } else if (at_comment(lx, lx->p)) {
            if (sep_r != NULL)
                *sep_r = true;
            if (skip_comment(lx) < 0)
                return -1;
        } else if (c < 0x20 || c == 0x7f) {
            return lex_error(lx, "unexpected control character 0x%02x", c);
        } else {
            break;
        }
    }
    return 0;
}

/* libucl's VALUE_END class, plus the end of the chunk. */
bool lex_is_atom_end(const struct conf_lexer *lx, const char *q)
{
    if (q >= lx->end)
        return true;
    switch (*q) {
    case '\0': case '\n': case '\r': case '#': case ',': case ';': case ']': case '}':
        return true;
    default:
        return false;
    }
}

static void put_utf8(char *out, size_t *o, unsigned long cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xc0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xe0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static bool hex4(const char *p, const char *end, unsigned long *v_r)
{
    unsigned long v = 0;
    if (end - p < 4)
        return false;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i];
        if (!isxdigit(c))
            return false;
        v = v * 16 + (unsigned long)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
    }
    *v_r = v;
    return true;
}

/* JSON unescaping of [p, end) (already validated by the scanner, except in
 * atoms, where a bad \u is kept literally); output is never longer. */
static char *json_unescape(struct arena *arena, const char *p, const char *end, size_t *len_r)
{
    char *out = arena_alloc(arena, (size_t)(end - p) + 1);
    size_t o = 0;
    while (p < end) {
        if (*p != '\\' || p + 1 >= end) {
            out[o++] = *p++;
            continue;
        }
        char c = p[1];
        p += 2;
        switch (c) {
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'u': {
            unsigned long cp, lo;
            if (!hex4(p, end, &cp)) {
                out[o++] = 'u';
                break;
            }
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hex4(p + 2, end, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd;    /* lone surrogate */
            }
            put_utf8(out, &o, cp);   /* at most 4 bytes for 6+ bytes read */
            break;
        }
        default: out[o++] = c; break;    /* \" \\ \/ and unknown: the char */
        }
    }
    out[o] = '\0';
    *len_r = o;
    return out;
}

static char *finish_string(struct conf_lexer *lx, const char *p, const char *end, bool unescape,
                           bool expand, size_t *len_r)
{
    char *s;
    if (unescape)
        s = json_unescape(lx->arena, p, end, len_r);
    else {
        *len_r = (size_t)(end - p);
        s = arena_strndup(lx->arena, p, *len_r);
    }
    if (expand && lx->opts != NULL && lx->opts->vars != NULL && memchr(s, '$', *len_r) != NULL)
        s = conf_expand_vars(lx->arena, lx->opts->vars, s, *len_r, len_r);
    return s;
}

int lex_dquoted(struct conf_lexer *lx, bool expand, char **s_r, size_t *len_r)
{
    const char *q = lx->p + 1, *start = q;
    bool unescape = false;
    while (q < lx->end) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            lex_adv(lx, (size_t)(q - lx->p));
            *s_r = finish_string(lx, start, q, unescape, expand, len_r);
            lex_adv(lx, 1);
            return 0;
        }
        if (c < 0x1f) {
            lex_adv(lx, (size_t)(q - lx->p));
            return lex_error(lx, c == '\n' ? "unexpected newline in a string"
                                           : "unexpected control character in a string");
        }
        if (c == '\\') {
            unsigned long cp;
            if (q + 1 >= lx->end)
                break;
            if (q[1] == 'u' && !hex4(q + 2, lx->end, &cp)) {
                lex_adv(lx, (size_t)(q - lx->p));
                return lex_error(lx, "invalid \\u escape");
            }
            unescape = true;
            q += 2;
            continue;
        }
        q++;
    }
    return lex_error(lx, "no closing quote for this string");
}

int lex_squoted(struct conf_lexer *lx, char **s_r, size_t *len_r)
{
    const char *q = lx->p + 1, *start = q;
    while (q < lx->end && *q != '\'') {
        if (*q == '\\' && q + 1 < lx->end)
            q++;
        q++;
    }
    if (q >= lx->end)
        return lex_error(lx, "no closing quote for this string");
    /* \' is a quote and backslash-newline a line continuation; any other
     * backslash stays (libucl's ucl_unescape_squoted_string). */
    char *out = arena_alloc(lx->arena, (size_t)(q - start) + 1);
    size_t o = 0;
    for (const char *s = start; s < q; s++) {
        if (*s == '\\' && s + 1 < q && s[1] == '\'') {
            out[o++] = '\'';
            s++;
        } else if (*s == '\\' && s + 1 < q && s[1] == '\n') {
            s++;
        } else if (*s == '\\' && s + 2 < q && s[1] == '\r' && s[2] == '\n') {
            s += 2;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    *s_r = out;
    *len_r = o;
    lex_adv(lx, (size_t)(q - lx->p) + 1);
    return 0;
}

int lex_heredoc(struct conf_lexer *lx, char **s_r, size_t *len_r)
{
    const char *q = lx->p + 2, *term = q;
    if (lx->end - lx->p < 3 || lx->p[0] != '<' || lx->p[1] != '<')
        return 0;
    while (q < lx->end && *q >= 'A' && *q <= 'Z')
        q++;
    size_t tlen = (size_t)(q - term);
    if (tlen == 0 || q >= lx->end || (*q != '\n' && !(*q == '\r' && q + 1 < lx->end && q[1] == '\n')))
        return 0;
    unsigned line = lx->line, col = lex_col(lx);
    const char *body = q + (*q == '\r' ? 2 : 1);
    for (const char *ls = body; ls <= lx->end;) {
        size_t rest = (size_t)(lx->end - ls);
        if (rest >= tlen && memcmp(ls, term, tlen) == 0 &&
            (rest == tlen || ls[tlen] == '\n' || ls[tlen] == '\r')) {
            const char *bend = ls > body ? ls - 1 : body;    /* drop the last newline */
            if (bend > body && bend[-1] == '\r')
                bend--;
            *s_r = finish_string(lx, body, bend, false, true, len_r);
            lex_adv(lx, (size_t)(ls + tlen - lx->p));
            return 1;
        }
        const char *nl = memchr(ls, '\n', rest);
        if (nl == NULL)
            break;
        ls = nl + 1;
    }
    return lex_error_at(lx, line, col, "unterminated multiline value (no line '%.*s')", (int)tlen, term);
}

static bool is_key_char(unsigned char c)
{
    if (c >= 0x80 || isalnum(c))
        return true;
    return c != 0 && strchr("_-./@*+%!?&|~^$<>`", c) != NULL;
}

int lex_key(struct conf_lexer *lx, char **key_r, size_t *len_r)
{
    const char *q = lx->p;
    unsigned char c = (unsigned char)*q;
    if (c == '.' || !is_key_char(c))
        return lex_error(lx, "a key must begin with a letter, digit or '_' (got '%c')",
                         isgraph(c) ? c : '?');
    while (q < lx->end && is_key_char((unsigned char)*q) &&
           !(*q == '/' && q + 1 < lx->end && q[1] == '*'))
        q++;
    *len_r = (size_t)(q - lx->p);
    *key_r = arena_strndup(lx->arena, lx->p, *len_r);
    lex_adv(lx, *len_r);
    return 0;
}

/* ---- numbers (libucl's ucl_maybe_parse_number) ---- */

static int64_t num_mult(char c, bool bytes)
{
    switch (tolower((unsigned char)c)) {
    case 'k': return bytes ? 1024 : 1000;
    case 'm': return bytes ? 1024 * 1024 : 1000 * 1000;
    case 'g': return bytes ? 1024 * 1024 * 1024 : 1000 * 1000 * 1000;
    default: return 1;
    }
}

static double time_mult(char c)
{
    switch (tolower((unsigned char)c)) {
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 86400 * 7;
    case 'y': return 86400.0 * 365;
    default: return 1;
    }
}

static bool atom_end_at(const char *q, const char *end)
{
    if (q >= end)
        return true;
    return *q == '\0' || *q == '\n' || *q == '\r' || *q == '#' || *q == ',' || *q == ';' ||
           *q == ']' || *q == '}';
}

struct num {
    bool dbl, time;
    int64_t lv;
    double dv;
};

static bool num_scale_int(struct num *n, int64_t m)
{
    return !__builtin_mul_overflow(n->lv, m, &n->lv);
}

static void num_to_time(struct num *n)
{
    if (!n->dbl) {
        n->dbl = true;
        n->dv = (double)n->lv;
    }
    n->time = true;
}

/* The suffix at q: 1 and *q_r moved past it, 0 not a number, -1 overflow. */
static int num_suffix(struct num *n, const char *q, const char *end, bool bytes, const char **q_r)
{
    char c = *q;
    switch (c) {
    case 'm': case 'M': case 'g': case 'G': case 'k': case 'K':
        if (end - q >= 2) {
            if (q[1] == 's' || q[1] == 'S') {
                num_to_time(n);
                n->dv = (c == 'm' || c == 'M') ? n->dv / 1000. : n->dv * (double)num_mult(c, false);
                *q_r = q + 2;
                return 1;
            }
            if (bytes || q[1] == 'b' || q[1] == 'B') {
                if (n->dbl) {
                    if (!(n->dv > -9.2e18 && n->dv < 9.2e18))
                        return -1;
                    n->dbl = false;
                    n->lv = (int64_t)n->dv;    /* "1.5kb" is 1024, as libucl */
                }
                *q_r = q + 2;
                return num_scale_int(n, num_mult(c, true)) ? 1 : -1;
            }
            if (atom_end_at(q + 1, end)) {
                /* falls through to the plain multiplier below */
            } else if (end - q >= 3 && tolower((unsigned char)q[0]) == 'm' &&
                       tolower((unsigned char)q[1]) == 'i' && tolower((unsigned char)q[2]) == 'n') {
                num_to_time(n);
                n->dv *= 60.;
                *q_r = q + 3;
                return 1;
            } else {
                return 0;
            }
        }
        *q_r = q + 1;
        if (n->dbl) {
            n->dv *= (double)num_mult(c, false);
            return 1;
        }
        return num_scale_int(n, num_mult(c, bytes)) ? 1 : -1;
    case 's': case 'S':
    case 'h': case 'H': case 'd': case 'D': case 'w': case 'W': case 'y': case 'Y':
        if (!atom_end_at(q + 1, end))
            return 0;
        num_to_time(n);
        if (c != 's' && c != 'S')
            n->dv *= time_mult(c);
        *q_r = q + 1;
        return 1;
    case ' ': case '\t':
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (!atom_end_at(q, end))
            return 0;
        *q_r = q;
        return 1;
    default:
        return 0;
    }
}

int conf_number_scan(const char *p, const char *end, bool bytes, enum conf_type *type_r,
                     int64_t *i_r, double *d_r, size_t *used_r)
{
    const char *q = p, *c = p;
    bool neg = false, hex = false, got_dot = false, got_exp = false, valid = false;
    struct num n = {0};
    if (q < end && *q == '-') {
        neg = true;
        c = ++q;
    }
    while (q < end) {
        unsigned char ch = (unsigned char)*q;
        if (hex ? isxdigit(ch) : isdigit(ch)) {
            valid = true;
            q++;
        } else if (!hex && (ch == 'x' || ch == 'X') && q == c + 1 && *c == '0' && !got_dot) {
            hex = true;
            valid = false;
            c = ++q;
        } else if (!hex && ch == '.' && !got_dot && !got_exp && q > c) {
            got_dot = n.dbl = true;
            q++;
        } else if (!hex && (ch == 'e' || ch == 'E') && !got_exp && valid) {
            got_exp = n.dbl = true;
            q++;
            if (q < end && (*q == '+' || *q == '-'))
                q++;
            if (q >= end || !isdigit((unsigned char)*q))
                return 0;
        } else if (!hex && ch == '.') {
            return 0;                        /* "1.2.3": a string */
        } else {
            break;
        }
    }
    if (!valid || q - c > 120)
        return 0;
    char buf[128], *ep;
    memcpy(buf, c, (size_t)(q - c));
    buf[q - c] = '\0';
    errno = 0;
    if (n.dbl)
        n.dv = strtod(buf, &ep);
    else
        n.lv = strtoll(buf, &ep, hex ? 16 : 10);
    if (errno == ERANGE)
        return -1;
    if (*ep != '\0')
        return 0;
    if (!atom_end_at(q, end)) {
        int r = num_suffix(&n, q, end, bytes, &q);
        if (r <= 0)
            return r;
    }
    if ((n.dbl || n.time) && !isfinite(n.dv))
        return -1;
    if (n.dbl || n.time) {
        *type_r = n.time ? CONF_TIME : CONF_FLOAT;
        *d_r = neg ? -n.dv : n.dv;
    } else {
        *type_r = CONF_INT;
        *i_r = neg ? -n.lv : n.lv;
    }
    *used_r = (size_t)(q - p);
    return 1;
}

/* ---- atoms ---- */

/* An unquoted string runs to a value end or a comment, skipping balanced
 * {} and [] and backslash escapes (ucl_parse_string_value). */
static const char *atom_scan(const struct conf_lexer *lx, bool *unescape_r)
{
    const char *q = lx->p;
    int curly = 0, square = 0;
    while (q < lx->end) {
        char c = *q;
        if (c == '\\') {
            *unescape_r = true;
            q += (q + 1 < lx->end) ? 2 : 1;
            continue;
        }
        if (c == '{')
            curly++;
        else if (c == '[')
            square++;
        else if (c == '}' && curly > 0) {
            curly--;
            q++;
            continue;
        } else if (c == ']' && square > 0) {
            square--;
            q++;
            continue;
        }
        if (lex_is_atom_end(lx, q) || at_comment(lx, q) || ((unsigned char)c < 0x20 && c != '\t'))
            break;
        q++;
    }
    return q;
}

static bool parse_bool_word(const char *s, size_t len, bool *b_r)
{
    static const struct { const char *w; bool b; } words[] = {
        {"true", true}, {"yes", true}, {"on", true}, {"false", false}, {"no", false}, {"off", false},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i].w) == len && strncasecmp(words[i].w, s, len) == 0) {
            *b_r = words[i].b;
            return true;
        }
    }
    return false;
}

int lex_atom(struct conf_lexer *lx, struct conf_obj **v_r)
{
    struct conf_obj *v = conf_new(lx->arena, CONF_NULL);
    char c = *lx->p;
    if (c == '-' || isdigit((unsigned char)c)) {
        size_t used;
        int r = conf_number_scan(lx->p, lx->end, false, &v->type, &v->v.i, &v->v.d, &used);
        if (r < 0)
            return lex_error(lx, "numeric value out of range");
        if (r > 0) {
            lex_adv(lx, used);
            *v_r = v;
            return 0;
        }
    }
    bool unescape = false;
    const char *q = atom_scan(lx, &unescape), *e = q;
    while (e > lx->p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t len = (size_t)(e - lx->p);
    if (len == 0)
        return lex_error(lx, "string value must not be empty");
    if (len == 4 && memcmp(lx->p, "null", 4) == 0) {
        v->type = CONF_NULL;
    } else if (parse_bool_word(lx->p, len, &v->v.b)) {
        v->type = CONF_BOOL;
    } else {
        v->type = CONF_STRING;
        v->v.str.s = finish_string(lx, lx->p, e, unescape, true, &v->v.str.len);
    }
    lex_adv(lx, (size_t)(q - lx->p));
    *v_r = v;
    return 0;
}
