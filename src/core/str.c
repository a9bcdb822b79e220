/*
 * Length-carrying string helpers: nothing here reads past len or relies on a
 * terminating NUL, so they are safe on peer bytes.
 */
#include "core/str.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool str_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

bool str_ieq_cstr(const char *a, size_t alen, const char *cstr)
{
    return str_ieq(a, alen, cstr, strlen(cstr));
}

bool str_istarts(const char *p, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && str_ieq(p, n, prefix, n);
}

long str_isearch(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
    if (nlen == 0)
        return 0;
    if (nlen > haylen)
        return -1;
    unsigned char first = lower((unsigned char)needle[0]);
    for (size_t i = 0; i + nlen <= haylen; i++) {
        if (lower((unsigned char)hay[i]) == first && str_ieq(hay + i, nlen, needle, nlen))
            return (long)i;
    }
    return -1;
}

static inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

void str_trim(const char **p, size_t *len)
{
    while (*len > 0 && is_space(**p))
        (*p)++, (*len)--;
    while (*len > 0 && is_space((*p)[*len - 1]))
        (*len)--;
}

void str_lower(char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (char)lower((unsigned char)p[i]);
}

int str_to_u64(const char *p, size_t len, uint64_t *v_r)
{
    if (len == 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *v_r = v;
    return 0;
}

int str_to_double(const char *p, size_t len, double *v_r)
{
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(v))
        return -1;
    *v_r = v;
    return 0;
}

uint64_t str_hash(const char *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t str_ihash(const char *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= lower((unsigned char)p[i]);
        h *= 1099511628211ULL;
    }
    return h;
}

size_t str_edit_distance(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                         size_t sub_cost)
{
    size_t row[STR_EDIT_MAX + 1];

    if (na > STR_EDIT_MAX)
        na = STR_EDIT_MAX;
    if (nb > STR_EDIT_MAX)
        nb = STR_EDIT_MAX;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t v = diag + (a[i - 1] == b[j - 1] ? 0 : sub_cost);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
        }
    }
    return row[nb];
}
