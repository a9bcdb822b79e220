/* Unit tests for daemon/listen.c: TCP and unix binds, sharing between
 * generations, stale and foreign unix socket paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/settings.h"
#include "core/arena.h"
#include "daemon/listen.h"

/* A free loopback port (bound then closed; racy but fine for tests). */
static uint16_t free_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

static struct bind_spec tcp_spec(const char *host, uint16_t port)
{
    struct bind_spec s = {.host = host, .port = port, .text = host};
    return s;
}

static void test_tcp_hosts(void **state)
{
    static const struct {
        const char *host;
        size_t min_fds;              /* ::1 may be missing on the test host */
        size_t max_fds;
    } cases[] = {
        {"127.0.0.1", 1, 1},
        {"localhost", 1, 2},
        {"*v4", 1, 1},
        {"*", 1, 2},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena *a = arena_new(0);
        struct listener *refs[8];
        size_t n = 0;
        const char *err = NULL;
        struct bind_spec s = tcp_spec(cases[i].host, free_port());

        assert_int_equal(listen_bind(a, &s, refs, 8, &n, &err), 0);
        assert_true(n >= cases[i].min_fds && n <= cases[i].max_fds);
        for (size_t j = 0; j < n; j++) {
            assert_true(refs[j]->fd >= 0);
            listen_release(refs[j]);
        }
        assert_null(listen_all());
        arena_free(&a);
    }
}

static void test_tcp_shared_between_generations(void **state)
{
    struct arena *a = arena_new(0);
    struct listener *g1[4], *g2[4];
    size_t n1 = 0, n2 = 0;
    const char *err = NULL;
    struct bind_spec s = tcp_spec("127.0.0.1", free_port());

    assert_int_equal(listen_bind(a, &s, g1, 4, &n1, &err), 0);
    assert_int_equal(listen_bind(a, &s, g2, 4, &n2, &err), 0);
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 1);
    assert_ptr_equal(g1[0], g2[0]);              /* the very same socket */
    assert_int_equal(g1[0]->refs, 2);
    listen_release(g1[0]);
    assert_non_null(listen_all());
    listen_release(g2[0]);
    assert_null(listen_all());
    arena_free(&a);
}

static void test_tcp_port_taken(void **state)
{
    struct arena *a = arena_new(0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct listener *refs[4];
    size_t n = 0;
    const char *err = NULL;
    struct bind_spec s;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(fd, 1), 0);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    s = tcp_spec("127.0.0.1", ntohs(sin.sin_port));
    assert_int_equal(listen_bind(a, &s, refs, 4, &n, &err), -1);
    assert_non_null(strstr(err, "cannot bind"));
    close(fd);
    arena_free(&a);
}

static void test_unix(void **state)
{
    struct arena *a = arena_new(0);
    char dir[] = "/tmp/winnow-listen-XXXXXX";
    char path[128], file[128];
    struct listener *refs[2];
    size_t n = 0;
    const char *err = NULL;
    struct stat st;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/scan.sock", dir);
    snprintf(file, sizeof(file), "%s/plain", dir);

    /* A stale socket (nobody listening) is replaced. */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memcpy(sun.sun_path, path, strlen(path));
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    close(fd);
    struct bind_spec s = {.is_unix = true, .path = path, .mode = 0660, .text = path};
    assert_int_equal(listen_bind(a, &s, refs, 2, &n, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);

    /* While we listen, a second bind of the same path shares it... */
    assert_int_equal(listen_bind(a, &s, refs, 2, &n, &err), 0);
    assert_int_equal(n, 1);

    /* ...a regular file is never removed. */
    close(open(file, O_CREAT | O_WRONLY, 0600));
    struct bind_spec f = {.is_unix = true, .path = file, .text = file};
    size_t m = 0;
    struct listener *frefs[2];
    assert_int_equal(listen_bind(a, &f, frefs, 2, &m, &err), -1);
    assert_non_null(strstr(err, "not a socket"));
    assert_int_equal(access(file, F_OK), 0);

    /* The last release unlinks the socket. */
    listen_release(refs[0]);
    assert_int_not_equal(access(path, F_OK), 0);
    unlink(file);
    rmdir(dir);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_hosts),
        cmocka_unit_test(test_tcp_shared_between_generations),
        cmocka_unit_test(test_tcp_port_taken),
        cmocka_unit_test(test_unix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
