/*
 * message.c: message_parse(), the entry point of src/mime/.
 *
 * Order of work: our header reader takes the top-level block (raw bytes,
 * order, decoded values; the only step that can refuse the message, when
 * it exceeds the header limits), the address / Message-ID / Subject / Date
 * fields are read from it, then parts.c builds the MIME tree through GMime
 * and feeds every text part to the URL and e-mail extractor.
 *
 * Owns nothing beyond the arena and what parts.c registers on it.  The
 * process-wide state (GMime, the public suffix list) is set up once by
 * mime_global_init(); message_parse() calls it if nobody did.
 */
#include "mime/message.h"

#include <string.h>

#include <gmime/gmime.h>

#include "core/arena.h"
#include "core/str.h"
#include "mime/header.h"
#include "mime/mime_private.h"
#include "mime/url.h"

static bool global_done;

void mime_global_init(void)
{
    if (global_done)
        return;
    global_done = true;
    g_mime_init();
    (void)url_registrable_domain("example.com");  /* loads the suffix list now, not mid-scan */
}

struct mime_limits mime_limits_effective(const struct mime_limits *limits)
{
    struct mime_limits l;

    if (limits != NULL)
        l = *limits;
    else
        memset(&l, 0, sizeof(l));
    if (l.max_header_bytes == 0)
        l.max_header_bytes = 1024 * 1024;
    if (l.max_headers == 0)
        l.max_headers = 10000;
    if (l.max_depth == 0)
        l.max_depth = 32;
    if (l.max_parts == 0)
        l.max_parts = 1000;
    if (l.max_urls == 0)
        l.max_urls = 10240;
    if (l.max_text_bytes == 0)
        l.max_text_bytes = 10 * 1024 * 1024;
    return l;
}

/* Appends the addresses of another instance of To/Cc to the list. */
static void addr_merge(struct arena *arena, struct mime_addrlist *dst,
                       const struct mime_addrlist *src)
{
    if (src->n == 0)
        return;
    if (dst->n == 0) {
        *dst = *src;
        return;
    }
    struct mime_address *a = ARENA_NEW_N(arena, struct mime_address, dst->n + src->n);
    memcpy(a, dst->a, dst->n * sizeof(*a));
    memcpy(a + dst->n, src->a, src->n * sizeof(*a));
    dst->a = a;
    dst->n += src->n;
}

static void envelope_field(struct arena *arena, struct message *msg, const struct mime_header *h,
                           bool *seen)
{
    const char *n = h->name;
    size_t nl = h->name_len;
    struct mime_addrlist l;

    /* seen[]: From, Reply-To, Sender, Message-ID, Subject, Date (first wins). */
    if (str_ieq_cstr(n, nl, "From") && !seen[0]) {
        seen[0] = true;
        mime_addrlist_parse(arena, h->value, h->value_len, &msg->from);
    } else if (str_ieq_cstr(n, nl, "To") || str_ieq_cstr(n, nl, "Cc")) {
        mime_addrlist_parse(arena, h->value, h->value_len, &l);
        addr_merge(arena, (n[0] | 0x20) == 't' ? &msg->to : &msg->cc, &l);
    } else if (str_ieq_cstr(n, nl, "Reply-To") && !seen[1]) {
        seen[1] = true;
        mime_addrlist_parse(arena, h->value, h->value_len, &msg->reply_to);
    } else if (str_ieq_cstr(n, nl, "Sender") && !seen[2]) {
        seen[2] = true;
        mime_addrlist_parse(arena, h->value, h->value_len, &msg->sender);
    } else if (str_ieq_cstr(n, nl, "Message-ID") && !seen[3]) {
        seen[3] = true;
        msg->message_id = mime_message_id(arena, h->value, h->value_len);
    } else if (str_ieq_cstr(n, nl, "Subject") && !seen[4]) {
        seen[4] = true;
        msg->subject = h->decoded;
    } else if (str_ieq_cstr(n, nl, "Date") && !seen[5]) {
        seen[5] = true;
        msg->date_present = true;
        msg->date = mime_date_parse(arena, h->value, h->value_len);
    }
}

/* What GMime is given: the message from its first field on (an mbox From
 * line would read as a broken header), and when a junk line ended our
 * header block, a copy with the blank line put back, so that GMime sees
 * the same header/body split as we do. */
static void gmime_view(struct arena *arena, const struct mime_header_parser *hp,
                       const char **p, size_t *len)
{
    const char *s = *p + hp->first_offset;
    size_t n = *len - hp->first_offset;

    if (hp->junk_ended) {
        size_t head = hp->block_len - hp->first_offset;
        const char *eol = hp->crlf ? "\r\n" : "\n";
        size_t el = strlen(eol);
        char *copy = arena_alloc(arena, n + el);
        memcpy(copy, s, head);
        memcpy(copy + head, eol, el);
        memcpy(copy + head + el, s + head, n - head);
        s = copy;
        n += el;
    }
    *p = s;
    *len = n;
}

int message_parse(struct arena *arena, const char *p, size_t len,
                  const struct mime_limits *limits, struct message **msg_r,
                  const char **error_r)
{
    struct mime_limits lim = mime_limits_effective(limits);
    struct message *msg = ARENA_NEW(arena, struct message);
    struct mime_header_parser hp;
    bool seen[6] = {false};

    mime_global_init();
    *msg_r = NULL;
    if (p == NULL) {
        p = "";                  /* no pointer arithmetic on NULL below */
        len = 0;
    }
    msg->date = -1;
    if (mime_header_parse_all(arena, p, len, &lim, &msg->headers, &msg->nheaders, &hp,
                              error_r) < 0)
        return -1;
    msg->raw_headers = p + hp.first_offset;      /* an mbox From line is not a header */
    msg->raw_headers_len = hp.block_len - hp.first_offset;
    msg->body = p + hp.body_offset;
    msg->body_len = len - hp.body_offset;
    msg->crlf = hp.crlf;
    msg->header_block_broken = hp.broken;
    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next)
        envelope_field(arena, msg, h, seen);

    struct url_set *urls = url_set_new(arena, lim.max_urls, lim.max_urls);
    const char *gp = p;
    size_t glen = len;
    gmime_view(arena, &hp, &gp, &glen);
    mime_parts_build(arena, msg, gp, glen, &lim, urls);
    url_set_export(urls, msg);
    *msg_r = msg;
    return 0;
}

const struct mime_header *message_header_nth(const struct message *msg, const char *name,
                                             size_t n)
{
    size_t nl = strlen(name);

    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next) {
        if (str_ieq(h->name, h->name_len, name, nl) && n-- == 0)
            return h;
    }
    return NULL;
}

const struct mime_header *message_header(const struct message *msg, const char *name)
{
    return message_header_nth(msg, name, 0);
}

size_t message_header_count(const struct message *msg, const char *name)
{
    size_t nl = strlen(name), count = 0;

    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next)
        count += str_ieq(h->name, h->name_len, name, nl);
    return count;
}
