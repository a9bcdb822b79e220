/*
 * Worker count default and restart back-off (see policy.h).  Pure
 * functions: no state, nothing owned, nothing refused.
 */
#include "daemon/policy.h"

int policy_default_count(long ncpus)
{
    long n = ncpus - 2;

    if (n < 1)
        n = 1;
    return n > 4 ? 4 : (int)n;
}

double policy_next_backoff(double prev, double lived)
{
    if (prev <= 0 || lived >= BACKOFF_RESET_AFTER)
        return BACKOFF_MIN;
    return prev * 2 > BACKOFF_MAX ? BACKOFF_MAX : prev * 2;
}
