/*
 * HTTP/1.x request parser for the scanner and controller ports, push-style
 * over libhttp-parser: the caller feeds bytes in whatever splits the network
 * delivers and gets back a complete request, "need more", or an error with
 * the status to answer.
 *
 * Owns: one parser per connection; the current request's strings live in a
 * per-request arena, the body in a heap buffer reused across keep-alive
 * requests.  Both stay valid until the next feed or reset.
 *
 * Refuses: header blocks over max_header_bytes or max_headers (431), bodies
 * over max_body (413, checked on Content-Length before any body byte is
 * stored and again while chunks stream in), HTTP versions other than 1.x
 * (505), and anything libhttp-parser calls malformed (400).  Errors are
 * sticky: the connection is expected to answer and close.
 *
 * The first line is collected before libhttp-parser sees it, because the
 * legacy `CHECK RSPAMC/1.3` lines (http_legacy.c) are not HTTP and the
 * library rejects them.  After a request completes the library is paused,
 * so pipelined bytes stay with the caller (`consumed_r`).
 */
#include "proto/http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/str.h"
#include "proto/http/http_private.h"

#define DEFAULT_MAX_HEADER_BYTES (64 * 1024)
#define DEFAULT_MAX_HEADERS 256
#define DEFAULT_MAX_BODY (50 * 1024 * 1024)
/* Past this, a finished request's body buffer is released rather than kept
 * for the next keep-alive request. */
#define BODY_KEEP_MAX (1024 * 1024)
/* ": " and CRLF around each header, for the header byte budget. */
#define HEADER_OVERHEAD 4

int http_fail(struct http_parser_state *p, int status, const char *reason)
{
    if (p->st != PS_ERROR) {
        p->err_status = status;
        p->err_reason = reason;
        p->st = PS_ERROR;
    }
    return -1;
}

int http_count_header_bytes(struct http_parser_state *p, size_t n)
{
    if (n > p->lim.max_header_bytes || p->header_bytes > p->lim.max_header_bytes - n)
        return http_fail(p, 431, "request header block too large");
    p->header_bytes += n;
    return 0;
}

bool http_is_token(const char *p, size_t len)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c != '\0' && memchr(extra, c, sizeof(extra) - 1) != NULL);
        if (!ok)
            return false;
    }
    return true;
}

int http_add_header(struct http_parser_state *p, const char *name, size_t nlen,
                    const char *value, size_t vlen)
{
    struct http_request *req = &p->req;
    if (req->nheaders >= p->lim.max_headers)
        return http_fail(p, 431, "too many request headers");
    if (req->nheaders == p->hdr_cap) {
        size_t ncap = p->hdr_cap ? p->hdr_cap * 2 : 16;
        if (ncap > p->lim.max_headers)
            ncap = p->lim.max_headers;
        req->headers = arena_realloc(p->arena, req->headers,
                                     p->hdr_cap * sizeof(*req->headers),
                                     ncap * sizeof(*req->headers));
        p->hdr_cap = ncap;
    }
    str_trim(&value, &vlen);
    req->headers[req->nheaders].name = arena_strndup(p->arena, name, nlen);
    req->headers[req->nheaders].value = arena_strndup(p->arena, value, vlen);
    req->nheaders++;
    return 0;
}

/* ---- libhttp-parser callbacks ---- */

static struct http_parser_state *state_of(http_parser *hp)
{
    return hp->data;
}

static int commit_header(struct http_parser_state *p)
{
    if (p->name.len == 0 && !p->in_value)
        return 0;
    const char *v = p->value.data ? p->value.data : "";
    /* libhttp-parser (non-strict build) lets "Bad Name:" through. */
    if (!http_is_token(p->name.data, p->name.len))
        return http_fail(p, 400, "invalid header name");
    if (str_ieq_cstr(p->name.data, p->name.len, "expect") &&
        str_ieq_cstr(v, p->value.len, "100-continue"))
        p->want_continue = true;
    int rc = http_add_header(p, p->name.data ? p->name.data : "", p->name.len, v, p->value.len);
    buf_reset(&p->name);
    buf_reset(&p->value);
    p->in_value = false;
    return rc;
}

/* The request target lies within the first line, which feed_line already
 * counted against max_header_bytes. */
static int on_url(http_parser *hp, const char *at, size_t len)
{
    struct http_parser_state *p = state_of(hp);
    buf_append(&p->url, at, len);
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    struct http_parser_state *p = state_of(hp);
    if (p->in_value && commit_header(p) < 0)
        return -1;
    if (p->name.len == 0 && http_count_header_bytes(p, HEADER_OVERHEAD) < 0)
        return -1;
    if (http_count_header_bytes(p, len) < 0)
        return -1;
    buf_append(&p->name, at, len);
    return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    struct http_parser_state *p = state_of(hp);
    if (http_count_header_bytes(p, len) < 0)
        return -1;
    p->in_value = true;
    buf_append(&p->value, at, len);
    return 0;
}

static int on_headers_complete(http_parser *hp)
{
    struct http_parser_state *p = state_of(hp);
    if (p->in_value && commit_header(p) < 0)
        return -1;
    if (hp->http_major != 1)
        return http_fail(p, 505, "only HTTP/1.x is supported");
    if ((hp->flags & F_CONTENTLENGTH) && !(hp->flags & F_CHUNKED) &&
        hp->content_length > p->lim.max_body)
        return http_fail(p, 413, "message too large");
    struct http_request *req = &p->req;
    req->proto = HTTP_PROTO_HTTP;
    snprintf(req->method, sizeof(req->method), "%s", http_method_str(hp->method));
    req->http_major = hp->http_major;
    req->http_minor = hp->http_minor;
    req->keep_alive = http_should_keep_alive(hp) != 0;
    if (http_split_url(p) < 0)
        return -1;
    if ((hp->flags & F_CONTENTLENGTH) && !(hp->flags & F_CHUNKED))
        buf_reserve(&p->body, hp->content_length < BODY_PREALLOC_MAX ? hp->content_length
                                                                     : BODY_PREALLOC_MAX);
    bool has_body = (hp->flags & F_CHUNKED) ||
                    ((hp->flags & F_CONTENTLENGTH) && hp->content_length > 0);
    if (!has_body)
        p->want_continue = false;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    struct http_parser_state *p = state_of(hp);
    if (len > p->lim.max_body || p->body.len > p->lim.max_body - len)
        return http_fail(p, 413, "message too large");
    buf_append(&p->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    struct http_parser_state *p = state_of(hp);
    p->st = PS_DONE;
    /* Stop here: the bytes after this request belong to the next one. */
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- lifecycle ---- */

struct http_parser_state *http_request_parser_new(const struct http_limits *limits)
{
    static uint32_t lib_max_header;
    struct http_parser_state *p = calloc(1, sizeof(*p));
    if (p == NULL)
        panic("http: out of memory");
    if (limits != NULL)
        p->lim = *limits;
    if (p->lim.max_header_bytes == 0)
        p->lim.max_header_bytes = DEFAULT_MAX_HEADER_BYTES;
    if (p->lim.max_headers == 0)
        p->lim.max_headers = DEFAULT_MAX_HEADERS;
    if (p->lim.max_body == 0)
        p->lim.max_body = DEFAULT_MAX_BODY;
    /* libhttp-parser has its own, process-wide header limit (80 KiB); raise it
     * (never lower it) so ours is the one that answers. */
    if (p->lim.max_header_bytes >= 80 * 1024 && p->lim.max_header_bytes < UINT32_MAX / 2 &&
        p->lim.max_header_bytes * 2 > lib_max_header) {
        lib_max_header = (uint32_t)(p->lim.max_header_bytes * 2);
        http_parser_set_max_header_size(lib_max_header);
    }
    http_request_parser_reset(p);
    return p;
}

void http_request_parser_reset(struct http_parser_state *p)
{
    arena_free(&p->arena);
    memset(&p->req, 0, sizeof(p->req));
    p->hdr_cap = 0;
    p->header_bytes = 0;
    buf_reset(&p->line);
    buf_reset(&p->url);
    buf_reset(&p->name);
    buf_reset(&p->value);
    if (p->body.cap > BODY_KEEP_MAX)
        buf_free(&p->body);
    buf_reset(&p->body);
    p->in_value = false;
    p->has_content_length = false;
    p->legacy_left = 0;
    p->want_continue = false;
    p->err_status = 0;
    p->err_reason = NULL;
    p->st = PS_START;
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
}

void http_request_parser_free(struct http_parser_state **pp)
{
    struct http_parser_state *p = *pp;
    if (p == NULL)
        return;
    arena_free(&p->arena);
    buf_free(&p->line);
    buf_free(&p->url);
    buf_free(&p->name);
    buf_free(&p->value);
    buf_free(&p->body);
    free(p);
    *pp = NULL;
}

bool http_request_parser_want_continue(struct http_parser_state *p)
{
    /* Only once the header block is through (split_url set the path) and
     * before any body byte. */
    if (!p->want_continue || p->st != PS_HTTP || p->req.path == NULL || p->body.len > 0)
        return false;
    p->want_continue = false;
    return true;
}

/* ---- feeding ---- */

/* Feeds bytes to libhttp-parser; returns the number it used. */
static size_t feed_http(struct http_parser_state *p, const char *data, size_t len)
{
    size_t n = http_parser_execute(&p->hp, &parser_settings, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    if (p->st == PS_DONE || p->st == PS_ERROR)
        return n;
    if (e == HPE_HEADER_OVERFLOW)
        http_fail(p, 431, "request header block too large");
    else if (e == HPE_INVALID_VERSION)
        http_fail(p, 505, "invalid HTTP version");
    else if (e != HPE_OK)
        http_fail(p, 400, http_errno_description(e));
    else if (n != len)
        http_fail(p, 400, "malformed request");
    return n;
}

/* Collects the first line until LF, then hands it to the protocol it
 * belongs to.  Returns the number of bytes of data used. */
size_t http_collect_line(struct http_parser_state *p, const char *data, size_t len,
                         size_t *llen_r)
{
    const char *lf = memchr(data, '\n', len);
    size_t n = lf ? (size_t)(lf - data) + 1 : len;
    *llen_r = SIZE_MAX;
    if (http_count_header_bytes(p, n) < 0)
        return n;
    buf_append(&p->line, data, n);
    if (lf == NULL)
        return n;
    size_t llen = p->line.len - 1;
    if (llen > 0 && p->line.data[llen - 1] == '\r')
        llen--;
    *llen_r = llen;
    return n;
}

static size_t feed_line(struct http_parser_state *p, const char *data, size_t len)
{
    size_t llen;
    size_t n = http_collect_line(p, data, len, &llen);
    if (llen == SIZE_MAX)
        return n;
    if (http_legacy_detect(p->line.data, llen)) {
        http_legacy_start(p, p->line.data, llen);
        buf_reset(&p->line);
        return n;
    }
    p->st = PS_HTTP;
    feed_http(p, p->line.data, p->line.len);
    buf_reset(&p->line);
    return n;
}

static size_t skip_blank(struct http_parser_state *p, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && (data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i < len) {
        p->st = PS_LINE;
        if (p->arena == NULL)
            p->arena = arena_new(0);
    }
    return i;
}

static void finish_request(struct http_parser_state *p)
{
    buf_reserve(&p->body, 0);
    p->req.body = p->body.data;
    p->req.body_len = p->body.len;
    if (p->req.path == NULL)
        p->req.path = arena_strdup(p->arena, "/");
}

int http_request_feed(struct http_parser_state *p, const char *data, size_t len,
                      size_t *consumed_r, struct http_request **req_r, int *status_r,
                      const char **error_r)
{
    size_t off = 0;
    *consumed_r = 0;
    *req_r = NULL;
    if (p->st == PS_DONE)
        http_request_parser_reset(p);
    while (off < len && p->st != PS_DONE && p->st != PS_ERROR) {
        const char *d = data + off;
        size_t left = len - off;
        switch (p->st) {
        case PS_START:
            off += skip_blank(p, d, left);
            break;
        case PS_LINE:
            off += feed_line(p, d, left);
            break;
        case PS_HTTP:
            off += feed_http(p, d, left);
            break;
        case PS_LEGACY_HEADERS:
        case PS_LEGACY_BODY:
            off += http_legacy_feed(p, d, left);
            break;
        case PS_DONE:
        case PS_ERROR:
            break;
        }
    }
    *consumed_r = off;
    if (p->st == PS_ERROR) {
        *status_r = p->err_status;
        *error_r = p->err_reason;
        return -1;
    }
    if (p->st == PS_DONE) {
        finish_request(p);
        *req_r = &p->req;
        return 1;
    }
    return 0;
}

/* ---- lookups ---- */

const char *http_request_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *http_request_query(const struct http_request *req, const char *name)
{
    size_t nq = req->nqueries <= req->nheaders ? req->nqueries : req->nheaders;
    for (size_t i = req->nheaders - nq; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}
