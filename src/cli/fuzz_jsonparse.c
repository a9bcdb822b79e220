/* libFuzzer target for winnowc's JSON reader and report formatter: whatever
 * parses is also printed in every format winnowc has. */
#include <stdint.h>
#include <stddef.h>

#include "cli/output.h"
#include "core/arena.h"
#include "core/jsonparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *arena = arena_new(0);
    const char *error;
    struct jv *v = jv_parse(arena, (const char *)data, size, &error);

    if (v != NULL) {
        struct buf out = BUF_INIT;
        output_symbols(&out, v);
        output_stat(&out, v);
        output_json(&out, v, "f", 0.1, true);
        output_json(&out, v, "f", 0.1, false);
        output_ucl(&out, v, "f", 0.1);
        buf_free(&out);
    }
    arena_free(&arena);
    return 0;
}
