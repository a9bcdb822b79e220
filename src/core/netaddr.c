/*
 * IPv4/IPv6 addresses and CIDR networks.  IPv4 is kept as v4-mapped IPv6 so
 * one 128-bit compare serves both families; prefixes of v4 networks are
 * shifted by 96 bits.
 */
#include "core/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/str.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int netaddr_parse(const char *p, size_t len, struct netaddr *a_r)
{
    char tmp[64];
    str_trim(&p, &len);
    if (len >= 5 && str_istarts(p, len, "IPv6:"))
        p += 5, len -= 5;
    if (len >= 2 && p[0] == '[' && p[len - 1] == ']')
        p++, len -= 2;
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    memset(a_r, 0, sizeof(*a_r));
    struct in_addr in4;
    if (inet_pton(AF_INET, tmp, &in4) == 1) {
        a_r->family = 4;
        memcpy(a_r->addr, v4mapped, 12);
        memcpy(a_r->addr + 12, &in4, 4);
        return 0;
    }
    /* Zone ids (fe80::1%eth0) are dropped. */
    char *pct = strchr(tmp, '%');
    if (pct != NULL)
        *pct = '\0';
    if (inet_pton(AF_INET6, tmp, a_r->addr) == 1) {
        a_r->family = memcmp(a_r->addr, v4mapped, 12) == 0 ? 4 : 6;
        return 0;
    }
    return -1;
}

int netmask_parse(const char *p, size_t len, struct netmask *m_r)
{
    str_trim(&p, &len);
    const char *slash = memchr(p, '/', len);
    size_t alen = slash ? (size_t)(slash - p) : len;
    if (netaddr_parse(p, alen, &m_r->net) < 0)
        return -1;
    unsigned max = m_r->net.family == 4 ? 32 : 128;
    uint64_t prefix = max;
    if (slash != NULL &&
        (str_to_u64(slash + 1, len - alen - 1, &prefix) < 0 || prefix > max))
        return -1;
    m_r->prefix = (unsigned)prefix + (m_r->net.family == 4 ? 96 : 0);
    /* Clear host bits so matching is a plain prefix compare. */
    for (unsigned bit = m_r->prefix; bit < 128; bit++)
        m_r->net.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    return 0;
}

bool netmask_match(const struct netmask *m, const struct netaddr *a)
{
    if (a->family == 0 || (m->net.family == 4) != (a->family == 4))
        return false;
    unsigned full = m->prefix / 8, rest = m->prefix % 8;
    if (memcmp(m->net.addr, a->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (m->net.addr[full] & mask) == (a->addr[full] & mask);
}

char *netaddr_format(const struct netaddr *a, char *out, size_t outsize)
{
    if (a->family == 4) {
        if (inet_ntop(AF_INET, a->addr + 12, out, (socklen_t)outsize) == NULL)
            snprintf(out, outsize, "?");
    } else if (a->family == 6) {
        if (inet_ntop(AF_INET6, a->addr, out, (socklen_t)outsize) == NULL)
            snprintf(out, outsize, "?");
    } else {
        snprintf(out, outsize, "unknown");
    }
    return out;
}

char *netaddr_sockaddr_text(const struct sockaddr *sa, socklen_t salen, char *out, size_t outsize,
                            struct netaddr *a_r)
{
    char host[INET6_ADDRSTRLEN] = "?";
    struct netaddr none = {0};

    if (a_r != NULL)
        *a_r = none;
    if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out, outsize, "%s:%u", host, ntohs(s4->sin_port));
    } else if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out, outsize, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        snprintf(out, outsize, "unix");
        return out;
    }
    if (a_r != NULL)
        netaddr_parse(host, strlen(host), a_r);
    return out;
}

bool netaddr_is_loopback(const struct netaddr *a)
{
    static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (a->family == 4)
        return a->addr[12] == 127;
    return a->family == 6 && memcmp(a->addr, v6lo, 16) == 0;
}

bool netaddr_is_private(const struct netaddr *a)
{
    static const char *const nets[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                       "169.254.0.0/16", "fc00::/7", "fe80::/10"};
    if (netaddr_is_loopback(a))
        return true;
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        struct netmask m;
        if (netmask_parse(nets[i], strlen(nets[i]), &m) == 0 && netmask_match(&m, a))
            return true;
    }
    return false;
}
