#ifndef WINNOW_CORE_ACTIONS_H
#define WINNOW_CORE_ACTIONS_H
/*
 * Actions and thresholds (spec §3).  The six built-in actions have fixed
 * ids; custom actions from `actions {}` follow.  A threshold that is NAN is
 * disabled (null in the configuration, or never set).
 */
#include <stdbool.h>
#include <stddef.h>

enum action_id {
    ACTION_REJECT = 0,
    ACTION_SOFT_REJECT,
    ACTION_REWRITE_SUBJECT,
    ACTION_ADD_HEADER,
    ACTION_GREYLIST,
    ACTION_NO_ACTION,
    ACTION_DISCARD,
    ACTION_QUARANTINE,
    ACTION_BUILTIN_COUNT,
};

#define ACTIONS_MAX 16

struct action_def {
    const char *name;            /* canonical: "reject", "soft reject", ... */
    double threshold;            /* NAN = disabled / no threshold */
    bool ham;                    /* counted as ham in stats and is_spam = false */
    const char *milter;          /* "discard" / "quarantine" / NULL */
};

struct actions {
    struct action_def a[ACTIONS_MAX];
    size_t n;                    /* >= ACTION_BUILTIN_COUNT */
    const char *subject;         /* rewrite template, default "*** SPAM *** %s" */
    double unknown_weight;       /* score of symbols without a definition (0) */
    double grow_factor;          /* 1.0 = off */
};

/* Stock defaults: reject 15, add header 6, greylist 4, others disabled. */
void actions_init_defaults(struct actions *acts);
/* Accepts "reject", "soft reject", "soft_reject", "add_header", "accept",
 * ...; returns the index or -1. */
int actions_lookup(const struct actions *acts, const char *name, size_t len);
/* Highest enabled threshold <= score, else ACTION_NO_ACTION. */
int actions_for_score(const struct actions *acts, double score);
/* The reject threshold (required_score in replies), 15 by default. */
double actions_required_score(const struct actions *acts);
bool actions_is_spam(const struct actions *acts, int id);

#endif
