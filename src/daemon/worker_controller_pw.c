/*
 * Controller password verification: does a password a client sent match a
 * stored `password` / `enable_password`?  Stored values are argon2id strings
 * from `winnowadm pw` (libsodium), Rspamd's "$1$" hashes (PBKDF2 over keyed
 * BLAKE2b, 16000 rounds, spec §7.4), Rspamd's "$2$" hashes (Catena-Butterfly,
 * rspamadm's default; catena.c) or plain text.  Rspamd writes both as
 * "$N$SALT$KEY" with a 20-byte salt and a 32-byte key in its base32; any
 * other length, character or id ("$3$") never matches, and the controller
 * warns about unknown ids at start-up.
 *
 * Comparisons are constant-time: plain passwords by comparing keyed BLAKE2b
 * digests of both sides (so lengths do not leak either), hashes by
 * libsodium's comparisons.  A hash verification costs CPU (argon2id also
 * tens of MiB, Catena about 100 KiB and some 80,000 BLAKE2b calls), so a
 * password that verified once is remembered as such a digest for the life
 * of the process (Rspamd caches the same way); a wrong password is
 * recomputed every time, which the per-address lockout bounds.
 */
#include <sodium.h>
#include <string.h>

#include "daemon/catena.h"
#include "daemon/worker_controller.h"

#define DIGEST_LEN 32

struct verified {
    const char *stored;          /* which stored value this digest belongs to */
    uint8_t digest[DIGEST_LEN];
    bool valid;
};

static struct verified verified_cache[2];
static uint8_t digest_key[crypto_generichash_KEYBYTES];
static bool digest_key_set;

void ctl_password_reset(void)
{
    sodium_memzero(verified_cache, sizeof(verified_cache));
}

bool ctl_auth_is_rspamd_hash(const char *stored)
{
    return stored != NULL && stored[0] == '$' && stored[1] >= '0' && stored[1] <= '9' &&
           stored[2] == '$';
}

/* The ids verified here; warn_rspamd_hash() in worker_controller.c keeps
 * the same list for its start-up warning. */
static bool rspamd_hash_known(const char *stored)
{
    return stored[1] == '1' || stored[1] == '2';
}

static bool is_argon2(const char *stored)
{
    return strncmp(stored, "$argon2id$", 10) == 0 || strncmp(stored, "$argon2i$", 9) == 0;
}

/* ---- Rspamd's "$N$SALT$KEY" ---- */

/* Both of Rspamd's kinds (pbkdf_list in its src/libutil/util.c). */
#define RSPAMD_SALT_LEN 20
#define RSPAMD_KEY_LEN 32
#define RSPAMD_SALT_CHARS 32         /* ceil(20 * 8 / 5) */
#define RSPAMD_KEY_CHARS 52          /* ceil(32 * 8 / 5) */

#define PBKDF2_ROUNDS 16000

/* Rspamd's base32: its own alphabet, bits taken least significant first.
 * Returns the decoded length, or -1 on a bad character or overflow. */
static int rspamd_b32_decode(const char *p, size_t len, uint8_t *out, size_t outsz)
{
    static const char alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        const char *c = memchr(alphabet, p[i], 32);
        if (c == NULL || p[i] == '\0')
            return -1;
        acc |= (uint32_t)(c - alphabet) << bits;
        bits += 5;
        if (bits >= 8) {
            if (n == outsz)
                return -1;
            out[n++] = (uint8_t)(acc & 0xff);
            acc >>= 8;
            bits -= 8;
        }
    }
    return (int)n;
}

/* Splits "$N$SALT$KEY" (N one digit, checked by the caller) and decodes
 * salt and key.  -1 unless SALT is exactly 32 and KEY exactly 52 base32
 * characters, i.e. 20 and 32 bytes as rspamadm writes them. */
static int rspamd_hash_parse(const char *stored, uint8_t salt[RSPAMD_SALT_LEN],
                             uint8_t key[RSPAMD_KEY_LEN])
{
    const char *s = stored + 3, *dollar = strchr(s, '$'), *k;

    if (dollar == NULL || (size_t)(dollar - s) != RSPAMD_SALT_CHARS)
        return -1;
    k = dollar + 1;
    if (strlen(k) != RSPAMD_KEY_CHARS)
        return -1;
    if (rspamd_b32_decode(s, RSPAMD_SALT_CHARS, salt, RSPAMD_SALT_LEN) != RSPAMD_SALT_LEN ||
        rspamd_b32_decode(k, RSPAMD_KEY_CHARS, key, RSPAMD_KEY_LEN) != RSPAMD_KEY_LEN)
        return -1;
    return 0;
}

/* "$1$": PBKDF2 with keyed BLAKE2b as the PRF. */
static void pbkdf2_blake2b(const char *pw, const uint8_t *salt, size_t salt_len, uint8_t *key,
                           size_t key_len)
{
    uint8_t asalt[RSPAMD_SALT_LEN + 4], d1[64], obuf[64], k[64];
    const uint8_t *pk = (const uint8_t *)pw;
    size_t pk_len = strlen(pw);

    if (pk_len > crypto_generichash_KEYBYTES_MAX) {     /* long passwords: hashed first */
        crypto_generichash(k, sizeof(k), pk, pk_len, NULL, 0);
        pk = k;
        pk_len = sizeof(k);
    }
    memcpy(asalt, salt, salt_len);
    for (uint32_t count = 1; key_len > 0; count++) {
        asalt[salt_len] = (uint8_t)(count >> 24);
        asalt[salt_len + 1] = (uint8_t)(count >> 16);
        asalt[salt_len + 2] = (uint8_t)(count >> 8);
        asalt[salt_len + 3] = (uint8_t)count;
        crypto_generichash(d1, sizeof(d1), asalt, salt_len + 4, pk, pk_len);
        memcpy(obuf, d1, sizeof(obuf));
        for (unsigned i = 1; i < PBKDF2_ROUNDS; i++) {
            crypto_generichash(d1, sizeof(d1), d1, sizeof(d1), pk, pk_len);
            for (size_t j = 0; j < sizeof(obuf); j++)
                obuf[j] ^= d1[j];
        }
        size_t r = key_len < sizeof(obuf) ? key_len : sizeof(obuf);
        memcpy(key, obuf, r);
        key += r;
        key_len -= r;
    }
    sodium_memzero(k, sizeof(k));
    sodium_memzero(obuf, sizeof(obuf));
}

/* "$1$" or "$2$" against a password; false on any malformed part. */
static bool rspamd_hash_verify(const char *stored, const char *given)
{
    static const struct catena_params catena = {
        .lambda = CATENA_RSPAMD_LAMBDA,
        .min_garlic = CATENA_RSPAMD_GARLIC,
        .garlic = CATENA_RSPAMD_GARLIC,
        .hash_len = RSPAMD_KEY_LEN,
    };
    static const uint8_t catena_ad[] = "rspamd";
    uint8_t salt[RSPAMD_SALT_LEN], want[RSPAMD_KEY_LEN], got[RSPAMD_KEY_LEN];
    bool ok = false;

    if (rspamd_hash_parse(stored, salt, want) < 0)
        return false;
    if (stored[1] == '1') {
        pbkdf2_blake2b(given, salt, sizeof(salt), got, sizeof(got));
        ok = true;
    } else if (stored[1] == '2') {
        ok = catena_hash(&catena, (const uint8_t *)given, strlen(given), salt, sizeof(salt),
                         catena_ad, sizeof(catena_ad) - 1, got) == 0;
    }
    ok = ok && sodium_memcmp(got, want, sizeof(want)) == 0;
    sodium_memzero(got, sizeof(got));
    return ok;
}

static void digest(const char *s, uint8_t out[DIGEST_LEN])
{
    if (!digest_key_set) {
        randombytes_buf(digest_key, sizeof(digest_key));
        digest_key_set = true;
    }
    crypto_generichash(out, DIGEST_LEN, (const unsigned char *)s, strlen(s), digest_key,
                       sizeof(digest_key));
}

static struct verified *cache_slot(const char *stored)
{
    for (size_t i = 0; i < 2; i++)
        if (verified_cache[i].valid && verified_cache[i].stored == stored)
            return &verified_cache[i];
    for (size_t i = 0; i < 2; i++)
        if (!verified_cache[i].valid)
            return &verified_cache[i];
    return &verified_cache[0];
}

bool ctl_password_matches(const char *stored, const char *given)
{
    uint8_t a[DIGEST_LEN], b[DIGEST_LEN];
    bool ok;

    if (stored == NULL || (ctl_auth_is_rspamd_hash(stored) && !rspamd_hash_known(stored)))
        return false;
    digest(given, a);
    if (!is_argon2(stored) && !ctl_auth_is_rspamd_hash(stored)) {
        digest(stored, b);
        return sodium_memcmp(a, b, DIGEST_LEN) == 0;
    }
    struct verified *v = cache_slot(stored);
    if (v->valid && v->stored == stored)
        return sodium_memcmp(a, v->digest, DIGEST_LEN) == 0;
    if (is_argon2(stored))
        ok = crypto_pwhash_str_verify(stored, given, strlen(given)) == 0;
    else
        ok = rspamd_hash_verify(stored, given);
    if (ok) {
        memcpy(v->digest, a, DIGEST_LEN);
        v->stored = stored;
        v->valid = true;
    }
    return ok;
}
