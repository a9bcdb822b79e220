/*
 * The scanner's token cache: a direct-mapped table of token -> counts in
 * each worker process, so the common tokens of a message (frequent words
 * and pairs, which most messages share) are not read from Redis on every
 * scan.  Tokens Redis does not know are cached too (as 0,0).
 *
 * Consistency: every learn bumps the statistics' revision in Redis; a scan
 * reads the revision in the same round trip as the tokens the cache does
 * not hold, and a different one empties the cache and has the tokens the
 * cache did answer read again, so the first scan after a learn already
 * sees it.  One slot per hash position:
 * a collision replaces the older token (no chains, no eviction lists), and
 * a token is stored with its full 64 bits, so a hit is exact.  Memory:
 * 16 bytes a slot, `cache_size` slots (default 262144 = 4 MiB); 0 turns
 * the cache off.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "modules/bayes/bayes_private.h"

struct bayes_cache {
    uint64_t *keys;              /* 0 = empty slot (a zero token is never cached) */
    struct bayes_counts *vals;
    size_t mask;
    uint64_t revision, learns_spam, learns_ham;
    bool valid;
};

struct bayes_cache *bayes_cache_new(size_t slots)
{
    if (slots == 0)
        return NULL;
    size_t n = 1;
    while (n < slots && n < ((size_t)1 << 26))
        n <<= 1;
    struct bayes_cache *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->keys = calloc(n, sizeof(uint64_t))) == NULL ||
        (c->vals = calloc(n, sizeof(struct bayes_counts))) == NULL)
        panic("bayes: out of memory for a %zu-slot token cache", n);
    c->mask = n - 1;
    return c;
}

void bayes_cache_free(struct bayes_cache **cp)
{
    struct bayes_cache *c = *cp;
    if (c == NULL)
        return;
    *cp = NULL;
    free(c->keys);
    free(c->vals);
    free(c);
}

bool bayes_cache_revision(struct bayes_cache *c, uint64_t revision, uint64_t learns_spam,
                          uint64_t learns_ham)
{
    if (c->valid && c->revision == revision && c->learns_spam == learns_spam &&
        c->learns_ham == learns_ham)
        return false;
    memset(c->keys, 0, (c->mask + 1) * sizeof(uint64_t));
    c->revision = revision;
    c->learns_spam = learns_spam;
    c->learns_ham = learns_ham;
    c->valid = true;
    return true;
}

bool bayes_cache_get(const struct bayes_cache *c, uint64_t tok, struct bayes_counts *out)
{
    size_t i = (size_t)(tok ^ (tok >> 29)) & c->mask;
    if (tok == 0 || c->keys[i] != tok)
        return false;
    *out = c->vals[i];
    return true;
}

void bayes_cache_put(struct bayes_cache *c, uint64_t tok, const struct bayes_counts *v)
{
    size_t i = (size_t)(tok ^ (tok >> 29)) & c->mask;
    if (tok == 0)
        return;
    c->keys[i] = tok;
    c->vals[i] = *v;
}
