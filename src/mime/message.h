#ifndef WINNOW_MIME_MESSAGE_H
#define WINNOW_MIME_MESSAGE_H
/*
 * A parsed message.  The header block is read by our own parser (raw bytes
 * and order kept, for DKIM); the MIME tree, transfer decoding and charset
 * conversion go through GMime 3.  Text parts are converted to UTF-8 and HTML
 * is reduced to text; URLs and e-mail addresses are extracted.  Everything is
 * allocated in the arena passed to message_parse(); GMime objects are
 * released by an arena cleanup.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

struct mime_limits {
    size_t max_header_bytes;     /* 0 = 1 MiB */
    size_t max_headers;          /* 0 = 10000 */
    unsigned max_depth;          /* 0 = 32 nested multiparts */
    size_t max_parts;            /* 0 = 1000 */
    size_t max_urls;             /* 0 = 10240 */
    size_t max_text_bytes;       /* 0 = 10 MiB of UTF-8 text kept per message */
};

struct mime_header {
    const char *name;            /* as written, NUL-terminated copy */
    size_t name_len;
    const char *raw;             /* whole field as received: "Name: value\r\n" incl. folding */
    size_t raw_len;
    const char *value;           /* raw value after the colon (folding kept, no final CRLF) */
    size_t value_len;
    const char *decoded;         /* unfolded, RFC 2047 decoded, UTF-8, trimmed */
    bool bad_encoding;           /* raw 8-bit or undecodable encoded-word */
    struct mime_header *next;    /* document order */
};

struct mime_address {
    const char *name;            /* display name, decoded UTF-8, NULL if none */
    const char *addr;            /* local@domain, NULL for a group/invalid */
    const char *local;
    const char *domain;          /* lower-cased */
    bool invalid;
};

struct mime_addrlist {
    struct mime_address *a;
    size_t n;
};

enum url_flags {
    URL_FROM_HTML = 1 << 0,      /* href/src in HTML */
    URL_FROM_TEXT = 1 << 1,      /* found in plain text */
    URL_HOST_IP = 1 << 2,        /* host is an IP literal */
    URL_HOST_NUMERIC = 1 << 3,   /* decimal/hex/octal obfuscated IP */
    URL_HAS_USER = 1 << 4,       /* user@host form */
    URL_OBFUSCATED = 1 << 5,     /* %-encoded host, IDN tricks ... */
    URL_PHISHED = 1 << 6,        /* anchor text shows another host than href */
    URL_IMAGE = 1 << 7,          /* <img src> */
};

struct mime_url {
    const char *url;             /* as found (trimmed) */
    const char *scheme;          /* lower-case */
    const char *host;            /* lower-case, IDN kept as is */
    const char *tld;             /* registrable domain suffix (eSLD), may be NULL */
    const char *anchor_host;     /* host shown in the <a> text when it looks like a URL */
    unsigned flags;
};

struct mime_part {
    const char *type;            /* lower-case, "text" */
    const char *subtype;         /* lower-case, "plain" */
    const char *charset;         /* declared, lower-case, NULL if none */
    const char *cte;             /* Content-Transfer-Encoding, lower-case, NULL */
    const char *filename;        /* NULL if none */
    bool is_multipart;
    bool is_attachment;          /* disposition attachment or has a filename */
    bool is_text;                /* text/plain or text/html, not an attachment */
    bool is_html;
    bool type_missing;           /* no Content-Type header */
    bool charset_bad;            /* declared charset unknown or conversion failed */
    bool cte_bad;                /* e.g. base64 that does not decode, 8bit in 7bit */
    unsigned depth;
    int parent;                  /* index into parts, -1 for the root */
    size_t raw_size;             /* encoded size of the content */
    size_t decoded_size;
    const struct mime_header *headers; /* part headers (NULL for root: use message) */

    /* Added by the mime work (fields above unchanged). */
    const char *content;         /* leaf parts: transfer-decoded bytes, charset not
                                    converted; binary, not NUL-terminated; NULL otherwise */
    size_t content_len;          /* == decoded_size */
    size_t nchildren;            /* direct children (multipart, message/rfc822) */
};

struct text_part {
    size_t part;                 /* index into parts */
    bool html;
    const char *utf8;            /* decoded content in UTF-8 (HTML still marked up) */
    size_t utf8_len;
    const char *text;            /* plain text (HTML reduced), UTF-8 */
    size_t text_len;
    size_t nwords;
    bool empty;                  /* only whitespace */
    bool mixed_scripts;          /* a word mixes Latin and Cyrillic/Greek letters */
    size_t html_images;          /* <img> count (HTML) */
    size_t html_links;           /* <a href> count (HTML) */

    /* Added by the mime work (fields above unchanged). */
    size_t invisible;            /* zero-width characters and soft hyphens removed from
                                    text (a word-splitting trick); utf8 keeps them */
};

struct message {
    struct mime_header *headers; /* top-level header block, document order */
    size_t nheaders;
    const char *raw_headers;     /* the header block bytes (without the blank line) */
    size_t raw_headers_len;
    const char *body;            /* bytes after the blank line */
    size_t body_len;
    bool crlf;                   /* the message uses CRLF line ends */
    bool header_block_broken;    /* junk line in headers, no blank line, ... */

    struct mime_part *parts;     /* parts[0] is the root */
    size_t nparts;
    struct text_part *text_parts;
    size_t ntext_parts;

    struct mime_url *urls;       /* unique by URL text */
    size_t nurls;
    const char **emails;         /* addresses found in text, unique, lower-case */
    size_t nemails;

    struct mime_addrlist from, to, cc, reply_to, sender;
    const char *message_id;      /* without <>, NULL when absent */
    const char *subject;         /* decoded, NULL when absent */
    int64_t date;                /* Unix time from Date:, -1 if absent/unparsable */
    bool date_present;

    /* Limits that cut the parse short (the message is still scanned). */
    bool parts_truncated;        /* more than max_parts parts, or nested deeper than max_depth */
    bool urls_truncated;         /* more than max_urls URLs or e-mail addresses */
    bool text_truncated;         /* text beyond max_text_bytes was dropped */
};

/* Parses len bytes (the message need not be NUL-terminated).  Never fails on
 * broken mail: problems are recorded in the flags above.  Returns -1 only
 * when a limit is exceeded (*error_r says which). */
int message_parse(struct arena *arena, const char *p, size_t len,
                  const struct mime_limits *limits, struct message **msg_r,
                  const char **error_r);

/* First header of that name (case-insensitive), or NULL. */
const struct mime_header *message_header(const struct message *msg, const char *name);
/* n-th (0-based) instance, or NULL. */
const struct mime_header *message_header_nth(const struct message *msg, const char *name,
                                             size_t n);
size_t message_header_count(const struct message *msg, const char *name);

/* Called once per process before any parse (g_mime_init). */
void mime_global_init(void);

#endif
