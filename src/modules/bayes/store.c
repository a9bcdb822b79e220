/*
 * The bayes module's Redis layout (docs/redis-schema.md is the reference):
 *
 *   <P>            hash   version, learns_spam, learns_ham
 *   <P>_T<k>       hash   token counts: field = token (8 bytes, little
 *                         endian), value "spam,ham" (decimal: messages of
 *                         each class that contained it), ",day" appended
 *                         with expiry
 *   <P>_L          hash   learn cache: field = digest of the message's
 *                         token set (32 hex), value "S" or "H"
 *
 * P is the prefix (`prefix`, default "WB"), followed by the principal
 * recipient with per_user; k = 0 .. shards-1 picks the hash from the
 * token's top bits.  Counts of one class for many tokens live in a few big
 * hashes instead of one key per token (Rspamd's RS_<token>), so a scan reads
 * all its tokens with `shards` HMGETs in one round trip, each token one
 * field with both classes (one lookup, not two), and Redis spends ~60 bytes
 * per token instead of a whole key.  Owns nothing; helpers only.
 */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/bayes/bayes_private.h"

/* Deliver-To, else the first SMTP recipient, else the first To: address. */
static const char *principal_recipient(struct task *task)
{
    if (task->env.deliver_to != NULL && *task->env.deliver_to)
        return task->env.deliver_to;
    if (task->env.nrcpts > 0 && task->env.rcpts[0] != NULL && *task->env.rcpts[0])
        return task->env.rcpts[0];
    if (task->msg != NULL && task->msg->to.n > 0 && task->msg->to.a[0].addr != NULL)
        return task->msg->to.a[0].addr;
    return NULL;
}

const char *bayes_store_prefix(const struct bayes_ctx *ctx, struct task *task)
{
    if (!ctx->per_user)
        return ctx->prefix;
    const char *user = principal_recipient(task);
    if (user == NULL)
        return ctx->prefix;
    /* Lower-cased: Rcpt addresses differ in case, the statistics must not. */
    char *p = arena_printf(task->arena, "%s%s", ctx->prefix, user);
    str_lower(p + strlen(ctx->prefix), strlen(user));
    return p;
}

const char *bayes_key_stats(struct task *task, const char *prefix)
{
    return arena_strdup(task->arena, prefix);
}

const char *bayes_key_tokens(struct task *task, const char *prefix, unsigned shard)
{
    return arena_printf(task->arena, "%s_T%u", prefix, shard);
}

static int parse_u32(const char *p, size_t len, uint32_t *v_r)
{
    uint64_t v;
    if (str_to_u64(p, len, &v) < 0)
        return -1;
    *v_r = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return 0;
}

int bayes_parse_counts(const char *p, size_t len, struct bayes_counts *out)
{
    out->spam = out->ham = 0;
    const char *comma = memchr(p, ',', len);
    if (comma == NULL)
        return -1;
    size_t sl = (size_t)(comma - p), rest = len - sl - 1;
    /* "spam,ham" or, with expiry, "spam,ham,day": the day is expire.c's */
    const char *day = memchr(comma + 1, ',', rest);
    size_t hl = day != NULL ? (size_t)(day - comma - 1) : rest;
    uint64_t d;
    if (parse_u32(p, sl, &out->spam) < 0 || parse_u32(comma + 1, hl, &out->ham) < 0 ||
        (day != NULL && str_to_u64(day + 1, rest - hl - 1, &d) < 0)) {
        out->spam = out->ham = 0;
        return -1;
    }
    return 0;
}

void bayes_reply_counts(const redisReply *r, struct bayes_counts *out)
{
    out->spam = out->ham = 0;
    if (r != NULL && r->type == REDIS_REPLY_STRING)
        bayes_parse_counts(r->str, r->len, out);
}

const char *bayes_key_cache(struct task *task, const char *prefix)
{
    return arena_printf(task->arena, "%s_L", prefix);
}

uint32_t bayes_reply_count(const redisReply *r)
{
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer > 0 ? (r->integer > UINT32_MAX ? UINT32_MAX : (uint32_t)r->integer) : 0;
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->str[0] == '-')
        return 0;
    uint64_t v;
    if (str_to_u64(r->str, r->len, &v) < 0)
        return 0;
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Two independent 64-bit chains over the sorted token set: the same message
 * (same tokens) always gives the same digest, whatever its transport
 * headers' order; a different message collides with probability 2^-128. */
void bayes_digest(const struct bayes_tokens *tok, char out[33])
{
    uint64_t a = 0x243F6A8885A308D3ULL ^ tok->n, b = 0x13198A2E03707344ULL + tok->n;
    for (size_t i = 0; i < tok->n; i++) {
        a = str_mix64(a ^ tok->v[i]) + 0x9E3779B97F4A7C15ULL;
        b = str_mix64(b + tok->v[i] * 0xA0761D6478BD642FULL);
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

char bayes_cache_entry(const char *p, size_t len)
{
    if (len != 1)
        return 0;
    return p[0] == 'S' ? 'S' : p[0] == 'H' ? 'H' : 0;
}

enum bayes_decide bayes_learn_decide(char old, bool spam)
{
    if (old == 0)
        return BAYES_DECIDE_LEARN;
    return old == (spam ? 'S' : 'H') ? BAYES_DECIDE_ALREADY : BAYES_DECIDE_MOVE;
}
