/*
 * The scan protocol's reply side: a finished task written as the v2 JSON of
 * /checkv2 (spec §2.4), the v1 JSON of /check and friends (§2.5), and the
 * legacy RSPAMC and SPAMC line replies (§2.6), byte for byte as Rspamd 3.4
 * writes them, since Exim and the Haraka/OpenSMTPD filters parse them.
 *
 * Owns nothing; reads the task and appends to the caller's buffer.  Key
 * order follows Rspamd's (clients should not care, but diffs against a real
 * Rspamd reply stay readable).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/symbols.h"
#include "core/task.h"
#include "proto/scan.h"

static const char *action_name(const struct task *t)
{
    if (t->actions == NULL || t->action < 0 || (size_t)t->action >= t->actions->n ||
        t->actions->a[t->action].name == NULL)
        return "no action";
    return t->actions->a[t->action].name;
}

static const char *action_milter(const struct task *t)
{
    if (t->actions == NULL || t->action < 0 || (size_t)t->action >= t->actions->n)
        return NULL;
    return t->actions->a[t->action].milter;
}

static double required_score(const struct task *t)
{
    return t->actions ? actions_required_score(t->actions) : 0.0;
}

static bool task_is_spam(const struct task *t)
{
    return t->actions ? actions_is_spam(t->actions, t->action) : false;
}

static bool symbol_hidden(const struct task_symbol *s)
{
    return s->def != NULL && (s->def->flags & SYMBOL_IGNORE);
}

/* %.2f without the "-0.00" a tiny negative would print. */
static double fix_zero(double v)
{
    if (!isfinite(v) || fabs(v) < 0.005)
        return 0.0;
    return v;
}

/* ---- JSON pieces ---- */

static void write_symbol(struct json_writer *w, const struct task_symbol *s, bool v2)
{
    json_key(w, s->name);
    json_obj_begin(w);
    json_key(w, "name");
    json_str(w, s->name);
    json_key(w, "score");
    json_double(w, s->score);
    if (v2) {
        json_key(w, "metric_score");
        json_double(w, s->metric_score);
    }
    if (s->def != NULL && s->def->description != NULL) {
        json_key(w, "description");
        json_str(w, s->def->description);
    }
    if (s->noptions > 0 && s->options != NULL) {
        json_key(w, "options");
        json_arr_begin(w);
        for (size_t i = 0; i < s->noptions && s->options[i] != NULL; i++)
            json_str(w, s->options[i]);
        json_arr_end(w);
    }
    json_obj_end(w);
}

static void write_symbols(struct json_writer *w, const struct task *t, bool v2)
{
    for (const struct task_symbol *s = t->symbols; s != NULL; s = s->next)
        if (!symbol_hidden(s))
            write_symbol(w, s, v2);
}

/* Flags: groups (spec §2.4): group -> {score} summed over the shown
 * symbols, groups in order of first appearance.  The symbol table keeps no
 * group descriptions, so none are written. */
static void write_groups(struct json_writer *w, const struct task *t)
{
    json_key(w, "groups");
    json_obj_begin(w);
    for (const struct task_symbol *s = t->symbols; s != NULL; s = s->next) {
        if (symbol_hidden(s) || s->def == NULL || s->def->group == NULL)
            continue;
        bool seen = false;
        for (const struct task_symbol *c = t->symbols; c != s && !seen; c = c->next)
            seen = !symbol_hidden(c) && c->def != NULL && c->def->group != NULL &&
                   strcmp(c->def->group, s->def->group) == 0;
        if (seen)
            continue;
        double sum = 0.0;
        for (const struct task_symbol *c = s; c != NULL; c = c->next)
            if (!symbol_hidden(c) && c->def != NULL && c->def->group != NULL &&
                strcmp(c->def->group, s->def->group) == 0)
                sum += c->score;
        json_key(w, s->def->group);
        json_obj_begin(w);
        json_key(w, "score");
        json_double(w, sum);
        json_obj_end(w);
    }
    json_obj_end(w);
}

/* task_set_message() prepends; write in the order the modules set them. */
static void write_messages(struct json_writer *w, const struct task_kv *kv)
{
    if (kv == NULL)
        return;
    write_messages(w, kv->next);
    json_key(w, kv->key);
    json_str(w, kv->value);
}

static void write_str_array(struct json_writer *w, const char *key, const char **arr)
{
    if (arr == NULL || arr[0] == NULL)
        return;
    json_key(w, key);
    json_arr_begin(w);
    for (size_t i = 0; arr[i] != NULL; i++)
        json_str(w, arr[i]);
    json_arr_end(w);
}

static void write_dkim(struct json_writer *w, const char **sigs)
{
    if (sigs == NULL || sigs[0] == NULL)
        return;
    json_key(w, "dkim-signature");
    if (sigs[1] == NULL) {
        json_str(w, sigs[0]);
        return;
    }
    json_arr_begin(w);
    for (size_t i = 0; sigs[i] != NULL; i++)
        json_str(w, sigs[i]);
    json_arr_end(w);
}

/* True if an earlier entry of the same kind (add/remove) has this name, so
 * the name was already written. */
static bool seen_before(const struct task_milter_header *list, const struct task_milter_header *h)
{
    for (const struct task_milter_header *c = list; c != h; c = c->next)
        if ((c->value != NULL) == (h->value != NULL) && strcasecmp(c->name, h->name) == 0)
            return true;
    return false;
}

static void write_add_value(struct json_writer *w, const struct task_milter_header *h)
{
    json_obj_begin(w);
    json_key(w, "value");
    json_str(w, h->value);
    json_key(w, "order");
    json_int(w, h->order);
    json_obj_end(w);
}

/* name -> {value, order}, or an array of those when a name is added twice. */
static void write_adds(struct json_writer *w, const struct task_milter_header *list)
{
    json_key(w, "add_headers");
    json_obj_begin(w);
    for (const struct task_milter_header *h = list; h != NULL; h = h->next) {
        if (h->value == NULL || seen_before(list, h))
            continue;
        size_t n = 0;
        for (const struct task_milter_header *c = h; c != NULL; c = c->next)
            n += c->value != NULL && strcasecmp(c->name, h->name) == 0;
        json_key(w, h->name);
        if (n > 1)
            json_arr_begin(w);
        for (const struct task_milter_header *c = h; c != NULL; c = c->next)
            if (c->value != NULL && strcasecmp(c->name, h->name) == 0)
                write_add_value(w, c);
        if (n > 1)
            json_arr_end(w);
    }
    json_obj_end(w);
}

/* name -> instance; a name removed twice keeps the last instance asked for. */
static void write_removes(struct json_writer *w, const struct task_milter_header *list)
{
    json_key(w, "remove_headers");
    json_obj_begin(w);
    for (const struct task_milter_header *h = list; h != NULL; h = h->next) {
        if (h->value != NULL || seen_before(list, h))
            continue;
        int instance = h->order;
        for (const struct task_milter_header *c = h->next; c != NULL; c = c->next)
            if (c->value == NULL && strcasecmp(c->name, h->name) == 0)
                instance = c->order;
        json_key(w, h->name);
        json_int(w, instance);
    }
    json_obj_end(w);
}

static void write_milter(struct json_writer *w, const struct task *t, const char *key)
{
    bool adds = false, removes = false;
    for (const struct task_milter_header *h = t->milter_headers; h != NULL; h = h->next) {
        adds |= h->value != NULL;
        removes |= h->value == NULL;
    }
    if (!adds && !removes)
        return;
    json_key(w, key);
    json_obj_begin(w);
    if (adds)
        write_adds(w, t->milter_headers);
    if (removes)
        write_removes(w, t->milter_headers);
    json_obj_end(w);
}

/* is_skipped .. [subject]: the metric head shared by v1 and v2. */
static void write_metric_head(struct json_writer *w, const struct task *t)
{
    json_key(w, "is_skipped");
    json_bool(w, t->is_skipped);
    json_key(w, "score");
    json_double(w, t->score);
    json_key(w, "required_score");
    json_double(w, required_score(t));
    json_key(w, "action");
    json_str(w, action_name(t));
    if (t->action == ACTION_REWRITE_SUBJECT && t->new_subject != NULL) {
        json_key(w, "subject");
        json_str(w, t->new_subject);
    }
}

/* messages .. time_real, then dkim-signature: the tail shared by v1 and v2. */
static void write_tail(struct json_writer *w, const struct task *t)
{
    json_key(w, "messages");
    json_obj_begin(w);
    write_messages(w, t->messages);
    json_obj_end(w);
    write_str_array(w, "urls", t->urls);
    write_str_array(w, "emails", t->emails);
    json_key(w, "message-id");
    json_str(w, t->message_id ? t->message_id : "undef");
    json_key(w, "time_real");
    json_double(w, task_elapsed(t));
    write_dkim(w, t->dkim_signatures);
}

void scan_reply_v2(const struct task *task, struct buf *out)
{
    struct json_writer w;
    json_init(&w, out, false);
    json_obj_begin(&w);
    write_metric_head(&w, task);
    const char *milter = action_milter(task);
    if (milter != NULL) {
        json_key(&w, "reject");
        json_str(&w, milter);
    }
    json_key(&w, "symbols");
    json_obj_begin(&w);
    write_symbols(&w, task, true);
    json_obj_end(&w);
    if (task->flags & TASK_GROUPS)
        write_groups(&w, task);
    write_tail(&w, task);
    write_milter(&w, task, "milter");
    json_obj_end(&w);
}

void scan_reply_v1(const struct task *task, struct buf *out)
{
    struct json_writer w;
    json_init(&w, out, false);
    json_obj_begin(&w);
    json_key(&w, "default");
    json_obj_begin(&w);
    json_key(&w, "is_spam");
    json_bool(&w, task_is_spam(task));
    write_metric_head(&w, task);
    write_symbols(&w, task, false);
    json_obj_end(&w);
    write_tail(&w, task);
    write_milter(&w, task, "rmilter");
    json_obj_end(&w);
}

/* ---- legacy line protocols ---- */

/* Messages in module order, one line each (RSPAMC). */
static void rspamc_messages(struct buf *out, const struct task_kv *kv)
{
    if (kv == NULL)
        return;
    rspamc_messages(out, kv->next);
    buf_printf(out, "Message: %s\r\n", kv->value);
}

void scan_reply_rspamc(const struct task *task, struct buf *out)
{
    /* 3.4 always prints False here (is_spam only exists on the v1 path);
     * Exim reads only the numbers and the Action line. */
    buf_puts(out, "RSPAMD/1.3 0 EX_OK\r\n");
    buf_printf(out, "Metric: default; False; %.2f / %.2f / 0.0\r\n", fix_zero(task->score),
               fix_zero(required_score(task)));
    buf_printf(out, "Action: %s\r\n", action_name(task));
    if (task->action == ACTION_REWRITE_SUBJECT && task->new_subject != NULL)
        buf_printf(out, "Subject: %s\r\n", task->new_subject);
    for (const struct task_symbol *s = task->symbols; s != NULL; s = s->next)
        if (!symbol_hidden(s))
            buf_printf(out, "Symbol: %s(%.2f)\r\n", s->name, fix_zero(s->score));
    rspamc_messages(out, task->messages);
    buf_printf(out, "Message-ID: %s\r\n", task->message_id ? task->message_id : "undef");
}

void scan_reply_spamc(const struct task *task, struct buf *out)
{
    struct buf body = BUF_INIT;
    /* Like RSPAMC, 3.4 always says False. */
    buf_printf(&body, "Spam: False ; %.2f / %.2f\r\n\r\n", fix_zero(task->score),
               fix_zero(required_score(task)));
    bool first = true;
    for (const struct task_symbol *s = task->symbols; s != NULL; s = s->next) {
        if (symbol_hidden(s))
            continue;
        if (!first)
            buf_putc(&body, ',');
        buf_puts(&body, s->name);
        first = false;
    }
    buf_puts(&body, "\r\n");
    buf_printf(out, "SPAMD/1.1 0 EX_OK\r\nContent-length: %zu\r\n", body.len);
    buf_append(out, body.data, body.len);
    buf_free(&body);
}
