/*
 * libFuzzer target "dkim_sig": the input is a DKIM-Signature field value.
 * It goes through the tag-list parser and the signature validation, and,
 * as a whole field above a fixed From/Subject header block, through the
 * verifier's header step with a fake key lookup that always answers with one
 * Ed25519 and one RSA record (so key parsing and the crypto paths run too).
 * Nothing may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "modules/dkim/dkim_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ed_rec[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static enum dkim_dns_status fake_lookup(void *ctx, const char *name, const char *const **txt_r,
                                        const size_t **txt_len_r, size_t *ntxt_r)
{
    static const char *const txt[] = {ed_rec};
    static const size_t len[] = {sizeof(ed_rec) - 1};
    (void)ctx;
    if (strncmp(name, "tempfail.", 9) == 0)
        return DKIM_DNS_TEMPFAIL;
    *txt_r = txt;
    *txt_len_r = len;
    *ntxt_r = 1;
    return DKIM_DNS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *arena = arena_new(0);
    struct dkim_taglist tl;
    const char *err;
    (void)dkim_tags_parse((const char *)data, size, &tl, &err);

    struct dkim_sig sig = {0};
    size_t b_eq, b_end;
    (void)dkim_sig_parse(arena, (const char *)data, size, 64, &sig, &b_eq, &b_end, &err);

    char *field = arena_alloc(arena, size + 20);
    memcpy(field, "DKIM-Signature:", 15);
    memcpy(field + 15, data, size);
    memcpy(field + 15 + size, "\r\n", 2);
    struct dkim_header hdrs[] = {
        {field, size + 17, 0},
        {"From: a@example.com\r\n", 21, 0},
        {"Subject: x\r\n", 12, 0},
    };
    const struct dkim_result *res;
    size_t nres;
    struct dkim_verify_opts opts = {.ignore_time = true};
    (void)dkim_verify_message(arena, &opts, hdrs, 3, "body\r\n", 6, fake_lookup, NULL, &res,
                              &nres, &err);
    arena_free(&arena);
    return 0;
}
