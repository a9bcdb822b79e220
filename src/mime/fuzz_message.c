/*
 * fuzz_message.c: libFuzzer target for the whole message_parse() (our
 * header reader, GMime's tree, decoders, charset conversion, HTML, URLs).
 * Small limits so that the limit paths are reached too.
 */
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "mime/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    struct arena *arena = arena_new(0);
    struct message *msg;
    const char *err;
    struct mime_limits lim = {.max_parts = 64, .max_depth = 8, .max_urls = 64,
                              .max_text_bytes = 256 * 1024};

    if (!init) {
        init = true;
        log_current_level = LOG_LVL_ERROR;
        mime_global_init();
    }
    if (message_parse(arena, (const char *)data, size, &lim, &msg, &err) == 0) {
        ASSERT(msg->nparts >= 1 && msg->parts[0].parent == -1);
        for (size_t i = 0; i < msg->ntext_parts; i++) {
            const struct text_part *tp = &msg->text_parts[i];
            ASSERT(tp->part < msg->nparts && strlen(tp->text) == tp->text_len);
        }
        for (size_t i = 0; i < msg->nurls; i++)
            ASSERT(msg->urls[i].host != NULL && msg->urls[i].host[0] != '\0');
    }
    arena_free(&arena);
    return 0;
}
