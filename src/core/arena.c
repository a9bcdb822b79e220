/*
 * Arena allocator: a chain of chunks; allocations bump a pointer in the
 * current chunk, requests larger than a quarter chunk get a chunk of their
 * own (so big message copies do not waste the tail of a shared chunk).
 * Cleanups are a LIFO list run by arena_free() before the chunks are freed,
 * so a cleanup may still read arena memory.  Not thread-safe: one arena, one
 * owner.
 */
#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_CHUNK (16 * 1024)

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;                 /* usable bytes after the header */
    size_t used;
    /* data follows, aligned */
};

struct arena_cleanup {
    void (*fn)(void *);
    void *data;
    struct arena_cleanup *next;
};

struct arena {
    struct arena_chunk *head;    /* current chunk (bump allocation) */
    struct arena_chunk *big;     /* dedicated chunks for large requests */
    struct arena_cleanup *cleanups;
    size_t chunk_size;
    size_t used;
    void *last;                  /* last allocation, for in-place realloc */
    size_t last_size;
};

#define CHUNK_HDR ((sizeof(struct arena_chunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static inline char *chunk_data(struct arena_chunk *c)
{
    return (char *)c + CHUNK_HDR; /* UNSAFE: header is padded to ARENA_ALIGN */
}

static struct arena_chunk *chunk_new(size_t size)
{
    if (size > SIZE_MAX - CHUNK_HDR)
        panic("arena: chunk size overflow (%zu)", size);
    struct arena_chunk *c = malloc(CHUNK_HDR + size);
    if (c == NULL)
        panic("arena: out of memory allocating %zu bytes", size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

struct arena *arena_new(size_t chunk_size)
{
    struct arena *a = calloc(1, sizeof(*a));
    if (a == NULL)
        panic("arena: out of memory");
    a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
    a->head = chunk_new(a->chunk_size);
    return a;
}

static void chunks_free(struct arena_chunk *c)
{
    while (c != NULL) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void arena_free(struct arena **ap)
{
    struct arena *a = *ap;
    if (a == NULL)
        return;
    *ap = NULL;
    /* Cleanups run newest first: a later object may depend on an earlier one. */
    for (struct arena_cleanup *cl = a->cleanups; cl != NULL; cl = cl->next)
        cl->fn(cl->data);
    chunks_free(a->head);
    chunks_free(a->big);
    free(a);
}

void *arena_alloc(struct arena *a, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - ARENA_ALIGN)
        panic("arena: allocation size overflow (%zu)", size);
    size_t asize = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;
    if (asize > a->chunk_size / 4) {
        struct arena_chunk *c = chunk_new(asize);
        c->used = asize;
        c->next = a->big;
        a->big = c;
        p = chunk_data(c);
    } else {
        if (a->head->size - a->head->used < asize) {
            struct arena_chunk *c = chunk_new(a->chunk_size);
            c->next = a->head;
            a->head = c;
        }
        p = chunk_data(a->head) + a->head->used;
        a->head->used += asize;
    }
    a->used += asize;
    a->last = p;
    a->last_size = asize;
    return p;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        panic("arena: calloc overflow (%zu x %zu)", n, size);
    void *p = arena_alloc(a, n * size);
    memset(p, 0, n * size);
    return p;
}

void *arena_realloc(struct arena *a, void *old, size_t old_size, size_t new_size)
{
    if (old == NULL)
        return arena_alloc(a, new_size);
    if (new_size <= old_size)
        return old;
    /* Grow in place when old is the tip of the current chunk. */
    if (old == a->last && (char *)old >= chunk_data(a->head) &&
        (char *)old < chunk_data(a->head) + a->head->size) {
        size_t asize = (new_size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
        size_t start = (size_t)((char *)old - chunk_data(a->head));
        if (asize <= a->chunk_size / 4 && start + asize <= a->head->size) {
            a->head->used = start + asize;
            a->used += asize - a->last_size;
            a->last_size = asize;
            return old;
        }
    }
    void *p = arena_alloc(a, new_size);
    memcpy(p, old, old_size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        panic("arena: bad format");
    char *p = arena_alloc(a, (size_t)n + 1);
    if ((size_t)n < sizeof(small))
        memcpy(p, small, (size_t)n + 1);
    else
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void arena_cleanup_add(struct arena *a, void (*fn)(void *), void *data)
{
    struct arena_cleanup *cl = arena_alloc(a, sizeof(*cl));
    cl->fn = fn;
    cl->data = data;
    cl->next = a->cleanups;
    a->cleanups = cl;
}

size_t arena_used(const struct arena *a)
{
    return a->used;
}
