/*
 * The n-gram model's life in Redis (the model itself is ngram.c):
 *
 *   <G>_E    hash    examples: digest of the learned message -> class
 *                    letter ('S'/'H') + its n-gram view (learn.c writes)
 *   <G>_EQ   list    the digests, newest first: beyond `ngram_examples`
 *                    the oldest example is dropped
 *   <G>_M    string  the model: "WNG1", the examples count it was trained
 *                    at (8 bytes), 2^20 float32 weights, little endian
 *   <G>_ML   string  the trainer's lock
 *   <G>      hash    fields `examples` (bumped by every learn) and `model`
 *                    (the examples count of <G>_M)
 *
 * G is the global prefix: one model for all users.  Every `ngram_interval`
 * seconds the controller (other processes every 10 intervals, in case
 * there is no controller) looks whether learns came in since the model was
 * trained; whoever wins the lock reads the examples (HSCAN, 200 at a time),
 * trains (a few hundred milliseconds for 10000 examples: the loop is
 * blocked that long, which is why it is the controller's job) and writes
 * the model.  Scanners read `model` with their counters and fetch <G>_M
 * when it moved (module.c).  Owns the per-process model and the trainer's
 * state.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "modules/bayes/bayes_private.h"

#define MIN_EXAMPLES 5           /* of each class, before a model is trained */

struct example_set {
    uint32_t *f;                 /* all examples' features, one after the other */
    size_t nf, capf;
    struct bayes_example *ex;    /* .f is an offset into f until training */
    size_t n, cap;
    size_t nspam;
};

struct bayes_ngram {
    struct bayes_ctx *ctx;
    struct ev_loop *loop;
    ev_timer timer;
    bool busy;                   /* a training round is in flight */
    bool fetching;               /* a scan is fetching the model */
    ev_tstamp fetch_started;     /* a fetch whose scan ended early is given up after 5 s */
    float *w;                    /* the model in use; NULL before the first */
    uint64_t id;                 /* its examples count */
    uint64_t fetch_id;           /* the id a fetch in flight was started for */
    uint64_t target;             /* the examples count being trained at */
    uint64_t too_few;            /* the examples count last found too few to train on */
    char cursor[32];
    struct example_set set;
    char key_hash[320], key_examples[320], key_model[320], key_lock[320];
};

/* ---- the trainer ---- */

static void set_reset(struct example_set *s)
{
    free(s->f);
    free(s->ex);
    memset(s, 0, sizeof(*s));
}

/* One stored example: class letter + view.  Anything else is skipped (a
 * damaged or foreign entry must not stop the training). */
static void set_add(struct example_set *s, const char *digest, size_t dlen, const char *v,
                    size_t len)
{
    if (len < 2 || (v[0] != 'S' && v[0] != 'H'))
        return;
    size_t vl = len - 1 < BAYES_NGRAM_VIEW ? len - 1 : BAYES_NGRAM_VIEW;
    if (s->nf + vl > s->capf) {
        s->capf = (s->nf + vl) * 2;
        s->f = realloc(s->f, s->capf * sizeof(*s->f));
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->ex = realloc(s->ex, s->cap * sizeof(*s->ex));
    }
    if (s->f == NULL || s->ex == NULL)
        panic("bayes: out of memory");
    size_t nf = bayes_ngram_features(v + 1, vl, s->f + s->nf);
    s->ex[s->n].f = (const uint32_t *)(uintptr_t)s->nf;     /* an offset for now */
    s->ex[s->n].n = nf;
    s->ex[s->n].spam = v[0] == 'S';
    s->ex[s->n].key = bayes_ngram_digest_key(digest, dlen);
    s->nspam += v[0] == 'S';
    s->nf += nf;
    s->n++;
}

/* A lock left behind by a failed DEL expires by itself. */
static void unlocked(const redisReply *r, const char *err, void *data)
{
    (void)r;
    (void)err;
    (void)data;
}

static void round_end(struct bayes_ngram *ng)
{
    const char *argv[] = {"DEL", ng->key_lock};
    size_t len[] = {3, strlen(ng->key_lock)};
    redis_command(ng->ctx->pool, REDIS_WRITE, 2, argv, len, unlocked, NULL);
    set_reset(&ng->set);
    ng->busy = false;
}

static void round_fail(struct bayes_ngram *ng, const char *what, const redisReply *r,
                       const char *err)
{
    if (ng->ctx->pool != NULL)
        log_warn("bayes: n-gram model: %s failed (retried in %.0f s): %s", what,
                 ng->ctx->ngram_interval,
                 r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : err ? err : "no reply");
    round_end(ng);
}

static bool failed(const redisReply *r)
{
    return r == NULL || r->type == REDIS_REPLY_ERROR;
}

static void id_written(const redisReply *r, const char *err, void *data)
{
    struct bayes_ngram *ng = data;
    if (failed(r)) {
        round_fail(ng, "writing the model's id", r, err);
        return;
    }
    round_end(ng);
}

/* The model first, its id after: a scanner that sees the new id finds the
 * new model (whose own copy of the id is what it keeps). */
static void model_written(const redisReply *r, const char *err, void *data)
{
    struct bayes_ngram *ng = data;
    if (failed(r)) {
        round_fail(ng, "writing the model", r, err);
        return;
    }
    char id[24];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)ng->target);
    const char *argv[] = {"HSET", ng->key_hash, "model", id};
    size_t len[] = {4, strlen(ng->key_hash), 5, strlen(id)};
    redis_command(ng->ctx->pool, REDIS_WRITE, 4, argv, len, id_written, ng);
}

static void train_and_write(struct bayes_ngram *ng)
{
    struct example_set *s = &ng->set;
    if (s->nspam < MIN_EXAMPLES || s->n - s->nspam < MIN_EXAMPLES) {
        log_debug("bayes", "bayes: n-gram model: %zu spam and %zu ham examples, %d of each "
                  "needed", s->nspam, s->n - s->nspam, MIN_EXAMPLES);
        ng->too_few = ng->target;        /* not read again until something is learned */
        round_end(ng);
        return;
    }
    size_t *order = malloc(s->n * sizeof(size_t));
    if (order == NULL)
        panic("bayes: out of memory");
    for (size_t i = 0; i < s->n; i++)
        s->ex[i].f = s->f + (uintptr_t)s->ex[i].f;
    ev_tstamp t0 = ev_time();
    float *w = malloc(BAYES_NGRAM_WEIGHTS * sizeof(float));
    float *scratch = malloc(BAYES_NGRAM_WEIGHTS * sizeof(float));
    if (w == NULL || scratch == NULL)
        panic("bayes: out of memory");
    bayes_ngram_train(w, scratch, s->ex, s->n, order);
    free(scratch);
    free(order);
    char *blob = bayes_ngram_model_serialize(w, ng->target);
    free(w);
    log_info("bayes: n-gram model trained on %zu examples (%zu spam, %zu ham) in %.0f ms",
             s->n, s->nspam, s->n - s->nspam, (ev_time() - t0) * 1000);
    const char *argv[] = {"SET", ng->key_model, blob};
    size_t len[] = {3, strlen(ng->key_model), BAYES_NGRAM_MODEL_SIZE};
    redis_command(ng->ctx->pool, REDIS_WRITE, 3, argv, len, model_written, ng);
    free(blob);
}

static void scan_next(struct bayes_ngram *ng);

static void scan_reply(const redisReply *r, const char *err, void *data)
{
    struct bayes_ngram *ng = data;
    if (failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
        round_fail(ng, "reading the examples", r, err);
        return;
    }
    const redisReply *kv = r->element[1];
    for (size_t i = 0; i + 1 < kv->elements; i += 2)
        if (kv->element[i + 1]->type == REDIS_REPLY_STRING)
            set_add(&ng->set, kv->element[i]->str, kv->element[i]->len, kv->element[i + 1]->str,
                    kv->element[i + 1]->len);
    snprintf(ng->cursor, sizeof(ng->cursor), "%.*s", (int)r->element[0]->len,
             r->element[0]->str);
    if (strcmp(ng->cursor, "0") == 0)
        train_and_write(ng);
    else
        scan_next(ng);
}

static void scan_next(struct bayes_ngram *ng)
{
    const char *argv[] = {"HSCAN", ng->key_examples, ng->cursor, "COUNT", "200"};
    size_t len[] = {5, strlen(ng->key_examples), strlen(ng->cursor), 5, 3};
    redis_command(ng->ctx->pool, REDIS_READ, 5, argv, len, scan_reply, ng);
}

static void counts_reply(const redisReply *r, const char *err, void *data)
{
    struct bayes_ngram *ng = data;
    if (failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        round_fail(ng, "reading the counters", r, err);
        return;
    }
    uint64_t examples = bayes_reply_count(r->element[0]), model = bayes_reply_count(r->element[1]);
    if (examples == 0 || examples == model || examples == ng->too_few) {
        round_end(ng);                   /* nothing learned since */
        return;
    }
    ng->target = examples;
    snprintf(ng->cursor, sizeof(ng->cursor), "0");
    scan_next(ng);
}

static void lock_reply(const redisReply *r, const char *err, void *data)
{
    struct bayes_ngram *ng = data;
    if (failed(r)) {
        if (ng->ctx->pool != NULL)
            log_debug("bayes", "bayes: n-gram model: lock: %s",
                      r != NULL ? r->str : err ? err : "no reply");
        ng->busy = false;
        return;
    }
    if (r->type != REDIS_REPLY_STATUS) {     /* nil: another process trains */
        ng->busy = false;
        return;
    }
    const char *argv[] = {"HMGET", ng->key_hash, "examples", "model"};
    size_t len[] = {5, strlen(ng->key_hash), 8, 5};
    redis_command(ng->ctx->pool, REDIS_READ, 4, argv, len, counts_reply, ng);
}

static void tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct bayes_ngram *ng = w->data;
    if (ng->busy || ng->ctx->pool == NULL || !redis_pool_available(ng->ctx->pool, REDIS_WRITE))
        return;
    ng->busy = true;
    char pid[24];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    /* The lock outlives a trainer that dies mid-round by at most a minute. */
    const char *argv[] = {"SET", ng->key_lock, pid, "NX", "PX", "60000"};
    size_t len[] = {3, strlen(ng->key_lock), strlen(pid), 2, 2, 5};
    redis_command(ng->ctx->pool, REDIS_WRITE, 6, argv, len, lock_reply, ng);
}

/* ---- per process ---- */

struct bayes_ngram *bayes_ngram_start(struct bayes_ctx *ctx, struct ev_loop *loop)
{
    if (ctx->ngram_examples == 0 || ctx->pool == NULL)
        return NULL;
    struct bayes_ngram *ng = calloc(1, sizeof(*ng));
    if (ng == NULL)
        panic("bayes: out of memory");
    ng->ctx = ctx;
    ng->loop = loop;
    snprintf(ng->key_hash, sizeof(ng->key_hash), "%s", ctx->prefix);
    snprintf(ng->key_examples, sizeof(ng->key_examples), "%s_E", ctx->prefix);
    snprintf(ng->key_model, sizeof(ng->key_model), "%s_M", ctx->prefix);
    snprintf(ng->key_lock, sizeof(ng->key_lock), "%s_ML", ctx->prefix);
    double every = ctx->ngram_interval;
    if (strcmp(log_process(), "controller") != 0)
        every *= 10;
    ev_timer_init(&ng->timer, tick, every, every);
    ng->timer.data = ng;
    ev_timer_start(loop, &ng->timer);
    return ng;
}

void bayes_ngram_stop(struct bayes_ngram *ng)
{
    if (ng != NULL)
        ev_timer_stop(ng->loop, &ng->timer);
}

void bayes_ngram_free(struct bayes_ngram **ngp)
{
    struct bayes_ngram *ng = *ngp;
    if (ng == NULL)
        return;
    set_reset(&ng->set);
    free(ng->w);
    free(ng);
    *ngp = NULL;
}

/* ---- the scanners' copy ---- */

const float *bayes_ngram_weights(const struct bayes_ngram *ng)
{
    return ng != NULL ? ng->w : NULL;
}

bool bayes_ngram_wants(const struct bayes_ngram *ng, uint64_t id)
{
    return ng != NULL && id != 0 && id != ng->id &&
           (!ng->fetching || ev_now(ng->loop) - ng->fetch_started > 5.0);
}

const char *bayes_ngram_key(const struct bayes_ngram *ng)
{
    return ng->key_model;
}

void bayes_ngram_fetching(struct bayes_ngram *ng, uint64_t id)
{
    ng->fetching = true;
    ng->fetch_started = ev_now(ng->loop);
    ng->fetch_id = id;
}

void bayes_ngram_loaded(struct bayes_ngram *ng, const redisReply *r)
{
    /* Redis down or an error reply: the fetch stays "in flight", so the
     * next try waits out the 5 s give-up instead of coming with every scan. */
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        return;
    ng->fetching = false;
    if (r->type != REDIS_REPLY_STRING) {
        /* `model` names a model that is not there (deleted, or evicted by a
         * maxmemory policy): asking again with every scan would not bring
         * it back, the next training will. */
        log_warn("bayes: %s is missing though the statistics name model %llu; the token "
                 "counts classify alone until the next training", ng->key_model,
                 (unsigned long long)ng->fetch_id);
        ng->id = ng->fetch_id;
        return;
    }
    float *w = ng->w != NULL ? ng->w : malloc(BAYES_NGRAM_WEIGHTS * sizeof(float));
    if (w == NULL)
        panic("bayes: out of memory");
    uint64_t id;
    if (bayes_ngram_model_parse(r->str, r->len, w, &id) < 0) {
        log_warn("bayes: %s is not a model of this version (%zu bytes); ignored until the "
                 "next training", ng->key_model, r->len);
        if (ng->w == NULL)
            free(w);
        ng->id = ng->fetch_id;           /* not again until the next training */
        return;
    }
    ng->w = w;
    ng->id = id;
}
