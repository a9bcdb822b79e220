/*
 * url.c: URLs and e-mail addresses found in a message's text and HTML.
 *
 * Plain text is scanned in one pass for "scheme://" (http, https, ftp) and
 * "www." at a word start, and separately with memchr for '@'.  HTML gives
 * hrefs and image sources; an anchor whose visible text names another host
 * than its href (and another registrable domain) is marked URL_PHISHED.
 * Hosts are lower-cased and percent-decoded; IP literals and numeric
 * (decimal, octal, hex, short-form) hosts are flagged, the latter rewritten
 * as the dotted quad a resolver would use.  The registrable domain comes
 * from libpsl (the system list when present, the built-in one otherwise).
 *
 * Owns arena memory and the process-wide psl context.  Refuses nothing: text
 * that is not a URL is skipped; past max_urls further URLs are dropped and
 * counted as truncated.  No regex engine: byte loops and memchr only.
 */
#include "mime/url.h"

#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/netaddr.h"
#include "core/str.h"
#include "mime/html.h"
#include "mime/mime_private.h"

#define MAX_URL_LEN 8192         /* longer candidates are cut here */
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

/* ---- public suffix list ---- */

static const psl_ctx_t *psl_ctx;
static bool psl_tried;

static const psl_ctx_t *get_psl(void)
{
    if (!psl_tried) {
        psl_tried = true;
        /* psl_latest picks the newer of the system list and the built-in
         * one; Debian may build without built-in data, hence the chain. */
        psl_ctx = psl_latest(NULL);
        if (psl_ctx == NULL)
            psl_ctx = psl_builtin();
        if (psl_ctx == NULL)
            psl_ctx = psl_load_file("/usr/share/publicsuffix/public_suffix_list.dat");
    }
    return psl_ctx;
}

const char *url_registrable_domain(const char *host)
{
    const psl_ctx_t *psl = get_psl();
    const char *r = psl != NULL ? psl_registrable_domain(psl, host) : NULL;

    if (r == NULL && psl == NULL) {
        /* No list at all: the last two labels. */
        const char *dot = strrchr(host, '.');
        if (dot != NULL) {
            const char *p = dot;
            while (p > host && p[-1] != '.')
                p--;
            r = p;
        }
    }
    return r != NULL ? r : host;
}

/* ---- helpers ---- */

static inline bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

/* One label of a numeric host the way inet_aton reads it: 0x hex, leading
 * 0 octal, else decimal. */
static bool numeric_label(const char *p, size_t len, uint64_t *v_r)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (len == 0)
        return false;
    if (len > 1 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        base = 16;
        p += 2;
        len -= 2;
        if (len == 0)
            return false;    /* "0x" alone */
    } else if (len > 1 && p[0] == '0') {
        base = 8;
        p++;
        len--;
    }
    for (size_t i = 0; i < len; i++) {
        int d = hexval((unsigned char)p[i]);
        if (d < 0 || (unsigned)d >= base || v > 0xFFFFFFFFULL)
            return false;
        v = v * base + (unsigned)d;
    }
    *v_r = v;
    return v <= 0xFFFFFFFFULL;
}

/* Returns 0 = not numeric, 1 = plain dotted quad, 2 = obfuscated (and the
 * dotted form in out). */
static int numeric_host(const char *h, size_t len, char *out, size_t outsize)
{
    uint64_t part[4];
    size_t nparts = 0, start = 0;
    bool plain = true;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && h[i] != '.')
            continue;
        if (nparts == 4 || !numeric_label(h + start, i - start, &part[nparts]))
            return 0;
        if (i - start > 3 || (i - start > 1 && h[start] == '0') || part[nparts] > 255)
            plain = false;
        nparts++;
        start = i + 1;
    }
    if (nparts == 4 && plain)
        return 1;
    /* inet_aton: the last part fills the remaining bytes. */
    uint32_t ip = 0;
    for (size_t i = 0; i + 1 < nparts; i++) {
        if (part[i] > 255)
            return 0;
        ip |= (uint32_t)part[i] << (24 - 8 * i);
    }
    uint64_t maxlast = 0xFFFFFFFFULL >> (8 * (nparts - 1));
    if (part[nparts - 1] > maxlast)
        return 0;
    ip |= (uint32_t)part[nparts - 1];
    snprintf(out, outsize, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    return 2;
}

/* Copies the host, percent-decoded and lower-cased.  Returns NULL when a
 * byte is not allowed in a host name. */
static char *host_copy(struct arena *arena, const char *p, size_t len, unsigned *flags)
{
    char *h = arena_alloc(arena, len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '%' && i + 2 < len && hexval((unsigned char)p[i + 1]) >= 0 &&
            hexval((unsigned char)p[i + 2]) >= 0) {
            c = (char)(hexval((unsigned char)p[i + 1]) * 16 + hexval((unsigned char)p[i + 2]));
            i += 2;
            *flags |= URL_OBFUSCATED;
        }
        c = lower(c);
        if (!(is_alnum((unsigned char)c) || c == '-' || c == '.' || c == '_' ||
              (unsigned char)c >= 0x80))
            return NULL;
        h[n++] = c;
    }
    while (n > 0 && h[n - 1] == '.')
        n--;
    h[n] = '\0';
    return n > 0 ? h : NULL;
}

/* Non-ASCII host mixing Latin with Cyrillic/Greek: an IDN homograph. */
static bool idn_mixed(const char *h)
{
    size_t len = strlen(h);
    unsigned scripts = 0;

    if (mime_is_ascii(h, len))
        return false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += utf8_next((const unsigned char *)h + i, len - i, &cp);
        scripts |= mime_script_of(cp);
    }
    return (scripts & SCRIPT_LATIN) && (scripts & (SCRIPT_CYRILLIC | SCRIPT_GREEK));
}

static const char *scheme_of(struct arena *arena, const char *s, const char *end,
                             const char **rest_r)
{
    const char *q = s;

    while (q < end && (is_alnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.'))
        q++;
    if (q < end && *q == ':' && q > s && q - s <= 16 && !(*s >= '0' && *s <= '9')) {
        const char *r = q + 1;
        int slashes = 0;
        while (r < end && (*r == '/' || *r == '\\') && slashes < 3) {
            r++;
            slashes++;
        }
        if (slashes < 2)
            return NULL;         /* mailto:, javascript:, tel: ... */
        char *sc = arena_strndup(arena, s, (size_t)(q - s));
        str_lower(sc, (size_t)(q - s));
        *rest_r = r;
        return sc;
    }
    if (end - s >= 2 && s[0] == '/' && s[1] == '/') {
        *rest_r = s + 2;
        return "http";
    }
    if (str_istarts(s, (size_t)(end - s), "www.")) {
        *rest_r = s;
        return "http";
    }
    return NULL;
}

static int set_host(struct arena *arena, const char *hs, const char *he, struct mime_url *u)
{
    if (hs < he && *hs == '[') {
        const char *rb = memchr(hs, ']', (size_t)(he - hs));
        struct netaddr na;
        if (rb == NULL || netaddr_parse(hs + 1, (size_t)(rb - hs - 1), &na) < 0)
            return -1;
        char *h = arena_strndup(arena, hs + 1, (size_t)(rb - hs - 1));
        str_lower(h, strlen(h));
        u->host = h;
        u->flags |= URL_HOST_IP;
        return 0;
    }
    const char *colon = memchr(hs, ':', (size_t)(he - hs));
    if (colon != NULL)
        he = colon;
    char *h = host_copy(arena, hs, (size_t)(he - hs), &u->flags);
    if (h == NULL)
        return -1;
    char dotted[16];
    int num = numeric_host(h, strlen(h), dotted, sizeof(dotted));
    if (num == 1) {
        u->flags |= URL_HOST_IP;
    } else if (num == 2) {
        u->flags |= URL_HOST_IP | URL_HOST_NUMERIC;
        h = arena_strdup(arena, dotted);
    } else if (idn_mixed(h)) {
        u->flags |= URL_OBFUSCATED;
    }
    u->host = h;
    return 0;
}

int url_parse(struct arena *arena, const char *p, size_t len, struct mime_url *u)
{
    const char *rest;

    memset(u, 0, sizeof(*u));
    str_trim(&p, &len);
    if (len > MAX_URL_LEN)
        len = MAX_URL_LEN;
    const char *end = p + len;
    const char *scheme = scheme_of(arena, p, end, &rest);
    if (scheme == NULL)
        return -1;
    const char *ae = rest;
    while (ae < end && *ae != '/' && *ae != '?' && *ae != '#' && *ae != '\\')
        ae++;
    const char *hs = rest;
    for (const char *q = rest; q < ae; q++) {
        if (*q == '@') {
            hs = q + 1;
            u->flags |= URL_HAS_USER;
        }
    }
    if (set_host(arena, hs, ae, u) < 0)
        return -1;
    u->scheme = scheme;
    u->url = arena_strndup(arena, p, len);
    u->tld = (u->flags & URL_HOST_IP) ? NULL : url_registrable_domain(u->host);
    return 0;
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
    char *e = arena_strndup(set->arena, p, len);

    str_lower(e, len);
    if (index_find(&set->eidx, set->emails, sizeof(char *), e, len, &slot) != (size_t)-1)
        return;
    if (set->nemails >= set->max_emails) {
        set->truncated = true;
        return;
    }
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

    while (q < len && q - from < MAX_URL_LEN) {
        unsigned char c = (unsigned char)p[q];
        if (url_stop(c) || (c >= 0x80 && !in_host))
            break;
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
    const psl_ctx_t *psl = get_psl();
    /* Without NO_STAR_RULE every unknown label counts as a suffix ("file.txt"). */
    if (psl != NULL &&
        !psl_is_public_suffix2(psl, last + 1, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
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
