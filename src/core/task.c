/*
 * Tasks: creation, symbol insertion, pre-results, asynchronous completion and
 * the score -> action computation.
 *
 * Lifetime: a task lives in a per-process registry from task_new() until it
 * finishes (all lookups done or timeout).  task_ref_get() only finds tasks
 * that have not finished, so a DNS or Redis reply arriving late is dropped
 * by its callback instead of touching freed memory.  The `done` callback may
 * free the task: nothing here touches the task after calling it.
 */
#include "core/task.h"

#include <ev.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/str.h"
#include "core/symbols.h"

#define TASK_MAX_OPTIONS 32
#define TASK_OPTION_MAXLEN 512
#define REGISTRY_BUCKETS 1024

struct task_private {
    ev_timer timer;
    struct task *task;
};

/* Live (unfinished) tasks by id.  Entries are allocated in the task's arena. */
struct reg_entry {
    uint64_t id;
    struct task *task;
    struct reg_entry *next;
};
static struct reg_entry *registry[REGISTRY_BUCKETS];
static uint64_t next_task_id = 1;

static double now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void registry_add(struct task *t)
{
    struct reg_entry *e = ARENA_NEW(t->arena, struct reg_entry);
    e->id = t->id;
    e->task = t;
    size_t b = t->id % REGISTRY_BUCKETS;
    e->next = registry[b];
    registry[b] = e;
}

static void registry_remove(uint64_t id)
{
    for (struct reg_entry **pp = &registry[id % REGISTRY_BUCKETS]; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            *pp = (*pp)->next;
            return;
        }
    }
}

struct task *task_new(struct ev_loop *loop, const struct symtab *symtab,
                      const struct actions *actions)
{
    struct arena *arena = arena_new(0);
    struct task *t = ARENA_NEW(arena, struct task);
    t->arena = arena;
    t->id = next_task_id++;
    /* Short id for log lines: unique enough within a log file. */
    snprintf(t->uid, sizeof(t->uid), "%06llx",
             (unsigned long long)((t->id * 2654435761u + (uint64_t)getpid() * 40503u) & 0xffffff));
    t->start_time = now_monotonic();
    t->loop = loop;
    t->symtab = symtab;
    t->actions = actions;
    t->action = ACTION_NO_ACTION;
    t->timeout = 8.0;
    t->env.rcpts = ARENA_NEW_N(arena, const char *, 1);
    registry_add(t);
    return t;
}

static void stop_timer(struct task *t)
{
    struct task_private *priv = t->timer;
    if (priv != NULL && t->loop != NULL)
        ev_timer_stop(t->loop, &priv->timer);
}

void task_free(struct task **tp)
{
    struct task *t = *tp;
    if (t == NULL)
        return;
    *tp = NULL;
    stop_timer(t);
    if (!t->finished)
        registry_remove(t->id);
    struct arena *a = t->arena;
    arena_free(&a);
}

struct task_ref task_ref(const struct task *t)
{
    return (struct task_ref){t->id};
}

struct task *task_ref_get(struct task_ref ref)
{
    for (struct reg_entry *e = registry[ref.id % REGISTRY_BUCKETS]; e; e = e->next)
        if (e->id == ref.id)
            return e->task;
    return NULL;
}

void task_add_rcpt(struct task *t, const char *rcpt, size_t len)
{
    const char **n = ARENA_NEW_N(t->arena, const char *, t->env.nrcpts + 2);
    if (t->env.nrcpts)
        memcpy(n, t->env.rcpts, t->env.nrcpts * sizeof(*n));
    n[t->env.nrcpts++] = arena_strndup(t->arena, rcpt, len);
    n[t->env.nrcpts] = NULL;
    t->env.rcpts = n;
}

const char *task_request_header(const struct task *t, const char *name)
{
    for (const struct task_header *h = t->req_headers; h; h = h->next)
        if (strcasecmp(h->name, name) == 0)
            return h->value;
    return NULL;
}

const struct task_symbol *task_find_symbol(const struct task *t, const char *name)
{
    for (const struct task_symbol *s = t->symbols; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

void task_symbol_add_option(struct task *t, struct task_symbol *sym, const char *opt, size_t len)
{
    if (opt == NULL || sym->noptions >= TASK_MAX_OPTIONS)
        return;
    if (len > TASK_OPTION_MAXLEN)
        len = TASK_OPTION_MAXLEN;
    for (size_t i = 0; i < sym->noptions; i++)
        if (strlen(sym->options[i]) == len && memcmp(sym->options[i], opt, len) == 0)
            return;
    if (sym->noptions + 1 >= sym->options_cap) {
        size_t ncap = sym->options_cap ? sym->options_cap * 2 : 4;
        sym->options = arena_realloc(t->arena, sym->options, sym->options_cap * sizeof(char *),
                                     ncap * sizeof(char *));
        sym->options_cap = ncap;
    }
    sym->options[sym->noptions++] = arena_strndup(t->arena, opt, len);
    sym->options[sym->noptions] = NULL;
}

struct task_symbol *task_insert(struct task *t, const char *name, double multiplier,
                                const char *opt)
{
    const struct symbol_def *def = symtab_find(t->symtab, name, strlen(name));
    if (def != NULL && (def->flags & SYMBOL_DISABLED))
        return NULL;
    double weight = def != NULL ? def->score : t->actions->unknown_weight;
    double score = weight * multiplier;
    struct task_symbol *s = (struct task_symbol *)task_find_symbol(t, name);
    if (s == NULL) {
        s = ARENA_NEW(t->arena, struct task_symbol);
        s->name = def != NULL ? def->name : arena_strdup(t->arena, name);
        s->def = def;
        s->score = score;
        s->metric_score = weight;
        if (t->symbols_tail)
            t->symbols_tail->next = s;
        else
            t->symbols = s;
        t->symbols_tail = s;
        t->nsymbols++;
    } else if (fabs(score) > fabs(s->score)) {
        s->score = score;
    }
    if (opt != NULL)
        task_symbol_add_option(t, s, opt, strlen(opt));
    return s;
}

struct task_symbol *task_insertf(struct task *t, const char *name, double multiplier,
                                 const char *optfmt, ...)
{
    char opt[TASK_OPTION_MAXLEN + 1];
    va_list ap;
    va_start(ap, optfmt);
    vsnprintf(opt, sizeof(opt), optfmt, ap);
    va_end(ap);
    return task_insert(t, name, multiplier, opt);
}

void task_set_passthrough(struct task *t, int action, double score, const char *message,
                          const char *module, bool least)
{
    /* The first non-least pre-result wins; a least one never replaces it. */
    if (t->passthrough != NULL && (!t->passthrough->least || least))
        return;
    struct task_passthrough *pt = ARENA_NEW(t->arena, struct task_passthrough);
    pt->action = action;
    pt->score = score;
    pt->message = message ? arena_strdup(t->arena, message) : NULL;
    pt->module = module ? arena_strdup(t->arena, module) : NULL;
    pt->least = least;
    t->passthrough = pt;
}

void task_set_message(struct task *t, const char *key, const char *value)
{
    for (struct task_kv *kv = t->messages; kv; kv = kv->next) {
        if (strcmp(kv->key, key) == 0) {
            kv->value = arena_strdup(t->arena, value);
            return;
        }
    }
    struct task_kv *kv = ARENA_NEW(t->arena, struct task_kv);
    kv->key = arena_strdup(t->arena, key);
    kv->value = arena_strdup(t->arena, value);
    kv->next = t->messages;
    t->messages = kv;
}

static void milter_header_append(struct task *t, struct task_milter_header *h)
{
    struct task_milter_header **pp = &t->milter_headers;
    while (*pp)
        pp = &(*pp)->next;
    *pp = h;
}

void task_add_milter_header(struct task *t, const char *name, const char *value, int order)
{
    struct task_milter_header *h = ARENA_NEW(t->arena, struct task_milter_header);
    h->name = arena_strdup(t->arena, name);
    h->value = arena_strdup(t->arena, value ? value : "");
    h->order = order;
    milter_header_append(t, h);
}

void task_remove_milter_header(struct task *t, const char *name, int instance)
{
    struct task_milter_header *h = ARENA_NEW(t->arena, struct task_milter_header);
    h->name = arena_strdup(t->arena, name);
    h->value = NULL;
    h->order = instance;
    milter_header_append(t, h);
}

/* ---- asynchronous completion ---- */

void task_async_begin(struct task *t, const char *name)
{
    if (t->npending_names % 8 == 0) {
        t->pending_names = arena_realloc(t->arena, t->pending_names,
                                         t->npending_names * sizeof(char *),
                                         (t->npending_names + 8) * sizeof(char *));
    }
    t->pending_names[t->npending_names++] = arena_strdup(t->arena, name ? name : "?");
    t->pending++;
}

static void task_complete(struct task *t)
{
    if (t->finished)
        return;
    t->finished = true;
    stop_timer(t);
    registry_remove(t->id);
    task_finalize(t);
    if (t->done != NULL)
        t->done(t, t->done_data);   /* may free t */
}

void task_set_idle_hook(struct task *t, task_idle_fn idle, void *data)
{
    t->idle = idle;
    t->idle_data = data;
}

/* Nothing pending: let the idle hook start more work; complete otherwise.
 * Lookups answered synchronously (cache hits) while the hook runs end with
 * in_idle set, so they do not re-enter; the loop re-checks pending itself. */
static void task_idle(struct task *t)
{
    while (t->idle != NULL && !t->timed_out) {
        t->in_idle = true;
        bool more = t->idle(t, t->idle_data);
        t->in_idle = false;
        if (!more) {
            t->idle = NULL;
            break;
        }
        if (t->pending > 0)
            return;   /* the new stage is waiting for lookups */
    }
    task_complete(t);   /* may free t */
}

void task_async_end(struct task *t, const char *name)
{
    ASSERT(t->pending > 0);
    t->pending--;
    for (size_t i = 0; name != NULL && i < t->npending_names; i++) {
        if (strcmp(t->pending_names[i], name) == 0) {
            t->pending_names[i] = t->pending_names[--t->npending_names];
            break;
        }
    }
    if (t->pending == 0 && t->done != NULL && !t->finished && !t->in_idle)
        task_idle(t);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct task_private *priv = w->data;
    struct task *t = priv->task;
    t->timed_out = true;
    struct task_symbol *s = task_insert(t, "TASK_TIMEOUT", 1.0, NULL);
    for (size_t i = 0; s != NULL && i < t->npending_names; i++)
        task_symbol_add_option(t, s, t->pending_names[i], strlen(t->pending_names[i]));
    log_task_warn(t, "task timeout after %.1fs, %u checks unfinished", t->timeout, t->pending);
    task_complete(t);
}

void task_wait(struct task *t, double timeout, task_done_fn done, void *data)
{
    t->done = done;
    t->done_data = data;
    t->timeout = timeout;
    /* The timer first: completion (below or later) stops it. */
    if (t->loop != NULL) {
        double left = timeout - task_elapsed(t);
        struct task_private *priv = ARENA_NEW(t->arena, struct task_private);
        priv->task = t;
        ev_timer_init(&priv->timer, timeout_cb, left > 0.001 ? left : 0.001, 0.0);
        priv->timer.data = priv;
        t->timer = priv;
        ev_timer_start(t->loop, &priv->timer);
    }
    if (t->pending == 0)
        task_idle(t);   /* may complete and free t: nothing after this */
}

/* ---- result ---- */

static const char *subject_render(struct task *t, const char *tmpl)
{
    const char *subj = t->subject ? t->subject : "";
    size_t cap = strlen(tmpl) + strlen(subj) + 64, n = 0;
    char *out = arena_alloc(t->arena, cap);
    for (const char *p = tmpl; *p && n + 1 < cap; p++) {
        if (p[0] == '%' && p[1] == 's') {
            size_t l = strlen(subj);
            if (n + l >= cap)
                break;
            memcpy(out + n, subj, l), n += l, p++;
        } else if (p[0] == '%' && p[1] == 'd') {
            n += (size_t)snprintf(out + n, cap - n, "%.2f", t->score), p++;
        } else if (p[0] == '%' && p[1] == '%') {
            out[n++] = '%', p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
    return out;
}

static double symbols_sum(const struct task *t)
{
    double sum = 0.0, gf = t->actions->grow_factor, mult = 1.0;
    for (const struct task_symbol *s = t->symbols; s; s = s->next) {
        if (s->score > 0 && gf > 1.0) {
            sum += s->score * mult;
            mult *= gf;
        } else {
            sum += s->score;
        }
    }
    return isfinite(sum) ? sum : 0.0;
}

void task_finalize(struct task *t)
{
    const struct actions *acts = t->actions;
    t->score = symbols_sum(t);
    t->action = actions_for_score(acts, t->score);
    const struct task_passthrough *pt = t->passthrough;
    if (pt != NULL && pt->action >= 0 && (size_t)pt->action < acts->n) {
        if (pt->least) {
            /* Floor: lower ids are more severe among the built-in ladder. */
            if (pt->action < t->action)
                t->action = pt->action;
        } else {
            t->action = pt->action;
            if (!isnan(pt->score))
                t->score = pt->action == ACTION_NO_ACTION ? fmin(pt->score, t->score) : pt->score;
        }
        if (pt->message != NULL) {
            bool have = false;
            for (const struct task_kv *kv = t->messages; kv; kv = kv->next)
                have |= strcmp(kv->key, "smtp_message") == 0;
            if (!have)
                task_set_message(t, "smtp_message", pt->message);
        }
    }
    t->new_subject = t->action == ACTION_REWRITE_SUBJECT
                         ? subject_render(t, acts->subject ? acts->subject : "*** SPAM *** %s")
                         : NULL;
}

double task_elapsed(const struct task *t)
{
    return now_monotonic() - t->start_time;
}
