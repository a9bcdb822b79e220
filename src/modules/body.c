/*
 * body: phrases in the message text.  For now Rspamd 3.4's INTRODUCTION
 * (rules/regexp/misc.lua), the "my name is" / "I am Dr." opening of
 * advance-fee scams.
 *
 * Like Rspamd's SpamAssassin-style body rules ({sa_body}), a phrase is
 * looked for in the Subject and then in each text part on its own, with
 * HTML reduced to text and line breaks read as one space (Rspamd's
 * utf_stripped_content).  Owns nothing beyond its configuration; reads
 * task->msg only, and inserts nothing without one.
 */
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/heur.h"
#include "modules/module.h"

struct body_ctx {
    bool enabled;
};

static const struct symbol_def body_symbols[] = {
    {"INTRODUCTION", 2.0, "scams", "Sender introduces themselves", 0},
};

/* ---- text as Rspamd's body rules see it ---- */

/* Rspamd's rspamd_strip_newlines_parse(): a run of line breaks becomes one
 * space and the spaces that open the next line go.  In a plain-text part a
 * break inside an unclosed '<' (a wrapped <URL>) joins the lines with no
 * space. */
static char *strip_newlines(struct arena *arena, const char *p, size_t n, bool html,
                            size_t *len_r)
{
    char *out = arena_alloc(arena, n + 1);
    size_t k = 0;
    bool bracket = false;
    for (size_t i = 0; i < n;) {
        if (p[i] != '\r' && p[i] != '\n') {
            if (p[i] == '<')
                bracket = true;
            else if (p[i] == '>')
                bracket = false;
            out[k++] = p[i++];
            continue;
        }
        bool space = html || !bracket;
        while (i < n && (p[i] == '\r' || p[i] == '\n'))
            i++;
        if (i < n && p[i] == ' ') {
            space = true;
            while (i < n && p[i] == ' ')
                i++;
        }
        if (space)
            out[k++] = ' ';
        bracket = false;
    }
    out[k] = '\0';
    *len_r = k;
    return out;
}

/* ---- INTRODUCTION ---- */

/* Case-insensitive literal at v[i], with \b before it. */
static bool word_at(const char *v, size_t n, size_t i, const char *lit)
{
    size_t l = strlen(lit);
    return n - i >= l && strncasecmp(v + i, lit, l) == 0 && (i == 0 || !heur_re_word(v[i - 1]));
}

/* (?:mr|mrs|ms|miss|master|sir|prof(?:essor)?|d(?:octo)?r|rev(?:erend)?)
 * followed by '.' or a word boundary. */
static bool title_at(const char *v, size_t n, size_t i)
{
    static const char *const titles[] = {"mr", "mrs", "ms", "miss", "master", "sir", "prof",
                                         "professor", "dr", "doctor", "rev", "reverend"};
    for (size_t t = 0; t < sizeof(titles) / sizeof(titles[0]); t++) {
        size_t l = strlen(titles[t]);
        if (n - i < l || strncasecmp(v + i, titles[t], l) != 0)
            continue;
        if (i + l == n || v[i + l] == '.' || !heur_re_word(v[i + l]))
            return true;
    }
    return false;
}

/* /\b(?:my name is\b|(?:i am|this is)\s+TITLE(?:\.|\b))/i */
static bool introduction(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = (char)(v[i] | 0x20);
        if (c != 'm' && c != 'i' && c != 't')
            continue;
        if (word_at(v, n, i, "my name is") && (i + 10 == n || !heur_re_word(v[i + 10])))
            return true;
        size_t l = word_at(v, n, i, "i am") ? 4 : word_at(v, n, i, "this is") ? 7 : 0;
        if (l == 0)
            continue;
        size_t j = i + l, s = j;
        while (j < n && heur_re_space(v[j]))
            j++;
        if (j > s && title_at(v, n, j))
            return true;
    }
    return false;
}

static void check_introduction(struct task *task, const struct message *msg)
{
    const struct mime_header *subj = message_header(msg, "Subject");
    if (subj != NULL) {
        size_t n;
        const char *v = heur_rspamd_text(task->arena, subj, &n);
        if (introduction(v, n)) {
            task_insert(task, "INTRODUCTION", 1.0, NULL);
            return;
        }
    }
    for (size_t i = 0; i < msg->ntext_parts; i++) {
        const struct text_part *tp = &msg->text_parts[i];
        if (tp->text == NULL || tp->text_len == 0)
            continue;
        size_t n;
        const char *v = strip_newlines(task->arena, tp->text, tp->text_len, tp->html, &n);
        if (introduction(v, n)) {
            task_insert(task, "INTRODUCTION", 1.0, NULL);
            return;
        }
    }
}

/* ---- module ---- */

static int body_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                          const char **error_r)
{
    struct body_ctx *ctx;

    *ctx_r = NULL;
    symtab_add_many(env->symtab, body_symbols, sizeof(body_symbols) / sizeof(body_symbols[0]));
    ctx = ARENA_NEW(env->arena, struct body_ctx);
    if (heur_conf_enabled(section, &ctx->enabled, error_r) < 0)
        return -1;
    if (ctx->enabled)
        *ctx_r = ctx;
    return 0;
}

static int body_scan(struct task *task, void *ctx)
{
    (void)ctx;
    if (task->msg == NULL)
        return 0;
    check_introduction(task, task->msg);
    return 0;
}

const struct module module_body = {
    .name = "body",
    .abi = MODULE_ABI,
    .configure = body_configure,
    .scan = body_scan,
};
