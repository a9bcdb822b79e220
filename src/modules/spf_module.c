/*
 * spf: Sender Policy Framework (RFC 7208) for the envelope sender, or for
 * postmaster@HELO when the envelope sender is empty or absent (spec §9.4).
 *
 * The evaluation is the restartable spf_check() of spf/spf.h: each run that
 * meets a name not yet resolved returns "pending", the lookup goes out
 * through authdns (dns_task_query: the task waits, the per-message budget
 * applies), and the whole check replays once the answers are in.  A DNS
 * failure becomes R_SPF_DNSFAIL, never a silent pass; a lookup that never
 * answers ends with the task timeout (TASK_TIMEOUT names it).
 *
 * Without an envelope sender at all (NULL, not a bounce's ""), the header
 * From address is checked, as Rspamd does.
 *
 * Outbound mail (authenticated sender or a local_addrs client) is skipped
 * unless check_authed / check_local is set.  No client IP: nothing to check.
 * The outcome is also left in the task's auth_results for DMARC.
 */
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/authdns.h"
#include "modules/module.h"
#include "modules/spf/spf.h"

struct spf_ctx {
    struct auth_outbound outbound;
};

struct spf_run {
    struct task *task;           /* valid during a run: authdns drops dead tasks */
    struct spf_request req;
    struct authdns *dns;
};

static const struct symbol_def spf_symbols[] = {
    {"R_SPF_ALLOW", -0.2, "spf", "SPF verification allows sending", 0},
    {"R_SPF_FAIL", 1.0, "spf", "SPF verification failed", 0},
    {"R_SPF_SOFTFAIL", 0.0, "spf", "SPF verification soft-failed", 0},
    {"R_SPF_NEUTRAL", 0.0, "spf", "SPF policy is neutral", 0},
    {"R_SPF_NA", 0.0, "spf", "Missing SPF record", 0},
    {"R_SPF_DNSFAIL", 0.0, "spf", "SPF DNS failure", 0},
    {"R_SPF_PERMFAIL", 0.0, "spf", "SPF record is malformed or persistent DNS error", 0},
};

static int spf_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                         const char **error_r)
{
    struct spf_ctx *ctx = ARENA_NEW(env->arena, struct spf_ctx);
    symtab_add_many(env->symtab, spf_symbols, sizeof(spf_symbols) / sizeof(spf_symbols[0]));
    if (auth_outbound_configure(section, env->config, &ctx->outbound, error_r) < 0)
        return -1;
    *ctx_r = ctx;
    return 0;
}

static enum dns_type spf_dns_type(enum spf_rr rr)
{
    switch (rr) {
    case SPF_RR_A: return DNS_T_A;
    case SPF_RR_AAAA: return DNS_T_AAAA;
    case SPF_RR_MX: return DNS_T_MX;
    case SPF_RR_PTR: return DNS_T_PTR;
    case SPF_RR_TXT: break;
    }
    return DNS_T_TXT;
}

/* Turns a resolver reply into the evaluator's answer (arrays in the arena). */
static void answer_from_reply(struct task *t, const struct dns_reply *rep,
                              struct spf_dns_answer *ans)
{
    if (rep->status == DNS_NXDOMAIN) {
        ans->status = SPF_DNS_NXDOMAIN;
        return;
    }
    if (rep->status != DNS_OK) {
        ans->status = SPF_DNS_TEMPFAIL;
        return;
    }
    ans->status = SPF_DNS_OK;
    if (rep->type == DNS_T_A || rep->type == DNS_T_AAAA) {
        ans->addrs = ARENA_NEW_N(t->arena, struct netaddr, rep->n + 1);
        for (size_t i = 0; i < rep->n; i++)
            ans->addrs[i] = rep->rrs[i].v.addr;
        ans->naddrs = rep->n;
        return;
    }
    if (rep->type == DNS_T_TXT) {
        size_t *lens;
        authdns_txt_arrays(t, rep, &ans->strs, &lens, &ans->nstrs);
        ans->lens = lens;
        return;
    }
    const char **s = ARENA_NEW_N(t->arena, const char *, rep->n + 1);
    for (size_t i = 0; i < rep->n; i++)
        s[i] = rep->type == DNS_T_MX ? rep->rrs[i].v.mx.host : rep->rrs[i].v.ptr;
    ans->strs = s;
    ans->nstrs = rep->n;
}

static void spf_resolve(void *data, enum spf_rr type, const char *name,
                        struct spf_dns_answer *ans_r)
{
    struct spf_run *run = data;
    struct task *t = run->task;
    memset(ans_r, 0, sizeof(*ans_r));
    const struct dns_reply *rep = authdns_lookup(run->dns, name, spf_dns_type(type));
    if (rep == NULL)
        ans_r->status = SPF_DNS_PENDING;
    else
        answer_from_reply(t, rep, ans_r);
}

/* Rspamd shows the qualifier even when the record left it implicit:
 * "ip4:192.0.2.0/24" matched -> "+ip4:192.0.2.0/24". */
static const char *mechanism_option(struct task *t, const char *m)
{
    if (m == NULL || m[0] == '\0' || strchr("+-~?", m[0]) != NULL)
        return m;
    return arena_printf(t->arena, "+%s", m);
}

static void spf_report(struct task *t, const struct spf_outcome *o)
{
    const char *mech = mechanism_option(t, o->mechanism);
    switch (o->result) {
    case SPF_RESULT_PASS: task_insert(t, "R_SPF_ALLOW", 1.0, mech); break;
    case SPF_RESULT_FAIL: task_insert(t, "R_SPF_FAIL", 1.0, mech); break;
    case SPF_RESULT_SOFTFAIL: task_insert(t, "R_SPF_SOFTFAIL", 1.0, mech); break;
    case SPF_RESULT_NEUTRAL: task_insert(t, "R_SPF_NEUTRAL", 1.0, mech); break;
    case SPF_RESULT_NONE:
        task_insert(t, "R_SPF_NA", 1.0, o->domain != NULL ? "no SPF record" : "No domain");
        break;
    case SPF_RESULT_TEMPERROR: task_insert(t, "R_SPF_DNSFAIL", 1.0, o->reason); break;
    case SPF_RESULT_PERMERROR: task_insert(t, "R_SPF_PERMFAIL", 1.0, o->reason); break;
    case SPF_RESULT_PENDING: break;
    }
    struct auth_results *ar = auth_results_get(t);
    ar->spf_checked = true;
    ar->spf_result = (int)o->result;
    ar->spf_domain = o->domain;
}

/* One replay of check_host(); reports when it is final. */
static void spf_rerun(struct task *t, void *data)
{
    struct spf_run *run = data;
    struct spf_outcome out;
    memset(&out, 0, sizeof(out));
    if (spf_check(t->arena, &run->req, spf_resolve, run, &out) != SPF_RESULT_PENDING)
        spf_report(t, &out);
}

static bool has_domain(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int spf_scan(struct task *t, void *data)
{
    struct spf_ctx *ctx = data;
    if (t->env.ip.family == 0 || auth_outbound_skip(t, &ctx->outbound))
        return 0;
    const char *from = t->env.from;
    /* No envelope sender given at all (not a bounce): Rspamd checks the
     * header From then, so a bare `rspamc --ip` scan still gets SPF. */
    if (from == NULL && t->msg != NULL && t->msg->from.n > 0)
        from = t->msg->from.a[0].addr;
    bool from_ok = from != NULL && strchr(from, '@') != NULL && auth_addr_domain(t, from);
    if (!from_ok && !has_domain(t->env.helo)) {
        task_insert(t, "R_SPF_NA", 1.0, "No domain");
        return 0;
    }
    struct spf_run *run = ARENA_NEW(t->arena, struct spf_run);
    run->req.ip = t->env.ip;
    run->req.sender = from_ok ? from : NULL;
    run->req.helo = t->env.helo;
    run->req.now = (int64_t)time(NULL);
    run->task = t;
    run->dns = authdns_new(t, spf_rerun, run);
    authdns_run(run->dns);
    return 0;
}

const struct module module_spf = {
    .name = "spf",
    .abi = MODULE_ABI,
    .configure = spf_configure,
    .scan = spf_scan,
};
