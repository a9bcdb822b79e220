/*
 * The scan pipeline and module configuration.
 *
 * modules_configure() runs once per configuration snapshot in the main
 * process: it registers the pipeline's own symbols, configures every module
 * of registry.c with its merged section (skipping `enabled = false`), then
 * applies the score/description overrides of `group "..." { symbols {} }`
 * and `symbols {}` so an administrator's weights win over module defaults.
 *
 * pipeline_run() scans one task: parse the message (GMime, our header
 * parser), run every enabled module's scan(), wait for their lookups or the
 * task timeout, run post-scan hooks, write the one log line that explains
 * the verdict, then call the caller's `done`.
 */
#include "modules/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/symbols.h"
#include "mime/message.h"
#include "modules/module.h"
#include "modules/registry.h"
#include "net/dns.h"

struct modules_state {
    const struct module **mods;
    void **ctx;                  /* NULL ctx = module disabled */
    const char **why_off;        /* reason a module is off, for configdump -m */
    size_t n;
};

struct pipeline_run_state {
    const struct config *cfg;
    task_done_fn done;
    void *data;
    unsigned next_stage;         /* the stage the idle hook runs next */
};

#define PIPELINE_STAGES 2

static const struct symbol_def pipeline_symbols[] = {
    {"TASK_TIMEOUT", 0.0, "pipeline",
     "Scan timed out: the checks named in the options did not finish", 0},
    {"MIME_PARSE_LIMIT", 1.0, "pipeline",
     "Message exceeds a parser limit (headers, parts or depth); content checks skipped", 0},
};

static bool section_disabled(const struct conf_obj *section)
{
    bool enabled = true;
    const char *err = NULL;
    if (section != NULL)
        conf_get_bool(section, "enabled", true, &enabled, &err);
    return !enabled;
}

static int symbol_override(struct symtab *st, const struct conf_obj *sym, const char *group)
{
    const char *name = sym->key;
    double score;
    const struct conf_obj *w = conf_get(sym, "weight");
    if (w == NULL)
        w = conf_get(sym, "score");
    if (w != NULL) {
        if (!conf_as_double(conf_first(w), &score))
            return -1;
        symtab_set_score(st, name, score);
    }
    const char *desc = NULL;
    const char *err = NULL;
    if (conf_get_string(sym, "description", NULL, &desc, &err) == 0 && desc != NULL)
        symtab_set_description(st, name, desc);
    if (group != NULL && symtab_find(st, name, strlen(name)) != NULL)
        symtab_set_group(st, name, group);
    if (section_disabled(sym))
        symtab_set_flags(st, name, SYMBOL_DISABLED);
    return 0;
}

static int apply_symbols_block(struct config *cfg, const struct conf_obj *symbols,
                               const char *group, const char **error_r)
{
    for (const struct conf_obj *s = symbols ? symbols->v.list.head : NULL; s; s = s->next) {
        if (s->type != CONF_OBJECT || s->key == NULL)
            continue;
        if (symbol_override(cfg->symtab, s, group) < 0) {
            *error_r = arena_printf(cfg->arena, "%s:%u: symbol %s: weight must be a number",
                                    s->file ? s->file : "?", s->line, s->key);
            return -1;
        }
    }
    return 0;
}

/* group "name" { symbols { SYM { weight = 1.0; description = "..."; } } } */
static int apply_overrides(struct config *cfg, const char **error_r)
{
    const struct conf_obj *groups = conf_get(cfg->root, "group");
    for (const struct conf_obj *gv = conf_each_first(groups); gv; gv = conf_each_next(groups, gv)) {
        if (gv->type != CONF_OBJECT)
            continue;
        for (const struct conf_obj *g = gv->v.list.head; g; g = g->next) {
            if (g->type == CONF_OBJECT &&
                apply_symbols_block(cfg, conf_get(g, "symbols"), g->key, error_r) < 0)
                return -1;
        }
    }
    const struct conf_obj *syms = conf_get(cfg->root, "symbols");
    if (syms != NULL && syms->type == CONF_OBJECT)
        return apply_symbols_block(cfg, syms, NULL, error_r);
    return 0;
}

int modules_configure(struct config *cfg, const char **error_r)
{
    cfg->symtab = symtab_new(cfg->arena);
    symtab_add_many(cfg->symtab, pipeline_symbols,
                    sizeof(pipeline_symbols) / sizeof(pipeline_symbols[0]));
    size_t n = 0;
    while (modules_registry[n] != NULL)
        n++;
    struct modules_state *ms = ARENA_NEW(cfg->arena, struct modules_state);
    ms->mods = ARENA_NEW_N(cfg->arena, const struct module *, n);
    ms->ctx = ARENA_NEW_N(cfg->arena, void *, n);
    ms->why_off = ARENA_NEW_N(cfg->arena, const char *, n);
    ms->n = n;
    struct module_env env = {cfg->arena, cfg->symtab, cfg};
    for (size_t i = 0; i < n; i++) {
        const struct module *m = modules_registry[i];
        ms->mods[i] = m;
        if (m->abi != MODULE_ABI)
            panic("module %s built for ABI %u, expected %u", m->name, m->abi, MODULE_ABI);
        const struct conf_obj *section = config_section(cfg, m->name);
        if (section_disabled(section)) {
            ms->why_off[i] = "disabled (explicitly)";
            continue;
        }
        const char *err = NULL;
        if (m->configure(section, &env, &ms->ctx[i], &err) < 0) {
            *error_r = arena_printf(cfg->arena, "module %s: %s", m->name,
                                    err ? err : "configuration failed");
            return -1;
        }
        if (ms->ctx[i] == NULL)
            ms->why_off[i] = "disabled (unconfigured)";
    }
    cfg->modules = ms;
    return apply_overrides(cfg, error_r);
}

const char *modules_describe(const struct config *cfg)
{
    const struct modules_state *ms = cfg->modules;
    struct buf on = BUF_INIT, off = BUF_INIT;
    for (size_t i = 0; ms != NULL && i < ms->n; i++) {
        if (ms->ctx[i] != NULL) {
            buf_printf(&on, "%s%s", on.len ? ", " : "", ms->mods[i]->name);
        } else {
            buf_printf(&off, "%s%s (%s)", off.len ? ", " : "", ms->mods[i]->name,
                       ms->why_off[i] ? ms->why_off[i] : "off");
        }
    }
    char *s = arena_printf(cfg->arena, "Modules enabled: %s\nModules disabled: %s",
                           on.len ? on.data : "none", off.len ? off.data : "none");
    buf_free(&on);
    buf_free(&off);
    return s;
}

bool modules_status_at(const struct config *cfg, size_t i, struct module_status *out)
{
    const struct modules_state *ms = cfg->modules;
    if (ms == NULL || i >= ms->n)
        return false;
    out->name = ms->mods[i]->name;
    out->enabled = ms->ctx[i] != NULL;
    out->why_off = out->enabled ? NULL : (ms->why_off[i] ? ms->why_off[i] : "off");
    out->uses_redis = ms->mods[i]->uses_redis;
    return true;
}

/* ---- per worker process ---- */

/* options { dns { nameserver = ["127.0.0.1:53:10", ...]; timeout; retransmits } }
 * -> c-ares' "host:port,host:port" (the Rspamd priority suffix is dropped). */
static const char *nameservers_csv(struct arena *a, const struct conf_obj *dns)
{
    const struct conf_obj *ns = dns ? conf_get(dns, "nameserver") : NULL;
    struct buf b = BUF_INIT;
    for (const struct conf_obj *e = conf_each_first(ns); e; e = conf_each_next(ns, e)) {
        const char *s = conf_as_string(e);
        if (s == NULL)
            continue;
        /* a list in one string is allowed too: "a:53, b:53" */
        for (const char *p = s; *p;) {
            size_t len = strcspn(p, ", ");
            if (len > 0) {
                const char *end = p + len;
                /* host:port:priority -> host:port (only for bracket-less v4/names) */
                const char *c1 = memchr(p, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
                if (p[0] != '[' && c2 != NULL && memchr(c2 + 1, ':', (size_t)(end - c2 - 1)) == NULL)
                    end = c2;
                buf_printf(&b, "%s%.*s", b.len ? "," : "", (int)(end - p), p);
            }
            p += len;
            p += strspn(p, ", ");
        }
    }
    const char *out = b.len ? arena_strndup(a, b.data, b.len) : NULL;
    buf_free(&b);
    return out;
}

int modules_worker_init(const struct config *cfg, struct ev_loop *loop, const char **error_r)
{
    const struct conf_obj *opts = config_section(cfg, "options");
    const struct conf_obj *dnsc = opts ? conf_get(opts, "dns") : NULL;
    struct dns_settings ds = {0};
    const char *err = NULL;
    ds.nameservers = nameservers_csv(cfg->arena, dnsc);
    int64_t retr = 2;
    if (dnsc != NULL && (conf_get_time(dnsc, "timeout", 1.0, &ds.timeout, &err) < 0 ||
                         conf_get_int(dnsc, "retransmits", 2, &retr, &err) < 0)) {
        *error_r = err;
        return -1;
    }
    ds.retransmits = retr > 0 ? (unsigned)retr : 0;
    struct dns_resolver *res = dns_resolver_new(loop, &ds, &err);
    if (res == NULL) {
        *error_r = arena_printf(cfg->arena, "dns: %s", err ? err : "resolver failed");
        return -1;
    }
    dns_default_set(res);
    const struct modules_state *ms = cfg->modules;
    for (size_t i = 0; ms != NULL && i < ms->n; i++) {
        const struct module *m = ms->mods[i];
        if (ms->ctx[i] != NULL && m->worker_init != NULL &&
            m->worker_init(ms->ctx[i], loop, &err) < 0) {
            *error_r = arena_printf(cfg->arena, "module %s: %s", m->name, err ? err : "?");
            return -1;
        }
    }
    return 0;
}

void modules_worker_deinit(const struct config *cfg)
{
    const struct modules_state *ms = cfg->modules;
    for (size_t i = 0; ms != NULL && i < ms->n; i++)
        if (ms->ctx[i] != NULL && ms->mods[i]->worker_deinit != NULL)
            ms->mods[i]->worker_deinit(ms->ctx[i]);
    struct dns_resolver *res = dns_default();
    dns_default_set(NULL);
    dns_resolver_free(&res);
}

/* ---- scanning ---- */

static void collect_urls(struct task *t)
{
    const struct message *m = t->msg;
    if (m->nurls > 0) {
        const char **hosts = ARENA_NEW_N(t->arena, const char *, m->nurls + 1);
        size_t n = 0;
        for (size_t i = 0; i < m->nurls; i++) {
            const char *h = m->urls[i].host;
            bool dup = h == NULL || *h == '\0';
            for (size_t j = 0; !dup && j < n; j++)
                dup = strcmp(hosts[j], h) == 0;
            if (!dup)
                hosts[n++] = h;
        }
        hosts[n] = NULL;
        t->urls = n ? hosts : NULL;
    }
    if (m->nemails > 0) {
        const char **e = ARENA_NEW_N(t->arena, const char *, m->nemails + 1);
        memcpy(e, m->emails, m->nemails * sizeof(*e));
        e[m->nemails] = NULL;
        t->emails = e;
    }
}

static void parse_message(struct task *t)
{
    if (t->flags & TASK_RAW)
        return;
    struct mime_limits limits = {0};
    const char *err = NULL;
    struct message *msg = NULL;
    if (message_parse(t->arena, t->raw ? t->raw : "", t->raw_len, &limits, &msg, &err) < 0) {
        task_insert(t, "MIME_PARSE_LIMIT", 1.0, err);
        log_task_warn(t, "message not parsed: %s", err ? err : "?");
        return;
    }
    t->msg = msg;
    t->message_id = msg->message_id;
    t->subject = msg->subject;
    collect_urls(t);
}

static int symbol_cmp(const void *a, const void *b)
{
    const struct task_symbol *x = *(const struct task_symbol *const *)a;
    const struct task_symbol *y = *(const struct task_symbol *const *)b;
    if (fabs(x->score) != fabs(y->score))
        return fabs(x->score) < fabs(y->score) ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void log_field(struct buf *b, const char *key, const char *val)
{
    char esc[512];
    buf_printf(b, " %s=%s", key,
               val ? log_escape(esc, sizeof(esc), val, strlen(val)) : "-");
}

/* The one line per scan (STYLE §9): what, from whom, verdict, every symbol. */
static void log_scan(const struct task *t)
{
    /* Not built at all when the level would discard it. */
    if ((t->flags & TASK_NO_LOG) || log_current_level < LOG_LVL_INFO)
        return;
    struct buf b = BUF_INIT;
    buf_puts(&b, "scan:");
    log_field(&b, "qid", t->env.queue_id);
    log_field(&b, "mid", t->message_id);
    log_field(&b, "ip", t->env.ip_str);
    log_field(&b, "from", t->env.from);
    struct buf rc = BUF_INIT;
    for (size_t i = 0; i < t->env.nrcpts; i++)
        buf_printf(&rc, "%s%s", i ? "," : "", t->env.rcpts[i]);
    log_field(&b, "rcpts", t->env.nrcpts ? rc.data : NULL);
    buf_free(&rc);
    if (t->env.user)
        log_field(&b, "user", t->env.user);
    buf_printf(&b, " action=\"%s\" score=%.2f/%.2f", t->actions->a[t->action].name, t->score,
               actions_required_score(t->actions));
    const struct task_symbol **v = ARENA_NEW_N(t->arena, const struct task_symbol *, t->nsymbols + 1);
    size_t n = 0;
    for (const struct task_symbol *s = t->symbols; s; s = s->next)
        v[n++] = s;
    qsort(v, n, sizeof(*v), symbol_cmp);
    buf_puts(&b, " symbols=[");
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "%s%s(%.2f)", i ? "," : "", v[i]->name, v[i]->score);
        if (v[i]->noptions) {
            buf_putc(&b, '{');
            for (size_t j = 0; j < v[i]->noptions; j++) {
                char esc[128];
                const char *o = v[i]->options[j];
                buf_printf(&b, "%s;", log_escape(esc, sizeof(esc), o, strlen(o)));
            }
            buf_putc(&b, '}');
        }
    }
    buf_printf(&b, "] size=%zu time=%.1fms", t->raw_len, task_elapsed(t) * 1000.0);
    if (t->timed_out)
        buf_puts(&b, " timeout=yes");
    log_write(LOG_LVL_INFO, NULL, t->uid, "%s", b.data);
    buf_free(&b);
}

static void after_wait(struct task *t, void *data)
{
    struct pipeline_run_state *st = data;
    const struct modules_state *ms = st->cfg->modules;
    for (size_t i = 0; ms != NULL && i < ms->n && !(t->flags & TASK_SKIP); i++) {
        if (ms->ctx[i] != NULL && ms->mods[i]->post_scan != NULL)
            ms->mods[i]->post_scan(t, ms->ctx[i]);
    }
    task_finalize(t);
    log_scan(t);
    st->done(t, st->data);   /* may free t */
}

/* Runs the scan() of every enabled module of one stage. */
static void run_stage(const struct config *cfg, struct task *t, unsigned stage)
{
    const struct modules_state *ms = cfg->modules;
    /* A module may end the scan (GTUBE sets TASK_SKIP): the rest do not run. */
    for (size_t i = 0; ms != NULL && i < ms->n && !(t->flags & TASK_SKIP); i++) {
        if (ms->ctx[i] == NULL || ms->mods[i]->stage != stage)
            continue;
        if (ms->mods[i]->scan(t, ms->ctx[i]) < 0)
            log_task_warn(t, "module %s failed on this message", ms->mods[i]->name);
    }
}

/* Idle hook: stage N's lookups are all answered, start stage N+1. */
static bool next_stage(struct task *t, void *data)
{
    struct pipeline_run_state *st = data;
    if (st->next_stage >= PIPELINE_STAGES || (t->flags & TASK_SKIP))
        return false;
    run_stage(st->cfg, t, st->next_stage++);
    return true;
}

void pipeline_run(const struct config *cfg, struct task *t, task_done_fn done, void *data)
{
    struct pipeline_run_state *st = ARENA_NEW(t->arena, struct pipeline_run_state);
    st->cfg = cfg;
    st->done = done;
    st->data = data;
    st->next_stage = 1;
    t->pipeline_state = st;
    if (t->flags & TASK_SKIP) {
        t->is_skipped = true;
    } else {
        parse_message(t);
        if (!(t->flags & TASK_SKIP_PROCESS)) {
            run_stage(cfg, t, 0);
            task_set_idle_hook(t, next_stage, st);
        }
    }
    task_wait(t, t->timeout, after_wait, st);   /* may complete and free t */
}
