#ifndef WINNOW_PROTO_HTTP_HTTPRESP_H
#define WINNOW_PROTO_HTTP_HTTPRESP_H
/*
 * A length-checked HTTP/1.x response parser, push-style: feed bytes as they
 * arrive.  The clients use it: winnowc and winnowadm, and the milter
 * proxy's upstream scanner client.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum http_resp_state {
    HRS_STATUS = 0, HRS_HEADERS, HRS_BODY_LEN, HRS_BODY_CLOSE,
    HRS_CHUNK_SIZE, HRS_CHUNK_DATA, HRS_CHUNK_CRLF, HRS_TRAILERS, HRS_DONE,
};

struct http_resp_limits {
    size_t max_line;             /* status/header/chunk-size line, 0 = 8 KiB */
    size_t max_header_bytes;     /* 0 = 64 KiB */
    size_t max_body;             /* 0 = 256 MiB */
};

struct http_resp {
    enum http_resp_state state;
    struct http_resp_limits limits;
    struct buf in;               /* unconsumed input */
    size_t header_bytes;
    int status;
    char reason[128];
    bool have_length, chunked;
    uint64_t length;             /* Content-Length, or bytes left in a chunk */
    struct buf body;
    char *error;                 /* static or heap-free text for error_r */
};

void http_resp_init(struct http_resp *r, const struct http_resp_limits *limits);
void http_resp_deinit(struct http_resp *r);
/* 1: response complete, 0: need more, -1: malformed (*error_r).  Bytes after
 * the end of the response are ignored. */
int http_resp_feed(struct http_resp *r, const char *p, size_t len, const char **error_r);
/* The peer closed: 1 if that ends the response (no length given), else -1. */
int http_resp_eof(struct http_resp *r, const char **error_r);

#endif
