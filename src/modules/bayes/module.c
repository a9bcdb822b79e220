/*
 * bayes: the statistical classifier on Redis (`classifier "bayes" {}` in
 * statistic.conf, Rspamd's layout; options in docs/bayes.md).
 *
 * A scan tokenizes the message (tokenize.c), reads the class counters and
 * the counts of the tokens its token cache (cache.c) does not hold, with
 * one pipelined batch of HMGETs (store.c has the key layout), classifies
 * (classify.c), blends in the n-gram model when one is trained (ngram.c,
 * ngram_train.c) and inserts BAYES_SPAM or BAYES_HAM with the dynamic
 * multiplier ((p - 0.5) * 2)^multiplier_exponent (Rspamd's is 8, ours 4)
 * and the probability as option.  Nothing is inserted below min_tokens tokens or while either class
 * has fewer than min_learns learns.  When Redis fails (unreachable, timeout,
 * error reply) BAYES_UNAVAILABLE (score 0) carries the reason, and the scan
 * goes on: the pool fails fast while a server is down.
 *
 * Owns the per-worker Redis pool and token cache (worker_init /
 * worker_deinit).  Learning and autolearn live in learn.c, the /stat
 * figures in statfile.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/bayes/bayes_module.h"
#include "modules/bayes/bayes_private.h"
#include "modules/module.h"

struct bayes_ctx *bayes_worker_ctx;

static const struct symbol_def bayes_symbols[] = {
    {"BAYES_SPAM", 8.0, "statistics",
     "Message probably spam, probability of spam in the option (score scaled by it)", 0},
    {"BAYES_HAM", -4.0, "statistics",
     "Message probably ham, probability of ham in the option (score scaled by it)", 0},
    {"BAYES_UNAVAILABLE", 0.0, "statistics",
     "Bayes statistics could not be read (Redis unreachable, timeout or error: the option "
     "says which); the message was scanned without them",
     0},
};

/* ---- configuration ---- */

/* `classifier "bayes" {}` (or a `bayes {}` section, when someone writes one). */
static const struct conf_obj *classifier_section(const struct conf_obj *section,
                                                 const struct config *cfg)
{
    if (section != NULL)
        return section;
    if (cfg == NULL || cfg->root == NULL)
        return NULL;
    const struct conf_obj *cl = conf_get(cfg->root, "classifier");
    if (cl == NULL)
        return NULL;
    for (const struct conf_obj *e = conf_each_first(cl); e; e = conf_each_next(cl, e)) {
        const struct conf_obj *b = e->type == CONF_OBJECT ? conf_get(e, "bayes") : NULL;
        if (b != NULL)
            return conf_first(b);
    }
    return NULL;
}

static int conf_uint(const struct conf_obj *sec, const char *key, int64_t def, int64_t min,
                     int64_t max, int64_t *v_r, struct arena *a, const char **error_r)
{
    if (conf_get_int(sec, key, def, v_r, error_r) < 0)
        return -1;
    if (*v_r < min || *v_r > max) {
        *error_r = arena_printf(a, "classifier bayes: %s must be between %lld and %lld", key,
                                (long long)min, (long long)max);
        return -1;
    }
    return 0;
}

/* statfile { symbol = "BAYES_SPAM"; spam = true; } ... */
static int configure_statfiles(const struct conf_obj *sec, struct bayes_ctx *ctx,
                               const char **error_r)
{
    const struct conf_obj *sf = conf_get(sec, "statfile");
    for (const struct conf_obj *e = conf_each_first(sf); e; e = conf_each_next(sf, e)) {
        const char *sym = NULL;
        bool spam = false;
        if (e->type != CONF_OBJECT)
            continue;
        if (conf_get_string(e, "symbol", NULL, &sym, error_r) < 0 ||
            conf_get_bool(e, "spam", false, &spam, error_r) < 0)
            return -1;
        if (sym != NULL) {
            if (spam)
                ctx->sym_spam = sym;
            else
                ctx->sym_ham = sym;
        }
    }
    return 0;
}

/* autolearn = true | [ham, spam] | { ham_threshold; spam_threshold; check_balance; min_balance } */
static int configure_autolearn(const struct conf_obj *sec, struct bayes_autolearn *al,
                               struct arena *a, const char **error_r)
{
    const struct conf_obj *v = conf_get(sec, "autolearn");
    memset(al, 0, sizeof(*al));
    al->min_balance = 0.9;
    if (v == NULL)
        return 0;
    bool b;
    if (conf_as_bool(v, &b)) {
        if (b) {
            al->mode = AUTOLEARN_SCORES;
            al->spam_from_reject = true;
            al->ham_score = -0.001;      /* Rspamd: ham when score < 0 */
        }
        return 0;
    }
    if (v->type == CONF_ARRAY && v->v.list.n == 2) {
        if (!conf_as_double(v->v.list.head, &al->ham_score) ||
            !conf_as_double(v->v.list.head->next, &al->spam_score))
            goto bad;
        al->mode = AUTOLEARN_SCORES;
        return 0;
    }
    if (v->type == CONF_OBJECT) {
        al->mode = AUTOLEARN_SCORES;
        if (conf_get_double(v, "ham_threshold", -0.5, &al->ham_score, error_r) < 0 ||
            conf_get_double(v, "spam_threshold", NAN, &al->spam_score, error_r) < 0 ||
            conf_get_bool(v, "check_balance", true, &al->check_balance, error_r) < 0 ||
            conf_get_double(v, "min_balance", 0.9, &al->min_balance, error_r) < 0)
            return -1;
        if (isnan(al->spam_score))
            al->spam_from_reject = true;
        if (al->min_balance <= 0 || al->min_balance > 1)
            goto bad;
        return 0;
    }
    if (conf_as_string(v) != NULL) {
        *error_r = arena_printf(a, "%s:%u: classifier bayes: autolearn as a Lua function is not "
                                "supported; use true, [ham_score, spam_score] or an object",
                                v->file ? v->file : "?", v->line);
        return -1;
    }
bad:
    *error_r = arena_printf(a, "%s:%u: classifier bayes: autolearn must be true/false, "
                            "[ham_score, spam_score] or { ham_threshold; spam_threshold; }",
                            v->file ? v->file : "?", v->line);
    return -1;
}

static int configure_classifier(const struct conf_obj *sec, struct bayes_ctx *ctx,
                                struct arena *a, const char **error_r)
{
    int64_t v;
    const char *backend = NULL;
    if (conf_get_string(sec, "backend", "redis", &backend, error_r) < 0)
        return -1;
    if (strcmp(backend, "redis") != 0) {
        *error_r = arena_printf(a, "classifier bayes: backend \"%s\" is not supported (redis only)",
                                backend);
        return -1;
    }
    if (conf_get_string(sec, "prefix", "WB", &ctx->prefix, error_r) < 0 ||
        conf_get_bool(sec, "per_user", false, &ctx->per_user, error_r) < 0)
        return -1;
    if (conf_uint(sec, "shards", 8, 1, BAYES_SHARDS_MAX, &v, a, error_r) < 0)
        return -1;
    ctx->nshards = (unsigned)v;
    if (conf_uint(sec, "cache_size", 262144, 0, 1 << 26, &v, a, error_r) < 0)
        return -1;
    ctx->cache_slots = (size_t)v;
    if (conf_uint(sec, "min_learns", 200, 0, 1000000000, &v, a, error_r) < 0)
        return -1;
    ctx->min_learns = (uint64_t)v;
    if (conf_uint(sec, "min_tokens", 11, 1, 100000, &v, a, error_r) < 0)
        return -1;
    ctx->min_tokens = (unsigned)v;
    bayes_params_defaults(&ctx->params);
    if (conf_uint(sec, "max_tokens", ctx->params.max_tokens, 1, 10000, &v, a, error_r) < 0)
        return -1;
    ctx->params.max_tokens = (unsigned)v;
    ctx->params.min_tokens = ctx->min_tokens;
    if (conf_get_double(sec, "strength", ctx->params.strength, &ctx->params.strength, error_r) < 0 ||
        conf_get_double(sec, "min_prob_strength", ctx->params.min_dev, &ctx->params.min_dev,
                        error_r) < 0 ||
        conf_get_double(sec, "multiplier_exponent", 2.0, &ctx->exponent, error_r) < 0)
        return -1;
    if (ctx->exponent < 0.25 || ctx->exponent > 16 || ctx->params.strength <= 0 ||
        ctx->params.min_dev < 0 || ctx->params.min_dev >= 0.5) {
        *error_r = "classifier bayes: multiplier_exponent must be 0.25..16, strength > 0, "
                   "min_prob_strength 0..0.5";
        return -1;
    }
    ctx->topts.header_tokens = true;
    const struct conf_obj *tk = conf_get(sec, "tokenizer");
    if (tk != NULL && tk->type == CONF_OBJECT) {
        if (conf_uint(tk, "window", 0, 0, 8, &v, a, error_r) < 0)
            return -1;
        ctx->topts.osb_window = (unsigned)v;
    }
    ctx->sym_spam = "BAYES_SPAM";
    ctx->sym_ham = "BAYES_HAM";
    if (configure_statfiles(sec, ctx, error_r) < 0)
        return -1;
    return configure_autolearn(sec, &ctx->autolearn, a, error_r);
}

static int bayes_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                           const char **error_r)
{
    *ctx_r = NULL;
    symtab_add_many(env->symtab, bayes_symbols, sizeof(bayes_symbols) / sizeof(bayes_symbols[0]));
    const struct conf_obj *sec = classifier_section(section, env->config);
    if (sec == NULL)
        return 0;    /* no classifier block: disabled (unconfigured) */
    bool enabled = true;
    if (conf_get_bool(sec, "enabled", true, &enabled, error_r) < 0)
        return -1;
    if (!enabled)
        return 0;
    struct bayes_ctx *ctx = ARENA_NEW(env->arena, struct bayes_ctx);
    if (configure_classifier(sec, ctx, env->arena, error_r) < 0)
        return -1;
    const struct conf_obj *global = env->config ? conf_get(env->config->root, "redis") : NULL;
    if (redis_settings_parse(env->arena, sec, conf_first(global), &ctx->redis, error_r) < 0)
        return -1;
    if (!ctx->redis.configured)
        return 0;    /* Rspamd: the redis backend is off without servers */
    /* Bayes' own timeout (Rspamd's backend default 0.5 s), not the global one. */
    if (conf_get_time(sec, "timeout", 0.5, &ctx->redis.timeout, error_r) < 0)
        return -1;
    /* Rspamd's `expire` (seconds, or "100d"): here, singleton tokens not
     * learned for that long are dropped (expire.c). */
    if (conf_get_time(sec, "expire", 0, &ctx->expire, error_r) < 0 ||
        conf_get_time(sec, "expire_interval", 10, &ctx->expire_interval, error_r) < 0)
        return -1;
    /* The n-gram model (ngram.c, ngram_train.c): on unless ngram_examples = 0. */
    int64_t nex;
    if (conf_uint(sec, "ngram_examples", 10000, 0, 1000000, &nex, env->arena, error_r) < 0 ||
        conf_get_time(sec, "ngram_interval", 5, &ctx->ngram_interval, error_r) < 0)
        return -1;
    ctx->ngram_examples = (size_t)nex;
    if (ctx->ngram_interval < 0.1) {
        *error_r = "classifier bayes: ngram_interval must be >= 0.1 s";
        return -1;
    }
    if (ctx->expire < 0 || ctx->expire_interval < 0.1) {
        *error_r = "classifier bayes: expire must be >= 0 and expire_interval >= 0.1 s";
        return -1;
    }
    *ctx_r = ctx;
    return 0;
}

static int bayes_worker_init(void *vctx, struct ev_loop *loop, const char **error_r)
{
    struct bayes_ctx *ctx = vctx;
    ctx->pool = redis_pool_new(loop, &ctx->redis, "bayes");
    ctx->cache = bayes_cache_new(ctx->cache_slots);
    ctx->expiry = bayes_expire_start(ctx, loop);
    ctx->ngram = bayes_ngram_start(ctx, loop);
    bayes_worker_ctx = ctx;
    return 0;
}

static void bayes_worker_deinit(void *vctx)
{
    struct bayes_ctx *ctx = vctx;
    bayes_expire_stop(ctx->expiry);
    bayes_ngram_stop(ctx->ngram);
    redis_pool_free(&ctx->pool);         /* answers an expiry step in flight */
    bayes_expire_free(&ctx->expiry);
    bayes_ngram_free(&ctx->ngram);
    bayes_cache_free(&ctx->cache);
    if (bayes_worker_ctx == ctx)
        bayes_worker_ctx = NULL;
}

/* ---- scanning ---- */

int bayes_task_tokens(const struct bayes_ctx *ctx, struct task *task, struct bayes_tokens *out)
{
    if (task->msg == NULL && task->raw != NULL && !(task->flags & TASK_RAW)) {
        struct mime_limits limits = {0};
        const char *err = NULL;
        if (message_parse(task->arena, task->raw, task->raw_len, &limits, &task->msg, &err) < 0)
            task->msg = NULL;
    }
    if (task->msg == NULL)
        return -1;
    bayes_tokenize(task->arena, task->msg, &ctx->topts, out);
    return 0;
}

/*
 * A scan reads in one round trip in the steady state: the class counters
 * and the revision (bumped by every learn) pipelined with the tokens the
 * worker's cache (cache.c) does not hold.  The cache is checked against
 * the revision when the replies are in: when a learn moved it, the cache
 * is emptied and the tokens it had answered are read again (a second
 * round trip, for the first scans after a learn only), so a learn is seen
 * by the next scan.  In steady state most of a message's tokens (common
 * words and pairs) come from the cache, which keeps Redis' share of a scan
 * small (docs/bayes.md has the measurements).  While the statistics have
 * fewer than min_learns learns, only the counters are read; the scan that
 * finds them grown reads the tokens in a second round trip.
 */
struct lookup {
    struct bayes_ctx *ctx;
    const char *prefix;
    bool use_cache;
    int round;                   /* 1: counters (+ tokens); 2: tokens again, or at last */
    bool tokens_read;            /* round 1 read the tokens the cache did not answer */
    struct bayes_tokens tok;
    struct bayes_counts *counts;
    bool *cached;                /* per token: answered by the cache in round 1 */
    size_t *idx[BAYES_SHARDS_MAX];   /* indices of the tokens read, per shard */
    size_t nidx[BAYES_SHARDS_MAX];
    unsigned pending;
    uint64_t learns_spam, learns_ham, revision;
    uint64_t model;              /* the n-gram model's id in Redis (0: none) */
    const char *error;
};

struct lookup_cmd {
    struct lookup *lk;
    unsigned shard;
};

static void lookup_finish(struct task *task, struct lookup *lk)
{
    const struct bayes_ctx *ctx = lk->ctx;
    struct bayes_verdict v;
    bayes_classify(&lk->tok, lk->counts, lk->learns_spam, lk->learns_ham, &ctx->params, &v);
    if (!v.ok)
        return;
    const float *w = bayes_ngram_weights(ctx->ngram);
    if (w != NULL) {
        char *view = arena_alloc(task->arena, BAYES_NGRAM_VIEW);
        size_t vl = bayes_ngram_view(task->msg, view, BAYES_NGRAM_VIEW);
        uint32_t *f = ARENA_NEW_N(task->arena, uint32_t, vl + 1);
        size_t nf = bayes_ngram_features(view, vl, f);
        double z = bayes_ngram_score(w, f, nf);
        log_task_debug(task, "bayes", "bayes: tokens p=%.4f, n-gram log-odds %.3f", v.prob, z);
        v.prob = bayes_ngram_mix(v.prob, z);
    }
    /* Rspamd's dynamic multiplier ((p - 0.5) * 2)^8 with our exponent
     * (default 4, docs/bayes.md): p = 0.99 then carries 92% of the weight. */
    double e = ctx->exponent;
    if (v.prob > 0.55)
        task_insertf(task, ctx->sym_spam, pow((v.prob - 0.5) * 2.0, e), "%.2f%%",
                     (v.prob - 0.5) * 200.0);
    else if (v.prob < 0.45)
        task_insertf(task, ctx->sym_ham, pow((0.5 - v.prob) * 2.0, e), "%.2f%%",
                     (0.5 - v.prob) * 200.0);
}

static const char *reply_error(struct task *task, const redisReply *r, const char *err)
{
    if (r == NULL)
        return arena_printf(task->arena, "redis: %s", err ? err : "no reply");
    if (r->type == REDIS_REPLY_ERROR)
        return arena_printf(task->arena, "redis: %.200s", r->str);
    if (r->type != REDIS_REPLY_ARRAY)
        return "redis: unexpected reply";
    return NULL;
}

static void lookup_round_done(struct task *task, struct lookup *lk);

static void lookup_release(struct task *task, struct lookup *lk)
{
    if (--lk->pending == 0)
        lookup_round_done(task, lk);
}

static void tokens_reply(struct task *task, const redisReply *r, const char *err, void *data)
{
    struct lookup_cmd *c = data;
    struct lookup *lk = c->lk;
    if (lk->error == NULL)
        lk->error = reply_error(task, r, err);
    if (lk->error == NULL) {
        size_t n = lk->nidx[c->shard];
        for (size_t i = 0; i < n && i < r->elements; i++)
            bayes_reply_counts(r->element[i], &lk->counts[lk->idx[c->shard][i]]);
    }
    lookup_release(task, lk);
}

static void tokens_send(struct task *task, struct lookup *lk, unsigned shard)
{
    size_t n = lk->nidx[shard];
    const char **argv = ARENA_NEW_N(task->arena, const char *, n + 2);
    size_t *argvlen = ARENA_NEW_N(task->arena, size_t, n + 2);
    char *fields = arena_alloc(task->arena, n * 8 + 1);
    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = bayes_key_tokens(task, lk->prefix, shard);
    argvlen[1] = strlen(argv[1]);
    for (size_t i = 0; i < n; i++) {
        bayes_field(lk->tok.v[lk->idx[shard][i]], fields + 8 * i);
        argv[i + 2] = fields + 8 * i;
        argvlen[i + 2] = 8;
    }
    struct lookup_cmd *c = ARENA_NEW(task->arena, struct lookup_cmd);
    c->lk = lk;
    c->shard = shard;
    lk->pending++;
    redis_task_command(lk->ctx->pool, task, REDIS_READ, (int)(n + 2), argv, argvlen, tokens_reply,
                       c);
}

/* Reads the tokens for which want[i] is true, grouped by shard (want NULL:
 * all of them).  The caller holds lk->pending. */
static void tokens_read(struct task *task, struct lookup *lk, const bool *want)
{
    const struct bayes_ctx *ctx = lk->ctx;
    memset(lk->nidx, 0, sizeof(lk->nidx));
    for (size_t i = 0; i < lk->tok.n; i++)
        if (want == NULL || want[i])
            lk->nidx[bayes_shard(ctx, lk->tok.v[i])]++;
    for (unsigned s = 0; s < ctx->nshards; s++) {
        lk->idx[s] = ARENA_NEW_N(task->arena, size_t, lk->nidx[s] + 1);
        lk->nidx[s] = 0;
    }
    for (size_t i = 0; i < lk->tok.n; i++) {
        if (want != NULL && !want[i])
            continue;
        unsigned s = bayes_shard(ctx, lk->tok.v[i]);
        lk->idx[s][lk->nidx[s]++] = i;
    }
    for (unsigned s = 0; s < ctx->nshards && lk->error == NULL; s++)
        if (lk->nidx[s] > 0)
            tokens_send(task, lk, s);
}

static void model_id_reply(struct task *task, const redisReply *r, const char *err, void *data)
{
    (void)err;
    struct lookup *lk = data;
    /* No verdict hangs on the model: an error here leaves it out. */
    lk->model = bayes_reply_count(r);
    lookup_release(task, lk);
}

static void model_reply(struct task *task, const redisReply *r, const char *err, void *data)
{
    (void)err;
    struct lookup *lk = data;
    bayes_ngram_loaded(lk->ctx->ngram, r);
    lookup_release(task, lk);
}

/* The model moved since this process fetched it: GET it (4 MiB, once per
 * training, by one scan; the others go on with the copy they have). */
static void model_fetch(struct task *task, struct lookup *lk)
{
    struct bayes_ngram *ng = lk->ctx->ngram;
    bayes_ngram_fetching(ng, lk->model);
    const char *argv[] = {"GET", bayes_ngram_key(ng)};
    size_t len[] = {3, strlen(argv[1])};
    lk->pending++;
    redis_task_command(lk->ctx->pool, task, REDIS_READ, 2, argv, len, model_reply, lk);
}

static void stats_reply(struct task *task, const redisReply *r, const char *err, void *data)
{
    struct lookup *lk = data;
    if (lk->error == NULL)
        lk->error = reply_error(task, r, err);
    if (lk->error == NULL && r->elements >= 3) {
        lk->learns_spam = bayes_reply_count(r->element[0]);
        lk->learns_ham = bayes_reply_count(r->element[1]);
        lk->revision = bayes_reply_count(r->element[2]);
        if (r->elements == 4)
            lk->model = bayes_reply_count(r->element[3]);
    }
    lookup_release(task, lk);
}

/* Every reply of a round is in.  Round 1: too few learns: nothing; the
 * tokens were not read (young statistics, see bayes_scan) or the cache was
 * stale (a learn since it was filled): round 2 reads them (all, or what
 * the cache answered); otherwise classify.  Round 2: classify. */
static void lookup_round_done(struct task *task, struct lookup *lk)
{
    struct bayes_ctx *ctx = lk->ctx;
    if (lk->error != NULL) {
        task_insert(task, "BAYES_UNAVAILABLE", 1.0, lk->error);
        log_task_warn(task, "bayes: statistics unavailable: %s", lk->error);
        return;
    }
    bool enough = lk->learns_spam >= ctx->min_learns && lk->learns_ham >= ctx->min_learns;
    if (lk->round == 1 && lk->use_cache)
        ctx->young = !enough;
    if (!enough) {
        log_task_debug(task, "bayes", "bayes: not enough learns (spam %llu, ham %llu < %llu)",
                       (unsigned long long)lk->learns_spam, (unsigned long long)lk->learns_ham,
                       (unsigned long long)ctx->min_learns);
        return;
    }
    if (lk->round == 1) {
        bool flushed = lk->use_cache && bayes_cache_revision(ctx->cache, lk->revision,
                                                             lk->learns_spam, lk->learns_ham);
        const bool *again = NULL;            /* NULL: every token */
        bool any = !lk->tokens_read;
        if (lk->tokens_read && flushed) {
            /* Tokens read this round are current; what the cache
             * answered may not be. */
            again = lk->cached;
            for (size_t i = 0; i < lk->tok.n && !any; i++)
                any = lk->cached[i];
        }
        bool model = bayes_ngram_wants(ctx->ngram, lk->model);
        if (any || model) {
            lk->round = 2;
            lk->pending = 1;
            if (any)
                tokens_read(task, lk, again);
            if (model)
                model_fetch(task, lk);
            lookup_release(task, lk);
            return;
        }
    }
    if (lk->use_cache)
        for (size_t i = 0; i < lk->tok.n; i++)
            if (lk->round == 2 || !lk->cached[i])
                bayes_cache_put(ctx->cache, lk->tok.v[i], &lk->counts[i]);
    lookup_finish(task, lk);
}

static int bayes_scan(struct task *task, void *vctx)
{
    struct bayes_ctx *ctx = vctx;
    if (ctx->pool == NULL || task->msg == NULL)
        return 0;
    struct lookup *lk = ARENA_NEW(task->arena, struct lookup);
    lk->ctx = ctx;
    bayes_tokenize(task->arena, task->msg, &ctx->topts, &lk->tok);
    if (lk->tok.n < ctx->min_tokens)
        return 0;
    lk->counts = ARENA_NEW_N(task->arena, struct bayes_counts, lk->tok.n);
    lk->cached = ARENA_NEW_N(task->arena, bool, lk->tok.n);
    lk->prefix = bayes_store_prefix(ctx, task);
    /* The cache holds the global statistics only: per-user ones would need
     * a cache per user. */
    lk->use_cache = ctx->cache != NULL && lk->prefix == ctx->prefix;
    lk->round = 1;
    /* While the statistics are young (fewer than min_learns at this
     * worker's last look), round 1 reads the counters only: a filter with
     * Redis whose Bayes is never trained reads no tokens. */
    lk->tokens_read = !(lk->use_cache && ctx->young);
    /* The n-gram model's id lives in the global hash (ngram_train.c): with
     * the global statistics it is one more field of the same read. */
    bool global = lk->prefix == ctx->prefix;
    const char *argv[6] = {"HMGET", bayes_key_stats(task, lk->prefix), "learns_spam",
                           "learns_ham", "revision", "model"};
    size_t argvlen[6] = {5, strlen(argv[1]), 11, 10, 8, 5};
    int argc = ctx->ngram != NULL && global ? 6 : 5;
    /* Held while sending, so a failure answered synchronously (server down)
     * cannot end the round before every command is out. */
    lk->pending = 2;
    redis_task_command(ctx->pool, task, REDIS_READ, argc, argv, argvlen, stats_reply, lk);
    if (ctx->ngram != NULL && !global) {
        const char *margv[] = {"HGET", ctx->prefix, "model"};
        size_t mlen[] = {4, strlen(ctx->prefix), 5};
        lk->pending++;
        redis_task_command(ctx->pool, task, REDIS_READ, 3, margv, mlen, model_id_reply, lk);
    }
    if (lk->tokens_read) {
        bool all_cached = true;
        bool *want = ARENA_NEW_N(task->arena, bool, lk->tok.n);
        for (size_t i = 0; i < lk->tok.n; i++) {
            lk->cached[i] = lk->use_cache &&
                            bayes_cache_get(ctx->cache, lk->tok.v[i], &lk->counts[i]);
            want[i] = !lk->cached[i];
            all_cached &= lk->cached[i];
        }
        if (!all_cached)
            tokens_read(task, lk, want);
    }
    lookup_release(task, lk);
    return 0;
}

static void bayes_post_scan(struct task *task, void *vctx)
{
    struct bayes_ctx *ctx = vctx;
    if (ctx->autolearn.mode != AUTOLEARN_OFF && ctx->pool != NULL)
        bayes_autolearn(task, ctx);
}

/* module.h learn hook: see bayes_module.h. */
static void hook_done(struct task *task, enum bayes_learn_status st, const char *msg, void *data)
{
    task_set_message(task, st == BAYES_LEARN_OK ? "learn" : "error", msg);
}

static int bayes_learn_hook(struct task *task, void *vctx, bool spam)
{
    return bayes_learn_start(vctx, task, spam, hook_done, NULL);
}

const struct module module_bayes = {
    .name = "bayes",
    .abi = MODULE_ABI,
    .configure = bayes_configure,
    .scan = bayes_scan,
    .learn = bayes_learn_hook,
    .post_scan = bayes_post_scan,
    .worker_init = bayes_worker_init,
    .worker_deinit = bayes_worker_deinit,
    .uses_redis = true,
};
