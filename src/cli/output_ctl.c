/*
 * winnowc's history table and learning progress (output_ctl.h).
 *
 * The table reads rows in the shape the history module stores (Rspamd's
 * history_redis v2 rows): unix_time, action, score, required_score, ip,
 * sender_smtp/sender_mime, rcpt_smtp/rcpt_mime, subject, message-id,
 * symbols.  Missing or mistyped fields print as "-" rather than stopping
 * the table: the rows come from a server.  Long fields are cut to their
 * column (on a UTF-8 character boundary) so one row stays one line.
 */
#include "cli/output_ctl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Appends s cut to `width` display columns (counting UTF-8 characters), padded. */
static void put_cell(struct buf *out, const char *s, size_t width, bool pad)
{
    size_t cols = 0, i = 0, len = s ? strlen(s) : 0, last = out->len;

    if (s == NULL || len == 0)
        s = "-", len = 1;
    while (i < len && cols < width) {
        unsigned char ch = (unsigned char)s[i];
        size_t n = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
        if (i + n > len)
            break;
        last = out->len;
        if (ch < 0x20 || ch == 0x7f)
            buf_putc(out, '?');              /* no control characters on the terminal */
        else
            buf_append(out, s + i, n);
        i += n;
        cols++;
    }
    if (i < len && cols > 0) {               /* cut: the last character becomes '~' */
        out->len = last;
        buf_putc(out, '~');
    }
    while (pad && cols++ < width)
        buf_putc(out, ' ');
    if (pad)
        buf_putc(out, ' ');
}

static const char *first_str(const struct jv *v)
{
    if (v != NULL && v->type == JV_ARR)
        v = v->head;
    return jv_str(v);
}

static const char *row_from(const struct jv *row)
{
    const char *s = jv_str(jv_get(row, "sender_smtp"));
    return s != NULL && s[0] != '\0' ? s : jv_str(jv_get(row, "sender_mime"));
}

static const char *row_rcpt(const struct jv *row, char *tmp, size_t tmpsz)
{
    const struct jv *list = jv_get(row, "rcpt_smtp");
    const char *s = first_str(list);

    if (s == NULL || s[0] == '\0')
        s = first_str(list = jv_get(row, "rcpt_mime"));
    if (s != NULL && list != NULL && list->type == JV_ARR && list->n > 1) {
        snprintf(tmp, tmpsz, "%s +%zu", s, list->n - 1);
        return tmp;
    }
    return s;
}

static void row_time(const struct jv *row, char *out, size_t outsz)
{
    double t;
    struct tm tm;
    time_t tt;

    if (!jv_num(jv_get(row, "unix_time"), &t) || !isfinite(t) || t < 0 || t > 4e12) {
        snprintf(out, outsz, "-");
        return;
    }
    tt = (time_t)t;
    if (localtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(out, outsz, "-");
}

static void row_score(const struct jv *row, char *out, size_t outsz)
{
    double s, r;

    if (!jv_num(jv_get(row, "score"), &s))
        snprintf(out, outsz, "-");
    else if (jv_num(jv_get(row, "required_score"), &r))
        snprintf(out, outsz, "%.2f/%.2f", s, r);
    else
        snprintf(out, outsz, "%.2f", s);
}

static void row_symbols(struct buf *out, const struct jv *row)
{
    const struct jv *syms = jv_get(row, "symbols");
    size_t n = 0;

    buf_puts(out, "    symbols: ");
    for (const struct jv *s = syms && syms->type == JV_OBJ ? syms->head : NULL; s; s = s->next) {
        double score = 0;
        jv_num(jv_get(s, "score"), &score);
        buf_puts(out, n++ ? ", " : "");
        put_cell(out, s->key, 64, false);
        buf_printf(out, "(%.2f)", score);
    }
    buf_puts(out, n ? "\n" : "-\n");
}

static void history_row(struct buf *out, const struct jv *row, bool verbose)
{
    char when[32], score[48], rcpt[320];

    row_time(row, when, sizeof(when));
    row_score(row, score, sizeof(score));
    put_cell(out, when, 19, true);
    put_cell(out, jv_str(jv_get(row, "action")), 15, true);
    put_cell(out, score, 13, true);
    put_cell(out, jv_str(jv_get(row, "ip")), 15, true);
    put_cell(out, row_from(row), 24, true);
    put_cell(out, row_rcpt(row, rcpt, sizeof(rcpt)), 24, true);
    put_cell(out, jv_str(jv_get(row, "subject")), 40, false);
    buf_putc(out, '\n');
    if (verbose) {
        buf_puts(out, "    message-id: ");
        put_cell(out, jv_str(jv_get(row, "message-id")), 200, false);
        buf_putc(out, '\n');
        row_symbols(out, row);
    }
}

void output_history(struct buf *out, const struct jv *reply, bool verbose)
{
    const struct jv *rows = reply != NULL && reply->type == JV_OBJ ? jv_get(reply, "rows") : reply;
    size_t n = 0;

    buf_printf(out, "%-19s %-15s %-13s %-15s %-24s %-24s %s\n", "Time", "Action", "Score", "IP",
               "From", "Rcpt", "Subject");
    for (const struct jv *r = rows && rows->type == JV_ARR ? rows->head : NULL; r; r = r->next) {
        if (r->type != JV_OBJ)
            continue;
        history_row(out, r, verbose);
        n++;
    }
    buf_printf(out, "%zu row%s\n\n", n, n == 1 ? "" : "s");
}

void output_progress(struct buf *out, size_t done, size_t total, size_t width)
{
    char count[64];
    size_t bar, fill;

    snprintf(count, sizeof(count), " %zu/%zu", done, total);
    bar = width > strlen(count) + 12 ? width - strlen(count) - 3 : 10;
    if (bar > 50)
        bar = 50;
    fill = total > 0 ? bar * (done > total ? total : done) / total : bar;
    buf_putc(out, '[');
    for (size_t i = 0; i < bar; i++)
        buf_putc(out, i < fill ? '#' : '.');
    buf_putc(out, ']');
    buf_puts(out, count);
}

const char *output_learn_error(const struct jv *reply)
{
    return jv_str(jv_get(reply, "error"));
}
