/*
 * The statistics' figures for the controller's /stat "statfiles" (spec
 * §5.3): learns of each class summed over every statistics prefix, and the
 * number of prefixes (users).  One read, asynchronous on the calling
 * worker's loop, through the bayes module's pool in that process.
 *
 * Prefixes: the global one (`prefix`, "WB") always; with per_user, also
 * those in the registry <prefix>_U, which learning fills (one ZADD per
 * learn of a per-user prefix; docs/redis-schema.md).  Two round trips:
 * ZRANGE <prefix>_U (skipped without per_user), then one pipelined HMGET
 * of learns_spam and learns_ham per prefix.  A prefix with no learns (all
 * unlearned, or never written) is not counted as a user; users is at least
 * 1, as Rspamd reports it.  Owns only the read in flight (a heap block
 * freed when done has run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "modules/bayes/bayes_private.h"

/* Most prefixes read for one answer: a registry grown past this is summed
 * over its first members only (and the log says so). */
#define STATFILE_MAX_PREFIXES 100000

struct stat_job {
    struct bayes_ctx *ctx;
    bayes_stats_done done;
    void *data;
    unsigned pending;            /* replies outstanding, + 1 while sending */
    struct bayes_stats st;
    const char *error;           /* static text or err from the pool; set once */
    char errbuf[256];
};

static void job_fail(struct stat_job *job, const redisReply *r, const char *err)
{
    if (job->error != NULL)
        return;
    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        snprintf(job->errbuf, sizeof(job->errbuf), "redis: %.200s", r->str);
    else
        snprintf(job->errbuf, sizeof(job->errbuf), "redis: %s", err ? err : "unexpected reply");
    job->error = job->errbuf;
}

static void job_release(struct stat_job *job)
{
    if (--job->pending > 0)
        return;
    if (job->st.users == 0)
        job->st.users = 1;
    job->done(job->error ? NULL : &job->st, job->error, job->data);
    free(job);
}

static void learns_reply(const redisReply *r, const char *err, void *data)
{
    struct stat_job *job = data;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        job_fail(job, r, err);
    } else {
        uint64_t s = bayes_reply_count(r->element[0]), h = bayes_reply_count(r->element[1]);
        job->st.learns_spam += s;
        job->st.learns_ham += h;
        job->st.users += s + h > 0;
    }
    job_release(job);
}

static void send_learns(struct stat_job *job, const char *prefix, size_t len)
{
    const char *argv[] = {"HMGET", prefix, "learns_spam", "learns_ham"};
    size_t argvlen[] = {5, len, 11, 10};
    job->pending++;
    redis_command(job->ctx->pool, REDIS_READ, 4, argv, argvlen, learns_reply, job);
}

static void members_reply(const redisReply *r, const char *err, void *data)
{
    struct stat_job *job = data;
    const struct bayes_ctx *ctx = job->ctx;
    if (r == NULL || (r->type != REDIS_REPLY_ARRAY && r->type != REDIS_REPLY_NIL)) {
        job_fail(job, r, err);
        job_release(job);
        return;
    }
    /* This reply's count holds the job while the HMGETs are sent. */
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    if (n > STATFILE_MAX_PREFIXES) {
        log_warn("bayes: /stat sums the first %d of %zu statistics prefixes",
                 STATFILE_MAX_PREFIXES, n);
        n = STATFILE_MAX_PREFIXES;
    }
    for (size_t i = 0; i < n && job->error == NULL; i++) {
        const redisReply *e = r->element[i];
        /* the global prefix is read anyway (send_all) */
        if (e->type == REDIS_REPLY_STRING &&
            !(e->len == strlen(ctx->prefix) && memcmp(e->str, ctx->prefix, e->len) == 0))
            send_learns(job, e->str, e->len);
    }
    job_release(job);
}

bool bayes_stats_available(void)
{
    return bayes_learn_available();
}

const char *bayes_stats_symbol(bool spam)
{
    if (bayes_worker_ctx == NULL)
        return spam ? "BAYES_SPAM" : "BAYES_HAM";
    return spam ? bayes_worker_ctx->sym_spam : bayes_worker_ctx->sym_ham;
}

void bayes_stats_fetch(bayes_stats_done done, void *data)
{
    struct bayes_ctx *ctx = bayes_worker_ctx;
    if (ctx == NULL || ctx->pool == NULL) {
        done(NULL, "Bayes is not enabled", data);
        return;
    }
    struct stat_job *job = calloc(1, sizeof(*job));
    if (job == NULL)
        panic("bayes: out of memory");
    job->ctx = ctx;
    job->done = done;
    job->data = data;
    job->pending = 1;            /* held while sending: failures may answer at once */
    send_learns(job, ctx->prefix, strlen(ctx->prefix));
    if (ctx->per_user && job->error == NULL) {
        char key[320];
        snprintf(key, sizeof(key), "%s_U", ctx->prefix);
        const char *argv[] = {"ZRANGE", key, "0", "-1"};
        size_t argvlen[] = {6, strlen(key), 1, 2};
        job->pending++;
        redis_command(ctx->pool, REDIS_READ, 4, argv, argvlen, members_reply, job);
    }
    job_release(job);
}
