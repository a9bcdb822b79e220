/*
 * Shared-memory counters (see stats.h).  Owns the one mapping; it is never
 * unmapped, it lives as long as the processes.  Refuses nothing: a counter
 * index outside the table is ignored rather than trusted.
 */
#include "daemon/stats.h"

#include <sys/mman.h>
#include <time.h>

#include "core/log.h"

static struct daemon_stats *stats_segment;

struct daemon_stats *daemon_stats_create(void)
{
    void *p;

    if (stats_segment != NULL)
        return stats_segment;
    p = mmap(NULL, sizeof(struct daemon_stats), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        panic("mmap of the shared counters failed");
    /* MAP_ANONYMOUS memory is zero-filled, which is a valid atomic zero. */
    stats_segment = p;
    atomic_store(&stats_segment->start_time, (uint64_t)time(NULL));
    return stats_segment;
}

struct daemon_stats *daemon_stats_get(void)
{
    return stats_segment;
}

void daemon_stats_count_scan(const struct actions *acts, int action)
{
    struct daemon_stats *s = stats_segment;

    if (s == NULL)
        return;
    daemon_stats_inc(&s->scanned);
    if (action >= 0 && action < ACTIONS_MAX)
        daemon_stats_inc(&s->actions[action]);
    if (acts != NULL && actions_is_spam(acts, action))
        daemon_stats_inc(&s->spam_count);
    else
        daemon_stats_inc(&s->ham_count);
}
