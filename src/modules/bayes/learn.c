/*
 * Bayes learning: explicit (controller /learnspam, /learnham through
 * bayes_learn_task() or the module's learn hook) and autolearn (post_scan).
 *
 * A learn job copies what it needs out of the task (tokens, prefix, digest)
 * into its own heap block, so autolearn can outlive the task; an explicit
 * learn additionally holds the task with task_async_begin() and reports
 * through the caller's callback if the task is still there.  Two round
 * trips:
 *   1. HGET <P>_L <digest> (the learn cache; with autolearn's balance check
 *      also HMGET <P> learns_spam learns_ham);
 *   2. same class already: refuse ("already learned"); otherwise one EVAL
 *      per shard adding 1 to the class's count of each token (and, when the
 *      cache says the other class, taking 1 from that class in the same
 *      call: a relearn moves the message), the learns counters, version,
 *      and the cache entry last.
 * The counts are updated by a short Lua script per shard (each token's
 * value holds both classes, "spam,ham", which HINCRBY cannot update): a
 * 1000-token message is 8 commands, not 1000.
 * Two learns of the same message racing each other may both pass the cache
 * check; the counts are then off by one message, which Bayes tolerates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/actions.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/bayes/bayes_private.h"

/* Adds ARGV[1] to the spam count and ARGV[2] to the ham count of every
 * token field ARGV[3..] of KEYS[1] (values "spam,ham"); drops a field at
 * 0,0 so unlearned tokens do not linger. */
static const char incr_script[] =
    "local ds,dh=tonumber(ARGV[1]),tonumber(ARGV[2]) for i=3,#ARGV do "
    "local v=redis.call('HGET',KEYS[1],ARGV[i]) local s,h=0,0 "
    "if v then local a,b=string.match(v,'^(%d+),(%d+)$') s=tonumber(a) or 0 h=tonumber(b) or 0 end "
    "s=math.max(s+ds,0) h=math.max(h+dh,0) "
    "if s==0 and h==0 then redis.call('HDEL',KEYS[1],ARGV[i]) "
    "else redis.call('HSET',KEYS[1],ARGV[i],s..','..h) end end return #ARGV-2";

struct learn_job {
    struct bayes_ctx *ctx;
    char prefix[320];
    uint64_t *tok;
    size_t n;
    char digest[33];
    bool spam;
    char old;                    /* 0, 'S' or 'H': what the learn cache said */
    bool autolearn;
    unsigned pending;
    uint64_t learns_spam, learns_ham;
    enum bayes_learn_status status;
    char message[256];
    char mid[128];
    /* explicit learning only */
    bool bound;
    struct task_ref ref;
    bayes_learn_done done;
    void *data;
};

static void job_send(struct learn_job *job, enum redis_op op, int argc, const char **argv,
                     const size_t *argvlen, redis_cb cb);

static void job_fail(struct learn_job *job, const redisReply *r, const char *err)
{
    if (job->status == BAYES_LEARN_ERROR)
        return;
    job->status = BAYES_LEARN_ERROR;
    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        snprintf(job->message, sizeof(job->message), "redis: %.200s", r->str);
    else
        snprintf(job->message, sizeof(job->message), "redis: %s", err ? err : "no reply");
}

static void job_finish(struct learn_job *job)
{
    const char *cls = job->spam ? "spam" : "ham";
    if (job->status == BAYES_LEARN_OK) {
        if (job->old)
            snprintf(job->message, sizeof(job->message), "relearned as %s (was %s, %zu tokens)",
                     cls, job->spam ? "ham" : "spam", job->n);
        else
            snprintf(job->message, sizeof(job->message), "learned as %s (%zu tokens)", cls,
                     job->n);
    }
    if (job->status == BAYES_LEARN_ERROR)
        log_warn("bayes: %slearn %s mid=<%s> failed: %s", job->autolearn ? "auto" : "", cls,
                 job->mid, job->message);
    else if (job->status == BAYES_LEARN_OK)
        log_info("bayes: %s mid=<%s> prefix=%s%s", job->message, job->mid, job->prefix,
                 job->autolearn ? " (autolearn)" : "");
    if (job->bound) {
        struct task *t = task_ref_get(job->ref);
        if (t != NULL) {
            job->done(t, job->status, arena_strdup(t->arena, job->message), job->data);
            task_async_end(t, "bayes learn");   /* may free t */
        }
    }
    free(job->tok);
    free(job);
}

static void write_reply(const redisReply *r, const char *err, void *data)
{
    struct learn_job *job = data;
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        job_fail(job, r, err);
    if (--job->pending == 0)
        job_finish(job);
}

/* One EVAL per shard: ARGV = spam delta, ham delta, the shard's tokens as
 * 8-byte fields.  A relearn moves the message in the same call. */
static void send_increments(struct learn_job *job)
{
    bool move = bayes_learn_decide(job->old, job->spam) == BAYES_DECIDE_MOVE;
    const char *ds = job->spam ? "1" : move ? "-1" : "0";
    const char *dh = !job->spam ? "1" : move ? "-1" : "0";
    const struct bayes_ctx *ctx = job->ctx;
    size_t cap = job->n + 6;
    const char **argv = malloc(cap * sizeof(*argv));
    size_t *argvlen = malloc(cap * sizeof(*argvlen));
    char *fields = malloc(job->n * 8 + 1);
    if (argv == NULL || argvlen == NULL || fields == NULL)
        panic("bayes: out of memory");
    for (unsigned s = 0; s < ctx->nshards && job->status != BAYES_LEARN_ERROR; s++) {
        char key[360];
        snprintf(key, sizeof(key), "%s_T%u", job->prefix, s);
        size_t argc = 0;
        argv[argc] = "EVAL", argvlen[argc++] = 4;
        argv[argc] = incr_script, argvlen[argc++] = sizeof(incr_script) - 1;
        argv[argc] = "1", argvlen[argc++] = 1;
        argv[argc] = key, argvlen[argc++] = strlen(key);
        argv[argc] = ds, argvlen[argc++] = strlen(ds);
        argv[argc] = dh, argvlen[argc++] = strlen(dh);
        size_t first = argc;
        for (size_t i = 0; i < job->n; i++) {
            if (bayes_shard(ctx, job->tok[i]) != s)
                continue;
            char *f = fields + 8 * (argc - first);
            bayes_field(job->tok[i], f);
            argv[argc] = f, argvlen[argc++] = 8;
        }
        if (argc > first)
            job_send(job, REDIS_WRITE, (int)argc, argv, argvlen, write_reply);
    }
    free(argv);
    free(argvlen);
    free(fields);
}

static void send_writes(struct learn_job *job)
{
    char key[360];
    const char *cls = job->spam ? "learns_spam" : "learns_ham";
    const char *other = job->spam ? "learns_ham" : "learns_spam";
    job->pending++;              /* held while sending (see lookup_start) */
    send_increments(job);
    snprintf(key, sizeof(key), "%s", job->prefix);
    {
        const char *argv[] = {"HINCRBY", key, cls, "1"};
        size_t len[] = {7, strlen(key), strlen(cls), 1};
        job_send(job, REDIS_WRITE, 4, argv, len, write_reply);
    }
    if (job->old) {
        const char *argv[] = {"HINCRBY", key, other, "-1"};
        size_t len[] = {7, strlen(key), strlen(other), 2};
        job_send(job, REDIS_WRITE, 4, argv, len, write_reply);
    }
    {
        /* Scanners empty their token caches when the revision moves. */
        const char *argv[] = {"HINCRBY", key, "revision", "1"};
        size_t len[] = {7, strlen(key), 8, 1};
        job_send(job, REDIS_WRITE, 4, argv, len, write_reply);
    }
    {
        const char *argv[] = {"HSET", key, "version", BAYES_SCHEMA_VERSION};
        size_t len[] = {4, strlen(key), 7, strlen(BAYES_SCHEMA_VERSION)};
        job_send(job, REDIS_WRITE, 4, argv, len, write_reply);
    }
    /* The cache entry goes last: a learn that failed half-way can be retried. */
    char ckey[360];
    snprintf(ckey, sizeof(ckey), "%s_L", job->prefix);
    const char *argv[] = {"HSET", ckey, job->digest, job->spam ? "S" : "H"};
    size_t len[] = {4, strlen(ckey), 32, 1};
    if (job->status != BAYES_LEARN_ERROR)
        job_send(job, REDIS_WRITE, 4, argv, len, write_reply);
    if (--job->pending == 0)
        job_finish(job);
}

/* Autolearn's balance check (Rspamd's check_balance / min_balance). */
static bool unbalanced(const struct learn_job *job)
{
    const struct bayes_autolearn *al = &job->ctx->autolearn;
    if (!job->autolearn || !al->check_balance)
        return false;
    double mine = (double)(job->spam ? job->learns_spam : job->learns_ham) + 1;
    double theirs = (double)(job->spam ? job->learns_ham : job->learns_spam) + 1;
    return mine > theirs / al->min_balance;
}

static void check_done(struct learn_job *job);

static void check_reply(const redisReply *r, const char *err, void *data)
{
    struct learn_job *job = data;
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        job_fail(job, r, err);
    } else if (r->type == REDIS_REPLY_STRING) {
        job->old = bayes_cache_entry(r->str, r->len);
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        job->learns_spam = bayes_reply_count(r->element[0]);
        job->learns_ham = bayes_reply_count(r->element[1]);
    }
    if (--job->pending == 0)
        check_done(job);
}

/* Every first-round reply is in: refuse, skip or write. */
static void check_done(struct learn_job *job)
{
    if (job->status == BAYES_LEARN_ERROR) {
        job_finish(job);
    } else if (bayes_learn_decide(job->old, job->spam) == BAYES_DECIDE_ALREADY) {
        job->status = BAYES_LEARN_ALREADY;
        snprintf(job->message, sizeof(job->message), "<%s> is already learned as %s",
                 job->mid, job->spam ? "spam" : "ham");
        job_finish(job);
    } else if (unbalanced(job)) {
        job->status = BAYES_LEARN_REFUSED;
        snprintf(job->message, sizeof(job->message),
                 "autolearn skipped: %s learns exceed the balance", job->spam ? "spam" : "ham");
        job_finish(job);
    } else {
        send_writes(job);
    }
}

static void job_send(struct learn_job *job, enum redis_op op, int argc, const char **argv,
                     const size_t *argvlen, redis_cb cb)
{
    job->pending++;
    redis_command(job->ctx->pool, op, argc, argv, argvlen, cb, job);
}

static void job_begin(struct learn_job *job)
{
    char key[360];
    job->pending = 1;
    snprintf(key, sizeof(key), "%s_L", job->prefix);
    const char *argv[] = {"HGET", key, job->digest};
    size_t len[] = {4, strlen(key), 32};
    job_send(job, REDIS_READ, 3, argv, len, check_reply);
    if (job->autolearn && job->ctx->autolearn.check_balance && job->status != BAYES_LEARN_ERROR) {
        const char *av[] = {"HMGET", job->prefix, "learns_spam", "learns_ham"};
        size_t al[] = {5, strlen(job->prefix), 11, 10};
        job_send(job, REDIS_READ, 4, av, al, check_reply);
    }
    if (--job->pending == 0)     /* the sending hold: replies may come synchronously */
        check_done(job);
}

/* Builds a job from the task: NULL (with *why_r) when it cannot learn. */
static struct learn_job *job_new(struct bayes_ctx *ctx, struct task *task, bool spam,
                                 const char **why_r)
{
    struct bayes_tokens tok;
    if (bayes_task_tokens(ctx, task, &tok) < 0) {
        *why_r = "the message could not be parsed";
        return NULL;
    }
    if (tok.n < ctx->min_tokens) {
        *why_r = arena_printf(task->arena, "too few tokens to learn (%zu < %u)", tok.n,
                              ctx->min_tokens);
        return NULL;
    }
    struct learn_job *job = calloc(1, sizeof(*job));
    if (job == NULL || (job->tok = malloc(tok.n * sizeof(uint64_t))) == NULL)
        panic("bayes: out of memory");
    memcpy(job->tok, tok.v, tok.n * sizeof(uint64_t));
    job->n = tok.n;
    job->ctx = ctx;
    job->spam = spam;
    snprintf(job->prefix, sizeof(job->prefix), "%s", bayes_store_prefix(ctx, task));
    snprintf(job->mid, sizeof(job->mid), "%s", task->message_id ? task->message_id
                                               : task->msg && task->msg->message_id
                                                   ? task->msg->message_id
                                                   : "undef");
    bayes_digest(&tok, job->digest);
    return job;
}

int bayes_learn_start(struct bayes_ctx *ctx, struct task *task, bool spam, bayes_learn_done done,
                      void *data)
{
    const char *why = NULL;
    if (ctx == NULL || ctx->pool == NULL) {
        done(task, BAYES_LEARN_REFUSED,
             "Bayes is not enabled (no classifier \"bayes\" section or no Redis servers)", data);
        return -1;
    }
    struct learn_job *job = job_new(ctx, task, spam, &why);
    if (job == NULL) {
        done(task, BAYES_LEARN_REFUSED, why, data);
        return -1;
    }
    job->bound = true;
    job->ref = task_ref(task);
    job->done = done;
    job->data = data;
    task_async_begin(task, "bayes learn");
    job_begin(job);
    return 0;
}

void bayes_learn_task(struct task *task, bool spam, bayes_learn_done done, void *data)
{
    bayes_learn_start(bayes_worker_ctx, task, spam, done, data);
}

bool bayes_learn_available(void)
{
    return bayes_worker_ctx != NULL && bayes_worker_ctx->pool != NULL;
}

void bayes_autolearn(struct task *task, struct bayes_ctx *ctx)
{
    const struct bayes_autolearn *al = &ctx->autolearn;
    if (task->msg == NULL || task->is_skipped || task_find_symbol(task, "BAYES_UNAVAILABLE"))
        return;
    task_finalize(task);
    double spam_at = al->spam_from_reject ? actions_required_score(task->actions) : al->spam_score;
    bool spam;
    if (!isnan(spam_at) && task->score >= spam_at)
        spam = true;
    else if (task->score <= al->ham_score)
        spam = false;
    else
        return;
    /* Already classified right: learning it teaches nothing new. */
    if (task_find_symbol(task, spam ? ctx->sym_spam : ctx->sym_ham) != NULL)
        return;
    const char *why = NULL;
    struct learn_job *job = job_new(ctx, task, spam, &why);
    if (job == NULL)
        return;
    job->autolearn = true;
    job_begin(job);
}
