#ifndef WINNOW_CORE_STR_H
#define WINNOW_CORE_STR_H
/*
 * Length-carrying byte helpers.  Peer input is (const char *p, size_t len),
 * never a C string: these helpers never read past len.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strview {
    const char *p;
    size_t len;
};

#define SV(lit) ((struct strview){(lit), sizeof(lit) - 1})

bool str_ieq(const char *a, size_t alen, const char *b, size_t blen);
bool str_ieq_cstr(const char *a, size_t alen, const char *cstr);
bool str_istarts(const char *p, size_t len, const char *prefix);
/* Case-insensitive substring search; returns offset or -1. */
long str_isearch(const char *hay, size_t haylen, const char *needle, size_t nlen);
void str_trim(const char **p, size_t *len);
void str_lower(char *p, size_t len);
/* Parses a decimal unsigned integer occupying all of [p, p+len); rejects
 * overflow, signs and empty input. */
int str_to_u64(const char *p, size_t len, uint64_t *v_r);
int str_to_double(const char *p, size_t len, double *v_r);
/* FNV-1a 64 (case-insensitive variant lowercases ASCII). */
uint64_t str_hash(const char *p, size_t len);
uint64_t str_ihash(const char *p, size_t len);

/* MurmurHash3's 64-bit finalizer: spreads every input bit over the
 * output, to mix hashes that are combined arithmetically. */
static inline uint64_t str_mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* Levenshtein distance between two sequences of 64-bit symbols (words as
 * hashes, or bytes), at most STR_EDIT_MAX of each (longer ones are cut).
 * A substitution costs sub_cost: 1 for the classic distance, 2 for
 * Rspamd's phishing metric, where it weighs as much as a delete and an
 * insert. */
#define STR_EDIT_MAX 256
size_t str_edit_distance(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                         size_t sub_cost);

/* The value of one hexadecimal digit (either case), -1 for anything else.
 * Takes an int so both char and unsigned char callers pass bytes as they are. */
static inline int str_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
