/*
 * Growable heap buffer.  Capacity doubles; the byte after len is kept NUL so
 * the content can be printed.  Allocation failure is fatal: callers bound
 * peer-controlled sizes before appending.
 */
#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void buf_reserve(struct buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        panic("buf: size overflow");
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        panic("buf: out of memory (%zu bytes)", cap);
    b->data = p;
    b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    buf_reserve(b, 128);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        panic("buf: bad format");
    if ((size_t)n >= b->cap - b->len) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *buf_steal(struct buf *b, size_t *len_r)
{
    buf_reserve(b, 0);
    char *p = b->data;
    if (len_r)
        *len_r = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

int buf_read_stream(struct buf *b, FILE *f)
{
    for (;;) {
        buf_reserve(b, 65536);
        size_t n = fread(b->data + b->len, 1, b->cap - b->len - 1, f);
        b->len += n;
        b->data[b->len] = '\0';
        if (n == 0)
            return ferror(f) ? -1 : 0;
    }
}

char *buf_slurp_stream(FILE *f, size_t *len_r)
{
    struct buf b = BUF_INIT;
    if (buf_read_stream(&b, f) < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, len_r);
}

char *buf_slurp(const char *path, size_t *len_r)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *p = buf_slurp_stream(f, len_r);
    fclose(f);
    return p;
}
