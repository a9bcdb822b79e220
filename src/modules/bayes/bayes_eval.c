/*
 * winnow-bayes-eval: offline accuracy of the Bayes core on the SpamAssassin
 * public corpus with the split of the accuracy benchmark (odd message ids
 * train, even ids test; ham = easy-ham-1, easy-ham-2, hard-ham-1; spam =
 * spam-1, spam-2).  Counts live in memory, so tokenizer and classifier
 * changes can be measured in seconds.  Usage: winnow-bayes-eval DATA_DIR
 * [window]
 *
 * Environment: BAYES_S, BAYES_MINDEV, BAYES_MAXTOK, BAYES_LLR_ALPHA
 * override the classifier's strength, min_dev, top-N and the unsure band's
 * smoothing; BAYES_NOHDR=1 drops the header tokens; BAYES_EVAL_DUMP=FILE
 * writes each test message's probability, which bench/accuracy-combine adds
 * to the heuristics' scores (docs/bayes.md); BAYES_EVAL_CV=1 or 2 tunes on
 * the training half alone (ids 1 mod 4 train and 3 mod 4 test, or the
 * reverse); BAYES_EXPLAIN=NAME prints the most extreme tokens of the test
 * messages whose name contains NAME (BAYES_EXPLAIN_TOP of them, default
 * 40), by name: this copy of the tokenizer is built with token names;
 * BAYES_EVAL_CACHE=SLOTS simulates the scanner's token cache over two
 * passes of the test half.  The verdicts are the module's: the token
 * classifier blended with the n-gram model trained on the same half
 * (ngram.c); BAYES_EVAL_NGRAM=0 leaves the model out, and with it on the
 * token classifier's own figures are printed too.  Nothing here is trained on an even id.
 */
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "mime/message.h"
#include "modules/bayes/bayes.h"
#include "modules/bayes/bayes_private.h"

/* ---- token names (BAYES_EXPLAIN): tokenize.c is built with
 * BAYES_TOKEN_NAMES here and reports each token's text ---- */

struct name {
    uint64_t tok, a, b;          /* a, b: the words of a pair (name == NULL) */
    unsigned d;
    uint64_t ns;
    char *name;
};

static struct name *names;
static size_t names_cap;
static bool names_on;

static struct name *name_slot(uint64_t tok)
{
    size_t i = tok & (names_cap - 1);
    while (names[i].tok && names[i].tok != tok)
        i = (i + 1) & (names_cap - 1);
    return &names[i];
}

void bayes_token_named(uint64_t tok, uint64_t ns, const char *p, size_t len);
void bayes_token_paired(uint64_t tok, uint64_t a, uint64_t b, unsigned d);

void bayes_token_named(uint64_t tok, uint64_t ns, const char *p, size_t len)
{
    if (!names_on)
        return;
    struct name *n = name_slot(tok);
    if (n->tok == tok && n->name != NULL && ns != 0)
        return;
    free(n->name);
    n->tok = tok;
    n->ns = ns;
    n->name = strndup(p, len);
}

void bayes_token_paired(uint64_t tok, uint64_t a, uint64_t b, unsigned d)
{
    if (!names_on)
        return;
    struct name *n = name_slot(tok);
    if (n->tok == tok)
        return;
    n->tok = tok;
    n->a = a;
    n->b = b;
    n->d = d;
}

static void name_print(uint64_t tok)
{
    struct name *n = name_slot(tok);
    if (n->tok != tok) {
        printf("?%016llx", (unsigned long long)tok);
    } else if (n->name != NULL) {
        printf("%llu:%s", (unsigned long long)(n->ns > 99 ? 0 : n->ns), n->name);
    } else {
        struct name *a = name_slot(n->a), *b = name_slot(n->b);
        printf("[%s ~%u %s]", a->name ? a->name : "?", n->d, b->name ? b->name : "?");
    }
}

struct item {
    uint64_t *tok;
    size_t n;
    uint32_t *gram;              /* the n-gram model's features */
    size_t ngram;
    bool spam, train;
    char name[80];
};

struct table {
    uint64_t *keys;
    struct bayes_counts *vals;
    size_t cap, n;
};

static struct bayes_counts *slot(struct table *t, uint64_t k, bool create)
{
    if (create && (t->n + 1) * 2 > t->cap) {
        struct table nt = {calloc(t->cap * 2, 8), calloc(t->cap * 2, sizeof(struct bayes_counts)),
                           t->cap * 2, 0};
        for (size_t i = 0; i < t->cap; i++)
            if (t->keys[i])
                *slot(&nt, t->keys[i], true) = t->vals[i];
        free(t->keys);
        free(t->vals);
        *t = nt;
    }
    size_t i = k & (t->cap - 1);
    while (t->keys[i] && t->keys[i] != k)
        i = (i + 1) & (t->cap - 1);
    if (!t->keys[i]) {
        if (!create)
            return NULL;
        t->keys[i] = k;
        t->n++;
    }
    return &t->vals[i];
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct contrib {
    uint64_t tok;
    struct bayes_counts c;
    double f;
};

static int by_dev(const void *a, const void *b)
{
    double x = fabs(((const struct contrib *)a)->f - 0.5),
           y = fabs(((const struct contrib *)b)->f - 0.5);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The verdict of one test message and its most extreme tokens. */
static void explain_item(const struct item *it, const struct bayes_counts *cnt, uint64_t ls,
                         uint64_t lh, const struct bayes_params *params,
                         const struct bayes_verdict *v)
{
    struct contrib *c = calloc(it->n + 1, sizeof(*c));
    size_t k = 0, unseen = 0;
    for (size_t i = 0; i < it->n; i++) {
        double sp = cnt[i].spam, hm = cnt[i].ham, n = sp + hm;
        if (n == 0) {
            unseen++;
            continue;
        }
        double sf = sp / (double)ls, hf = hm / (double)lh, p = sf / (sf + hf);
        c[k].tok = it->tok[i];
        c[k].c = cnt[i];
        c[k].f = (params->strength * 0.5 + n * p) / (params->strength + n);
        k++;
    }
    qsort(c, k, sizeof(*c), by_dev);
    printf("== %s %s p=%.4f used=%u tokens=%zu unseen=%zu\n", it->name,
           it->spam ? "SPAM" : "HAM", v->prob, v->used, it->n, unseen);
    int top = getenv("BAYES_EXPLAIN_TOP") ? atoi(getenv("BAYES_EXPLAIN_TOP")) : 40;
    for (size_t i = 0; i < k && i < (size_t)top; i++) {
        printf("  %.3f %4u/%-4u ", c[i].f, c[i].c.spam, c[i].c.ham);
        name_print(c[i].tok);
        printf("\n");
    }
    free(c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [osb_window]\n", argv[0]);
        return 2;
    }
    static const struct {
        const char *dir;
        bool spam;
    } sets[] = {{"easy-ham-1", false}, {"easy-ham-2", false}, {"hard-ham-1", false},
                {"spam-1", true}, {"spam-2", true}};
    struct bayes_tokenizer_opts topts = {argc > 2 ? (unsigned)atoi(argv[2]) : 0, 0,
                                         getenv("BAYES_NOHDR") == NULL};
    mime_global_init();
    const char *explain = getenv("BAYES_EXPLAIN");
    if (explain != NULL) {
        names_on = true;
        names_cap = 1 << 22;
        names = calloc(names_cap, sizeof(*names));
    }
    double tok_time = 0;
    int cv = getenv("BAYES_EVAL_CV") ? atoi(getenv("BAYES_EVAL_CV")) : 0;
    size_t cap = 8192, n = 0;
    struct item *items = calloc(cap, sizeof(*items));
    double t0 = now();
    for (size_t s = 0; s < 5; s++) {
        char dpath[4096];
        snprintf(dpath, sizeof(dpath), "%s/%s", argv[1], sets[s].dir);
        DIR *d = opendir(dpath);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l < 5 || strcmp(de->d_name + l - 4, ".txt") != 0)
                continue;
            char path[8192];
            snprintf(path, sizeof(path), "%s/%s", dpath, de->d_name);
            size_t len;
            char *raw = buf_slurp(path, &len);
            struct arena *a = arena_new(0);
            struct message *m;
            const char *err;
            if (raw && message_parse(a, raw, len, NULL, &m, &err) == 0) {
                struct bayes_tokens tk;
                double tt = now();
                bayes_tokenize(a, m, &topts, &tk);
                tok_time += now() - tt;
                items[n].tok = malloc(tk.n * 8 + 8);
                memcpy(items[n].tok, tk.v, tk.n * 8);
                items[n].n = tk.n;
                char view[BAYES_NGRAM_VIEW];
                size_t vl = bayes_ngram_view(m, view, sizeof(view));
                items[n].gram = malloc((vl + 1) * sizeof(uint32_t));
                items[n].ngram = bayes_ngram_features(view, vl, items[n].gram);
                items[n].spam = sets[s].spam;
                /* BAYES_EVAL_CV=1 or 2: tune on the training half only
                 * (ids 1 mod 4 train and 3 mod 4 test, or the reverse;
                 * even ids unused). */
                int id = atoi(de->d_name);
                if (cv && id % 2 == 0) {
                    arena_free(&a);
                    free(raw);
                    continue;
                }
                items[n].train = cv == 1 ? id % 4 == 1 : cv == 2 ? id % 4 == 3 : id % 2 == 1;
                snprintf(items[n].name, sizeof(items[n].name), "%s/%.50s", sets[s].dir,
                         de->d_name);
                n++;
            }
            arena_free(&a);
            free(raw);
        }
        if (d)
            closedir(d);
    }
    double t1 = now();
    printf("tokenize alone: %.3fs (%.1f us a message)\n", tok_time, tok_time * 1e6 / (double)n);
    struct table t = {calloc(1 << 16, 8), calloc(1 << 16, sizeof(struct bayes_counts)), 1 << 16, 0};
    uint64_t ls = 0, lh = 0;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].train)
            continue;
        items[i].spam ? ls++ : lh++;
        for (size_t k = 0; k < items[i].n; k++) {
            struct bayes_counts *c = slot(&t, items[i].tok[k], true);
            items[i].spam ? c->spam++ : c->ham++;
        }
    }
    /* The n-gram model on the same training messages (BAYES_EVAL_NGRAM=0:
     * the token classifier alone). */
    bool use_ngram = getenv("BAYES_EVAL_NGRAM") == NULL || atoi(getenv("BAYES_EVAL_NGRAM")) != 0;
    float *weights = calloc(BAYES_NGRAM_WEIGHTS, sizeof(float));
    if (use_ngram) {
        struct bayes_example *ex = calloc(n + 1, sizeof(*ex));
        size_t nex = 0, *order = calloc(n + 1, sizeof(size_t));
        for (size_t i = 0; i < n; i++)
            if (items[i].train) {
                char d[33];
                struct bayes_tokens tk = {items[i].tok, items[i].n};
                bayes_digest(&tk, d);           /* the daemon's key (ngram_train.c) */
                ex[nex++] = (struct bayes_example){items[i].gram, items[i].ngram, items[i].spam,
                                                   bayes_ngram_digest_key(d, 32)};
            }
        float *scratch = malloc(BAYES_NGRAM_WEIGHTS * sizeof(float));
        bayes_ngram_train(weights, scratch, ex, nex, order);
        free(scratch);
        free(ex);
        free(order);
    }
    double t2 = now();
    struct bayes_params params;
    bayes_params_defaults(&params);
    /* Overrides for parameter sweeps. */
    if (getenv("BAYES_S"))
        params.strength = atof(getenv("BAYES_S"));
    if (getenv("BAYES_MINDEV"))
        params.min_dev = atof(getenv("BAYES_MINDEV"));
    if (getenv("BAYES_MAXTOK"))
        params.max_tokens = (unsigned)atoi(getenv("BAYES_MAXTOK"));
    if (getenv("BAYES_LLR_ALPHA"))
        params.llr_alpha = atof(getenv("BAYES_LLR_ALPHA"));
    static const double thr[] = {0.5, 0.8, 0.9, 0.95, 0.99};
    size_t fp[5] = {0}, fn[5] = {0}, th = 0, ts = 0, unsure = 0;
    size_t fp_tok[5] = {0}, fn_tok[5] = {0};
    struct bayes_counts *cnt = calloc(100000, sizeof(*cnt));
    /* BAYES_EVAL_DUMP=FILE: one line per test message (set, file, class,
     * probability, tokens used) for combining with the heuristics' scores. */
    FILE *dump = getenv("BAYES_EVAL_DUMP") ? fopen(getenv("BAYES_EVAL_DUMP"), "w") : NULL;
    for (size_t i = 0; i < n; i++) {
        if (items[i].train)
            continue;
        struct bayes_tokens tk = {items[i].tok, items[i].n};
        for (size_t k = 0; k < tk.n && k < 100000; k++) {
            struct bayes_counts *c = slot(&t, tk.v[k], false);
            cnt[k] = c ? *c : (struct bayes_counts){0, 0};
        }
        struct bayes_verdict v;
        bayes_classify(&tk, cnt, ls, lh, &params, &v);
        double p_tokens = v.prob;
        if (use_ngram && v.ok)
            v.prob = bayes_ngram_mix(v.prob, bayes_ngram_score(weights, items[i].gram,
                                                                items[i].ngram));
        for (int k = 0; k < 5; k++) {
            if (!items[i].spam && p_tokens >= thr[k])
                fp_tok[k]++;
            if (items[i].spam && p_tokens < thr[k])
                fn_tok[k]++;
        }
        items[i].spam ? ts++ : th++;
        if (!v.ok)
            unsure++;
        for (int k = 0; k < 5; k++) {
            if (!items[i].spam && v.prob >= thr[k])
                fp[k]++;
            if (items[i].spam && v.prob < thr[k])
                fn[k]++;
        }
        if (dump != NULL)
            fprintf(dump, "%s %d %.8f %u\n", items[i].name, items[i].spam, v.prob, v.used);
        if (explain != NULL && strstr(items[i].name, explain) != NULL)
            explain_item(&items[i], cnt, ls, lh, &params, &v);
        if (getenv("BAYES_EVAL_VERBOSE") &&
            ((!items[i].spam && v.prob >= 0.9) || (items[i].spam && v.prob < 0.5)))
            printf("  miss %s prob=%.4f used=%u\n", items[i].name, v.prob, v.used);
    }
    double t3 = now();
    /* BAYES_EVAL_CACHE=SLOTS: the scanner's token cache over two passes of
     * the test half (hit rate of the second pass). */
    if (getenv("BAYES_EVAL_CACHE")) {
        struct bayes_cache *cache = bayes_cache_new((size_t)atol(getenv("BAYES_EVAL_CACHE")));
        size_t hits = 0, lookups = 0;
        bayes_cache_revision(cache, 1, ls, lh);
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < n; i++) {
                if (items[i].train)
                    continue;
                for (size_t k = 0; k < items[i].n; k++) {
                    struct bayes_counts c;
                    if (bayes_cache_get(cache, items[i].tok[k], &c)) {
                        hits += pass;
                    } else {
                        struct bayes_counts *sc = slot(&t, items[i].tok[k], false);
                        c = sc ? *sc : (struct bayes_counts){0, 0};
                        bayes_cache_put(cache, items[i].tok[k], &c);
                    }
                    lookups += pass;
                }
            }
        printf("token cache %s slots: second pass %zu of %zu lookups hit (%.1f%%)\n",
               getenv("BAYES_EVAL_CACHE"), hits, lookups, 100.0 * hits / lookups);
        bayes_cache_free(&cache);
    }
    if (dump != NULL)
        fclose(dump);
    size_t once = 0;
    for (size_t i = 0; i < t.cap; i++)
        once += t.keys[i] && t.vals[i].spam + t.vals[i].ham == 1;
    printf("messages: %zu (train %llu spam + %llu ham, test %zu spam + %zu ham); %zu features, "
           "%zu seen once\n",
           n, (unsigned long long)ls, (unsigned long long)lh, ts, th, t.n, once);
    printf("parse+tokenize %.2fs (%.0f msg/s), train %.2fs, classify %.2fs; %zu without verdict\n",
           t1 - t0, n / (t1 - t0), t2 - t1, t3 - t2, unsure);
    if (use_ngram)
        for (int k = 0; k < 5; k++)
            printf("tokens alone %.2f: FP %zu/%zu = %.2f%%  FN %zu/%zu = %.2f%%\n", thr[k],
                   fp_tok[k], th, 100.0 * fp_tok[k] / th, fn_tok[k], ts, 100.0 * fn_tok[k] / ts);
    for (int k = 0; k < 5; k++)
        printf("threshold %.2f: FP %zu/%zu = %.2f%%  FN %zu/%zu = %.2f%%\n", thr[k], fp[k], th,
               100.0 * fp[k] / th, fn[k], ts, 100.0 * fn[k] / ts);
    return 0;
}
