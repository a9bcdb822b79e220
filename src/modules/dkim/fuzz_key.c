/*
 * libFuzzer target "dkim_key": the input is a DKIM key record (DNS TXT).
 * It goes through the tag-list parser, the key-record parser (base64, DER
 * decoding of RSA SPKI/PKCS#1 and Ed25519 keys) and, as a private key,
 * through the PEM/base64 private-key loader.
 */
#include <stdint.h>

#include "core/arena.h"
#include "modules/dkim/dkim_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *arena = arena_new(0);
    struct dkim_pubkey key;
    struct dkim_privkey *priv;
    const char *err;
    (void)dkim_key_parse(arena, (const char *)data, size, &key, &err);
    (void)dkim_privkey_load_mem(arena, (const char *)data, size, &priv, &err);
    arena_free(&arena);
    return 0;
}
