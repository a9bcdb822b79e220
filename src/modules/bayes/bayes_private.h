#ifndef WINNOW_MODULES_BAYES_PRIVATE_H
#define WINNOW_MODULES_BAYES_PRIVATE_H
/*
 * Shared between the files of the bayes module (module.c: configuration and
 * scanning; store.c: the Redis layout; learn.c: learning and autolearn).
 * Implementers only.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/bayes/bayes.h"
#include "modules/bayes/bayes_module.h"
#include "store/redis.h"

struct task;
struct bayes_cache;

#define BAYES_SHARDS_MAX 64
#define BAYES_SCHEMA_VERSION "2"

enum bayes_autolearn_mode {
    AUTOLEARN_OFF = 0,
    AUTOLEARN_SCORES,            /* true / [ham, spam] / { ham_threshold, spam_threshold } */
};

struct bayes_autolearn {
    enum bayes_autolearn_mode mode;
    double ham_score;            /* learn ham when score <= this */
    double spam_score;           /* learn spam when score >= this */
    bool spam_from_reject;       /* `true`: spam threshold is the reject score */
    bool check_balance;
    double min_balance;          /* skip a class whose learns exceed the other's / this */
};

struct bayes_ctx {
    struct redis_settings redis;
    struct redis_pool *pool;     /* per worker process (worker_init) */
    const char *prefix;          /* "WB" */
    unsigned nshards;
    bool per_user;
    uint64_t min_learns;
    unsigned min_tokens;
    struct bayes_params params;
    double exponent;             /* dynamic multiplier ((p - 0.5) * 2)^exponent */
    struct bayes_tokenizer_opts topts;
    const char *sym_spam, *sym_ham;
    struct bayes_autolearn autolearn;
    size_t cache_slots;          /* cache_size; 0 = no token cache */
    struct bayes_cache *cache;   /* per worker process (worker_init) */
    bool young;                  /* this process' last read of the global statistics found
                                    fewer than min_learns learns (module.c) */
    double expire;               /* seconds; 0 = tokens never expire (expire.c) */
    double expire_interval;      /* seconds between expiry steps */
    struct bayes_expire *expiry; /* per worker process (worker_init) */
    size_t ngram_examples;       /* examples kept for the n-gram model; 0 = model off */
    double ngram_interval;       /* seconds between the trainer's looks */
    struct bayes_ngram *ngram;   /* per worker process (worker_init) */
};

/* The process's configured context (set by worker_init), for the public
 * learn entry points. */
extern struct bayes_ctx *bayes_worker_ctx;

/* ---- store.c ---- */

/* The statistics prefix for this task: ctx->prefix, plus the principal
 * recipient with per_user. Arena memory. */
const char *bayes_store_prefix(const struct bayes_ctx *ctx, struct task *task);

/* Key names (arena memory). */
const char *bayes_key_stats(struct task *task, const char *prefix);
const char *bayes_key_tokens(struct task *task, const char *prefix, unsigned shard);
const char *bayes_key_cache(struct task *task, const char *prefix);

static inline unsigned bayes_shard(const struct bayes_ctx *ctx, uint64_t tok)
{
    return (unsigned)((tok >> 58) % ctx->nshards);
}

/* A token as a hash field: 8 bytes, little endian. */
static inline void bayes_field(uint64_t tok, char out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (char)(tok >> (8 * i));
}

/* Parses an integer count from a bulk/integer reply element; nil = 0,
 * negative (after an unlearn raced an expiry) = 0. */
uint32_t bayes_reply_count(const redisReply *r);
/* Parses a token's value "spam,ham"; nil or malformed = 0,0. */
void bayes_reply_counts(const redisReply *r, struct bayes_counts *out);
/* The same on bytes: 0, or -1 when malformed (out is then 0,0). */
int bayes_parse_counts(const char *p, size_t len, struct bayes_counts *out);

/* The learn cache digest of a token set: 32 hex characters + NUL. */
void bayes_digest(const struct bayes_tokens *tok, char out[33]);

/* A learn cache value ("S" / "H") as 'S', 'H', or 0 for anything else. */
char bayes_cache_entry(const char *p, size_t len);

enum bayes_decide {
    BAYES_DECIDE_LEARN,          /* not in the cache: learn */
    BAYES_DECIDE_ALREADY,        /* learned as this class: refuse */
    BAYES_DECIDE_MOVE,           /* learned as the other class: unlearn it there, learn here */
};
/* old: what bayes_cache_entry() said. */
enum bayes_decide bayes_learn_decide(char old, bool spam);

/* ---- cache.c ---- */

struct bayes_cache *bayes_cache_new(size_t slots);       /* NULL when slots == 0 */
void bayes_cache_free(struct bayes_cache **cache);
/* Empties the cache unless it was filled at this revision and these learns;
 * true when it did (what it had answered before is stale). */
bool bayes_cache_revision(struct bayes_cache *cache, uint64_t revision, uint64_t learns_spam,
                          uint64_t learns_ham);
bool bayes_cache_get(const struct bayes_cache *cache, uint64_t tok, struct bayes_counts *out);
void bayes_cache_put(struct bayes_cache *cache, uint64_t tok, const struct bayes_counts *v);

/* ---- expire.c ---- */

struct ev_loop;
struct bayes_expire;
/* Starts the expiry timer in this process (NULL when expire is 0). */
struct bayes_expire *bayes_expire_start(struct bayes_ctx *ctx, struct ev_loop *loop);
/* Stops the timer; call before freeing the pool, then bayes_expire_free. */
void bayes_expire_stop(struct bayes_expire *ex);
void bayes_expire_free(struct bayes_expire **ex);

/* ---- ngram_train.c ---- */

struct bayes_ngram;
/* Starts the trainer's timer in this process; NULL when the model is off. */
struct bayes_ngram *bayes_ngram_start(struct bayes_ctx *ctx, struct ev_loop *loop);
/* Stops the timer; call before freeing the pool, then bayes_ngram_free. */
void bayes_ngram_stop(struct bayes_ngram *ng);
void bayes_ngram_free(struct bayes_ngram **ng);
/* The scanners' copy: the weights (NULL before the first model), whether
 * the model `id` read from Redis should be fetched, the key to GET, and
 * the fetch's start and end. */
const float *bayes_ngram_weights(const struct bayes_ngram *ng);
bool bayes_ngram_wants(const struct bayes_ngram *ng, uint64_t id);
const char *bayes_ngram_key(const struct bayes_ngram *ng);
void bayes_ngram_fetching(struct bayes_ngram *ng, uint64_t id);
void bayes_ngram_loaded(struct bayes_ngram *ng, const redisReply *r);

/* ---- module.c ---- */

/* Tokenizes task->msg with the module's options (parses task->raw first
 * when needed); -1 when there is no message. */
int bayes_task_tokens(const struct bayes_ctx *ctx, struct task *task, struct bayes_tokens *out);

/* ---- learn.c ---- */

void bayes_autolearn(struct task *task, struct bayes_ctx *ctx);

/* bayes_learn_task() with an explicit context: 0 when learning started
 * (done runs later, the task is held), -1 when refused at once (done has
 * already run). */
int bayes_learn_start(struct bayes_ctx *ctx, struct task *task, bool spam,
                      bayes_learn_done done, void *data);

#endif
