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

#endif
