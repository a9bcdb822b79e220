#ifndef WINNOW_CORE_ARENA_H
#define WINNOW_CORE_ARENA_H
/*
 * Arena (region) allocator.  Everything one task allocates comes from the
 * task's arena and is released by one arena_free().  Objects the arena did not
 * allocate (GMime objects, fds, pending lookups) register a cleanup with
 * arena_cleanup_add() when they are created; cleanups run in reverse order of
 * registration before the memory goes.  Allocation failure is fatal (panic):
 * sizes coming from peers must meet a limit before they reach the arena.
 */
#include <stdarg.h>
#include <stddef.h>

struct arena;

struct arena *arena_new(size_t chunk_size);      /* 0 = default (16 KiB) */
void arena_free(struct arena **arena);           /* clears *arena */

/* 16-byte aligned; arena_alloc memory is not zeroed, arena_calloc's is.
 * arena_calloc checks n * size for overflow. */
void *arena_alloc(struct arena *arena, size_t size);
void *arena_calloc(struct arena *arena, size_t n, size_t size);
/* Grows the last allocation in place when possible; copies otherwise. */
void *arena_realloc(struct arena *arena, void *old, size_t old_size, size_t new_size);

/* Copies n bytes and appends a NUL. */
char *arena_strndup(struct arena *arena, const char *s, size_t n);
char *arena_strdup(struct arena *arena, const char *s);
char *arena_printf(struct arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *arena, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

void arena_cleanup_add(struct arena *arena, void (*fn)(void *), void *data);

/* Bytes handed out so far (for stats and limits). */
size_t arena_used(const struct arena *arena);

#define ARENA_NEW(arena, type) ((type *)arena_calloc((arena), 1, sizeof(type)))
#define ARENA_NEW_N(arena, type, n) ((type *)arena_calloc((arena), (n), sizeof(type)))

#endif
