/*
 * libFuzzer target "arc": the input is a whole message; its ARC fields are
 * parsed and the chain validated (arc_module.c), every key lookup answered
 * alternately with the ValiMail suite's 1024-bit RSA record, a garbage
 * record, NXDOMAIN and a temporary failure.  Checks that hostile ARC fields
 * (bad i=, duplicate sets, odd tags, huge h= lists) never crash the parser
 * or the verifier and always give one of the five results, and that
 * sealing on top of whatever chain was found (the sealer hashes the old
 * sets) is safe too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "modules/arc.h"
#include "modules/dkim/dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key_rec[] =
    "v=DKIM1; k=rsa; p="
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bd"
    "OKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4h"
    "stT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(0);
    struct dkim_header *h = NULL;
    size_t n = 0, blen = 0;
    const char *body = NULL, *err = NULL, *reason = NULL;
    if (dkim_split_message(a, (const char *)data, size, &h, &n, &body, &blen, &err) == 0) {
        struct arc_verify *v = arc_verify_new(a, h, n, body, blen);
        for (size_t i = 0; i < arc_verify_nkeys(v); i++) {
            const char *name = arc_verify_key_name(v, i);
            if (name == NULL)
                continue;
            switch ((size + i) % 4) {
            case 0: arc_verify_set_key(v, i, DKIM_DNS_OK, key_rec, sizeof(key_rec) - 1); break;
            case 1: arc_verify_set_key(v, i, DKIM_DNS_OK, "v=DKIM1; p=@@", 13); break;
            case 2: arc_verify_set_key(v, i, DKIM_DNS_NXDOMAIN, NULL, 0); break;
            default: arc_verify_set_key(v, i, DKIM_DNS_TEMPFAIL, NULL, 0); break;
            }
        }
        enum arc_result r = arc_verify_finish(v, &reason);
        if (r > ARC_RES_TEMPERROR || reason == NULL)
            abort();
        static const char seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
        struct dkim_privkey *key = NULL;
        const char *aar, *ams, *as;
        if (dkim_privkey_load_mem(a, seed, sizeof(seed) - 1, &key, &err) == 0)
            arc_seal_message(v, r, key, "example.com", "arc", "mx.example.com; none", 1000000000,
                             &aar, &ams, &as);
    }
    arena_free(&a);
    return 0;
}
