#ifndef WINNOW_PROTO_MILTER_CODEC_H
#define WINNOW_PROTO_MILTER_CODEC_H
/*
 * Milter wire format (Sendmail/Postfix milter protocol version 6): framing,
 * field decoding of the MTA's commands and encoding of our replies.  No
 * policy here: the proxy worker's session state machine drives it.
 *
 * Frame: 4-byte big-endian length (command byte + data), 1 command byte,
 * data.  The decoder is push-style: bytes are consumed as they arrive, a
 * frame split across reads is reassembled, and a frame longer than the limit
 * is refused before anything is allocated for it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define MILTER_VERSION 6
#define MILTER_DEFAULT_MAX_FRAME (1024 * 1024)

/* MTA -> filter commands (SMFIC_*). */
enum {
    MILTER_CMD_ABORT = 'A', MILTER_CMD_BODY = 'B', MILTER_CMD_CONNECT = 'C',
    MILTER_CMD_MACRO = 'D', MILTER_CMD_BODYEOB = 'E', MILTER_CMD_HELO = 'H',
    MILTER_CMD_QUIT_NC = 'K', MILTER_CMD_HEADER = 'L', MILTER_CMD_MAIL = 'M',
    MILTER_CMD_EOH = 'N', MILTER_CMD_OPTNEG = 'O', MILTER_CMD_QUIT = 'Q',
    MILTER_CMD_RCPT = 'R', MILTER_CMD_DATA = 'T', MILTER_CMD_UNKNOWN = 'U',
};

/* Filter -> MTA replies (SMFIR_*). */
enum {
    MILTER_REPLY_ADDRCPT = '+', MILTER_REPLY_DELRCPT = '-', MILTER_REPLY_ACCEPT = 'a',
    MILTER_REPLY_REPLBODY = 'b', MILTER_REPLY_CONTINUE = 'c', MILTER_REPLY_DISCARD = 'd',
    MILTER_REPLY_CHGFROM = 'e', MILTER_REPLY_ADDHEADER = 'h', MILTER_REPLY_INSHEADER = 'i',
    MILTER_REPLY_CHGHEADER = 'm', MILTER_REPLY_PROGRESS = 'p', MILTER_REPLY_QUARANTINE = 'q',
    MILTER_REPLY_REJECT = 'r', MILTER_REPLY_TEMPFAIL = 't', MILTER_REPLY_REPLYCODE = 'y',
};

/* Actions we may take (SMFIF_*) and protocol flags (SMFIP_*). */
#define MILTER_ACT_ADDHDRS 0x01u
#define MILTER_ACT_CHGBODY 0x02u
#define MILTER_ACT_ADDRCPT 0x04u
#define MILTER_ACT_DELRCPT 0x08u
#define MILTER_ACT_CHGHDRS 0x10u
#define MILTER_ACT_QUARANTINE 0x20u
#define MILTER_ACT_CHGFROM 0x40u
/* Rspamd's reply (spec §4.1): "no reply" for every stage but end of body. */
#define MILTER_PROTO_RSPAMD 0x000FF080u

struct milter_frame {
    char cmd;
    const char *data;            /* valid until the next feed */
    size_t len;
};

struct milter_decoder;

struct milter_decoder *milter_decoder_new(size_t max_frame);   /* 0 = default */
void milter_decoder_free(struct milter_decoder **d);
/*
 * Consumes up to len bytes.  Returns 1 with *frame_r when a frame is complete
 * (*consumed_r tells how many input bytes were used; feed the rest again),
 * 0 when all input was consumed without completing a frame, -1 on a protocol
 * error (*error_r): zero-length or over-long frame.  After -1 the connection
 * must be closed.
 */
int milter_decoder_feed(struct milter_decoder *d, const char *p, size_t len,
                        size_t *consumed_r, struct milter_frame *frame_r, const char **error_r);

struct milter_optneg {
    uint32_t version, actions, protocol;
};

struct milter_connect {
    const char *hostname;
    size_t hostname_len;
    char family;                 /* '4', '6', 'L', 'U' */
    uint16_t port;
    const char *addr;            /* NULL when family is 'U' */
    size_t addr_len;
};

/* Field parsers: all -1 with *error_r on malformed data; strings point into
 * the frame and are not NUL-terminated unless said so. */
int milter_parse_optneg(const struct milter_frame *f, struct milter_optneg *o_r,
                        const char **error_r);
int milter_parse_connect(const struct milter_frame *f, struct milter_connect *c_r,
                         const char **error_r);
/* Iterates NUL-terminated strings of f->data starting at *off: returns 1 with
 * the next string (terminated in the frame), 0 at the end, -1 when the data
 * does not end with NUL. */
int milter_next_string(const struct milter_frame *f, size_t *off, const char **s_r,
                       size_t *len_r);
/* 'D': *stage_r = the command the macros belong to; then name/value pairs
 * via milter_next_string from *off. */
int milter_parse_macro_stage(const struct milter_frame *f, char *stage_r, size_t *off_r,
                             const char **error_r);
int milter_parse_header(const struct milter_frame *f, const char **name_r, size_t *name_len_r,
                        const char **value_r, size_t *value_len_r, const char **error_r);

/* Encoders append a complete frame to out. */
void milter_encode(struct buf *out, char cmd, const void *data, size_t len);
void milter_encode_optneg(struct buf *out, const struct milter_optneg *o);
void milter_encode_simple(struct buf *out, char cmd);             /* a, c, d, t, r, p */
void milter_encode_replycode(struct buf *out, const char *text);  /* "554 5.7.1 msg" */
void milter_encode_addheader(struct buf *out, const char *name, const char *value);
void milter_encode_insheader(struct buf *out, uint32_t index, const char *name,
                             const char *value);
void milter_encode_chgheader(struct buf *out, uint32_t index, const char *name,
                             const char *value);
void milter_encode_quarantine(struct buf *out, const char *reason);
void milter_encode_rcpt(struct buf *out, char cmd, const char *rcpt);   /* + or - */
void milter_encode_chgfrom(struct buf *out, const char *from, const char *args);

#endif
