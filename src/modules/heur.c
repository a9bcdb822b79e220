/*
 * Helpers for the heuristic modules: configuration reading that tolerates a
 * missing section, byte-class tests, address spotting in free text, UTF-8
 * decoding and organisational domains.
 *
 * Owns one process-wide libpsl context, loaded once by heur_psl_init() and
 * kept for the life of the process (workers inherit it read-only).  Refuses
 * nothing: every function is total over its (pointer, length) input and
 * never reads past it.
 */
#include "modules/heur.h"

#include <ctype.h>
#include <libpsl.h>
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "mime/message.h"

static const psl_ctx_t *heur_psl;
static bool heur_psl_tried;

int heur_conf_enabled(const struct conf_obj *section, bool *enabled_r, const char **error_r)
{
    *enabled_r = true;
    if (section == NULL)
        return 0;
    return conf_get_bool(section, "enabled", true, enabled_r, error_r);
}

int heur_conf_double(const struct conf_obj *section, struct arena *arena, const char *key,
                     double def, double min, double max, double *v_r, const char **error_r)
{
    *v_r = def;
    if (section == NULL)
        return 0;
    if (conf_get_double(section, key, def, v_r, error_r) < 0)
        return -1;
    if (*v_r < min || *v_r > max) {
        const struct conf_obj *v = conf_get(section, key);
        *error_r = arena_printf(arena, "%s:%u: %s: must be between %g and %g",
                                v != NULL && v->file != NULL ? v->file : "?",
                                v != NULL ? v->line : 0, key, min, max);
        *v_r = def;
        return -1;
    }
    return 0;
}

bool heur_has_8bit(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] >= 0x80)
            return true;
    return false;
}

bool heur_needs_encoding(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x80 || c == 0x7f || (c < 0x20 && c != '\t' && c != '\r' && c != '\n'))
            return true;
    }
    return false;
}

bool heur_is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)p[i]))
            return false;
    return true;
}

bool heur_ieq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    return strcasecmp(a, b) == 0;
}

bool heur_istarts(const char *s, const char *prefix)
{
    if (s == NULL)
        return false;
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool addr_local_char(unsigned char c)
{
    return isalnum(c) || strchr("._%+-'=!#$&*/?^`{|}~", c) != NULL;
}

static bool addr_domain_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-' || c >= 0x80;
}

/* A domain worth the name: a dot that is neither first nor last, and a
 * last label of at least two letters. */
static bool addr_domain_ok(const char *d, size_t len)
{
    while (len > 0 && d[len - 1] == '.')
        len--;
    const char *dot = NULL;
    for (size_t i = 0; i < len; i++)
        if (d[i] == '.')
            dot = d + i;
    if (dot == NULL || dot == d)
        return false;
    size_t tld = len - (size_t)(dot + 1 - d);
    if (tld < 2)
        return false;
    for (const char *q = dot + 1; q < d + len; q++)
        if (!isalpha((unsigned char)*q) && (unsigned char)*q < 0x80)
            return false;
    return true;
}

bool heur_find_addr(const char *p, size_t len, const char **addr_r, size_t *addr_len_r,
                    const char **domain_r, size_t *domain_len_r)
{
    for (size_t at = 0; at < len; at++) {
        if (p[at] != '@')
            continue;
        size_t s = at;
        while (s > 0 && addr_local_char((unsigned char)p[s - 1]))
            s--;
        size_t e = at + 1;
        while (e < len && addr_domain_char((unsigned char)p[e]))
            e++;
        while (e > at + 1 && (p[e - 1] == '.' || p[e - 1] == '-'))
            e--;
        if (s == at || e == at + 1 || !addr_domain_ok(p + at + 1, e - at - 1))
            continue;
        *addr_r = p + s;
        *addr_len_r = e - s;
        *domain_r = p + at + 1;
        *domain_len_r = e - at - 1;
        return true;
    }
    return false;
}

size_t heur_utf8_next(const char *p, size_t len, uint32_t *cp_r)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t n;
    uint32_t cp;

    if (u[0] < 0x80) {
        *cp_r = u[0];
        return 1;
    }
    if ((u[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = u[0] & 0x1f;
    } else if ((u[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = u[0] & 0x0f;
    } else if ((u[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = u[0] & 0x07;
    } else {
        *cp_r = 0xfffd;
        return 1;
    }
    if (n > len) {
        *cp_r = 0xfffd;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *cp_r = 0xfffd;
            return 1;
        }
        cp = (cp << 6) | (u[i] & 0x3f);
    }
    *cp_r = cp;
    return n;
}

void heur_psl_init(void)
{
    if (heur_psl_tried)
        return;
    heur_psl_tried = true;
    /* psl_latest() prefers the system list (publicsuffix package) and falls
     * back to the copy built into libpsl. */
    heur_psl = psl_latest(NULL);
    if (heur_psl == NULL)
        heur_psl = psl_builtin();
}

/* Without a suffix list: the last two labels. */
static const char *esld_fallback(const char *domain)
{
    const char *last = NULL, *prev = NULL;
    for (const char *q = domain; *q != '\0'; q++) {
        if (*q == '.') {
            prev = last;
            last = q;
        }
    }
    return prev != NULL ? prev + 1 : domain;
}

const char *heur_esld(const char *domain)
{
    if (domain == NULL)
        return NULL;
    heur_psl_init();
    if (heur_psl != NULL) {
        const char *r = psl_registrable_domain(heur_psl, domain);
        if (r != NULL)
            return r;
        return domain;
    }
    return esld_fallback(domain);
}

static char *rspamd_unfold(struct arena *arena, const char *value, size_t len, size_t *len_r)
{
    char *out = arena_alloc(arena, len + 1);
    size_t n = 0;
    bool folding = false;

    for (size_t i = 0; i < len; i++) {
        char c = value[i];
        if (folding && isspace((unsigned char)c))
            continue;
        folding = false;
        if (c == '\r' || c == '\n') {
            out[n++] = ' ';
            folding = true;
        } else if (c != '\0') {
            out[n++] = c;
        }
    }
    size_t lead = 0;
    while (lead < n && isspace((unsigned char)out[lead]))
        lead++;
    out[n] = '\0';
    *len_r = n - lead;
    return out + lead;
}

const char *heur_rspamd_raw(struct arena *arena, const char *value, size_t len, size_t *len_r)
{
    return rspamd_unfold(arena, value, len, len_r);
}

/* Rspamd's rspamd_mime_header_sanity_check(): ASCII white space becomes
 * a space, other control characters '?'. */
static void rspamd_sanitize(char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x80 && !isgraph(c))
            v[i] = isspace(c) ? ' ' : '?';
    }
}

const char *heur_rspamd_text(struct arena *arena, const struct mime_header *h, size_t *len_r)
{
    for (size_t i = 0; i + 1 < h->value_len; i++) {
        if (h->value[i] == '=' && h->value[i + 1] == '?') {
            const char *d = h->decoded != NULL ? h->decoded : "";
            size_t n = strlen(d);
            char *copy = arena_strndup(arena, d, n);
            rspamd_sanitize(copy, n);
            *len_r = n;
            return copy;
        }
    }
    /* Nothing to decode.  Raw 8-bit text that is not UTF-8 Rspamd does not
     * convert: each bad byte becomes U+FFFD. */
    size_t n;
    char *v = rspamd_unfold(arena, h->value, h->value_len, &n);
    if (!heur_has_8bit(v, n)) {
        rspamd_sanitize(v, n);
        *len_r = n;
        return v;
    }
    char *out = arena_alloc(arena, 3 * n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t step = heur_utf8_next(v + i, n - i, &cp);
        if (cp == 0xfffd && step == 1) {
            memcpy(out + k, "\xef\xbf\xbd", 3);
            k += 3;
        } else {
            memcpy(out + k, v + i, step);
            k += step;
        }
        i += step;
    }
    out[k] = '\0';
    rspamd_sanitize(out, k);
    *len_r = k;
    return out;
}
