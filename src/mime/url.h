#ifndef WINNOW_MIME_URL_H
#define WINNOW_MIME_URL_H
/*
 * URL and e-mail address extraction.  A url_set collects the URLs of one
 * message (unique by URL text, flags merged) and the e-mail addresses found
 * in its text (unique, lower-case), both capped.
 */
#include <stdbool.h>
#include <stddef.h>

#include "mime/message.h"

struct arena;
struct html_link;
struct url_set;

/* Parses one URL ("scheme://host...", "www.host...", "//host...") into u
 * (arena strings; u->url is a copy of the input).  Sets the host flags
 * (URL_HOST_IP, URL_HOST_NUMERIC, URL_HAS_USER, URL_OBFUSCATED) and tld.
 * An obfuscated numeric host ("http://0x7f.1/") is rewritten as the dotted
 * quad it means.  Returns -1 when there is no usable host. */
int url_parse(struct arena *arena, const char *p, size_t len, struct mime_url *u);

/* The registrable domain (eSLD) of a lower-case host, a pointer into host;
 * host itself when the public suffix list has no answer; NULL for an IP. */
const char *url_registrable_domain(const char *host);

struct url_set *url_set_new(struct arena *arena, size_t max_urls, size_t max_emails);
/* Finds http://, https://, ftp:// and www. URLs and e-mail addresses. */
void url_scan_text(struct url_set *set, const char *p, size_t len);
/* An <a href> or <img src>: adds the URL (or the mailto: address) and
 * compares a URL-looking anchor text with the href host (URL_PHISHED). */
void url_add_html_link(struct url_set *set, const struct html_link *link);
void url_set_export(const struct url_set *set, struct message *msg);

#endif
