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
    {"MIME_TRACE", 0.0, MT, "MIME structure: part index and verdict (+ good, ~ neutral/unknown, - bad)", 0},
    {"MIME_BAD_EXTENSION", 2.0, MT, "Attachment with a dangerous extension (option: ext)", 0},
    {"MIME_DOUBLE_BAD_EXTENSION", 3.0, MT, "Attachment name hides a dangerous extension (x.pdf.exe)", 0},
    {"MIME_HTML_ONLY", 0.2, H, "Message has only HTML text", 0},
    {"MIME_MA_MISSING_TEXT", 2.0, H, "multipart/alternative without a text/plain part", 0},
    {"MIME_MA_MISSING_HTML", 1.0, H, "multipart/alternative without a text/html part", 0},
    {"MIME_BASE64_TEXT", 0.1, "mime", "A text part is base64-encoded", 0},
    {"MIME_BASE64_TEXT_BOGUS", 1.0, "mime", "A base64 text part holds only 7-bit text", 0},
    {"HAS_ATTACHMENT", 0.0, "body", "Message has attachments", 0},
    {"CTYPE_MIXED_BOGUS", 1.0, "mime", "multipart/mixed with fewer than 3 parts in total", 0},
    {"BROKEN_CONTENT_TYPE", 1.5, H, "A part has a malformed Content-Type", 0},
    {"MIME_HEADER_CTYPE_ONLY", 2.0, H, "Content-Type without any other MIME header", 0},
    {"R_BAD_CTE_7BIT", 3.5, H, "8-bit text without an 8bit Content-Transfer-Encoding (options: cte, utf8)", 0},
    {"R_MISSING_CHARSET", 0.5, H, "text/plain without charset and not 7bit", 0},
    {"R_BAD_CHARSET", 0.5, H, "A text part declares an unknown charset (option)", 0},
    {"R_MIXED_CHARSET", 5.0, H, "Words mix Latin with Cyrillic or Greek letters (option: ratio)", 0},
    {"R_PARTS_DIFFER", 1.0, "body", "Text and HTML alternatives differ a lot (option: percent)", 0},
    {"R_EMPTY_IMAGE", 2.0, "html", "HTML part is an image with almost no text", 0},
};

#undef MT
#undef H

/* Rspamd 3.4's default bad_extensions (mime_types plugin). */
static const struct bad_ext default_bad_ext[] = {
    {"bat", 2}, {"com", 2}, {"exe", 1}, {"iso", 4}, {"jar", 2}, {"lnk", 4},
    {"scr", 4}, {"ace", 4}, {"arj", 2}, {"cab", 3}, {"ade", 2}, {"adp", 2},
    {"chm", 2}, {"cmd", 2}, {"cpl", 2}, {"ins", 2}, {"isp", 2}, {"js", 2},
    {"jse", 2}, {"lib", 2}, {"mde", 2}, {"msc", 2}, {"msi", 2}, {"msp", 2},
    {"mst", 2}, {"nsh", 2}, {"pif", 2}, {"sct", 2}, {"shb", 2}, {"sys", 2},
    {"vb", 2}, {"vbe", 2}, {"vbs", 2}, {"vxd", 2}, {"wsc", 2}, {"wsh", 2},
    {"app", 2}, {"asp", 2}, {"bas", 2}, {"cnt", 2}, {"csh", 2}, {"diagcab", 2},
    {"fxp", 2}, {"gadget", 2}, {"grp", 2}, {"hlp", 2}, {"hpj", 2}, {"inf", 2},
    {"its", 2}, {"jnlp", 2}, {"ksh", 2}, {"mad", 2}, {"maf", 2}, {"mag", 2},
    {"mam", 2}, {"maq", 2}, {"mar", 2}, {"mas", 2}, {"mat", 2}, {"mau", 2},
    {"mav", 2}, {"maw", 2}, {"mcf", 2}, {"mda", 2}, {"mdb", 2}, {"mdt", 2},
    {"mdw", 2}, {"mdz", 2}, {"msh", 2}, {"msh1", 2}, {"msh2", 2}, {"mshxml", 2},
    {"msh1xml", 2}, {"msh2xml", 2}, {"msu", 2}, {"ops", 2}, {"osd", 2}, {"pcd", 2},
    {"pl", 2}, {"plg", 2}, {"prf", 2}, {"prg", 2}, {"printerexport", 2}, {"ps1", 2},
    {"ps1xml", 2}, {"ps2", 2}, {"ps2xml", 2}, {"psc1", 2}, {"psc2", 2}, {"psd1", 2},
    {"psdm1", 2}, {"pst", 2}, {"reg", 2}, {"scf", 2}, {"shs", 2}, {"theme", 2},
    {"url", 2}, {"vbp", 2}, {"vsmacros", 2}, {"vsw", 2}, {"webpnp", 2}, {"website", 2},
    {"ws", 2}, {"xbap", 2}, {"xll", 2}, {"xnk", 2},
};

/* The non-neutral entries of Rspamd 3.4's stock maps.d/mime_types.inc:
 * negative = good (MIME_GOOD times -score), positive = bad (MIME_BAD times
 * score).  Every other registered type scores 0 there: neutral, traced as
 * "~" without a symbol. */
struct ctype_score {
    const char *ct;
    int score;
};

static const struct ctype_score ctype_scores[] = {
    {"text/plain", -1},           {"multipart/alternative", -1},   {"multipart/mixed", -1},
    {"multipart/related", -1},    {"multipart/signed", -2},        {"multipart/encrypted", -2},
    {"application/pkcs7-mime", -1}, {"application/pkcs7-signature", -1},
    {"multipart/appledouble", 2}, {"multipart/byteranges", 2},     {"multipart/example", 2},
    {"multipart/form-data", 2},   {"multipart/header-set", 2},     {"multipart/voice-message", 2},
    {"multipart/x-mixed-replace", 2},
};

/* Neutral: a registered top-level type with a non-experimental subtype
 * (the map lists the IANA registry); anything else is unknown. */
static bool ctype_registered(const struct mime_part *p)
{
    static const char *const tops[] = {"application", "audio", "font", "image", "message",
                                       "model", "multipart", "text", "video", NULL};
    if (p->type == NULL || p->subtype == NULL || heur_istarts(p->subtype, "x-"))
        return false;
    for (size_t i = 0; tops[i] != NULL; i++)
        if (strcasecmp(p->type, tops[i]) == 0)
            return true;
    return false;
}

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcasecmp(list[i], s) == 0)
            return true;
    return false;
}

/* ---- content types ---- */

/* A part without Content-Type is text/plain by RFC 2045, and Rspamd counts
 * it as such (good) unless the part has a Content-Transfer-Encoding
 * header, when it traces it "~" without a symbol. */
static bool type_missing_is_plain(const struct message *msg, size_t i)
{
    if (i == 0)
        return message_header(msg, "Content-Transfer-Encoding") == NULL;
    for (const struct mime_header *h = msg->parts[i].headers; h != NULL; h = h->next)
        if (strcasecmp(h->name, "Content-Transfer-Encoding") == 0)
            return false;
    return true;
}

/* Verdict of a part's type: '+' good, '-' bad, '~' neutral or unknown;
 * *score_r is the map score (0 for neutral), *unknown_r set when the type
 * is not registered at all. */
static char part_verdict(const struct mime_part *p, const char *ct, bool ctype_default_plain,
                         int *score_r, bool *unknown_r)
{
    *score_r = 0;
    *unknown_r = false;
    if (p->type_missing && !ctype_default_plain)
        return '~';              /* Rspamd traces it without a symbol */
    for (size_t i = 0; i < sizeof(ctype_scores) / sizeof(ctype_scores[0]); i++) {
        if (strcasecmp(ctype_scores[i].ct, ct) == 0) {
            *score_r = ctype_scores[i].score;
            return *score_r < 0 ? '+' : '-';
        }
    }
    *unknown_r = !ctype_registered(p);
    return '~';
}

static const struct bad_ext *bad_ext_find(const struct mime_types_ctx *ctx, const char *ext,
                                          size_t len)
{
    for (size_t i = 0; i < ctx->nbad; i++)
        if (str_ieq_cstr(ext, len, ctx->bad[i].ext))
            return &ctx->bad[i];
    return NULL;
}

/* The extension before position `end` (exclusive) of name: *ext_r and its
 * length, or false. */
static bool ext_before(const char *name, size_t end, const char **ext_r, size_t *len_r)
{
    size_t i = end;
    while (i > 0 && name[i - 1] != '.')
        i--;
    if (i <= 1 || i == end || end - i > 32)
        return false;
    *ext_r = name + i;
    *len_r = end - i;
    return true;
}

static double bad_ext_weight(const struct mime_types_ctx *ctx, const char *ext, size_t len)
{
    const struct bad_ext *b = bad_ext_find(ctx, ext, len);
    return b != NULL && b->weight > 0 ? b->weight : 0;
}

/* A next-to-last extension counts when it looks like one: 1-4 characters
 * and not a number such as "1" or "2)" of "report.2).exe". */
static bool plausible_ext(const char *e, size_t len)
{
    size_t digits = 0;
    if (len == 0 || len > 4)
        return false;
    while (digits < len && e[digits] >= '0' && e[digits] <= '9')
        digits++;
    if (digits == len || (digits > 0 && digits == len - 1 && (e[digits] == ']' || e[digits] == ')')))
        return false;
    return true;
}

/* Rspamd's check_extension: a bad last extension, or a bad next-to-last
 * one ("photo.scr.xz"), and worse when both are there.  Returns whether the
 * part was judged bad. */
static bool check_filename(struct task *task, const struct mime_types_ctx *ctx, const char *name)
{
    size_t len = strlen(name);
    const char *ext, *ext2 = NULL;
    size_t elen, e2len = 0;

    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '.'))
        len--;
    if (!ext_before(name, len, &ext, &elen))
        return false;
    bool has2 = ext_before(name, (size_t)(ext - name) - 1, &ext2, &e2len);
    double w1 = bad_ext_weight(ctx, ext, elen);
    double w2 = has2 ? bad_ext_weight(ctx, ext2, e2len) : 0;
    if (w1 <= 0 && w2 <= 0)
        return false;
    if (has2 && plausible_ext(ext2, e2len)) {
        task_insertf(task, "MIME_DOUBLE_BAD_EXTENSION", w1 > w2 ? w1 : w2, ".%.*s.%.*s",
                     (int)e2len, ext2, (int)elen, ext);
        return true;
    }
    if (w1 <= 0)
        return false;
    task_insertf(task, "MIME_BAD_EXTENSION", w1, "%.*s", (int)elen, ext);
    return true;
}

static void check_types(struct task *task, const struct mime_types_ctx *ctx,
                        const struct message *msg)
{
    struct task_symbol *trace = NULL;
    for (size_t i = 0; i < msg->nparts; i++) {
        const struct mime_part *p = &msg->parts[i];
        const char *ct = arena_printf(task->arena, "%s/%s", p->type != NULL ? p->type : "text",
                                      p->subtype != NULL ? p->subtype : "plain");
        str_lower((char *)ct, strlen(ct));
        int score;
        bool unknown;
        char v = part_verdict(p, ct, type_missing_is_plain(msg, i), &score, &unknown);
        if (score < 0)
            task_insert(task, "MIME_GOOD", (double)-score, ct);
        else if (score > 0)
            task_insert(task, "MIME_BAD", (double)score, ct);
        else if (unknown)
            task_insert(task, "MIME_UNKNOWN", 1.0, ct);
        /* A dangerous file name marks the part bad in the trace. */
        if (p->filename != NULL && check_filename(task, ctx, p->filename))
            v = '-';
        char opt[32];
        int n = snprintf(opt, sizeof(opt), "%zu:%c", i, v);
        if (trace == NULL)
            trace = task_insert(task, "MIME_TRACE", 1.0, opt);
        else
            task_symbol_add_option(task, trace, opt, (size_t)n);
        if (p->is_attachment)
            task_insert(task, "HAS_ATTACHMENT", 1.0, NULL);
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

/* Charsets whose encoded form is 7-bit although the text is not. */
static bool charset_7bit_encoding(const char *cs)
{
    return cs != NULL && (heur_istarts(cs, "iso-2022") || heur_ieq(cs, "utf-7") ||
                          heur_istarts(cs, "hz-gb"));
}

/* Whether the encoded content of a text part has 8-bit bytes.  The MIME
 * layer keeps no raw bytes per part, so: for a single-part message look at
 * the body; otherwise, without transfer decoding (7bit or no CTE), non-ASCII
 * decoded text can only come from 8-bit input unless the charset is a 7-bit
 * encoding such as ISO-2022-JP. */
static bool part_raw_8bit(const struct message *msg, const struct mime_part *p,
                          const struct text_part *tp)
{
    if (msg->nparts == 1)
        return heur_has_8bit(msg->body, msg->body_len);
    if (p->cte != NULL && !heur_ieq(p->cte, "7bit"))
        return false;
    if (p->cte_bad)
        return true;
    return tp->utf8 != NULL && !charset_7bit_encoding(p->charset) &&
           heur_has_8bit(tp->utf8, tp->utf8_len);
}

/* Rspamd's R_BAD_CTE_7BIT: 8-bit bytes where the CTE is not 8bit; weighed
 * 0.3 for UTF-8, which too many mailers send as "7bit". */
static void check_bad_cte(struct task *task, const struct message *msg, const struct mime_part *p,
                          const struct text_part *tp)
{
    if (heur_ieq(p->cte, "8bit") || heur_ieq(p->cte, "binary") || !part_raw_8bit(msg, p, tp))
        return;
    bool utf8 = heur_ieq(p->charset, "utf-8");
    struct task_symbol *sym =
        task_insert(task, "R_BAD_CTE_7BIT", utf8 ? 0.3 : 1.0, p->cte != NULL ? p->cte : "7bit");
    if (sym != NULL && utf8)
        task_symbol_add_option(task, sym, "utf8", 4);
}

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
        check_bad_cte(task, msg, p, tp);
        /* Rspamd: text/plain, no charset, CTE other than 7bit (an absent
         * CTE is judged by the content), something to read. */
        if (p->charset == NULL && part_is(p, "text", "plain") && !tp->empty &&
            ((p->cte != NULL && !heur_ieq(p->cte, "7bit")) || (p->cte == NULL && has8)))
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

static void parts_differ(struct task *task, const struct text_part *t1, const struct text_part *t2)
{
    uint64_t w1[WORDS_MAX], w2[WORDS_MAX];
    size_t n1 = text_words(t1->text != NULL ? t1->text : "", t1->text_len, w1);
    size_t n2 = text_words(t2->text != NULL ? t2->text : "", t2->text_len, w2);
    if (n1 == 0 && n2 == 0)
        return;
    double nd = (n1 == 0 || n2 == 0) ? 1.0
                                     : (double)str_edit_distance(w1, n1, w2, n2, 1) /
                                           (double)(n1 > n2 ? n1 : n2);
    if (nd < 0.5)
        return;
    /* Rspamd's weighting: full confidence only with more than 30 words. */
    double mult = n1 + n2 > 30 ? (nd - 0.5) * 2.0 : nd - 0.5;
    if (mult <= 0)
        return;
    task_insertf(task, "R_PARTS_DIFFER", mult, "%.1f%%", nd * 100.0);
}

static bool part_below(const struct message *msg, size_t part, size_t ancestor)
{
    for (int p = msg->parts[part].parent; p >= 0 && (size_t)p < msg->nparts; p = msg->parts[p].parent)
        if ((size_t)p == ancestor)
            return true;
    return false;
}

/* The plain alternative is a direct child of the multipart/alternative;
 * the HTML one may sit in a multipart/related below it. */
static void check_parts_differ(struct task *task, const struct message *msg)
{
    for (size_t i = 0; i < msg->nparts; i++) {
        if (!part_is(&msg->parts[i], "multipart", "alternative"))
            continue;
        const struct text_part *plain = NULL, *html = NULL;
        for (size_t j = 0; j < msg->ntext_parts; j++) {
            const struct text_part *tp = &msg->text_parts[j];
            if (tp->part >= msg->nparts)
                continue;
            if (!tp->html && plain == NULL && msg->parts[tp->part].parent == (int)i)
                plain = tp;
            else if (tp->html && html == NULL && part_below(msg, tp->part, i))
                html = tp;
        }
        if (plain != NULL && html != NULL) {
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
