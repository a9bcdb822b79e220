#ifndef WINNOW_MODULES_HEUR_H
#define WINNOW_MODULES_HEUR_H
/*
 * Small helpers shared by the heuristic modules (headers.c, mime_types.c,
 * urls.c, gtube.c): reading `enabled` and numeric thresholds from a module
 * section that may be NULL, byte-class tests on length-carrying input,
 * finding an e-mail address inside free text, UTF-8 decoding and
 * organisational domains (libpsl).  Nothing here keeps
 * per-task state.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct conf_obj;
struct mime_header;

/* Reads `enabled` (default true).  -1 with *error_r on a wrong type. */
int heur_conf_enabled(const struct conf_obj *section, bool *enabled_r, const char **error_r);
/* Reads a number key with bounds; -1 with *error_r when out of bounds. */
int heur_conf_double(const struct conf_obj *section, struct arena *arena, const char *key,
                     double def, double min, double max, double *v_r, const char **error_r);

bool heur_has_8bit(const char *p, size_t len);
/* Control characters other than TAB/CR/LF, or bytes >= 0x80. */
bool heur_needs_encoding(const char *p, size_t len);
bool heur_is_blank(const char *p, size_t len);
bool heur_ieq(const char *a, const char *b);      /* both may be NULL: false */
bool heur_istarts(const char *s, const char *prefix);

/* Finds the first "local@domain.tld" in [p, p+len).  On success *addr_r
 * and *domain_r point into p (not NUL-terminated). */
bool heur_find_addr(const char *p, size_t len, const char **addr_r, size_t *addr_len_r,
                    const char **domain_r, size_t *domain_len_r);

/* Decodes one UTF-8 sequence at p (len > 0); returns its length (1 for an
 * invalid byte, which yields U+FFFD). */
size_t heur_utf8_next(const char *p, size_t len, uint32_t *cp_r);

/* Loads the public suffix list once per process (call from configure(), so
 * workers inherit it across fork). */
void heur_psl_init(void);
/* Registrable domain (eSLD) of a lower-case domain: a pointer into `domain`,
 * or `domain` itself when unknown. */
const char *heur_esld(const char *domain);

/* PCRE's \s and \w as Rspamd's regexps use them (no UCP: ASCII only). */
static inline bool heur_re_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool heur_re_word(char c)
{
    return (c >= '0' && c <= '9') || c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* A header value the way Rspamd 3.4 stores it for its regexp rules: each
 * line break, with the white space after it, becomes one space; NULs are
 * dropped; leading white space goes.  Raw (/X) rules match this text.
 * Returns a NUL-terminated arena copy; *len_r its length. */
const char *heur_rspamd_raw(struct arena *arena, const char *value, size_t len, size_t *len_r);
/* What Rspamd's decoded (/H, {header}) rules see: with an encoded-word,
 * the parser's decoded value; otherwise heur_rspamd_raw(), where a byte
 * that is not UTF-8 reads as U+FFFD (Rspamd guesses no charset for raw
 * 8-bit header text).  Either way ASCII controls then read as ' ' (white
 * space) or '?', as Rspamd's sanity check leaves them.  Arena copy. */
const char *heur_rspamd_text(struct arena *arena, const struct mime_header *h, size_t *len_r);

#endif
