#ifndef WINNOW_MIME_MIME_PRIVATE_H
#define WINNOW_MIME_MIME_PRIVATE_H
/*
 * Glue between the files of src/mime/; not for use outside this directory.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime/message.h"

struct arena;
struct url_set;

/* Effective limits (0 replaced by the defaults of message.h). */
struct mime_limits mime_limits_effective(const struct mime_limits *limits);

/* Grows an arena array of elem-sized items so that one more fits: returns
 * the (possibly moved) array and updates *cap (starts at min). */
void *mime_grow(struct arena *arena, void *old, size_t n, size_t *cap, size_t elem, size_t min);

/* text.c: UTF-8 helpers. */
bool utf8_valid(const char *p, size_t len);
bool mime_is_ascii(const char *p, size_t len);
/* Copies p into the arena as UTF-8: valid sequences kept, every invalid byte
 * taken as Latin-1 (lossy).  NUL-terminated. */
char *utf8_lossy(struct arena *arena, const char *p, size_t len, size_t *len_r);
/* Converts from the declared charset (NULL = us-ascii) to UTF-8.  An
 * unknown charset sets *charset_bad and falls back to utf8_lossy; bytes the
 * converter refuses become U+FFFD.  Result NUL-terminated in the arena. */
char *mime_to_utf8(struct arena *arena, const char *charset, const char *p, size_t len,
                   size_t *len_r, bool *charset_bad);
/* Removes zero-width characters (U+200B..U+200D, U+2060, U+FEFF) and soft
 * hyphens (U+00AD): returns p itself when there are none, else an arena
 * copy without them; *removed_r counts them. */
const char *mime_strip_invisible(struct arena *arena, const char *p, size_t len,
                                 size_t *len_r, size_t *removed_r);
/* Word count, whitespace-only, and mixed Latin + Cyrillic/Greek words. */
void mime_text_stats(const char *p, size_t len, size_t *nwords_r, bool *empty_r,
                     bool *mixed_r);
/* Decodes one UTF-8 sequence at p (len > 0); returns its length (1 for an
 * invalid byte, *cp_r = 0xFFFD). */
size_t utf8_next(const unsigned char *p, size_t len, uint32_t *cp_r);
/* Script classes used by the mixed-script checks. */
enum mime_script { SCRIPT_OTHER = 0, SCRIPT_LATIN = 1, SCRIPT_CYRILLIC = 2, SCRIPT_GREEK = 4 };
unsigned mime_script_of(uint32_t cp);

/* decode.c: transfer decodings into the arena (NUL-terminated).  *bad_r is
 * set when the input holds bytes the encoding does not allow. */
char *mime_base64_decode(struct arena *arena, const char *p, size_t len, size_t *len_r,
                         bool *bad_r);
char *mime_qp_decode(struct arena *arena, const char *p, size_t len, size_t *len_r,
                     bool *bad_r);

/* url_parse.c */
#define MIME_MAX_URL_LEN 8192    /* longer URL candidates are cut here */
/* Is label a known public suffix (no "*" default rule)?  true without a list. */
bool mime_psl_is_suffix(const char *label);

/* addr.c */
void mime_addrlist_parse(struct arena *arena, const char *value, size_t len,
                         struct mime_addrlist *list_r);
const char *mime_message_id(struct arena *arena, const char *value, size_t len);
int64_t mime_date_parse(struct arena *arena, const char *value, size_t len);

/* parts.c: builds msg->parts and msg->text_parts from GMime's tree and feeds
 * text to urls. */
void mime_parts_build(struct arena *arena, struct message *msg, const char *p, size_t len,
                      const struct mime_limits *limits, struct url_set *urls);

#endif
