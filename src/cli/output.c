/*
 * output: turns a parsed server reply into what winnowc prints.
 *
 * The text report copies rspamc 3.4 line for line (spec §6.3), because
 * scripts parse it: the order of lines, "%.2f" scores, symbols sorted by
 * name with their options in brackets, messages in reply order.  JSON output
 * re-emits the reply from the parse tree, numbers as the server wrote them.
 * Owns nothing beyond the buffer it appends to; never fails (a reply missing
 * a key just loses that line, as with rspamc).
 */
#include "cli/output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

void output_secs(struct buf *out, double secs)
{
    if (!isfinite(secs) || secs < 0)
        secs = 0;
    buf_printf(out, "%.3g", secs);
}

void output_results_line(struct buf *out, const char *kind, const char *name, double secs)
{
    buf_printf(out, "Results for %s: %s (", kind, name);
    output_secs(out, secs);
    buf_puts(out, " seconds)\n");
}

/* rspamc prints Spam: only for the six built-in actions (custom, discard and
 * quarantine get no line); the first four count as spam. */
static void output_spam_line(struct buf *out, const char *action)
{
    static const struct {
        const char *name;
        bool spam;
    } actions[] = {
        {"reject", true},   {"soft reject", true}, {"rewrite subject", true},
        {"add header", true}, {"greylist", false},  {"no action", false},
    };

    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(action, actions[i].name) == 0) {
            buf_printf(out, "Spam: %s\n", actions[i].spam ? "true" : "false");
            return;
        }
}

static int symbol_cmp(const void *a, const void *b)
{
    const struct jv *x = *(const struct jv *const *)a, *y = *(const struct jv *const *)b;
    return strcmp(x->key, y->key);
}

static void output_symbol(struct buf *out, const struct jv *sym)
{
    double score = 0;
    const struct jv *opts = jv_get(sym, "options");

    jv_num(jv_get(sym, "score"), &score);
    buf_printf(out, "Symbol: %s (%.2f)", sym->key, score);
    if (opts != NULL && opts->type == JV_ARR && opts->n > 0) {
        buf_putc(out, '[');
        for (const struct jv *o = opts->head; o != NULL; o = o->next) {
            if (o != opts->head)
                buf_puts(out, ", ");
            if (o->type == JV_STR || o->type == JV_NUM)
                buf_append(out, o->s, o->len);
        }
        buf_putc(out, ']');
    }
    buf_putc(out, '\n');
}

static void output_symbol_list(struct buf *out, const struct jv *symbols)
{
    const struct jv **v;
    size_t n = 0;

    if (symbols == NULL || symbols->type != JV_OBJ || symbols->n == 0)
        return;
    v = calloc(symbols->n, sizeof(*v));
    if (v == NULL)
        abort();
    for (const struct jv *s = symbols->head; s != NULL; s = s->next)
        v[n++] = s;
    qsort(v, n, sizeof(*v), symbol_cmp);
    for (size_t i = 0; i < n; i++)
        output_symbol(out, v[i]);
    free(v);
}

static void output_metric(struct buf *out, const struct jv *reply)
{
    const char *action = jv_str(jv_get(reply, "action"));
    const char *subject = jv_str(jv_get(reply, "subject"));
    double score, required;

    buf_puts(out, "[Metric: default]\n");
    if (action != NULL) {
        buf_printf(out, "Action: %s\n", action);
        output_spam_line(out, action);
    }
    if (subject != NULL)
        buf_printf(out, "Subject: %s\n", subject);
    if (jv_num(jv_get(reply, "score"), &score) &&
        jv_num(jv_get(reply, "required_score"), &required))
        buf_printf(out, "Score: %.2f / %.2f\n", score, required);
    output_symbol_list(out, jv_get(reply, "symbols"));
}

/* One "LABEL: string" line when key holds a string. */
static void output_str_line(struct buf *out, const struct jv *reply, const char *key,
                            const char *label)
{
    const struct jv *v = jv_get(reply, key);

    if (v != NULL && v->type == JV_STR) {
        buf_printf(out, "%s: ", label);
        buf_append(out, v->s, v->len);
        buf_putc(out, '\n');
    }
}

static void output_json_line(struct buf *out, const struct jv *reply, const char *key,
                             const char *label)
{
    const struct jv *v = jv_get(reply, key);

    if (v != NULL) {
        buf_printf(out, "%s: ", label);
        output_json(out, v, NULL, 0, false);
        buf_putc(out, '\n');
    }
}

static void output_trailer(struct buf *out, const struct jv *reply)
{
    const struct jv *messages = jv_get(reply, "messages");
    const struct jv *dkim = jv_get(reply, "dkim-signature");

    output_str_line(out, reply, "message-id", "Message-ID");
    output_str_line(out, reply, "queue-id", "Queue-ID");
    output_json_line(out, reply, "urls", "Urls");
    output_json_line(out, reply, "emails", "Emails");
    output_str_line(out, reply, "error", "Scan error");
    if (messages != NULL && messages->type == JV_OBJ)
        for (const struct jv *m = messages->head; m != NULL; m = m->next)
            if (m->type == JV_STR)
                buf_printf(out, "Message - %s: %s\n", m->key, m->s);
    if (dkim != NULL && dkim->type == JV_ARR) {
        for (const struct jv *d = dkim->head; d != NULL; d = d->next)
            if (d->type == JV_STR)
                buf_printf(out, "DKIM-Signature: %s\n", d->s);
    } else if (dkim != NULL && dkim->type == JV_STR) {
        buf_printf(out, "DKIM-Signature: %s\n", dkim->s);
    }
}

void output_symbols(struct buf *out, const struct jv *reply)
{
    output_metric(out, reply);
    output_trailer(out, reply);
    buf_putc(out, '\n');
}

/* UCL prints doubles as "%.1f" when integral, else "%f"; rspamc's added
 * scan_time follows it. */
static void output_double(struct buf *out, double d)
{
    if (d == floor(d) && fabs(d) < 1e15)
        buf_printf(out, "%.1f", d);
    else
        buf_printf(out, "%f", d);
}

static void indent(struct buf *out, bool pretty, int depth)
{
    if (pretty)
        for (int i = 0; i < depth; i++)
            buf_puts(out, "    ");
}

static void output_scalar_json(struct buf *out, const struct jv *v)
{
    switch (v->type) {
    case JV_NULL:
        buf_puts(out, "null");
        break;
    case JV_BOOL:
        buf_puts(out, v->b ? "true" : "false");
        break;
    case JV_NUM:
        buf_append(out, v->s, v->len);
        break;
    case JV_STR:
        json_escape(out, v->s, v->len);
        break;
    default:
        break;
    }
}

static void output_json_value(struct buf *out, const struct jv *v, bool pretty, int depth,
                              const char *filename, double scan_time)
{
    bool obj = v->type == JV_OBJ;
    bool meta = filename != NULL && depth == 0 && obj;

    if (v->type != JV_OBJ && v->type != JV_ARR) {
        output_scalar_json(out, v);
        return;
    }
    buf_putc(out, obj ? '{' : '[');
    for (const struct jv *c = v->head; c != NULL; c = c->next) {
        if (pretty)
            buf_putc(out, '\n');
        indent(out, pretty, depth + 1);
        if (obj) {
            json_escape(out, c->key, c->keylen);
            buf_puts(out, pretty ? ": " : ":");
        }
        output_json_value(out, c, pretty, depth + 1, NULL, 0);
        if (c->next != NULL || meta)
            buf_putc(out, ',');
    }
    if (meta) {
        if (pretty)
            buf_putc(out, '\n');
        indent(out, pretty, 1);
        buf_puts(out, pretty ? "\"filename\": " : "\"filename\":");
        json_escape(out, filename, strlen(filename));
        buf_putc(out, ',');
        if (pretty)
            buf_putc(out, '\n');
        indent(out, pretty, 1);
        buf_puts(out, pretty ? "\"scan_time\": " : "\"scan_time\":");
        output_double(out, scan_time);
    }
    if (pretty && (v->head != NULL || meta)) {
        buf_putc(out, '\n');
        indent(out, pretty, depth);
    }
    buf_putc(out, obj ? '}' : ']');
}

void output_json(struct buf *out, const struct jv *reply, const char *filename, double scan_time,
                 bool pretty)
{
    output_json_value(out, reply, pretty, 0, filename, scan_time);
}

static bool ucl_bare_key(const char *k, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void output_ucl_value(struct buf *out, const struct jv *v, int depth);

static void output_ucl_member(struct buf *out, const struct jv *c, int depth, bool in_array)
{
    indent(out, true, depth);
    if (!in_array) {
        if (ucl_bare_key(c->key, c->keylen))
            buf_append(out, c->key, c->keylen);
        else
            json_escape(out, c->key, c->keylen);
        buf_puts(out, c->type == JV_OBJ || c->type == JV_ARR ? " " : " = ");
    }
    output_ucl_value(out, c, depth);
    buf_puts(out, in_array ? ",\n" : (c->type == JV_OBJ || c->type == JV_ARR ? "\n" : ";\n"));
}

static void output_ucl_value(struct buf *out, const struct jv *v, int depth)
{
    if (v->type != JV_OBJ && v->type != JV_ARR) {
        output_scalar_json(out, v);
        return;
    }
    buf_puts(out, v->type == JV_OBJ ? "{\n" : "[\n");
    for (const struct jv *c = v->head; c != NULL; c = c->next)
        output_ucl_member(out, c, depth + 1, v->type == JV_ARR);
    indent(out, true, depth);
    buf_putc(out, v->type == JV_OBJ ? '}' : ']');
}

/* A top-level object is printed without braces, as UCL's config emitter does. */
void output_ucl(struct buf *out, const struct jv *reply, const char *filename, double scan_time)
{
    if (reply->type == JV_OBJ) {
        for (const struct jv *c = reply->head; c != NULL; c = c->next)
            output_ucl_member(out, c, 0, false);
    } else {
        output_ucl_value(out, reply, 0);
        buf_putc(out, '\n');
    }
    if (filename != NULL) {
        buf_puts(out, "filename = ");
        json_escape(out, filename, strlen(filename));
        buf_puts(out, ";\nscan_time = ");
        output_double(out, scan_time);
        buf_puts(out, ";\n");
    }
}

static double num_or_zero(const struct jv *obj, const char *key)
{
    double d = 0;

    jv_num(jv_get(obj, key), &d);
    return d;
}

static void stat_counter(struct buf *out, const struct jv *reply, const char *key,
                         const char *label)
{
    buf_printf(out, "%s: %.0f\n", label, num_or_zero(reply, key));
}

/* Action lines and spam/ham shares; rspamc prints them only when something
 * was scanned (no division by zero). */
static void stat_actions(struct buf *out, const struct jv *reply, double scanned)
{
    const struct jv *actions = jv_get(reply, "actions");

    if (scanned <= 0)
        return;
    if (actions != NULL && actions->type == JV_OBJ)
        for (const struct jv *a = actions->head; a != NULL; a = a->next)
            if (a->type == JV_NUM)
                buf_printf(out, "Messages with action %s: %.0f, %.2f%%\n", a->key, a->num,
                           a->num / scanned * 100.0);
    buf_printf(out, "Messages treated as spam: %.0f, %.2f%%\n", num_or_zero(reply, "spam_count"),
               num_or_zero(reply, "spam_count") / scanned * 100.0);
    buf_printf(out, "Messages treated as ham: %.0f, %.2f%%\n", num_or_zero(reply, "ham_count"),
               num_or_zero(reply, "ham_count") / scanned * 100.0);
}

static void stat_scan_time(struct buf *out, const struct jv *reply)
{
    const struct jv *times = jv_get(reply, "scan_times");
    double sum = 0;
    size_t n = 0;

    if (times == NULL || times->type != JV_ARR)
        return;
    for (const struct jv *t = times->head; t != NULL; t = t->next)
        if (t->type == JV_NUM && isfinite(t->num)) {
            sum += t->num;
            n++;
        }
    buf_printf(out, "Average scan time: %.3f sec\n", n > 0 ? sum / (double)n : 0.0);
}

static void stat_fuzzy(struct buf *out, const struct jv *reply)
{
    const struct jv *fuzzy = jv_get(reply, "fuzzy_hashes");
    double total = 0;

    if (fuzzy == NULL || fuzzy->type != JV_OBJ)
        return;
    for (const struct jv *f = fuzzy->head; f != NULL; f = f->next)
        if (f->type == JV_NUM) {
            buf_printf(out, "Fuzzy hashes in storage \"%s\": %.0f\n", f->key, f->num);
            total += f->num;
        }
    buf_printf(out, "Fuzzy hashes stored: %.0f\n", total);
}

static void stat_statfile(struct buf *out, const struct jv *st)
{
    const char *symbol = jv_str(jv_get(st, "symbol"));
    const char *label = jv_str(jv_get(st, "label"));
    const char *type = jv_str(jv_get(st, "type"));
    double used = num_or_zero(st, "used"), total = num_or_zero(st, "total");

    buf_printf(out, "Statfile: %s ", symbol != NULL ? symbol : "unknown");
    if (label != NULL)
        buf_printf(out, "<%s> ", label);
    buf_printf(out, "type: %s; length: %.0f; free blocks: %.0f; total blocks: %.0f; "
                    "free: %.2f%%; learned: %.0f; users: %.0f; languages: %.0f\n",
               type != NULL ? type : "unknown", num_or_zero(st, "size"), total - used, total,
               total > 0 ? (total - used) / total * 100.0 : 0.0, num_or_zero(st, "revision"),
               num_or_zero(st, "users"), num_or_zero(st, "languages"));
}

void output_stat(struct buf *out, const struct jv *reply)
{
    static const struct {
        const char *key, *label;
    } memory[] = {
        {"pools_allocated", "Pools allocated"},
        {"pools_freed", "Pools freed"},
        {"bytes_allocated", "Bytes allocated"},
        {"chunks_allocated", "Memory chunks allocated"},
        {"shared_chunks_allocated", "Shared chunks allocated"},
        {"chunks_freed", "Chunks freed"},
        {"chunks_oversized", "Oversized chunks"},
    };
    const struct jv *statfiles = jv_get(reply, "statfiles");
    double scanned = num_or_zero(reply, "scanned");

    buf_printf(out, "Messages scanned: %.0f\n", scanned);
    stat_actions(out, reply, scanned);
    stat_counter(out, reply, "learned", "Messages learned");
    stat_counter(out, reply, "connections", "Connections count");
    stat_counter(out, reply, "control_connections", "Control connections count");
    stat_scan_time(out, reply);
    for (size_t i = 0; i < sizeof(memory) / sizeof(memory[0]); i++)
        stat_counter(out, reply, memory[i].key, memory[i].label);
    stat_fuzzy(out, reply);
    if (statfiles != NULL && statfiles->type == JV_ARR)
        for (const struct jv *st = statfiles->head; st != NULL; st = st->next)
            stat_statfile(out, st);
    stat_counter(out, reply, "total_learns", "Total learns");
    buf_putc(out, '\n');
}
