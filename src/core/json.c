/*
 * Streaming JSON writer.  Strings are escaped per RFC 8259; invalid UTF-8 is
 * replaced with U+FFFD so a reply built from hostile mail always parses.
 * Doubles are printed with up to 6 decimals and trailing zeros removed, the
 * way scores are shown (9.3, not 9.300000000000001).
 */
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

void json_init(struct json_writer *w, struct buf *out, bool pretty)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->pretty = pretty;
}

static void indent(struct json_writer *w)
{
    buf_putc(w->out, '\n');
    for (int i = 0; i < w->depth; i++)
        buf_append(w->out, "  ", 2);
}

/* Called before every value or key: comma and indentation. */
static void before_item(struct json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->need_comma[w->depth])
            buf_putc(w->out, ',');
        w->need_comma[w->depth] = true;
        if (w->pretty)
            indent(w);
    }
}

static void container_open(struct json_writer *w, char c)
{
    before_item(w);
    buf_putc(w->out, c);
    if (w->depth + 1 >= JSON_MAX_DEPTH)
        panic("json: nesting too deep");
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void container_close(struct json_writer *w, char c)
{
    bool had = w->need_comma[w->depth];
    w->depth--;
    if (w->pretty && had)
        indent(w);
    buf_putc(w->out, c);
}

void json_obj_begin(struct json_writer *w) { container_open(w, '{'); }
void json_obj_end(struct json_writer *w) { container_close(w, '}'); }
void json_arr_begin(struct json_writer *w) { container_open(w, '['); }
void json_arr_end(struct json_writer *w) { container_close(w, ']'); }

void json_keyn(struct json_writer *w, const char *key, size_t len)
{
    before_item(w);
    json_escape(w->out, key, len);
    buf_append(w->out, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
    w->after_key = true;
}

void json_key(struct json_writer *w, const char *key)
{
    json_keyn(w, key, strlen(key));
}

void json_strn(struct json_writer *w, const char *s, size_t len)
{
    before_item(w);
    json_escape(w->out, s, len);
}

void json_str(struct json_writer *w, const char *s)
{
    if (s == NULL)
        json_null(w);
    else
        json_strn(w, s, strlen(s));
}

void json_int(struct json_writer *w, int64_t v)
{
    before_item(w);
    buf_printf(w->out, "%lld", (long long)v);
}

void json_double(struct json_writer *w, double v)
{
    before_item(w);
    if (!isfinite(v))
        v = 0;
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "%.6f", v);
    if (n <= 0 || (size_t)n >= sizeof(tmp)) {
        buf_printf(w->out, "%g", v);
        return;
    }
    /* Trim trailing zeros but keep one decimal: 15 -> 15.0, 9.300000 -> 9.3. */
    while (n > 2 && tmp[n - 1] == '0' && tmp[n - 2] != '.')
        n--;
    if (n == 4 && memcmp(tmp, "-0.0", 4) == 0) {
        buf_append(w->out, "0.0", 3);   /* tiny negatives round to -0.0 */
        return;
    }
    buf_append(w->out, tmp, (size_t)n);
}

void json_bool(struct json_writer *w, bool v)
{
    before_item(w);
    buf_puts(w->out, v ? "true" : "false");
}

void json_null(struct json_writer *w)
{
    before_item(w);
    buf_puts(w->out, "null");
}

void json_raw(struct json_writer *w, const char *s, size_t len)
{
    before_item(w);
    buf_append(w->out, s, len);
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void json_escape(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    buf_reserve(b, len + 2);
    buf_putc(b, '"');
    size_t run = 0;              /* start of the pending run of plain bytes */
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq(p + i, len - i);
            if (n > 0) {
                i += n;
                continue;
            }
        }
        buf_append(b, s + run, i - run);
        switch (c) {
        case '"': buf_append(b, "\\\"", 2); break;
        case '\\': buf_append(b, "\\\\", 2); break;
        case '\n': buf_append(b, "\\n", 2); break;
        case '\r': buf_append(b, "\\r", 2); break;
        case '\t': buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                buf_append(b, e, 6);
            } else {
                buf_append(b, "\xEF\xBF\xBD", 3); /* invalid UTF-8 byte */
            }
        }
        i++;
        run = i;
    }
    buf_append(b, s + run, len - run);
    buf_putc(b, '"');
}
