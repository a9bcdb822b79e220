/*
 * fuzz_header.c: libFuzzer target for the raw header reader (header.c).
 * Checks the reader's own invariants on every input: each field's raw bytes
 * lie inside the input and in order, and the body offset is within it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "mime/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    struct arena *arena = arena_new(0);
    struct mime_header_parser hp;
    struct mime_header *h;
    const char *err, *p = (const char *)data, *last = p;
    struct mime_limits lim = {.max_header_bytes = 64 * 1024, .max_headers = 500};

    if (!init) {
        init = true;
        log_current_level = LOG_LVL_ERROR;
    }
    mime_header_parser_init(&hp, p, size, &lim);
    int rc;
    while ((rc = mime_header_next(&hp, arena, &h, &err)) == 1) {
        ASSERT(h->raw >= last && h->raw + h->raw_len <= p + size);
        ASSERT(h->value >= h->raw && h->value + h->value_len <= h->raw + h->raw_len);
        ASSERT(h->decoded != NULL && strlen(h->name) == h->name_len);
        last = h->raw + h->raw_len;
    }
    if (rc == 0)
        ASSERT(hp.body_offset <= size && hp.block_len <= hp.body_offset);
    arena_free(&arena);
    return 0;
}
