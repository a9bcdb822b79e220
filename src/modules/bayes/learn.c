/*
 * Bayes learning: explicit (controller /learnspam, /learnham through
 * bayes_learn_task() or the module's learn hook) and autolearn (post_scan).
 *
 * A learn job copies what it needs out of the task (tokens, prefix, digest)
 * into its own heap block, so autolearn can outlive the task; an explicit
 * learn additionally holds the task with task_async_begin() and reports
 * through the caller's callback if the task is still there.  Stages, each
 * one round trip:
 *   0. autolearn with check_balance only: HMGET <P> learns_spam learns_ham;
 *   1. the claim: one EVAL on the learn cache <P>_L that reads the
 *      message's entry and, unless it already names this class, sets it,
 *      returning the old value.  Redis runs a script atomically, so two
 *      learns of the same message racing each other are serialised: the
 *      second sees the first's entry and is refused ("already learned"),
 *      and the counts move once;
 *   2. same class already: refuse; otherwise one EVAL per shard adding 1 to
 *      the class's count of each token (and, when the old entry says the
 *      other class, taking 1 from that class in the same call: a relearn
 *      moves the message), the learns counters and version, and for a
 *      per-user prefix its entry in the registry <prefix>_U (for /stat and
 *      expiry), and the message's n-gram example for the model's trainer
 *      (ngram_train.c).  With `expire` on, each token is stamped with the
 *      day.
 * When a stage-2 write fails, the claim is undone (the old entry put back,
 * by a script that leaves a newer claim alone), so the learn can be
 * retried; counts already written by the shards that succeeded stay, and
 * if Redis is gone the undo fails too and the entry stays.
 * The counts are updated by a short Lua script per shard (each token's
 * value holds both classes, "spam,ham", which HINCRBY cannot update): a
 * 1000-token message is 8 commands, not 1000.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/actions.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/bayes/bayes_private.h"

/* Adds ARGV[1] to the spam count and ARGV[2] to the ham count of every
 * token field ARGV[4..] of KEYS[1] (values "spam,ham", or "spam,ham,day"
 * with expiry); ARGV[3] is the day to stamp them with, or "" (expire off:
 * the value keeps its two fields).  Drops a field at 0,0 so unlearned
 * tokens do not linger. */
static const char incr_script[] =
    "local ds,dh,day=tonumber(ARGV[1]),tonumber(ARGV[2]),ARGV[3] for i=4,#ARGV do "
    "local v=redis.call('HGET',KEYS[1],ARGV[i]) local s,h=0,0 "
    "if v then local a,b=string.match(v,'^(%d+),(%d+)') s=tonumber(a) or 0 h=tonumber(b) or 0 end "
    "s=math.max(s+ds,0) h=math.max(h+dh,0) "
    "if s==0 and h==0 then redis.call('HDEL',KEYS[1],ARGV[i]) "
    "elseif day=='' then redis.call('HSET',KEYS[1],ARGV[i],s..','..h) "
    "else redis.call('HSET',KEYS[1],ARGV[i],s..','..h..','..day) end end return #ARGV-3";

/* The claim: KEYS[1] = <P>_L, ARGV[1] = digest, ARGV[2] = "S" or "H".
 * Returns the entry as it was ("" when none); sets it to ARGV[2] unless it
 * already was that. */
static const char claim_script[] =
    "local old=redis.call('HGET',KEYS[1],ARGV[1]) "
    "if old==ARGV[2] then return old end "
    "redis.call('HSET',KEYS[1],ARGV[1],ARGV[2]) return old or ''";

/* Keeps the message's n-gram view for the model's trainer (ngram_train.c):
 * KEYS[1] = <G>_E (digest -> class letter + view), KEYS[2] = <G>_EQ (the
 * digests, newest first), KEYS[3] = <G>; ARGV = digest, value, the most
 * examples kept.  A relearn replaces the entry; the oldest go first. */
static const char example_script[] =
    "local new=redis.call('HSET',KEYS[1],ARGV[1],ARGV[2]) "
    "if new==1 then redis.call('LPUSH',KEYS[2],ARGV[1]) end "
    "while redis.call('LLEN',KEYS[2])>tonumber(ARGV[3]) do "
    "redis.call('HDEL',KEYS[1],redis.call('RPOP',KEYS[2])) end "
    "return redis.call('HINCRBY',KEYS[3],'examples',1)";

/* Undoes a claim: when the entry ARGV[1] still holds our ARGV[2], puts
 * back ARGV[3] (or deletes the entry when ARGV[3] is ""). */
static const char unclaim_script[] =
    "if redis.call('HGET',KEYS[1],ARGV[1])==ARGV[2] then "
    "if ARGV[3]=='' then redis.call('HDEL',KEYS[1],ARGV[1]) "
    "else redis.call('HSET',KEYS[1],ARGV[1],ARGV[3]) end end return 0";

struct learn_job;
typedef void (*job_stage)(struct learn_job *job);

struct learn_job {
    struct bayes_ctx *ctx;
    char prefix[320];
    uint64_t *tok;
    size_t n;
    char *example;               /* class letter + n-gram view; NULL: the model is off */
    size_t example_len;
    char digest[33];
    bool spam;
    char old;                    /* 0, 'S' or 'H': the learn cache entry before our claim */
    bool claimed;                /* our claim changed the entry (undo it on failure) */
    bool autolearn;
    unsigned pending;            /* commands of the current stage in flight, + 1 while sending */
    job_stage next;              /* runs when pending drops to 0 */
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
    free(job->example);
    free(job);
}

/*
 * A stage sends its commands between job_hold() and job_release(next):
 * the hold keeps a reply that arrives synchronously (a server that is down
 * fails at once) from running the next stage before every command is out.
 * Each reply callback ends with job_release() too.
 */
static void job_hold(struct learn_job *job, job_stage next)
{
    job->next = next;
    job->pending++;
}

static void job_release(struct learn_job *job)
{
    if (--job->pending == 0)
        job->next(job);
}

static void job_send(struct learn_job *job, enum redis_op op, int argc, const char **argv,
                     const size_t *argvlen, redis_cb cb)
{
    job->pending++;
    redis_command(job->ctx->pool, op, argc, argv, argvlen, cb, job);
}

static void write_reply(const redisReply *r, const char *err, void *data)
{
    struct learn_job *job = data;
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        job_fail(job, r, err);
    job_release(job);
}

/* One EVAL per shard: ARGV = spam delta, ham delta, the shard's tokens as
 * 8-byte fields.  A relearn moves the message in the same call. */
static void send_increments(struct learn_job *job)
{
    bool move = bayes_learn_decide(job->old, job->spam) == BAYES_DECIDE_MOVE;
    const char *ds = job->spam ? "1" : move ? "-1" : "0";
    const char *dh = !job->spam ? "1" : move ? "-1" : "0";
    const struct bayes_ctx *ctx = job->ctx;
    char day[24] = "";
    if (ctx->expire > 0)
        snprintf(day, sizeof(day), "%lld", (long long)(time(NULL) / 86400));
    size_t cap = job->n + 7;
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
        argv[argc] = day, argvlen[argc++] = strlen(day);
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

static void unclaim_reply(const redisReply *r, const char *err, void *data)
{
    struct learn_job *job = data;
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        log_warn("bayes: could not undo the learn cache entry of mid=<%s> after a failed learn "
                 "(a retry will say \"already learned\"): %s",
                 job->mid, r != NULL ? r->str : err ? err : "no reply");
    job_release(job);
}

/* Stage 2 is over: undo the claim if a write failed, then report. */
static void writes_done(struct learn_job *job)
{
    if (job->status != BAYES_LEARN_ERROR || !job->claimed) {
        job_finish(job);
        return;
    }
    char ckey[360], old[2] = {job->old, 0};
    snprintf(ckey, sizeof(ckey), "%s_L", job->prefix);
    const char *argv[] = {"EVAL", unclaim_script, "1", ckey, job->digest, job->spam ? "S" : "H",
                          old};
    size_t len[] = {4, sizeof(unclaim_script) - 1, 1, strlen(ckey), 32, 1, strlen(old)};
    job_hold(job, job_finish);
    job_send(job, REDIS_WRITE, 7, argv, len, unclaim_reply);
    job_release(job);
}

static void send_writes(struct learn_job *job)
{
    char key[360];
    const char *cls = job->spam ? "learns_spam" : "learns_ham";
    const char *other = job->spam ? "learns_ham" : "learns_spam";
    job_hold(job, writes_done);
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
    if (job->example != NULL) {
        /* The n-gram model is one for all users: its examples live under
         * the global prefix. */
        char ekey[360], qkey[360], cap[24];
        snprintf(ekey, sizeof(ekey), "%s_E", job->ctx->prefix);
        snprintf(qkey, sizeof(qkey), "%s_EQ", job->ctx->prefix);
        snprintf(cap, sizeof(cap), "%zu", job->ctx->ngram_examples);
        job->example[0] = job->spam ? 'S' : 'H';
        const char *argv[] = {"EVAL", example_script, "3", ekey, qkey, job->ctx->prefix,
                              job->digest, job->example, cap};
        size_t len[] = {4, sizeof(example_script) - 1, 1, strlen(ekey), strlen(qkey),
                        strlen(job->ctx->prefix), 32, job->example_len, strlen(cap)};
        job_send(job, REDIS_WRITE, 9, argv, len, write_reply);
    }
    if (strcmp(job->prefix, job->ctx->prefix) != 0) {
        /* The registry of per-user prefixes, for /stat (statfile.c) and
         * expiry (expire.c): a sorted set, so expiry can walk it in order. */
        char ukey[360];
        snprintf(ukey, sizeof(ukey), "%s_U", job->ctx->prefix);
        const char *argv[] = {"ZADD", ukey, "0", key};
        size_t len[] = {4, strlen(ukey), 1, strlen(key)};
        job_send(job, REDIS_WRITE, 4, argv, len, write_reply);
    }
    job_release(job);
}

static void claim_reply(const redisReply *r, const char *err, void *data)
{
    struct learn_job *job = data;
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        job_fail(job, r, err);
    } else if (r->type == REDIS_REPLY_STRING) {
        job->old = bayes_cache_entry(r->str, r->len);
        job->claimed = bayes_learn_decide(job->old, job->spam) != BAYES_DECIDE_ALREADY;
    } else {
        job_fail(job, NULL, "unexpected reply to the learn cache claim");
    }
    job_release(job);
}

/* Stage 1 is over: refuse, or write. */
static void claim_done(struct learn_job *job)
{
    if (job->status == BAYES_LEARN_ERROR) {
        job_finish(job);
    } else if (bayes_learn_decide(job->old, job->spam) == BAYES_DECIDE_ALREADY) {
        job->status = BAYES_LEARN_ALREADY;
        snprintf(job->message, sizeof(job->message), "<%s> is already learned as %s",
                 job->mid, job->spam ? "spam" : "ham");
        job_finish(job);
    } else {
        send_writes(job);
    }
}

static void claim_start(struct learn_job *job)
{
    char key[360];
    snprintf(key, sizeof(key), "%s_L", job->prefix);
    const char *cls = job->spam ? "S" : "H";
    const char *argv[] = {"EVAL", claim_script, "1", key, job->digest, cls};
    size_t len[] = {4, sizeof(claim_script) - 1, 1, strlen(key), 32, 1};
    job_hold(job, claim_done);
    job_send(job, REDIS_WRITE, 6, argv, len, claim_reply);
    job_release(job);
}

/* Autolearn's balance check (Rspamd's check_balance / min_balance). */
static bool unbalanced(const struct learn_job *job)
{
    const struct bayes_autolearn *al = &job->ctx->autolearn;
    double mine = (double)(job->spam ? job->learns_spam : job->learns_ham) + 1;
    double theirs = (double)(job->spam ? job->learns_ham : job->learns_spam) + 1;
    return mine > theirs / al->min_balance;
}

static void balance_reply(const redisReply *r, const char *err, void *data)
{
    struct learn_job *job = data;
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        job_fail(job, r, err);
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        job->learns_spam = bayes_reply_count(r->element[0]);
        job->learns_ham = bayes_reply_count(r->element[1]);
    }
    job_release(job);
}

/* Stage 0 is over: skip an unbalanced class, or claim. */
static void balance_done(struct learn_job *job)
{
    if (job->status == BAYES_LEARN_ERROR) {
        job_finish(job);
    } else if (unbalanced(job)) {
        job->status = BAYES_LEARN_REFUSED;
        snprintf(job->message, sizeof(job->message),
                 "autolearn skipped: %s learns exceed the balance", job->spam ? "spam" : "ham");
        job_finish(job);
    } else {
        claim_start(job);
    }
}

static void job_begin(struct learn_job *job)
{
    if (!job->autolearn || !job->ctx->autolearn.check_balance) {
        claim_start(job);
        return;
    }
    const char *argv[] = {"HMGET", job->prefix, "learns_spam", "learns_ham"};
    size_t len[] = {5, strlen(job->prefix), 11, 10};
    job_hold(job, balance_done);
    job_send(job, REDIS_READ, 4, argv, len, balance_reply);
    job_release(job);
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
    if (ctx->ngram_examples > 0) {
        job->example = malloc(BAYES_NGRAM_VIEW + 1);
        if (job->example == NULL)
            panic("bayes: out of memory");
        job->example_len = 1 + bayes_ngram_view(task->msg, job->example + 1, BAYES_NGRAM_VIEW);
    }
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
