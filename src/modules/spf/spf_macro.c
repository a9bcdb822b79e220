/*
 * SPF macro expansion (RFC 7208 §7) and domain-spec validation.  Input is
 * length-checked; every expansion is bounded (at most 255 parts per macro,
 * output truncated from the left to 253 bytes for domain names).
 */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"
#include "modules/spf/spf.h"
#include "modules/spf/spf_private.h"

static bool is_delim(char c)
{
    return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

/* %{i}: dotted quad, or IPv6 nibbles separated by dots. */
static void ip_dotted(const struct netaddr *ip, struct buf *out)
{
    static const char hex[] = "0123456789abcdef";
    if (ip->family == 4) {
        buf_printf(out, "%u.%u.%u.%u", ip->addr[12], ip->addr[13], ip->addr[14], ip->addr[15]);
        return;
    }
    for (int i = 0; i < 16; i++) {
        buf_printf(out, "%s%c.%c", i ? "." : "", hex[ip->addr[i] >> 4], hex[ip->addr[i] & 15]);
    }
}

static const char *sender_local(struct arena *a, const char *sender)
{
    const char *at = strrchr(sender, '@');
    return at ? arena_strndup(a, sender, (size_t)(at - sender)) : "postmaster";
}

static const char *sender_domain(const char *sender)
{
    const char *at = strrchr(sender, '@');
    return at ? at + 1 : sender;
}

/* The raw value of a macro letter, before transformers. */
static int macro_value(struct spf_eval *ev, char letter, bool exp, const char *domain,
                       struct buf *val)
{
    const struct spf_request *req = ev->req;
    char tmp[64];
    switch (letter) {
    case 's': buf_puts(val, ev->sender); return 0;
    case 'l': buf_puts(val, sender_local(ev->arena, ev->sender)); return 0;
    case 'o': buf_puts(val, sender_domain(ev->sender)); return 0;
    case 'd': buf_puts(val, domain); return 0;
    case 'i': ip_dotted(&req->ip, val); return 0;
    case 'p': buf_puts(val, spf_validated_name(ev, domain)); return 0;
    case 'v': buf_puts(val, req->ip.family == 4 ? "in-addr" : "ip6"); return 0;
    case 'h': buf_puts(val, req->helo ? req->helo : ""); return 0;
    case 'c':
    case 'r':
    case 't':
        if (!exp)
            return -1;
        if (letter == 'c')
            buf_puts(val, netaddr_format(&req->ip, tmp, sizeof(tmp)));
        else if (letter == 'r')
            buf_puts(val, req->receiver ? req->receiver : "unknown");
        else
            buf_printf(val, "%lld", (long long)req->now);
        return 0;
    default:
        return -1;
    }
}

/* Splits on delimiters, keeps the rightmost `keep` parts (0 = all) after an
 * optional reversal, joins with '.'. */
static void transform(const char *s, size_t len, const char *delims, size_t ndelims,
                      unsigned keep, bool reverse, struct buf *out)
{
    const char *parts[256];
    size_t plen[256], n = 0, start = 0;
    for (size_t i = 0; i <= len && n < 256; i++) {
        bool d = i == len;
        for (size_t k = 0; !d && k < ndelims; k++)
            d = s[i] == delims[k];
        if (ndelims == 0 && !d)
            d = s[i] == '.';
        if (d) {
            parts[n] = s + start;
            plen[n++] = i - start;
            start = i + 1;
        }
    }
    if (reverse) {
        for (size_t i = 0; i < n / 2; i++) {
            const char *tp = parts[i];
            size_t tl = plen[i];
            parts[i] = parts[n - 1 - i], plen[i] = plen[n - 1 - i];
            parts[n - 1 - i] = tp, plen[n - 1 - i] = tl;
        }
    }
    size_t from = (keep > 0 && keep < n) ? n - keep : 0;
    for (size_t i = from; i < n; i++) {
        if (i > from)
            buf_putc(out, '.');
        buf_append(out, parts[i], plen[i]);
    }
}

static void url_escape(const char *s, size_t len, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 3);
        }
    }
}

/* One %{...} at s[0] == '{'; returns bytes consumed or -1. */
static int expand_one(struct spf_eval *ev, const char *s, size_t len, const char *domain,
                      bool exp, struct buf *out)
{
    const char *close = memchr(s, '}', len);
    if (close == NULL || close == s + 1)
        return -1;
    const char *p = s + 1, *end = close;
    char letter = *p++;
    bool upper = letter >= 'A' && letter <= 'Z';
    if (upper)
        letter = (char)(letter + 32);
    unsigned keep = 0;
    bool digits = false;
    while (p < end && *p >= '0' && *p <= '9') {
        keep = keep * 10 + (unsigned)(*p++ - '0');
        digits = true;
        if (keep > 255)
            keep = 255;
    }
    if (digits && keep == 0)
        return -1;   /* RFC 7208 §7.3: the digit transformer must be nonzero */
    bool reverse = false;
    if (p < end && (*p == 'r' || *p == 'R'))
        reverse = true, p++;
    const char *delims = p;
    for (; p < end; p++)
        if (!is_delim(*p))
            return -1;
    struct buf val = BUF_INIT, tr = BUF_INIT;
    if (macro_value(ev, letter, exp, domain, &val) < 0) {
        buf_free(&val);
        return -1;
    }
    transform(val.data ? val.data : "", val.len, delims, (size_t)(end - delims), keep, reverse,
              &tr);
    if (upper)
        url_escape(tr.data ? tr.data : "", tr.len, out);
    else
        buf_append(out, tr.data ? tr.data : "", tr.len);
    buf_free(&val);
    buf_free(&tr);
    return (int)(close - s + 1);
}

int spf_expand(struct spf_eval *ev, const char *s, size_t len, const char *domain, bool exp,
               const char **out_r)
{
    struct buf out = BUF_INIT;
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c != '%') {
            /* macro-literal is %x21-24 / %x26-7E; explanations may have spaces */
            if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e) {
                if (!(exp && c == ' ')) {
                    buf_free(&out);
                    return -1;
                }
            }
            buf_putc(&out, c);
            i++;
            continue;
        }
        if (i + 1 >= len)
            goto bad;
        char n = s[i + 1];
        if (n == '%') {
            buf_putc(&out, '%');
            i += 2;
        } else if (n == '_') {
            buf_putc(&out, ' ');
            i += 2;
        } else if (n == '-') {
            buf_append(&out, "%20", 3);
            i += 2;
        } else if (n == '{') {
            int used = expand_one(ev, s + i + 1, len - i - 1, domain, exp, &out);
            if (used < 0)
                goto bad;
            i += 1 + (size_t)used;
        } else {
            goto bad;
        }
    }
    *out_r = arena_strndup(ev->arena, out.data ? out.data : "", out.len);
    buf_free(&out);
    return 0;
bad:
    buf_free(&out);
    return -1;
}

/* Domain names longer than 253 bytes lose labels from the left (§7.3). */
const char *spf_truncate_domain(const char *d)
{
    size_t len = strlen(d);
    while (len > 253) {
        const char *dot = strchr(d, '.');
        if (dot == NULL)
            break;
        len -= (size_t)(dot + 1 - d);
        d = dot + 1;
    }
    return d;
}

int spf_macro_expand(struct arena *arena, const char *s, size_t len, const struct spf_request *req,
                     const char *domain, bool exp, const char **out_r, const char **error_r)
{
    struct spf_eval ev = {0};
    ev.arena = arena;
    ev.req = req;
    ev.sender = req->sender && *req->sender ? req->sender : "postmaster";
    if (spf_expand(&ev, s, len, domain, exp, out_r) < 0) {
        *error_r = "invalid macro";
        return -1;
    }
    return 0;
}
