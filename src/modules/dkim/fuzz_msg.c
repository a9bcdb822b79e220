/*
 * libFuzzer target "dkim_msg": the input is a whole message.  It is split
 * into header fields and body, verified (every key lookup answers with one
 * fixed Ed25519 record), then signed with the matching private key in two
 * canonicalizations, and the signed message is verified again.  That last
 * result must be "pass" whenever signing succeeded: an oracle that catches
 * any disagreement between the signer's and the verifier's canonicalization
 * (chunking, bare CR/LF, odd folding), not only crashes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "modules/dkim/dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char seed_b64[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char ed_rec[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static enum dkim_dns_status fixed_lookup(void *ctx, const char *name, const char *const **txt_r,
                                         const size_t **txt_len_r, size_t *ntxt_r)
{
    static const char *const txt[] = {ed_rec};
    static const size_t len[] = {sizeof(ed_rec) - 1};
    (void)ctx, (void)name;
    *txt_r = txt;
    *txt_len_r = len;
    *ntxt_r = 1;
    return DKIM_DNS_OK;
}

static void sign_and_check(struct arena *a, const struct dkim_privkey *key, const char *msg,
                           size_t len, const struct dkim_header *h, size_t nh, const char *body,
                           size_t blen, enum dkim_canon hc, enum dkim_canon bc)
{
    struct dkim_sign_opts o = {.domain = "example.com", .selector = "brisbane", .hcanon = hc,
                               .bcanon = bc, .timestamp = 1000000000};
    const char *err, *field;
    size_t flen;
    struct dkim_signer *s = dkim_sign_new(a, key, &o, &err);
    for (size_t i = 0; i < blen; i += 1 + i % 5)
        dkim_sign_body(s, body + i, blen - i < 1 + i % 5 ? blen - i : 1 + i % 5);
    if (dkim_sign_finish(s, h, nh, &field, &flen, &err) < 0)
        return;                     /* no From, ... */
    char *signed_msg = arena_alloc(a, flen + 2 + len);
    memcpy(signed_msg, field, flen);
    memcpy(signed_msg + flen, "\r\n", 2);
    memcpy(signed_msg + flen + 2, msg, len);
    struct dkim_header *h2;
    size_t nh2, blen2, nres;
    const char *body2;
    const struct dkim_result *res;
    struct dkim_verify_opts vo = {.ignore_time = true};
    if (dkim_split_message(a, signed_msg, flen + 2 + len, &h2, &nh2, &body2, &blen2, &err) < 0 ||
        dkim_verify_message(a, &vo, h2, nh2, body2, blen2, fixed_lookup, NULL, &res, &nres,
                            &err) < 0)
        return;
    if (nres == 0 || res[0].status != DKIM_STATUS_PASS) {
        fprintf(stderr, "oracle: own signature does not verify: %s\n",
                nres ? res[0].reason : "no result");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(0);
    const char *msg = (const char *)data, *body, *err;
    struct dkim_header *h;
    size_t nh, blen, nres;
    const struct dkim_result *res;
    struct dkim_privkey *key;
    if (dkim_split_message(a, msg, size, &h, &nh, &body, &blen, &err) == 0) {
        (void)dkim_verify_message(a, NULL, h, nh, body, blen, fixed_lookup, NULL, &res, &nres,
                                  &err);
        /* a leading continuation line would join our field when prepended */
        bool oracle = nh < 500 && size > 0 && msg[0] != ' ' && msg[0] != '\t';
        if (oracle && dkim_privkey_load_mem(a, seed_b64, sizeof(seed_b64) - 1, &key, &err) == 0) {
            sign_and_check(a, key, msg, size, h, nh, body, blen, DKIM_CANON_RELAXED,
                           DKIM_CANON_RELAXED);
            sign_and_check(a, key, msg, size, h, nh, body, blen, DKIM_CANON_SIMPLE,
                           DKIM_CANON_SIMPLE);
        }
    }
    arena_free(&a);
    return 0;
}
