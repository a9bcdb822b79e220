/*
 * Redis layer against real redis-server processes on unix sockets: AUTH and
 * SELECT, a wrong password, a frozen server (SIGSTOP) timing out and the pool
 * recovering by itself, a killed server failing commands at once and being
 * reconnected when it is back, and server-address parsing.  Exit 77 when
 * redis-server is not installed.
 */
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "store/redis.h"

static int failures;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            printf("not ok - line %d: ", __LINE__);                                        \
            printf(__VA_ARGS__);                                                           \
            printf("\n");                                                                  \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

static char dir[256], sock[300];

static pid_t redis_start(const char *password)
{
    unlink(sock);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/usr/bin/redis-server", "redis-server", "--port", "0", "--unixsocket", sock,
              "--unixsocketperm", "700", "--requirepass", password, "--save", "",
              "--appendonly", "no", "--dir", dir, "--logfile", "/dev/null", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        struct stat st;
        if (stat(sock, &st) == 0)
            break;
        usleep(50 * 1000);
    }
    return pid;
}

static void redis_stop(pid_t pid)
{
    kill(pid, SIGCONT);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

struct res {
    int done;
    int type;
    char str[256];
    char err[256];
};

static void cb(const redisReply *r, const char *err, void *data)
{
    struct res *res = data;
    res->done = 1;
    res->type = r ? r->type : -1;
    snprintf(res->str, sizeof(res->str), "%s", r && r->str ? r->str : "");
    snprintf(res->err, sizeof(res->err), "%s", err ? err : "");
}

static struct res cmd(struct ev_loop *loop, struct redis_pool *p, enum redis_op op, int argc,
                      const char **argv)
{
    struct res r = {0};
    redis_command(p, op, argc, argv, NULL, cb, &r);
    ev_tstamp start = ev_time();
    while (!r.done && ev_time() - start < 10)
        ev_run(loop, EVRUN_ONCE);
    return r;
}

static struct redis_pool *pool_from(struct ev_loop *loop, struct arena *a, const char *ucl)
{
    const char *err = NULL;
    struct conf_obj *o = conf_parse_buf(a, "test", ucl, strlen(ucl), NULL, &err);
    CHECK(o != NULL, "parse: %s", err);
    struct redis_settings s;
    CHECK(redis_settings_parse(a, NULL, o, &s, &err) == 0, "settings: %s", err);
    return redis_pool_new(loop, &s, "test");
}

/* Retries a command until it succeeds or 8 s pass (reconnect back-off). */
static struct res until_ok(struct ev_loop *loop, struct redis_pool *p, int argc,
                           const char **argv)
{
    struct res r = {0};
    ev_tstamp start = ev_time();
    while (ev_time() - start < 8) {
        r = cmd(loop, p, REDIS_READ, argc, argv);
        if (r.type != -1)
            break;
        ev_tstamp t = ev_time();
        while (ev_time() - t < 0.1)
            ev_run(loop, EVRUN_NOWAIT);
        usleep(20 * 1000);
    }
    return r;
}

static void test_addresses(struct arena *a)
{
    static const struct {
        const char *ucl;
        size_t n;
        const char *host0, *path0;
        int port0;
    } cases[] = {
        {"servers = \"127.0.0.1\";", 1, "127.0.0.1", NULL, 6379},
        {"servers = \"localhost:6380\";", 1, "127.0.0.1", NULL, 6380},
        {"servers = \"[::1]:6390\";", 1, "::1", NULL, 6390},
        {"servers = \"::1\";", 1, "::1", NULL, 6379},
        {"servers = \"unix:/run/redis/redis-server.sock\";", 1, NULL,
         "/run/redis/redis-server.sock", 0},
        {"servers = \"master-slave:10.0.0.1,10.0.0.2:7000\";", 2, "10.0.0.1", NULL, 6379},
        {"servers = [\"10.0.0.1\", \"/tmp/r.sock\"];", 2, "10.0.0.1", NULL, 6379},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *err = NULL;
        struct conf_obj *o = conf_parse_buf(a, "t", cases[i].ucl, strlen(cases[i].ucl), NULL, &err);
        struct redis_settings s;
        int rc = o ? redis_settings_parse(a, NULL, o, &s, &err) : -1;
        CHECK(rc == 0 && s.nread == cases[i].n, "%s: rc %d n %zu (%s)", cases[i].ucl, rc,
              rc == 0 ? s.nread : 0, err ? err : "-");
        if (rc != 0 || s.nread == 0)
            continue;
        if (cases[i].host0)
            CHECK(s.read[0].host && strcmp(s.read[0].host, cases[i].host0) == 0 &&
                      s.read[0].port == cases[i].port0,
                  "%s: host %s port %d", cases[i].ucl, s.read[0].host, s.read[0].port);
        else
            CHECK(s.read[0].path && strcmp(s.read[0].path, cases[i].path0) == 0, "%s: path",
                  cases[i].ucl);
    }
    struct redis_settings s;
    const char *err = NULL;
    struct conf_obj *empty = conf_parse_buf(a, "t", "timeout = 1s;", 13, NULL, &err);
    CHECK(redis_settings_parse(a, NULL, empty, &s, &err) == 0 && !s.configured, "unconfigured");
    struct conf_obj *half = conf_parse_buf(a, "t", "read_servers = \"x\";", 19, NULL, &err);
    CHECK(redis_settings_parse(a, NULL, half, &s, &err) == -1, "read without write refused");
}

int main(void)
{
    if (access("/usr/bin/redis-server", X_OK) != 0) {
        printf("SKIP: redis-server not installed\n");
        return 77;
    }
    snprintf(dir, sizeof(dir), "/tmp/winnow-redis-test.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    struct ev_loop *loop = ev_loop_new(0);
    struct arena *a = arena_new(0);
    test_addresses(a);

    pid_t pid = redis_start("s3cret");
    char ucl[600];
    snprintf(ucl, sizeof(ucl),
             "servers = \"unix:%s\"; password = \"s3cret\"; db = 3; timeout = 0.3s;", sock);
    struct redis_pool *p = pool_from(loop, a, ucl);
    const char *set[] = {"SET", "k", "v"}, *get[] = {"GET", "k"};
    struct res r = cmd(loop, p, REDIS_WRITE, 3, set);
    CHECK(r.type == REDIS_REPLY_STATUS, "SET: type %d err %s", r.type, r.err);
    r = cmd(loop, p, REDIS_READ, 2, get);
    CHECK(r.type == REDIS_REPLY_STRING && strcmp(r.str, "v") == 0, "GET: %d %s", r.type, r.str);

    /* db 0 does not see the key: SELECT 3 took effect */
    snprintf(ucl, sizeof(ucl), "servers = \"unix:%s\"; password = \"s3cret\";", sock);
    struct redis_pool *p0 = pool_from(loop, a, ucl);
    r = cmd(loop, p0, REDIS_READ, 2, get);
    CHECK(r.type == REDIS_REPLY_NIL, "db 0 must not see db 3's key: %d", r.type);
    redis_pool_free(&p0);

    /* a wrong password: commands get an error reply, not a hang */
    snprintf(ucl, sizeof(ucl), "servers = \"unix:%s\"; password = \"nope\";", sock);
    struct redis_pool *pw = pool_from(loop, a, ucl);
    r = cmd(loop, pw, REDIS_READ, 2, get);
    CHECK(r.type == REDIS_REPLY_ERROR, "wrong password gives an error reply: %d", r.type);
    redis_pool_free(&pw);

    /* frozen server: timeout, then recovery by itself */
    kill(pid, SIGSTOP);
    r = cmd(loop, p, REDIS_READ, 2, get);
    CHECK(r.type == -1 && strcmp(r.err, "timeout") == 0, "frozen: %d '%s'", r.type, r.err);
    kill(pid, SIGCONT);
    r = until_ok(loop, p, 2, get);
    CHECK(r.type == REDIS_REPLY_STRING, "recovered after SIGCONT: %d '%s'", r.type, r.err);

    /* killed: immediate failure; restarted: reconnects by itself */
    redis_stop(pid);
    r = cmd(loop, p, REDIS_READ, 2, get);
    CHECK(r.type == -1, "down: fails at once: '%s'", r.err);
    pid = redis_start("s3cret");
    r = until_ok(loop, p, 2, get);
    CHECK(r.type == REDIS_REPLY_NIL, "reconnected after restart (fresh db): %d '%s'", r.type,
          r.err);
    struct redis_stats st;
    redis_pool_stats(p, &st);
    CHECK(st.timeouts == 1 && st.reconnects >= 1, "stats: %llu timeouts, %llu reconnects",
          (unsigned long long)st.timeouts, (unsigned long long)st.reconnects);

    redis_pool_free(&p);
    redis_stop(pid);
    arena_free(&a);
    ev_loop_destroy(loop);
    unlink(sock);
    rmdir(dir);
    printf("redis: %d failures\n", failures);
    return failures ? 1 : 0;
}
