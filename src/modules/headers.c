/*
 * headers: heuristics on the top-level header block that do not need the
 * address lists (see addresses.c for From/To/Reply-To): Date, Message-ID,
 * Subject, needless or missing RFC 2047 encoding, MIME-Version, repeated
 * unique headers, Received counts, mailing-list markers and X-Priority
 * (forged mailers are in mua.c).  Names and default scores follow Rspamd
 * 3.4 (spec §11, rules/misc.lua, mid.lua, headers_checks.lua,
 * regexp/headers.lua).
 *
 * Owns nothing beyond its configuration context.  Reads the parsed message
 * only (task->msg); without one it inserts nothing.  Refuses out-of-range
 * thresholds at configuration time.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/str.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/addr_compat.h"
#include "modules/heur.h"
#include "modules/module.h"

struct headers_ctx {
    double date_future_hours;
    double date_past_hours;
    double long_subject;         /* characters */
};

#define H "headers"
#define MID "Message ID" /* Rspamd's group name for the mid.lua rules */

static const struct symbol_def headers_symbols[] = {
    {"MISSING_DATE", 1.0, H, "Date header is missing", 0},
    {"INVALID_DATE", 1.5, H, "Date header cannot be parsed", 0},
    {"DATE_IN_FUTURE", 4.0, H, "Message date is in the future (option: hours)", 0},
    {"DATE_IN_PAST", 1.0, H, "Message date is far in the past (option: hours)", 0},
    {"MISSING_MID", 2.5, H, "Message-ID header is missing", 0},
    {"INVALID_MSGID", 1.7, H, "Message-ID is malformed", 0},
    {"MID_MISSING_BRACKETS", 0.5, MID, "Message-ID is missing <>'s", 0},
    {"MID_RHS_NOT_FQDN", 0.5, MID, "Message-ID domain is not a fully-qualified name", 0},
    {"MID_CONTAINS_FROM", 1.0, MID, "Message-ID contains the From address", 0},
    {"MID_RHS_MATCH_FROM", 0.0, MID, "Message-ID domain equals the From domain", 0},
    {"MID_RHS_MATCH_FROMTLD", 0.0, MID, "Message-ID domain matches the From registrable domain", 0},
    {"MID_BARE_IP", 2.0, MID, "Message-ID RHS is a bare IP address", 0},
    {"MID_CONTAINS_TO", 1.0, MID, "Message-ID contains the To address", 0},
    {"MID_RHS_MATCH_TO", 1.0, MID, "Message-ID domain equals the To domain", 0},
    {"MISSING_SUBJECT", 2.0, H, "Subject header is missing", 0},
    {"EMPTY_SUBJECT", 1.0, H, "Subject header is empty", 0},
    {"SUBJ_ALL_CAPS", 3.0, "subject", "Subject is entirely in capital letters", 0},
    {"LONG_SUBJ", 3.0, "subject", "Subject is too long", 0},
    {"SUBJECT_ENDS_QUESTION", 1.0, H, "Subject of a non-reply ends with a question mark", 0},
    {"SUBJECT_ENDS_EXCLAIM", 0.0, H, "Subject ends with an exclamation mark", 0},
    {"SUBJECT_HAS_EXCLAIM", 0.0, H, "Subject contains an exclamation mark, not at the end", 0},
    {"SUBJECT_HAS_CURRENCY", 1.0, H, "Subject contains a currency symbol", 0},
    {"FAKE_REPLY", 1.0, H, "Subject starts with Re: but there is no In-Reply-To or References", 0},
    {"SUBJECT_NEEDS_ENCODING", 1.0, H, "Subject has raw 8-bit or control characters", 0},
    {"FROM_NEEDS_ENCODING", 1.0, H, "From has raw 8-bit or control characters", 0},
    {"TO_NEEDS_ENCODING", 1.0, H, "To has raw 8-bit or control characters", 0},
    {"SUBJ_EXCESS_BASE64", 1.5, "excessb64", "Subject is base64-encoded but needs no encoding", 0},
    {"FROM_EXCESS_BASE64", 1.5, "excessb64", "From is base64-encoded but needs no encoding", 0},
    {"TO_EXCESS_BASE64", 1.5, "excessb64", "To is base64-encoded but needs no encoding", 0},
    {"REPLYTO_EXCESS_BASE64", 1.5, "excessb64", "Reply-To is base64-encoded but needs no encoding", 0},
    {"SUBJ_EXCESS_QP", 1.2, "excessqp", "Subject is QP-encoded but needs no encoding", 0},
    {"FROM_EXCESS_QP", 1.2, "excessqp", "From is QP-encoded but needs no encoding", 0},
    {"TO_EXCESS_QP", 1.2, "excessqp", "To is QP-encoded but needs no encoding", 0},
    {"REPLYTO_EXCESS_QP", 1.2, "excessqp", "Reply-To is QP-encoded but needs no encoding", 0},
    {"MISSING_MIME_VERSION", 2.0, H, "MIME message without MIME-Version", 0},
    {"MV_CASE", 0.5, H, "Mime-Version spelt with unusual case", 0},
    {"CT_EXTRA_SEMI", 1.0, H, "Content-Type ends with a semicolon", 0},
    {"MULTIPLE_UNIQUE_HEADERS", 7.0, H, "A header that must be unique is repeated (options: names)", 0},
    {"BROKEN_HEADERS", 10.0, H, "Header block structure is broken", 0},
    {"RCVD_COUNT_ZERO", 0.0, H, "No Received headers", 0},
    {"RCVD_COUNT_ONE", 0.0, H, "One Received header", 0},
    {"RCVD_COUNT_TWO", 0.0, H, "Two Received headers", 0},
    {"RCVD_COUNT_THREE", 0.0, H, "3-4 Received headers", 0},
    {"RCVD_COUNT_FIVE", 0.0, H, "5-6 Received headers", 0},
    {"RCVD_COUNT_SEVEN", 0.0, H, "7-11 Received headers", 0},
    {"RCVD_COUNT_TWELVE", 0.0, H, "12 or more Received headers", 0},
    {"ONCE_RECEIVED", 0.1, H, "Exactly one Received header", 0},
    {"HAS_LIST_UNSUB", -0.01, H, "Has List-Unsubscribe header", 0},
    {"MAILLIST", -0.2, H, "Message comes from a mailing list (option: kind)", 0},
    {"PRECEDENCE_BULK", 0.0, "upstream_spam_filters", "Precedence: bulk", 0},
    {"HAS_X_PRIO_ZERO", 0.0, H, "X-Priority 0", 0},
    {"HAS_X_PRIO_ONE", 0.0, H, "X-Priority 1", 0},
    {"HAS_X_PRIO_TWO", 0.0, H, "X-Priority 2", 0},
    {"HAS_X_PRIO_THREE", 0.0, H, "X-Priority 3-4", 0},
    {"HAS_X_PRIO_FIVE", 0.0, H, "X-Priority 5 or more", 0},
    {"XM_UA_NO_VERSION", 0.01, "experimental", "X-Mailer/User-Agent has no version", 0},
};

#undef H
#undef MID

/* ---- small views over header values ---- */

static const char *hdr_decoded(const struct message *msg, const char *name)
{
    const struct mime_header *h = message_header(msg, name);
    return h != NULL && h->decoded != NULL ? h->decoded : NULL;
}

static void trim_view(const char **p, size_t *len)
{
    while (*len > 0 && (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')) {
        (*p)++;
        (*len)--;
    }
    while (*len > 0 && strchr(" \t\r\n", (*p)[*len - 1]) != NULL)
        (*len)--;
}

/* ---- Date ---- */

static void check_date(struct task *task, const struct headers_ctx *ctx, const struct message *msg)
{
    const struct mime_header *h = message_header(msg, "Date");
    if (h == NULL || heur_is_blank(h->value, h->value_len)) {
        task_insert(task, "MISSING_DATE", 1.0, NULL);
        return;
    }
    if (msg->date < 0) {
        task_insert(task, "INVALID_DATE", 1.0, NULL);
        return;
    }
    /* The task clock is monotonic: compare with the wall clock. */
    double diff = difftime(time(NULL), (time_t)msg->date);
    if (diff > ctx->date_past_hours * 3600.0)
        task_insertf(task, "DATE_IN_PAST", 1.0, "%.0f", floor(diff / 3600.0));
    else if (-diff > ctx->date_future_hours * 3600.0)
        task_insertf(task, "DATE_IN_FUTURE", 1.0, "%.0f", floor(-diff / 3600.0));
}

/* ---- Message-ID ---- */

static bool mid_char_ok(unsigned char c)
{
    return !(c == '<' || c == '>' || c == '\\' || c == ' ' || c == '\t' || c == '\n' ||
             c == '\r' || c == 0x0b);
}

/* Rspamd's sane_msgid: <?left@right>? with no space or brackets.  8-bit
 * bytes are allowed: internationalised (EAI) domains are legitimate. */
static bool mid_is_sane(const char *p, size_t len)
{
    if (len > 0 && p[0] == '<') {
        p++;
        len--;
    }
    if (len > 0 && p[len - 1] == '>')
        len--;
    const char *at = memchr(p, '@', len);
    if (at == NULL || at == p || at == p + len - 1)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!mid_char_ok((unsigned char)p[i]))
            return false;
    return true;
}

static void check_mid_from(struct task *task, const struct message *msg, const char *mid,
                           size_t len, const char *rhs, size_t rhs_len)
{
    const struct mime_address *from = msg->from.n > 0 ? &msg->from.a[0] : NULL;
    if (from == NULL || from->addr == NULL || from->domain == NULL || from->domain[0] == '\0')
        return;
    if (str_isearch(mid, len, from->addr, strlen(from->addr)) >= 0) {
        task_insert(task, "MID_CONTAINS_FROM", 1.0, NULL);
        return;
    }
    if (rhs == NULL)
        return;
    if (str_ieq_cstr(rhs, rhs_len, from->domain)) {
        task_insert(task, "MID_RHS_MATCH_FROM", 1.0, NULL);
        return;
    }
    char *md = arena_strndup(task->arena, rhs, rhs_len);
    str_lower(md, rhs_len);
    const char *a = heur_esld(md), *b = heur_esld(from->domain);
    if (a != NULL && b != NULL && strcmp(a, b) == 0)
        task_insert(task, "MID_RHS_MATCH_FROMTLD", 1.0, NULL);
}

/* mid.lua's "@%d+%.%d+%.%d+%.%d+>$": a dotted quad after the last '@'
 * and a closing '>'. */
static bool mid_bare_ip(const char *v, size_t n)
{
    if (n == 0 || v[n - 1] != '>')
        return false;
    const char *at = memrchr(v, '@', n - 1);
    if (at == NULL)
        return false;
    const char *q = at + 1, *end = v + n - 1;
    for (int k = 0; k < 4; k++) {
        const char *start = q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == start || (k < 3 && (q == end || *q++ != '.')))
            return false;
    }
    return q == end;
}

/* mid.lua's "@([^>]+)>?$": the text after the first '@' from which only
 * a final '>' is missing from [^>]+.  NULL when there is none. */
static const char *mid_rhs_lua(const char *v, size_t n, size_t *len_r)
{
    size_t body = n > 0 && v[n - 1] == '>' ? n - 1 : n;
    for (size_t i = 0; i < body; i++) {
        if (v[i] != '@')
            continue;
        if (i + 1 < body && memchr(v + i + 1, '>', body - i - 1) == NULL) {
            *len_r = body - i - 1;
            return v + i + 1;
        }
    }
    return NULL;
}

/* mid.lua: a Message-ID made on the recipient's side (its domain, or the
 * recipient's address inside it) on mail that claims to come from
 * elsewhere; skipped when From and To share the domain.  Recipients and
 * sender as Rspamd's Lua sees them (addr_compat.h): the first To/Cc/Bcc
 * address after its plus-alias rewriting, and the first From address. */
static void check_mid_to(struct task *task, const char *mid, size_t len)
{
    size_t first;
    const struct compat_addrlist *rcpts = addr_compat_rcpts(task, &first);
    if (first >= rcpts->n || rcpts->a[first].domain_len == 0)
        return;
    const struct compat_addr *to = &rcpts->a[first];
    const struct compat_addrlist *from = addr_compat_from(task);
    if (from->n > 0 && from->a[0].domain_len > 0 &&
        strcasecmp(from->a[0].domain, to->domain) == 0)
        return;
    size_t md_len = 0;
    const char *md = mid_rhs_lua(mid, len, &md_len);
    if (str_isearch(mid, len, to->addr, to->addr_len) >= 0)
        task_insert(task, "MID_CONTAINS_TO", 1.0, NULL);
    else if (md != NULL && str_ieq(md, md_len, to->domain, to->domain_len))
        task_insert(task, "MID_RHS_MATCH_TO", 1.0, NULL);
}

static void check_mid(struct task *task, const struct message *msg)
{
    const struct mime_header *h = message_header(msg, "Message-ID");
    if (h == NULL) {
        task_insert(task, "MISSING_MID", 1.0, NULL);
        return;
    }
    const char *p = h->value;
    size_t len = h->value_len;
    trim_view(&p, &len);
    if (!(len >= 3 && p[0] == '<' && p[len - 1] == '>' && memchr(p + 1, '>', len - 2) == NULL))
        task_insert(task, "MID_MISSING_BRACKETS", 1.0, NULL);
    bool comment = memchr(p, '(', len) != NULL && memchr(p, ')', len) != NULL;
    if (!mid_is_sane(p, len) && !comment)
        task_insert(task, "INVALID_MSGID", 1.0, NULL);

    const char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (p[i] == '@')
            at = p + i;
    const char *rhs = NULL;
    size_t rhs_len = 0;
    if (at != NULL) {
        rhs = at + 1;
        rhs_len = len - (size_t)(rhs - p);
        if (rhs_len > 0 && rhs[rhs_len - 1] == '>')
            rhs_len--;
        if (rhs_len > 0 && memchr(rhs, '.', rhs_len) == NULL && memchr(rhs, '>', rhs_len) == NULL)
            task_insert(task, "MID_RHS_NOT_FQDN", 1.0, NULL);
    }
    check_mid_from(task, msg, p, len, rhs, rhs_len);

    /* mid.lua works on the decoded value. */
    size_t dlen;
    const char *dmid = heur_rspamd_text(task->arena, h, &dlen);
    if (mid_bare_ip(dmid, dlen))
        task_insert(task, "MID_BARE_IP", 1.0, NULL);
    check_mid_to(task, dmid, dlen);
}

/* ---- Subject ---- */

/* Skips "Re:", "Fwd:", "Fw:", "Aw:", "Antwort:", "Sv:" prefixes. */
static const char *subject_strip_prefixes(const char *s, bool *was_reply_r)
{
    static const char *const prefixes[] = {"re:", "fwd:", "fw:", "aw:", "antwort:", "sv:", NULL};
    bool again = true;
    *was_reply_r = false;
    while (again) {
        again = false;
        while (*s == ' ' || *s == '\t')
            s++;
        for (size_t i = 0; prefixes[i] != NULL; i++) {
            if (heur_istarts(s, prefixes[i])) {
                s += strlen(prefixes[i]);
                *was_reply_r = true;
                again = true;
                break;
            }
        }
    }
    return s;
}

/* Letter case for ASCII, Latin-1, Greek and Cyrillic: 1 upper, -1 lower,
 * 0 not a cased letter. */
static int letter_case(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return 1;
    if (cp >= 'a' && cp <= 'z')
        return -1;
    if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) || (cp >= 0x391 && cp <= 0x3a9) ||
        (cp >= 0x400 && cp <= 0x42f))
        return 1;
    if ((cp >= 0xdf && cp <= 0xff && cp != 0xf7) || (cp >= 0x3ac && cp <= 0x3ce) ||
        (cp >= 0x430 && cp <= 0x45f))
        return -1;
    return 0;
}

static void subject_case_stats(const char *s, size_t *upper_r, size_t *lower_r, size_t *chars_r)
{
    size_t len = strlen(s), i = 0;
    *upper_r = *lower_r = *chars_r = 0;
    while (i < len) {
        uint32_t cp;
        i += heur_utf8_next(s + i, len - i, &cp);
        (*chars_r)++;
        int c = letter_case(cp);
        if (c > 0)
            (*upper_r)++;
        else if (c < 0)
            (*lower_r)++;
    }
}

/* Rspamd's subject_checks.lua weighs by length: min(1, chars * rate), so
 * a short all-caps "FYI" costs little and a shouted sentence the full
 * score.  The option is the length in characters. */
static void insert_scaled(struct task *task, const char *name, size_t chars, double rate)
{
    double mult = (double)chars * rate;
    task_insertf(task, name, mult < 1.0 ? mult : 1.0, "%zu", chars);
}

static void check_subject_text(struct task *task, const struct headers_ctx *ctx,
                               const struct message *msg, const char *subj)
{
    bool reply;
    const char *stripped = subject_strip_prefixes(subj, &reply);
    size_t upper, lower, chars;

    subject_case_stats(stripped, &upper, &lower, &chars);
    if (lower == 0 && upper > 0)
        insert_scaled(task, "SUBJ_ALL_CAPS", chars, 1.0 / 40.0);
    if ((double)chars > ctx->long_subject)
        insert_scaled(task, "LONG_SUBJ", chars, 1.0 / 400.0);

    size_t len = strlen(subj);
    while (len > 0 && strchr(" \t\r\n", subj[len - 1]) != NULL)
        len--;
    bool threaded = message_header(msg, "In-Reply-To") != NULL ||
                    message_header(msg, "References") != NULL;
    if (len > 0 && subj[len - 1] == '?' && !reply && !threaded)
        task_insert(task, "SUBJECT_ENDS_QUESTION", 1.0, NULL);
    const char *s = subj;
    while (*s == ' ' || *s == '\t')
        s++;
    if (heur_istarts(s, "re:") && !threaded)
        task_insert(task, "FAKE_REPLY", 1.0, NULL);
}

/* Unicode general category Sc (Unicode 14), which Rspamd's \p{Sc} matches. */
static const uint32_t currency_ranges[][2] = {
    {0x24, 0x24},       {0xa2, 0xa5},       {0x58f, 0x58f},     {0x60b, 0x60b},
    {0x7fe, 0x7ff},     {0x9f2, 0x9f3},     {0x9fb, 0x9fb},     {0xaf1, 0xaf1},
    {0xbf9, 0xbf9},     {0xe3f, 0xe3f},     {0x17db, 0x17db},   {0x20a0, 0x20c0},
    {0xa838, 0xa838},   {0xfdfc, 0xfdfc},   {0xfe69, 0xfe69},   {0xff04, 0xff04},
    {0xffe0, 0xffe1},   {0xffe5, 0xffe6},   {0x11fdd, 0x11fe0}, {0x1e2ff, 0x1e2ff},
    {0x1ecb0, 0x1ecb0},
};

static bool has_currency(const char *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += heur_utf8_next(v + i, n - i, &cp);
        for (size_t k = 0; k < sizeof(currency_ranges) / sizeof(currency_ranges[0]); k++)
            if (cp >= currency_ranges[k][0] && cp <= currency_ranges[k][1])
                return true;
    }
    return false;
}

/* Subject=/!\s*$/H */
static bool ends_exclaim(const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == ' ' || (v[n - 1] >= '\t' && v[n - 1] <= '\r')))
        n--;
    return n > 0 && v[n - 1] == '!';
}

/* Rspamd's SUBJECT_HAS_CURRENCY (Subject=/\p{Sc}/Hu), SUBJECT_ENDS_EXCLAIM
 * and SUBJECT_HAS_EXCLAIM (a '!' but not at the end): each regexp may
 * match any of the Subject headers. */
static void check_subject_marks(struct task *task, const struct message *msg)
{
    bool currency = false, exclaim = false, ends = false;
    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next) {
        if (strcasecmp(h->name, "Subject") != 0)
            continue;
        size_t n;
        const char *v = heur_rspamd_text(task->arena, h, &n);
        currency = currency || has_currency(v, n);
        exclaim = exclaim || memchr(v, '!', n) != NULL;
        ends = ends || ends_exclaim(v, n);
    }
    if (currency)
        task_insert(task, "SUBJECT_HAS_CURRENCY", 1.0, NULL);
    if (ends)
        task_insert(task, "SUBJECT_ENDS_EXCLAIM", 1.0, NULL);
    else if (exclaim)
        task_insert(task, "SUBJECT_HAS_EXCLAIM", 1.0, NULL);
}

/* MISSING_SUBJECT when there is no Subject header, EMPTY_SUBJECT when the
 * first one decodes to nothing (Rspamd strips the leading white space, so
 * "Subject:   " is empty too). */
static void check_subject(struct task *task, const struct headers_ctx *ctx, const struct message *msg)
{
    const char *subj = hdr_decoded(msg, "Subject");
    if (message_header(msg, "Subject") == NULL) {
        task_insert(task, "MISSING_SUBJECT", 1.0, NULL);
        return;
    }
    check_subject_marks(task, msg);
    if (subj == NULL || subj[0] == '\0') {
        task_insert(task, "EMPTY_SUBJECT", 1.0, NULL);
        return;
    }
    if (!heur_is_blank(subj, strlen(subj)))
        check_subject_text(task, ctx, msg, subj);
}

/* ---- RFC 2047: needless or missing encoding ---- */

struct encoding_rule {
    const char *header;
    const char *needs;           /* raw 8-bit: NULL = not checked */
    const char *excess_b64;
    const char *excess_qp;
};

static const struct encoding_rule encoding_rules[] = {
    {"Subject", "SUBJECT_NEEDS_ENCODING", "SUBJ_EXCESS_BASE64", "SUBJ_EXCESS_QP"},
    {"From", "FROM_NEEDS_ENCODING", "FROM_EXCESS_BASE64", "FROM_EXCESS_QP"},
    {"To", "TO_NEEDS_ENCODING", "TO_EXCESS_BASE64", "TO_EXCESS_QP"},
    {"Reply-To", NULL, "REPLYTO_EXCESS_BASE64", "REPLYTO_EXCESS_QP"},
};

/* Finds "=?charset?X?" in the raw value; returns 'B', 'Q' or 0.  Both
 * kinds in one value report the first. */
static int encoded_word_kind(const char *p, size_t len, bool *b_r, bool *q_r)
{
    *b_r = *q_r = false;
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] != '=' || p[i + 1] != '?')
            continue;
        size_t j = i + 2;
        while (j < len && p[j] != '?' && p[j] != ' ' && p[j] != '\t')
            j++;
        if (j + 2 < len && p[j] == '?' && p[j + 2] == '?') {
            if (p[j + 1] == 'B' || p[j + 1] == 'b')
                *b_r = true;
            else if (p[j + 1] == 'Q' || p[j + 1] == 'q')
                *q_r = true;
        }
    }
    return *b_r || *q_r;
}

static void check_encodings(struct task *task, const struct message *msg)
{
    for (size_t i = 0; i < sizeof(encoding_rules) / sizeof(encoding_rules[0]); i++) {
        const struct encoding_rule *r = &encoding_rules[i];
        const struct mime_header *h = message_header(msg, r->header);
        bool b, q;
        if (h == NULL)
            continue;
        if (!encoded_word_kind(h->value, h->value_len, &b, &q)) {
            if (r->needs != NULL && heur_needs_encoding(h->value, h->value_len))
                task_insert(task, r->needs, 1.0, NULL);
            continue;
        }
        if (h->decoded == NULL || heur_needs_encoding(h->decoded, strlen(h->decoded)))
            continue;
        if (b)
            task_insert(task, r->excess_b64, 1.0, NULL);
        else if (q)
            task_insert(task, r->excess_qp, 1.0, NULL);
    }
}

/* ---- MIME-Version, unique headers, broken block ---- */

/* Rspamd 3.4's CHECK_MIME: MIME headers (Content-Type or
 * Content-Transfer-Encoding) without MIME-Version.  A plain RFC 822 message
 * with neither is fine. */
static void check_mime_version(struct task *task, const struct message *msg)
{
    if (message_header(msg, "MIME-Version") != NULL) {
        for (const struct mime_header *h = msg->headers; h != NULL; h = h->next)
            if (strcmp(h->name, "Mime-Version") == 0) {
                task_insert(task, "MV_CASE", 1.0, NULL);
                break;
            }
        return;
    }
    if (message_header(msg, "Content-Type") != NULL ||
        message_header(msg, "Content-Transfer-Encoding") != NULL)
        task_insert(task, "MISSING_MIME_VERSION", 1.0, NULL);
}

/* Content-Type=/;$/X: a parameter list that ends in ';' (Rspamd matches
 * the raw value, unfolded). */
static void check_ct_extra_semi(struct task *task, const struct message *msg)
{
    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next) {
        if (strcasecmp(h->name, "Content-Type") != 0)
            continue;
        size_t n;
        const char *v = heur_rspamd_raw(task->arena, h->value, h->value_len, &n);
        if (n > 0 && v[n - 1] == ';') {
            task_insert(task, "CT_EXTRA_SEMI", 1.0, NULL);
            return;
        }
    }
}

static const char *const unique_headers[] = {
    "Content-Type", "Content-Transfer-Encoding", "Date", "From", "Sender", "Reply-To",
    "To", "Cc", "Bcc", "Message-ID", "In-Reply-To", "References", "Subject", NULL,
};

static bool is_unique_header(const char *name)
{
    for (size_t i = 0; unique_headers[i] != NULL; i++)
        if (strcasecmp(unique_headers[i], name) == 0)
            return true;
    return false;
}

/* Rspamd's weights: a second Date or Cc is a clumsy mailer, a second From
 * or Content-Type a forgery.  The largest weight among the repeated names
 * is the multiplier. */
static const double unique_weights[] = {1.0, 1.0, 0.1, 1.0, 1.0, 1.0, 0.2, 0.1, 0.1, 0.7, 0.7, 0.3, 0.7};
_Static_assert(sizeof(unique_weights) / sizeof(unique_weights[0]) + 1 ==
                   sizeof(unique_headers) / sizeof(unique_headers[0]),
               "one weight per unique header");

static void check_unique(struct task *task, const struct message *msg)
{
    const char *names[sizeof(unique_weights) / sizeof(unique_weights[0])];
    size_t n = 0;
    double mult = 0;
    for (size_t i = 0; unique_headers[i] != NULL; i++) {
        if (message_header_count(msg, unique_headers[i]) < 2)
            continue;
        if (unique_weights[i] > mult)
            mult = unique_weights[i];
        names[n++] = unique_headers[i];
    }
    if (n == 0)
        return;
    struct task_symbol *sym = task_insert(task, "MULTIPLE_UNIQUE_HEADERS", mult, names[0]);
    for (size_t i = 1; i < n && sym != NULL; i++)
        task_symbol_add_option(task, sym, names[i], strlen(names[i]));
}

/* At most one count per unique name before a repeat answers true, so
 * this stays linear however many headers there are. */
static bool spaced_duplicate(const struct message *msg)
{
    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next) {
        if (h->raw == NULL || h->raw_len <= h->name_len ||
            (h->raw[h->name_len] != ' ' && h->raw[h->name_len] != '\t') ||
            !is_unique_header(h->name))
            continue;
        if (message_header_count(msg, h->name) > 1)
            return true;
    }
    return false;
}

/* ---- Received, lists, priority, mailer ---- */

static void check_received(struct task *task, const struct message *msg)
{
    static const struct {
        size_t min;
        const char *name;
    } buckets[] = {
        {12, "RCVD_COUNT_TWELVE"}, {7, "RCVD_COUNT_SEVEN"}, {5, "RCVD_COUNT_FIVE"},
        {3, "RCVD_COUNT_THREE"},   {2, "RCVD_COUNT_TWO"},   {1, "RCVD_COUNT_ONE"},
        {0, "RCVD_COUNT_ZERO"},
    };
    size_t n = message_header_count(msg, "Received");
    for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
        if (n >= buckets[i].min) {
            task_insertf(task, buckets[i].name, 1.0, "%zu", n);
            break;
        }
    }
    if (n == 1)
        task_insert(task, "ONCE_RECEIVED", 1.0, NULL);
}

static bool value_ends_with(const char *v, const char *suffix)
{
    if (v == NULL)
        return false;
    size_t len = strlen(v), sl = strlen(suffix);
    while (len > 0 && (v[len - 1] == '>' || v[len - 1] == ' '))
        len--;
    return len >= sl && strncasecmp(v + len - sl, suffix, sl) == 0;
}

static const char *maillist_kind(const struct message *msg)
{
    const char *list_id = hdr_decoded(msg, "List-Id");
    const char *mlist = hdr_decoded(msg, "Mailing-List");

    if (message_header(msg, "X-Mailman-Version") != NULL && list_id != NULL)
        return "mailman";
    if (mlist != NULL && str_isearch(mlist, strlen(mlist), "ezmlm", 5) >= 0)
        return "ezmlm";
    if (message_header(msg, "X-Google-Loop") != NULL || value_ends_with(list_id, "googlegroups.com"))
        return "googlegroups";
    if (list_id != NULL && (message_header(msg, "List-Unsubscribe") != NULL ||
                            message_header(msg, "List-Post") != NULL ||
                            message_header(msg, "List-Help") != NULL ||
                            message_header(msg, "List-Subscribe") != NULL))
        return "generic";
    return NULL;
}

static void check_lists(struct task *task, const struct message *msg)
{
    if (message_header(msg, "List-Unsubscribe") != NULL)
        task_insert(task, "HAS_LIST_UNSUB", 1.0, NULL);
    const char *kind = maillist_kind(msg);
    if (kind != NULL)
        task_insert(task, "MAILLIST", 1.0, kind);
    const char *prec = hdr_decoded(msg, "Precedence");
    if (prec != NULL && heur_istarts(prec, "bulk"))
        task_insert(task, "PRECEDENCE_BULK", 1.0, NULL);
}

static void check_priority(struct task *task, const struct message *msg)
{
    const char *v = hdr_decoded(msg, "X-Priority");
    if (v == NULL)
        return;
    if (*v == ' ')
        v++;
    if (*v < '0' || *v > '9')
        return;
    unsigned long n = 0;
    while (*v >= '0' && *v <= '9' && n < 100)
        n = n * 10 + (unsigned long)(*v++ - '0');
    const char *name = n >= 5 ? "HAS_X_PRIO_FIVE" : n >= 3 ? "HAS_X_PRIO_THREE"
                     : n == 2 ? "HAS_X_PRIO_TWO" : n == 1 ? "HAS_X_PRIO_ONE" : "HAS_X_PRIO_ZERO";
    task_insertf(task, name, 1.0, "%lu", n);
}

static bool has_digit(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= '0' && *s <= '9')
            return true;
    return false;
}

static void check_mailer_version(struct task *task, const struct message *msg)
{
    const char *xm = hdr_decoded(msg, "X-Mailer");
    const char *ua = hdr_decoded(msg, "User-Agent");
    if ((xm != NULL && strstr(xm, "http") != NULL) || (ua != NULL && strstr(ua, "http") != NULL))
        return;
    if ((xm != NULL && xm[0] != '\0' && !has_digit(xm)) ||
        (ua != NULL && ua[0] != '\0' && !has_digit(ua)))
        task_insert(task, "XM_UA_NO_VERSION", 1.0, NULL);
}

/* ---- module ---- */

static int headers_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                             const char **error_r)
{
    bool enabled;
    struct headers_ctx *ctx;

    *ctx_r = NULL;
    symtab_add_many(env->symtab, headers_symbols, sizeof(headers_symbols) / sizeof(headers_symbols[0]));
    if (heur_conf_enabled(section, &enabled, error_r) < 0)
        return -1;
    ctx = ARENA_NEW(env->arena, struct headers_ctx);
    if (heur_conf_double(section, env->arena, "date_future_hours", 2, 0, 1e6,
                         &ctx->date_future_hours, error_r) < 0 ||
        heur_conf_double(section, env->arena, "date_past_hours", 24, 0, 1e6,
                         &ctx->date_past_hours, error_r) < 0 ||
        heur_conf_double(section, env->arena, "long_subject", 200, 1, 1e6, &ctx->long_subject,
                         error_r) < 0)
        return -1;
    heur_psl_init();
    if (enabled)
        *ctx_r = ctx;
    return 0;
}

static int headers_scan(struct task *task, void *vctx)
{
    const struct headers_ctx *ctx = vctx;
    const struct message *msg = task->msg;

    if (msg == NULL)
        return 0;
    check_date(task, ctx, msg);
    check_mid(task, msg);
    check_subject(task, ctx, msg);
    check_encodings(task, msg);
    check_mime_version(task, msg);
    check_ct_extra_semi(task, msg);
    check_unique(task, msg);
    if ((msg->header_block_broken && msg->body_len > 0) || spaced_duplicate(msg))
        task_insert(task, "BROKEN_HEADERS", 1.0, NULL);
    check_received(task, msg);
    check_lists(task, msg);
    check_priority(task, msg);
    check_mailer_version(task, msg);
    return 0;
}

const struct module module_headers = {
    .name = "headers",
    .abi = MODULE_ABI,
    .configure = headers_configure,
    .scan = headers_scan,
};
