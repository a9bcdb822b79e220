/*
 * decode.c: Content-Transfer-Encoding decoders (base64, quoted-printable).
 *
 * Our own because we decode straight from the message bytes into the task
 * arena in one pass, and because we want to know whether the input was
 * clean (cte_bad) rather than have it silently repaired.  Both decoders
 * are lenient the way mail readers are: base64 skips characters outside its
 * alphabet, quoted-printable keeps a malformed "=XY" as is.  Output is
 * never longer than the input, so one allocation of len + 1 suffices.
 */
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "mime/mime_private.h"

/* 0..63 for the alphabet, 64 for '=', 65 for whitespace, 255 otherwise.
 * Filled on first use (the same bytes every time, so a repeated fill is
 * harmless). */
static uint8_t b64_table[256];
static bool b64_ready;

static void b64_init(void)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    memset(b64_table, 255, sizeof(b64_table));
    for (unsigned i = 0; i < 64; i++)
        b64_table[(unsigned char)alpha[i]] = (uint8_t)i;
    b64_table['='] = 64;
    b64_table[' '] = b64_table['\t'] = b64_table['\r'] = b64_table['\n'] = 65;
    b64_ready = true;
}

char *mime_base64_decode(struct arena *arena, const char *p, size_t len, size_t *len_r,
                         bool *bad_r)
{
    if (!b64_ready)
        b64_init();
    char *out = arena_alloc(arena, len + 1);
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    bool pad = false;

    for (size_t i = 0; i < len; i++) {
        uint8_t v = b64_table[(unsigned char)p[i]];
        if (v < 64) {
            if (pad) {
                /* Data after padding: a second base64 stream glued on. */
                *bad_r = true;
                pad = false;
                bits = 0;
            }
            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[o++] = (char)((acc >> bits) & 0xFF);
            }
        } else if (v == 64) {
            pad = true;
            bits = 0;
        } else if (v == 255) {
            *bad_r = true;
        }
    }
    out[o] = '\0';
    *len_r = o;
    return out;
}

char *mime_qp_decode(struct arena *arena, const char *p, size_t len, size_t *len_r,
                     bool *bad_r)
{
    char *out = arena_alloc(arena, len + 1);
    size_t o = 0, i = 0;

    while (i < len) {
        const char *eq = memchr(p + i, '=', len - i);
        size_t run = eq != NULL ? (size_t)(eq - (p + i)) : len - i;
        memcpy(out + o, p + i, run);
        o += run;
        i += run;
        if (i >= len)
            break;
        /* p[i] == '=' */
        if (i + 2 < len && str_hexval((unsigned char)p[i + 1]) >= 0 &&
            str_hexval((unsigned char)p[i + 2]) >= 0) {
            out[o++] = (char)(str_hexval((unsigned char)p[i + 1]) * 16 +
                              str_hexval((unsigned char)p[i + 2]));
            i += 3;
            continue;
        }
        /* Soft line break: '=' then optional trailing whitespace, then EOL. */
        size_t j = i + 1;
        while (j < len && (p[j] == ' ' || p[j] == '\t'))
            j++;
        if (j < len && p[j] == '\r')
            j++;
        if (j < len && p[j] == '\n') {
            i = j + 1;
            continue;
        }
        if (j >= len) {
            i = len;             /* '=' at the very end */
            continue;
        }
        *bad_r = true;
        out[o++] = '=';
        i++;
    }
    out[o] = '\0';
    *len_r = o;
    return out;
}
