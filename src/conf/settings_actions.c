/*
 * actions {} (spec §3.3): thresholds as numbers or null (disabled), the
 * underscore and space spellings, the object form { score | threshold,
 * flags, milter }, subject, unknown_weight, grow_factor, and custom actions
 * (any other name).  Starts from actions_init_defaults(); a key given twice
 * at one priority (an implicit array) counts with its first value, as in
 * Rspamd.  Refuses wrong types, naming the file, line and key.
 */
#include <math.h>
#include <string.h>

#include "conf/settings_private.h"
#include "core/arena.h"

static int action_flags(struct config *cfg, struct action_def *a, const struct conf_obj *flags,
                        const char **error_r)
{
    for (const struct conf_obj *f = conf_each_first(flags); f; f = conf_each_next(flags, f)) {
        const char *s = conf_as_string(f);
        if (s == NULL) {
            *error_r = settings_error(cfg, f, "flags", "expected strings");
            return -1;
        }
        if (!strcmp(s, "no_threshold"))
            a->threshold = NAN;
        else if (!strcmp(s, "ham"))
            a->ham = true;
        else if (strcmp(s, "threshold_only") != 0) {
            *error_r = settings_error(cfg, f, "flags",
                                      "unknown flag (no_threshold, threshold_only, ham)");
            return -1;
        }
    }
    return 0;
}

static int action_object(struct config *cfg, struct action_def *a, const struct conf_obj *o,
                         const char **error_r)
{
    const struct conf_obj *score = conf_get(o, "score");
    if (score == NULL)
        score = conf_get(o, "threshold");
    score = conf_first(score);
    if (score != NULL && score->type == CONF_NULL) {
        a->threshold = NAN;
    } else if (score != NULL && !conf_as_double(score, &a->threshold)) {
        *error_r = settings_error(cfg, score, score->key, "expected a number or null");
        return -1;
    }
    const struct conf_obj *flags = conf_get(o, "flags");
    if (flags != NULL && action_flags(cfg, a, flags, error_r) < 0)
        return -1;
    const struct conf_obj *milter = conf_first(conf_get(o, "milter"));
    if (milter != NULL) {
        const char *m = conf_as_string(milter);
        if (m == NULL || (strcmp(m, "discard") != 0 && strcmp(m, "quarantine") != 0)) {
            *error_r = settings_error(cfg, milter, "milter", "expected \"discard\" or \"quarantine\"");
            return -1;
        }
        a->milter = m;
    }
    return 0;
}

static struct action_def *action_slot(struct config *cfg, const struct conf_obj *m,
                                      const char **error_r)
{
    struct actions *acts = &cfg->actions;
    int id = actions_lookup(acts, m->key, m->keylen);
    if (id >= 0)
        return &acts->a[id];
    if (acts->n >= ACTIONS_MAX) {
        *error_r = settings_error(cfg, m, m->key, "too many custom actions");
        return NULL;
    }
    struct action_def *a = &acts->a[acts->n++];
    memset(a, 0, sizeof(*a));
    a->name = m->key;
    a->threshold = NAN;
    return a;
}

static int action_member(struct config *cfg, const struct conf_obj *m, const char **error_r)
{
    const struct conf_obj *v = conf_first(m);
    struct actions *acts = &cfg->actions;
    if (!strcmp(m->key, "subject")) {
        if ((acts->subject = conf_as_string(v)) == NULL) {
            *error_r = settings_error(cfg, v, m->key, "expected a string");
            return -1;
        }
        return 0;
    }
    if (!strcmp(m->key, "unknown_weight") || !strcmp(m->key, "grow_factor")) {
        double *d = m->key[0] == 'u' ? &acts->unknown_weight : &acts->grow_factor;
        if (!conf_as_double(v, d)) {
            *error_r = settings_error(cfg, v, m->key, "expected a number");
            return -1;
        }
        return 0;
    }
    struct action_def *a = action_slot(cfg, m, error_r);
    if (a == NULL)
        return -1;
    if (v->type == CONF_NULL) {
        a->threshold = NAN;
        return 0;
    }
    if (v->type == CONF_OBJECT)
        return action_object(cfg, a, v, error_r);
    if (v->type == CONF_STRING || !conf_as_double(v, &a->threshold)) {
        *error_r = settings_error(cfg, v, m->key, "expected a number or null");
        return -1;
    }
    return 0;
}

int settings_actions(struct config *cfg, const struct conf_obj *sec, const char **error_r)
{
    if (sec->type != CONF_OBJECT) {
        *error_r = settings_error(cfg, sec, "actions", "expected a block { ... }");
        return -1;
    }
    for (const struct conf_obj *m = sec->v.list.head; m != NULL; m = m->next)
        if (action_member(cfg, m, error_r) < 0)
            return -1;
    return 0;
}
