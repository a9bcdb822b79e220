/*
 * header.c: the raw header-block reader.
 *
 * Reads an RFC 5322 header block from (p, len) with a cursor and an end,
 * never past len.  Each field keeps its exact raw bytes (name, colon,
 * folding, line ends) and document order, because DKIM hashes them as
 * received; each also gets a decoded value (unfolded, RFC 2047, UTF-8,
 * trimmed).  CRLF and bare LF are both line ends; a bare CR is an ordinary
 * byte.
 *
 * Owns nothing but arena memory.  Refuses a block larger than max_bytes or
 * with more than max_headers fields (-1).  Broken blocks are not refused:
 * a stray continuation line is skipped, a junk line ends the block (the body
 * starts there, as in Postfix's cleanup), a missing blank line is accepted;
 * each sets `broken`.
 */
#include "mime/header.h"

#include <string.h>

#include <gmime/gmime.h>

#include "core/arena.h"
#include "mime/mime_private.h"

void mime_header_parser_init(struct mime_header_parser *hp, const char *p, size_t len,
                             const struct mime_limits *limits)
{
    struct mime_limits lim = mime_limits_effective(limits);

    memset(hp, 0, sizeof(*hp));
    if (p == NULL) {
        p = "";
        len = 0;
    }
    hp->start = p;
    hp->pos = p;
    hp->end = p + len;
    hp->max_bytes = lim.max_header_bytes;
    hp->max_headers = lim.max_headers;
}

/* RFC 5322 ftext: printable ASCII except the colon. */
static inline bool is_ftext(unsigned char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

static inline bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* End of the line starting at p: *next_r is the first byte of the next line,
 * the return value the end of the content (before CR LF / LF). */
static const char *line_end(struct mime_header_parser *hp, const char *p, const char **next_r)
{
    const char *eol = memchr(p, '\n', (size_t)(hp->end - p));

    if (eol == NULL) {
        *next_r = hp->end;
        return hp->end;
    }
    *next_r = eol + 1;
    bool cr = eol > p && eol[-1] == '\r';
    if (!hp->eol_seen) {
        hp->eol_seen = true;
        hp->crlf = cr;
    }
    return cr ? eol - 1 : eol;
}

static void finish(struct mime_header_parser *hp, const char *block_end, const char *body)
{
    hp->done = true;
    hp->block_len = (size_t)(block_end - hp->start);
    hp->body_offset = (size_t)(body - hp->start);
    hp->pos = body;
}

/* Length of the field name at line (up to the colon), or 0 if the line is
 * not a field.  Whitespace between name and colon (obsolete syntax) is
 * accepted; *colon_r points at the colon. */
static size_t field_name(const char *line, const char *cend, const char **colon_r)
{
    const char *q = line;

    while (q < cend && is_ftext((unsigned char)*q))
        q++;
    size_t n = (size_t)(q - line);
    while (q < cend && is_wsp(*q))
        q++;
    if (n == 0 || q >= cend || *q != ':')
        return 0;
    *colon_r = q;
    return n;
}

static struct mime_header *make_field(struct arena *arena, const char *line, size_t name_len,
                                      const char *colon, const char *raw_end,
                                      const char *value_end)
{
    struct mime_header *h = ARENA_NEW(arena, struct mime_header);

    h->name = arena_strndup(arena, line, name_len);
    h->name_len = name_len;
    h->raw = line;
    h->raw_len = (size_t)(raw_end - line);
    h->value = colon + 1;
    h->value_len = (size_t)(value_end - (colon + 1));
    h->decoded = mime_header_decode(arena, h->value, h->value_len, &h->bad_encoding);
    return h;
}

int mime_header_next(struct mime_header_parser *hp, struct arena *arena,
                     struct mime_header **hdr_r, const char **error_r)
{
    *hdr_r = NULL;
    while (!hp->done) {
        const char *line = hp->pos, *next, *colon = NULL;

        if (line >= hp->end) {
            /* Ran out of input before the blank line. */
            hp->broken = true;
            finish(hp, hp->end, hp->end);
            break;
        }
        const char *cend = line_end(hp, line, &next);
        if (cend == line) {
            finish(hp, line, next);
            break;
        }
        if ((size_t)(next - hp->start) > hp->max_bytes) {
            *error_r = arena_printf(arena, "header block exceeds %zu bytes", hp->max_bytes);
            return -1;
        }
        if (is_wsp(*line)) {
            /* Continuation with no field before it. */
            hp->broken = true;
            hp->pos = next;
            continue;
        }
        if (line == hp->start && cend - line >= 5 && memcmp(line, "From ", 5) == 0) {
            hp->pos = next;      /* mbox separator */
            hp->first_offset = (size_t)(next - hp->start);
            continue;
        }
        size_t name_len = field_name(line, cend, &colon);
        if (name_len == 0) {
            hp->broken = true;
            hp->junk_ended = true;
            finish(hp, line, line);
            break;
        }
        /* Gather the continuation lines. */
        const char *value_end = cend;
        while (next < hp->end && is_wsp(*next)) {
            const char *n2;
            value_end = line_end(hp, next, &n2);
            next = n2;
            if ((size_t)(next - hp->start) > hp->max_bytes) {
                *error_r = arena_printf(arena, "header block exceeds %zu bytes",
                                        hp->max_bytes);
                return -1;
            }
        }
        if (++hp->count > hp->max_headers) {
            *error_r = arena_printf(arena, "more than %zu header fields", hp->max_headers);
            return -1;
        }
        *hdr_r = make_field(arena, line, name_len, colon, next, value_end);
        hp->pos = next;
        return 1;
    }
    return 0;
}

int mime_header_parse_all(struct arena *arena, const char *p, size_t len,
                          const struct mime_limits *limits, struct mime_header **list_r,
                          size_t *count_r, struct mime_header_parser *state_r,
                          const char **error_r)
{
    struct mime_header *head = NULL, **tail = &head, *h;
    int rc;

    mime_header_parser_init(state_r, p, len, limits);
    while ((rc = mime_header_next(state_r, arena, &h, error_r)) == 1) {
        *tail = h;
        tail = &h->next;
    }
    *list_r = head;
    *count_r = state_r->count;
    return rc;
}

char *mime_header_unfold(struct arena *arena, const char *value, size_t len, size_t *len_r)
{
    char *out = arena_alloc(arena, len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char c = value[i];
        if (c == '\r' || c == '\n')
            continue;
        out[n++] = c == '\0' ? ' ' : c;
    }
    out[n] = '\0';
    if (len_r != NULL)
        *len_r = n;
    return out;
}

/* Is there a complete encoded-word (=?cs?X?text?=) in s?  Used after
 * decoding: one that survived did not decode. */
static bool has_encoded_word(const char *s, size_t len)
{
    const char *p = s, *end = s + len;

    while ((p = memchr(p, '=', (size_t)(end - p))) != NULL && end - p >= 8) {
        if (p[1] == '?') {
            const char *q1 = memchr(p + 2, '?', (size_t)(end - p - 2));
            char enc = q1 != NULL && end - q1 >= 5 ? (char)(q1[1] | 0x20) : '\0';
            if ((enc == 'b' || enc == 'q') && q1[2] == '?') {
                const char *q2 = memchr(q1 + 3, '?', (size_t)(end - q1 - 3));
                if (q2 != NULL && q2 + 1 < end && q2[1] == '=')
                    return true;
            }
        }
        p++;
    }
    return false;
}

char *mime_header_decode(struct arena *arena, const char *value, size_t len, bool *bad_r)
{
    size_t n;
    char *u = mime_header_unfold(arena, value, len, &n);
    const char *s = u;

    *bad_r = false;
    while (n > 0 && is_wsp(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_wsp(s[n - 1]))
        n--;
    u[(s - u) + (ptrdiff_t)n] = '\0';

    bool ascii = mime_is_ascii(s, n);
    if (ascii && memchr(s, '=', n) == NULL)
        return (char *)s;                     /* the common case: nothing to decode */
    if (!ascii && !utf8_valid(s, n))
        *bad_r = true;
    bool had_ew = has_encoded_word(s, n);
    if (!*bad_r && !had_ew)
        return (char *)s;        /* ASCII or valid UTF-8 (RFC 6532): nothing to decode */

    mime_global_init();      /* usable without message_parse() (milter, tests) */
    char *dec = g_mime_utils_header_decode_text(NULL, s);
    if (dec == NULL)
        return *bad_r ? utf8_lossy(arena, s, n, NULL) : (char *)s;
    size_t dlen = strlen(dec);
    char *out = utf8_valid(dec, dlen) ? arena_strndup(arena, dec, dlen)
                                      : (*bad_r = true, utf8_lossy(arena, dec, dlen, NULL));
    g_free(dec);
    if (had_ew && has_encoded_word(out, strlen(out)))
        *bad_r = true;
    return out;
}
