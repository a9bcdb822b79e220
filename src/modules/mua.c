/*
 * mua: mail user agents that are not what they claim.  Exchange-style
 * Message-IDs without Exchange (RATWARE_MS_HASH), Outlook's X-MSMail-Priority
 * without its X-MimeOLE (MISSING_MIMEOLE), X-Mailer values no real mailer
 * writes (FORGED_X_MAILER, FORGED_IMS), and Outlook or The Bat! with a
 * Message-ID, boundary or body that mailer does not make.  Names, scores
 * and the regular expressions they stand for follow Rspamd 3.4
 * rules/regexp/headers.lua; on list mail the "mua" group gives way to
 * FORGED_MUA_MAILLIST, as Rspamd's composite of that name does.
 *
 * Rspamd matches each regexp against every instance of the header (any one
 * may match), on the value unfolded its way (heur_rspamd_text()); the
 * matchers below are those regexps written out by hand, each quoted above
 * its function.  Owns nothing beyond its configuration; reads task->msg
 * only, and inserts nothing without one.
 */
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/str.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/heur.h"
#include "modules/module.h"

struct mua_ctx {
    bool enabled;
};

static const struct symbol_def mua_symbols[] = {
    {"RATWARE_MS_HASH", 2.0, "headers", "Forged Exchange messages", 0},
    {"MISSING_MIMEOLE", 2.0, "headers",
     "Mime-OLE is needed but absent (e.g. fake Outlook or fake Exchange)", 0},
    {"FORGED_X_MAILER", 4.5, "headers", "Forged X-Mailer header", 0},
    {"FORGED_IMS", 3.0, "headers", "Forged X-Mailer: Internet Mail Service", 0},
    {"FORGED_MUA_THEBAT_MSGID", 4.0, "mua",
     "Message pretends to be send from The Bat! but has forged Message-ID", 0},
    {"FORGED_MUA_THEBAT_MSGID_UNKNOWN", 3.0, "mua",
     "Message pretends to be send from The Bat! but has forged Message-ID (unknown template)", 0},
    {"FORGED_MUA_THEBAT_BOUN", 2.0, "headers", "Forged The Bat! MUA headers", 0},
    {"FORGED_MUA_OUTLOOK", 3.0, "mua", "Forged outlook MUA", 0},
    {"FORGED_OUTLOOK_HTML", 5.0, "headers", "Forged outlook HTML signature", 0},
    {"FORGED_MUA_MAILLIST", 0.0, "mua", "Avoid false positives for FORGED_MUA_* in maillist", 0},
};

/* Rspamd's composite FORGED_MUA_MAILLIST (g:mua & -MAILLIST): list
 * software rewrites Message-IDs, so on list mail every symbol of the mua
 * group gives way to this one, of weight 0.  MAILLIST comes from the
 * headers module, which the registry scans before this one. */
static void insert_mua_group(struct task *task, const char *name)
{
    if (task_find_symbol(task, "MAILLIST") != NULL)
        name = "FORGED_MUA_MAILLIST";
    task_insert(task, name, 1.0, NULL);
}

/* ---- matching one header value ---- */

typedef bool (*value_pred)(const char *v, size_t n);

/* Does any top-level header called name satisfy pred? */
static bool any_header(struct task *task, const struct message *msg, const char *name,
                       value_pred pred)
{
    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next) {
        if (strcasecmp(h->name, name) != 0)
            continue;
        size_t n;
        const char *v = heur_rspamd_text(task->arena, h, &n);
        if (pred(v, n))
            return true;
    }
    return false;
}

/* Perl's \d (PCRE without UCP: ASCII only). */
static bool re_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool starts(const char *v, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(v, lit, l) == 0;
}

static bool contains(const char *v, size_t n, const char *lit)
{
    return memmem(v, n, lit, strlen(lit)) != NULL;
}

static size_t digits(const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && re_digit(v[i]))
        i++;
    return i;
}

static bool lhex(char c)
{
    return re_digit(c) || (c >= 'a' && c <= 'f');
}

/* \S+ to the end: at least one character, none of them white space. */
static bool nonspace_to_end(const char *v, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (heur_re_space(v[i]))
            return false;
    return true;
}

/* ---- RATWARE_MS_HASH ---- */

/* Message-Id=/[0-9a-f]{4,}\$[0-9a-f]{4,}\$[0-9a-f]{4,}\@\S+/H: the
 * "hex$hex$hex@" shape of Exchange ids.  Each '$' is tried as the first
 * one; the runs between are whole segments, so this stays linear. */
static bool msgid_dollars(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] != '$' || i < 4)
            continue;
        size_t before = 0;
        while (before < 4 && lhex(v[i - 1 - before]))
            before++;
        if (before < 4)
            continue;
        size_t j = i + 1, m = 0;
        while (j + m < n && lhex(v[j + m]))
            m++;
        if (m < 4 || j + m >= n || v[j + m] != '$')
            continue;
        size_t k = j + m + 1, t = 0;
        while (k + t < n && lhex(v[k + t]))
            t++;
        if (t >= 4 && k + t + 1 < n && v[k + t] == '@' && !heur_re_space(v[k + t + 1]))
            return true;
    }
    return false;
}

static bool mimeole_ms(const char *v, size_t n)
{
    return starts(v, n, "Produced By Microsoft MimeOLE");
}

static bool rcvd_with_exchange(const char *v, size_t n)
{
    return contains(v, n, "with Microsoft Exchange Server");
}

/* An Exchange-looking Message-ID on a message neither produced by
 * Microsoft's MIME library nor relayed by Exchange. */
static void check_ratware_ms_hash(struct task *task, const struct message *msg)
{
    if (any_header(task, msg, "Message-Id", msgid_dollars) &&
        !any_header(task, msg, "X-MimeOLE", mimeole_ms) &&
        !any_header(task, msg, "Received", rcvd_with_exchange))
        task_insert(task, "RATWARE_MS_HASH", 1.0, NULL);
}

/* ---- MISSING_MIMEOLE ---- */

/* X-Mailer=/SquirrelMail\b/H */
static bool squirrelmail(const char *v, size_t n)
{
    static const char lit[] = "SquirrelMail";
    const size_t l = sizeof(lit) - 1;
    for (const char *p = v; (p = memmem(p, n - (size_t)(p - v), lit, l)) != NULL; p++) {
        size_t after = (size_t)(p - v) + l;
        if (after == n || !heur_re_word(v[after]))
            return true;
    }
    return false;
}

/* X-Mailer=/^Microsoft (?:Office )?Outlook [12]\d\.0/: Outlook 2007 and
 * later write no X-MimeOLE. */
static bool office_outlook(const char *v, size_t n)
{
    if (!starts(v, n, "Microsoft "))
        return false;
    v += 10;
    n -= 10;
    if (starts(v, n, "Office ")) {
        v += 7;
        n -= 7;
    }
    return starts(v, n, "Outlook ") && n >= 12 && (v[8] == '1' || v[8] == '2') &&
           re_digit(v[9]) && v[10] == '.' && v[11] == '0';
}

/* X-MSMail-Priority comes from Outlook and Outlook Express, which also
 * write X-MimeOLE; ratware copies the first and forgets the second. */
static void check_missing_mimeole(struct task *task, const struct message *msg)
{
    if (message_header(msg, "X-MSMail-Priority") != NULL &&
        message_header(msg, "X-MimeOLE") == NULL &&
        !any_header(task, msg, "X-Mailer", squirrelmail) &&
        !any_header(task, msg, "X-Mailer", office_outlook))
        task_insert(task, "MISSING_MIMEOLE", 1.0, NULL);
}

/* ---- FORGED_X_MAILER, FORGED_IMS ---- */

/* X-Mailer=/^(?:X-Mailer: |(?:Mozilla )?Thunderbird \d|eGroups Message
 * Poster|i(?:Phone|Pad) Mail)/: the header name repeated in its value,
 * Thunderbird (which writes User-Agent), long-dead Yahoo Groups, and
 * anything calling itself Apple Mail on iOS. */
static bool bad_x_mailer(const char *v, size_t n)
{
    if (starts(v, n, "X-Mailer: ") || starts(v, n, "eGroups Message Poster") ||
        starts(v, n, "iPhone Mail") || starts(v, n, "iPad Mail"))
        return true;
    if (starts(v, n, "Mozilla ")) {
        v += 8;
        n -= 8;
    }
    return starts(v, n, "Thunderbird ") && n > 12 && re_digit(v[12]);
}

/* The build letters of the iOS build numbers Apple shipped:
 * (?:1[AC]|[34][AB]|5[ABCFGH]|7[A-E]|8[ABCEFGHJKL]|9[AB]|\d{2}[A-Z]). */
static size_t ios_build_prefix(const char *v, size_t n)
{
    if (n >= 3 && re_digit(v[0]) && re_digit(v[1]) && v[2] >= 'A' && v[2] <= 'Z')
        return 3;
    if (n < 2)
        return 0;
    const char *letters = v[0] == '1' ? "AC" : v[0] == '3' || v[0] == '4' ? "AB"
                        : v[0] == '5' ? "ABCFGH" : v[0] == '7' ? "ABCDE"
                        : v[0] == '8' ? "ABCEFGHJKL" : v[0] == '9' ? "AB" : "";
    return v[1] != '\0' && strchr(letters, v[1]) != NULL ? 2 : 0;
}

/* X-Mailer=/^i(?:Phone|Pad) Mail \(BUILD\d+[a-z]?\)/: the genuine form,
 * e.g. "iPhone Mail (16H5)". */
static bool ios_x_mailer(const char *v, size_t n)
{
    size_t skip = starts(v, n, "iPhone Mail (") ? 13 : starts(v, n, "iPad Mail (") ? 11 : 0;
    if (skip == 0)
        return false;
    v += skip;
    n -= skip;
    size_t b = ios_build_prefix(v, n);
    if (b == 0)
        return false;
    size_t d = digits(v + b, n - b);
    if (d == 0)
        return false;
    size_t i = b + d;
    if (i < n && v[i] >= 'a' && v[i] <= 'z')
        i++;
    return i < n && v[i] == ')';
}

static bool ims_x_mailer(const char *v, size_t n)
{
    return starts(v, n, "Internet Mail Service (5.");
}

/* Received=/^by \S+ with Internet Mail Service \(5\./: Exchange 5.5 names
 * itself in its own Received line; a forger copies only the X-Mailer. */
static bool rcvd_ims(const char *v, size_t n)
{
    if (!starts(v, n, "by ") || n < 4 || heur_re_space(v[3]))
        return false;
    static const char tail[] = " with Internet Mail Service (5.";
    const size_t tl = sizeof(tail) - 1;
    /* \S+ then the tail: the host ends at the first white space. */
    size_t i = 3;
    while (i < n && !heur_re_space(v[i]))
        i++;
    return n - i >= tl && memcmp(v + i, tail, tl) == 0;
}

static void check_x_mailer(struct task *task, const struct message *msg)
{
    if (any_header(task, msg, "X-Mailer", bad_x_mailer) &&
        !any_header(task, msg, "X-Mailer", ios_x_mailer))
        task_insert(task, "FORGED_X_MAILER", 1.0, NULL);
    if (any_header(task, msg, "X-Mailer", ims_x_mailer) &&
        !any_header(task, msg, "Received", rcvd_ims))
        task_insert(task, "FORGED_IMS", 1.0, NULL);
}

/* ---- unusable Message-IDs ---- */

/* List-Unsubscribe=/<mailto:(?:leave-\S+|\S+-unsubscribe)\@\S+>$/H: a
 * Lyris or ezmlm remailer, which replaces the Message-ID. */
static bool lyris_ezmlm(const char *v, size_t n)
{
    static const char mailto[] = "<mailto:";
    const size_t ml = sizeof(mailto) - 1;
    for (const char *p = v; (p = memmem(p, n - (size_t)(p - v), mailto, ml)) != NULL; p++) {
        const char *r = p + ml;
        size_t rl = n - (size_t)(r - v);
        if (!nonspace_to_end(r, rl) || r[rl - 1] != '>')
            continue;
        rl--;                                   /* r[0..rl) is \S only */
        bool leave = starts(r, rl, "leave-");
        for (size_t at = 0; at + 1 < rl; at++) {
            if (r[at] != '@')
                continue;
            if ((leave && at >= 7) ||
                (at >= 13 && memcmp(r + at - 12, "-unsubscribe", 12) == 0))
                return true;
        }
    }
    return false;
}

static bool wacky_sendmail(const char *v, size_t n)
{
    return contains(v, n, "/CWT/DCE)");
}

static bool iplanet(const char *v, size_t n)
{
    return contains(v, n, "iPlanet Messaging Server");
}

static bool upper_alnum(char c)
{
    return re_digit(c) || (c >= 'A' && c <= 'Z');
}

/* PREFIX\d+[A-Z0-9]{25}@ at v: the segment up to '@' is at least 26
 * upper-case letters or digits, all digits but the last 25.  Returns the
 * offset after '@', or 0. */
static size_t hotmail_tail(const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && upper_alnum(v[i]))
        i++;
    if (i < 26 || i >= n || v[i] != '@' || digits(v, i - 25) != i - 25)
        return 0;
    return i + 1;
}

/* Message-Id=/^<?BAY\d+-DAV\d+[A-Z0-9]{25}\@phx\.gbl?>$/H and
 * Message-Id=/^<?BAYC\d+-PASMTP\d+[A-Z0-9]{25}\@CEZ\.ICE>?$/H: Hotmail
 * and Sympatico gateways. */
static bool hotmail_msgid(const char *v, size_t n)
{
    bool bracket = n > 0 && v[0] == '<';
    if (bracket) {
        v++;
        n--;
    }
    bool baydav = starts(v, n, "BAY") && !starts(v, n, "BAYC");
    const char *mid = baydav ? "-DAV" : "-PASMTP";
    size_t i = baydav ? 3 : starts(v, n, "BAYC") ? 4 : 0;
    if (i == 0)
        return false;
    size_t d = digits(v + i, n - i);
    if (d == 0 || !starts(v + i + d, n - i - d, mid))
        return false;
    i += d + strlen(mid);
    size_t dd = digits(v + i, n - i);
    if (dd == 0)
        return false;
    size_t t = hotmail_tail(v + i, n - i);
    if (t == 0)
        return false;
    v += i + t;
    n -= i + t;
    if (baydav)
        return (n == 7 && memcmp(v, "phx.gb>", 7) == 0) || (n == 8 && memcmp(v, "phx.gbl>", 8) == 0);
    return (n == 7 && memcmp(v, "CEZ.ICE", 7) == 0) || (n == 8 && memcmp(v, "CEZ.ICE>", 8) == 0);
}

static bool mailman_local_char(char c)
{
    return heur_re_word(c) || c == '-' || c == '+' || c == '.' || c == ':' || c == '=';
}

/* Message-ID=/^<mailman\.\d+\.\d+\.\d+\.[-+.:=\w]+@[-a-zA-Z\d.]+>$/H */
static bool mailman_msgid(const char *v, size_t n)
{
    if (!starts(v, n, "<mailman.") || v[n - 1] != '>')
        return false;
    size_t i = 9;
    for (int k = 0; k < 3; k++) {
        size_t d = digits(v + i, n - i);
        if (d == 0 || i + d >= n || v[i + d] != '.')
            return false;
        i += d + 1;
    }
    size_t s = i;
    while (i < n && mailman_local_char(v[i]))
        i++;
    if (i == s || i >= n || v[i] != '@')
        return false;
    size_t ds = ++i;
    while (i < n - 1 && (v[i] == '-' || v[i] == '.' || (heur_re_word(v[i]) && v[i] != '_')))
        i++;
    return i > ds && i == n - 1;
}

/* Rspamd's unusable_msgid: remailers and servers that write their own
 * Message-ID, so the mailer's template cannot be checked. */
static bool msgid_unusable(struct task *task, const struct message *msg)
{
    return any_header(task, msg, "List-Unsubscribe", lyris_ezmlm) ||
           any_header(task, msg, "Received", wacky_sendmail) ||
           any_header(task, msg, "Received", iplanet) ||
           any_header(task, msg, "Message-Id", hotmail_msgid) ||
           any_header(task, msg, "Message-ID", mailman_msgid);
}

/* ---- Outlook ---- */

static bool run_of(const char *v, size_t n, bool (*cls)(char))
{
    for (size_t i = 0; i < n; i++)
        if (!cls(v[i]))
            return false;
    return true;
}

static bool upper_hex(char c)
{
    return re_digit(c) || (c >= 'A' && c <= 'F');
}

static bool alnum(char c)
{
    return heur_re_word(c) && c != '_';
}

static bool alnum_dash(char c)
{
    return alnum(c) || c == '-';
}

/* X-Mailer=/\bOutlook Express [456]\./H (not anchored). */
static bool oe_mua(const char *v, size_t n)
{
    static const char lit[] = "Outlook Express ";
    const size_t l = sizeof(lit) - 1;
    for (const char *p = v; (p = memmem(p, n - (size_t)(p - v), lit, l)) != NULL; p++) {
        size_t i = (size_t)(p - v) + l;
        if ((p == v || !heur_re_word(p[-1])) && i + 1 < n && v[i] >= '4' && v[i] <= '6' &&
            v[i + 1] == '.')
            return true;
    }
    return false;
}

/* Message-Id=/^<?[A-Za-z0-9-]{7}[A-Za-z0-9]{20}\@hotmail\.com>?$/mH:
 * Outlook Express through Hotmail. */
static bool oe_msgid_hotmail(const char *v, size_t n)
{
    size_t i = n > 0 && v[0] == '<' ? 1 : 0;
    if (n - i < 39 || !run_of(v + i, 7, alnum_dash) || !run_of(v + i + 7, 20, alnum) ||
        memcmp(v + i + 27, "@hotmail.com", 12) != 0)
        return false;
    size_t rest = n - i - 39;
    return rest == 0 || (rest == 1 && v[n - 1] == '>');
}

/* Drops the optional '<' of /^<?.../; a closing '>' is left to the \S+
 * that ends each of these patterns (\S+>?$ is \S+$). */
static void strip_open(const char **v, size_t *n)
{
    if (*n > 0 && (*v)[0] == '<') {
        (*v)++;
        (*n)--;
    }
}

/* Message-Id=/^<?(?:[0-9a-f]{8}|[0-9a-f]{12})\$[0-9a-f]{8}\$[0-9a-f]{8}\@\S+>?$/H:
 * Outlook Express and Outlook 97-2002. */
static bool oe_msgid_dollars(const char *v, size_t n)
{
    strip_open(&v, &n);
    size_t h = 0;
    while (h < n && h <= 12 && lhex(v[h]))
        h++;
    if ((h != 8 && h != 12) || n - h < 20 || v[h] != '$' || !run_of(v + h + 1, 8, lhex) ||
        v[h + 9] != '$' || !run_of(v + h + 10, 8, lhex) || v[h + 18] != '@')
        return false;
    return nonspace_to_end(v + h + 19, n - h - 19);
}

/* X-Mailer=/^Microsoft Outlook(?: 8| CWS, Build 9|, Build 10)\./H */
static bool outlook_dollars_mua(const char *v, size_t n)
{
    return starts(v, n, "Microsoft Outlook 8.") || starts(v, n, "Microsoft Outlook CWS, Build 9.") ||
           starts(v, n, "Microsoft Outlook, Build 10.");
}

/* Message-Id=/^<?\!\~\!>?/H: Outlook 2000 and later. */
static bool outlook_dollars_other(const char *v, size_t n)
{
    strip_open(&v, &n);
    return starts(v, n, "!~!");
}

/* /^<?[A-F\d]{min,max}\@\S+>?$/: upper-case hex ids of Vista's mailer
 * (32) and Exchange's IMS (36 to 40). */
static bool upper_hex_msgid(const char *v, size_t n, size_t min, size_t max)
{
    strip_open(&v, &n);
    size_t h = 0;
    while (h < n && upper_hex(v[h]))
        h++;
    return h >= min && h <= max && h < n && v[h] == '@' && nonspace_to_end(v + h + 1, n - h - 1);
}

static bool vista_msgid(const char *v, size_t n)
{
    return upper_hex_msgid(v, n, 32, 32);
}

static bool ims_msgid(const char *v, size_t n)
{
    return upper_hex_msgid(v, n, 36, 40);
}

/* v equals pattern where each '.' of the pattern stands for any
 * character, as in Rspamd's unescaped X-Mailer=/^...$/ exclusions. */
static bool equals_dot_any(const char *v, size_t n, const char *pattern)
{
    size_t l = strlen(pattern);
    if (n != l)
        return false;
    for (size_t i = 0; i < l; i++)
        if (pattern[i] != '.' && pattern[i] != v[i])
            return false;
    return true;
}

/* Genuine builds whose Message-IDs fit no template. */
static bool outlook_excluded(const char *v, size_t n)
{
    return equals_dot_any(v, n, "Microsoft Outlook, Build 10.0.3416") ||
           equals_dot_any(v, n, "Microsoft Outlook Express 6.00.3790.3959");
}

/* Rspamd's FORGED_MUA_OUTLOOK: Outlook Express, or Outlook 97-2002, whose
 * Message-ID has none of the shapes those versions write. */
static bool forged_outlook(struct task *task, const struct message *msg)
{
    bool oe = any_header(task, msg, "X-Mailer", oe_mua) &&
              !any_header(task, msg, "Message-Id", oe_msgid_hotmail) &&
              !any_header(task, msg, "Message-Id", oe_msgid_dollars);
    bool dollars = !oe && any_header(task, msg, "X-Mailer", outlook_dollars_mua) &&
                   !any_header(task, msg, "Message-Id", oe_msgid_dollars) &&
                   !any_header(task, msg, "Message-Id", outlook_dollars_other) &&
                   !any_header(task, msg, "Message-Id", ims_msgid);
    return (oe || dollars) && !any_header(task, msg, "Message-Id", vista_msgid) &&
           !any_header(task, msg, "X-Mailer", outlook_excluded) && !msgid_unusable(task, msg);
}

/* X-Mailer=/^Microsoft Outlook\b/H */
static bool outlook_mua(const char *v, size_t n)
{
    return starts(v, n, "Microsoft Outlook") && (n == 17 || !heur_re_word(v[17]));
}

/* Received=/from \[\S+\] by \S+\.(?:groups|scd|dcn)\.yahoo\.com with NNFMP/H:
 * Yahoo Groups, which passes Outlook's X-Mailer through its own HTML. */
static bool yahoo_bulk(const char *v, size_t n)
{
    static const char from[] = "from [";
    const size_t fl = sizeof(from) - 1;
    for (const char *p = v; (p = memmem(p, n - (size_t)(p - v), from, fl)) != NULL; p++) {
        size_t i = (size_t)(p - v) + fl, s = i;
        while (i < n && !heur_re_space(v[i]))
            i++;
        if (i - s < 2 || v[i - 1] != ']' || !starts(v + i, n - i, " by "))
            continue;
        s = i += 4;
        while (i < n && !heur_re_space(v[i]))
            i++;
        static const char *const hosts[] = {".groups.yahoo.com", ".scd.yahoo.com", ".dcn.yahoo.com"};
        for (size_t k = 0; k < 3; k++) {
            size_t hl = strlen(hosts[k]);
            if (i - s > hl && memcmp(v + i - hl, hosts[k], hl) == 0 &&
                starts(v + i, n - i, " with NNFMP"))
                return true;
        }
    }
    return false;
}

/* Rspamd's has_only_html_part() looks at the first text part only. */
static bool first_text_part_html(const struct message *msg)
{
    return msg->ntext_parts > 0 && msg->text_parts[0].html;
}

static void check_outlook(struct task *task, const struct message *msg)
{
    if (forged_outlook(task, msg))
        insert_mua_group(task, "FORGED_MUA_OUTLOOK");
    if (first_text_part_html(msg) && any_header(task, msg, "X-Mailer", outlook_mua) &&
        !any_header(task, msg, "Received", yahoo_bulk))
        task_insert(task, "FORGED_OUTLOOK_HTML", 1.0, NULL);
}

/* ---- The Bat! ---- */

/* X-Mailer=/^\s*The Bat!/H */
static bool thebat_any(const char *v, size_t n)
{
    while (n > 0 && heur_re_space(*v)) {
        v++;
        n--;
    }
    return starts(v, n, "The Bat!");
}

/* Message-ID=/^<?\d+\.\d+\@\S+>?$/mH: The Bat!'s "digits.digits@host". */
static bool thebat_msgid_common(const char *v, size_t n)
{
    size_t i = n > 0 && v[0] == '<' ? 1 : 0;
    size_t d = digits(v + i, n - i);
    if (d == 0 || i + d >= n || v[i + d] != '.')
        return false;
    i += d + 1;
    d = digits(v + i, n - i);
    if (d == 0 || i + d >= n || v[i + d] != '@')
        return false;
    i += d + 1;
    return nonspace_to_end(v + i, n - i);
}

/* Two digits, each within [lo0-hi0][lo1-hi1]. */
static bool two(const char *v, char lo0, char hi0, char lo1, char hi1)
{
    return v[0] >= lo0 && v[0] <= hi0 && v[1] >= lo1 && v[1] <= hi1;
}

/* Message-ID=/^<?\d+\.(19[789]\d|20\d\d)(0\d|1[012])([012]\d|3[01])
 * ([0-5]\d)([0-5]\d)([0-5]\d)\@\S+>?/mH: the correct template, a
 * counter then the YYYYMMDDhhmmss of sending. */
static bool thebat_msgid(const char *v, size_t n)
{
    size_t i = n > 0 && v[0] == '<' ? 1 : 0;
    size_t d = digits(v + i, n - i);
    if (d == 0 || i + d >= n || v[i + d] != '.')
        return false;
    i += d + 1;
    if (n - i < 16)
        return false;
    const char *t = v + i;
    bool year = (t[0] == '1' && t[1] == '9' && t[2] >= '7' && t[2] <= '9' && re_digit(t[3])) ||
                (t[0] == '2' && t[1] == '0' && re_digit(t[2]) && re_digit(t[3]));
    bool month = two(t + 4, '0', '0', '0', '9') || two(t + 4, '1', '1', '0', '2');
    bool day = two(t + 6, '0', '2', '0', '9') || two(t + 6, '3', '3', '0', '1');
    bool hms = two(t + 8, '0', '5', '0', '9') && two(t + 10, '0', '5', '0', '9') &&
               two(t + 12, '0', '5', '0', '9');
    return year && month && day && hms && t[14] == '@' && !heur_re_space(t[15]);
}

/* X-Mailer=/^The Bat! \(v1\./H */
static bool thebat_v1(const char *v, size_t n)
{
    return starts(v, n, "The Bat! (v1.");
}

static bool ct_has_boundary(const char *v, size_t n)
{
    return str_isearch(v, n, "boundary", 8) >= 0;
}

/* Content-Type=/boundary=\"?-{10}/H: The Bat! 1.x boundaries start with
 * ten dashes. */
static bool bat_boundary(const char *v, size_t n)
{
    static const char lit[] = "boundary=";
    const size_t l = sizeof(lit) - 1;
    for (const char *p = v; (p = memmem(p, n - (size_t)(p - v), lit, l)) != NULL; p++) {
        size_t i = (size_t)(p - v) + l;
        if (i < n && v[i] == '"')
            i++;
        size_t dashes = 0;
        while (i + dashes < n && v[i + dashes] == '-' && dashes < 10)
            dashes++;
        if (dashes == 10)
            return true;
    }
    return false;
}

static bool has_digit(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (re_digit(v[i]))
            return true;
    return false;
}

static void check_thebat(struct task *task, const struct message *msg)
{
    if (any_header(task, msg, "X-Mailer", thebat_any) &&
        !any_header(task, msg, "Message-ID", thebat_msgid) && !msgid_unusable(task, msg)) {
        if (any_header(task, msg, "Message-ID", thebat_msgid_common))
            insert_mua_group(task, "FORGED_MUA_THEBAT_MSGID");
        else
            insert_mua_group(task, "FORGED_MUA_THEBAT_MSGID_UNKNOWN");
    }
    if (any_header(task, msg, "X-Mailer", thebat_v1) &&
        any_header(task, msg, "Content-Type", ct_has_boundary) &&
        !any_header(task, msg, "Content-Type", bat_boundary) &&
        !any_header(task, msg, "X-Mailman-Version", has_digit))
        task_insert(task, "FORGED_MUA_THEBAT_BOUN", 1.0, NULL);
}

/* ---- module ---- */

static int mua_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                         const char **error_r)
{
    struct mua_ctx *ctx;

    *ctx_r = NULL;
    symtab_add_many(env->symtab, mua_symbols, sizeof(mua_symbols) / sizeof(mua_symbols[0]));
    ctx = ARENA_NEW(env->arena, struct mua_ctx);
    if (heur_conf_enabled(section, &ctx->enabled, error_r) < 0)
        return -1;
    if (ctx->enabled)
        *ctx_r = ctx;
    return 0;
}

static int mua_scan(struct task *task, void *ctx)
{
    const struct message *msg = task->msg;
    (void)ctx;
    if (msg == NULL)
        return 0;
    check_ratware_ms_hash(task, msg);
    check_missing_mimeole(task, msg);
    check_x_mailer(task, msg);
    check_outlook(task, msg);
    check_thebat(task, msg);
    return 0;
}

const struct module module_mua = {
    .name = "mua",
    .abi = MODULE_ABI,
    .configure = mua_configure,
    .scan = mua_scan,
};
