/*
 * Milter framing and field codec.  The decoder is a two-state machine
 * (reading the 4-byte length, reading the body) that accepts input in any
 * split; it checks the declared length against max_frame before reserving
 * memory.  Field parsers check every length against the frame: a string
 * must end with NUL inside the frame, integers must fit.
 */
#include "proto/milter/codec.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

enum decoder_state { DEC_LEN = 0, DEC_BODY };

struct milter_decoder {
    enum decoder_state state;
    unsigned char lenbuf[4];
    size_t lenhave;
    size_t need;                 /* body bytes announced */
    size_t max_frame;
    struct buf body;
};

struct milter_decoder *milter_decoder_new(size_t max_frame)
{
    struct milter_decoder *d = calloc(1, sizeof(*d));
    if (d == NULL)
        panic("milter: out of memory");
    d->max_frame = max_frame ? max_frame : MILTER_DEFAULT_MAX_FRAME;
    return d;
}

void milter_decoder_free(struct milter_decoder **dp)
{
    if (*dp == NULL)
        return;
    buf_free(&(*dp)->body);
    free(*dp);
    *dp = NULL;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

int milter_decoder_feed(struct milter_decoder *d, const char *p, size_t len,
                        size_t *consumed_r, struct milter_frame *frame_r, const char **error_r)
{
    size_t i = 0;
    if (d->state == DEC_BODY && d->body.len == d->need) {
        /* The previous frame was handed out: start over. */
        buf_reset(&d->body);
        d->state = DEC_LEN;
        d->lenhave = 0;
    }
    while (i < len) {
        if (d->state == DEC_LEN) {
            d->lenbuf[d->lenhave++] = (unsigned char)p[i++];
            if (d->lenhave < 4)
                continue;
            uint32_t n = get_u32(d->lenbuf);
            if (n == 0) {
                *error_r = "zero-length milter frame";
                return -1;
            }
            if (n > d->max_frame) {
                *error_r = "milter frame exceeds the size limit";
                return -1;
            }
            d->need = n;
            buf_reset(&d->body);
            buf_reserve(&d->body, n);
            d->state = DEC_BODY;
        } else {
            size_t take = d->need - d->body.len;
            if (take > len - i)
                take = len - i;
            buf_append(&d->body, p + i, take);
            i += take;
        }
        if (d->state == DEC_BODY && d->body.len == d->need) {
            frame_r->cmd = d->body.data[0];
            frame_r->data = d->body.data + 1;
            frame_r->len = d->need - 1;
            *consumed_r = i;
            return 1;
        }
    }
    *consumed_r = i;
    return 0;
}

int milter_parse_optneg(const struct milter_frame *f, struct milter_optneg *o_r,
                        const char **error_r)
{
    /* Version 6 MTAs send exactly 12 bytes; anything else is refused. */
    if (f->len != 12) {
        *error_r = "option negotiation must carry 12 bytes";
        return -1;
    }
    const unsigned char *p = (const unsigned char *)f->data;
    o_r->version = get_u32(p);
    o_r->actions = get_u32(p + 4);
    o_r->protocol = get_u32(p + 8);
    return 0;
}

int milter_next_string(const struct milter_frame *f, size_t *off, const char **s_r,
                       size_t *len_r)
{
    if (*off >= f->len)
        return 0;
    const char *start = f->data + *off;
    const char *nul = memchr(start, '\0', f->len - *off);
    if (nul == NULL)
        return -1;
    *s_r = start;
    *len_r = (size_t)(nul - start);
    *off += *len_r + 1;
    return 1;
}

int milter_parse_connect(const struct milter_frame *f, struct milter_connect *c_r,
                         const char **error_r)
{
    size_t off = 0;
    memset(c_r, 0, sizeof(*c_r));
    if (milter_next_string(f, &off, &c_r->hostname, &c_r->hostname_len) != 1) {
        *error_r = "connect: hostname not terminated";
        return -1;
    }
    if (off >= f->len) {
        *error_r = "connect: missing address family";
        return -1;
    }
    c_r->family = f->data[off++];
    if (c_r->family == 'U')
        return 0;
    if (c_r->family != '4' && c_r->family != '6' && c_r->family != 'L') {
        *error_r = "connect: unknown address family";
        return -1;
    }
    if (f->len - off < 2) {
        *error_r = "connect: truncated port";
        return -1;
    }
    const unsigned char *pp = (const unsigned char *)f->data + off;
    c_r->port = (uint16_t)(pp[0] << 8 | pp[1]);
    off += 2;
    if (milter_next_string(f, &off, &c_r->addr, &c_r->addr_len) != 1) {
        *error_r = "connect: address not terminated";
        return -1;
    }
    return 0;
}

int milter_parse_macro_stage(const struct milter_frame *f, char *stage_r, size_t *off_r,
                             const char **error_r)
{
    if (f->len < 1) {
        *error_r = "macro: missing stage";
        return -1;
    }
    *stage_r = f->data[0];
    *off_r = 1;
    return 0;
}

int milter_parse_header(const struct milter_frame *f, const char **name_r, size_t *name_len_r,
                        const char **value_r, size_t *value_len_r, const char **error_r)
{
    size_t off = 0;
    if (milter_next_string(f, &off, name_r, name_len_r) != 1 ||
        milter_next_string(f, &off, value_r, value_len_r) != 1 || off != f->len) {
        *error_r = "header: expected name and value, NUL-terminated";
        return -1;
    }
    return 0;
}

void milter_encode(struct buf *out, char cmd, const void *data, size_t len)
{
    unsigned char hdr[5];
    put_u32(hdr, (uint32_t)(len + 1));
    hdr[4] = (unsigned char)cmd;
    buf_append(out, hdr, 5);
    buf_append(out, data, len);
}

void milter_encode_optneg(struct buf *out, const struct milter_optneg *o)
{
    unsigned char d[12];
    put_u32(d, o->version);
    put_u32(d + 4, o->actions);
    put_u32(d + 8, o->protocol);
    milter_encode(out, MILTER_CMD_OPTNEG, d, sizeof(d));
}

void milter_encode_simple(struct buf *out, char cmd)
{
    milter_encode(out, cmd, NULL, 0);
}

/* Builds "s1\0s2\0..." frames; idx < 0 means no leading index. */
static void encode_strings(struct buf *out, char cmd, long idx, const char *a, const char *b)
{
    struct buf d = BUF_INIT;
    if (idx >= 0) {
        unsigned char n[4];
        put_u32(n, (uint32_t)idx);
        buf_append(&d, n, 4);
    }
    buf_append(&d, a, strlen(a) + 1);
    if (b != NULL)
        buf_append(&d, b, strlen(b) + 1);
    milter_encode(out, cmd, d.data, d.len);
    buf_free(&d);
}

void milter_encode_replycode(struct buf *out, const char *text)
{
    encode_strings(out, MILTER_REPLY_REPLYCODE, -1, text, NULL);
}

void milter_encode_addheader(struct buf *out, const char *name, const char *value)
{
    encode_strings(out, MILTER_REPLY_ADDHEADER, -1, name, value);
}

void milter_encode_insheader(struct buf *out, uint32_t index, const char *name,
                             const char *value)
{
    encode_strings(out, MILTER_REPLY_INSHEADER, index, name, value);
}

void milter_encode_chgheader(struct buf *out, uint32_t index, const char *name,
                             const char *value)
{
    encode_strings(out, MILTER_REPLY_CHGHEADER, index, name, value);
}

void milter_encode_quarantine(struct buf *out, const char *reason)
{
    encode_strings(out, MILTER_REPLY_QUARANTINE, -1, reason, NULL);
}

void milter_encode_rcpt(struct buf *out, char cmd, const char *rcpt)
{
    encode_strings(out, cmd, -1, rcpt, NULL);
}

void milter_encode_chgfrom(struct buf *out, const char *from, const char *args)
{
    encode_strings(out, MILTER_REPLY_CHGFROM, -1, from, args);
}
