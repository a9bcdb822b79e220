/*
 * DNS answers: conversion of c-ares' parsed records into struct dns_reply
 * (in an arena), and our own minimum-TTL scan of the raw message (c-ares
 * exposes TTLs only for A/AAAA).  The scan walks the message with explicit
 * bounds: every name, every record header and every rdata length is checked
 * against the message length, compression pointers are skipped, never
 * followed, so it cannot loop.
 */
#include <ares.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "net/dns.h"

#define DNS_HDR 12

/* Returns the offset after the (possibly compressed) name at off, or -1. */
static long skip_name(const unsigned char *p, size_t len, size_t off)
{
    while (off < len) {
        unsigned char c = p[off];
        if ((c & 0xC0) == 0xC0)
            return off + 1 < len ? (long)(off + 2) : -1;
        if (c & 0xC0)
            return -1;           /* 0x40/0x80 label types are not used */
        if (c == 0)
            return (long)(off + 1);
        off += 1 + (size_t)c;
    }
    return -1;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

long dns_answer_min_ttl(const unsigned char *p, size_t len)
{
    if (len < DNS_HDR)
        return -1;
    unsigned qd = get16(p + 4), an = get16(p + 6), ns = get16(p + 8);
    size_t off = DNS_HDR;
    for (unsigned i = 0; i < qd; i++) {
        long o = skip_name(p, len, off);
        if (o < 0 || (size_t)o + 4 > len)
            return -1;
        off = (size_t)o + 4;
    }
    long best = -1;
    /* Answers; for a negative answer, the SOA of the authority section
     * (its TTL and MINIMUM field, RFC 2308). */
    for (unsigned i = 0; i < an + ns; i++) {
        long o = skip_name(p, len, off);
        if (o < 0 || (size_t)o + 10 > len)
            return -1;
        off = (size_t)o;
        unsigned type = get16(p + off);
        uint32_t ttl = get32(p + off + 4) & 0x7fffffff;
        size_t rdlen = get16(p + off + 8);
        off += 10;
        if (off + rdlen > len)
            return -1;
        if (i >= an) {
            if (an > 0 || type != ns_t_soa)
                break;
            if (rdlen >= 4) {
                uint32_t minimum = get32(p + off + rdlen - 4) & 0x7fffffff;
                if (minimum < ttl)
                    ttl = minimum;
            }
        }
        if (best < 0 || (long)ttl < best)
            best = (long)ttl;
        off += rdlen;
    }
    return best < 0 ? 0 : best;
}

static struct dns_reply *reply_new(struct arena *a, enum dns_type type, const char *name,
                                   size_t n)
{
    struct dns_reply *r = ARENA_NEW(a, struct dns_reply);
    r->status = DNS_OK;
    r->type = type;
    r->name = arena_strdup(a, name);
    r->rrs = ARENA_NEW_N(a, struct dns_rr, n + 1);
    return r;
}

static struct dns_reply *parse_addrs(struct arena *a, const unsigned char *abuf, int alen,
                                     enum dns_type type, const char *name)
{
    struct hostent *he = NULL;
    int rc = type == DNS_T_A ? ares_parse_a_reply(abuf, alen, &he, NULL, NULL)
                             : ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);
    if (rc == ARES_ENODATA)
        return reply_new(a, type, name, 0);
    if (rc != ARES_SUCCESS)
        return NULL;
    size_t n = 0;
    while (he->h_addr_list[n] != NULL)
        n++;
    struct dns_reply *r = reply_new(a, type, name, n);
    for (size_t i = 0; i < n; i++) {
        struct netaddr *na = &r->rrs[i].v.addr;
        memset(na, 0, sizeof(*na));
        if (type == DNS_T_A) {
            static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            na->family = 4;
            memcpy(na->addr, mapped, 12);
            memcpy(na->addr + 12, he->h_addr_list[i], 4);
        } else {
            na->family = 6;
            memcpy(na->addr, he->h_addr_list[i], 16);
        }
    }
    r->n = n;
    ares_free_hostent(he);
    return r;
}

static struct dns_reply *parse_txt(struct arena *a, const unsigned char *abuf, int alen,
                                   const char *name)
{
    struct ares_txt_ext *txt = NULL;
    int rc = ares_parse_txt_reply_ext(abuf, alen, &txt);
    if (rc == ARES_ENODATA)
        return reply_new(a, DNS_T_TXT, name, 0);
    if (rc != ARES_SUCCESS)
        return NULL;
    size_t n = 0;
    for (struct ares_txt_ext *t = txt; t; t = t->next)
        n += t->record_start;
    struct dns_reply *r = reply_new(a, DNS_T_TXT, name, n);
    /* Strings of one record are concatenated (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
    for (struct ares_txt_ext *t = txt; t; t = t->next) {
        if (t->record_start || r->n == 0)
            r->n++;
        struct dns_rr *rr = &r->rrs[r->n - 1];
        char *s = arena_realloc(a, (char *)rr->v.txt.s, rr->v.txt.len + (rr->v.txt.s ? 1 : 0),
                                rr->v.txt.len + t->length + 1);
        memcpy(s + rr->v.txt.len, t->txt, t->length);
        rr->v.txt.len += t->length;
        s[rr->v.txt.len] = '\0';
        rr->v.txt.s = s;
    }
    ares_free_data(txt);
    return r;
}

static struct dns_reply *parse_mx(struct arena *a, const unsigned char *abuf, int alen,
                                  const char *name)
{
    struct ares_mx_reply *mx = NULL;
    int rc = ares_parse_mx_reply(abuf, alen, &mx);
    if (rc == ARES_ENODATA)
        return reply_new(a, DNS_T_MX, name, 0);
    if (rc != ARES_SUCCESS)
        return NULL;
    size_t n = 0;
    for (struct ares_mx_reply *m = mx; m; m = m->next)
        n++;
    struct dns_reply *r = reply_new(a, DNS_T_MX, name, n);
    for (struct ares_mx_reply *m = mx; m; m = m->next) {
        /* insertion sort by preference: lists are short */
        size_t k = r->n++;
        while (k > 0 && r->rrs[k - 1].v.mx.pref > m->priority) {
            r->rrs[k] = r->rrs[k - 1];
            k--;
        }
        r->rrs[k].v.mx.pref = m->priority;
        r->rrs[k].v.mx.host = arena_strdup(a, m->host);
    }
    ares_free_data(mx);
    return r;
}

static struct dns_reply *parse_ptr(struct arena *a, const unsigned char *abuf, int alen,
                                   const char *name)
{
    struct hostent *he = NULL;
    int rc = ares_parse_ptr_reply(abuf, alen, NULL, 0, AF_INET, &he);
    if (rc == ARES_ENODATA)
        return reply_new(a, DNS_T_PTR, name, 0);
    if (rc != ARES_SUCCESS)
        return NULL;
    size_t n = 1;
    while (he->h_aliases != NULL && he->h_aliases[n - 1] != NULL)
        n++;
    struct dns_reply *r = reply_new(a, DNS_T_PTR, name, n);
    r->rrs[r->n++].v.ptr = arena_strdup(a, he->h_name);
    for (size_t i = 0; he->h_aliases != NULL && he->h_aliases[i] != NULL; i++)
        r->rrs[r->n++].v.ptr = arena_strdup(a, he->h_aliases[i]);
    ares_free_hostent(he);
    return r;
}

struct dns_reply *dns_reply_parse(struct arena *a, const unsigned char *abuf, size_t alen,
                                  enum dns_type type, const char *name)
{
    if (alen > 65535)
        return NULL;
    long ttl = dns_answer_min_ttl(abuf, alen);
    if (ttl < 0)
        return NULL;
    struct dns_reply *r = NULL;
    switch (type) {
    case DNS_T_A:
    case DNS_T_AAAA: r = parse_addrs(a, abuf, (int)alen, type, name); break;
    case DNS_T_TXT: r = parse_txt(a, abuf, (int)alen, name); break;
    case DNS_T_MX: r = parse_mx(a, abuf, (int)alen, name); break;
    case DNS_T_PTR: r = parse_ptr(a, abuf, (int)alen, name); break;
    }
    if (r != NULL)
        r->ttl = (uint32_t)ttl;
    return r;
}

struct dns_reply *dns_reply_copy(struct arena *a, const struct dns_reply *src)
{
    struct dns_reply *r = reply_new(a, src->type, src->name ? src->name : "", src->n);
    r->status = src->status;
    r->ttl = src->ttl;
    r->n = src->n;
    r->error = src->error ? arena_strdup(a, src->error) : NULL;
    for (size_t i = 0; i < src->n; i++) {
        const struct dns_rr *s = &src->rrs[i];
        struct dns_rr *d = &r->rrs[i];
        switch (src->type) {
        case DNS_T_A:
        case DNS_T_AAAA: d->v.addr = s->v.addr; break;
        case DNS_T_TXT:
            d->v.txt.s = arena_strndup(a, s->v.txt.s, s->v.txt.len);
            d->v.txt.len = s->v.txt.len;
            break;
        case DNS_T_MX:
            d->v.mx.pref = s->v.mx.pref;
            d->v.mx.host = arena_strdup(a, s->v.mx.host);
            break;
        case DNS_T_PTR: d->v.ptr = arena_strdup(a, s->v.ptr); break;
        }
    }
    return r;
}
