#ifndef WINNOW_MODULES_BAYES_H
#define WINNOW_MODULES_BAYES_H
/*
 * Bayes core, independent of storage: the tokenizer (message -> sorted,
 * unique 64-bit feature hashes) and the classifier (token counts ->
 * spam probability by Robinson's token probabilities combined with Fisher's
 * inverse chi-square).  The bayes module feeds it counts from Redis; the
 * offline evaluator (bench/bayes-eval) feeds it an in-memory table.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct message;

struct bayes_tokens {
    uint64_t *v;                 /* sorted, unique */
    size_t n;
};

struct bayes_tokenizer_opts {
    unsigned osb_window;         /* pairs up to this distance; 0 = 2, 1 = unigrams only */
    size_t max_words;            /* words taken per message; 0 = 2000 */
    bool header_tokens;          /* tokens from selected headers (default on) */
};

/* Tokenizes the parsed message into arena memory. */
void bayes_tokenize(struct arena *arena, const struct message *msg,
                    const struct bayes_tokenizer_opts *opts, struct bayes_tokens *out);

struct bayes_counts {
    uint32_t spam, ham;          /* messages of each class containing the token */
};

struct bayes_params {
    double strength;             /* Robinson s, default 0.45 */
    double min_dev;              /* ignore tokens with |p - 0.5| below; default 0.1 */
    unsigned max_tokens;         /* most extreme tokens used; 0 = 150 */
    unsigned min_tokens;         /* fewer usable tokens => no verdict; default 11 */
    double llr_alpha;            /* smoothing of the unsure band's likelihoods; default 0.003 */
};

struct bayes_verdict {
    double prob;                 /* spam probability 0..1; 0.5 when unsure */
    unsigned used;               /* tokens that contributed */
    bool ok;                     /* false: not enough tokens */
};

/* counts[i] belongs to tok->v[i]. */
void bayes_classify(const struct bayes_tokens *tok, const struct bayes_counts *counts,
                    uint64_t learns_spam, uint64_t learns_ham, const struct bayes_params *params,
                    struct bayes_verdict *out);

void bayes_params_defaults(struct bayes_params *p);

/* ---- the n-gram model (ngram.c) ---- */

#define BAYES_NGRAM_N 4                  /* bytes per n-gram */
#define BAYES_NGRAM_VIEW 3000            /* bytes of a message looked at */
#define BAYES_NGRAM_BITS 20
#define BAYES_NGRAM_WEIGHTS (1u << BAYES_NGRAM_BITS)
#define BAYES_NGRAM_EPOCHS 3             /* shuffled passes over the examples */
#define BAYES_NGRAM_ETA 60.0             /* learning rate */
#define BAYES_NGRAM_MODELS 5             /* models averaged, each from its own shuffles */
#define BAYES_NGRAM_MIX 0.3              /* share of the token classifier in the blend */

struct bayes_example {
    const uint32_t *f;                   /* features, unique */
    size_t n;
    bool spam;
    uint64_t key;                        /* bayes_ngram_digest_key() of its learn digest */
};

/* What the model looks at: the header lines (less Delivered-To, X-Spam-*
 * and the like, written after a filter runs) and the text parts' text,
 * at most cap bytes of them.  Returns the length. */
size_t bayes_ngram_view(const struct message *msg, char *buf, size_t cap);
/* The 4-grams of the view's first BAYES_NGRAM_VIEW bytes as weight
 * indices, each once, in no particular order; out holds at least
 * min(len, BAYES_NGRAM_VIEW) entries.  Returns how many. */
size_t bayes_ngram_features(const char *view, size_t len, uint32_t *out);
/* The model's log-odds of spam for these features. */
double bayes_ngram_score(const float *w, const uint32_t *f, size_t n);
/* An example's sort key: the first 64 bits of its learn cache digest. */
uint64_t bayes_ngram_digest_key(const char *digest, size_t len);
/* Trains w (BAYES_NGRAM_WEIGHTS floats, overwritten) on n examples:
 * sorts them by key (whoever hands them over, in whatever order, the same
 * examples make the same model), then averages BAYES_NGRAM_MODELS models
 * of BAYES_NGRAM_EPOCHS passes each, every pass in an order shuffled from
 * a fixed seed.  scratch holds BAYES_NGRAM_WEIGHTS floats, order n
 * entries; both are overwritten. */
void bayes_ngram_train(float *w, float *scratch, struct bayes_example *ex, size_t n,
                       size_t *order);
/* The model blob: BAYES_NGRAM_MODEL_SIZE bytes; parse gives 0 with the
 * weights and the id (the examples count it was trained at), or -1 when
 * the length or the magic is wrong.  serialize returns malloc'ed memory. */
#define BAYES_NGRAM_MODEL_HEADER 12
#define BAYES_NGRAM_MODEL_SIZE (BAYES_NGRAM_MODEL_HEADER + 4 * (size_t)BAYES_NGRAM_WEIGHTS)
int bayes_ngram_model_parse(const char *p, size_t len, float *w, uint64_t *id_r);
char *bayes_ngram_model_serialize(const float *w, uint64_t id);
/* The blend of the token classifier's probability and the model's
 * log-odds: the probability BAYES_SPAM / BAYES_HAM are scored by. */
double bayes_ngram_mix(double p_bayes, double z);

#endif
