#ifndef WINNOW_MIME_HTML_H
#define WINNOW_MIME_HTML_H
/*
 * HTML reduced to text, by a small tokenizer of our own: tags stripped,
 * script/style/head content skipped, entities decoded, block tags turned
 * into line breaks, runs of whitespace collapsed; <a href> (with its anchor
 * text) and <img src> collected for URL extraction.
 */
#include <stdbool.h>
#include <stddef.h>

struct arena;

struct html_link {
    const char *href;            /* entity-decoded, trimmed, NUL-terminated */
    size_t href_len;
    const char *anchor;          /* text inside <a>...</a>, trimmed; "" for images */
    size_t anchor_len;
    bool image;                  /* <img src> */
};

struct html_text {
    char *text;                  /* UTF-8 if the input is, NUL-terminated */
    size_t len;
    struct html_link *links;     /* at most max_links */
    size_t nlinks;
    size_t nimages;              /* <img> tags */
    size_t nanchors;             /* <a href> tags */
};

/* Never fails; any input yields some text (possibly empty). */
void html_to_text(struct arena *arena, const char *p, size_t len, size_t max_links,
                  struct html_text *out);

#endif
