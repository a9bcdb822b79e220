#ifndef WINNOW_MIME_HEADER_H
#define WINNOW_MIME_HEADER_H
/*
 * Our own reader for an RFC 5322 header block (the top-level block of a
 * message, a MIME part's block).  Cursor + end style: the caller hands the
 * whole block (or the whole message) once and pulls fields one by one.
 * Raw bytes and order are kept exactly, for DKIM; every field also gets an
 * unfolded, RFC 2047-decoded UTF-8 value.  Usable on its own (milter, DKIM
 * tests) as well as by message_parse().
 */
#include <stdbool.h>
#include <stddef.h>

#include "mime/message.h"

struct arena;

struct mime_header_parser {
    const char *start;           /* first byte of the block */
    const char *pos;             /* next unread byte */
    const char *end;
    size_t max_bytes;
    size_t max_headers;
    size_t count;                /* fields returned so far */
    bool done;
    bool broken;                 /* junk line, stray continuation, no blank line */
    bool crlf;                   /* first line end seen was CRLF */
    bool eol_seen;
    size_t block_len;            /* once done: header bytes (no blank line) */
    size_t first_offset;         /* offset of the first field (after an mbox From line) */
    bool junk_ended;             /* a junk line ended the block (no blank line before body) */
    size_t body_offset;          /* once done: offset of the body from start */
};

void mime_header_parser_init(struct mime_header_parser *hp, const char *p, size_t len,
                             const struct mime_limits *limits);

/* Returns 1 and *hdr_r (arena-allocated, next = NULL) for a field, 0 at the
 * end of the block (then block_len / body_offset / broken are set), -1 when
 * the block exceeds max_bytes or max_headers (*error_r says which).  A junk
 * line (not a field, not a continuation) ends the block the way Postfix's
 * cleanup does: the body starts at that line and broken is set.  A leading
 * mbox "From " line is skipped silently. */
int mime_header_next(struct mime_header_parser *hp, struct arena *arena,
                     struct mime_header **hdr_r, const char **error_r);

/* Parses a whole block into a list.  Returns 0 or -1 like mime_header_next. */
int mime_header_parse_all(struct arena *arena, const char *p, size_t len,
                          const struct mime_limits *limits, struct mime_header **list_r,
                          size_t *count_r, struct mime_header_parser *state_r,
                          const char **error_r);

/* Unfolds, RFC 2047-decodes and trims a raw header value; the result is
 * NUL-terminated UTF-8 in the arena.  *bad_r is set when the value holds
 * 8-bit bytes that are not UTF-8 (converted lossily) or an encoded-word that
 * does not decode. */
char *mime_header_decode(struct arena *arena, const char *value, size_t len, bool *bad_r);

/* Unfolds a raw value (CR/LF dropped, NUL -> space) into a NUL-terminated
 * arena copy, not decoded; used for address and date parsing. */
char *mime_header_unfold(struct arena *arena, const char *value, size_t len, size_t *len_r);

#endif
