/*
 * loadgen: the load generator of bench/scan-throughput.  Sends every message
 * named in a list file as POST /checkv2 to 127.0.0.1:PORT, keeping exactly
 * CONCURRENCY requests in flight (one connection each: the scanner closes
 * after its reply), and prints one line of results:
 *
 *   n=6046 ok=6046 errors=0 elapsed=4.123 mps=1466.4 p50_ms=1.234 p99_ms=5.678
 *
 * Written in C so that the client costs far less CPU than the daemon under
 * test (the machine has 2 cores and both share them).  Owns nothing beyond
 * its own run; refuses nothing but unreadable files.  Not part of the build:
 * the benchmark script compiles it with `cc -O2`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct req {
    char *data;
    size_t len;
};

struct conn {
    int fd;
    size_t req;                  /* index into reqs */
    size_t sent;
    char head[16];               /* first bytes of the reply */
    size_t got;
    double t0;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len_r)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *p;

    if (f == NULL || fstat(fileno(f), &st) < 0) {
        perror(path);
        exit(2);
    }
    p = malloc((size_t)st.st_size + 1);
    if (p == NULL || fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        perror(path);
        exit(2);
    }
    fclose(f);
    *len_r = (size_t)st.st_size;
    return p;
}

static struct req *load_requests(const char *list, size_t *n_r)
{
    FILE *f = fopen(list, "r");
    char path[4096];
    size_t n = 0, cap = 1024;
    struct req *reqs = malloc(cap * sizeof(*reqs));

    if (f == NULL || reqs == NULL) {
        perror(list);
        exit(2);
    }
    while (fgets(path, sizeof(path), f) != NULL) {
        size_t plen = strcspn(path, "\n"), blen, hlen;
        char head[256], *body;

        path[plen] = '\0';
        if (plen == 0)
            continue;
        body = slurp(path, &blen);
        hlen = (size_t)snprintf(head, sizeof(head),
                                "POST /checkv2 HTTP/1.1\r\nHost: bench\r\nContent-Length: %zu\r\n"
                                "IP: 192.0.2.1\r\nFrom: sender@example.org\r\n"
                                "Rcpt: rcpt@example.net\r\nConnection: close\r\n\r\n", blen);
        if (n == cap) {
            cap *= 2;
            reqs = realloc(reqs, cap * sizeof(*reqs));
            if (reqs == NULL)
                exit(2);
        }
        reqs[n].len = hlen + blen;
        reqs[n].data = malloc(reqs[n].len);
        if (reqs[n].data == NULL)
            exit(2);
        memcpy(reqs[n].data, head, hlen);
        memcpy(reqs[n].data + hlen, body, blen);
        free(body);
        n++;
    }
    fclose(f);
    *n_r = n;
    return reqs;
}

static int open_conn(struct conn *c, int ep, const struct sockaddr_in *sa)
{
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        return -1;
    }
    c->sent = c->got = 0;
    return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    size_t nreq, next = 0, done = 0, ok = 0, errors = 0;
    struct req *reqs;
    struct conn *conns;
    double *lat, t_start, elapsed;
    int port, conc, ep;

    if (argc != 4) {
        fprintf(stderr, "usage: loadgen PORT CONCURRENCY LIST_FILE\n");
        return 2;
    }
    port = atoi(argv[1]);
    conc = atoi(argv[2]);
    if (port <= 0 || port > 65535 || conc <= 0 || conc > 1024) {
        fprintf(stderr, "loadgen: bad port or concurrency\n");
        return 2;
    }
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    reqs = load_requests(argv[3], &nreq);
    lat = calloc(nreq ? nreq : 1, sizeof(*lat));
    conns = calloc((size_t)conc, sizeof(*conns));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (lat == NULL || conns == NULL || ep < 0)
        return 2;

    t_start = now();
    for (int i = 0; i < conc && next < nreq; i++) {
        conns[i].req = next++;
        conns[i].t0 = now();
        if (open_conn(&conns[i], ep, &sa) < 0) {
            perror("connect");
            return 1;
        }
    }
    while (done < nreq) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 120000);

        if (n <= 0) {
            fprintf(stderr, "loadgen: stalled (%zu of %zu done)\n", done, nreq);
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            const struct req *r = &reqs[c->req];
            int finished = 0, failed = 0;

            if ((evs[i].events & EPOLLOUT) && c->sent < r->len) {
                ssize_t w = write(c->fd, r->data + c->sent, r->len - c->sent);
                if (w > 0)
                    c->sent += (size_t)w;
                else if (w < 0 && errno != EAGAIN)
                    finished = failed = 1;
                if (c->sent == r->len) {
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (!finished && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                char buf[65536];
                ssize_t rd;
                while ((rd = read(c->fd, buf, sizeof(buf))) > 0) {
                    size_t take = sizeof(c->head) - c->got;
                    if (take > (size_t)rd)
                        take = (size_t)rd;
                    memcpy(c->head + c->got, buf, take);
                    c->got += take;
                }
                if (rd == 0)
                    finished = 1;
                else if (errno != EAGAIN)
                    finished = failed = 1;
            }
            if (!finished)
                continue;
            lat[done++] = now() - c->t0;
            if (!failed && c->got >= 12 && (memcmp(c->head, "HTTP/1.1 200", 12) == 0 ||
                                            memcmp(c->head, "HTTP/1.0 200", 12) == 0))
                ok++;
            else
                errors++;
            close(c->fd);
            if (next < nreq) {
                c->req = next++;
                c->t0 = now();
                if (open_conn(c, ep, &sa) < 0) {
                    perror("connect");
                    return 1;
                }
            }
        }
    }
    elapsed = now() - t_start;
    qsort(lat, nreq, sizeof(*lat), cmp_double);
    printf("n=%zu ok=%zu errors=%zu elapsed=%.3f mps=%.1f p50_ms=%.3f p99_ms=%.3f\n", nreq, ok,
           errors, elapsed, (double)nreq / elapsed, nreq ? lat[nreq / 2] * 1000 : 0.0,
           nreq ? lat[(size_t)((double)(nreq - 1) * 0.99)] * 1000 : 0.0);
    return errors ? 1 : 0;
}
