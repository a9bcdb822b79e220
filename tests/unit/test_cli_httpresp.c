/* Table-driven tests of winnowc's HTTP response parser (src/proto/http/httpresp.c):
 * each case is fed whole and one byte at a time, and both must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>

#include "cli/client.h"

struct resp_case {
    const char *name;
    const char *in;
    bool eof;                    /* the peer closes after the input */
    int want_rc;                 /* 1 complete, 0 incomplete, -1 error */
    int want_status;
    const char *want_reason;
    const char *want_body;
};

static const struct resp_case cases[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 1, 200, "OK",
     "hello"},
    {"extra bytes after body ignored",
     "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiGARBAGE", false, 1, 200, "OK", "hi"},
    {"bare LF lines", "HTTP/1.0 200 OK\nContent-Length: 2\n\nhi", false, 1, 200, "OK", "hi"},
    {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3\r\nabc\r\n1;ext=1\r\nd\r\n0\r\nX-Trailer: 1\r\n\r\n", false, 1, 200, "OK", "abcd"},
    {"chunked upper hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
     "A\r\n0123456789\r\n0\r\n\r\n", false, 1, 200, "OK", "0123456789"},
    {"close-delimited", "HTTP/1.0 200 OK\r\n\r\n{\"a\":1}", true, 1, 200, "OK", "{\"a\":1}"},
    {"close-delimited waits", "HTTP/1.0 200 OK\r\n\r\n{\"a\":1}", false, 0, 200, "OK", NULL},
    {"100 continue skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 invalid command\r\n"
     "Content-Length: 2\r\n\r\n{}", false, 1, 500, "invalid command", "{}"},
    {"204 has no body", "HTTP/1.1 204 No Content\r\n\r\n", false, 1, 204, "No Content", ""},
    {"no reason", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", false, 1, 404, "", ""},
    {"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", true, -1, 0, NULL,
     NULL},
    {"closed without reply", "", true, -1, 0, NULL, NULL},
    {"bad status line", "HTTP/2 200 OK\r\n\r\n", false, -1, 0, NULL, NULL},
    {"not http", "RSPAMD/1.3 0 EX_OK\r\n", false, -1, 0, NULL, NULL},
    {"bad status digits", "HTTP/1.1 2x0 OK\r\n\r\n", false, -1, 0, NULL, NULL},
    {"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, -1, 0, NULL,
     NULL},
    {"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
     false, -1, 0, NULL, NULL},
    {"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false, -1,
     0, NULL, NULL},
    {"length over limit", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n", false, -1,
     0, NULL, NULL},
    {"header without colon", "HTTP/1.1 200 OK\r\nBogus\r\n\r\n", false, -1, 0, NULL, NULL},
    {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, -1,
     0, NULL, NULL},
    {"chunk size overflow", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "ffffffffffffffffff\r\n", false, -1, 0, NULL, NULL},
    {"missing CRLF after chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "1\r\naXX\r\n", false, -1, 0, NULL, NULL},
    {"unsupported transfer-encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
     false, -1, 0, NULL, NULL},
};

static int feed(const struct resp_case *c, bool bytewise, struct http_resp *r)
{
    const char *error = NULL;
    size_t len = strlen(c->in);
    int rc = 0;

    http_resp_init(r, &(struct http_resp_limits){.max_body = 1 << 20});
    if (bytewise) {
        for (size_t i = 0; i < len && rc == 0; i++)
            rc = http_resp_feed(r, c->in + i, 1, &error);
    } else if (len > 0) {
        rc = http_resp_feed(r, c->in, len, &error);
    }
    if (rc == 0 && c->eof)
        rc = http_resp_eof(r, &error);
    if (rc < 0)
        assert_non_null(error);
    return rc;
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            const struct resp_case *c = &cases[i];
            struct http_resp r;
            int rc = feed(c, bytewise, &r);

            if (rc != c->want_rc)
                fail_msg("%s (bytewise=%d): rc %d, want %d", c->name, bytewise, rc, c->want_rc);
            if (c->want_status != 0)
                assert_int_equal(r.status, c->want_status);
            if (c->want_reason != NULL)
                assert_string_equal(r.reason, c->want_reason);
            if (c->want_body != NULL) {
                assert_int_equal(r.body.len, strlen(c->want_body));
                assert_memory_equal(r.body.len ? r.body.data : "", c->want_body, r.body.len);
            }
            http_resp_deinit(&r);
        }
    }
}

static void test_long_line(void **state)
{
    char line[10000];
    struct http_resp r;
    const char *error;

    (void)state;
    memset(line, 'a', sizeof(line));
    http_resp_init(&r, NULL);
    assert_int_equal(http_resp_feed(&r, "HTTP/1.1 200 OK\r\nX: ", 21, &error), 0);
    assert_int_equal(http_resp_feed(&r, line, sizeof(line), &error), -1);
    /* a failed parser stays failed */
    assert_int_equal(http_resp_feed(&r, "\r\n\r\n", 4, &error), -1);
    http_resp_deinit(&r);
}

static const struct {
    const char *spec;
    int want_rc;
    int want_family;
    int want_port;
} target_cases[] = {
    {"127.0.0.1:11333", 0, AF_INET, 11333}, {"127.0.0.1", 0, AF_INET, 11334},
    {"[::1]:1234", 0, AF_INET6, 1234},      {"[::1]", 0, AF_INET6, 11334},
    {"::1", 0, AF_INET6, 11334},            {"/run/winnow/normal.sock", 0, AF_UNIX, 0},
    {"[::1", -1, 0, 0},                     {":11333", -1, 0, 0},
    {"127.0.0.1:notaport", -1, 0, 0},
};

static void test_targets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(target_cases) / sizeof(target_cases[0]); i++) {
        struct client_target t;
        const char *error = NULL;
        int rc = client_target_parse(target_cases[i].spec, 11334, &t, &error);

        if (rc != target_cases[i].want_rc)
            fail_msg("%s: rc %d (%s)", target_cases[i].spec, rc, error ? error : "");
        if (rc < 0)
            continue;
        const struct sockaddr *sa = (const struct sockaddr *)&t.addrs[0];
        assert_int_equal(sa->sa_family, target_cases[i].want_family);
        if (sa->sa_family == AF_INET)
            assert_int_equal(ntohs(((const struct sockaddr_in *)sa)->sin_port),
                             target_cases[i].want_port);
        if (sa->sa_family == AF_INET6)
            assert_int_equal(ntohs(((const struct sockaddr_in6 *)sa)->sin6_port),
                             target_cases[i].want_port);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
