/*
 * Lower-layer counters (see counters.h).  The last Redis error is text
 * several processes may write at once; a sequence number around each write
 * lets a reader retry instead of showing a torn string.
 */
#include "core/counters.h"

#include <string.h>
#include <time.h>

static struct core_counters local_counters;
struct core_counters *core_counters = &local_counters;

void core_counters_share(struct core_counters *shared)
{
    core_counters = shared != NULL ? shared : &local_counters;
}

void core_counters_redis_ok(void)
{
    uint64_t now = (uint64_t)time(NULL);

    /* One store per second at most: replies are frequent, the time is not. */
    if (atomic_load_explicit(&core_counters->redis_last_ok, memory_order_relaxed) != now)
        atomic_store_explicit(&core_counters->redis_last_ok, now, memory_order_relaxed);
}

void core_counters_redis_fail(const char *what, int connect)
{
    struct core_counters *c = core_counters;
    uint64_t seq;
    size_t n;

    if (connect)
        core_count(&c->redis_connect_failures);
    atomic_store_explicit(&c->redis_last_fail, (uint64_t)time(NULL), memory_order_relaxed);
    if (what == NULL)
        return;
    seq = atomic_load(&c->redis_error_seq);
    /* Another writer is busy: its text is as good as ours. */
    if ((seq & 1) || !atomic_compare_exchange_strong(&c->redis_error_seq, &seq, seq + 1))
        return;
    n = strnlen(what, sizeof(c->redis_last_error) - 1);
    memcpy(c->redis_last_error, what, n);
    c->redis_last_error[n] = '\0';
    atomic_store(&c->redis_error_seq, seq + 2);
}

void core_counters_redis_last_error(char *out, unsigned outsize)
{
    const struct core_counters *c = core_counters;

    for (int tries = 0; tries < 8; tries++) {
        uint64_t before = atomic_load(&c->redis_error_seq);
        if (before & 1)
            continue;
        size_t n = strnlen(c->redis_last_error, sizeof(c->redis_last_error));
        if (n >= outsize)
            n = outsize - 1;
        memcpy(out, c->redis_last_error, n);
        out[n] = '\0';
        if (atomic_load(&c->redis_error_seq) == before)
            return;
    }
    out[0] = '\0';
}
