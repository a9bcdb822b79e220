/*
 * Unit tests of the Bayes core: the tokenizer (deterministic, sorted and
 * unique, case-folded, windows add pairs, headers and URLs add features),
 * the classifier on hand-computed cases, the learn-cache digest, the token
 * value format of the Redis layout ("spam,ham"), the scanner's token
 * cache, and the n-gram model (its view, features, training whatever the
 * order of the learns, and the stored blob).  Table-driven where the cases are data.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "mime/message.h"
#include "modules/bayes/bayes.h"
#include "modules/bayes/bayes_private.h"

static const char MSG[] = "From: Alice <alice@example.org>\r\n"
                          "To: bob@example.com\r\n"
                          "Subject: Cheap offer inside\r\n"
                          "Message-ID: <1@example.org>\r\n"
                          "\r\n"
                          "Hello Bob, the quick brown fox jumps over the lazy dog.\r\n"
                          "Visit http://www.example.net/cgi-bin/click?id=7 today.\r\n";

static void tokenize(struct arena *a, const char *raw, const struct bayes_tokenizer_opts *o,
                     struct bayes_tokens *out)
{
    struct message *m = NULL;
    const char *err = NULL;
    assert_int_equal(message_parse(a, raw, strlen(raw), NULL, &m, &err), 0);
    bayes_tokenize(a, m, o, out);
}

static bool has(const struct bayes_tokens *t, uint64_t v)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i] == v)
            return true;
    return false;
}

static void test_tokenizer_properties(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct bayes_tokenizer_opts o = {0, 0, true};
    struct bayes_tokens t1, t2;
    tokenize(a, MSG, &o, &t1);
    tokenize(a, MSG, &o, &t2);
    assert_true(t1.n > 20);
    /* deterministic */
    assert_int_equal(t1.n, t2.n);
    assert_memory_equal(t1.v, t2.v, t1.n * sizeof(uint64_t));
    /* sorted, unique */
    for (size_t i = 1; i < t1.n; i++)
        assert_true(t1.v[i - 1] < t1.v[i]);
    arena_free(&a);
}

/* Each row: two bodies, and whether their token sets must be equal. */
static const struct {
    const char *a, *b;
    bool equal;
} body_cases[] = {
    {"Hello World again and again", "hello world AGAIN and again", true},   /* case folding */
    {"Grüße aus Köln heute abend", "GRÜSSE aus köln heute abend", true},    /* full case folding: ß = ss */
    {"Grüße aus Köln", "Grusse aus Koln", false},                           /* accents are kept */
    {"one two three four five", "one two three four six", false},
    {"one, two; three... four five", "one two three four five", true},       /* punctuation separates */
};

static void test_tokenizer_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(body_cases) / sizeof(body_cases[0]); c++) {
        struct arena *a = arena_new(0);
        char ma[512], mb[512];
        snprintf(ma, sizeof(ma), "Subject: x\r\n\r\n%s\r\n", body_cases[c].a);
        snprintf(mb, sizeof(mb), "Subject: x\r\n\r\n%s\r\n", body_cases[c].b);
        struct bayes_tokenizer_opts o = {0, 0, false};
        struct bayes_tokens ta, tb;
        tokenize(a, ma, &o, &ta);
        tokenize(a, mb, &o, &tb);
        bool eq = ta.n == tb.n && memcmp(ta.v, tb.v, ta.n * sizeof(uint64_t)) == 0;
        if (eq != body_cases[c].equal)
            fail_msg("case %zu: \"%s\" vs \"%s\": equal=%d", c, body_cases[c].a,
                     body_cases[c].b, eq);
        arena_free(&a);
    }
}

static void test_tokenizer_window_and_headers(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct bayes_tokens uni, pairs, wide, nohdr;
    tokenize(a, MSG, &(struct bayes_tokenizer_opts){1, 0, true}, &uni);
    tokenize(a, MSG, &(struct bayes_tokenizer_opts){2, 0, true}, &pairs);
    tokenize(a, MSG, &(struct bayes_tokenizer_opts){4, 0, true}, &wide);
    tokenize(a, MSG, &(struct bayes_tokenizer_opts){2, 0, false}, &nohdr);
    assert_true(uni.n < pairs.n);
    assert_true(pairs.n < wide.n);
    assert_true(nohdr.n < pairs.n);
    /* every unigram is also in the windowed set */
    for (size_t i = 0; i < uni.n; i++)
        assert_true(has(&pairs, uni.v[i]));
    arena_free(&a);
}

/* Classifier.  With strength s, a token seen n times with spam frequency
 * fraction p has f = (s/2 + n p) / (s + n); Fisher's method on k such
 * tokens.  Hand-computed expectations (independently of classify.c). */
static double chi2q_ref(double x2, unsigned dof)
{
    double m = x2 / 2, sum = exp(-m), term = sum;
    for (unsigned i = 1; i < dof / 2; i++) {
        term *= m / i;
        sum += term;
    }
    return fmin(sum, 1.0);
}

static void test_classify_hand_computed(void **state)
{
    (void)state;
    uint64_t v[20];
    struct bayes_counts c[20];
    for (int i = 0; i < 20; i++) {
        v[i] = (uint64_t)i + 1;
        c[i] = (struct bayes_counts){10, 0};   /* seen in 10 of 10 spam, 0 of 10 ham */
    }
    struct bayes_tokens t = {v, 20};
    struct bayes_params p;
    bayes_params_defaults(&p);
    struct bayes_verdict out;
    bayes_classify(&t, c, 10, 10, &p, &out);
    assert_true(out.ok);
    assert_int_equal(out.used, 20);
    /* f = (0.225 + 10) / 10.45 for every token */
    double f = (p.strength * 0.5 + 10.0) / (p.strength + 10.0);
    double S = 1 - chi2q_ref(-2 * 20 * log(1 - f), 40);
    double H = 1 - chi2q_ref(-2 * 20 * log(f), 40);
    double want = (1 + S - H) / 2;
    assert_true(fabs(out.prob - want) < 1e-9);
    assert_true(out.prob > 0.99);

    /* the mirror image is ham with the same confidence */
    for (int i = 0; i < 20; i++)
        c[i] = (struct bayes_counts){0, 10};
    bayes_classify(&t, c, 10, 10, &p, &out);
    assert_true(fabs(out.prob - (1 - want)) < 1e-9);

    /* unknown tokens: no verdict */
    for (int i = 0; i < 20; i++)
        c[i] = (struct bayes_counts){0, 0};
    bayes_classify(&t, c, 10, 10, &p, &out);
    assert_false(out.ok);
    assert_true(out.prob == 0.5);

    /* neutral tokens (as often in both classes) are below min_dev */
    for (int i = 0; i < 20; i++)
        c[i] = (struct bayes_counts){5, 5};
    bayes_classify(&t, c, 10, 10, &p, &out);
    assert_false(out.ok);
    assert_int_equal(out.used, 0);

    /* fewer usable tokens than min_tokens: no verdict */
    for (int i = 0; i < 20; i++)
        c[i] = (struct bayes_counts){i < 5 ? 10 : 0, 0};
    bayes_classify(&t, c, 10, 10, &p, &out);
    assert_false(out.ok);
    assert_int_equal(out.used, 5);

    /* class frequencies are relative to each class's learns: a token in 10
     * of 100 spam and 1 of 10 ham is neutral */
    for (int i = 0; i < 20; i++)
        c[i] = (struct bayes_counts){10, 1};
    bayes_classify(&t, c, 100, 10, &p, &out);
    assert_false(out.ok);
}

static void test_classify_tie_break(void **state)
{
    (void)state;
    /* 60 strong spam tokens and 40 strong ham tokens: Fisher's S and H both
     * near 1; the log-odds tie-break must side with the majority. */
    uint64_t v[100];
    struct bayes_counts c[100];
    for (int i = 0; i < 100; i++) {
        v[i] = (uint64_t)i + 1;
        c[i] = i < 60 ? (struct bayes_counts){50, 0} : (struct bayes_counts){0, 50};
    }
    struct bayes_tokens t = {v, 100};
    struct bayes_verdict out;
    bayes_classify(&t, c, 50, 50, NULL, &out);
    assert_true(out.ok);
    assert_true(out.prob > 0.9);
}

/* Inside the unsure band the naive Bayes log-likelihood ratio of all the
 * known tokens decides: p = 1 / (1 + e^(-LLR / 10)), with
 * LLR = Σ ln(((s + α) / (S + 2α)) / ((h + α) / (H + 2α))).  Rows: counts of
 * 20 + 20 balanced tokens plus one extra token, and the class learns. */
static const struct {
    struct bayes_counts extra;
    uint64_t learns_spam, learns_ham;
} llr_cases[] = {
    {{0, 0}, 50, 50},            /* balanced: LLR 0, p = 0.5 */
    {{3, 1}, 50, 50},            /* one mildly spammy token tips it */
    {{1, 3}, 50, 50},
    {{3, 1}, 50, 200},           /* 3 of 50 spam vs 1 of 200 ham: more spammy */
};

static void test_classify_llr_in_band(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(llr_cases) / sizeof(llr_cases[0]); k++) {
        uint64_t v[41];
        struct bayes_counts c[41];
        uint64_t ls = llr_cases[k].learns_spam, lh = llr_cases[k].learns_ham;
        for (int i = 0; i < 40; i++) {
            v[i] = (uint64_t)i + 1;
            /* as often in each class relative to its learns */
            c[i] = i < 20 ? (struct bayes_counts){(uint32_t)(ls / 25), 0}
                          : (struct bayes_counts){0, (uint32_t)(lh / 25)};
        }
        v[40] = 41;
        c[40] = llr_cases[k].extra;
        struct bayes_tokens t = {v, 41};
        struct bayes_params p;
        bayes_params_defaults(&p);
        struct bayes_verdict out;
        bayes_classify(&t, c, ls, lh, &p, &out);
        assert_true(out.ok);
        double a = p.llr_alpha, llr = 0;
        for (int i = 0; i < 41; i++) {
            if (c[i].spam + c[i].ham == 0)
                continue;
            llr += log(((c[i].spam + a) / (ls + 2 * a)) / ((c[i].ham + a) / (lh + 2 * a)));
        }
        double want = 1.0 / (1.0 + exp(-llr / 10.0));
        assert_true(fabs(out.prob - want) < 1e-9);
        if (c[40].spam + c[40].ham == 0)
            assert_true(fabs(out.prob - 0.5) < 1e-9);
        else
            assert_true((out.prob > 0.5) == ((double)c[40].spam / ls > (double)c[40].ham / lh));
    }
}

static int dev_desc(const void *a, const void *b)
{
    double x = fabs(*(const double *)a - 0.5), y = fabs(*(const double *)b - 0.5);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* More usable tokens than max_tokens: the most extreme ones are combined,
 * whatever their order (a reference sorts them all); with many ties too. */
static void test_classify_top_tokens(void **state)
{
    (void)state;
    enum { N = 400 };
    static uint64_t v[N];
    static struct bayes_counts c[N];
    static double f[N];
    for (int round = 0; round < 3; round++) {
        uint32_t x = 12345u + (uint32_t)round;
        for (int i = 0; i < N; i++) {
            x = x * 1103515245u + 12345u;
            v[i] = (uint64_t)i + 1;
            /* round 2: only four distinct count pairs, so many equal devs */
            /* rounds 0, 1: few ties between tokens of different f (the
             * classes' learns differ, so mirrored counts differ in dev);
             * round 2: all tokens equally extreme */
            uint32_t a = round == 2 ? 2 : 3 + (x >> 16) % 4, b = round == 2 ? 0 : (x >> 24) % 6;
            bool spam = (x >> 8) % 16 < 11;    /* 11 in 16: Fisher decides */
            c[i] = (struct bayes_counts){spam ? a : b, spam ? b : a};
        }
        struct bayes_tokens t = {v, N};
        struct bayes_params p;
        bayes_params_defaults(&p);
        p.max_tokens = 60;
        struct bayes_verdict out;
        bayes_classify(&t, c, 100, 137, &p, &out);
        size_t k = 0;
        for (int i = 0; i < N; i++) {
            double sp = c[i].spam / 100.0, hm = c[i].ham / 137.0, n = c[i].spam + c[i].ham;
            double ff = (p.strength * 0.5 + n * (sp / (sp + hm))) / (p.strength + n);
            if (fabs(ff - 0.5) >= p.min_dev)
                f[k++] = ff;
        }
        assert_true(k > p.max_tokens);
        qsort(f, k, sizeof(f[0]), dev_desc);
        double ln_f = 0, ln_1f = 0;
        for (size_t i = 0; i < p.max_tokens; i++) {
            ln_f += log(f[i]);
            ln_1f += log(1 - f[i]);
        }
        assert_int_equal(out.used, p.max_tokens);
        double S = 1 - chi2q_ref(-2 * ln_1f, 2 * p.max_tokens);
        double H = 1 - chi2q_ref(-2 * ln_f, 2 * p.max_tokens);
        if (round == 2) {
            /* which of the equal tokens are taken is arbitrary */
            assert_true(out.ok && out.prob > 0.5);
            continue;
        }
        assert_true(fabs(S - H) >= 0.5);
        assert_true(out.prob > 0.6 && out.prob < 0.9999);   /* not saturated */
        assert_true(fabs(out.prob - (1 + S - H) / 2) < 1e-9);
    }
}

static void test_digest(void **state)
{
    (void)state;
    uint64_t a[] = {1, 2, 3}, b[] = {1, 2, 4};
    char da[33], da2[33], db[33];
    bayes_digest(&(struct bayes_tokens){a, 3}, da);
    bayes_digest(&(struct bayes_tokens){a, 3}, da2);
    bayes_digest(&(struct bayes_tokens){b, 3}, db);
    assert_int_equal(strlen(da), 32);
    assert_string_equal(da, da2);
    assert_string_not_equal(da, db);
    /* a prefix of a token set is another set */
    bayes_digest(&(struct bayes_tokens){a, 2}, db);
    assert_string_not_equal(da, db);
}

/* The learn cache: what a stored value means for a new learn. */
static const struct {
    const char *stored;          /* NULL = no entry */
    bool spam;
    enum bayes_decide want;
} decide_cases[] = {
    {NULL, true, BAYES_DECIDE_LEARN},
    {NULL, false, BAYES_DECIDE_LEARN},
    {"S", true, BAYES_DECIDE_ALREADY},
    {"H", false, BAYES_DECIDE_ALREADY},
    {"S", false, BAYES_DECIDE_MOVE},
    {"H", true, BAYES_DECIDE_MOVE},
    {"X", true, BAYES_DECIDE_LEARN},      /* damaged entry: learn again */
    {"SS", true, BAYES_DECIDE_LEARN},
    {"", false, BAYES_DECIDE_LEARN},
};

static void test_learn_decide(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
        const char *st = decide_cases[i].stored;
        char old = st ? bayes_cache_entry(st, strlen(st)) : 0;
        enum bayes_decide d = bayes_learn_decide(old, decide_cases[i].spam);
        if (d != decide_cases[i].want)
            fail_msg("case %zu (%s, %s): got %d", i, st ? st : "none",
                     decide_cases[i].spam ? "spam" : "ham", (int)d);
    }
}

static const struct {
    const char *in;
    int want_rc;
    uint32_t spam, ham;
} count_cases[] = {
    {"3,4", 0, 3, 4},
    {"0,0", 0, 0, 0},
    {"4294967296,1", 0, UINT32_MAX, 1},   /* clamped */
    {"12", -1, 0, 0},
    {"-1,2", -1, 0, 0},
    {"1,", -1, 0, 0},
    {",1", -1, 0, 0},
    {"1,2,20417", 0, 1, 2},              /* with expiry: the day the token was learned */
    {"1,2,", -1, 0, 0},
    {"1,2,x", -1, 0, 0},
    {"1,2,3,4", -1, 0, 0},
    {"", -1, 0, 0},
};

static void test_parse_counts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(count_cases) / sizeof(count_cases[0]); i++) {
        struct bayes_counts c = {99, 99};
        const char *in = count_cases[i].in;
        int rc = bayes_parse_counts(in, strlen(in), &c);
        if (rc != count_cases[i].want_rc || c.spam != count_cases[i].spam ||
            c.ham != count_cases[i].ham)
            fail_msg("\"%s\": rc %d counts %u,%u", in, rc, c.spam, c.ham);
    }
    /* length-checked: bytes after len are not read */
    struct bayes_counts c;
    assert_int_equal(bayes_parse_counts("5,6789", 3, &c), 0);
    assert_int_equal(c.spam, 5);
    assert_int_equal(c.ham, 6);
}

static void test_token_cache(void **state)
{
    (void)state;
    struct bayes_cache *c = bayes_cache_new(1000);
    struct bayes_counts v;
    bayes_cache_revision(c, 1, 10, 10);
    assert_false(bayes_cache_get(c, 42, &v));
    bayes_cache_put(c, 42, &(struct bayes_counts){3, 4});
    assert_true(bayes_cache_get(c, 42, &v));
    assert_int_equal(v.spam, 3);
    assert_int_equal(v.ham, 4);
    /* same revision: kept */
    bayes_cache_revision(c, 1, 10, 10);
    assert_true(bayes_cache_get(c, 42, &v));
    /* a learn moved the revision: emptied */
    bayes_cache_revision(c, 2, 11, 10);
    assert_false(bayes_cache_get(c, 42, &v));
    /* a colliding token replaces, never aliases */
    bayes_cache_put(c, 42, &(struct bayes_counts){1, 1});
    bayes_cache_put(c, 42 + 1024, &(struct bayes_counts){2, 2});
    if (bayes_cache_get(c, 42, &v))
        assert_int_equal(v.spam, 1);
    assert_true(bayes_cache_get(c, 42 + 1024, &v));
    assert_int_equal(v.spam, 2);
    bayes_cache_free(&c);
    assert_null(c);
    assert_null(bayes_cache_new(0));
}

/* ---- the n-gram model ---- */

static void test_ngram_view(void **state)
{
    (void)state;
    static const char raw[] = "Delivered-To: reader@example.com\r\n"
                              "X-Spam-Status: No, score=-2.0\r\n"
                              "From: a@example.org\r\n"
                              "Subject: lunch\r\n"
                              "\r\n"
                              "See you at noon.\r\n";
    struct arena *a = arena_new(0);
    struct message *m = NULL;
    const char *err = NULL;
    assert_int_equal(message_parse(a, raw, strlen(raw), NULL, &m, &err), 0);
    char view[BAYES_NGRAM_VIEW];
    size_t n = bayes_ngram_view(m, view, sizeof(view));
    /* headers written after the filter are left out; the rest and the text stay */
    assert_null(memmem(view, n, "Delivered-To", 12));
    assert_null(memmem(view, n, "X-Spam-Status", 13));
    assert_non_null(memmem(view, n, "From: a@example.org", 19));
    assert_non_null(memmem(view, n, "Subject: lunch", 14));
    assert_non_null(memmem(view, n, "See you at noon.", 16));
    /* capped at the caller's size */
    assert_int_equal(bayes_ngram_view(m, view, 10), 10);
    arena_free(&a);
}

static void test_ngram_features(void **state)
{
    (void)state;
    uint32_t f[BAYES_NGRAM_VIEW];
    assert_int_equal(bayes_ngram_features("abc", 3, f), 0);
    /* "abcdabcd": abcd, bcda, cdab, dabc, abcd again: 4 distinct */
    assert_int_equal(bayes_ngram_features("abcdabcd", 8, f), 4);
    for (int i = 0; i < 4; i++) {
        assert_true(f[i] < BAYES_NGRAM_WEIGHTS);
        for (int j = 0; j < i; j++)
            assert_true(f[i] != f[j]);
    }
    /* longer input: only the first BAYES_NGRAM_VIEW bytes count */
    static char big[2 * BAYES_NGRAM_VIEW];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + (i * 7919 % 26) + (i / 26 % 3));
    uint32_t g[BAYES_NGRAM_VIEW];
    size_t n1 = bayes_ngram_features(big, sizeof(big), g);
    size_t n2 = bayes_ngram_features(big, BAYES_NGRAM_VIEW, f);
    assert_int_equal(n1, n2);
    assert_memory_equal(f, g, n1 * sizeof(uint32_t));
}

/* Spam says "cheap pills", ham "agenda meeting"; each example also has
 * filler shared by both classes. */
static size_t toy_example(bool spam, int i, uint32_t *f)
{
    char text[256];
    int n = snprintf(text, sizeof(text), "Subject: note %d\r\n%s and the weekly filler text %d",
                     i, spam ? "cheap pills online now" : "agenda for the meeting room", i % 5);
    return bayes_ngram_features(text, (size_t)n, f);
}

static void test_ngram_train_separates_any_order(void **state)
{
    (void)state;
    enum { N = 40 };
    static uint32_t feats[N][256];
    struct bayes_example ham_first[N], mixed[N];
    for (int i = 0; i < N; i++) {
        bool spam = i >= N / 2;          /* all ham, then all spam: the learns' order */
        ham_first[i] = (struct bayes_example){feats[i], toy_example(spam, i, feats[i]), spam,
                                              (uint64_t)(i * 7 % N)};
    }
    for (int i = 0; i < N; i++)
        mixed[i] = ham_first[(i % 2) * (N / 2) + i / 2];
    float *w = calloc(BAYES_NGRAM_WEIGHTS, sizeof(float));
    float *scratch = calloc(BAYES_NGRAM_WEIGHTS, sizeof(float));
    size_t order[N];
    uint32_t t[256];
    for (int pass = 0; pass < 2; pass++) {
        bayes_ngram_train(w, scratch, pass == 0 ? ham_first : mixed, N, order);
        double zs = bayes_ngram_score(w, t, toy_example(true, 99, t));
        double zh = bayes_ngram_score(w, t, toy_example(false, 99, t));
        assert_true(zs > 1.0);
        assert_true(zh < -1.0);
        /* the blend: a confident model moves an unsure token verdict */
        assert_true(bayes_ngram_mix(0.5, zs) > 0.7);
        assert_true(bayes_ngram_mix(0.5, zh) < 0.3);
    }
    /* the same examples, handed over in another order: the same model */
    float *w2 = calloc(BAYES_NGRAM_WEIGHTS, sizeof(float));
    for (int i = 0; i < N; i++)
        mixed[i] = ham_first[N - 1 - i];
    bayes_ngram_train(w2, scratch, mixed, N, order);
    assert_memory_equal(w, w2, BAYES_NGRAM_WEIGHTS * sizeof(float));
    free(w2);
    free(scratch);
    free(w);
}

static void test_ngram_model_blob(void **state)
{
    (void)state;
    float *w = calloc(BAYES_NGRAM_WEIGHTS, sizeof(float)), *r = malloc(BAYES_NGRAM_WEIGHTS * 4);
    w[0] = 1.5f;
    w[12345] = -0.25f;
    w[BAYES_NGRAM_WEIGHTS - 1] = 3e-7f;
    char *blob = bayes_ngram_model_serialize(w, 4242);
    assert_memory_equal(blob, "WNG1", 4);
    uint64_t id = 0;
    assert_int_equal(bayes_ngram_model_parse(blob, BAYES_NGRAM_MODEL_SIZE, r, &id), 0);
    assert_int_equal(id, 4242);
    assert_memory_equal(w, r, BAYES_NGRAM_WEIGHTS * sizeof(float));
    /* a byte short or long, or another magic: refused */
    assert_int_equal(bayes_ngram_model_parse(blob, BAYES_NGRAM_MODEL_SIZE - 1, r, &id), -1);
    assert_int_equal(bayes_ngram_model_parse(blob, BAYES_NGRAM_MODEL_SIZE + 1, r, &id), -1);
    blob[3] = '2';
    assert_int_equal(bayes_ngram_model_parse(blob, BAYES_NGRAM_MODEL_SIZE, r, &id), -1);
    free(blob);
    free(r);
    free(w);
}

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer_properties),
        cmocka_unit_test(test_tokenizer_table),
        cmocka_unit_test(test_tokenizer_window_and_headers),
        cmocka_unit_test(test_classify_hand_computed),
        cmocka_unit_test(test_classify_tie_break),
        cmocka_unit_test(test_classify_llr_in_band),
        cmocka_unit_test(test_classify_top_tokens),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_learn_decide),
        cmocka_unit_test(test_parse_counts),
        cmocka_unit_test(test_token_cache),
        cmocka_unit_test(test_ngram_view),
        cmocka_unit_test(test_ngram_features),
        cmocka_unit_test(test_ngram_train_separates_any_order),
        cmocka_unit_test(test_ngram_model_blob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
