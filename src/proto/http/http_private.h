#ifndef WINNOW_PROTO_HTTP_PRIVATE_H
#define WINNOW_PROTO_HTTP_PRIVATE_H
/*
 * Parser state shared by http.c (HTTP/1.x over libhttp-parser) and
 * http_legacy.c (RSPAMC/SPAMC request lines).  For implementers only.
 */
#include <http_parser.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/http/http.h"

struct arena;

/* A client's Content-Length only buys this much memory up front; the rest
 * grows as bytes actually arrive. */
#define BODY_PREALLOC_MAX (64 * 1024)

enum http_pstate {
    PS_START = 0,                /* skipping CR/LF before a request */
    PS_LINE,                     /* collecting the first line to pick the protocol */
    PS_HTTP,                     /* inside libhttp-parser */
    PS_LEGACY_HEADERS,           /* RSPAMC/SPAMC header lines */
    PS_LEGACY_BODY,              /* RSPAMC/SPAMC body, legacy_left bytes to go */
    PS_DONE,                     /* request complete, req valid until next feed */
    PS_ERROR,                    /* sticky: every further feed fails the same way */
};

struct http_parser_state {
    struct http_limits lim;
    enum http_pstate st;
    http_parser hp;
    struct arena *arena;         /* this request's strings; NULL between requests */
    struct http_request req;
    size_t hdr_cap;              /* allocated slots in req.headers */
    size_t header_bytes;         /* request line + headers seen, for max_header_bytes */

    struct buf line;             /* first line, then each legacy header line */
    struct buf url;              /* request target as received */
    struct buf name, value;      /* header being assembled from callback pieces */
    bool in_value;
    struct buf body;             /* reused across requests; req.body points into it */

    bool has_content_length;     /* legacy: Content-length seen */
    uint64_t legacy_left;
    bool want_continue;          /* Expect: 100-continue seen, not yet reported */

    int err_status;
    const char *err_reason;      /* static string */
};

/* Records the first error (later ones are consequences) and moves to PS_ERROR. */
int http_fail(struct http_parser_state *p, int status, const char *reason);

/* Appends a header (copied into the request arena).  -1 (431) past max_headers. */
int http_add_header(struct http_parser_state *p, const char *name, size_t nlen,
                    const char *value, size_t vlen);

/* RFC 9110 token (header names): non-empty, tchar only. */
bool http_is_token(const char *p, size_t len);

/* Counts bytes against max_header_bytes; -1 (431) when exceeded. */
int http_count_header_bytes(struct http_parser_state *p, size_t n);
/* Appends data up to and including the next LF to p->line, counting it
 * against the header limit.  Returns the bytes used; *llen_r is the line's
 * length without CR LF once it is complete, SIZE_MAX while it is not (or
 * when the limit was hit). */
size_t http_collect_line(struct http_parser_state *p, const char *data, size_t len,
                         size_t *llen_r);

/* Splits p->url into req.path / req.query and appends the query parameters
 * as headers (http_url.c).  -1 with the error recorded. */
int http_split_url(struct http_parser_state *p);

/* Legacy protocol (http_legacy.c).  http_legacy_detect returns true when the
 * first line (without its line end) is `<METHOD> RSPAMC/x.y` or `SPAMC/x.y`;
 * http_legacy_start then fills the request from it (-1 on a bad version). */
bool http_legacy_detect(const char *p, size_t len);
int http_legacy_start(struct http_parser_state *p, const char *line, size_t len);
/* Consumes bytes in PS_LEGACY_HEADERS / PS_LEGACY_BODY; returns the number
 * used, moving to PS_DONE or PS_ERROR as it goes. */
size_t http_legacy_feed(struct http_parser_state *p, const char *data, size_t len);

#endif
