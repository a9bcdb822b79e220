/*
 * The n-gram model: Bayes' second opinion.  Logistic regression over the
 * byte 4-grams of a message's first BAYES_NGRAM_VIEW bytes (its header
 * lines, less those added after a filter runs, then the text of its text
 * parts), hashed into 2^BAYES_NGRAM_BITS weights ("feature hashing").
 * Character n-grams see what word tokens miss (obfuscated words, markup
 * and header formatting, foreign scripts), and a discriminative model
 * weighs correlated features once instead of counting them again and
 * again as naive Bayes does; in the TREC spam tracks this pair was among
 * the strongest filters.  Its log-odds are blended with the token
 * classifier's (bayes_ngram_mix); docs/bayes.md has the measurements.
 *
 * Training is batch, over the stored examples of the learned messages
 * (learn.c stores them, ngram_train.c trains): online logistic regression
 * depends on the order of the learns, and an administrator who learns a
 * folder of ham and then a folder of spam would get a model that calls
 * everything spam.  Several shuffled passes over all examples do not care
 * about the order.  Pure functions; no Redis, no allocation but the
 * caller's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BAYES_NGRAM_MAGIC "WNG1"

#include "core/log.h"
#include "core/str.h"
#include "mime/message.h"
#include "modules/bayes/bayes.h"

/* Headers written after a filter at SMTP time has run (local delivery, the
 * reader's mail store) or by other filters: learning them would teach the
 * model what the scanner never sees. */
static bool view_skips(const char *name)
{
    static const char *const skip[] = {
        "delivered-to", "delivery-date", "x-keywords", "x-status", "status", "x-uid",
        "x-bogosity", "x-spam-status", "x-spam-level", "x-spam-flag", "x-spam-checker-version",
        "x-spam-score", "x-spam-report",
    };
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strcasecmp(name, skip[i]) == 0)
            return true;
    return false;
}

static size_t view_add(char *buf, size_t len, size_t cap, const char *p, size_t n)
{
    size_t c = n < cap - len ? n : cap - len;
    if (c > 0)
        memcpy(buf + len, p, c);
    return len + c;
}

size_t bayes_ngram_view(const struct message *msg, char *buf, size_t cap)
{
    size_t len = 0;
    for (const struct mime_header *h = msg->headers; h != NULL && len < cap; h = h->next)
        if (h->name != NULL && !view_skips(h->name))
            len = view_add(buf, len, cap, h->raw, h->raw_len);
    for (size_t i = 0; i < msg->ntext_parts && len < cap; i++) {
        const struct text_part *tp = &msg->text_parts[i];
        if (tp->text != NULL)
            len = view_add(buf, len, cap, tp->text, tp->text_len);
    }
    return len;
}

#define SET_SLOTS 8192             /* > 2 * BAYES_NGRAM_VIEW: the set stays sparse */

size_t bayes_ngram_features(const char *view, size_t len, uint32_t *out)
{
    if (len > BAYES_NGRAM_VIEW)
        len = BAYES_NGRAM_VIEW;
    if (len < BAYES_NGRAM_N)
        return 0;
    /* A message counts a feature once (binary features): an open-addressing
     * set (index + 1, 0 = empty) drops repeats in linear time; sorting
     * them was a quarter of a scan's Bayes time. */
    uint32_t set[SET_SLOTS];
    memset(set, 0, sizeof(set));
    size_t n = 0;
    for (size_t i = 0; i + BAYES_NGRAM_N <= len; i++) {
        uint64_t h = 1469598103934665603ULL;             /* FNV-1a */
        for (size_t k = 0; k < BAYES_NGRAM_N; k++)
            h = (h ^ (unsigned char)view[i + k]) * 1099511628211ULL;
        uint32_t f = (uint32_t)((h ^ (h >> 29)) & (BAYES_NGRAM_WEIGHTS - 1));
        size_t slot = (f * 2654435761u) & (SET_SLOTS - 1);
        while (set[slot] != 0 && set[slot] != f + 1)
            slot = (slot + 1) & (SET_SLOTS - 1);
        if (set[slot] == 0) {
            set[slot] = f + 1;
            out[n++] = f;
        }
    }
    return n;
}

/* Features are scaled by 1/sqrt(n + 1), so long and short messages have
 * inputs of about the same length. */
double bayes_ngram_score(const float *w, const uint32_t *f, size_t n)
{
    double z = 0;
    for (size_t i = 0; i < n; i++)
        z += w[f[i]];
    return z / sqrt((double)n + 1);
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

uint64_t bayes_ngram_digest_key(const char *digest, size_t len)
{
    uint64_t k = 0;
    for (size_t i = 0; i < len && i < 16; i++)
        k = k << 4 | (uint64_t)str_hexval(digest[i]);
    return k;
}

static int by_key(const void *a, const void *b)
{
    uint64_t x = ((const struct bayes_example *)a)->key, y = ((const struct bayes_example *)b)->key;
    return x < y ? -1 : x > y;
}

/* One model: BAYES_NGRAM_EPOCHS passes from zero weights, each in an order
 * shuffled from seed. */
static void train_one(float *w, const struct bayes_example *ex, size_t n, size_t *order,
                      uint64_t seed)
{
    memset(w, 0, BAYES_NGRAM_WEIGHTS * sizeof(*w));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (unsigned e = 0; e < BAYES_NGRAM_EPOCHS; e++) {
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)(next_rand(&seed) % i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (size_t q = 0; q < n; q++) {
            const struct bayes_example *x = &ex[order[q]];
            double norm = 1.0 / sqrt((double)x->n + 1);
            double p = 1.0 / (1.0 + exp(-bayes_ngram_score(w, x->f, x->n)));
            float g = (float)(BAYES_NGRAM_ETA * ((x->spam ? 1.0 : 0.0) - p) * norm);
            for (size_t k = 0; k < x->n; k++)
                w[x->f[k]] += g;
        }
    }
}

void bayes_ngram_train(float *w, float *scratch, struct bayes_example *ex, size_t n,
                       size_t *order)
{
    /* Redis hands the examples out in its hash's order, which depends on
     * the order of the learns. */
    qsort(ex, n, sizeof(*ex), by_key);
    /* With a learning rate this high a model leans on the examples it saw
     * last, so one shuffle's model differs from the next one's by several
     * missed spam in ten; the mean of BAYES_NGRAM_MODELS of them, each
     * from its own fixed seed, does not (docs/bayes.md, "bagging"). */
    memset(w, 0, BAYES_NGRAM_WEIGHTS * sizeof(*w));
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (unsigned m = 0; m < BAYES_NGRAM_MODELS; m++) {
        train_one(scratch, ex, n, order, seed + 0x1234567ULL * m);
        for (size_t i = 0; i < BAYES_NGRAM_WEIGHTS; i++)
            w[i] += scratch[i] / BAYES_NGRAM_MODELS;
    }
}

/* The model as stored (<G>_M): "WNG1", the id (8 bytes), the weights,
 * all little endian, whatever the host. */

int bayes_ngram_model_parse(const char *p, size_t len, float *w, uint64_t *id_r)
{
    if (len != BAYES_NGRAM_MODEL_SIZE || memcmp(p, BAYES_NGRAM_MAGIC, 4) != 0)
        return -1;
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id |= (uint64_t)(unsigned char)p[4 + i] << (8 * i);
    for (size_t i = 0; i < BAYES_NGRAM_WEIGHTS; i++) {
        const unsigned char *b = (const unsigned char *)p + BAYES_NGRAM_MODEL_HEADER + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        memcpy(&w[i], &u, 4);
    }
    *id_r = id;
    return 0;
}

char *bayes_ngram_model_serialize(const float *w, uint64_t id)
{
    char *p = malloc(BAYES_NGRAM_MODEL_SIZE);
    if (p == NULL)
        panic("bayes: out of memory");
    memcpy(p, BAYES_NGRAM_MAGIC, 4);
    for (int i = 0; i < 8; i++)
        p[4 + i] = (char)(id >> (8 * i));
    for (size_t i = 0; i < BAYES_NGRAM_WEIGHTS; i++) {
        uint32_t u;
        memcpy(&u, &w[i], 4);
        for (int k = 0; k < 4; k++)
            p[BAYES_NGRAM_MODEL_HEADER + 4 * i + k] = (char)(u >> (8 * k));
    }
    return p;
}

double bayes_ngram_mix(double p_bayes, double z)
{
    double p = p_bayes < 1e-6 ? 1e-6 : p_bayes > 1 - 1e-6 ? 1 - 1e-6 : p_bayes;
    double m = (1 - BAYES_NGRAM_MIX) * z + BAYES_NGRAM_MIX * log(p / (1 - p));
    return 1.0 / (1.0 + exp(-m));
}
