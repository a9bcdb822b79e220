/*
 * mime_types: heuristics on the MIME structure and the text parts: the
 * content-type verdicts of Rspamd's mime_types plugin (MIME_GOOD,
 * MIME_UNKNOWN, MIME_BAD, MIME_TRACE and the dangerous attachment
 * extensions), HTML-only and alternative-without-text messages, base64 text,
 * transfer encodings and charsets that lie about the content, broken
 * Content-Type values, words mixing Latin with Cyrillic or Greek letters,
 * text and HTML alternatives that say different things, and HTML that is
 * an image with next to no text.
 *
 * Owns its configuration (the bad extension table, thresholds).  Reads
 * task->msg only.  Limits: word comparisons look at the first 256 words of
 * each alternative; script mixing is judged on Latin, Greek and Cyrillic.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/str.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/heur.h"
#include "modules/module.h"

struct bad_ext {
    const char *ext;
    double weight;
};

struct mime_types_ctx {
    struct bad_ext *bad;
    size_t nbad;
    double mixed_threshold;
};

#define MT "mime_types"
#define H "headers"

static const struct symbol_def mime_types_symbols[] = {
    {"MIME_GOOD", -0.1, MT, "Known content types (options: types)", 0},
    {"MIME_UNKNOWN", 0.1, MT, "Unknown content types (options: types)", 0},
    {"MIME_BAD", 1.0, MT, "Dangerous content types (options: types)", 0},
    {"MIME_TRACE", 0.0, MT, "MIME structure: part index and verdict (+ good, ~ unknown, - bad)", 0},
    {"MIME_BAD_EXTENSION", 1.0, MT, "Attachment with a dangerous extension (option: ext)", 0},
    {"MIME_DOUBLE_BAD_EXTENSION", 3.0, MT, "Attachment name hides a dangerous extension (x.pdf.exe)", 0},
    {"MIME_HTML_ONLY", 0.2, H, "Message has only HTML text", 0},
    {"MIME_MA_MISSING_TEXT", 2.0, H, "multipart/alternative without a text/plain part", 0},
    {"MIME_MA_MISSING_HTML", 1.0, H, "multipart/alternative without a text/html part", 0},
    {"MIME_BASE64_TEXT", 0.1, H, "A text part is base64-encoded", 0},
    {"MIME_BASE64_TEXT_BOGUS", 1.0, H, "A base64 text part holds only 7-bit text", 0},
    {"HAS_ATTACHMENT", 0.0, H, "Message has attachments", 0},
    {"CTYPE_MIXED_BOGUS", 0.1, H, "multipart/mixed with fewer than 3 parts in total", 0},
    {"BROKEN_CONTENT_TYPE", 1.5, H, "A part has a malformed Content-Type", 0},
    {"MIME_HEADER_CTYPE_ONLY", 2.0, H, "Content-Type without any other MIME header", 0},
    {"R_BAD_CTE_7BIT", 3.0, H, "Text declared 7bit contains 8-bit bytes", 0},
    {"R_MISSING_CHARSET", 2.5, H, "8-bit text without a declared charset", 0},
    {"R_BAD_CHARSET", 0.5, H, "A text part declares an unknown charset (option)", 0},
    {"R_MIXED_CHARSET", 5.0, H, "Words mix Latin with Cyrillic or Greek letters (option: ratio)", 0},
    {"R_PARTS_DIFFER", 1.0, H, "Text and HTML alternatives differ a lot (option: percent)", 0},
    {"R_EMPTY_IMAGE", 2.0, H, "HTML part is an image with almost no text", 0},
};

#undef MT
#undef H

/* Rspamd's default bad_extensions (mime_types plugin), plus script hosts. */
static const struct bad_ext default_bad_ext[] = {
    {"bat", 2}, {"com", 2}, {"exe", 1}, {"iso", 4}, {"jar", 2}, {"lnk", 4}, {"scr", 4},
    {"htm", 4}, {"html", 4}, {"shtm", 4}, {"shtml", 4}, {"vbs", 4}, {"wsf", 4}, {"hta", 4},
    {"pif", 4}, {"cpl", 4}, {"js", 2},
};

/* Extensions a "double extension" lure pretends to be. */
static const char *const lure_ext[] = {
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf", "jpg", "jpeg", "png",
    "gif", "zip", "rar", "mp3", "mp4", "avi", "mov", "htm", "html", NULL,
};

static const char *const good_types[] = {
    "text/plain", "text/html", "text/calendar", "text/rfc822-headers", "text/enriched",
    "message/rfc822", "message/delivery-status", "message/disposition-notification",
    "application/pgp-signature", "application/pgp-encrypted", "application/pkcs7-signature",
    "application/x-pkcs7-signature", "application/pgp-keys", NULL,
};

static const char *const bad_types[] = {
    "application/x-msdownload", "application/x-ms-dos-executable", "application/x-msdos-program",
    "application/x-dosexec", "application/hta", "application/x-ms-shortcut", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcasecmp(list[i], s) == 0)
            return true;
    return false;
}

/* ---- content types ---- */

static char part_verdict(const struct mime_part *p, const char *ct)
{
    if (p->is_multipart || p->type_missing)
        return '+';
    if (in_list(bad_types, ct))
        return '-';
    return in_list(good_types, ct) ? '+' : '~';
}

static const struct bad_ext *bad_ext_find(const struct mime_types_ctx *ctx, const char *ext,
                                          size_t len)
{
    for (size_t i = 0; i < ctx->nbad; i++)
        if (str_ieq_cstr(ext, len, ctx->bad[i].ext))
            return &ctx->bad[i];
    return NULL;
}

static void check_filename(struct task *task, const struct mime_types_ctx *ctx, const char *name)
{
    size_t len = strlen(name);
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '.'))
        len--;
    const char *dot = NULL, *prev = NULL;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.') {
            prev = dot;
            dot = name + i;
        }
    if (dot == NULL)
        return;
    const char *ext = dot + 1;
    size_t elen = len - (size_t)(ext - name);
    const struct bad_ext *b = bad_ext_find(ctx, ext, elen);
    if (b == NULL || b->weight <= 0)
        return;
    if (prev != NULL) {
        char lure[16];
        size_t llen = (size_t)(dot - prev - 1);
        if (llen > 0 && llen < sizeof(lure)) {
            memcpy(lure, prev + 1, llen);
            lure[llen] = '\0';
            if (in_list(lure_ext, lure)) {
                task_insertf(task, "MIME_DOUBLE_BAD_EXTENSION", 1.0, ".%s.%.*s", lure, (int)elen,
                             ext);
                return;
            }
        }
    }
    task_insertf(task, "MIME_BAD_EXTENSION", b->weight, "%.*s", (int)elen, ext);
}

static void check_types(struct task *task, const struct mime_types_ctx *ctx,
                        const struct message *msg)
{
    struct task_symbol *trace = NULL;
    for (size_t i = 0; i < msg->nparts; i++) {
        const struct mime_part *p = &msg->parts[i];
        const char *ct = arena_printf(task->arena, "%s/%s", p->type != NULL ? p->type : "text",
                                      p->subtype != NULL ? p->subtype : "plain");
        char v = part_verdict(p, ct);
        char opt[32];
        int n = snprintf(opt, sizeof(opt), "%zu:%c", i, v);
        if (trace == NULL)
            trace = task_insert(task, "MIME_TRACE", 1.0, opt);
        else
            task_symbol_add_option(task, trace, opt, (size_t)n);
        if (!p->is_multipart)
            task_insert(task, v == '+' ? "MIME_GOOD" : v == '-' ? "MIME_BAD" : "MIME_UNKNOWN", 1.0,
                        ct);
        if (p->is_attachment)
            task_insert(task, "HAS_ATTACHMENT", 1.0, NULL);
        if (p->filename != NULL)
            check_filename(task, ctx, p->filename);
    }
}

/* ---- structure ---- */

static bool part_is(const struct mime_part *p, const char *type, const char *subtype)
{
    return heur_ieq(p->type, type) && heur_ieq(p->subtype, subtype);
}

static const struct mime_header *part_header(const struct mime_part *p, const char *name)
{
    for (const struct mime_header *h = p->headers; h != NULL; h = h->next)
        if (strcasecmp(h->name, name) == 0)
            return h;
    return NULL;
}

/* Parts of an attached message (below a message/rfc822) are not this
 * message's body. */
static bool part_in_attached_message(const struct message *msg, size_t i)
{
    for (int p = msg->parts[i].parent; p >= 0 && (size_t)p < msg->nparts; p = msg->parts[p].parent)
        if (part_is(&msg->parts[p], "message", "rfc822"))
            return true;
    return false;
}

static bool part_disposition_attachment(const struct mime_part *p)
{
    const struct mime_header *cd = part_header(p, "Content-Disposition");
    return cd != NULL && cd->decoded != NULL && heur_istarts(cd->decoded, "attachment");
}

/* HTML and no other textual rendering (text/plain, text/calendar ...) in
 * the message's own body. */
static bool html_only(const struct message *msg)
{
    bool html = false;
    for (size_t i = 0; i < msg->nparts; i++) {
        const struct mime_part *p = &msg->parts[i];
        if (p->is_multipart || !heur_ieq(p->type, "text") || part_in_attached_message(msg, i) ||
            part_disposition_attachment(p))
            continue;
        if (heur_ieq(p->subtype, "html"))
            html = true;
        else
            return false;
    }
    return html;
}

static void check_structure(struct task *task, const struct message *msg)
{
    bool ma = false, plain = false, html = false;

    for (size_t i = 0; i < msg->nparts; i++) {
        const struct mime_part *p = &msg->parts[i];
        if (part_is(p, "multipart", "alternative"))
            ma = true;
        if (part_is(p, "text", "plain"))
            plain = true;
        if (part_is(p, "text", "html"))
            html = true;
    }
    if (html_only(msg))
        task_insert(task, "MIME_HTML_ONLY", 1.0, NULL);
    if (ma && !plain)
        task_insert(task, "MIME_MA_MISSING_TEXT", 1.0, NULL);
    if (ma && !html)
        task_insert(task, "MIME_MA_MISSING_HTML", 1.0, NULL);
    if (msg->nparts > 0 && part_is(&msg->parts[0], "multipart", "mixed") && msg->nparts < 3)
        task_insertf(task, "CTYPE_MIXED_BOGUS", 1.0, "%zu", msg->nparts);
}

static bool token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* "type/subtype" made of RFC 2045 token characters, then parameters whose
 * values start right after the '=' (Rspamd also calls `boundary= "x"`
 * broken). */
static bool ctype_broken(const char *p, size_t len)
{
    size_t i = 0, n;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    for (n = 0; i < len && token_char((unsigned char)p[i]); i++)
        n++;
    if (n == 0 || i >= len || p[i] != '/')
        return true;
    for (i++, n = 0; i < len && token_char((unsigned char)p[i]); i++)
        n++;
    if (n == 0)
        return true;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < len && p[i] != ';')
        return true;
    while (i < len) {
        i++; /* the ';' */
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
            i++;
        while (i < len && token_char((unsigned char)p[i]))
            i++;
        if (i < len && p[i] == '=') {
            i++;
            if (i >= len || strchr(" \t\r\n;", p[i]) != NULL)
                return true;
        }
        if (i < len && p[i] == '"') {
            for (i++; i < len && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
        }
        while (i < len && p[i] != ';')
            i++;
    }
    return false;
}

static void check_ctype_headers(struct task *task, const struct message *msg)
{
    const struct mime_header *ct = message_header(msg, "Content-Type");
    bool broken = ct != NULL && ctype_broken(ct->value, ct->value_len);
    for (size_t i = 1; i < msg->nparts && !broken; i++) {
        const struct mime_header *h = part_header(&msg->parts[i], "Content-Type");
        broken = h != NULL && ctype_broken(h->value, h->value_len);
    }
    if (broken)
        task_insert(task, "BROKEN_CONTENT_TYPE", 1.0, NULL);

    if (ct != NULL && message_header(msg, "MIME-Version") == NULL &&
        message_header(msg, "Content-Transfer-Encoding") == NULL &&
        message_header(msg, "Content-Disposition") == NULL && msg->nparts > 0 &&
        !part_is(&msg->parts[0], "text", "plain"))
        task_insert(task, "MIME_HEADER_CTYPE_ONLY", 1.0, NULL);
}

/* ---- transfer encodings and charsets of text parts ---- */

static void check_text_encodings(struct task *task, const struct message *msg)
{
    static const char *const harmless[] = {"unknown-8bit", "x-unknown", "unknown", "default",
                                           "us-ascii", NULL};
    for (size_t i = 0; i < msg->ntext_parts; i++) {
        const struct text_part *tp = &msg->text_parts[i];
        if (tp->part >= msg->nparts)
            continue;
        const struct mime_part *p = &msg->parts[tp->part];
        bool has8 = tp->utf8 != NULL && heur_has_8bit(tp->utf8, tp->utf8_len);
        if (heur_ieq(p->cte, "base64")) {
            task_insert(task, "MIME_BASE64_TEXT", 1.0, NULL);
            if (tp->utf8 != NULL && !has8)
                task_insert(task, "MIME_BASE64_TEXT_BOGUS", 1.0, NULL);
        }
        bool raw8 = msg->nparts == 1 && heur_has_8bit(msg->body, msg->body_len);
        if (heur_ieq(p->cte, "7bit") && (p->cte_bad || raw8))
            task_insert(task, "R_BAD_CTE_7BIT", 1.0, NULL);
        if (p->charset == NULL && p->cte != NULL && !heur_ieq(p->cte, "7bit") && has8)
            task_insert(task, "R_MISSING_CHARSET", 1.0, NULL);
        if (p->charset != NULL && p->charset_bad && !in_list(harmless, p->charset))
            task_insert(task, "R_BAD_CHARSET", 1.0, p->charset);
    }
}

/* ---- mixed scripts ---- */

enum script { SC_NONE = 0, SC_LATIN = 1, SC_GREEK = 2, SC_CYRILLIC = 4 };

static int cp_script(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
        (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7))
        return SC_LATIN;
    if (cp >= 0x370 && cp <= 0x3ff)
        return SC_GREEK;
    if (cp >= 0x400 && cp <= 0x4ff)
        return SC_CYRILLIC;
    return SC_NONE;
}

/* Counts words of two letters or more and, among them, words that mix
 * Latin with Greek or Cyrillic ("Vіаgrа" with Cyrillic і and а). */
static void count_mixed_words(const char *p, size_t len, size_t *words_r, size_t *mixed_r)
{
    int scripts = 0;
    size_t letters = 0, i = 0;
    while (i <= len) {
        uint32_t cp = 0;
        size_t n = i < len ? heur_utf8_next(p + i, len - i, &cp) : 1;
        int sc = i < len ? cp_script(cp) : SC_NONE;
        if (sc != SC_NONE) {
            scripts |= sc;
            letters++;
        } else {
            if (letters >= 2) {
                (*words_r)++;
                if ((scripts & SC_LATIN) && (scripts & (SC_GREEK | SC_CYRILLIC)))
                    (*mixed_r)++;
            }
            scripts = 0;
            letters = 0;
        }
        i += n;
    }
}

static void check_mixed_scripts(struct task *task, const struct mime_types_ctx *ctx,
                                const struct message *msg)
{
    size_t words = 0, mixed = 0;
    for (size_t i = 0; i < msg->ntext_parts; i++) {
        const struct text_part *tp = &msg->text_parts[i];
        if (tp->text != NULL)
            count_mixed_words(tp->text, tp->text_len, &words, &mixed);
    }
    if (mixed == 0 || words == 0)
        return;
    double ratio = (double)mixed / (double)words;
    if (ratio >= ctx->mixed_threshold)
        task_insertf(task, "R_MIXED_CHARSET", 1.0, "%.2f", ratio);
}

/* ---- alternatives that differ ---- */

#define WORDS_MAX 256

static size_t text_words(const char *p, size_t len, uint64_t *out)
{
    size_t n = 0, i = 0;
    while (i < len && n < WORDS_MAX) {
        while (i < len && !isalnum((unsigned char)p[i]) && (unsigned char)p[i] < 0x80)
            i++;
        size_t s = i;
        while (i < len && (isalnum((unsigned char)p[i]) || (unsigned char)p[i] >= 0x80))
            i++;
        if (i > s)
            out[n++] = str_ihash(p + s, i - s);
    }
    return n;
}

static size_t words_distance(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    size_t row[WORDS_MAX + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t v = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
        }
    }
    return row[nb];
}

static void parts_differ(struct task *task, const struct text_part *t1, const struct text_part *t2)
{
    uint64_t w1[WORDS_MAX], w2[WORDS_MAX];
    size_t n1 = text_words(t1->text != NULL ? t1->text : "", t1->text_len, w1);
    size_t n2 = text_words(t2->text != NULL ? t2->text : "", t2->text_len, w2);
    if (n1 == 0 && n2 == 0)
        return;
    double nd = (n1 == 0 || n2 == 0) ? 1.0
                                     : (double)words_distance(w1, n1, w2, n2) /
                                           (double)(n1 > n2 ? n1 : n2);
    if (nd < 0.5)
        return;
    /* Rspamd's weighting: full confidence only with more than 30 words. */
    double mult = n1 + n2 > 30 ? (nd - 0.5) * 2.0 : nd - 0.5;
    if (mult <= 0)
        return;
    task_insertf(task, "R_PARTS_DIFFER", mult, "%.1f%%", nd * 100.0);
}

static void check_parts_differ(struct task *task, const struct message *msg)
{
    for (size_t i = 0; i < msg->nparts; i++) {
        if (!part_is(&msg->parts[i], "multipart", "alternative"))
            continue;
        const struct text_part *plain = NULL, *html = NULL;
        size_t n = 0;
        for (size_t j = 0; j < msg->ntext_parts; j++) {
            const struct text_part *tp = &msg->text_parts[j];
            if (tp->part >= msg->nparts || msg->parts[tp->part].parent != (int)i)
                continue;
            n++;
            if (tp->html)
                html = tp;
            else
                plain = tp;
        }
        if (n == 2 && plain != NULL && html != NULL) {
            parts_differ(task, plain, html);
            return;
        }
    }
}

static void check_empty_image(struct task *task, const struct message *msg)
{
    for (size_t i = 0; i < msg->ntext_parts; i++) {
        const struct text_part *tp = &msg->text_parts[i];
        if (!tp->html || tp->html_images == 0 || tp->html_links > 0)
            continue;
        size_t len = 0;
        for (size_t j = 0; j < tp->text_len; j++)
            if (!isspace((unsigned char)tp->text[j]))
                len++;
        if (len < 50) {
            task_insert(task, "R_EMPTY_IMAGE", 1.0, NULL);
            return;
        }
    }
}

/* ---- configuration ---- */

/* bad_extensions { exe = 1; scr = 4; } replaces or adds weights; 0 turns
 * an extension off. */
static int read_bad_extensions(const struct conf_obj *section, struct arena *arena,
                               struct mime_types_ctx *ctx, const char **error_r)
{
    size_t ndef = sizeof(default_bad_ext) / sizeof(default_bad_ext[0]);
    const struct conf_obj *obj = section != NULL ? conf_get(section, "bad_extensions") : NULL;
    size_t nconf = obj != NULL && obj->type == CONF_OBJECT ? obj->v.list.n : 0;

    ctx->bad = ARENA_NEW_N(arena, struct bad_ext, ndef + nconf);
    memcpy(ctx->bad, default_bad_ext, sizeof(default_bad_ext));
    ctx->nbad = ndef;
    if (obj == NULL)
        return 0;
    if (obj->type != CONF_OBJECT) {
        *error_r = arena_printf(arena, "%s:%u: bad_extensions: expected an object",
                                obj->file != NULL ? obj->file : "?", obj->line);
        return -1;
    }
    for (const struct conf_obj *e = obj->v.list.head; e != NULL; e = e->next) {
        double w;
        if (e->key == NULL || !conf_as_double(e, &w)) {
            *error_r = arena_printf(arena, "%s:%u: bad_extensions: expected ext = number",
                                    e->file != NULL ? e->file : "?", e->line);
            return -1;
        }
        struct bad_ext *b = (struct bad_ext *)bad_ext_find(ctx, e->key, strlen(e->key));
        if (b == NULL) {
            b = &ctx->bad[ctx->nbad++];
            b->ext = arena_strdup(arena, e->key);
        }
        b->weight = w;
    }
    return 0;
}

static int mime_types_configure(const struct conf_obj *section, struct module_env *env,
                                void **ctx_r, const char **error_r)
{
    bool enabled;
    struct mime_types_ctx *ctx;

    *ctx_r = NULL;
    symtab_add_many(env->symtab, mime_types_symbols,
                    sizeof(mime_types_symbols) / sizeof(mime_types_symbols[0]));
    if (heur_conf_enabled(section, &enabled, error_r) < 0)
        return -1;
    ctx = ARENA_NEW(env->arena, struct mime_types_ctx);
    if (read_bad_extensions(section, env->arena, ctx, error_r) < 0 ||
        heur_conf_double(section, env->arena, "mixed_charset_threshold", 0.1, 0.0, 1.0,
                         &ctx->mixed_threshold, error_r) < 0)
        return -1;
    if (enabled)
        *ctx_r = ctx;
    return 0;
}

static int mime_types_scan(struct task *task, void *vctx)
{
    const struct mime_types_ctx *ctx = vctx;
    const struct message *msg = task->msg;

    if (msg == NULL)
        return 0;
    check_types(task, ctx, msg);
    check_structure(task, msg);
    check_ctype_headers(task, msg);
    check_text_encodings(task, msg);
    check_mixed_scripts(task, ctx, msg);
    check_parts_differ(task, msg);
    check_empty_image(task, msg);
    return 0;
}

const struct module module_mime_types = {
    .name = "mime_types",
    .abi = MODULE_ABI,
    .configure = mime_types_configure,
    .scan = mime_types_scan,
};
