/*
 * dkim_signing: DKIM-signs outbound mail after the scan (post_scan), with
 * the options and selection algorithm of Rspamd 3.4 (spec §9.1, §9.2) and
 * the first-time setup of JOURNEY.md §5:
 *
 *   path = "/var/lib/winnow/dkim/$selector.$domain.key";
 *   selector_map = "/etc/winnow/dkim_selectors.map";   example.com s2026
 *   key_map = "/etc/winnow/dkim_keys.map";            example.com /path/key
 *   signing_table = "/etc/winnow/dkim_signing.map";   *@example.com example.com
 *
 * Which mail: authenticated senders (sign_authenticated), sign_networks,
 * local clients (sign_local), or anything with sign_inbound; never a message
 * with a reject / soft reject pre-result.  The signing domain comes from
 * use_domain (header From by default), reduced to its eSLD with use_esld,
 * and must match the envelope domain and the authenticated user's domain
 * unless allowed.  Keys: a signing_table entry (plus key_table when given),
 * else `domain { d { selector; path; selectors = [...] } }`, else (with
 * try_fallback) selector_map / key_map (alias path_map) / selector / path.
 *
 * Output: one DKIM-Signature value per key in task->dkim_signatures (the v2
 * reply's `dkim-signature`, inserted at the top by the milter proxy), folded
 * with "\n\t" for milter tasks and the message's own line ending otherwise,
 * and the symbol DKIM_SIGNED with the domain as option.
 *
 * Keys are loaded from files in the worker (warmed in worker_init for every
 * path the configuration names, then cached and re-checked at most every
 * SIGN_MAP_CHECK seconds, so a rotated key file is picked up).  A key file
 * readable by others is refused with the library's message (names the file
 * and the chmod); a missing key is logged with the path tried, once per
 * change, and the message leaves unsigned.  Not supported yet: Redis and
 * Vault keys, use_http_headers, check_pubkey, Lua conditions.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/authdns.h"
#include "modules/dkim/dkim.h"
#include "modules/dkim_signing.h"
#include "modules/dmarc/dmarc.h"
#include "modules/module.h"

enum sign_class { SIGN_AUTH, SIGN_NETWORKS, SIGN_LOCAL, SIGN_INBOUND };


static const struct symbol_def sign_symbols[] = {
    {"DKIM_SIGNED", 0.0, "dkim", "Message has been signed with DKIM (option: domain)", 0},
};

static int sign_configure(const struct conf_obj *sec, struct module_env *env, void **ctx_r,
                          const char **error_r)
{
    struct sign_ctx *ctx = ARENA_NEW(env->arena, struct sign_ctx);
    symtab_add_many(env->symtab, sign_symbols, 1);
    if (sign_conf_parse(sec, env->arena, env->config, false, ctx, error_r) < 0)
        return -1;
    *ctx_r = ctx;
    return 0;
}

/* Worker exit: every cached key goes. */
static void sign_worker_deinit(void *data)
{
    (void)data;
    sign_keys_free();
}

static void warm_path(const char *key, const char *value, void *data)
{
    (void)data;
    if (value[0] == '/')
        sign_key_get(value, key);
}

static int sign_worker_init(void *data, struct ev_loop *loop, const char **error_r)
{
    struct sign_ctx *ctx = data;
    (void)loop;
    (void)error_r;
    for (const struct sign_domain *d = ctx->domains; d != NULL; d = d->next)
        for (size_t i = 0; i < d->n; i++)
            if (d->sels[i].path != NULL && strchr(d->sels[i].path, '$') == NULL)
                sign_key_get(d->sels[i].path, d->domain);
    if (ctx->key_map != NULL)
        sign_map_each(ctx->key_map, warm_path, NULL);
    return 0;
}

/* ---- selection ---- */

static bool in_networks(const struct sign_ctx *ctx, const struct netaddr *ip)
{
    for (size_t i = 0; ip->family != 0 && i < ctx->nnetworks; i++)
        if (netmask_match(&ctx->networks[i], ip))
            return true;
    return false;
}

/* Step 2: why this message is ours to sign; -1 when it is not. */
static int sign_class(const struct task *t, const struct sign_ctx *ctx)
{
    bool local = t->env.ip.family != 0 && ctx->config != NULL &&
                 config_is_local_addr(ctx->config, &t->env.ip);
    if (ctx->sign_authenticated && t->env.user != NULL && t->env.user[0] != '\0')
        return SIGN_AUTH;
    if (in_networks(ctx, &t->env.ip))
        return SIGN_NETWORKS;
    if (ctx->sign_local && local)
        return SIGN_LOCAL;
    if (ctx->sign_inbound && !local)
        return SIGN_INBOUND;
    return -1;
}

static const char *esld(struct task *t, const struct sign_ctx *ctx, const char *d)
{
    return d != NULL && ctx->use_esld ? dmarc_org_domain(t->arena, d) : d;
}

static const char *pick_domain(struct task *t, const char *how, const char *hdom, const char *edom,
                               const char *udom)
{
    if (strcasecmp(how, "header") == 0)
        return hdom;
    if (strcasecmp(how, "envelope") == 0)
        return edom;
    if (strcasecmp(how, "auth") == 0)
        return udom;
    if (strcasecmp(how, "recipient") == 0)
        return t->env.nrcpts > 0 ? auth_addr_domain(t, t->env.rcpts[0]) : NULL;
    return auth_addr_domain(t, arena_printf(t->arena, "@%s", how));
}

static const char *use_domain_for(const struct sign_ctx *ctx, int cls)
{
    const char *o = cls == SIGN_NETWORKS ? ctx->use_domain_networks
                    : cls == SIGN_LOCAL  ? ctx->use_domain_local
                    : cls == SIGN_INBOUND ? ctx->use_domain_inbound
                                          : NULL;
    return o != NULL ? o : ctx->use_domain;
}

static bool mismatch_allowed(const struct sign_ctx *ctx, int cls)
{
    return ctx->allow_hdrfrom_mismatch ||
           (cls == SIGN_LOCAL && ctx->allow_hdrfrom_mismatch_local) ||
           (cls == SIGN_NETWORKS && ctx->allow_hdrfrom_mismatch_sign_networks);
}

/* Steps 3-6: the signing domain, or NULL (with a debug line saying why). */
static const char *sign_domain(struct task *t, const struct sign_ctx *ctx, int cls)
{
    const struct message *m = t->msg;
    bool env_empty = t->env.from == NULL || t->env.from[0] == '\0';
    const char *why = NULL;
    if (env_empty && !ctx->allow_envfrom_empty)
        why = "empty envelope sender";
    else if (m->from.n > 1 && !ctx->allow_hdrfrom_multiple)
        why = "several From addresses";
    const char *hdom = esld(t, ctx, m->from.n > 0 ? m->from.a[0].domain : NULL);
    const char *edom = esld(t, ctx, auth_addr_domain(t, t->env.from));
    const char *udom = esld(t, ctx, auth_addr_domain(t, t->env.user));
    const char *dom = esld(t, ctx, pick_domain(t, use_domain_for(ctx, cls), hdom, edom, udom));
    if (why == NULL && dom == NULL)
        why = "no signing domain";
    if (why == NULL && hdom != NULL && edom != NULL && strcasecmp(hdom, edom) != 0 &&
        !mismatch_allowed(ctx, cls))
        why = "header From and envelope domains differ";
    if (why == NULL && cls == SIGN_AUTH && !ctx->allow_username_mismatch &&
        (udom == NULL || strcasecmp(udom, dom) != 0))
        why = "authenticated user's domain differs from the signing domain";
    if (why != NULL) {
        log_task_debug(t, "dkim_signing", "dkim_signing: not signing: %s", why);
        return NULL;
    }
    return dom;
}

/* $domain and $selector (or ${...}) in a path template. */
static const char *expand_path(struct task *t, const char *tmpl, const char *dom, const char *sel)
{
    struct buf b = BUF_INIT;
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "$domain", 7) == 0 || strncmp(p, "${domain}", 9) == 0) {
            buf_puts(&b, dom);
            p += p[1] == '{' ? 9 : 7;
        } else if (strncmp(p, "$selector", 9) == 0 || strncmp(p, "${selector}", 11) == 0) {
            buf_puts(&b, sel);
            p += p[1] == '{' ? 11 : 9;
        } else {
            buf_putc(&b, *p++);
        }
    }
    const char *out = arena_strndup(t->arena, b.data ? b.data : "", b.len);
    buf_free(&b);
    return out;
}

static size_t targets_for_domain(struct task *t, const struct sign_ctx *ctx, const char *dom,
                                 struct sign_target *tg)
{
    for (const struct sign_domain *d = ctx->domains; d != NULL; d = d->next) {
        if (strcasecmp(d->domain, dom) != 0)
            continue;
        size_t n = 0;
        for (size_t i = 0; i < d->n && n < SIGN_MAX_TARGETS; i++, n++) {
            tg[n].domain = dom;
            tg[n].selector = d->sels[i].selector ? d->sels[i].selector : ctx->selector;
            tg[n].path = expand_path(t, d->sels[i].path ? d->sels[i].path : ctx->path, dom,
                                     tg[n].selector);
        }
        return n;
    }
    if (!ctx->try_fallback)
        return 0;
    const char *sel = ctx->selector_map ? sign_map_get(ctx->selector_map, dom) : NULL;
    const char *path = ctx->key_map ? sign_map_get(ctx->key_map, dom) : NULL;
    tg[0].domain = dom;
    tg[0].selector = sel != NULL ? sel : ctx->selector;
    tg[0].path = path != NULL ? path : expand_path(t, ctx->path, dom, tg[0].selector);
    return 1;
}

/* key_table value: "domain:selector:keypath" or "domain:keypath". */
static size_t target_from_key_table(struct task *t, const struct sign_ctx *ctx, const char *v,
                                    struct sign_target *tg)
{
    char *s = arena_strdup(t->arena, v);
    char *c1 = strchr(s, ':');
    if (c1 == NULL)
        return 0;
    *c1++ = '\0';
    char *c2 = strchr(c1, ':');
    tg->domain = s;
    if (c2 != NULL) {
        *c2++ = '\0';
        tg->selector = c1;
        tg->path = c2;
    } else {
        tg->selector = ctx->selector;
        tg->path = c1;
    }
    return 1;
}

/* Step 7: signing_table / key_table, else per-domain config and fallbacks. */
static size_t sign_targets(struct task *t, const struct sign_ctx *ctx, const char *dom,
                           struct sign_target *tg)
{
    if (ctx->signing_table == NULL)
        return targets_for_domain(t, ctx, dom, tg);
    const struct mime_addrlist *f = &t->msg->from;
    const char *addr = f->n > 0 && f->a[0].addr ? f->a[0].addr : "";
    const char *entry = sign_map_glob(ctx->signing_table, addr);
    if (entry == NULL || entry[0] == '\0') {
        log_task_debug(t, "dkim_signing", "dkim_signing: no signing_table entry for %s", addr);
        return 0;
    }
    if (strcmp(entry, "%") == 0)
        entry = dom;
    const char *kt = ctx->key_table ? sign_map_get(ctx->key_table, entry) : NULL;
    if (kt != NULL)
        return target_from_key_table(t, ctx, kt, tg);
    return targets_for_domain(t, ctx, entry, tg);
}

/* ---- signing ---- */

static void add_signature(struct task *t, const char *value)
{
    size_t n = 0;
    while (t->dkim_signatures != NULL && t->dkim_signatures[n] != NULL)
        n++;
    const char **v = ARENA_NEW_N(t->arena, const char *, n + 2);
    for (size_t i = 0; i < n; i++)
        v[i] = t->dkim_signatures[i];
    v[n] = value;
    t->dkim_signatures = v;
}

static void sign_one(struct task *t, const struct sign_ctx *ctx, const struct sign_target *tg)
{
    const struct dkim_privkey *key = sign_key_get(tg->path, arena_printf(t->arena, "%s (selector %s)",
                                                                    tg->domain, tg->selector));
    if (key == NULL)
        return;
    struct dkim_sign_opts o = {0};
    o.domain = tg->domain;
    o.selector = tg->selector;
    o.sign_headers = ctx->sign_headers;
    o.lf = (t->flags & TASK_MILTER) || !t->msg->crlf;
    const char *err = NULL, *field;
    size_t flen, n;
    struct dkim_header *hdrs = auth_dkim_headers(t, &n);
    struct dkim_signer *s = dkim_sign_new(t->arena, key, &o, &err);
    if (s == NULL) {
        log_task_warn(t, "dkim_signing: cannot sign for %s: %s", tg->domain, err ? err : "?");
        return;
    }
    dkim_sign_body(s, t->msg->body ? t->msg->body : "", t->msg->body_len);
    if (dkim_sign_finish(s, hdrs, n, &field, &flen, &err) < 0) {
        log_task_warn(t, "dkim_signing: cannot sign for %s: %s", tg->domain, err ? err : "?");
        return;
    }
    const char *colon = memchr(field, ':', flen);
    const char *v = colon != NULL ? colon + 1 : field;
    while (*v == ' ')
        v++;
    add_signature(t, v);
    task_insert(t, ctx->symbol, 1.0, tg->domain);
    log_task_info(t, "dkim_signing: sign %s with selector %s", tg->domain, tg->selector);
}

size_t sign_select(struct task *t, const struct sign_ctx *ctx, struct sign_target *tg)
{
    if (t->msg == NULL)
        return 0;
    if (t->passthrough != NULL && (t->passthrough->action == ACTION_REJECT ||
                                   t->passthrough->action == ACTION_SOFT_REJECT))
        return 0;
    if (ctx->skip_spam_sign && t->action != ACTION_NO_ACTION)
        return 0;
    int cls = sign_class(t, ctx);
    const char *dom = cls >= 0 ? sign_domain(t, ctx, cls) : NULL;
    return dom != NULL ? sign_targets(t, ctx, dom, tg) : 0;
}

static void sign_post_scan(struct task *t, void *data)
{
    const struct sign_ctx *ctx = data;
    struct sign_target tg[SIGN_MAX_TARGETS];
    size_t n = sign_select(t, ctx, tg);
    for (size_t i = 0; i < n; i++)
        sign_one(t, ctx, &tg[i]);
}

static int sign_scan(struct task *t, void *ctx)
{
    (void)t;
    (void)ctx;
    return 0;
}

const struct module module_dkim_signing = {
    .name = "dkim_signing",
    .abi = MODULE_ABI,
    .configure = sign_configure,
    .scan = sign_scan,
    .post_scan = sign_post_scan,
    .worker_init = sign_worker_init,
    .worker_deinit = sign_worker_deinit,
};
