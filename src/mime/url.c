/*
 * url.c: URLs and e-mail addresses found in a message's text and HTML.
 *
 * Plain text is scanned in one pass for "scheme://" (http, https, ftp) and
 * "www." at a word start, and separately with memchr for '@'.  HTML gives
 * hrefs and image sources; an anchor whose visible text names another host
 * than its href (and another registrable domain) is marked URL_PHISHED.
 * Each candidate is taken apart by url_parse() (url_parse.c); the set keeps
 * URLs unique by text (flags merged) and addresses unique and lower-cased,
 * through an open-addressing index, and does not re-parse a URL it has.
 *
 * Owns arena memory only.  Refuses nothing: text that is not a URL is
 * skipped; past max_urls further URLs and addresses are dropped and counted
 * as truncated.  No regex engine: byte loops and memchr only.
 */
#include "mime/url.h"

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "core/arena.h"
#include "core/str.h"
#include "mime/html.h"
#include "mime/mime_private.h"

#define MAX_LOCAL 64
#define MAX_DOMAIN 255

/* Open-addressing index of strings stored elsewhere; slot = index + 1. */
struct strindex {
    uint32_t *slots;
    size_t mask;                 /* capacity - 1, capacity a power of 2 */
    size_t n;
};

struct url_set {
    struct arena *arena;
    struct mime_url *urls;
    size_t nurls, cap_urls, max_urls;
    const char **emails;
    size_t nemails, cap_emails, max_emails;
    struct strindex uidx, eidx;
    bool truncated;
};

static inline bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* ---- the set ---- */

static void index_alloc(struct arena *arena, struct strindex *ix, size_t cap)
{
    ix->slots = ARENA_NEW_N(arena, uint32_t, cap);
    ix->mask = cap - 1;
}

/* The i-th key: a const char * at base + i * stride. */
static inline const char *key_at(const void *base, size_t stride, size_t i)
{
    const char *k;

    memcpy(&k, (const char *)base + i * stride, sizeof(k));
    return k;
}

/* Finds s among the keys through ix; returns its index, or (size_t)-1 with
 * *slot_r the empty slot where it belongs.  base is only read for occupied
 * slots, so it may be NULL while the index is empty. */
static size_t index_find(const struct strindex *ix, const void *base, size_t stride,
                         const char *s, size_t len, size_t *slot_r)
{
    size_t h = (size_t)str_hash(s, len) & ix->mask;

    for (;; h = (h + 1) & ix->mask) {
        uint32_t v = ix->slots[h];
        if (v == 0) {
            *slot_r = h;
            return (size_t)-1;
        }
        const char *cand = key_at(base, stride, v - 1);
        if (strncmp(cand, s, len) == 0 && cand[len] == '\0')
            return v - 1;
    }
}

/* Inserts key number n - 1 at slot; doubles the table past half full. */
static void index_insert(struct arena *arena, struct strindex *ix, const void *base,
                         size_t stride, size_t n, size_t slot)
{
    ix->slots[slot] = (uint32_t)n;
    if (++ix->n * 2 <= ix->mask)
        return;
    index_alloc(arena, ix, (ix->mask + 1) * 2);
    for (size_t i = 0; i < n; i++) {
        const char *k = key_at(base, stride, i);
        index_find(ix, base, stride, k, strlen(k), &slot);
        ix->slots[slot] = (uint32_t)(i + 1);
    }
}

struct url_set *url_set_new(struct arena *arena, size_t max_urls, size_t max_emails)
{
    struct url_set *set = ARENA_NEW(arena, struct url_set);

    set->arena = arena;
    set->max_urls = max_urls;
    set->max_emails = max_emails;
    index_alloc(arena, &set->uidx, 64);
    index_alloc(arena, &set->eidx, 64);
    return set;
}

#define URL_KEYS(set) ((set)->urls != NULL ? (const void *)&(set)->urls[0].url : NULL)

static void add_url(struct url_set *set, const struct mime_url *u)
{
    size_t slot, len = strlen(u->url);
    size_t i = index_find(&set->uidx, URL_KEYS(set), sizeof(struct mime_url), u->url, len, &slot);

    if (i != (size_t)-1) {
        struct mime_url *e = &set->urls[i];
        e->flags |= u->flags;
        if (e->anchor_host == NULL && u->anchor_host != NULL)
            e->anchor_host = u->anchor_host;
        return;
    }
    if (set->nurls >= set->max_urls) {
        set->truncated = true;
        return;
    }
    set->urls = mime_grow(set->arena, set->urls, set->nurls, &set->cap_urls, sizeof(*set->urls),
                          16);
    set->urls[set->nurls++] = *u;
    index_insert(set->arena, &set->uidx, URL_KEYS(set), sizeof(struct mime_url), set->nurls,
                 slot);
}

static void add_email(struct url_set *set, const char *p, size_t len)
{
    size_t slot;

    if (set->nemails >= set->max_emails) {
        set->truncated = true;
        return;
    }
    char *e = arena_strndup(set->arena, p, len);

    str_lower(e, len);
    if (index_find(&set->eidx, set->emails, sizeof(char *), e, len, &slot) != (size_t)-1)
        return;
    set->emails = mime_grow(set->arena, set->emails, set->nemails, &set->cap_emails,
                            sizeof(char *), 16);
    set->emails[set->nemails++] = e;
    index_insert(set->arena, &set->eidx, set->emails, sizeof(char *), set->nemails, slot);
}

/* ---- e-mail addresses ---- */

static inline bool is_local_char(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static inline bool is_domain_char(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '-';
}

/* Validates local@domain around the '@' at `at`; adds it when it holds. */
static void email_at(struct url_set *set, const char *p, const char *end, const char *at)
{
    const char *l = at, *r = at + 1;

    while (l > p && at - l < MAX_LOCAL && is_local_char((unsigned char)l[-1]))
        l--;
    while (l < at && *l == '.')
        l++;
    if (l > p && l[-1] == '/')
        return;                  /* userinfo of a URL ("http://user@host") */
    while (r < end && r - at - 1 < MAX_DOMAIN && is_domain_char((unsigned char)*r))
        r++;
    while (r > at + 1 && (r[-1] == '.' || r[-1] == '-'))
        r--;
    if (l == at || r == at + 1 || at[1] == '.' || at[1] == '-')
        return;
    const char *dot = NULL;
    for (const char *q = at + 1; q < r; q++) {
        if (*q == '.') {
            if (q[-1] == '.')
                return;          /* empty label */
            dot = q;
        }
    }
    if (dot == NULL || r - dot - 1 < 2)
        return;
    for (const char *q = dot + 1; q < r; q++) {
        if (!((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z'))
            return;              /* the TLD is letters */
    }
    add_email(set, l, (size_t)(r - l));
}

static void scan_emails(struct url_set *set, const char *p, size_t len)
{
    const char *end = p + len, *at = p;

    while ((at = memchr(at, '@', (size_t)(end - at))) != NULL) {
        email_at(set, p, end, at);
        at++;
    }
}

/* ---- URLs in text ---- */

static inline bool url_stop(unsigned char c)
{
    return c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '`' ||
           c == '{' || c == '}' || c == '|' || c == '^';
}

/* End of a URL starting at `from` (the authority); ASCII after the host,
 * non-ASCII only in the host (IDN). */
static size_t url_end(const char *p, size_t from, size_t len)
{
    size_t q = from, opens = 0, closes = 0;
    bool in_host = true;

    while (q < len && q - from < MIME_MAX_URL_LEN) {
        unsigned char c = (unsigned char)p[q];
        if (url_stop(c) || (c >= 0x80 && !in_host))
            break;
        if (c >= 0x80) {
            /* In the host only letters and digits (IDN); "»", "”" or a
             * no-break space end the URL. */
            uint32_t cp;
            size_t n = utf8_next((const unsigned char *)p + q, len - q, &cp);
            if (!g_unichar_isalnum(cp))
                break;
            q += n;
            continue;
        }
        if (c == '/' || c == '?' || c == '#')
            in_host = false;
        opens += c == '(';
        closes += c == ')';
        q++;
    }
    while (q > from) {
        char c = p[q - 1];
        if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
            c == '\'' || c == '*' || c == ']') {
            q--;
        } else if (c == ')' && closes > opens) {
            closes--;
            q--;
        } else {
            break;
        }
    }
    return q;
}

static void text_url(struct url_set *set, const char *s, size_t len)
{
    struct mime_url u;
    size_t slot;

    /* Seen before (same text): just mark it, skip parsing again. */
    size_t i = len <= MIME_MAX_URL_LEN ? index_find(&set->uidx, URL_KEYS(set), sizeof(struct mime_url),
                                               s, len, &slot)
                                  : (size_t)-1;
    if (i != (size_t)-1) {
        set->urls[i].flags |= URL_FROM_TEXT;
        return;
    }
    if (set->nurls >= set->max_urls) {
        set->truncated = true;   /* full: do not pay for parsing what we drop */
        return;
    }
    if (url_parse(set->arena, s, len, &u) == 0) {
        u.flags |= URL_FROM_TEXT;
        add_url(set, &u);
    }
}

/* Scheme ending right before the ':' at i, if it is one we extract. */
static size_t scheme_before(const char *p, size_t i)
{
    static const char *const schemes[] = {"https", "http", "ftp"};

    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(schemes[k]);
        if (i >= n && str_ieq_cstr(p + i - n, n, schemes[k]) &&
            (i == n || !is_alnum((unsigned char)p[i - n - 1])))
            return n;
    }
    return 0;
}

void url_scan_text(struct url_set *set, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == ':' && i + 2 < len && p[i + 1] == '/' && p[i + 2] == '/') {
            size_t n = scheme_before(p, i);
            if (n == 0)
                continue;
            size_t end = url_end(p, i + 3, len);
            if (end > i + 3)
                text_url(set, p + i - n, end - (i - n));
            i = end > i ? end - 1 : i;
        } else if ((c | 0x20) == 'w' && len - i > 4 && str_istarts(p + i, len - i, "www.") &&
                   (i == 0 || !(is_alnum((unsigned char)p[i - 1]) || p[i - 1] == '.' ||
                                p[i - 1] == '/' || p[i - 1] == '@' || p[i - 1] == '-'))) {
            size_t end = url_end(p, i, len);
            if (end > i + 4)
                text_url(set, p + i, end - i);
            i = end > i ? end - 1 : i;
        }
    }
    scan_emails(set, p, len);
}

/* ---- HTML links ---- */

/* The host an anchor text shows, when it looks like a URL or a bare host
 * name with a known public suffix; NULL otherwise. */
static const char *anchor_host(struct arena *arena, const char *p, size_t len)
{
    struct mime_url au;

    str_trim(&p, &len);
    if (len == 0)
        return NULL;
    size_t tok = 0;
    while (tok < len && !url_stop((unsigned char)p[tok]))
        tok++;
    if (url_parse(arena, p, tok, &au) == 0)
        return au.host;
    if (tok != len)
        return NULL;             /* prose, not a host name */
    size_t hl = 0;
    while (hl < len && p[hl] != '/')
        hl++;
    if (hl < 4 || memchr(p, '.', hl) == NULL)
        return NULL;
    for (size_t i = 0; i < hl; i++) {
        if (!(is_alnum((unsigned char)p[i]) || p[i] == '.' || p[i] == '-'))
            return NULL;
    }
    char *h = arena_strndup(arena, p, hl);
    str_lower(h, hl);
    const char *last = strrchr(h, '.');
    if (last == NULL || strlen(last + 1) < 2 || last == h)
        return NULL;
    for (const char *q = last + 1; *q != '\0'; q++) {
        if (!(*q >= 'a' && *q <= 'z'))
            return NULL;
    }
    if (!mime_psl_is_suffix(last + 1))
        return NULL;
    return h;
}

static void html_mailto(struct url_set *set, const char *href, size_t len)
{
    const char *a = href + 7, *end = href + len;
    const char *q = a;

    while (q < end && *q != '?' && *q != ',')
        q++;
    const char *at = memchr(a, '@', (size_t)(q - a));
    if (at != NULL)
        email_at(set, a, q, at);
}

void url_add_html_link(struct url_set *set, const struct html_link *link)
{
    struct mime_url u;

    if (link->href_len == 0)
        return;
    if (str_istarts(link->href, link->href_len, "mailto:")) {
        html_mailto(set, link->href, link->href_len);
        return;
    }
    if (url_parse(set->arena, link->href, link->href_len, &u) < 0)
        return;              /* relative, javascript:, cid: ... */
    u.flags |= URL_FROM_HTML | (link->image ? URL_IMAGE : 0);
    if (!link->image && link->anchor_len > 0) {
        const char *ah = anchor_host(set->arena, link->anchor, link->anchor_len);
        if (ah != NULL && strcmp(ah, u.host) != 0) {
            const char *ra = url_registrable_domain(ah);
            if (u.tld == NULL || strcmp(ra, u.tld) != 0) {
                u.flags |= URL_PHISHED;
                u.anchor_host = ah;
            }
        }
    }
    add_url(set, &u);
}

void url_set_export(const struct url_set *set, struct message *msg)
{
    msg->urls = set->urls;
    msg->nurls = set->nurls;
    msg->emails = set->emails;
    msg->nemails = set->nemails;
    if (set->truncated)
        msg->urls_truncated = true;
}
