/*
 * Token expiry (`expire` in the classifier block; off by default): keeps
 * the statistics bounded by dropping the tokens that carry no evidence to
 * speak of, those seen in a single learned message, once no learn has
 * touched them for `expire` seconds.  Tokens seen twice or more are kept
 * forever, as is everything while `expire` is 0.
 *
 * With expire on, learning stamps every token it touches with the day of
 * the learn ("spam,ham,day", learn.c; docs/redis-schema.md).  Here, every
 * `expire_interval` seconds one process of all those sharing the Redis
 * (whoever wins `SET <prefix>_X NX PX`) runs one step: a Lua script HSCANs
 * up to EXPIRE_BATCH fields of one token hash, deletes the singletons older
 * than the cutoff, and dates the undated values it meets (learned before
 * expire was on: their age starts now).  The position (prefix, shard,
 * cursor) lives in <prefix>_C, so the walk goes on wherever the next step
 * runs; after the global prefix's shards come the per-user prefixes, in
 * the order of the registry <prefix>_U.  A failed step is logged and
 * retried at the next interval.  Owns the timer and the step in flight.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "modules/bayes/bayes_private.h"

#define EXPIRE_BATCH "500"       /* fields examined per step (HSCAN COUNT) */

/* KEYS[1] = a token hash; ARGV = cursor, cutoff day, today, count.
 * Returns {next cursor, fields deleted}. */
static const char prune_script[] =
    "local r=redis.call('HSCAN',KEYS[1],ARGV[1],'COUNT',ARGV[4]) local n=0 "
    "local cut,today=tonumber(ARGV[2]),ARGV[3] local f=r[2] for i=1,#f,2 do "
    "local s,h,d=string.match(f[i+1],'^(%d+),(%d+),?(%d*)$') if s then "
    "if d=='' then redis.call('HSET',KEYS[1],f[i],s..','..h..','..today) "
    "elseif tonumber(s)+tonumber(h)<=1 and tonumber(d)<cut then "
    "redis.call('HDEL',KEYS[1],f[i]) n=n+1 end end end return {r[1],n}";

struct bayes_expire {
    struct bayes_ctx *ctx;
    struct ev_loop *loop;
    ev_timer timer;
    bool busy;                   /* a step is in flight */
    char key_lock[320], key_pos[320], key_users[320];
    char prefix[320];            /* the step's position */
    unsigned shard;
    char cursor[32];
};

/* The step is over; a failure is logged (not at shutdown, when the pool
 * answers what is in flight "connection lost"). */
static void step_fail(struct bayes_expire *ex, const redisReply *r, const char *err)
{
    if (ex->ctx->pool != NULL)
        log_warn("bayes: token expiry step failed (retried in %.0f s): %s",
                 ex->ctx->expire_interval,
                 r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : err ? err : "no reply");
    ex->busy = false;
}

static bool failed(const redisReply *r)
{
    return r == NULL || r->type == REDIS_REPLY_ERROR;
}

static void saved(const redisReply *r, const char *err, void *data)
{
    struct bayes_expire *ex = data;
    if (failed(r))
        step_fail(ex, r, err);
    ex->busy = false;
}

/* Stores the position for the next step (whichever process runs it). */
static void save_position(struct bayes_expire *ex)
{
    char val[400];
    int n = snprintf(val, sizeof(val), "%s\t%u\t%s", ex->prefix, ex->shard, ex->cursor);
    const char *argv[] = {"SET", ex->key_pos, val};
    size_t len[] = {3, strlen(ex->key_pos), (size_t)n < sizeof(val) ? (size_t)n : sizeof(val) - 1};
    redis_command(ex->ctx->pool, REDIS_WRITE, 3, argv, len, saved, ex);
}

static void next_user(const redisReply *r, const char *err, void *data)
{
    struct bayes_expire *ex = data;
    if (failed(r) || ex->ctx->pool == NULL) {
        step_fail(ex, r, err);
        return;
    }
    const char *next = ex->ctx->prefix;           /* after the last user: the global one */
    size_t len = strlen(next);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len < sizeof(ex->prefix)) {
        next = r->element[0]->str;
        len = r->element[0]->len;
    }
    memcpy(ex->prefix, next, len);
    ex->prefix[len] = '\0';
    save_position(ex);
}

static void pruned(const redisReply *r, const char *err, void *data)
{
    struct bayes_expire *ex = data;
    struct bayes_ctx *ctx = ex->ctx;
    if (failed(r) || ctx->pool == NULL) {
        step_fail(ex, r, err);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        step_fail(ex, NULL, "unexpected reply to the expiry script");
        return;
    }
    if (r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer > 0)
        log_info("bayes: expired %lld tokens from %s_T%u", (long long)r->element[1]->integer,
                 ex->prefix, ex->shard);
    snprintf(ex->cursor, sizeof(ex->cursor), "%.*s", (int)r->element[0]->len,
             r->element[0]->str);
    if (strcmp(ex->cursor, "0") != 0 || ++ex->shard < ctx->nshards) {
        save_position(ex);
        return;
    }
    ex->shard = 0;
    if (!ctx->per_user) {
        save_position(ex);
        return;
    }
    /* The next statistics prefix: the registry's members in order. */
    char from[330];
    bool global = strcmp(ex->prefix, ctx->prefix) == 0;
    snprintf(from, sizeof(from), "(%s", ex->prefix);
    const char *argv[] = {"ZRANGEBYLEX", ex->key_users, global ? "-" : from, "+", "LIMIT", "0",
                          "1"};
    size_t len[] = {11, strlen(ex->key_users), strlen(argv[2]), 1, 5, 1, 1};
    redis_command(ctx->pool, REDIS_READ, 7, argv, len, next_user, ex);
}

static void positioned(const redisReply *r, const char *err, void *data)
{
    struct bayes_expire *ex = data;
    struct bayes_ctx *ctx = ex->ctx;
    if (failed(r) || ctx->pool == NULL) {
        step_fail(ex, r, err);
        return;
    }
    snprintf(ex->prefix, sizeof(ex->prefix), "%s", ctx->prefix);
    ex->shard = 0;
    snprintf(ex->cursor, sizeof(ex->cursor), "0");
    if (r->type == REDIS_REPLY_STRING) {
        /* "prefix\tshard\tcursor"; anything else starts over */
        char buf[400], *tab1, *tab2;
        snprintf(buf, sizeof(buf), "%.*s", (int)r->len, r->str);
        uint64_t shard, cursor;
        if ((tab1 = strchr(buf, '\t')) != NULL && (tab2 = strchr(tab1 + 1, '\t')) != NULL &&
            str_to_u64(tab1 + 1, (size_t)(tab2 - tab1 - 1), &shard) == 0 &&
            shard < ctx->nshards && (size_t)(tab1 - buf) < sizeof(ex->prefix) &&
            strlen(tab2 + 1) < sizeof(ex->cursor) &&
            str_to_u64(tab2 + 1, strlen(tab2 + 1), &cursor) == 0) {
            memcpy(ex->prefix, buf, (size_t)(tab1 - buf));
            ex->prefix[tab1 - buf] = '\0';
            ex->shard = (unsigned)shard;
            snprintf(ex->cursor, sizeof(ex->cursor), "%s", tab2 + 1);
        }
    }
    char key[360], cut[24], today[24];
    long long day = (long long)(time(NULL) / 86400);
    long long keep = (long long)((ctx->expire + 86399) / 86400);
    snprintf(key, sizeof(key), "%s_T%u", ex->prefix, ex->shard);
    snprintf(cut, sizeof(cut), "%lld", day - keep);
    snprintf(today, sizeof(today), "%lld", day);
    const char *argv[] = {"EVAL", prune_script, "1", key, ex->cursor, cut, today, EXPIRE_BATCH};
    size_t len[] = {4, sizeof(prune_script) - 1, 1, strlen(key), strlen(ex->cursor), strlen(cut),
                    strlen(today), strlen(EXPIRE_BATCH)};
    redis_command(ctx->pool, REDIS_WRITE, 8, argv, len, pruned, ex);
}

static void locked(const redisReply *r, const char *err, void *data)
{
    struct bayes_expire *ex = data;
    if (failed(r) || ex->ctx->pool == NULL) {
        step_fail(ex, r, err);
        return;
    }
    if (r->type != REDIS_REPLY_STATUS) {          /* nil: another process has this interval */
        ex->busy = false;
        return;
    }
    const char *argv[] = {"GET", ex->key_pos};
    size_t len[] = {3, strlen(ex->key_pos)};
    redis_command(ex->ctx->pool, REDIS_READ, 2, argv, len, positioned, ex);
}

static void tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct bayes_expire *ex = w->data;
    if (ex->busy || ex->ctx->pool == NULL)
        return;
    ex->busy = true;
    char pid[24], ms[24];
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    snprintf(ms, sizeof(ms), "%lld", (long long)(ex->ctx->expire_interval * 1000 * 0.9));
    const char *argv[] = {"SET", ex->key_lock, pid, "NX", "PX", ms};
    size_t len[] = {3, strlen(ex->key_lock), strlen(pid), 2, 2, strlen(ms)};
    redis_command(ex->ctx->pool, REDIS_WRITE, 6, argv, len, locked, ex);
}

struct bayes_expire *bayes_expire_start(struct bayes_ctx *ctx, struct ev_loop *loop)
{
    if (ctx->expire <= 0 || ctx->pool == NULL)
        return NULL;
    struct bayes_expire *ex = calloc(1, sizeof(*ex));
    if (ex == NULL)
        panic("bayes: out of memory");
    ex->ctx = ctx;
    ex->loop = loop;
    snprintf(ex->key_lock, sizeof(ex->key_lock), "%s_X", ctx->prefix);
    snprintf(ex->key_pos, sizeof(ex->key_pos), "%s_C", ctx->prefix);
    snprintf(ex->key_users, sizeof(ex->key_users), "%s_U", ctx->prefix);
    ev_timer_init(&ex->timer, tick, ctx->expire_interval, ctx->expire_interval);
    ex->timer.data = ex;
    ev_timer_start(loop, &ex->timer);
    return ex;
}

/* Before the pool is freed: a step still in flight is answered "connection
 * lost" by the pool's free and must find this block; see bayes_worker_deinit. */
void bayes_expire_stop(struct bayes_expire *ex)
{
    if (ex != NULL)
        ev_timer_stop(ex->loop, &ex->timer);
}

void bayes_expire_free(struct bayes_expire **exp)
{
    free(*exp);
    *exp = NULL;
}
