/*
 * url_parse.c: one URL taken apart -- scheme, host, flags, registrable
 * domain -- for url.c's extractor and for anyone holding a URL string.
 *
 * Hosts are percent-decoded and lower-cased; IP literals are flagged, and
 * numeric hosts in the forms inet_aton accepts (decimal, octal, hex,
 * fewer than four parts) are rewritten as the dotted quad they mean and
 * flagged URL_HOST_NUMERIC.  A non-ASCII host mixing Latin with Cyrillic or
 * Greek letters is URL_OBFUSCATED.  The registrable domain comes from
 * libpsl: the newest of the system list and the built-in one, loaded once
 * per process (mime_global_init() does it at start-up).
 *
 * Owns the process-wide psl context and a one-entry memo of the last host
 * looked up.  Refuses (-1) a string with no usable host.  Reads at most
 * MIME_MAX_URL_LEN bytes of its input.
 */
#include "mime/url.h"

#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/netaddr.h"
#include "core/str.h"
#include "mime/mime_private.h"

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

/* One-entry memo: the URLs of a message mostly share a few hosts. */
static char memo_host[256];
static size_t memo_off;
static bool memo_null;

const char *url_registrable_domain(const char *host)
{
    size_t hl = strlen(host);

    if (hl < sizeof(memo_host) && memcmp(memo_host, host, hl + 1) == 0)
        return memo_null ? host : host + memo_off;
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
    if (hl < sizeof(memo_host)) {
        memcpy(memo_host, host, hl + 1);
        memo_null = r == NULL;
        memo_off = r != NULL ? (size_t)(r - host) : 0;
    }
    return r != NULL ? r : host;
}

bool mime_psl_is_suffix(const char *label)
{
    const psl_ctx_t *psl = get_psl();

    /* Without NO_STAR_RULE every unknown label counts as a suffix ("file.txt"). */
    return psl == NULL || psl_is_public_suffix2(psl, label, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
}

/* ---- helpers ---- */

static inline bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
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
        int d = str_hexval((unsigned char)p[i]);
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
        if (c == '%' && i + 2 < len && str_hexval((unsigned char)p[i + 1]) >= 0 &&
            str_hexval((unsigned char)p[i + 2]) >= 0) {
            c = (char)(str_hexval((unsigned char)p[i + 1]) * 16 + str_hexval((unsigned char)p[i + 2]));
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
    if (len > MIME_MAX_URL_LEN)
        len = MIME_MAX_URL_LEN;
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
