/*
 * addr_compat: address headers read as Rspamd 3.4 reads them.  Three
 * steps, each a port of Rspamd's: comments are cut out of the value
 * (email_addr.c, with its quirk of keeping the closing parenthesis), the
 * value is split into tokens ("<...>" or text containing '@' before a
 * comma), and each token is checked against the RFC 5321 path grammar
 * (ragel/smtp_address.rl).  A token that fails the grammar is still an
 * address, taken apart heuristically: the domain is what follows the last
 * '@'.
 *
 * Owns nothing: results live in the caller's arena.  Every read is bounded
 * by the length passed in; at most ADDR_COMPAT_MAX addresses are kept.
 */
#include "modules/addr_compat.h"

#include <string.h>

#include "core/arena.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/heur.h"

/* ---- the RFC 5321 path grammar (smtp_base.rl, smtp_address.rl) ---- */

static bool rl_alnum(char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* UTF8_non_ascii: a lead byte and its continuation bytes (overlong forms
 * are not refused, as in the grammar).  Returns its length or 0. */
static size_t utf8_seq(const char *p, size_t n)
{
    unsigned char c = (unsigned char)p[0];
    size_t len = c >= 0xc0 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf7 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if (((unsigned char)p[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* One atext character (ASCII or a UTF-8 sequence): its length or 0. */
static size_t atext(const char *p, size_t n)
{
    if ((unsigned char)p[0] >= 0x80)
        return utf8_seq(p, n);
    if (p[0] == '\0')
        return 0;
    return rl_alnum(p[0]) || strchr("!#$%&'*+_/=?^-`{|}~", p[0]) != NULL ? 1 : 0;
}

/* Let_dig: a letter, a digit or a UTF-8 sequence. */
static size_t let_dig(const char *p, size_t n)
{
    if ((unsigned char)p[0] >= 0x80)
        return utf8_seq(p, n);
    return rl_alnum(p[0]) ? 1 : 0;
}

/* Dot_string = Atom ("." Atom)*.  Length, or 0 when a dot is not followed
 * by an atom (the grammar has no way out there). */
static size_t dot_string(const char *p, size_t n)
{
    size_t i = 0, k;
    for (;;) {
        size_t start = i;
        while (i < n && (k = atext(p + i, n - i)) > 0)
            i += k;
        if (i == start)
            return 0;
        if (i < n && p[i] == '.') {
            i++;
            continue;
        }
        return i;
    }
}

/* Quoted_string: DQUOTE (qtextSMTP | "\" 32..126)* DQUOTE.  Length with
 * both quotes, or 0. */
static size_t quoted_string(const char *p, size_t n, bool *backslash_r)
{
    *backslash_r = false;
    for (size_t i = 1; i < n;) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (i + 1 >= n || (unsigned char)p[i + 1] < 32 || (unsigned char)p[i + 1] > 126)
                return 0;
            *backslash_r = true;
            i += 2;
        } else if (c >= 0x80) {
            size_t k = utf8_seq(p + i, n - i);
            if (k == 0)
                return 0;
            i += k;
        } else if (c >= 32 && c <= 126) {
            i++;
        } else {
            return 0;
        }
    }
    return 0;
}

/* Ldh_str = (Let_dig | "_" | "-")* Let_dig, taken greedily; with
 * need_let_dig_first it is a sub_domain (Let_dig Ldh_str?).  Length or 0. */
static size_t ldh(const char *p, size_t n, bool need_let_dig_first)
{
    size_t i = 0, k;
    bool last_ld = false;
    while (i < n) {
        if ((k = let_dig(p + i, n - i)) > 0) {
            i += k;
            last_ld = true;
        } else if ((p[i] == '_' || p[i] == '-') && !(need_let_dig_first && i == 0)) {
            i++;
            last_ld = false;
        } else {
            break;
        }
    }
    return last_ld ? i : 0;
}

/* Domain = sub_domain ("." sub_domain)*.  A final dot not followed by a
 * label is left to the caller (the grammar's optional "." after the
 * mailbox). */
static size_t domain(const char *p, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t k = ldh(p + i, n - i, true);
        if (k == 0)
            return 0;
        i += k;
        if (i + 1 < n && p[i] == '.' && let_dig(p + i + 1, n - i - 1) > 0) {
            i++;
            continue;
        }
        return i;
    }
}

/* Snum ("." Snum){3} with Snum = 1-3 digits. */
static size_t ipv4_literal(const char *p, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t d = 0;
        while (i + d < n && d < 3 && p[i + d] >= '0' && p[i + d] <= '9')
            d++;
        if (d == 0)
            return 0;
        i += d;
        if (part < 3) {
            if (i >= n || p[i] != '.')
                return 0;
            i++;
        }
    }
    return i;
}

/* address_literal: "[" (IPv4 | Standardized_tag ":" dcontent+) "]"; the
 * IPv6 form is a tagged one.  Returns the length with the brackets;
 * *in_len_r is the length of the inside. */
static size_t address_literal(const char *p, size_t n, size_t *in_len_r)
{
    size_t k = ipv4_literal(p + 1, n - 1);
    if (k > 0 && 1 + k < n && p[1 + k] == ']') {
        *in_len_r = k;
        return k + 2;
    }
    size_t tag = ldh(p + 1, n - 1, false);
    size_t i = 1 + tag;
    if (tag == 0 || i >= n || p[i] != ':')
        return 0;
    size_t start = ++i;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        size_t u;
        if ((c >= 33 && c <= 90) || (c >= 94 && c <= 126))
            i++;
        else if (c >= 0x80 && (u = utf8_seq(p + i, n - i)) > 0)
            i += u;
        else
            break;
    }
    if (i == start || i >= n || p[i] != ']')
        return 0;
    *in_len_r = i - 1;
    return i + 1;
}

struct path {
    size_t addr, addr_len, user, user_len, dom, dom_len;
    bool quoted, backslash, empty;
};

/* Adl ":" = "@" Domain ("," "@" Domain)* ":".  Length or 0. */
static size_t source_route(const char *p, size_t n)
{
    size_t i = 0;
    for (;;) {
        if (i >= n || p[i] != '@')
            return 0;
        size_t d = domain(p + i + 1, n - i - 1);
        if (d == 0)
            return 0;
        i += 1 + d;
        if (i < n && p[i] == ',') {
            i++;
            continue;
        }
        return i < n && p[i] == ':' ? i + 1 : 0;
    }
}

/* Mailbox = Local_part "@" (address_literal | Domain), from p[i]. */
static bool mailbox(const char *p, size_t n, size_t *i_r, struct path *r)
{
    size_t i = *i_r, k;
    r->addr = i;
    if (i < n && p[i] == '"') {
        k = quoted_string(p + i, n - i, &r->backslash);
        r->quoted = true;
        r->user = i + 1;
        r->user_len = k >= 2 ? k - 2 : 0;
    } else {
        k = dot_string(p + i, n - i);
        r->user = i;
        r->user_len = k;
    }
    if (k == 0 || i + k >= n || p[i + k] != '@')
        return false;
    i += k + 1;
    if (i < n && p[i] == '[') {
        k = address_literal(p + i, n - i, &r->dom_len);
        r->dom = i + 1;
    } else {
        k = i < n ? domain(p + i, n - i) : 0;
        r->dom = i;
        r->dom_len = k;
    }
    if (k == 0)
        return false;
    i += k;
    r->addr_len = i - r->addr;
    *i_r = i;
    return true;
}

/* SMTPAddr = space* (Path | "<>") space*.  Rspamd marks the address valid
 * on leaving the path, so what follows the first white space after it is
 * never looked at. */
static bool smtp_path(const char *p, size_t n, struct path *r)
{
    size_t i = 0;
    memset(r, 0, sizeof(*r));
    while (i < n && heur_re_space(p[i]))
        i++;
    if (n - i >= 2 && p[i] == '<' && p[i + 1] == '>') {
        r->empty = true;
        return i + 2 == n || heur_re_space(p[i + 2]);
    }
    bool angled = i < n && p[i] == '<';
    if (angled)
        i++;
    if (i < n && p[i] == '@') {
        size_t k = source_route(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    if (!mailbox(p, n, &i, r))
        return false;
    if (i < n && p[i] == '.')
        i++;
    if (angled) {
        if (i >= n || p[i] != '>')
            return false;
        i++;
    }
    return i == n || heur_re_space(p[i]);
}

/* ---- list building ---- */

static void list_push_max(struct arena *arena, struct compat_addrlist *l,
                          const struct compat_addr *a, size_t max)
{
    if (l->n >= max)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 4 : l->cap * 2;
        struct compat_addr *na = ARENA_NEW_N(arena, struct compat_addr, cap);
        if (l->n > 0)
            memcpy(na, l->a, l->n * sizeof(*na));
        l->a = na;
        l->cap = cap;
    }
    l->a[l->n++] = *a;
}

static void list_push(struct arena *arena, struct compat_addrlist *l, const struct compat_addr *a)
{
    list_push_max(arena, l, a, ADDR_COMPAT_MAX);
}

static void add_empty(struct arena *arena, struct compat_addrlist *l)
{
    struct compat_addr a = {.addr = "", .user = "", .domain = ""};
    list_push(arena, l, &a);
}

static void add_valid(struct arena *arena, struct compat_addrlist *l, const char *p,
                      const struct path *r)
{
    struct compat_addr a = {.valid = true, .addr = "", .user = "", .domain = ""};
    if (!r->empty) {
        a.domain = arena_strndup(arena, p + r->dom, r->dom_len);
        a.domain_len = r->dom_len;
        a.user = arena_strndup(arena, p + r->user, r->user_len);
        if (r->quoted) {
            /* Rspamd rebuilds a quoted address as user@domain, without
             * the quotes (and without backslashes). */
            char *s = arena_alloc(arena, r->user_len + r->dom_len + 2);
            size_t k = 0;
            for (size_t i = 0; i < r->user_len; i++)
                if (!r->backslash || p[r->user + i] != '\\')
                    s[k++] = p[r->user + i];
            s[k++] = '@';
            memcpy(s + k, p + r->dom, r->dom_len);
            k += r->dom_len;
            s[k] = '\0';
            a.addr = s;
            a.addr_len = k;
        } else {
            a.addr = arena_strndup(arena, p + r->addr, r->addr_len);
            a.addr_len = r->addr_len;
        }
    }
    list_push(arena, l, &a);
}

/* rspamd_email_address_parse_heuristic(): "<...>" up to the first '>',
 * or the whole token; the domain follows the last '@'. */
static void add_heuristic(struct arena *arena, struct compat_addrlist *l, const char *p, size_t n)
{
    struct compat_addr a = {.user = "", .domain = ""};
    if (p[0] == '<' && n > 1) {
        const char *gt = memchr(p + 1, '>', n - 1);
        n = gt != NULL ? (size_t)(gt - (p + 1)) : n - 1;
        p++;
    }
    a.addr = arena_strndup(arena, p, n);
    a.addr_len = n;
    const char *at = n > 0 ? memrchr(p, '@', n) : NULL;
    if (at != NULL && at + 1 < p + n) {
        a.domain_len = n - (size_t)(at + 1 - p);
        a.domain = arena_strndup(arena, at + 1, a.domain_len);
        a.user = arena_strndup(arena, p, (size_t)(at - p));
    }
    a.has_8bit = heur_has_8bit(p, n);
    list_push(arena, l, &a);
}

/* rspamd_email_address_check_and_add(); false for an empty token. */
static bool check_and_add(struct arena *arena, struct compat_addrlist *l, const char *p, size_t n)
{
    struct path r;
    if (n == 0)
        return false;
    if (smtp_path(p, n, &r))
        add_valid(arena, l, p, &r);
    else
        add_heuristic(arena, l, p, n);
    return true;
}

/* Rspamd's first pass: comments go, except that the character closing
 * the outermost one is kept; quoted strings and backslash pairs stay. */
static char *strip_comments(struct arena *arena, const char *p, size_t n, size_t *len_r)
{
    char *out = arena_alloc(arena, n + 1);
    size_t k = 0, open = 0, close = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (!quoted) {
            if (p[i] == '\\') {
                if (open == 0)
                    out[k++] = p[i];
                i++;
            } else {
                if (p[i] == '"')
                    quoted = true;
                else if (p[i] == '(')
                    open++;
                else if (p[i] == ')')
                    close++;
                if (open == close)
                    open = close = 0;
            }
            if (i < n && open == 0)
                out[k++] = p[i];
        } else {
            if (p[i] == '\\') {
                out[k++] = p[i];
                i++;
            } else if (p[i] == '"') {
                quoted = false;
            }
            if (i < n)
                out[k++] = p[i];
        }
    }
    out[k] = '\0';
    *len_r = k;
    return out;
}

enum split_state { IN_NAME, IN_QUOTED, IN_ADDR, SKIP_SPACES };

void addr_compat_parse(struct arena *arena, const char *value, size_t len,
                       struct compat_addrlist *list)
{
    size_t n;
    const char *s = strip_comments(arena, value, len, &n);
    enum split_state state = IN_NAME;
    size_t p = 0, c = 0;
    bool seen_at = false;

    while (p < n) {
        switch (state) {
        case IN_NAME:
            if (s[p] == '"') {
                state = IN_QUOTED;
                c = p + 1;
            } else if (s[p] == '<') {
                c = p;
                state = IN_ADDR;
            } else if (s[p] == ',') {
                if (p > c && seen_at) {
                    size_t t = p - 1;
                    while (t > c && heur_re_space(s[t]))
                        t--;
                    if (!check_and_add(arena, list, s + c, t - c + 1))
                        add_empty(arena, list);
                    seen_at = false;
                }
                state = SKIP_SPACES;
            } else if (s[p] == '@') {
                seen_at = true;
            }
            p++;
            break;
        case IN_QUOTED:
            if (s[p] == '\\')
                p++;
            else if (s[p] == '"')
                state = SKIP_SPACES;
            p++;
            break;
        case IN_ADDR:
            if (s[p] == '>') {
                if (!check_and_add(arena, list, s + c, p - c + 1))
                    add_empty(arena, list);
                seen_at = false;
                state = SKIP_SPACES;
            } else if (s[p] == '@') {
                seen_at = true;
            }
            p++;
            break;
        case SKIP_SPACES:
            if (!heur_re_space(s[p])) {
                c = p;
                state = IN_NAME;
            } else {
                p++;
            }
            break;
        }
    }
    /* The leftover.  Rspamd's trailing-space trim starts on the string's
     * terminator and so never trims: the token keeps its spaces. */
    if (p > n)
        p = n;
    if (state == IN_NAME && p > c) {
        if (!(seen_at && check_and_add(arena, list, s + c, p - c)) && list->n == 0)
            add_empty(arena, list);
    } else if (state == IN_ADDR && p > c) {
        if (!check_and_add(arena, list, s + c, p - c) && list->n == 0)
            add_empty(arena, list);
    }
}

/* All addresses of the top-level headers whose names are in names
 * (NULL-terminated), in document order: {"From", NULL} gives Rspamd's
 * get_from('mime'), {"To", "Cc", "Bcc", NULL} its get_recipients('mime'). */
static void headers_parse(struct arena *arena, const struct message *msg,
                          const char *const *names, struct compat_addrlist *list)
{
    memset(list, 0, sizeof(*list));
    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next) {
        for (size_t i = 0; names[i] != NULL; i++) {
            if (strcasecmp(h->name, names[i]) != 0)
                continue;
            size_t n;
            const char *v = heur_rspamd_raw(arena, h->value, h->value_len, &n);
            addr_compat_parse(arena, v, n, list);
            break;
        }
    }
}

/* ---- EMAIL_PLUS_ALIASES ---- */

/* Lua's '^([^%+][^%+]*)(%+.*)$': the user up to its first '+', when there
 * is one and the user does not start with it. */
static bool plus_prefix(const char *user, size_t *len_r)
{
    const char *plus = strchr(user, '+');
    if (plus == NULL || plus == user)
        return false;
    *len_r = (size_t)(plus - user);
    return true;
}

/* lua_util.remove_email_aliases() on a copy of a: true when it returned a
 * new user (what makes the prefilter rewrite the list). */
static bool dealias_one(struct arena *arena, struct compat_addr *a)
{
    bool gmail = strcmp(a->domain, "gmail.com") == 0;
    bool googlemail = strcmp(a->domain, "googlemail.com") == 0;
    const char *user = a->user;
    size_t ulen = strlen(user), keep;
    char *nu = NULL;

    if (gmail || googlemail) {
        char *nodots = arena_alloc(arena, ulen + 1);
        size_t k = 0;
        for (size_t i = 0; i < ulen; i++)
            if (user[i] != '.')
                nodots[k++] = user[i];
        nodots[k] = '\0';
        if (plus_prefix(nodots, &keep))
            nu = arena_strndup(arena, nodots, keep);
        else if (k != ulen)
            nu = nodots;
    } else if (plus_prefix(user, &keep)) {
        nu = arena_strndup(arena, user, keep);
    }
    if (nu == NULL && !googlemail)
        return false;
    if (nu != NULL)
        a->user = nu;
    if (googlemail) {
        a->domain = "gmail.com";
        a->domain_len = 9;
    }
    a->addr = arena_printf(arena, "%s@%s", a->user, a->domain);
    a->addr_len = strlen(a->addr);
    return nu != NULL;
}

size_t addr_compat_dealias(struct arena *arena, struct compat_addrlist *list)
{
    size_t n = list->n;
    bool modified = false;
    struct compat_addr *copy = ARENA_NEW_N(arena, struct compat_addr, n > 0 ? n : 1);
    for (size_t i = 0; i < n; i++) {
        copy[i] = list->a[i];
        modified = dealias_one(arena, &copy[i]) || modified;
    }
    if (!modified)
        return 0;
    for (size_t i = 0; i < n; i++)
        list_push_max(arena, list, &copy[i], 2 * ADDR_COMPAT_MAX);
    return n;
}

/* ---- the task's lists ---- */

struct addr_compat_cache {
    struct compat_addrlist from, rcpts;
    size_t rcpts_lua_first;
};

static struct addr_compat_cache *task_cache(struct task *task)
{
    if (task->addr_compat != NULL)
        return task->addr_compat;
    static const char *const from_names[] = {"From", NULL};
    static const char *const rcpt_names[] = {"To", "Cc", "Bcc", NULL};
    struct addr_compat_cache *c = ARENA_NEW(task->arena, struct addr_compat_cache);
    if (task->msg != NULL) {
        headers_parse(task->arena, task->msg, from_names, &c->from);
        headers_parse(task->arena, task->msg, rcpt_names, &c->rcpts);
        c->rcpts_lua_first = addr_compat_dealias(task->arena, &c->rcpts);
    }
    task->addr_compat = c;
    return c;
}

const struct compat_addrlist *addr_compat_from(struct task *task)
{
    return &task_cache(task)->from;
}

const struct compat_addrlist *addr_compat_rcpts(struct task *task, size_t *lua_first_r)
{
    struct addr_compat_cache *c = task_cache(task);
    if (lua_first_r != NULL)
        *lua_first_r = c->rcpts_lua_first;
    return &c->rcpts;
}
