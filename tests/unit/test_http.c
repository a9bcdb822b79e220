/*
 * Request parser tests (src/proto/http/).  Every case is parsed three ways —
 * in one call, one byte at a time, and split in two at every offset — and
 * all must give the same request (or the same error status).  The request
 * is compared as a one-line dump, so each table row reads as input -> want.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "proto/http/http.h"

struct result {
    int rc;
    int status;
    size_t consumed;             /* bytes of input used in total */
    char dump[4096];
};

/* proto method path ?query ka=0/1 v=1.1 [name=value|...] nq=N body=<...> */
static void dump_request(const struct http_request *req, char *out, size_t size)
{
    struct buf b = BUF_INIT;
    static const char *protos[] = {"HTTP", "RSPAMC", "SPAMC"};
    buf_printf(&b, "%s %s %s ?%s ka=%d v=%u.%u [", protos[req->proto], req->method, req->path,
               req->query ? req->query : "-", req->keep_alive, req->http_major, req->http_minor);
    for (size_t i = 0; i < req->nheaders; i++)
        buf_printf(&b, "%s%s=%s", i ? "|" : "", req->headers[i].name, req->headers[i].value);
    buf_printf(&b, "] nq=%zu body=<", req->nqueries);
    buf_append(&b, req->body, req->body_len);
    buf_puts(&b, ">");
    snprintf(out, size, "%s", b.data);
    buf_free(&b);
}

/* Feeds input in pieces of `step` bytes (0 = all at once), or split once at
 * `split` when step is SIZE_MAX.  Stops at the first complete request. */
static void parse(const struct http_limits *lim, const char *in, size_t len, size_t step,
                  size_t split, struct result *res)
{
    struct http_parser_state *p = http_request_parser_new(lim);
    memset(res, 0, sizeof(*res));
    size_t off = 0;
    res->rc = 0;
    while (off < len) {
        size_t n = len - off;
        if (step == SIZE_MAX)
            n = off < split ? split - off : len - off;
        else if (step > 0 && n > step)
            n = step;
        size_t consumed = 0;
        struct http_request *req = NULL;
        const char *err = NULL;
        int rc = http_request_feed(p, in + off, n, &consumed, &req, &res->status, &err);
        assert_true(consumed <= n);
        off += consumed;
        if (rc != 0) {
            res->rc = rc;
            if (rc == 1)
                dump_request(req, res->dump, sizeof(res->dump));
            else
                assert_non_null(err);
            break;
        }
        assert_int_equal(consumed, n);
    }
    res->consumed = off;
    http_request_parser_free(&p);
    assert_null(p);
}

struct parse_case {
    const char *name;
    const char *in;
    struct http_limits lim;
    int want_rc;                 /* 1 complete, 0 incomplete, -1 error */
    int want_status;             /* for errors */
    const char *want;            /* dump, for complete requests */
};

static const struct parse_case cases[] = {
    {"checkv2 with body",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 5\r\nIP: 1.2.3.4\r\nRcpt: a@b\r\n\r\nhello",
     {0}, 1, 0,
     "HTTP POST /checkv2 ?- ka=1 v=1.1 [Content-Length=5|IP=1.2.3.4|Rcpt=a@b] nq=0 body=<hello>"},
    {"header values trimmed, names kept",
     "POST /checkv2 HTTP/1.1\r\nfrom:   <a@b>  \r\nContent-Length: 0\r\n\r\n", {0}, 1, 0,
     "HTTP POST /checkv2 ?- ka=1 v=1.1 [from=<a@b>|Content-Length=0] nq=0 body=<>"},
    {"http/1.0 closes by default", "POST /check HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi", {0}, 1,
     0, "HTTP POST /check ?- ka=0 v=1.0 [Content-Length=2] nq=0 body=<hi>"},
    {"http/1.0 keep-alive",
     "POST /check HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", {0}, 1, 0,
     "HTTP POST /check ?- ka=1 v=1.0 [Connection=keep-alive|Content-Length=0] nq=0 body=<>"},
    {"http/1.1 connection close", "GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n", {0}, 1, 0,
     "HTTP GET /ping ?- ka=0 v=1.1 [Connection=close] nq=0 body=<>"},
    {"leading blank lines skipped", "\r\n\r\nGET /ping HTTP/1.1\r\n\r\n", {0}, 1, 0,
     "HTTP GET /ping ?- ka=1 v=1.1 [] nq=0 body=<>"},
    {"bare LF line ends", "GET /ping HTTP/1.1\nHost: x\n\n", {0}, 1, 0,
     "HTTP GET /ping ?- ka=1 v=1.1 [Host=x] nq=0 body=<>"},
    {"chunked body",
     "POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
     {0}, 1, 0,
     "HTTP POST /checkv2 ?- ka=1 v=1.1 [Transfer-Encoding=chunked] nq=0 body=<hello, world>"},
    {"query parameters become headers",
     "POST /checkv2?IP=1.2.3.4&Rcpt=a%40b&Rcpt=c@d&From=x+y&flag HTTP/1.1\r\n"
     "Content-Length: 1\r\n\r\nx",
     {0}, 1, 0,
     "HTTP POST /checkv2 ?IP=1.2.3.4&Rcpt=a%40b&Rcpt=c@d&From=x+y&flag ka=1 v=1.1 "
     "[Content-Length=1|IP=1.2.3.4|Rcpt=a@b|Rcpt=c@d|From=x y|flag=] nq=5 body=<x>"},
    {"fragment dropped, bad escape kept", "GET /ping?a=%zz&b=%4#frag HTTP/1.1\r\n\r\n", {0}, 1, 0,
     "HTTP GET /ping ?a=%zz&b=%4 ka=1 v=1.1 [a=%zz|b=%4] nq=2 body=<>"},
    {"absolute URL", "POST http://localhost:11333/checkv2?Ip=::1 HTTP/1.1\r\n\r\n", {0}, 1, 0,
     "HTTP POST /checkv2 ?Ip=::1 ka=1 v=1.1 [Ip=::1] nq=1 body=<>"},
    {"legacy RSPAMC",
     "CHECK RSPAMC/1.3\r\nContent-length: 5\r\nQueue-Id: Q1\r\nRcpt: <a@b>\r\nRcpt: c@d\r\n\r\nhello",
     {0}, 1, 0,
     "RSPAMC CHECK /check ?- ka=0 v=1.3 [Content-length=5|Queue-Id=Q1|Rcpt=<a@b>|Rcpt=c@d] nq=0 "
     "body=<hello>"},
    {"legacy SPAMC with LF", "SYMBOLS SPAMC/1.2\nContent-length: 3\nUser: bob\n\nabc", {0}, 1, 0,
     "SPAMC SYMBOLS /symbols ?- ka=0 v=1.2 [Content-length=3|User=bob] nq=0 body=<abc>"},
    {"legacy empty body", "PING SPAMC/1.5\r\nContent-Length: 0\r\n\r\n", {0}, 1, 0,
     "SPAMC PING /ping ?- ka=0 v=1.5 [Content-Length=0] nq=0 body=<>"},
    {"incomplete body", "POST /checkv2 HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", {0}, 0, 0,
     NULL},
    {"incomplete headers", "POST /checkv2 HTTP/1.1\r\nIP: 1", {0}, 0, 0, NULL},
    {"incomplete legacy body", "CHECK RSPAMC/1.3\r\nContent-length: 9\r\n\r\nabc", {0}, 0, 0,
     NULL},

    /* Limits. */
    {"content-length over max_body", "POST /checkv2 HTTP/1.1\r\nContent-Length: 11\r\n\r\n",
     {.max_body = 10}, -1, 413, NULL},
    {"chunked over max_body",
     "POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello!\r\n6\r\nhello!\r\n",
     {.max_body = 10}, -1, 413, NULL},
    {"legacy over max_body", "CHECK RSPAMC/1.3\r\nContent-length: 100\r\n\r\n", {.max_body = 10},
     -1, 413, NULL},
    {"header block too large", "GET /ping HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
     {.max_header_bytes = 40}, -1, 431, NULL},
    {"request line too large", "GET /pingpingpingpingpingpingpingpingpingping HTTP/1.1\r\n",
     {.max_header_bytes = 20}, -1, 431, NULL},
    {"too many headers", "GET /ping HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", {.max_headers = 2},
     -1, 431, NULL},
    {"too many query params", "GET /ping?a=1&b=2&c=3 HTTP/1.1\r\n\r\n", {.max_headers = 2}, -1,
     431, NULL},
    {"legacy too many headers", "CHECK RSPAMC/1.3\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
     {.max_headers = 2}, -1, 431, NULL},

    /* Malformed. */
    {"garbage", "\x01\x02\x03 hello\r\n\r\n", {0}, -1, 400, NULL},
    {"unknown method", "FROB /x HTTP/1.1\r\n\r\n", {0}, -1, 400, NULL},
    {"bad header name", "GET /ping HTTP/1.1\r\nBad Name: x\r\n\r\n", {0}, -1, 400, NULL},
    {"nul in header", "GET /ping HTTP/1.1\r\nA: x\0y\r\n\r\n", {0}, -1, 400, NULL},
    {"content-length and chunked",
     "POST /c HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", {0}, -1, 400,
     NULL},
    {"bad content-length", "POST /c HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", {0}, -1, 400, NULL},
    {"bad chunk size", "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", {0}, -1,
     400, NULL},
    {"http/2", "GET /ping HTTP/2.0\r\n\r\n", {0}, -1, 505, NULL},
    {"nul escape in query", "GET /ping?a=%00 HTTP/1.1\r\n\r\n", {0}, -1, 400, NULL},
    {"legacy without content-length", "CHECK RSPAMC/1.3\r\nQueue-Id: x\r\n\r\n", {0}, -1, 400,
     NULL},
    {"legacy bad version", "CHECK RSPAMC/x\r\n\r\n", {0}, -1, 400, NULL},
    {"legacy line without colon", "CHECK RSPAMC/1.3\r\nnocolon\r\n\r\n", {0}, -1, 400, NULL},
    {"legacy folded line", "CHECK RSPAMC/1.3\r\nA: b\r\n c\r\n\r\n", {0}, -1, 400, NULL},
    {"legacy conflicting lengths",
     "CHECK RSPAMC/1.3\r\nContent-length: 1\r\nContent-length: 2\r\n\r\n", {0}, -1, 400, NULL},
    {"legacy bad content-length", "CHECK RSPAMC/1.3\r\nContent-length: -1\r\n\r\n", {0}, -1, 400,
     NULL},
};

static size_t case_len(const struct parse_case *c)
{
    /* One case carries an embedded NUL: its length runs to the final CRLFCRLF. */
    if (strcmp(c->name, "nul in header") == 0)
        return sizeof("GET /ping HTTP/1.1\r\nA: x\0y\r\n\r\n") - 1;
    return strlen(c->in);
}

static void check_result(const struct parse_case *c, const struct result *r, const char *how)
{
    if (r->rc != c->want_rc || (c->want_rc == -1 && r->status != c->want_status) ||
        (c->want_rc == 1 && strcmp(r->dump, c->want) != 0)) {
        print_error("case '%s' (%s): rc=%d status=%d\n got: %s\nwant: %s\n", c->name, how, r->rc,
                    r->status, r->rc == 1 ? r->dump : "-", c->want ? c->want : "-");
        fail();
    }
    if (c->want_rc >= 0 && r->rc >= 0)
        assert_int_equal(r->consumed, case_len(c));
}

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct parse_case *c = &cases[i];
        size_t len = case_len(c);
        struct result r;
        parse(&c->lim, c->in, len, 0, 0, &r);
        check_result(c, &r, "one shot");
        parse(&c->lim, c->in, len, 1, 0, &r);
        check_result(c, &r, "byte by byte");
        for (size_t split = 1; split < len; split++) {
            char how[32];
            snprintf(how, sizeof(how), "split at %zu", split);
            parse(&c->lim, c->in, len, SIZE_MAX, split, &r);
            check_result(c, &r, how);
        }
    }
}

/* Three requests in one buffer: each feed stops after one request and says
 * how much it used; feeding the rest yields the next. */
static void test_pipelining(void **state)
{
    (void)state;
    static const char in[] = "POST /checkv2 HTTP/1.1\r\nContent-Length: 3\r\n\r\none"
                             "GET /ping HTTP/1.1\r\n\r\n"
                             "POST /check HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "3\r\ntwo\r\n0\r\n\r\n"
                             "GET /pi";
    static const char *want[] = {
        "HTTP POST /checkv2 ?- ka=1 v=1.1 [Content-Length=3] nq=0 body=<one>",
        "HTTP GET /ping ?- ka=1 v=1.1 [] nq=0 body=<>",
        "HTTP POST /check ?- ka=1 v=1.1 [Transfer-Encoding=chunked] nq=0 body=<two>",
    };
    struct http_parser_state *p = http_request_parser_new(NULL);
    size_t off = 0, len = sizeof(in) - 1;
    for (size_t i = 0; i < 3; i++) {
        size_t consumed;
        struct http_request *req;
        int status;
        const char *err;
        assert_int_equal(http_request_feed(p, in + off, len - off, &consumed, &req, &status, &err),
                         1);
        char dump[1024];
        dump_request(req, dump, sizeof(dump));
        assert_string_equal(dump, want[i]);
        off += consumed;
    }
    size_t consumed;
    struct http_request *req;
    int status;
    const char *err;
    assert_int_equal(http_request_feed(p, in + off, len - off, &consumed, &req, &status, &err), 0);
    assert_int_equal(consumed, len - off);
    /* The rest of the fourth request arrives. */
    assert_int_equal(http_request_feed(p, "ng HTTP/1.1\r\n\r\n", 15, &consumed, &req, &status,
                                       &err),
                     1);
    assert_string_equal(req->path, "/ping");
    http_request_parser_free(&p);
}

/* After an error every feed fails the same way (the caller answers and closes). */
static void test_error_sticky(void **state)
{
    (void)state;
    struct http_parser_state *p = http_request_parser_new(NULL);
    size_t consumed;
    struct http_request *req;
    int status = 0;
    const char *err = NULL;
    assert_int_equal(http_request_feed(p, "FROB / HTTP/1.1\r\n", 17, &consumed, &req, &status, &err),
                     -1);
    assert_int_equal(status, 400);
    status = 0;
    assert_int_equal(http_request_feed(p, "GET /ping HTTP/1.1\r\n\r\n", 22, &consumed, &req,
                                       &status, &err),
                     -1);
    assert_int_equal(status, 400);
    /* A reset makes the parser usable again. */
    http_request_parser_reset(p);
    assert_int_equal(http_request_feed(p, "GET /ping HTTP/1.1\r\n\r\n", 22, &consumed, &req,
                                       &status, &err),
                     1);
    http_request_parser_free(&p);
}

static void test_lookups(void **state)
{
    (void)state;
    static const char in[] = "POST /checkv2?rcpt=q%40x&IP=9.9.9.9 HTTP/1.1\r\n"
                             "ip: 1.1.1.1\r\nRCPT: h@x\r\nContent-Length: 0\r\n\r\n";
    struct http_parser_state *p = http_request_parser_new(NULL);
    size_t consumed;
    struct http_request *req;
    int status;
    const char *err;
    assert_int_equal(http_request_feed(p, in, sizeof(in) - 1, &consumed, &req, &status, &err), 1);
    /* Headers win the plain lookup (they come first); the query one sees only the URL. */
    assert_string_equal(http_request_header(req, "Ip"), "1.1.1.1");
    assert_string_equal(http_request_header(req, "rcpt"), "h@x");
    assert_string_equal(http_request_query(req, "Rcpt"), "q@x");
    assert_string_equal(http_request_query(req, "ip"), "9.9.9.9");
    assert_null(http_request_query(req, "Content-Length"));
    assert_null(http_request_header(req, "Missing"));
    assert_string_equal(req->query, "rcpt=q%40x&IP=9.9.9.9");
    http_request_parser_free(&p);
}

static void test_continue(void **state)
{
    (void)state;
    static const char head[] = "POST /checkv2 HTTP/1.1\r\nExpect: 100-continue\r\n"
                               "Content-Length: 2\r\n\r\n";
    struct http_parser_state *p = http_request_parser_new(NULL);
    size_t consumed;
    struct http_request *req;
    int status;
    const char *err;
    assert_false(http_request_parser_want_continue(p));
    assert_int_equal(http_request_feed(p, head, 20, &consumed, &req, &status, &err), 0);
    assert_false(http_request_parser_want_continue(p));
    assert_int_equal(http_request_feed(p, head + 20, sizeof(head) - 21, &consumed, &req, &status,
                                       &err),
                     0);
    assert_true(http_request_parser_want_continue(p));
    assert_false(http_request_parser_want_continue(p)); /* once */
    assert_int_equal(http_request_feed(p, "ok", 2, &consumed, &req, &status, &err), 1);
    assert_string_equal(req->body, "ok");
    http_request_parser_free(&p);
}

/* A large body in many small pieces (and the buffer is released after). */
static void test_large_body(void **state)
{
    (void)state;
    struct http_parser_state *p = http_request_parser_new(NULL);
    char head[128];
    size_t total = 3 * 1024 * 1024;
    int hl = snprintf(head, sizeof(head), "POST /checkv2 HTTP/1.1\r\nContent-Length: %zu\r\n\r\n",
                      total);
    size_t consumed;
    struct http_request *req = NULL;
    int status;
    const char *err;
    assert_int_equal(http_request_feed(p, head, (size_t)hl, &consumed, &req, &status, &err), 0);
    char chunk[4096];
    memset(chunk, 'x', sizeof(chunk));
    int rc = 0;
    for (size_t sent = 0; sent < total; sent += sizeof(chunk)) {
        rc = http_request_feed(p, chunk, sizeof(chunk), &consumed, &req, &status, &err);
        assert_int_equal(consumed, sizeof(chunk));
    }
    assert_int_equal(rc, 1);
    assert_int_equal(req->body_len, total);
    assert_int_equal(req->body[total - 1], 'x');
    assert_int_equal(req->body[total], '\0');
    http_request_parser_free(&p);
}

/* A header past libhttp-parser's own 80 KiB default is accepted when our
 * limit allows it, and refused with 431 (not the library's error) when not. */
static void test_big_headers(void **state)
{
    (void)state;
    struct buf in = BUF_INIT;
    buf_puts(&in, "GET /ping HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 100 * 1024; i++)
        buf_putc(&in, 'a');
    buf_puts(&in, "\r\n\r\n");
    struct http_limits big = {.max_header_bytes = 256 * 1024};
    struct result r;
    parse(&big, in.data, in.len, 0, 0, &r);
    assert_int_equal(r.rc, 1);
    parse(&big, in.data, in.len, 1, 0, &r);
    assert_int_equal(r.rc, 1);
    parse(NULL, in.data, in.len, 0, 0, &r);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.status, 431);
    buf_free(&in);
}

static void test_reply(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    http_reply(&out, 200, NULL, "text/plain", "pong\r\n", 6, true, "X-A: 1");
    assert_true(strncmp(out.data, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
                                  "Server: winnow/0.1\r\nDate: ", 62) == 0);
    const char *rest = strstr(out.data, " GMT\r\n");
    assert_non_null(rest);
    assert_string_equal(rest, " GMT\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n"
                              "X-A: 1\r\n\r\npong\r\n");
    buf_reset(&out);
    http_reply_error(&out, 413, "message \"too\" large", false);
    assert_true(strncmp(out.data, "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n", 51) ==
                0);
    rest = strstr(out.data, " GMT\r\n");
    assert_non_null(rest);
    assert_string_equal(rest, " GMT\r\nContent-Length: 33\r\nContent-Type: application/json\r\n"
                              "\r\n{\"error\":\"message \\\"too\\\" large\"}");
    buf_reset(&out);
    http_reply_error_reason(&out, 500, "invalid command", "invalid command", false);
    assert_true(strncmp(out.data, "HTTP/1.1 500 invalid command\r\n", 30) == 0);
    assert_string_equal(http_status_reason(431), "Request Header Fields Too Large");
    assert_string_equal(http_status_reason(299), "Unknown");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table), cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_error_sticky), cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_continue),    cmocka_unit_test(test_large_body),
        cmocka_unit_test(test_big_headers), cmocka_unit_test(test_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
