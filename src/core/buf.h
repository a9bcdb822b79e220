#ifndef WINNOW_CORE_BUF_H
#define WINNOW_CORE_BUF_H
/*
 * Growable byte buffer on the heap, for output that outlives a task or whose
 * size is not known in advance (HTTP replies, log lines, emitted config).
 * The data is always NUL-terminated (not counted in len), so it can be handed
 * to printf-style consumers, but it may also contain NULs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);                   /* len = 0, keeps memory */
void buf_consume(struct buf *b, size_t n);       /* drops n bytes from the front */
void buf_free(struct buf *b);                    /* releases memory, b is reusable */
char *buf_steal(struct buf *b, size_t *len_r);   /* caller frees; b is reset */

/* A whole stream, to its end, appended to b; -1 when it cannot be read.
 * For tools and tests: the daemon reads its configuration with
 * conf_read_file (size limits, no FIFOs). */
int buf_read_stream(struct buf *b, FILE *f);
/* The same into a malloc'ed, NUL-terminated copy; NULL on error. */
char *buf_slurp(const char *path, size_t *len_r);
char *buf_slurp_stream(FILE *f, size_t *len_r);

#endif
