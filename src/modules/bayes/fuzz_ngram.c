/* libFuzzer target: the n-gram model's inputs from outside, a message's
 * view and features (any bytes a sender writes) and the model blob read
 * back from Redis (checked for its exact length and magic). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "mime/message.h"
#include "modules/bayes/bayes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static float weights[BAYES_NGRAM_WEIGHTS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        mime_global_init();
        init = true;
    }
    struct arena *a = arena_new(0);
    struct message *m = NULL;
    const char *err = NULL;
    static char view[BAYES_NGRAM_VIEW];
    static uint32_t f[BAYES_NGRAM_VIEW];
    if (message_parse(a, (const char *)data, size, NULL, &m, &err) == 0) {
        size_t vl = bayes_ngram_view(m, view, sizeof(view));
        size_t n = bayes_ngram_features(view, vl, f);
        (void)bayes_ngram_mix(0.5, bayes_ngram_score(weights, f, n));
    }
    bayes_ngram_features((const char *)data, size, f);
    /* The blob: as given, and as the head of a blob of the right length. */
    uint64_t id;
    bayes_ngram_model_parse((const char *)data, size, weights, &id);
    static char blob[BAYES_NGRAM_MODEL_SIZE];
    memcpy(blob, data, size < sizeof(blob) ? size : sizeof(blob));
    bayes_ngram_model_parse(blob, sizeof(blob), weights, &id);
    memset(weights, 0, sizeof(weights));
    arena_free(&a);
    return 0;
}
