#ifndef WINNOW_CORE_NETADDR_H
#define WINNOW_CORE_NETADDR_H
/*
 * IP addresses and networks (IPv4 and IPv6, v4 stored as v4-mapped v6), for
 * the client IP of a task, local_addrs, secure_ip and sign_networks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct netaddr {
    uint8_t family;              /* 0 = none, 4, 6 */
    uint8_t addr[16];            /* v4: ::ffff:a.b.c.d */
};

struct netmask {
    struct netaddr net;
    unsigned prefix;             /* in v6 bits (v4 /24 => 120) */
};

/* Accepts "1.2.3.4", "::1", "[::1]", "IPv6:::1". */
int netaddr_parse(const char *p, size_t len, struct netaddr *a_r);
/* "10.0.0.0/8", "fd00::/8", or a bare address (full prefix). */
int netmask_parse(const char *p, size_t len, struct netmask *m_r);
bool netmask_match(const struct netmask *m, const struct netaddr *a);
/* Writes the canonical text form; returns out. */
char *netaddr_format(const struct netaddr *a, char *out, size_t outsize);
/* A socket address as text for keys and log lines ("1.2.3.4:25",
 * "[::1]:25"; "unix" for a unix socket or an address shorter than its
 * family needs) into out; fills *a_r (family 0 for "unix") unless a_r is
 * NULL.  Returns out. */
char *netaddr_sockaddr_text(const struct sockaddr *sa, socklen_t salen, char *out, size_t outsize,
                            struct netaddr *a_r);
bool netaddr_is_loopback(const struct netaddr *a);
bool netaddr_is_private(const struct netaddr *a);  /* RFC1918, ULA, link-local, loopback */

#endif
