/*
 * text.c: UTF-8 helpers for the message parser.
 *
 * Validation, lossy repair (invalid bytes taken as Latin-1), conversion from
 * a declared charset to UTF-8 (charset names canonicalised by GMime, iconv
 * descriptors cached here for the life of the process), removal of
 * invisible characters, and the per-part text statistics (words,
 * emptiness, mixed scripts).
 *
 * Owns arena memory and the process-wide iconv cache (at most 32 charsets;
 * past that a descriptor is opened and closed per call).  Every output is
 * NUL-terminated; sizes are checked before allocating.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/str.h"
#include "mime/mime_private.h"

size_t utf8_next(const unsigned char *p, size_t len, uint32_t *cp_r)
{
    unsigned char c = p[0];
    uint32_t cp, min;
    size_t n;

    if (c < 0x80) {
        *cp_r = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        *cp_r = 0xFFFD;
        return 1;
    }
    if (len < n) {
        *cp_r = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp_r = 0xFFFD;
            return 1;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *cp_r = 0xFFFD;
        return 1;
    }
    *cp_r = cp;
    return n;
}

bool mime_is_ascii(const char *p, size_t len)
{
    size_t i = 0;
    uint64_t acc = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < len; i++)
        acc |= (unsigned char)p[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

bool utf8_valid(const char *p, size_t len)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;

    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_next(u + i, len - i, &cp);
        if (n == 1)
            return false;        /* a valid multi-byte sequence is never 1 byte */
        i += n;
    }
    return true;
}

char *utf8_lossy(struct arena *arena, const char *p, size_t len, size_t *len_r)
{
    /* Worst case: every byte becomes a 2-byte Latin-1 sequence. */
    ASSERT(len < SIZE_MAX / 2 - 1);
    char *out = arena_alloc(arena, len * 2 + 1);
    const unsigned char *u = (const unsigned char *)p;
    size_t o = 0, i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n = u[i] < 0x80 ? 1 : utf8_next(u + i, len - i, &cp);
        if (n > 1 || u[i] < 0x80) {
            memcpy(out + o, p + i, n);
            o += n;
        } else {
            out[o++] = (char)(0xC0 | (u[i] >> 6));
            out[o++] = (char)(0x80 | (u[i] & 0x3F));
        }
        i += n;
    }
    out[o] = '\0';
    if (len_r != NULL)
        *len_r = o;
    return out;
}

static bool is_utf8_name(const char *cs)
{
    return g_ascii_strcasecmp(cs, "utf-8") == 0 || g_ascii_strcasecmp(cs, "utf8") == 0;
}

static bool is_ascii_name(const char *cs)
{
    return g_ascii_strcasecmp(cs, "us-ascii") == 0 || g_ascii_strcasecmp(cs, "ascii") == 0;
}

/* Charsets whose encoded form is not a superset of ASCII, so pure-ASCII
 * bytes still need the converter. */
static bool is_stateful_name(const char *cs)
{
    return g_ascii_strncasecmp(cs, "utf-7", 5) == 0 || g_ascii_strncasecmp(cs, "utf-16", 6) == 0 ||
           g_ascii_strncasecmp(cs, "utf-32", 6) == 0 || g_ascii_strncasecmp(cs, "ucs", 3) == 0 ||
           g_ascii_strncasecmp(cs, "iso-2022", 8) == 0 || g_ascii_strncasecmp(cs, "hz", 2) == 0 ||
           g_ascii_strncasecmp(cs, "unicode", 7) == 0;
}

/* Runs the converter over the whole input; refused bytes become U+FFFD. */
static char *iconv_all(struct arena *arena, iconv_t cd, const char *p, size_t len,
                       size_t *len_r)
{
    ASSERT(len < SIZE_MAX / 4 - 64);
    size_t cap = len * 2 + 16, o = 0;
    char *out = arena_alloc(arena, cap);
    char *in = (char *)p;
    size_t inleft = len;

    while (inleft > 0) {
        char *op = out + o;
        size_t oleft = cap - o - 4;  /* room for a U+FFFD and the NUL */
        size_t r = iconv(cd, &in, &inleft, &op, &oleft);
        o = (size_t)(op - out);
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            size_t ncap = cap * 2;
            out = arena_realloc(arena, out, cap, ncap);
            cap = ncap;
            continue;
        }
        /* EILSEQ or EINVAL: mark and skip one byte. */
        memcpy(out + o, "\xEF\xBF\xBD", 3);
        o += 3;
        in++;
        inleft--;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (cap - o < 8) {
            out = arena_realloc(arena, out, cap, cap * 2);
            cap *= 2;
        }
    }
    /* Flush a stateful converter's shift sequence. */
    char *op = out + o;
    size_t oleft = cap - o - 1;
    iconv(cd, NULL, NULL, &op, &oleft);
    o = (size_t)(op - out);
    out[o] = '\0';
    *len_r = o;
    return out;
}

/* Converters to UTF-8 by declared charset, kept for the life of the
 * process: iconv_open costs a module lookup (often a dlopen) per call, and
 * GMime 3 no longer caches descriptors.  Unknown charsets are cached too
 * (cd == -1) so that junk names stay cheap.  Each worker process is single
 * threaded, so no locking. */
#define ICONV_CACHE_SIZE 32

struct iconv_slot {
    char name[40];
    iconv_t cd;
};

static struct iconv_slot iconv_cache[ICONV_CACHE_SIZE];
static size_t iconv_cached;

/* Returns the converter (reset to its initial state) or (iconv_t)-1;
 * *owned_r says the caller must iconv_close it (cache full). */
static iconv_t converter_get(const char *charset, bool *owned_r)
{
    size_t n = strlen(charset);

    *owned_r = false;
    for (size_t i = 0; i < iconv_cached; i++) {
        if (g_ascii_strcasecmp(iconv_cache[i].name, charset) == 0) {
            if (iconv_cache[i].cd != (iconv_t)-1)
                iconv(iconv_cache[i].cd, NULL, NULL, NULL, NULL);
            return iconv_cache[i].cd;
        }
    }
    const char *name = g_mime_charset_iconv_name(charset);
    iconv_t cd = name != NULL ? iconv_open("UTF-8", name) : (iconv_t)-1;
    if (n < sizeof(iconv_cache[0].name) && iconv_cached < ICONV_CACHE_SIZE) {
        memcpy(iconv_cache[iconv_cached].name, charset, n + 1);
        iconv_cache[iconv_cached++].cd = cd;
    } else {
        *owned_r = cd != (iconv_t)-1;
    }
    return cd;
}

char *mime_to_utf8(struct arena *arena, const char *charset, const char *p, size_t len,
                   size_t *len_r, bool *charset_bad)
{
    if (charset == NULL || *charset == '\0' || is_utf8_name(charset) || is_ascii_name(charset)) {
        if (utf8_valid(p, len))
            goto copy;
        return utf8_lossy(arena, p, len, len_r);
    }
    bool owned;
    iconv_t cd = converter_get(charset, &owned);
    if (cd == (iconv_t)-1) {
        *charset_bad = true;
        return utf8_lossy(arena, p, len, len_r);
    }
    if (!is_stateful_name(charset) && mime_is_ascii(p, len)) {
        if (owned)
            iconv_close(cd);
        goto copy;
    }
    char *out = iconv_all(arena, cd, p, len, len_r);
    if (owned)
        iconv_close(cd);
    if (!utf8_valid(out, *len_r)) {
        /* A broken converter table must not leak invalid UTF-8. */
        return utf8_lossy(arena, out, *len_r, len_r);
    }
    return out;
copy:
    *len_r = len;
    return arena_strndup(arena, p, len);
}

unsigned mime_script_of(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'))
        return SCRIPT_LATIN;
    if (cp < 0xC0)
        return SCRIPT_OTHER;
    if (cp <= 0x24F)
        return (cp == 0xD7 || cp == 0xF7) ? SCRIPT_OTHER : SCRIPT_LATIN;
    if (cp >= 0x370 && cp <= 0x3FF)
        return SCRIPT_GREEK;
    if (cp >= 0x400 && cp <= 0x52F)
        return SCRIPT_CYRILLIC;
    if (cp >= 0x1E00 && cp <= 0x1EFF)
        return SCRIPT_LATIN;
    if (cp >= 0x1F00 && cp <= 0x1FFF)
        return SCRIPT_GREEK;
    return SCRIPT_OTHER;
}

/* Length of an invisible character's UTF-8 sequence at p, or 0. */
static size_t invisible_at(const unsigned char *p, size_t left)
{
    if (left >= 2 && p[0] == 0xC2 && p[1] == 0xAD)
        return 2;                                    /* U+00AD soft hyphen */
    if (left >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0x8B && p[2] <= 0x8D)
        return 3;                                    /* U+200B..U+200D */
    if (left >= 3 && p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0xA0)
        return 3;                                    /* U+2060 word joiner */
    if (left >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        return 3;                                    /* U+FEFF */
    return 0;
}

const char *mime_strip_invisible(struct arena *arena, const char *p, size_t len,
                                 size_t *len_r, size_t *removed_r)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0, n;

    *removed_r = 0;
    *len_r = len;
    while (i < len && ((u[i] < 0x80) || (n = invisible_at(u + i, len - i)) == 0))
        i++;
    if (i >= len)
        return p;                /* the common case: nothing to remove, no copy */
    char *out = arena_alloc(arena, len + 1);
    size_t o = i;
    memcpy(out, p, i);
    while (i < len) {
        if (u[i] >= 0xC2 && (n = invisible_at(u + i, len - i)) > 0) {
            i += n;
            (*removed_r)++;
            continue;
        }
        out[o++] = p[i++];
    }
    out[o] = '\0';
    *len_r = o;
    return out;
}

/* ASCII byte kinds for the word scan: 0 separator, 1 letter, 2 digit. */
static uint8_t ascii_kind[128];
static bool ascii_kind_ready;

static void ascii_kind_init(void)
{
    for (unsigned c = 0; c < 128; c++) {
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            ascii_kind[c] = 1;
        else if (c >= '0' && c <= '9')
            ascii_kind[c] = 2;
    }
    ascii_kind_ready = true;
}

static inline bool is_space_cp(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '\f' || cp == '\v' ||
           cp == 0xA0;
}

/* A word is a run of letters and digits (Unicode-aware).  A word is mixed
 * when it holds Latin letters together with Cyrillic or Greek ones: the
 * homoglyph trick ("P\u0430ypal" with a Cyrillic a).  ASCII takes a table
 * lookup per byte; only non-ASCII characters are decoded. */
void mime_text_stats(const char *p, size_t len, size_t *nwords_r, bool *empty_r,
                     bool *mixed_r)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0, words = 0;
    bool in_word = false, mixed = false, empty = true;
    unsigned scripts = 0;

    if (!ascii_kind_ready)
        ascii_kind_init();
    while (i < len) {
        unsigned char c = u[i];
        if (c < 0x80) {
            unsigned k = ascii_kind[c];
            if (k == 0) {
                in_word = false;
                if (empty && !is_space_cp(c))
                    empty = false;
            } else {
                empty = false;
                if (!in_word) {
                    in_word = true;
                    words++;
                    scripts = 0;
                }
                if (k == 1) {
                    scripts |= SCRIPT_LATIN;
                    if (scripts & (SCRIPT_CYRILLIC | SCRIPT_GREEK))
                        mixed = true;
                }
            }
            i++;
            continue;
        }
        uint32_t cp;
        i += utf8_next(u + i, len - i, &cp);
        if (empty && !is_space_cp(cp))
            empty = false;
        if (!g_unichar_isalnum(cp)) {
            in_word = false;
            continue;
        }
        if (!in_word) {
            in_word = true;
            words++;
            scripts = 0;
        }
        scripts |= mime_script_of(cp);
        if ((scripts & SCRIPT_LATIN) && (scripts & (SCRIPT_CYRILLIC | SCRIPT_GREEK)))
            mixed = true;
    }
    *nwords_r = words;
    *empty_r = empty;
    *mixed_r = mixed;
}

void *mime_grow(struct arena *arena, void *old, size_t n, size_t *cap, size_t elem, size_t min)
{
    if (n < *cap && old != NULL)
        return old;
    size_t ncap = *cap ? *cap * 2 : min;
    ASSERT(ncap > n && ncap < SIZE_MAX / elem);
    void *nw = old != NULL ? arena_realloc(arena, old, *cap * elem, ncap * elem)
                           : arena_alloc(arena, ncap * elem);
    *cap = ncap;
    return nw;
}
