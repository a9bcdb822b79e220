/*
 * winnow-bayes-eval: offline accuracy of the Bayes core on the SpamAssassin
 * public corpus with the split of the accuracy benchmark (odd message ids
 * train, even ids test; ham = easy-ham-1, easy-ham-2, hard-ham-1; spam =
 * spam-1, spam-2).  Counts live in memory, so tokenizer and classifier
 * changes can be measured in seconds.  Usage: winnow-bayes-eval DATA_DIR
 * [window]
 *
 * Environment: BAYES_S, BAYES_MINDEV, BAYES_MAXTOK override the classifier's
 * strength, min_dev and top-N; BAYES_NOHDR=1 drops the header tokens;
 * BAYES_EVAL_DUMP=FILE writes each test message's probability, which
 * bench/accuracy-combine adds to the heuristics' scores (docs/bayes.md).
 * Test-only numbers: nothing here is trained on an even id.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "mime/message.h"
#include "modules/bayes/bayes.h"

struct item {
    uint64_t *tok;
    size_t n;
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

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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
            char *raw = slurp(path, &len);
            struct arena *a = arena_new(0);
            struct message *m;
            const char *err;
            if (raw && message_parse(a, raw, len, NULL, &m, &err) == 0) {
                struct bayes_tokens tk;
                bayes_tokenize(a, m, &topts, &tk);
                items[n].tok = malloc(tk.n * 8 + 8);
                memcpy(items[n].tok, tk.v, tk.n * 8);
                items[n].n = tk.n;
                items[n].spam = sets[s].spam;
                items[n].train = atoi(de->d_name) % 2 == 1;
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
    static const double thr[] = {0.5, 0.8, 0.9, 0.95, 0.99};
    size_t fp[5] = {0}, fn[5] = {0}, th = 0, ts = 0, unsure = 0;
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
        if (getenv("BAYES_EVAL_VERBOSE") &&
            ((!items[i].spam && v.prob >= 0.9) || (items[i].spam && v.prob < 0.5)))
            printf("  miss %s prob=%.4f used=%u\n", items[i].name, v.prob, v.used);
    }
    double t3 = now();
    if (dump != NULL)
        fclose(dump);
    printf("messages: %zu (train %llu spam + %llu ham, test %zu spam + %zu ham); %zu features\n",
           n, (unsigned long long)ls, (unsigned long long)lh, ts, th, t.n);
    printf("parse+tokenize %.2fs (%.0f msg/s), train %.2fs, classify %.2fs; %zu without verdict\n",
           t1 - t0, n / (t1 - t0), t2 - t1, t3 - t2, unsure);
    for (int k = 0; k < 5; k++)
        printf("threshold %.2f: FP %zu/%zu = %.2f%%  FN %zu/%zu = %.2f%%\n", thr[k], fp[k], th,
               100.0 * fp[k] / th, fn[k], ts, 100.0 * fn[k] / ts);
    return 0;
}
