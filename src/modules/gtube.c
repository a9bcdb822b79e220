/*
 * gtube: the GTUBE test pattern (spec §3.5).  A text part containing
 *   XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X
 * inserts GTUBE and forces `reject` with the message "Gtube pattern".  With
 * options { enable_test_patterns = true; } the same string starting with
 * YJS forces `add header`, ZJS `rewrite subject` and AJS `no action`, so an
 * administrator can test each action end to end (milter included).
 *
 * Owns nothing.  Looks at decoded text parts (as Rspamd does); when the
 * message could not be parsed (TASK_RAW, parse failure) it looks at the raw
 * bytes instead so a test message is never missed.  Like Rspamd it ends the
 * scan: score = the forced action's threshold, TASK_SKIP and is_skipped set.
 */
#include <math.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/actions.h"
#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/heur.h"
#include "modules/module.h"

#define GTUBE_TAIL "*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
#define GTUBE_LEN (3 + sizeof(GTUBE_TAIL) - 1)

struct gtube_ctx {
    bool test_patterns;
};

static const struct symbol_def gtube_symbols[] = {
    {"GTUBE", 0.0, "gtube", "GTUBE test pattern", 0},
};

/* Returns the action the pattern at p asks for, or -1. */
static int gtube_action(const char *p, bool test_patterns)
{
    if (memcmp(p + 1, "JS", 2) != 0)
        return -1;
    switch (p[0]) {
    case 'X':
        return ACTION_REJECT;
    case 'Y':
        return test_patterns ? ACTION_ADD_HEADER : -1;
    case 'Z':
        return test_patterns ? ACTION_REWRITE_SUBJECT : -1;
    case 'A':
        return test_patterns ? ACTION_NO_ACTION : -1;
    default:
        return -1;
    }
}

/* Finds the first pattern in [p, p+len) by its common tail. */
static int gtube_search(const char *p, size_t len, bool test_patterns)
{
    const size_t tl = sizeof(GTUBE_TAIL) - 1;
    if (p == NULL || len < GTUBE_LEN)
        return -1;
    for (size_t i = 3; i + tl <= len; i++) {
        const char *hit = memmem(p + i, len - i, GTUBE_TAIL, tl);
        if (hit == NULL)
            return -1;
        i = (size_t)(hit - p);
        if (i >= 3) {
            int act = gtube_action(hit - 3, test_patterns);
            if (act >= 0)
                return act;
        }
    }
    return -1;
}

static int gtube_find(const struct task *task, bool test_patterns)
{
    const struct message *msg = task->msg;
    if (msg == NULL)
        return gtube_search(task->raw, task->raw_len, test_patterns);
    for (size_t i = 0; i < msg->ntext_parts; i++) {
        const struct text_part *tp = &msg->text_parts[i];
        int act = gtube_search(tp->utf8, tp->utf8_len, test_patterns);
        if (act < 0)
            act = gtube_search(tp->text, tp->text_len, test_patterns);
        if (act >= 0)
            return act;
    }
    return -1;
}

static int gtube_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                           const char **error_r)
{
    bool enabled;
    struct gtube_ctx *ctx;

    *ctx_r = NULL;
    symtab_add_many(env->symtab, gtube_symbols, sizeof(gtube_symbols) / sizeof(gtube_symbols[0]));
    if (heur_conf_enabled(section, &enabled, error_r) < 0)
        return -1;
    ctx = ARENA_NEW(env->arena, struct gtube_ctx);
    /* options { enable_test_patterns } is the Rspamd switch; the module's
     * own section may also set it. */
    ctx->test_patterns = env->config != NULL && env->config->options.enable_test_patterns;
    if (section != NULL &&
        conf_get_bool(section, "enable_test_patterns", ctx->test_patterns, &ctx->test_patterns,
                      error_r) < 0)
        return -1;
    if (enabled)
        *ctx_r = ctx;
    return 0;
}

static int gtube_scan(struct task *task, void *vctx)
{
    const struct gtube_ctx *ctx = vctx;
    int act = gtube_find(task, ctx->test_patterns);

    if (act < 0)
        return 0;
    /* Rspamd 3.4 answers a GTUBE message with the action's threshold as
     * the score, GTUBE as the only symbol and is_skipped: the rest of the
     * scan is skipped (the pipeline honours TASK_SKIP between modules). */
    double score = NAN;
    if (task->actions != NULL && (size_t)act < task->actions->n)
        score = task->actions->a[act].threshold;
    task_insert(task, "GTUBE", 1.0, NULL);
    task_set_passthrough(task, act, score, "Gtube pattern", "gtube", false);
    task->flags |= TASK_SKIP;
    task->is_skipped = true;
    return 0;
}

const struct module module_gtube = {
    .name = "gtube",
    .abi = MODULE_ABI,
    .configure = gtube_configure,
    .scan = gtube_scan,
};
