/*
 * dmarc: DMARC (RFC 7489) for the header From domain, run in pipeline
 * stage 1 so that the SPF and DKIM results of stage 0 are final.  It reads
 * them from the task's auth_results (authdns.h): the d= of passing DKIM
 * signatures and the SPF domain when SPF passed.
 *
 * Symbols (spec §9.4), options `domain` and `policy`:
 *   DMARC_POLICY_ALLOW / ALLOW_WITH_FAILURES (aligned pass; the latter when
 *   some DKIM signature failed, as Rspamd's tests expect),
 *   DMARC_POLICY_REJECT / QUARANTINE / SOFTFAIL (fail under p=reject /
 *   quarantine / none; a message pct= leaves out of the sample gets the next
 *   less strict one and the option `sampled_out`), DMARC_NA (no record),
 *   DMARC_BAD_POLICY (a v=DMARC1 record that does not parse), DMARC_DNSFAIL.
 *
 * Effect on the action: none by default (Rspamd's `actions` is empty too);
 * `actions { reject = "reject"; quarantine = "add header"; }` forces those
 * actions on a failing message (after the pct= downgrade).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/actions.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/authdns.h"
#include "modules/dmarc/dmarc.h"
#include "modules/module.h"
#include "modules/spf/spf.h"

struct dmarc_ctx {
    struct auth_outbound outbound;
    int reject_action;           /* -1 = no effect */
    int quarantine_action;
};

struct dmarc_run {
    struct task *task;
    struct dmarc_ctx *ctx;
    struct dmarc_request req;
    struct authdns *dns;
    bool dkim_failures;          /* some DKIM signature did not pass */
};

static const struct symbol_def dmarc_symbols[] = {
    {"DMARC_POLICY_ALLOW", -0.5, "dmarc", "DMARC permit policy", 0},
    {"DMARC_POLICY_ALLOW_WITH_FAILURES", -0.5, "dmarc",
     "DMARC permit policy with DKIM/SPF failure", 0},
    {"DMARC_POLICY_REJECT", 2.0, "dmarc", "DMARC reject policy", 0},
    {"DMARC_POLICY_QUARANTINE", 1.5, "dmarc", "DMARC quarantine policy", 0},
    {"DMARC_POLICY_SOFTFAIL", 0.1, "dmarc", "DMARC failed", 0},
    {"DMARC_NA", 0.0, "dmarc", "No DMARC record", 0},
    {"DMARC_BAD_POLICY", 0.0, "dmarc", "DMARC record is invalid", 0},
    {"DMARC_DNSFAIL", 0.0, "dmarc", "DMARC DNS failure", 0},
};

static int action_option(const struct conf_obj *acts, const char *key, const struct config *cfg,
                         int *action_r, const char **error_r)
{
    const char *name = NULL;
    *action_r = -1;
    if (conf_get_string(acts, key, NULL, &name, error_r) < 0)
        return -1;
    if (name == NULL)
        return 0;
    struct actions defaults;
    actions_init_defaults(&defaults);
    *action_r = actions_lookup(cfg != NULL ? &cfg->actions : &defaults, name, strlen(name));
    if (*action_r < 0) {
        *error_r = "actions: unknown action name";
        return -1;
    }
    return 0;
}

static int dmarc_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                           const char **error_r)
{
    struct dmarc_ctx *ctx = ARENA_NEW(env->arena, struct dmarc_ctx);
    symtab_add_many(env->symtab, dmarc_symbols, sizeof(dmarc_symbols) / sizeof(dmarc_symbols[0]));
    const struct conf_obj *acts = section != NULL ? conf_get(section, "actions") : NULL;
    if (auth_outbound_configure(section, env->config, &ctx->outbound, error_r) < 0 ||
        action_option(acts, "reject", env->config, &ctx->reject_action, error_r) < 0 ||
        action_option(acts, "quarantine", env->config, &ctx->quarantine_action, error_r) < 0)
        return -1;
    *ctx_r = ctx;
    return 0;
}

static int dmarc_lookup(void *data, const char *name, const struct dns_reply **reply_r)
{
    struct dmarc_run *run = data;
    *reply_r = authdns_lookup(run->dns, name, DNS_T_TXT);
    return *reply_r == NULL ? 1 : 0;
}

/* pct= (RFC 7489 §6.6.4): a message left out of the sample gets the next
 * less strict policy (reject -> quarantine -> none), as Rspamd does. */
static enum dmarc_policy sampled_policy(const struct dmarc_outcome *o, bool *sampled_out_r)
{
    *sampled_out_r = o->record.pct < 100 && rand() % 100 >= o->record.pct;
    if (!*sampled_out_r)
        return o->policy;
    return o->policy == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

static void dmarc_effect(struct task *t, const struct dmarc_run *run, enum dmarc_policy policy)
{
    int action = policy == DMARC_POLICY_REJECT       ? run->ctx->reject_action
                 : policy == DMARC_POLICY_QUARANTINE ? run->ctx->quarantine_action
                                                     : -1;
    if (action < 0)
        return;
    const char *msg = arena_printf(t->arena, "Failed DMARC policy for %s", run->req.from_domain);
    task_set_passthrough(t, action, NAN, msg, "dmarc", false);
}

static void dmarc_fail(struct task *t, const struct dmarc_run *run, const struct dmarc_outcome *o)
{
    bool sampled_out;
    enum dmarc_policy policy = sampled_policy(o, &sampled_out);
    const char *name = policy == DMARC_POLICY_REJECT       ? "DMARC_POLICY_REJECT"
                       : policy == DMARC_POLICY_QUARANTINE ? "DMARC_POLICY_QUARANTINE"
                                                           : "DMARC_POLICY_SOFTFAIL";
    struct task_symbol *s = task_insert(t, name, 1.0, run->req.from_domain);
    if (s != NULL) {
        const char *p = dmarc_policy_name(o->policy);
        task_symbol_add_option(t, s, p, strlen(p));
        if (sampled_out)
            task_symbol_add_option(t, s, "sampled_out", strlen("sampled_out"));
    }
    dmarc_effect(t, run, policy);
}

static void dmarc_report(struct task *t, const struct dmarc_run *run, const struct dmarc_outcome *o)
{
    const char *dom = run->req.from_domain;
    struct task_symbol *s = NULL;
    switch (o->result) {
    case DMARC_RESULT_PASS:
        s = task_insert(t, run->dkim_failures ? "DMARC_POLICY_ALLOW_WITH_FAILURES"
                                              : "DMARC_POLICY_ALLOW", 1.0, dom);
        if (s != NULL) {
            const char *p = dmarc_policy_name(o->policy);
            task_symbol_add_option(t, s, p, strlen(p));
        }
        break;
    case DMARC_RESULT_FAIL: dmarc_fail(t, run, o); break;
    case DMARC_RESULT_NONE:
        task_insert(t, o->bad_record ? "DMARC_BAD_POLICY" : "DMARC_NA", 1.0, dom);
        break;
    case DMARC_RESULT_TEMPERROR: task_insert(t, "DMARC_DNSFAIL", 1.0, dom); break;
    case DMARC_RESULT_PERMERROR: task_insert(t, "DMARC_BAD_POLICY", 1.0, o->reason); break;
    case DMARC_RESULT_PENDING: break;
    }
}

static void dmarc_rerun(struct task *t, void *data)
{
    struct dmarc_run *run = data;
    struct dmarc_outcome out;
    memset(&out, 0, sizeof(out));
    if (dmarc_check(t->arena, &run->req, dmarc_lookup, run, &out) != DMARC_RESULT_PENDING)
        dmarc_report(t, run, &out);
}

/* The single From domain, or NULL (after inserting why there is none when
 * `report` is set). */
static const char *from_domain(struct task *t, bool report)
{
    const struct mime_addrlist *f = &t->msg->from;
    if (f->n == 0 || f->a[0].domain == NULL || f->a[0].domain[0] == '\0') {
        if (report)
            task_insert(t, "DMARC_NA", 1.0, "No From header");
        return NULL;
    }
    for (size_t i = 1; i < f->n; i++) {
        if (f->a[i].domain != NULL && strcmp(f->a[i].domain, f->a[0].domain) != 0) {
            if (report)
                task_insert(t, "DMARC_BAD_POLICY", 1.0, "Multiple From domains");
            return NULL;
        }
    }
    return f->a[0].domain;
}

static int dmarc_scan(struct task *t, void *data)
{
    struct dmarc_ctx *ctx = data;
    if (t->msg == NULL || auth_outbound_skip(t, &ctx->outbound))
        return 0;
    const char *dom = from_domain(t, true);
    if (dom == NULL)
        return 0;
    struct dmarc_run *run = ARENA_NEW(t->arena, struct dmarc_run);
    const struct auth_results *ar = auth_results_peek(t);
    run->task = t;
    run->ctx = ctx;
    run->req.from_domain = dom;
    if (ar != NULL) {
        run->req.dkim_domains = (const char *const *)ar->dkim_pass;
        run->req.ndkim = ar->ndkim_pass;
        run->dkim_failures = ar->ndkim_other > 0;
        if (ar->spf_checked && ar->spf_result == SPF_RESULT_PASS)
            run->req.spf_domain = ar->spf_domain;
    }
    run->dns = authdns_new(t, dmarc_rerun, run);
    authdns_run(run->dns);
    return 0;
}

/* ---- stage-0 prefetch ----
 * DMARC must wait for SPF's and DKIM's outcomes (stage 1), but its record
 * does not depend on them.  This companion module asks for _dmarc.<From
 * domain> (and the organisational domain's) in stage 0, in parallel with
 * SPF and DKIM, so that stage 1 finds the answers in the resolver's cache
 * instead of adding a round trip after theirs.  It inserts nothing. */

static int prefetch_configure(const struct conf_obj *section, struct module_env *env,
                              void **ctx_r, const char **error_r)
{
    /* Configured from the dmarc section: off when dmarc is off. */
    const struct conf_obj *dmarc = env->config ? config_section(env->config, "dmarc") : section;
    bool enabled = true;
    const char *err = NULL;
    if (dmarc != NULL)
        conf_get_bool(dmarc, "enabled", true, &enabled, &err);
    if (!enabled) {
        *ctx_r = NULL;
        return 0;
    }
    struct dmarc_ctx *ctx = ARENA_NEW(env->arena, struct dmarc_ctx);
    if (auth_outbound_configure(dmarc, env->config, &ctx->outbound, error_r) < 0)
        return -1;
    *ctx_r = ctx;
    return 0;
}

static void prefetch_done(struct task *t, const struct dns_reply *rep, void *data)
{
    /* The answer now sits in the resolver's cache for stage 1. */
}

static int prefetch_scan(struct task *t, void *data)
{
    struct dmarc_ctx *ctx = data;
    struct dns_resolver *res = dns_default();
    if (res == NULL || t->msg == NULL || auth_outbound_skip(t, &ctx->outbound))
        return 0;
    const char *dom = from_domain(t, false);
    if (dom == NULL || strchr(dom, '.') == NULL)
        return 0;   /* dmarc_check will not look anything up */
    const char *org = dmarc_org_domain(t->arena, dom);
    dns_task_query(res, t, arena_printf(t->arena, "_dmarc.%s", dom), DNS_T_TXT, prefetch_done,
                   NULL);
    if (strcasecmp(org, dom) != 0)
        dns_task_query(res, t, arena_printf(t->arena, "_dmarc.%s", org), DNS_T_TXT,
                       prefetch_done, NULL);
    return 0;
}

const struct module module_dmarc_prefetch = {
    .name = "dmarc_prefetch",
    .abi = MODULE_ABI,
    .configure = prefetch_configure,
    .scan = prefetch_scan,
    .stage = 0,
};

const struct module module_dmarc = {
    .name = "dmarc",
    .abi = MODULE_ABI,
    .configure = dmarc_configure,
    .scan = dmarc_scan,
    .stage = 1,
};
