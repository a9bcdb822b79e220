/*
 * Actions and the score -> action rule of spec §3.2.
 */
#include "core/actions.h"

#include <math.h>
#include <string.h>

#include "core/str.h"

void actions_init_defaults(struct actions *acts)
{
    static const struct action_def builtin[ACTION_BUILTIN_COUNT] = {
        [ACTION_REJECT] = {"reject", 15.0, false, NULL},
        [ACTION_SOFT_REJECT] = {"soft reject", NAN, false, NULL},
        [ACTION_REWRITE_SUBJECT] = {"rewrite subject", NAN, false, NULL},
        [ACTION_ADD_HEADER] = {"add header", 6.0, false, NULL},
        [ACTION_GREYLIST] = {"greylist", 4.0, true, NULL},
        [ACTION_NO_ACTION] = {"no action", NAN, true, NULL},
        [ACTION_DISCARD] = {"discard", NAN, false, "discard"},
        [ACTION_QUARANTINE] = {"quarantine", NAN, false, "quarantine"},
    };
    memset(acts, 0, sizeof(*acts));
    memcpy(acts->a, builtin, sizeof(builtin));
    acts->n = ACTION_BUILTIN_COUNT;
    acts->subject = "*** SPAM *** %s";
    acts->unknown_weight = 0.0;
    acts->grow_factor = 1.0;
}

int actions_lookup(const struct actions *acts, const char *name, size_t len)
{
    static const struct {
        const char *alias;
        int id;
    } aliases[] = {
        {"soft_reject", ACTION_SOFT_REJECT}, {"rewrite_subject", ACTION_REWRITE_SUBJECT},
        {"add_header", ACTION_ADD_HEADER},   {"no_action", ACTION_NO_ACTION},
        {"accept", ACTION_NO_ACTION},
    };
    for (size_t i = 0; i < acts->n; i++)
        if (str_ieq_cstr(name, len, acts->a[i].name))
            return (int)i;
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (str_ieq_cstr(name, len, aliases[i].alias))
            return aliases[i].id;
    return -1;
}

int actions_for_score(const struct actions *acts, double score)
{
    int best = ACTION_NO_ACTION;
    double best_thr = -INFINITY;
    for (size_t i = 0; i < acts->n; i++) {
        double t = acts->a[i].threshold;
        if (i == ACTION_NO_ACTION || isnan(t))
            continue;
        if (score >= t && t > best_thr) {
            best = (int)i;
            best_thr = t;
        }
    }
    return best;
}

double actions_required_score(const struct actions *acts)
{
    double r = acts->a[ACTION_REJECT].threshold;
    if (!isnan(r))
        return r;
    /* Reject disabled: the highest enabled threshold (spec §2.4). */
    double best = NAN;
    for (size_t i = 0; i < acts->n; i++) {
        double t = acts->a[i].threshold;
        if (!isnan(t) && (isnan(best) || t > best))
            best = t;
    }
    return isnan(best) ? 0.0 : best;
}

bool actions_is_spam(const struct actions *acts, int id)
{
    return id >= 0 && (size_t)id < acts->n && id != ACTION_NO_ACTION && !acts->a[id].ham &&
           (id <= ACTION_ADD_HEADER || acts->a[id].milter != NULL);
}
