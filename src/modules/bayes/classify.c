/*
 * Bayes classifier: Robinson's smoothed token probability
 *   f(w) = (s * 0.5 + n * p(w)) / (s + n),  p(w) = sf / (sf + hf)
 * with sf, hf the token's spam and ham frequencies relative to the number of
 * messages learned in each class, then Fisher's method on the most extreme
 * tokens: S = 1 - C⁻¹(-2 Σ ln(1 - f), 2k), H = 1 - C⁻¹(-2 Σ ln f, 2k),
 * spam probability (1 + S - H) / 2 (as SpamBayes, bogofilter and Rspamd),
 * with a log-odds tie-break when S and H are close.
 */
#include "modules/bayes/bayes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bayes_params_defaults(struct bayes_params *p)
{
    p->strength = 0.45;
    p->min_dev = 0.1;
    p->max_tokens = 150;
    p->min_tokens = 11;
}

/* Survival function of chi-square with 2*half degrees of freedom. */
static double chi2q(double x2, unsigned dof)
{
    double m = x2 / 2.0, sum, term;
    sum = term = exp(-m);
    for (unsigned i = 1; i < dof / 2; i++) {
        term *= m / i;
        sum += term;
    }
    return sum < 1.0 ? sum : 1.0;
}

struct scored {
    double f;
    double dev;
};

static int by_dev_desc(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->dev, y = ((const struct scored *)b)->dev;
    return x < y ? 1 : x > y ? -1 : 0;
}

void bayes_classify(const struct bayes_tokens *tok, const struct bayes_counts *counts,
                    uint64_t learns_spam, uint64_t learns_ham, const struct bayes_params *params,
                    struct bayes_verdict *out)
{
    struct bayes_params def;
    if (params == NULL) {
        bayes_params_defaults(&def);
        params = &def;
    }
    out->prob = 0.5;
    out->used = 0;
    out->ok = false;
    if (learns_spam == 0 || learns_ham == 0 || tok->n == 0)
        return;
    struct scored *sc = malloc(tok->n * sizeof(*sc));
    if (sc == NULL)
        return;
    size_t k = 0;
    double s = params->strength;
    for (size_t i = 0; i < tok->n; i++) {
        double sp = counts[i].spam, hm = counts[i].ham, n = sp + hm;
        if (n == 0)
            continue;
        double sf = sp / (double)learns_spam, hf = hm / (double)learns_ham;
        double p = sf / (sf + hf);
        double f = (s * 0.5 + n * p) / (s + n);
        double dev = fabs(f - 0.5);
        if (dev < params->min_dev)
            continue;
        sc[k].f = f < 1e-6 ? 1e-6 : f > 1 - 1e-6 ? 1 - 1e-6 : f;
        sc[k].dev = dev;
        k++;
    }
    unsigned max = params->max_tokens ? params->max_tokens : 150;
    if (k > max) {
        qsort(sc, k, sizeof(*sc), by_dev_desc);
        k = max;
    }
    out->used = (unsigned)k;
    if (k < params->min_tokens) {
        free(sc);
        return;
    }
    double ln_f = 0, ln_1f = 0;
    for (size_t i = 0; i < k; i++) {
        ln_f += log(sc[i].f);
        ln_1f += log(1.0 - sc[i].f);
    }
    free(sc);
    double S = 1.0 - chi2q(-2.0 * ln_1f, 2 * (unsigned)k);
    double H = 1.0 - chi2q(-2.0 * ln_f, 2 * (unsigned)k);
    out->prob = (1.0 + S - H) / 2.0;
    /* S and H both high means strong evidence both ways (spam quoting a
     * newsletter, ham forwarding an advertisement): (1 + S - H) / 2 then
     * sits near 0.5 whatever the balance.  Inside that band the same tokens'
     * summed log odds decide, scaled by sqrt(k) since under "no
     * information" the sum is a random walk.  On the SpamAssassin corpus this
     * moves 19 of the test spam from the unsure middle to p > 0.9 without a
     * new false positive (docs/bayes.md). */
    if (fabs(S - H) < 0.5)
        out->prob = 1.0 / (1.0 + exp(-(ln_f - ln_1f) / sqrt((double)k)));
    out->ok = true;
}
