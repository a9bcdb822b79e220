/*
 * Catena-Butterfly (Forler, Lucks, Wenzel: "The Catena Password-Scrambling
 * Framework", v3.1), in the variant Rspamd ships for its "$2$" controller
 * passwords, so winnow verifies those hashes bit for bit.  Rspamd's choices,
 * which differ from the reference instance: H and the "fast" H' are both
 * unkeyed BLAKE2b-512 (libsodium), the version string is "Butterfly-Full",
 * and the gamma step draws its indices from xorshift1024* seeded with
 * H(salt) and H(H(salt)).
 *
 * One flap fills 2^g hash-sized cells from the input (the top row), lets
 * the salt pick 2^floor((3g+3)/4) cells to rehash (gamma), then runs lambda
 * double-butterfly passes of 2g-1 rows each.  Only one and a half rows are
 * kept: rows take turns in three placements inside c + c/2 cells, and a
 * carry remembers where the last row ended.  All of it is deterministic
 * from (password, salt, data, parameters); the memory access pattern does
 * not depend on the password.
 *
 * Owns nothing beyond one call: the graph is malloc'ed, wiped and freed
 * inside catena_hash().  Refuses parameters whose cost is unbounded
 * (garlic above CATENA_GARLIC_MAX).  Not the client-independent or
 * key-derivation modes; Rspamd uses neither.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "daemon/catena.h"

#define TWEAK_PASSWORD_HASHING 0

static const char version_id[] = "Butterfly-Full";

/* H(a || b): unkeyed BLAKE2b-512.  out may alias a or b: the state reads
 * all input before the final call writes. */
static void h2(uint8_t out[CATENA_HLEN], const uint8_t *a, size_t alen, const uint8_t *b,
               size_t blen)
{
    crypto_generichash_blake2b_state st;

    crypto_generichash_blake2b_init(&st, NULL, 0, CATENA_HLEN);
    if (alen > 0)
        crypto_generichash_blake2b_update(&st, a, alen);
    if (blen > 0)
        crypto_generichash_blake2b_update(&st, b, blen);
    crypto_generichash_blake2b_final(&st, out, CATENA_HLEN);
}

/* xorshift1024* (Vigna), the generator Rspamd's gamma uses: 16 words of
 * state, read little-endian from two 64-byte hashes. */
struct xorshift {
    uint64_t s[16];
    unsigned p;
};

static void xorshift_init(struct xorshift *xs, const uint8_t a[CATENA_HLEN],
                          const uint8_t b[CATENA_HLEN])
{
    for (unsigned i = 0; i < 8; i++) {
        uint64_t wa = 0, wb = 0;
        for (unsigned k = 0; k < 8; k++) {
            wa |= (uint64_t)a[i * 8 + k] << (8 * k);
            wb |= (uint64_t)b[i * 8 + k] << (8 * k);
        }
        xs->s[i] = wa;
        xs->s[i + 8] = wb;
    }
    xs->p = 0;
}

static uint64_t xorshift_next(struct xorshift *xs)
{
    uint64_t s0 = xs->s[xs->p], s1;

    xs->p = (xs->p + 1) & 15;
    s1 = xs->s[xs->p];
    s1 ^= s1 << 31;
    s1 ^= s1 >> 11;
    s0 ^= s0 >> 30;
    xs->s[xs->p] = s0 ^ s1;
    return xs->s[xs->p] * UINT64_C(1181783497276652981);
}

/* The graph of one flap: c = 2^g cells per row, m = c / 2. */
struct graph {
    uint8_t *cells;              /* c + m cells of CATENA_HLEN bytes */
    uint64_t c, m;
    unsigned g;
};

static uint8_t *cell(const struct graph *gr, uint64_t k)
{
    return gr->cells + k * CATENA_HLEN;   /* UNSAFE: k < c + m by construction */
}

/* Cell holding column j of row `row` (already shifted by the carry).  Row
 * placements cycle with period three: [0, c), then [c, c + m) followed by
 * [0, m) (over the row two back), then [m, m + c). */
static uint8_t *row_cell(const struct graph *gr, uint64_t row, uint64_t j)
{
    switch (row % 3) {
    case 0:
        return cell(gr, j);
    case 1:
        return cell(gr, j < gr->m ? j + gr->c : j - gr->m);
    default:
        return cell(gr, j + gr->m);
    }
}

/* The butterfly's diagonal edge from row i to row i + 1: flip bit g-1-i on
 * the way down (the first g-1 rows), bit i-(g-1) on the way back up. */
static uint64_t sigma(unsigned g, uint64_t i, uint64_t j)
{
    if (i < g)
        return j ^ (UINT64_C(1) << (g - 1 - i));
    return j ^ (UINT64_C(1) << (i - (g - 1)));
}

static void xor_block(uint8_t out[CATENA_HLEN], const uint8_t *a, const uint8_t *b)
{
    for (size_t k = 0; k < CATENA_HLEN; k++)
        out[k] = a[k] ^ b[k];
}

/* Top row: v0 = H(0 || x), v1 = H(1 || x); r0 = H(v0 || v1),
 * r1 = H(r0 || v0), r_i = H(r_{i-1} || r_{i-2}). */
static void flap_top_row(const struct graph *gr, const uint8_t x[CATENA_HLEN])
{
    static const uint8_t zero = 0, one = 1;
    uint8_t v0[CATENA_HLEN], v1[CATENA_HLEN];

    h2(v0, &zero, 1, x, CATENA_HLEN);
    h2(v1, &one, 1, x, CATENA_HLEN);
    h2(cell(gr, 0), v0, CATENA_HLEN, v1, CATENA_HLEN);
    h2(cell(gr, 1), cell(gr, 0), CATENA_HLEN, v0, CATENA_HLEN);
    for (uint64_t i = 2; i < gr->c; i++)
        h2(cell(gr, i), cell(gr, i - 1), CATENA_HLEN, cell(gr, i - 2), CATENA_HLEN);
    sodium_memzero(v0, sizeof(v0));
    sodium_memzero(v1, sizeof(v1));
}

/* Gamma: salt-dependent rehashing of 2^floor((3g+3)/4) top-row cells. */
static void flap_gamma(const struct graph *gr, const uint8_t *salt, size_t salt_len)
{
    uint64_t q = UINT64_C(1) << ((3 * gr->g + 3) / 4);
    uint8_t a[CATENA_HLEN], b[CATENA_HLEN];
    struct xorshift xs;

    h2(a, salt, salt_len, NULL, 0);
    h2(b, a, CATENA_HLEN, NULL, 0);
    xorshift_init(&xs, a, b);
    for (uint64_t i = 0; i < q; i++) {
        uint64_t j = xorshift_next(&xs) >> (64 - gr->g);
        uint64_t j2 = xorshift_next(&xs) >> (64 - gr->g);
        h2(cell(gr, j), cell(gr, j), CATENA_HLEN, cell(gr, j2), CATENA_HLEN);
    }
}

/* One double-butterfly pass of 2g-1 rows below the row at `carry`;
 * returns the new carry.  The first cell of each row is hashed twice,
 * H(0 || H(...)), as Rspamd's H_First does. */
static unsigned flap_layers(const struct graph *gr, unsigned carry)
{
    static const uint8_t zero = 0;
    uint64_t rows = 2 * (uint64_t)gr->g;
    uint8_t tmp[CATENA_HLEN];

    for (uint64_t i = 1; i < rows; i++) {
        uint64_t up = i - 1 + carry, cur = i + carry;

        xor_block(tmp, row_cell(gr, up, gr->c - 1), row_cell(gr, up, 0));
        h2(tmp, tmp, CATENA_HLEN, row_cell(gr, up, sigma(gr->g, i - 1, 0)), CATENA_HLEN);
        h2(row_cell(gr, cur, 0), &zero, 1, tmp, CATENA_HLEN);
        for (uint64_t j = 1; j < gr->c; j++) {
            xor_block(tmp, row_cell(gr, cur, j - 1), row_cell(gr, up, j));
            h2(row_cell(gr, cur, j), tmp, CATENA_HLEN,
               row_cell(gr, up, sigma(gr->g, i - 1, j)), CATENA_HLEN);
        }
    }
    sodium_memzero(tmp, sizeof(tmp));
    return (unsigned)((carry + rows - 1) % 3);
}

/* x := flap_g(x): top row, gamma, lambda passes, then the last cell of the
 * last row. */
static void flap(uint8_t x[CATENA_HLEN], unsigned lambda, unsigned g, const uint8_t *salt,
                 size_t salt_len)
{
    struct graph gr = {.c = UINT64_C(1) << g, .m = UINT64_C(1) << (g - 1), .g = g};
    size_t bytes = (size_t)(gr.c + gr.m) * CATENA_HLEN;   /* g <= CATENA_GARLIC_MAX */
    unsigned carry = 0;

    gr.cells = malloc(bytes);
    if (gr.cells == NULL)
        panic("catena: cannot allocate %zu bytes", bytes);
    flap_top_row(&gr, x);
    flap_gamma(&gr, salt, salt_len);
    for (unsigned k = 0; k < lambda; k++)
        carry = flap_layers(&gr, carry);
    memcpy(x, row_cell(&gr, carry, gr.c - 1), CATENA_HLEN);
    sodium_memzero(gr.cells, bytes);
    free(gr.cells);
}

int catena_hash(const struct catena_params *params, const uint8_t *pw, size_t pw_len,
                const uint8_t *salt, size_t salt_len, const uint8_t *ad, size_t ad_len,
                uint8_t *out)
{
    uint8_t hv[CATENA_HLEN], x[CATENA_HLEN], tweak[4];
    crypto_generichash_blake2b_state st;

    if (params->lambda == 0 || params->min_garlic == 0 || params->min_garlic > params->garlic ||
        params->garlic > CATENA_GARLIC_MAX || params->hash_len == 0 ||
        params->hash_len > CATENA_HLEN || salt_len > 255)
        return -1;

    /* x = H(H(V) || tweak || H(AD) || pw || salt), tweak = (mode, lambda,
     * hash length, salt length).  Rspamd hashes pw_len mod 256 bytes. */
    h2(hv, (const uint8_t *)version_id, sizeof(version_id) - 1, NULL, 0);
    tweak[0] = TWEAK_PASSWORD_HASHING;
    tweak[1] = params->lambda;
    tweak[2] = params->hash_len;
    tweak[3] = (uint8_t)salt_len;
    h2(x, ad, ad_len, NULL, 0);
    crypto_generichash_blake2b_init(&st, NULL, 0, CATENA_HLEN);
    crypto_generichash_blake2b_update(&st, hv, sizeof(hv));
    crypto_generichash_blake2b_update(&st, tweak, sizeof(tweak));
    crypto_generichash_blake2b_update(&st, x, sizeof(x));
    if ((pw_len & 0xff) > 0)
        crypto_generichash_blake2b_update(&st, pw, pw_len & 0xff);
    if (salt_len > 0)
        crypto_generichash_blake2b_update(&st, salt, salt_len);
    crypto_generichash_blake2b_final(&st, x, sizeof(x));

    /* A cheap flap at half the minimum garlic, then one per garlic step,
     * each followed by x = H(g || x) truncated (zero-padded) to hash_len. */
    flap(x, params->lambda, (params->min_garlic + 1u) / 2, salt, salt_len);
    for (unsigned g = params->min_garlic; g <= params->garlic; g++) {
        uint8_t gb = (uint8_t)g;

        flap(x, params->lambda, g, salt, salt_len);
        h2(x, &gb, 1, x, CATENA_HLEN);
        memset(x + params->hash_len, 0, CATENA_HLEN - params->hash_len);
    }
    memcpy(out, x, params->hash_len);
    sodium_memzero(x, sizeof(x));
    sodium_memzero(&st, sizeof(st));
    return 0;
}
