/*
 * Legacy line protocols on the scanner port (spec §2.6): a first line
 * `<METHOD> RSPAMC/1.x` (Exim's `variant=rspamd`) or `<METHOD> SPAMC/1.x`
 * (spamc), then `Name: value` lines up to a blank line, then exactly
 * `Content-length` bytes of message.  libhttp-parser refuses these lines,
 * so http.c hands them here once it has seen the whole first line.
 *
 * The request is presented like an HTTP one: method "CHECK", path "/check"
 * (the lower-cased method, which scan_command_from_path understands),
 * proto RSPAMC or SPAMC, keep_alive false (these clients read the reply
 * until the connection closes).
 *
 * Refuses: folded or colon-less header lines, control bytes in a header,
 * a missing, malformed or conflicting Content-length (400), more than
 * max_body (413), header blocks past the limits (431).
 */
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "proto/http/http_private.h"

static bool is_method_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* Length of the method token at the start of line, 0 if none. */
static size_t method_len(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && is_method_char(p[i]))
        i++;
    return i;
}

/* Finds the protocol token after the method; sets *proto_r and returns its
 * offset, or 0 when the line is not a legacy one. */
static size_t proto_token(const char *p, size_t len, enum http_proto *proto_r)
{
    size_t m = method_len(p, len);
    if (m == 0 || m >= sizeof(((struct http_request *)0)->method))
        return 0;
    size_t i = m;
    while (i < len && p[i] == ' ')
        i++;
    if (i == m)
        return 0;
    if (str_istarts(p + i, len - i, "RSPAMC/")) {
        *proto_r = HTTP_PROTO_RSPAMC;
        return i;
    }
    if (str_istarts(p + i, len - i, "SPAMC/")) {
        *proto_r = HTTP_PROTO_SPAMC;
        return i;
    }
    return 0;
}

bool http_legacy_detect(const char *p, size_t len)
{
    enum http_proto proto;
    return proto_token(p, len, &proto) != 0;
}

/* "1.3" with optional trailing blanks; both numbers below 1000. */
static int parse_version(const char *p, size_t len, unsigned *maj_r, unsigned *min_r)
{
    str_trim(&p, &len);
    const char *dot = memchr(p, '.', len);
    if (dot == NULL)
        return -1;
    uint64_t maj, min;
    size_t mlen = (size_t)(dot - p);
    if (mlen > 3 || len - mlen - 1 > 3 || str_to_u64(p, mlen, &maj) < 0 ||
        str_to_u64(dot + 1, len - mlen - 1, &min) < 0)
        return -1;
    *maj_r = (unsigned)maj;
    *min_r = (unsigned)min;
    return 0;
}

int http_legacy_start(struct http_parser_state *p, const char *line, size_t len)
{
    enum http_proto proto = HTTP_PROTO_HTTP;
    size_t tok = proto_token(line, len, &proto);
    size_t m = method_len(line, len);
    size_t vstart = tok + (proto == HTTP_PROTO_RSPAMC ? 7 : 6);
    struct http_request *req = &p->req;

    if (tok == 0 || parse_version(line + vstart, len - vstart, &req->http_major,
                                  &req->http_minor) < 0)
        return http_fail(p, 400, "bad legacy protocol version");
    req->proto = proto;
    memcpy(req->method, line, m);
    req->method[m] = '\0';
    char *path = arena_alloc(p->arena, m + 2);
    path[0] = '/';
    memcpy(path + 1, line, m);
    path[m + 1] = '\0';
    str_lower(path, m + 1);
    req->path = path;
    req->keep_alive = false;
    p->st = PS_LEGACY_HEADERS;
    return 0;
}

static int header_line(struct http_parser_state *p, const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    if (colon == NULL || colon == s || s[0] == ' ' || s[0] == '\t')
        return http_fail(p, 400, "bad header line");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 32 && c != '\t') || c == 127)
            return http_fail(p, 400, "invalid character in header");
    }
    size_t nlen = (size_t)(colon - s);
    if (!http_is_token(s, nlen))
        return http_fail(p, 400, "invalid header name");
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    str_trim(&v, &vlen);
    if (str_ieq_cstr(s, nlen, "content-length")) {
        uint64_t cl;
        if (str_to_u64(v, vlen, &cl) < 0)
            return http_fail(p, 400, "invalid Content-length");
        if (p->has_content_length && cl != p->legacy_left)
            return http_fail(p, 400, "conflicting Content-length");
        if (cl > p->lim.max_body)
            return http_fail(p, 413, "message too large");
        p->has_content_length = true;
        p->legacy_left = cl;
    }
    return http_add_header(p, s, nlen, v, vlen);
}

/* The blank line: decide whether a body follows. */
static int headers_end(struct http_parser_state *p)
{
    if (!p->has_content_length)
        return http_fail(p, 400, "Content-length required");
    if (p->legacy_left == 0) {
        p->st = PS_DONE;
        return 0;
    }
    buf_reserve(&p->body, p->legacy_left < BODY_PREALLOC_MAX ? (size_t)p->legacy_left
                                                             : BODY_PREALLOC_MAX);
    p->st = PS_LEGACY_BODY;
    return 0;
}

/* Collects one header line (up to LF) in p->line; returns bytes used. */
static size_t feed_header(struct http_parser_state *p, const char *data, size_t len)
{
    size_t llen;
    size_t n = http_collect_line(p, data, len, &llen);
    if (llen == SIZE_MAX)
        return n;
    if (llen == 0)
        headers_end(p);
    else
        header_line(p, p->line.data, llen);
    buf_reset(&p->line);
    return n;
}

size_t http_legacy_feed(struct http_parser_state *p, const char *data, size_t len)
{
    if (p->st == PS_LEGACY_HEADERS)
        return feed_header(p, data, len);
    size_t n = len < p->legacy_left ? len : (size_t)p->legacy_left;
    buf_append(&p->body, data, n);
    p->legacy_left -= n;
    if (p->legacy_left == 0)
        p->st = PS_DONE;
    return n;
}
