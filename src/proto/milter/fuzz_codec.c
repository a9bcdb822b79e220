/*
 * libFuzzer target: the milter decoder fed the input in two splits, and
 * every decoded frame run through the field parser of its command.
 */
#include <stdint.h>
#include <string.h>

#include "proto/milter/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_frame(const struct milter_frame *f)
{
    const char *err, *s, *v;
    size_t off = 0, len, vlen;
    char stage;
    struct milter_optneg o;
    struct milter_connect c;
    switch (f->cmd) {
    case MILTER_CMD_OPTNEG:
        milter_parse_optneg(f, &o, &err);
        break;
    case MILTER_CMD_CONNECT:
        milter_parse_connect(f, &c, &err);
        break;
    case MILTER_CMD_MACRO:
        if (milter_parse_macro_stage(f, &stage, &off, &err) == 0)
            while (milter_next_string(f, &off, &s, &len) == 1)
                ;
        break;
    case MILTER_CMD_HEADER:
        milter_parse_header(f, &s, &len, &v, &vlen, &err);
        break;
    default:
        while (milter_next_string(f, &off, &s, &len) == 1)
            ;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct milter_decoder *d = milter_decoder_new(4096);
    size_t split = size ? data[0] % (size + 1) : 0;
    const char *p = (const char *)data;
    size_t parts[2][2] = {{0, split}, {split, size - split}};
    for (int k = 0; k < 2; k++) {
        size_t off = parts[k][0], left = parts[k][1];
        while (left > 0) {
            struct milter_frame f;
            size_t used = 0;
            const char *err;
            int rc = milter_decoder_feed(d, p + off, left, &used, &f, &err);
            if (rc < 0)
                goto out;
            if (rc == 1)
                parse_frame(&f);
            off += used;
            left -= used;
        }
    }
out:
    milter_decoder_free(&d);
    return 0;
}
