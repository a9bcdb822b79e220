/*
 * authdns: the DNS glue and shared per-task record of the authentication
 * modules (see authdns.h).
 *
 * The restartable evaluators (SPF, DMARC) are driven here: every name they
 * ask for is looked up once per task through dns_task_query(), which keeps
 * the task waiting, counts against its lookup budget and drops replies for
 * tasks that are gone.  So a callback here always sees a live task, and all
 * state lives in the task's arena.
 *
 * The per-task data registry is a short list of the tasks in flight in this
 * worker process; each entry unlinks itself through an arena cleanup when
 * its task ends, so it never outlives the task.  It is linear: a worker has
 * a handful of tasks in flight, not thousands.
 */
#include "modules/authdns.h"

#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/dkim/dkim.h"

/* ---- per-task data ---- */

struct task_data {
    uint64_t task_id;
    const char *key;
    void *ptr;
    struct task_data *prev, *next;
};

static struct task_data *task_data_head;

static void task_data_unlink(void *p)
{
    struct task_data *d = p;
    if (d->prev != NULL)
        d->prev->next = d->next;
    else
        task_data_head = d->next;
    if (d->next != NULL)
        d->next->prev = d->prev;
}

static struct task_data *task_data_find(const struct task *t, const char *key)
{
    for (struct task_data *d = task_data_head; d != NULL; d = d->next)
        if (d->task_id == t->id && d->key == key)
            return d;
    return NULL;
}

void auth_task_data_set(struct task *t, const char *key, void *ptr)
{
    struct task_data *d = task_data_find(t, key);
    if (d == NULL) {
        d = ARENA_NEW(t->arena, struct task_data);
        d->task_id = t->id;
        d->key = key;
        d->next = task_data_head;
        if (task_data_head != NULL)
            task_data_head->prev = d;
        task_data_head = d;
        arena_cleanup_add(t->arena, task_data_unlink, d);
    }
    d->ptr = ptr;
}

void *auth_task_data_get(const struct task *t, const char *key)
{
    struct task_data *d = task_data_find(t, key);
    return d != NULL ? d->ptr : NULL;
}

static const char auth_results_key[] = "auth_results";

struct auth_results *auth_results_get(struct task *t)
{
    struct auth_results *r = auth_task_data_get(t, auth_results_key);
    if (r == NULL) {
        r = ARENA_NEW(t->arena, struct auth_results);
        auth_task_data_set(t, auth_results_key, r);
    }
    return r;
}

const struct auth_results *auth_results_peek(const struct task *t)
{
    return auth_task_data_get(t, auth_results_key);
}

/* ---- DNS ---- */

struct authdns_entry {
    const char *name;
    enum dns_type type;
    const struct dns_reply *reply;   /* NULL while pending */
    struct authdns *owner;
    struct authdns_entry *next;
};

struct authdns {
    struct task *task;               /* valid: replies for dead tasks are dropped */
    authdns_rerun_fn rerun;
    void *data;
    struct authdns_entry *entries;
    unsigned inflight;
    bool running, again;
};

static authdns_query_fn query_override;

void authdns_set_query_fn(authdns_query_fn fn)
{
    query_override = fn;
}

struct authdns *authdns_new(struct task *t, authdns_rerun_fn rerun, void *data)
{
    struct authdns *ad = ARENA_NEW(t->arena, struct authdns);
    ad->task = t;
    ad->rerun = rerun;
    ad->data = data;
    return ad;
}

static void entry_answered(struct task *t, const struct dns_reply *rep, void *data)
{
    struct authdns_entry *e = data;
    struct authdns *ad = e->owner;
    (void)t;
    e->reply = rep;
    if (--ad->inflight == 0)
        authdns_run(ad);
}

static void start_query(struct task *t, const char *name, enum dns_type type,
                        struct authdns_entry *e)
{
    if (query_override != NULL) {
        query_override(t, name, type, entry_answered, e);
        return;
    }
    struct dns_resolver *r = dns_default();
    if (r == NULL) {
        static const struct dns_reply none = {DNS_TEMPFAIL, 0, NULL, NULL, 0, 0, "no resolver"};
        entry_answered(t, &none, e);
        return;
    }
    dns_task_query(r, t, name, type, entry_answered, e);
}

const struct dns_reply *authdns_lookup(struct authdns *ad, const char *name, enum dns_type type)
{
    for (struct authdns_entry *e = ad->entries; e != NULL; e = e->next)
        if (e->type == type && strcasecmp(e->name, name) == 0)
            return e->reply;
    struct authdns_entry *e = ARENA_NEW(ad->task->arena, struct authdns_entry);
    e->name = arena_strdup(ad->task->arena, name);
    e->type = type;
    e->owner = ad;
    e->next = ad->entries;
    ad->entries = e;
    ad->inflight++;
    start_query(ad->task, e->name, type, e);
    /* A cached answer arrives synchronously: hand it out right away. */
    return e->reply;
}

void authdns_run(struct authdns *ad)
{
    if (ad->running) {
        ad->again = true;
        return;
    }
    ad->running = true;
    do {
        ad->again = false;
        ad->rerun(ad->task, ad->data);
    } while (ad->again && ad->inflight == 0);
    ad->running = false;
}

void authdns_txt_arrays(struct task *t, const struct dns_reply *rep, const char ***strs_r,
                        size_t **lens_r, size_t *n_r)
{
    size_t n = rep != NULL && rep->status == DNS_OK ? rep->n : 0;
    const char **s = ARENA_NEW_N(t->arena, const char *, n + 1);
    size_t *l = ARENA_NEW_N(t->arena, size_t, n + 1);
    for (size_t i = 0; i < n; i++) {
        s[i] = rep->rrs[i].v.txt.s;
        l[i] = rep->rrs[i].v.txt.len;
    }
    *strs_r = s;
    *lens_r = l;
    *n_r = n;
}

const char *auth_addr_domain(struct task *t, const char *addr)
{
    const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
    if (at == NULL || at[1] == '\0')
        return NULL;
    char *d = arena_strdup(t->arena, at + 1);
    size_t len = strlen(d);
    while (len > 0 && (d[len - 1] == '>' || d[len - 1] == '.'))
        d[--len] = '\0';
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return len > 0 ? d : NULL;
}

/* ---- outbound mail ---- */

static int outbound_flag(const struct conf_obj *section, const struct conf_obj *opts,
                         const char *key, bool *v_r, const char **error_r)
{
    if (conf_get_bool(opts, key, false, v_r, error_r) < 0)
        return -1;
    return conf_get_bool(section, key, *v_r, v_r, error_r);
}

int auth_outbound_configure(const struct conf_obj *section, const struct config *config,
                            struct auth_outbound *ob, const char **error_r)
{
    const struct conf_obj *opts = config != NULL ? config_section(config, "options") : NULL;
    ob->config = config;
    if (outbound_flag(section, opts, "check_local", &ob->check_local, error_r) < 0 ||
        outbound_flag(section, opts, "check_authed", &ob->check_authed, error_r) < 0)
        return -1;
    return 0;
}

bool auth_outbound_skip(const struct task *t, const struct auth_outbound *ob)
{
    if (!ob->check_authed && t->env.user != NULL && t->env.user[0] != '\0')
        return true;
    if (!ob->check_local && ob->config != NULL && t->env.ip.family != 0 &&
        config_is_local_addr(ob->config, &t->env.ip))
        return true;
    return false;
}

/* ---- Authentication-Results ---- */

struct ar_map {
    const char *symbol, *method, *result;
};

/* Symbol -> method=result, in the order the field lists them. */
static const struct ar_map ar_symbols[] = {
    {"R_DKIM_ALLOW", "dkim", "pass"},       {"R_DKIM_REJECT", "dkim", "fail"},
    {"R_DKIM_PERMFAIL", "dkim", "permerror"}, {"R_DKIM_TEMPFAIL", "dkim", "temperror"},
    {"R_SPF_ALLOW", "spf", "pass"},         {"R_SPF_FAIL", "spf", "fail"},
    {"R_SPF_SOFTFAIL", "spf", "softfail"},  {"R_SPF_NEUTRAL", "spf", "neutral"},
    {"R_SPF_NA", "spf", "none"},            {"R_SPF_DNSFAIL", "spf", "temperror"},
    {"R_SPF_PERMFAIL", "spf", "permerror"},
    {"DMARC_POLICY_ALLOW", "dmarc", "pass"}, {"DMARC_POLICY_ALLOW_WITH_FAILURES", "dmarc", "pass"},
    {"DMARC_POLICY_REJECT", "dmarc", "fail"}, {"DMARC_POLICY_QUARANTINE", "dmarc", "fail"},
    {"DMARC_POLICY_SOFTFAIL", "dmarc", "fail"}, {"DMARC_NA", "dmarc", "none"},
    {"DMARC_BAD_POLICY", "dmarc", "permerror"}, {"DMARC_DNSFAIL", "dmarc", "temperror"},
    {"ARC_ALLOW", "arc", "pass"},           {"ARC_REJECT", "arc", "fail"},
    {"ARC_INVALID", "arc", "fail"},         {"ARC_DNSFAIL", "arc", "temperror"},
};

/* A property value goes in only when it is a plain token (RFC 8601 allows
 * quoting, but a peer's odd bytes are better left out than escaped). */
static bool ar_token(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 255)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(".-_@+=", *p) != NULL))
            return false;
    return true;
}

static void ar_dkim(struct buf *b, const struct task_symbol *s, const char *result)
{
    for (size_t i = 0; i < (s->noptions ? s->noptions : 1); i++) {
        const char *o = s->noptions ? s->options[i] : NULL;
        const char *sel = o != NULL ? strstr(o, ":s=") : NULL;
        buf_printf(b, "; dkim=%s", result);
        if (o != NULL && sel != NULL)
            buf_printf(b, " header.d=%.*s header.s=%s", (int)(sel - o), o, sel + 3);
        else if (ar_token(o))
            buf_printf(b, " header.d=%s", o);
    }
}

static void ar_one(struct buf *b, const struct task *t, const struct task_symbol *s,
                   const struct ar_map *m)
{
    if (strcmp(m->method, "dkim") == 0) {
        ar_dkim(b, s, m->result);
        return;
    }
    /* Pieces, not "%s=%s": GCC 12 with the sanitizers wrongly warns that the
     * table's strings may be null (-Wformat-overflow). */
    buf_puts(b, "; ");
    buf_puts(b, m->method);
    buf_putc(b, '=');
    buf_puts(b, m->result);
    if (strcmp(m->method, "spf") == 0) {
        if (t->env.from != NULL && t->env.from[0] != '\0' && ar_token(t->env.from))
            buf_printf(b, " smtp.mailfrom=%s", t->env.from);
        else if (ar_token(t->env.helo))
            buf_printf(b, " smtp.helo=%s", t->env.helo);
    } else if (strcmp(m->method, "dmarc") == 0 && s->noptions > 0 && ar_token(s->options[0])) {
        buf_printf(b, " header.from=%s", s->options[0]);
    }
}

const char *auth_results_header(struct task *t, const char *authserv_id)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, authserv_id != NULL ? authserv_id : "localhost");
    size_t head = b.len;
    for (size_t i = 0; i < sizeof(ar_symbols) / sizeof(ar_symbols[0]); i++) {
        const struct task_symbol *s = task_find_symbol(t, ar_symbols[i].symbol);
        if (s != NULL)
            ar_one(&b, t, s, &ar_symbols[i]);
    }
    if (b.len == head)
        buf_puts(&b, "; none");
    const char *out = arena_strndup(t->arena, b.data, b.len);
    buf_free(&b);
    return out;
}

struct dkim_header *auth_dkim_headers(struct task *t, size_t *n_r)
{
    const struct message *m = t->msg;
    struct dkim_header *h = ARENA_NEW_N(t->arena, struct dkim_header, m->nheaders + 1);
    size_t n = 0;
    for (const struct mime_header *mh = m->headers; mh != NULL && n < m->nheaders; mh = mh->next)
        h[n++] = (struct dkim_header){mh->raw, mh->raw_len, mh->name_len};
    *n_r = n;
    return h;
}
