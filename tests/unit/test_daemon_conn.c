/* Unit tests for daemon/conn.c: one connection of the worker skeleton,
 * driven over a socketpair with a test worker type.  Table-driven: each case
 * is a request script (sent whole and byte by byte) and what must come back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/settings.h"
#include "daemon/worker_private.h"

#define BIG_BODY (3 * 1024 * 1024)

static struct ev_loop *loop;

/* /async answers 50 ms later, from a timer, like a scan waiting for DNS. */
struct later {
    ev_timer t;
    struct conn *c;
};

static void later_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    struct later *x = (struct later *)t;

    if (!conn_peer_gone(x->c))
        conn_reply_http(x->c, 200, "text/plain", "late", 4, true);
    conn_task_end(x->c);
    free(x);
}

static void test_on_request(struct conn *c, struct http_request *req)
{
    if (strcmp(req->path, "/async") == 0) {
        struct later *x = calloc(1, sizeof(*x));

        x->c = c;
        conn_task_begin(c);
        ev_timer_init(&x->t, later_cb, 0.05, 0.0);
        ev_timer_start(loop, &x->t);
        return;
    }
    if (strcmp(req->path, "/big") == 0) {
        size_t n = BIG_BODY;
        char *body = malloc(n);

        memset(body, 'x', n);
        conn_reply_http(c, 200, "text/plain", body, n, req->keep_alive);
        free(body);
        return;
    }
    conn_reply_http(c, 200, "text/plain", req->path, strlen(req->path), req->keep_alive);
}

static const struct worker_def test_def = {
    .type = WORKER_NORMAL, .name = "test", .on_request = test_on_request,
};

static struct worker_conf wc = {.timeout = 5.0};
static struct config cfg;
static struct worker w;

static void break_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    ev_break(l, EVBREAK_ALL);
}

static void run_for(double seconds)
{
    ev_timer t;

    ev_timer_init(&t, break_cb, seconds, 0.0);
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    ev_timer_stop(loop, &t);
}

/* Sends script (all at once or one byte per loop turn), runs the loop and
 * returns what came back; *eof_r says whether the server closed. */
static size_t exchange(const char *script, bool bytewise, bool close_early, char *out,
                       size_t outsize, bool *eof_r)
{
    int sv[2];
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len = strlen(script), got = 0;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    conn_new(&w, sv[0], (struct sockaddr *)&sun, sizeof(sun));
    if (bytewise) {
        for (size_t i = 0; i < len; i++) {
            assert_int_equal(write(sv[1], script + i, 1), 1);
            ev_run(loop, EVRUN_NOWAIT);
        }
    } else {
        assert_int_equal(write(sv[1], script, len), (ssize_t)len);
    }
    if (close_early) {
        close(sv[1]);
        run_for(0.2);
        *eof_r = true;
        return 0;
    }
    run_for(0.2);
    *eof_r = false;
    for (;;) {
        ssize_t n = read(sv[1], out + got, outsize - 1 - got);
        if (n == 0)
            *eof_r = true;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    out[got] = '\0';
    close(sv[1]);
    run_for(0.05);               /* let the server see the close */
    return got;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_cases(void **state)
{
    static const struct {
        const char *name;
        const char *script;
        const char *want;        /* substring */
        int want_count;          /* how often `want` appears */
        bool want_eof;
    } cases[] = {
        {"one request", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK", 1, false},
        {"pipelined", "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
         "200 OK", 3, false},
        {"connection close", "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n", "200 OK", 1, true},
        {"http/1.0", "GET /a HTTP/1.0\r\n\r\n", "200 OK", 1, true},
        {"async then next", "GET /async HTTP/1.1\r\n\r\nGET /z HTTP/1.1\r\n\r\n", "200 OK", 2,
         false},
        {"garbage", "\x01\x02 nonsense\r\n\r\n", "400 ", 1, true},
        {"bad after good", "GET /a HTTP/1.1\r\n\r\nBLAH\r\n\r\n", "HTTP/1.1 ", 2, true},
    };
    char out[8192];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            bool eof = false;

            exchange(cases[i].script, bytewise, false, out, sizeof(out), &eof);
            if (count(out, cases[i].want) != cases[i].want_count || eof != cases[i].want_eof)
                fail_msg("case %s (bytewise %d): got eof=%d\n%s", cases[i].name, bytewise, eof,
                         out);
        }
    }
    assert_int_equal(w.active_tasks, 0);
    assert_int_equal(conn_busy_count(), 0);
}

static void test_client_gone_during_task(void **state)
{
    char out[64];
    bool eof;

    exchange("GET /async HTTP/1.1\r\n\r\n", false, true, out, sizeof(out), &eof);
    /* the task finished on a closed connection: nothing leaked, nothing left */
    assert_int_equal(w.active_tasks, 0);
    assert_int_equal(conn_busy_count(), 0);
}

/* A reply far larger than the socket buffer goes out in pieces, as the
 * reader makes room, and the connection is usable afterwards. */
static void test_partial_writes(void **state)
{
    int sv[2];
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    static char buf[BIG_BODY + 4096];
    size_t got = 0;
    const char *req = "GET /big HTTP/1.1\r\n\r\n";

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    conn_new(&w, sv[0], (struct sockaddr *)&sun, sizeof(sun));
    assert_int_equal(write(sv[1], req, strlen(req)), (ssize_t)strlen(req));
    for (int spins = 0; spins < 100000 && got < BIG_BODY; spins++) {
        ssize_t n;

        ev_run(loop, EVRUN_NOWAIT);
        n = read(sv[1], buf + got, sizeof(buf) - got);
        if (n > 0)
            got += (size_t)n;
    }
    assert_true(got > BIG_BODY);
    assert_non_null(strstr(buf, "200 OK"));
    /* same connection, next request */
    got = 0;
    req = "GET /a HTTP/1.1\r\n\r\n";
    assert_int_equal(write(sv[1], req, strlen(req)), (ssize_t)strlen(req));
    run_for(0.1);
    got = (size_t)read(sv[1], buf, 4096);
    assert_true(got > 0 && got < 4096);
    buf[got] = '\0';
    assert_non_null(strstr(buf, "200 OK"));
    close(sv[1]);
    run_for(0.05);
    assert_int_equal(conn_busy_count(), 0);
}

static int setup(void **state)
{
    loop = ev_default_loop(0);
    cfg.options.request_timeout = 5.0;
    cfg.options.max_message = 1 << 20;
    w.loop = loop;
    w.cfg = &cfg;
    w.wc = &wc;
    w.def = &test_def;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_client_gone_during_task),
        cmocka_unit_test(test_partial_writes),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
