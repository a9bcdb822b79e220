/*
 * dkim: DKIM signature verification (RFC 6376, RFC 8463) with the symbols
 * of spec §9.4: R_DKIM_ALLOW / REJECT / TEMPFAIL / PERMFAIL, R_DKIM_NA when
 * the message carries no signature, and DKIM_TRACE with one `domain:r`
 * option per signature (+ pass, - fail, ~ permerror, ? temperror).
 *
 * The library (dkim/dkim.h) does the work in steps; this file feeds it the
 * parsed header fields and body, and resolves each signature's key
 * (TXT selector._domainkey.domain, a record's strings joined) through
 * authdns, so the lookups run in parallel on the worker's loop.  Results are
 * computed once every key has arrived; a key that never arrives is a
 * temperror (R_DKIM_TEMPFAIL), never a pass.  At most max_sigs signatures
 * are evaluated (default 5).
 *
 * Outbound mail is skipped unless check_authed / check_local.  The passing
 * domains are left in the task's auth_results for DMARC.
 */
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/authdns.h"
#include "modules/dkim/dkim.h"
#include "modules/module.h"

#define DKIM_MAX_SIGS_LIMIT 100

struct dkim_ctx {
    struct auth_outbound outbound;
    int64_t max_sigs;
    double time_jitter;
};

struct dkim_run {
    struct task *task;
    struct dkim_verify *v;
    struct authdns *dns;
    bool *key_set;               /* per signature: dkim_verify_set_key done */
};

static const struct symbol_def dkim_symbols[] = {
    {"R_DKIM_ALLOW", -0.2, "dkim", "DKIM verification succeed", 0},
    {"R_DKIM_REJECT", 1.0, "dkim", "DKIM verification failed", 0},
    {"R_DKIM_TEMPFAIL", 0.0, "dkim", "DKIM verification soft-failed (DNS)", 0},
    {"R_DKIM_PERMFAIL", 0.0, "dkim", "DKIM verification hard-failed (invalid signature or key)", 0},
    {"R_DKIM_NA", 0.0, "dkim", "Missing DKIM signature", 0},
    {"DKIM_TRACE", 0.0, "dkim", "DKIM trace symbol: one option per signature", 0},
};

static int dkim_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                          const char **error_r)
{
    struct dkim_ctx *ctx = ARENA_NEW(env->arena, struct dkim_ctx);
    symtab_add_many(env->symtab, dkim_symbols, sizeof(dkim_symbols) / sizeof(dkim_symbols[0]));
    if (auth_outbound_configure(section, env->config, &ctx->outbound, error_r) < 0 ||
        conf_get_int(section, "max_sigs", 5, &ctx->max_sigs, error_r) < 0 ||
        conf_get_time(section, "time_jitter", 6 * 3600.0, &ctx->time_jitter, error_r) < 0)
        return -1;
    if (ctx->max_sigs < 1 || ctx->max_sigs > DKIM_MAX_SIGS_LIMIT) {
        *error_r = "max_sigs: expected 1..100";
        return -1;
    }
    *ctx_r = ctx;
    return 0;
}

static enum dkim_dns_status key_status(const struct dns_reply *rep)
{
    if (rep->status == DNS_OK)
        return rep->n > 0 ? DKIM_DNS_OK : DKIM_DNS_NXDOMAIN;
    return rep->status == DNS_NXDOMAIN ? DKIM_DNS_NXDOMAIN : DKIM_DNS_TEMPFAIL;
}

static void report_one(struct task *t, struct task_symbol **trace, const struct dkim_result *r,
                       struct auth_results *ar)
{
    const char *d = r->domain != NULL ? r->domain : "unknown";
    const char *name = NULL;
    char mark = '?';
    switch (r->status) {
    case DKIM_STATUS_PASS:
        task_insertf(t, "R_DKIM_ALLOW", 1.0, "%s:s=%s", d, r->selector ? r->selector : "");
        mark = '+';
        ar->dkim_pass = arena_realloc(t->arena, ar->dkim_pass, ar->ndkim_pass * sizeof(char *),
                                      (ar->ndkim_pass + 1) * sizeof(char *));
        ar->dkim_pass[ar->ndkim_pass++] = d;
        break;
    case DKIM_STATUS_FAIL: name = "R_DKIM_REJECT"; mark = '-'; break;
    case DKIM_STATUS_PERMERROR: name = "R_DKIM_PERMFAIL"; mark = '~'; break;
    case DKIM_STATUS_TEMPERROR: name = "R_DKIM_TEMPFAIL"; mark = '?'; break;
    case DKIM_STATUS_NONE: return;
    }
    if (name != NULL) {
        task_insert(t, name, 1.0, d);
        ar->ndkim_other++;
        log_task_debug(t, "dkim", "dkim: d=%s s=%s %s (%s)", d, r->selector ? r->selector : "-",
                       dkim_status_name(r->status), r->reason);
    }
    if (*trace == NULL)
        *trace = task_insert(t, "DKIM_TRACE", 1.0, NULL);
    if (*trace != NULL) {
        const char *opt = arena_printf(t->arena, "%s:%c", d, mark);
        task_symbol_add_option(t, *trace, opt, strlen(opt));
    }
}

static void dkim_report(struct task *t, struct dkim_run *run)
{
    struct auth_results *ar = auth_results_get(t);
    struct task_symbol *trace = NULL;
    ar->dkim_checked = true;
    dkim_verify_finish(run->v);
    for (size_t i = 0; i < dkim_verify_count(run->v); i++)
        report_one(t, &trace, dkim_verify_result(run->v, i), ar);
}

/* Asks for every key not yet known; reports when all are in. */
static void dkim_rerun(struct task *t, void *data)
{
    struct dkim_run *run = data;
    bool waiting = false;
    for (size_t i = 0; i < dkim_verify_count(run->v); i++) {
        const char *name = dkim_verify_key_name(run->v, i);
        if (name == NULL || run->key_set[i])
            continue;
        const struct dns_reply *rep = authdns_lookup(run->dns, name, DNS_T_TXT);
        if (rep == NULL) {
            waiting = true;
            continue;
        }
        const char **txt;
        size_t *lens, n;
        authdns_txt_arrays(t, rep, &txt, &lens, &n);
        dkim_verify_set_key(run->v, i, key_status(rep), txt, lens, n);
        run->key_set[i] = true;
    }
    if (!waiting && run->key_set[dkim_verify_count(run->v)] == false) {
        run->key_set[dkim_verify_count(run->v)] = true;   /* reported */
        dkim_report(t, run);
    }
}

static int dkim_scan(struct task *t, void *data)
{
    struct dkim_ctx *ctx = data;
    if (t->msg == NULL || auth_outbound_skip(t, &ctx->outbound))
        return 0;
    struct dkim_verify_opts opts = {0};
    opts.limits.max_sigs = (size_t)ctx->max_sigs;
    opts.time_jitter = (int64_t)ctx->time_jitter;
    struct dkim_run *run = ARENA_NEW(t->arena, struct dkim_run);
    run->task = t;
    run->v = dkim_verify_new(t->arena, &opts);
    size_t n;
    struct dkim_header *hdrs = auth_dkim_headers(t, &n);
    const char *err = NULL;
    if (dkim_verify_headers(run->v, hdrs, n, &err) < 0) {
        task_insert(t, "R_DKIM_PERMFAIL", 1.0, err);
        return 0;
    }
    if (dkim_verify_count(run->v) == 0) {
        task_insert(t, "R_DKIM_NA", 1.0, NULL);
        auth_results_get(t)->dkim_checked = true;
        return 0;
    }
    dkim_verify_body(run->v, t->msg->body, t->msg->body_len);
    dkim_verify_body_end(run->v);
    run->key_set = ARENA_NEW_N(t->arena, bool, dkim_verify_count(run->v) + 1);
    run->dns = authdns_new(t, dkim_rerun, run);
    authdns_run(run->dns);
    return 0;
}

const struct module module_dkim = {
    .name = "dkim",
    .abi = MODULE_ABI,
    .configure = dkim_configure,
    .scan = dkim_scan,
};
