#ifndef WINNOW_DAEMON_CATENA_H
#define WINNOW_DAEMON_CATENA_H
/*
 * Catena-Butterfly password hashing as Rspamd implements it (its "$2$"
 * controller passwords): full BLAKE2b-512 for both H and H', version string
 * "Butterfly-Full", a double-butterfly graph per garlic step.  Only what
 * verifying Rspamd's hashes needs: regular (not client-independent) mode,
 * password-hashing tweak.
 */
#include <stddef.h>
#include <stdint.h>

#define CATENA_HLEN 64          /* BLAKE2b-512 output, the largest hash_len */
#define CATENA_GARLIC_MAX 20    /* 2^20 * 1.5 * 64 bytes = 96 MiB of graph */

/* What Rspamd's controller uses for "$2$": rspamd_cryptobox_pbkdf() with
 * complexity 10, a 20-byte salt, a 32-byte key and "rspamd" as data. */
#define CATENA_RSPAMD_LAMBDA 4
#define CATENA_RSPAMD_GARLIC 10
#define CATENA_RSPAMD_SALT_LEN 20
#define CATENA_RSPAMD_KEY_LEN 32

struct catena_params {
    uint8_t lambda;              /* graph layers per garlic step, > 0 */
    uint8_t min_garlic;          /* 1 .. garlic */
    uint8_t garlic;              /* memory 1.5 * 2^garlic hashes, <= CATENA_GARLIC_MAX */
    uint8_t hash_len;            /* output bytes, 1 .. CATENA_HLEN */
};

/*
 * Hashes pw with salt and associated data ad into out (hash_len bytes).
 * Returns 0, or -1 (out untouched) when the parameters are out of range or
 * salt_len > 255.  Like Rspamd, only the low 8 bits of pw_len are hashed
 * into the input (its Catena passes lengths as uint8_t): a password of 300
 * bytes is hashed as its first 44, so long passwords keep matching hashes
 * rspamadm made.  Costs lambda * (2 * garlic - 1) * 2^garlic BLAKE2b calls
 * for the last step; the graph is allocated and wiped inside.
 */
int catena_hash(const struct catena_params *params, const uint8_t *pw, size_t pw_len,
                const uint8_t *salt, size_t salt_len, const uint8_t *ad, size_t ad_len,
                uint8_t *out);

#endif
