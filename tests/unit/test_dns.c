/*
 * Resolver against a real DNS server: dnsmasq on a loopback port serving a
 * small test zone (A, AAAA, multi-string TXT, MX, PTR, NXDOMAIN).  Checks
 * answers, MX ordering, TXT concatenation, the cache (second query answered
 * without the network), the timeout path against a UDP socket that never
 * answers, and the per-task lookup limit.  Exit 77 (skip) without dnsmasq.
 */
#include <arpa/inet.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "net/dns.h"

static int failures;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            printf("not ok - %s:%d: ", __FILE__, __LINE__);                                \
            printf(__VA_ARGS__);                                                           \
            printf("\n");                                                                  \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

struct result {
    int done;
    enum dns_status status;
    size_t n;
    char first[256];
    unsigned pref0;
};

static void cb(const struct dns_reply *rep, void *data)
{
    struct result *r = data;
    r->done++;
    r->status = rep->status;
    r->n = rep->n;
    r->first[0] = '\0';
    if (rep->status != DNS_OK || rep->n == 0)
        return;
    switch (rep->type) {
    case DNS_T_A:
    case DNS_T_AAAA: netaddr_format(&rep->rrs[0].v.addr, r->first, sizeof(r->first)); break;
    case DNS_T_TXT: snprintf(r->first, sizeof(r->first), "%s", rep->rrs[0].v.txt.s); break;
    case DNS_T_MX:
        snprintf(r->first, sizeof(r->first), "%s", rep->rrs[0].v.mx.host);
        r->pref0 = rep->rrs[0].v.mx.pref;
        break;
    case DNS_T_PTR: snprintf(r->first, sizeof(r->first), "%s", rep->rrs[0].v.ptr); break;
    }
}

static struct result run(struct ev_loop *loop, struct dns_resolver *res, const char *name,
                         enum dns_type type)
{
    struct result r = {0};
    dns_query(res, name, type, cb, &r);
    while (!r.done)
        ev_run(loop, EVRUN_ONCE);
    return r;
}

/* A loopback port free for both UDP and TCP: dnsmasq listens on both, and
 * a port only checked for UDP may be some other test's TCP listener. */
static bool port_free(int type, int port)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int free_udp_port(void)
{
    for (;;) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        getsockname(fd, (struct sockaddr *)&sa, &len);
        close(fd);
        int port = ntohs(sa.sin_port);
        if (port_free(SOCK_STREAM, port))
            return port;
    }
}

static pid_t start_dnsmasq(int port)
{
    char portarg[32];
    snprintf(portarg, sizeof(portarg), "--port=%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/usr/sbin/dnsmasq", "dnsmasq", "--keep-in-foreground", "--no-resolv",
              "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces", portarg,
              "--user=root", "--pid-file=", "--log-facility=/dev/null",
              "--host-record=host.test,192.0.2.10,2001:db8::10",
              "--txt-record=spf.test,v=spf1 ,ip4:192.0.2.0/24 -all",
              "--mx-host=mail.test,mx2.test,20", "--mx-host=mail.test,mx1.test,10",
              "--ptr-record=10.2.0.192.in-addr.arpa,host.test", "--address=/nx.test/",
              "--local-ttl=300", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* dnsmasq is ready when it answers; a refused query is a TEMPFAIL, which
 * the resolver does not cache, so polling is safe. */
static bool wait_ready(struct ev_loop *loop, struct dns_resolver *res)
{
    for (int i = 0; i < 100; i++) {
        struct result r = run(loop, res, "host.test", DNS_T_A);
        if (r.status == DNS_OK)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

static void task_cb(struct task *t, const struct dns_reply *rep, void *data)
{
    int *seen = data;
    seen[rep->status]++;
}

static void test_task_limit(struct ev_loop *loop, struct dns_resolver *res)
{
    struct arena *a = arena_new(0);
    struct symtab *st = symtab_new(a);
    struct actions acts;
    actions_init_defaults(&acts);
    struct task *t = task_new(loop, st, &acts);
    int seen[8] = {0};
    dns_set_task_limit(res, 3);
    for (int i = 0; i < 5; i++)
        dns_task_query(res, t, "host.test", DNS_T_A, task_cb, seen);
    CHECK(seen[DNS_LIMIT] == 2, "limit replies %d", seen[DNS_LIMIT]);
    while (t->pending > 0)
        ev_run(loop, EVRUN_ONCE);
    CHECK(seen[DNS_OK] == 3, "ok replies %d", seen[DNS_OK]);
    task_free(&t);
    arena_free(&a);
}

int main(void)
{
    if (access("/usr/sbin/dnsmasq", X_OK) != 0) {
        printf("SKIP: /usr/sbin/dnsmasq not installed\n");
        return 77;
    }
    int port = free_udp_port();
    pid_t pid = start_dnsmasq(port);
    struct ev_loop *loop = ev_loop_new(0);
    char servers[64];
    snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
    /* Generous: the machine may be busy; only the timeout case below is short. */
    struct dns_settings s = {servers, 2.0, 2, 0};
    const char *err = NULL;
    struct dns_resolver *res = dns_resolver_new(loop, &s, &err);
    CHECK(res != NULL, "resolver: %s", err);
    CHECK(wait_ready(loop, res), "dnsmasq did not answer within 10 s");

    struct result r = run(loop, res, "host.test", DNS_T_A);
    CHECK(r.status == DNS_OK && r.n == 1 && strcmp(r.first, "192.0.2.10") == 0, "A: %d %s",
          r.status, r.first);
    r = run(loop, res, "host.test", DNS_T_AAAA);
    CHECK(r.status == DNS_OK && strcmp(r.first, "2001:db8::10") == 0, "AAAA: %s", r.first);
    r = run(loop, res, "spf.test", DNS_T_TXT);
    CHECK(r.status == DNS_OK && strcmp(r.first, "v=spf1 ip4:192.0.2.0/24 -all") == 0,
          "TXT: %s", r.first);
    r = run(loop, res, "mail.test", DNS_T_MX);
    CHECK(r.status == DNS_OK && r.n == 2 && r.pref0 == 10 && strcmp(r.first, "mx1.test") == 0,
          "MX: %zu %u %s", r.n, r.pref0, r.first);
    r = run(loop, res, "10.2.0.192.in-addr.arpa", DNS_T_PTR);
    CHECK(r.status == DNS_OK && strcmp(r.first, "host.test") == 0, "PTR: %s", r.first);
    r = run(loop, res, "x.nx.test", DNS_T_A);
    CHECK(r.status == DNS_NXDOMAIN, "NXDOMAIN: %d", r.status);

    struct dns_stats st;
    dns_get_stats(res, &st);
    uint64_t hits = st.cache_hits;
    r = run(loop, res, "HOST.test.", DNS_T_A);   /* case and trailing dot do not matter */
    dns_get_stats(res, &st);
    CHECK(st.cache_hits == hits + 1 && r.status == DNS_OK, "cache hit");

    test_task_limit(loop, res);
    dns_resolver_free(&res);

    /* A server that never answers: TEMPFAIL after timeout * tries. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    getsockname(fd, (struct sockaddr *)&sa, &len);
    snprintf(servers, sizeof(servers), "127.0.0.1:%d", ntohs(sa.sin_port));
    struct dns_settings s2 = {servers, 0.2, 1, 0};
    res = dns_resolver_new(loop, &s2, &err);
    r = run(loop, res, "host.test", DNS_T_A);
    CHECK(r.status == DNS_TEMPFAIL, "timeout gives TEMPFAIL: %d", r.status);
    dns_get_stats(res, &st);
    CHECK(st.timeouts == 1, "timeouts counted: %llu", (unsigned long long)st.timeouts);
    r = run(loop, res, "host.test", DNS_T_A);
    CHECK(r.status == DNS_TEMPFAIL, "failures are not cached");
    dns_resolver_free(&res);
    close(fd);

    ev_loop_destroy(loop);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    printf("dns: %d failures\n", failures);
    return failures ? 1 : 0;
}
