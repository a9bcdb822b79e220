/*
 * milter_headers (spec §4.5): the informational headers a scanned message
 * leaves with (X-Spamd-Result, X-Spam-Status, X-Spamd-Bar, X-Spam-Level,
 * X-Rspamd-Queue-Id, X-Rspamd-Action, X-Rspamd-Server,
 * X-Rspamd-Pre-Result), put into task->milter_headers by a post-scan hook;
 * the milter proxy and the v2 reply's `milter` object carry them to the MTA.
 *
 * Spoofing: with remove_upstream_spam_flag (default true) every incoming
 * X-Spam header and every header of the routines below is removed first,
 * whether or not the routine is in use, so a verdict header arriving from
 * outside never survives next to (or instead of) ours.
 *
 * winnow's shipped default differs from Rspamd's empty `use = []` on
 * purpose: use = [x-spamd-result, x-spam-status, x-rspamd-queue-id], so a
 * delivered message says why it got its action (docs/milter.md).
 * Owns only its configuration.  `authentication-results` is built from the
 * symbols of the spf, dkim, dmarc and arc modules (none of them: no header);
 * it is inserted at the top and replaces incoming ones, as in Rspamd.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/symbols.h"
#include "core/task.h"
#include "modules/module.h"

#define BAR_MAX 50               /* X-Spamd-Bar / X-Spam-Level characters */

struct mh_ctx;
typedef const char *(*routine_fn)(struct task *t, const struct mh_ctx *ctx);

enum { R_RESULT, R_STATUS, R_BAR, R_LEVEL, R_ACTION, R_PRE_RESULT, R_SERVER, R_QUEUE_ID, R_AR,
       R_COUNT };

struct mh_ctx {
    bool use[R_COUNT];
    bool local_ok[R_COUNT];      /* local_headers */
    bool auth_ok[R_COUNT];       /* authenticated_headers */
    const char *header[R_COUNT]; /* routines { NAME { header = ...; } } */
    bool skip_local, skip_authenticated, remove_spam_flag;
    const char *hostname;
    const struct config *cfg;
};

/* %.2f without "-0.00". */
static double fix_zero(double v)
{
    return !isfinite(v) || fabs(v) < 0.005 ? 0.0 : v;
}

static const char *action_name(const struct task *t)
{
    return t->actions->a[t->action].name;
}

static int sym_cmp(const void *a, const void *b)
{
    const struct task_symbol *x = *(const struct task_symbol *const *)a;
    const struct task_symbol *y = *(const struct task_symbol *const *)b;
    if (fabs(x->score) != fabs(y->score))
        return fabs(x->score) < fabs(y->score) ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* default: False [0.30 / 15.00];\n\tSYM(score)[opt,opt];\n\t... */
static const char *r_result(struct task *t, const struct mh_ctx *ctx)
{
    const struct task_symbol **v = ARENA_NEW_N(t->arena, const struct task_symbol *, t->nsymbols + 1);
    size_t n = 0;
    struct buf b = BUF_INIT;
    for (const struct task_symbol *s = t->symbols; s; s = s->next)
        if (s->def == NULL || !(s->def->flags & SYMBOL_IGNORE))
            v[n++] = s;
    qsort(v, n, sizeof(*v), sym_cmp);
    buf_printf(&b, "default: %s [%.2f / %.2f]", t->action == ACTION_REJECT ? "True" : "False",
               fix_zero(t->score), fix_zero(actions_required_score(t->actions)));
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, ";\n\t%s(%.2f)[", v[i]->name, fix_zero(v[i]->score));
        for (size_t j = 0; j < v[i]->noptions; j++)
            buf_printf(&b, "%s%s", j ? "," : "", v[i]->options[j]);
        buf_putc(&b, ']');
    }
    const char *s = arena_strndup(t->arena, b.data, b.len);
    buf_free(&b);
    return s;
}

static const char *r_status(struct task *t, const struct mh_ctx *ctx)
{
    bool spam = actions_is_spam(t->actions, t->action);
    return arena_printf(t->arena, "%s, score=%.2f", spam ? "Yes" : "No", fix_zero(t->score));
}

static const char *repeat(struct task *t, char c, double n)
{
    size_t k = n > BAR_MAX ? BAR_MAX : (size_t)n;
    char *s = arena_alloc(t->arena, k + 1);
    memset(s, c, k);
    s[k] = '\0';
    return s;
}

static const char *r_bar(struct task *t, const struct mh_ctx *ctx)
{
    double s = fix_zero(t->score);
    if (s >= 1)
        return repeat(t, '+', floor(s));
    if (s <= -1)
        return repeat(t, '-', floor(-s));
    return "/";
}

static const char *r_level(struct task *t, const struct mh_ctx *ctx)
{
    double s = fix_zero(t->score);
    return s >= 1 ? repeat(t, '*', floor(s)) : NULL;
}

static const char *r_action(struct task *t, const struct mh_ctx *ctx)
{
    return action_name(t);
}

static const char *r_pre_result(struct task *t, const struct mh_ctx *ctx)
{
    const struct task_passthrough *p = t->passthrough;
    if (p == NULL)
        return NULL;
    return arena_printf(t->arena, "action=%s; module=%s%s%s", t->actions->a[p->action].name,
                        p->module ? p->module : "unknown", p->message ? "; " : "",
                        p->message ? p->message : "");
}

static const char *r_server(struct task *t, const struct mh_ctx *ctx)
{
    return ctx->hostname;
}

static const char *r_queue_id(struct task *t, const struct mh_ctx *ctx)
{
    return t->env.queue_id && *t->env.queue_id ? t->env.queue_id : NULL;
}

/* ---- Authentication-Results (RFC 8601), from the auth modules' symbols ---- */

static const struct {
    const char *symbol;
    const char *method;
    const char *result;
} ar_map[] = {
    {"R_SPF_ALLOW", "spf", "pass"},          {"R_SPF_FAIL", "spf", "fail"},
    {"R_SPF_SOFTFAIL", "spf", "softfail"},   {"R_SPF_NEUTRAL", "spf", "neutral"},
    {"R_SPF_DNSFAIL", "spf", "temperror"},   {"R_SPF_PERMFAIL", "spf", "permerror"},
    {"R_SPF_NA", "spf", "none"},
    {"DMARC_POLICY_ALLOW", "dmarc", "pass"}, {"DMARC_POLICY_ALLOW_WITH_FAILURES", "dmarc", "pass"},
    {"DMARC_POLICY_REJECT", "dmarc", "fail (policy=reject)"},
    {"DMARC_POLICY_QUARANTINE", "dmarc", "fail (policy=quarantine)"},
    {"DMARC_POLICY_SOFTFAIL", "dmarc", "fail (policy=none)"},
    {"DMARC_NA", "dmarc", "none"},           {"DMARC_BAD_POLICY", "dmarc", "permerror"},
    {"DMARC_DNSFAIL", "dmarc", "temperror"},
    {"ARC_ALLOW", "arc", "pass"},            {"ARC_REJECT", "arc", "fail"},
    {"ARC_INVALID", "arc", "fail"},          {"ARC_DNSFAIL", "arc", "temperror"},
    {"ARC_NA", "arc", "none"},
};

static const struct {
    const char *symbol;
    const char *result;
} dkim_map[] = {
    {"R_DKIM_ALLOW", "pass"},       {"R_DKIM_REJECT", "fail"},   {"R_DKIM_TEMPFAIL", "temperror"},
    {"R_DKIM_PERMFAIL", "permerror"}, {"R_DKIM_NA", "none"},
};

/* One dkim= per signature: the symbols' options are "domain" or
 * "domain:s=selector". */
static void ar_dkim(struct task *t, struct buf *b)
{
    for (size_t i = 0; i < sizeof(dkim_map) / sizeof(dkim_map[0]); i++) {
        const struct task_symbol *s = task_find_symbol(t, dkim_map[i].symbol);
        if (s == NULL)
            continue;
        if (s->noptions == 0)
            buf_printf(b, ";\n\tdkim=%s", dkim_map[i].result);
        for (size_t j = 0; j < s->noptions; j++) {
            const char *o = s->options[j], *sel = strstr(o, ":s=");
            if (sel != NULL)
                buf_printf(b, ";\n\tdkim=%s header.d=%.*s header.s=%s", dkim_map[i].result,
                           (int)(sel - o), o, sel + 3);
            else
                buf_printf(b, ";\n\tdkim=%s header.d=%s", dkim_map[i].result, o);
        }
    }
}

static void ar_method(struct task *t, struct buf *b, size_t i)
{
    const struct task_symbol *s = task_find_symbol(t, ar_map[i].symbol);
    if (s == NULL)
        return;
    buf_printf(b, ";\n\t%s=%s", ar_map[i].method, ar_map[i].result);
    if (strcmp(ar_map[i].method, "spf") == 0) {
        if (t->env.from != NULL && *t->env.from != '\0')
            buf_printf(b, " smtp.mailfrom=%s", t->env.from);
        else if (t->env.helo != NULL)
            buf_printf(b, " smtp.helo=%s", t->env.helo);
    } else if (strcmp(ar_map[i].method, "dmarc") == 0 && s->noptions > 0 &&
               strchr(s->options[0], ' ') == NULL) {
        buf_printf(b, " header.from=%s", s->options[0]);
    }
}

/* authserv-id (MTA-Name, else the host name), then dkim, spf, dmarc, arc,
 * auth; NULL when no authentication check ran. */
static const char *r_ar(struct task *t, const struct mh_ctx *ctx)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, t->env.mta_name && *t->env.mta_name ? t->env.mta_name : ctx->hostname);
    size_t head = b.len;
    ar_dkim(t, &b);
    for (size_t i = 0; i < sizeof(ar_map) / sizeof(ar_map[0]); i++)
        ar_method(t, &b, i);
    if (t->env.user != NULL && *t->env.user != '\0')
        buf_printf(&b, ";\n\tauth=pass smtp.auth=%s", t->env.user);
    const char *v = b.len > head ? arena_strndup(t->arena, b.data, b.len) : NULL;
    buf_free(&b);
    return v;
}

static const struct {
    const char *name;
    const char *header;
    routine_fn fn;
    int order;                   /* -1 append; 1 = top (Authentication-Results) */
    bool extended;               /* part of extended_spam_headers */
} routines[R_COUNT] = {
    [R_RESULT] = {"x-spamd-result", "X-Spamd-Result", r_result, -1, true},
    [R_STATUS] = {"x-spam-status", "X-Spam-Status", r_status, -1, false},
    [R_BAR] = {"x-spamd-bar", "X-Spamd-Bar", r_bar, -1, false},
    [R_LEVEL] = {"x-spam-level", "X-Spam-Level", r_level, -1, false},
    [R_ACTION] = {"x-rspamd-action", "X-Rspamd-Action", r_action, -1, true},
    [R_PRE_RESULT] = {"x-rspamd-pre-result", "X-Rspamd-Pre-Result", r_pre_result, -1, false},
    [R_SERVER] = {"x-rspamd-server", "X-Rspamd-Server", r_server, -1, true},
    [R_QUEUE_ID] = {"x-rspamd-queue-id", "X-Rspamd-Queue-Id", r_queue_id, -1, true},
    [R_AR] = {"authentication-results", "Authentication-Results", r_ar, 1, false},
};

static const char *const default_use[] = {"x-spamd-result", "x-spam-status", "x-rspamd-queue-id"};

static int routine_find(const char *name)
{
    for (int i = 0; i < R_COUNT; i++)
        if (strcasecmp(name, routines[i].name) == 0 || strcasecmp(name, routines[i].header) == 0)
            return i;
    return -1;
}

/* A list of routine names into flags; remove-spam-flag is always on. */
static int read_names(const struct conf_obj *section, const char *key, bool *flags,
                      struct arena *arena, const char **error_r)
{
    const struct conf_obj *v = conf_get(section, key);
    for (const struct conf_obj *e = conf_each_first(v); e; e = conf_each_next(v, e)) {
        const char *s = conf_as_string(e);
        if (s == NULL) {
            *error_r = arena_printf(arena, "%s: expected a list of routine names", key);
            return -1;
        }
        if (strcasecmp(s, "remove-spam-flag") == 0)
            continue;
        int r = routine_find(s);
        if (r < 0) {
            *error_r = arena_printf(arena, "%s: unknown routine \"%s\"", key, s);
            return -1;
        }
        flags[r] = true;
    }
    return 0;
}

static int read_routines(const struct conf_obj *section, struct mh_ctx *ctx, struct arena *arena,
                         const char **error_r)
{
    const struct conf_obj *rs = conf_first(conf_get(section, "routines"));
    for (const struct conf_obj *m = rs && rs->type == CONF_OBJECT ? rs->v.list.head : NULL; m;
         m = m->next) {
        int r = routine_find(m->key);
        if (r < 0) {
            *error_r = arena_printf(arena, "routines: unknown routine \"%s\"", m->key);
            return -1;
        }
        if (conf_get_string(conf_first(m), "header", ctx->header[r], &ctx->header[r], error_r) < 0)
            return -1;
    }
    return 0;
}

static int mh_options(const struct conf_obj *section, struct mh_ctx *ctx, struct arena *arena,
                      const char **error_r)
{
    bool extended;
    const char *host = NULL;
    if (conf_get_bool(section, "skip_local", false, &ctx->skip_local, error_r) < 0 ||
        conf_get_bool(section, "skip_authenticated", false, &ctx->skip_authenticated,
                      error_r) < 0 ||
        conf_get_bool(section, "remove_upstream_spam_flag", true, &ctx->remove_spam_flag,
                      error_r) < 0 ||
        conf_get_bool(section, "extended_spam_headers", false, &extended, error_r) < 0 ||
        conf_get_string(section, "hostname", NULL, &host, error_r) < 0)
        return -1;
    for (int i = 0; i < R_COUNT && extended; i++)
        ctx->use[i] |= routines[i].extended;
    if (host == NULL) {
        char hn[256] = "localhost";
        gethostname(hn, sizeof(hn) - 1);
        hn[sizeof(hn) - 1] = '\0';
        host = arena_strdup(arena, hn);
    }
    ctx->hostname = host;
    return 0;
}

static int mh_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                        const char **error_r)
{
    struct mh_ctx *ctx = ARENA_NEW(env->arena, struct mh_ctx);
    ctx->cfg = env->config;
    for (int i = 0; i < R_COUNT; i++)
        ctx->header[i] = routines[i].header;
    if (section != NULL && conf_get(section, "use") != NULL) {
        if (read_names(section, "use", ctx->use, env->arena, error_r) < 0)
            return -1;
    } else {
        for (size_t i = 0; i < sizeof(default_use) / sizeof(default_use[0]); i++)
            ctx->use[routine_find(default_use[i])] = true;
    }
    if (read_names(section, "local_headers", ctx->local_ok, env->arena, error_r) < 0 ||
        read_names(section, "authenticated_headers", ctx->auth_ok, env->arena, error_r) < 0 ||
        read_routines(section, ctx, env->arena, error_r) < 0 ||
        mh_options(section, ctx, env->arena, error_r) < 0)
        return -1;
    *ctx_r = ctx;
    return 0;
}

static int mh_scan(struct task *t, void *ctx)
{
    return 0;                    /* everything happens after the verdict */
}

static void remove_spoofed(struct task *t, const struct mh_ctx *ctx)
{
    task_remove_milter_header(t, "X-Spam", 0);
    for (int i = 0; i < R_COUNT; i++)
        if (i != R_AR)           /* other hosts' results are legitimate */
            task_remove_milter_header(t, ctx->header[i], 0);
}

static void mh_post_scan(struct task *t, void *vctx)
{
    const struct mh_ctx *ctx = vctx;
    bool local = ctx->skip_local && ctx->cfg != NULL && config_is_local_addr(ctx->cfg, &t->env.ip);
    bool authed = ctx->skip_authenticated && t->env.user != NULL && *t->env.user != '\0';

    if (ctx->remove_spam_flag)
        remove_spoofed(t, ctx);
    for (int i = 0; i < R_COUNT; i++) {
        if (!ctx->use[i] || (local && !ctx->local_ok[i]) || (authed && !ctx->auth_ok[i]))
            continue;
        const char *value = routines[i].fn(t, ctx);
        if (value == NULL)
            continue;
        if (!ctx->remove_spam_flag || i == R_AR)
            task_remove_milter_header(t, ctx->header[i], 0);   /* ours replaces theirs */
        task_add_milter_header(t, ctx->header[i], value, routines[i].order);
    }
}

const struct module module_milter_headers = {
    .name = "milter_headers",
    .abi = MODULE_ABI,
    .configure = mh_configure,
    .scan = mh_scan,
    .post_scan = mh_post_scan,
};
