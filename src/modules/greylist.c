/*
 * Greylisting (spec §13.1): a first delivery that scores in the greylist,
 * add header or rewrite subject range is deferred with 451 4.7.1 "Try again
 * later"; a retry after `timeout` passes and refreshes the records.
 *
 * Two records in Redis, each the Unix time a message was first seen:
 *   rgb<hash>  the first max_data_len bytes of the body,
 *   rgm<hash>  envelope sender, sorted recipients, client IP masked /19 or /64.
 * If either exists and is older than `timeout` the message is let through;
 * younger means "too early" (deferred whatever the score).  Stage 0 reads
 * the records (one MGET), post_scan decides after the action is known and
 * writes them without waiting (SETEX / EXPIRE are fire-and-forget).
 *
 * Never greylisted: authenticated and local senders (unless check_authed /
 * check_local), local clients (rspamc, the controller), reject, and mail
 * with no client IP.  Without Redis, or when Redis fails, mail is not
 * deferred: greylisting fails open and the GREYLIST symbol says why.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/authdns.h"
#include "modules/module.h"
#include "store/redis.h"

struct greylist_ctx {
    struct redis_settings redis;
    struct redis_pool *pool;     /* per worker process */
    struct auth_outbound outbound;
    double timeout;              /* seconds before a retry passes */
    double expire;               /* record lifetime */
    uint64_t max_data_len;
    const char *message;
    const char *prefix;
    unsigned ipv4_mask, ipv6_mask;
};

/* What stage 0 found, for post_scan. */
struct greylist_state {
    char body_key[64], meta_key[64];
    bool checked;                /* the records were read */
    bool whitelisted;            /* a record older than timeout */
    bool too_early;              /* a record younger than timeout */
    const char *failure;         /* Redis error, NULL when fine */
    int64_t first_seen;
};

static const char greylist_key[] = "greylist";

static const struct symbol_def greylist_symbols[] = {
    {"GREYLIST", 0.0, "greylist",
     "Greylisting: options say greylisted (with the retry time and why) or pass", 0},
};

static int greylist_configure(const struct conf_obj *section, struct module_env *env,
                              void **ctx_r, const char **error_r)
{
    struct greylist_ctx *ctx = ARENA_NEW(env->arena, struct greylist_ctx);
    int64_t m4 = 19, m6 = 64;
    *ctx_r = NULL;
    symtab_add_many(env->symtab, greylist_symbols, 1);
    if (env->config == NULL)
        return 0;
    if (redis_settings_parse(env->arena, section, config_section(env->config, "redis"),
                             &ctx->redis, error_r) < 0)
        return -1;
    if (!ctx->redis.configured)
        return 0;                /* greylisting needs Redis */
    if (conf_get_time(section, "timeout", 300, &ctx->timeout, error_r) < 0 ||
        conf_get_time(section, "expire", 86400, &ctx->expire, error_r) < 0 ||
        conf_get_size(section, "max_data_len", 10240, &ctx->max_data_len, error_r) < 0 ||
        conf_get_string(section, "message", "Try again later", &ctx->message, error_r) < 0 ||
        conf_get_string(section, "key_prefix", "rg", &ctx->prefix, error_r) < 0 ||
        conf_get_int(section, "ipv4_mask", 19, &m4, error_r) < 0 ||
        conf_get_int(section, "ipv6_mask", 64, &m6, error_r) < 0 ||
        auth_outbound_configure(section, env->config, &ctx->outbound, error_r) < 0)
        return -1;
    if (m4 < 0 || m4 > 32 || m6 < 0 || m6 > 128 || ctx->expire < 1 || ctx->timeout < 0) {
        *error_r = "greylist: ipv4_mask 0..32, ipv6_mask 0..128, expire >= 1s, timeout >= 0";
        return -1;
    }
    ctx->ipv4_mask = (unsigned)m4;
    ctx->ipv6_mask = (unsigned)m6;
    *ctx_r = ctx;
    return 0;
}

static int greylist_worker_init(void *data, struct ev_loop *loop, const char **error_r)
{
    struct greylist_ctx *ctx = data;
    ctx->pool = redis_pool_new(loop, &ctx->redis, "greylist");
    return 0;
}

static void greylist_worker_deinit(void *data)
{
    struct greylist_ctx *ctx = data;
    redis_pool_free(&ctx->pool);
}

/* prefix + letter + 20 hex digits of BLAKE2b over the parts. */
static void make_key(char out[64], const char *prefix, char kind, const void *const *parts,
                     const size_t *lens, size_t n)
{
    crypto_generichash_state st;
    unsigned char h[16];
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    for (size_t i = 0; i < n; i++)
        crypto_generichash_update(&st, parts[i], lens[i]);
    crypto_generichash_final(&st, h, sizeof(h));
    int off = snprintf(out, 32, "%.16s%c", prefix, kind);
    for (int i = 0; i < 10; i++)
        snprintf(out + off + 2 * i, 3, "%02x", h[i]);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void meta_key(const struct greylist_ctx *ctx, struct task *t, char out[64])
{
    struct netaddr ip = t->env.ip;
    unsigned prefix = ip.family == 4 ? 96 + ctx->ipv4_mask : ctx->ipv6_mask;
    for (unsigned bit = prefix; bit < 128; bit++)
        ip.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    const char *from = t->env.from && *t->env.from ? t->env.from : "<>";
    const char **rc = ARENA_NEW_N(t->arena, const char *, t->env.nrcpts + 1);
    memcpy(rc, t->env.rcpts, t->env.nrcpts * sizeof(*rc));
    qsort(rc, t->env.nrcpts, sizeof(*rc), cmp_str);
    size_t n = 0;
    const void **parts = ARENA_NEW_N(t->arena, const void *, t->env.nrcpts + 2);
    size_t *lens = ARENA_NEW_N(t->arena, size_t, t->env.nrcpts + 2);
    parts[n] = from, lens[n++] = strlen(from);
    for (size_t i = 0; i < t->env.nrcpts; i++)
        parts[n] = rc[i], lens[n++] = strlen(rc[i]);
    parts[n] = ip.addr, lens[n++] = sizeof(ip.addr);
    make_key(out, ctx->prefix, 'm', parts, lens, n);
}

static bool exempt(const struct greylist_ctx *ctx, const struct task *t)
{
    if (t->env.ip.family == 0 || (t->flags & TASK_LOCAL_CLIENT) ||
        task_request_header(t, "Password") != NULL)
        return true;
    return auth_outbound_skip(t, &ctx->outbound);
}

static void records_cb(struct task *t, const redisReply *reply, const char *error, void *data)
{
    struct greylist_ctx *ctx = data;
    struct greylist_state *st = auth_task_data_get(t, greylist_key);
    if (st == NULL)
        return;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        st->failure = arena_printf(t->arena, "redis: %s",
                                   error ? error : (reply && reply->str ? reply->str : "bad reply"));
        return;
    }
    st->checked = true;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < 2; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_STRING)
            continue;
        int64_t seen = strtoll(e->str, NULL, 10);
        if (seen <= 0)
            continue;
        if (now - seen >= (int64_t)ctx->timeout)
            st->whitelisted = true;
        else
            st->too_early = true;
        if (st->first_seen == 0 || seen < st->first_seen)
            st->first_seen = seen;
    }
}

static int greylist_scan(struct task *t, void *data)
{
    struct greylist_ctx *ctx = data;
    if (ctx->pool == NULL || exempt(ctx, t))
        return 0;
    struct greylist_state *st = ARENA_NEW(t->arena, struct greylist_state);
    size_t blen = t->msg && t->msg->body ? t->msg->body_len : 0;
    if (blen > ctx->max_data_len)
        blen = ctx->max_data_len;
    const void *bp[1] = {t->msg && t->msg->body ? t->msg->body : ""};
    size_t bl[1] = {blen};
    make_key(st->body_key, ctx->prefix, 'b', bp, bl, 1);
    meta_key(ctx, t, st->meta_key);
    auth_task_data_set(t, greylist_key, st);
    const char *argv[3] = {"MGET", st->body_key, st->meta_key};
    redis_task_command(ctx->pool, t, REDIS_READ, 3, argv, NULL, records_cb, ctx);
    return 0;
}

static void fire_and_forget(const redisReply *reply, const char *error, void *data)
{
    if (error != NULL)
        log_debug("greylist", "greylist: redis write failed: %s", error);
}

static void write_records(struct greylist_ctx *ctx, struct greylist_state *st, bool create)
{
    char ttl[32], now[32];
    snprintf(ttl, sizeof(ttl), "%lld", (long long)ctx->expire);
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    const char *keys[2] = {st->body_key, st->meta_key};
    for (size_t i = 0; i < 2; i++) {
        if (create) {
            /* SET NX keeps the first-seen time of an existing record */
            const char *argv[6] = {"SET", keys[i], now, "EX", ttl, "NX"};
            redis_command(ctx->pool, REDIS_WRITE, 6, argv, NULL, fire_and_forget, NULL);
        } else {
            const char *argv[3] = {"EXPIRE", keys[i], ttl};
            redis_command(ctx->pool, REDIS_WRITE, 3, argv, NULL, fire_and_forget, NULL);
        }
    }
}

/* After the action is known (spec §13.1 postfilter). */
static void greylist_post_scan(struct task *t, void *data)
{
    struct greylist_ctx *ctx = data;
    struct greylist_state *st = auth_task_data_get(t, greylist_key);
    if (st == NULL)
        return;
    if (st->failure != NULL) {
        task_insert(t, "GREYLIST", 1.0, st->failure);   /* fails open, visibly */
        return;
    }
    task_finalize(t);
    int action = t->action;
    if (action == ACTION_REJECT || action == ACTION_SOFT_REJECT || t->passthrough != NULL)
        return;
    if (st->whitelisted) {
        write_records(ctx, st, false);
        task_insert(t, "GREYLIST", 1.0, "pass");
        if (action == ACTION_GREYLIST)
            task_set_passthrough(t, ACTION_NO_ACTION, NAN, NULL, "greylist", false);
        return;
    }
    bool deferrable = action == ACTION_GREYLIST || action == ACTION_ADD_HEADER ||
                      action == ACTION_REWRITE_SUBJECT;
    if (!deferrable && !st->too_early)
        return;
    write_records(ctx, st, true);
    int64_t first = st->first_seen ? st->first_seen : (int64_t)time(NULL);
    char until[64];
    time_t end = (time_t)(first + (int64_t)ctx->timeout);
    struct tm tm;
    gmtime_r(&end, &tm);
    strftime(until, sizeof(until), "%a, %d %b %Y %H:%M:%S UTC", &tm);
    struct task_symbol *s = task_insert(t, "GREYLIST", 1.0, "greylisted");
    if (s != NULL) {
        task_symbol_add_option(t, s, until, strlen(until));
        const char *why = st->too_early ? "too early" : "new record";
        task_symbol_add_option(t, s, why, strlen(why));
    }
    task_set_passthrough(t, ACTION_SOFT_REJECT, NAN, ctx->message, "greylist", false);
}

const struct module module_greylist = {
    .name = "greylist",
    .abi = MODULE_ABI,
    .configure = greylist_configure,
    .scan = greylist_scan,
    .post_scan = greylist_post_scan,
    .worker_init = greylist_worker_init,
    .worker_deinit = greylist_worker_deinit,
    .uses_redis = true,
};
