#ifndef WINNOW_PROTO_HTTP_H
#define WINNOW_PROTO_HTTP_H
/*
 * HTTP/1.x request parsing on top of libhttp-parser, push-style: feed bytes
 * as they arrive, get a complete request (or an error with the status to
 * answer) back.  Also recognises the legacy `CHECK RSPAMC/1.3` and
 * `SYMBOLS SPAMC/1.2` request lines (spec §2.6).  Limits are checked before
 * anything is allocated for them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct http_limits {
    size_t max_header_bytes;     /* whole header block; 0 = 64 KiB */
    size_t max_headers;          /* 0 = 256 */
    size_t max_body;             /* 0 = 50 MiB */
};

enum http_proto { HTTP_PROTO_HTTP = 0, HTTP_PROTO_RSPAMC, HTTP_PROTO_SPAMC };

struct http_hdr {
    char *name;
    char *value;
};

struct http_request {
    enum http_proto proto;
    char method[16];
    char *path;                  /* without query string, NUL-terminated */
    char *query;                 /* NULL if none (without '?') */
    struct http_hdr *headers;    /* in arrival order, then the query parameters */
    size_t nheaders;
    size_t nqueries;             /* the last nqueries headers came from the query string */
    char *body;                  /* never NULL, NUL-terminated (not counted in body_len) */
    size_t body_len;
    bool keep_alive;
    unsigned http_major, http_minor;
};

struct http_parser_state;        /* opaque */

struct http_parser_state *http_request_parser_new(const struct http_limits *limits);
void http_request_parser_free(struct http_parser_state **p);
/*
 * Feeds len bytes.  Returns 1 when a request is complete (*req_r points into
 * parser-owned memory valid until the next feed or reset; *consumed_r says how
 * many bytes of this chunk were used, the rest belong to the next request),
 * 0 when more input is needed (then all len bytes were used), -1 on error
 * with *status_r (400, 413, 431, 505...) and *error_r (a static string).
 * Errors are sticky until http_request_parser_reset(): answer and close.
 * After a 1, the next feed starts the next request (pipelining) and
 * invalidates *req_r; scan_request_to_task() copies what the task needs,
 * so the task may outlive the request and the parser.
 */
int http_request_feed(struct http_parser_state *p, const char *data, size_t len,
                      size_t *consumed_r, struct http_request **req_r, int *status_r,
                      const char **error_r);
void http_request_parser_reset(struct http_parser_state *p);
/*
 * True once per request when the client sent `Expect: 100-continue` and the
 * headers are complete but the body is still to come: the caller should
 * write "HTTP/1.1 100 Continue\r\n\r\n" (curl waits a second otherwise).
 */
bool http_request_parser_want_continue(struct http_parser_state *p);

/* Header lookup, case-insensitive; NULL if absent. */
const char *http_request_header(const struct http_request *req, const char *name);
/* Query parameter (URL-decoded into the request's memory), NULL if absent. */
const char *http_request_query(const struct http_request *req, const char *name);

/* Writes a complete HTTP/1.1 response head + body. */
void http_reply(struct buf *out, int status, const char *reason, const char *content_type,
                const char *body, size_t body_len, bool keep_alive, const char *extra_headers);
/* {"error":"msg"} with the given status. */
void http_reply_error(struct buf *out, int status, const char *msg, bool keep_alive);
/* Same with a non-standard reason phrase (spec §2.1: `500 invalid command`). */
void http_reply_error_reason(struct buf *out, int status, const char *reason, const char *msg,
                             bool keep_alive);
const char *http_status_reason(int status);

#endif
