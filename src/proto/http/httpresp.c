/*
 * httpresp: the HTTP/1.x response parser of the clients (see httpresp.h).
 *
 * An explicit state machine over bytes that arrive in any split: status
 * line, header lines, then a body delimited by Content-Length, chunked
 * transfer coding or the close of the connection.  Input is buffered in
 * r->in only until a complete line (or body piece) is there.  Limits: line
 * length, total header bytes and body size (http_resp_limits, 0 = default);
 * a declared Content-Length or chunk size above the body limit is refused
 * before anything is allocated.  1xx interim responses are skipped.  Refuses
 * conflicting Content-Length headers, negative or non-decimal lengths, and a
 * status line that is not "HTTP/1.x NNN ...".
 */
#include <string.h>

#include "proto/http/httpresp.h"

static int resp_fail(struct http_resp *r, const char *what, const char **error_r)
{
    r->error = (char *)what;
    *error_r = what;
    return -1;
}

void http_resp_init(struct http_resp *r, const struct http_resp_limits *limits)
{
    memset(r, 0, sizeof(*r));
    if (limits != NULL)
        r->limits = *limits;
    if (r->limits.max_line == 0)
        r->limits.max_line = 8192;
    if (r->limits.max_header_bytes == 0)
        r->limits.max_header_bytes = 65536;
    if (r->limits.max_body == 0)
        r->limits.max_body = (size_t)256 << 20;
}

void http_resp_deinit(struct http_resp *r)
{
    buf_free(&r->in);
    buf_free(&r->body);
}

/* Decimal (hex = false) or hexadecimal digits filling [p, p+len); refuses
 * empty input and values above max. */
static int parse_uint(const char *p, size_t len, bool hex, uint64_t max, uint64_t *v_r)
{
    uint64_t v = 0;
    unsigned base = hex ? 16 : 10;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        char c = p[i];
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        if (v > (max - d) / base)
            return -1;
        v = v * base + d;
    }
    *v_r = v;
    return 0;
}

static bool ieq(const char *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);

    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = p[i], b = lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

static void trim(const char **p, size_t *len)
{
    while (*len > 0 && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*len)--;
    }
    while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
        (*len)--;
}

/* "HTTP/1.x NNN reason" */
static int resp_status(struct http_resp *r, const char *p, size_t len, const char **error_r)
{
    uint64_t code;
    size_t rlen;

    if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
        parse_uint(p + 9, 3, false, 999, &code) < 0 || (len > 12 && p[12] != ' '))
        return resp_fail(r, "bad status line", error_r);
    if (code < 100)
        return resp_fail(r, "bad status code", error_r);
    r->status = (int)code;
    rlen = len > 13 ? len - 13 : 0;
    if (rlen >= sizeof(r->reason))
        rlen = sizeof(r->reason) - 1;
    memcpy(r->reason, p + (len > 13 ? 13 : len), rlen);
    r->reason[rlen] = '\0';
    r->state = HRS_HEADERS;
    return 0;
}

static int resp_header(struct http_resp *r, const char *p, size_t len, const char **error_r)
{
    const char *colon = memchr(p, ':', len);
    const char *name = p, *val;
    size_t nlen, vlen;

    if (colon == NULL)
        return resp_fail(r, "header line without ':'", error_r);
    nlen = (size_t)(colon - p);
    val = colon + 1;
    vlen = len - nlen - 1;
    trim(&val, &vlen);
    if (ieq(name, nlen, "content-length")) {
        uint64_t v;
        if (parse_uint(val, vlen, false, UINT64_MAX, &v) < 0)
            return resp_fail(r, "bad Content-Length", error_r);
        if (r->have_length && v != r->length)
            return resp_fail(r, "conflicting Content-Length headers", error_r);
        if (v > r->limits.max_body)
            return resp_fail(r, "reply body too large", error_r);
        r->have_length = true;
        r->length = v;
    } else if (ieq(name, nlen, "transfer-encoding")) {
        if (!ieq(val, vlen, "chunked"))
            return resp_fail(r, "unsupported Transfer-Encoding", error_r);
        r->chunked = true;
    }
    return 0;
}

/* The blank line after the headers: choose how the body is delimited. */
static void resp_headers_end(struct http_resp *r)
{
    if (r->status < 200) {               /* 100 Continue etc.: another head follows */
        r->state = HRS_STATUS;
        r->have_length = r->chunked = false;
        r->length = 0;
        return;
    }
    if (r->status == 204 || r->status == 304)
        r->state = HRS_DONE;
    else if (r->chunked)
        r->state = HRS_CHUNK_SIZE;
    else if (r->have_length)
        r->state = r->length == 0 ? HRS_DONE : HRS_BODY_LEN;
    else
        r->state = HRS_BODY_CLOSE;
}

static int resp_chunk_size(struct http_resp *r, const char *p, size_t len, const char **error_r)
{
    const char *semi = memchr(p, ';', len);   /* chunk extensions are ignored */
    uint64_t v;

    if (semi != NULL)
        len = (size_t)(semi - p);
    trim(&p, &len);
    if (parse_uint(p, len, true, UINT64_MAX, &v) < 0)
        return resp_fail(r, "bad chunk size", error_r);
    if (v > r->limits.max_body - r->body.len)
        return resp_fail(r, "reply body too large", error_r);
    r->length = v;
    r->state = v == 0 ? HRS_TRAILERS : HRS_CHUNK_DATA;
    return 0;
}

/* One complete line (without CRLF or LF) in the current state. */
static int resp_line(struct http_resp *r, const char *p, size_t len, const char **error_r)
{
    switch (r->state) {
    case HRS_STATUS:
        return resp_status(r, p, len, error_r);
    case HRS_HEADERS:
        if (len == 0) {
            resp_headers_end(r);
            return 0;
        }
        return resp_header(r, p, len, error_r);
    case HRS_CHUNK_SIZE:
        return resp_chunk_size(r, p, len, error_r);
    case HRS_CHUNK_CRLF:
        if (len != 0)
            return resp_fail(r, "missing CRLF after chunk", error_r);
        r->state = HRS_CHUNK_SIZE;
        return 0;
    case HRS_TRAILERS:
        if (len == 0)
            r->state = HRS_DONE;
        return 0;
    default:
        return resp_fail(r, "internal: line in body state", error_r);
    }
}

static bool line_state(enum http_resp_state s)
{
    return s == HRS_STATUS || s == HRS_HEADERS || s == HRS_CHUNK_SIZE || s == HRS_CHUNK_CRLF ||
           s == HRS_TRAILERS;
}

/* Consumes body bytes from [p, p+avail); returns how many. */
static size_t resp_body(struct http_resp *r, const char *p, size_t avail, const char **error_r,
                        int *rc)
{
    size_t take = avail;

    *rc = 0;
    if (r->state == HRS_BODY_CLOSE) {
        if (take > r->limits.max_body - r->body.len) {
            *rc = resp_fail(r, "reply body too large", error_r);
            return 0;
        }
    } else if (take > r->length) {
        take = (size_t)r->length;
    }
    buf_append(&r->body, p, take);
    if (r->state != HRS_BODY_CLOSE) {
        r->length -= take;
        if (r->length == 0)
            r->state = r->state == HRS_BODY_LEN ? HRS_DONE : HRS_CHUNK_CRLF;
    }
    return take;
}

/* Takes the next line from [p, p+avail) if complete; returns bytes used,
 * 0 when the line is not complete yet. */
static size_t resp_take_line(struct http_resp *r, const char *p, size_t avail,
                             const char **error_r, int *rc)
{
    const char *nl = memchr(p, '\n', avail);
    size_t len, used;

    *rc = 0;
    if (nl == NULL) {
        if (avail > r->limits.max_line)
            *rc = resp_fail(r, "reply line too long", error_r);
        return 0;
    }
    used = (size_t)(nl - p) + 1;
    len = used - 1;
    if (len > r->limits.max_line) {
        *rc = resp_fail(r, "reply line too long", error_r);
        return 0;
    }
    if (len > 0 && p[len - 1] == '\r')
        len--;
    if (r->state == HRS_STATUS || r->state == HRS_HEADERS) {
        r->header_bytes += used;
        if (r->header_bytes > r->limits.max_header_bytes) {
            *rc = resp_fail(r, "reply header too large", error_r);
            return 0;
        }
    }
    *rc = resp_line(r, p, len, error_r);
    return used;
}

int http_resp_feed(struct http_resp *r, const char *p, size_t len, const char **error_r)
{
    size_t pos = 0;

    if (r->error != NULL)
        return resp_fail(r, r->error, error_r);
    if (r->state == HRS_DONE)
        return 1;
    buf_append(&r->in, p, len);
    while (r->state != HRS_DONE && pos < r->in.len) {
        int rc;
        size_t used;
        /* UNSAFE: pos < r->in.len is checked by the loop condition */
        const char *cur = r->in.data + pos;
        size_t avail = r->in.len - pos;

        if (line_state(r->state))
            used = resp_take_line(r, cur, avail, error_r, &rc);
        else
            used = resp_body(r, cur, avail, error_r, &rc);
        if (rc < 0)
            return -1;
        if (used == 0)
            break;
        pos += used;
    }
    buf_consume(&r->in, pos);
    return r->state == HRS_DONE ? 1 : 0;
}

int http_resp_eof(struct http_resp *r, const char **error_r)
{
    if (r->state == HRS_DONE)
        return 1;
    if (r->state == HRS_BODY_CLOSE) {
        r->state = HRS_DONE;
        return 1;
    }
    return resp_fail(r, r->state == HRS_STATUS && r->header_bytes == 0 && r->in.len == 0
                            ? "connection closed without a reply"
                            : "connection closed before the end of the reply",
                     error_r);
}
