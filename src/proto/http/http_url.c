/*
 * The request target: path and query string split apart, and each query
 * parameter URL-decoded and appended to the request's headers, because
 * Rspamd treats `/checkv2?IP=1.2.3.4&Rcpt=a@b` like the same headers
 * (spec §2.1).  Memory comes from the request arena; the parameters count
 * against max_headers like any header.
 *
 * Refuses: %00 (the values are C strings) and targets libhttp-parser's URL
 * parser rejects.  Malformed escapes such as "%zz" are kept literally.
 */
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "proto/http/http_private.h"

/* Decodes %XX and '+' into out (which has room for len bytes).  A malformed
 * escape is kept literally; %00 is refused because the result is a C string. */
static int url_decode(const char *p, size_t len, char *out, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '+') {
            out[o++] = ' ';
        } else if (p[i] == '%' && len - i > 2 && str_hexval(p[i + 1]) >= 0 && str_hexval(p[i + 2]) >= 0) {
            int c = str_hexval(p[i + 1]) * 16 + str_hexval(p[i + 2]);
            if (c == 0)
                return -1;
            out[o++] = (char)c;
            i += 2;
        } else {
            out[o++] = p[i];
        }
    }
    *out_len = o;
    return 0;
}

/* One `key=value` piece of the query; appended as a header (spec §2.1). */
static int add_query_param(struct http_parser_state *p, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    size_t klen = eq ? (size_t)(eq - s) : len;
    const char *v = eq ? eq + 1 : s + len;
    size_t vlen = eq ? len - klen - 1 : 0;
    char *kbuf = arena_alloc(p->arena, klen + vlen + 2);
    char *vbuf = kbuf + klen + 1;
    size_t kout, vout;
    if (url_decode(s, klen, kbuf, &kout) < 0 || url_decode(v, vlen, vbuf, &vout) < 0)
        return http_fail(p, 400, "bad escape in query string");
    if (kout == 0)
        return 0;
    if (http_add_header(p, kbuf, kout, vbuf, vout) < 0)
        return -1;
    p->req.nqueries++;
    return 0;
}

static int parse_query(struct http_parser_state *p, const char *q, size_t len)
{
    while (len > 0) {
        const char *amp = memchr(q, '&', len);
        size_t n = amp ? (size_t)(amp - q) : len;
        if (n > 0 && add_query_param(p, q, n) < 0)
            return -1;
        if (amp == NULL)
            break;
        q += n + 1;
        len -= n + 1;
    }
    return 0;
}

/* Splits the request target into path and query.  Origin form ("/checkv2?a=b")
 * is split by hand; absolute form ("http://host/checkv2") goes through
 * http_parser_parse_url. */
int http_split_url(struct http_parser_state *p)
{
    const char *u = p->url.data ? p->url.data : "";
    size_t len = p->url.len;
    const char *path = u, *query = NULL;
    size_t plen = len, qlen = 0;

    if (len > 0 && u[0] != '/') {
        struct http_parser_url pu;
        http_parser_url_init(&pu);
        if (http_parser_parse_url(u, len, 0, &pu) != 0)
            return http_fail(p, 400, "invalid request target");
        path = (pu.field_set & (1 << UF_PATH)) ? u + pu.field_data[UF_PATH].off : "/";
        plen = (pu.field_set & (1 << UF_PATH)) ? pu.field_data[UF_PATH].len : 1;
        if (pu.field_set & (1 << UF_QUERY)) {
            query = u + pu.field_data[UF_QUERY].off;
            qlen = pu.field_data[UF_QUERY].len;
        }
    } else {
        const char *hash = memchr(u, '#', len);
        if (hash != NULL)
            len = (size_t)(hash - u);
        const char *qm = memchr(u, '?', len);
        plen = qm ? (size_t)(qm - u) : len;
        if (qm != NULL) {
            query = qm + 1;
            qlen = len - plen - 1;
        }
    }
    p->req.path = arena_strndup(p->arena, path, plen);
    if (query != NULL) {
        p->req.query = arena_strndup(p->arena, query, qlen);
        return parse_query(p, query, qlen);
    }
    return 0;
}
