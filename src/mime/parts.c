/*
 * parts.c: the MIME tree, through GMime 3.
 *
 * A single-part message (no multipart or message Content-Type at the top)
 * is built from our own header block with GMime's small Content-Type and
 * Content-Disposition parsers: most mail is single-part, and GMime's full
 * parser plus its teardown would cost more than everything else.  Other
 * messages go to GMime's parser from a memory stream; we walk its tree once
 * (depth- and count-limited) and copy what the heuristics need into flat
 * arena structs: one struct mime_part per node, in document order, and one
 * struct text_part per text/plain or text/html part that is not an
 * attachment.  Transfer decoding is ours (decode.c) straight from the
 * message bytes: GMime's parser keeps each leaf's content as a window
 * (bound_start..bound_end) on the memory stream, which is a copy of the
 * message, so the same offsets index our own buffer.  Charset conversion
 * is text.c's (cached iconv), HTML html.c's, URLs and addresses url.c's.
 *
 * Owns the GMime message and stream: an arena cleanup unrefs them.
 * Refuses nothing: parts past max_parts or deeper than max_depth are left
 * out (parts_truncated), text past max_text_bytes is cut (text_truncated),
 * and input that would make GMime slow is cut first (gmime_cut below).
 * GMime's own parser stops nesting at 1024 levels, so its recursion is
 * bounded too.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "core/arena.h"
#include "core/str.h"
#include "mime/header.h"
#include "mime/html.h"
#include "mime/mime_private.h"
#include "mime/url.h"

struct walk {
    struct arena *arena;
    struct message *msg;
    struct mime_limits lim;
    const char *raw;             /* the whole message */
    size_t raw_len;
    GByteArray *ba;              /* the memory stream's buffer (same bytes as raw) */
    size_t cap_parts, cap_text;
    size_t text_used;
    struct url_set *urls;
    bool full;                   /* max_parts reached: stop walking */
};

static void unref_object(void *obj)
{
    g_object_unref(obj);
}

static char *lower_dup(struct arena *arena, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    const char *t = s;
    str_trim(&t, &n);
    char *d = arena_strndup(arena, t, n);
    str_lower(d, n);
    return d;
}

static bool cte_known(const char *cte)
{
    static const char *const known[] = {"7bit", "8bit", "binary", "quoted-printable", "base64",
                                        "x-uuencode", "uuencode", "x-uue", NULL};

    for (const char *const *k = known; *k != NULL; k++) {
        if (strcmp(cte, *k) == 0)
            return true;
    }
    return false;
}

/* Our header reader over the part's block, which starts at the offset GMime
 * recorded for the block's first field. */
static const struct mime_header *part_headers(struct walk *w, GMimeObject *obj)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(obj);

    if (hl == NULL || g_mime_header_list_get_count(hl) == 0)
        return NULL;
    gint64 off = g_mime_header_get_offset(g_mime_header_list_get_header_at(hl, 0));
    if (off < 0 || (guint64)off >= w->raw_len)
        return NULL;             /* UNSAFE otherwise: GMime's offset indexes raw */
    struct mime_header *list;
    struct mime_header_parser hp;
    size_t n;
    const char *err;
    if (mime_header_parse_all(w->arena, w->raw + off, w->raw_len - (size_t)off, &w->lim, &list,
                              &n, &hp, &err) < 0)
        return NULL;
    return list;
}

static int add_part(struct walk *w, int parent, unsigned depth)
{
    struct message *m = w->msg;

    m->parts = mime_grow(w->arena, m->parts, m->nparts, &w->cap_parts, sizeof(*m->parts), 8);
    struct mime_part *mp = &m->parts[m->nparts];
    memset(mp, 0, sizeof(*mp));
    mp->parent = parent;
    mp->depth = depth;
    if (parent >= 0)
        m->parts[parent].nchildren++;
    return (int)m->nparts++;
}

static void fill_type_ct(struct walk *w, struct mime_part *mp, GMimeContentType *ct,
                         const char *cte)
{
    mp->type = lower_dup(w->arena, ct ? g_mime_content_type_get_media_type(ct) : NULL);
    mp->subtype = lower_dup(w->arena, ct ? g_mime_content_type_get_media_subtype(ct) : NULL);
    if (mp->type == NULL)
        mp->type = "text";
    if (mp->subtype == NULL)
        mp->subtype = "plain";
    if (ct != NULL)
        mp->charset = lower_dup(w->arena, g_mime_content_type_get_parameter(ct, "charset"));
    if (mp->charset != NULL && *mp->charset == '\0')
        mp->charset = NULL;
    mp->cte = lower_dup(w->arena, cte);
    if (mp->cte != NULL && !cte_known(mp->cte))
        mp->cte_bad = true;
}

static void fill_type(struct walk *w, struct mime_part *mp, GMimeObject *obj)
{
    mp->type_missing = g_mime_object_get_header(obj, "Content-Type") == NULL;
    fill_type_ct(w, mp, g_mime_object_get_content_type(obj),
                 g_mime_object_get_header(obj, "Content-Transfer-Encoding"));
}

static void classify_leaf(struct mime_part *mp, const char *filename, bool disp_attachment)
{
    mp->is_attachment = filename != NULL || disp_attachment;
    mp->is_html = strcmp(mp->type, "text") == 0 && strcmp(mp->subtype, "html") == 0;
    mp->is_text = !mp->is_attachment && strcmp(mp->type, "text") == 0 &&
                  (mp->is_html || strcmp(mp->subtype, "plain") == 0);
    if (!mp->is_text)
        mp->is_html = false;
}

/* The leaf's encoded bytes: a window on our buffer when GMime kept the
 * content as a substream of the memory stream, else a copy. */
static const char *raw_content(struct walk *w, GMimeStream *s, size_t *len_r)
{
    /* UNSAFE: offsets come from GMime; they index our buffer only after the
     * range check below (same bytes: the stream is a copy of raw). */
    if (GMIME_IS_STREAM_MEM(s) && GMIME_STREAM_MEM(s)->buffer == w->ba) {
        gint64 start = s->bound_start;
        gint64 end = s->bound_end < 0 ? (gint64)w->raw_len : s->bound_end;
        if (start >= 0 && start <= end && (guint64)end <= w->raw_len) {
            *len_r = (size_t)(end - start);
            return w->raw + start;
        }
    }
    GByteArray *ba = g_byte_array_new();
    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(ba);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), TRUE);
    g_mime_stream_reset(s);
    g_mime_stream_write_to_stream(s, mem);
    const char *copy = arena_strndup(w->arena, (const char *)ba->data, ba->len);
    *len_r = ba->len;
    g_object_unref(mem);
    return copy;
}

static void decode_content(struct walk *w, struct mime_part *mp, GMimeContentEncoding enc_type,
                           const char *raw, size_t len)
{
    bool bad = false;
    size_t n = len;
    const char *out;

    switch (enc_type) {
    case GMIME_CONTENT_ENCODING_BASE64:
        out = mime_base64_decode(w->arena, raw, len, &n, &bad);
        break;
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
        out = mime_qp_decode(w->arena, raw, len, &n, &bad);
        break;
    case GMIME_CONTENT_ENCODING_UUENCODE: {
        GMimeEncoding enc;
        g_mime_encoding_init_decode(&enc, GMIME_CONTENT_ENCODING_UUENCODE);
        char *buf = arena_alloc(w->arena, g_mime_encoding_outlen(&enc, len) + 1);
        n = g_mime_encoding_flush(&enc, raw, len, buf);
        buf[n] = '\0';
        out = buf;
        break;
    }
    case GMIME_CONTENT_ENCODING_7BIT:
        /* 8-bit data declared 7bit.  Without a declaration (DEFAULT) 8-bit
         * bodies are too common in legitimate mail to count as bad. */
        bad = !mime_is_ascii(raw, len);
        /* fall through */
    default:
        out = raw;
        break;
    }
    mp->cte_bad |= bad;
    mp->content = out;
    mp->content_len = n;
    mp->decoded_size = n;
}

/* Cuts text to what is left of the per-message budget, at a UTF-8
 * character boundary. */
static size_t text_budget(struct walk *w, const char *p, size_t len)
{
    size_t left = w->lim.max_text_bytes - w->text_used;

    if (len <= left) {
        w->text_used += len;
        return len;
    }
    w->msg->text_truncated = true;
    while (left > 0 && ((unsigned char)p[left] & 0xC0) == 0x80)
        left--;
    w->text_used += left;
    return left;
}

static bool is_charset_char(char c)
{
    return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':' || c == '.';
}

/* An HTML part with no charset parameter whose bytes are not UTF-8 often
 * names its charset in a <meta> tag: take "charset=NAME" from the first
 * 2 KB.  NULL when there is none. */
static const char *meta_charset(struct arena *arena, const char *p, size_t len)
{
    size_t n = len < 2048 ? len : 2048;
    long off = str_isearch(p, n, "charset=", 8);

    if (off < 0)
        return NULL;
    const char *q = p + off + 8, *end = p + n;
    while (q < end && (*q == '"' || *q == '\'' || *q == ' '))
        q++;
    const char *s = q;
    while (q < end && q - s < 32 && is_charset_char(*q))
        q++;
    if (q == s)
        return NULL;
    char *cs = arena_strndup(arena, s, (size_t)(q - s));
    str_lower(cs, (size_t)(q - s));
    return cs;
}

static void add_text_part(struct walk *w, int idx)
{
    struct message *m = w->msg;
    struct mime_part *mp = &m->parts[idx];
    size_t ulen;
    bool cbad = false;
    const char *cs = mp->charset;

    if (cs == NULL && mp->is_html && !utf8_valid(mp->content, mp->content_len))
        cs = meta_charset(w->arena, mp->content, mp->content_len);
    char *u = mime_to_utf8(w->arena, cs, mp->content, mp->content_len, &ulen, &cbad);

    mp = &m->parts[idx];
    mp->charset_bad |= cbad;
    ulen = text_budget(w, u, ulen);
    u[ulen] = '\0';
    /* NULs would cut the text short for every C-string consumer. */
    for (char *z = memchr(u, '\0', ulen); z != NULL; z = memchr(z, '\0', ulen - (size_t)(z - u)))
        *z = ' ';

    m->text_parts = mime_grow(w->arena, m->text_parts, m->ntext_parts, &w->cap_text,
                              sizeof(*m->text_parts), 4);
    struct text_part *tp = &m->text_parts[m->ntext_parts++];
    memset(tp, 0, sizeof(*tp));
    tp->part = (size_t)idx;
    tp->html = mp->is_html;
    tp->utf8 = u;
    tp->utf8_len = ulen;
    if (tp->html) {
        struct html_text ht;
        html_to_text(w->arena, u, ulen, w->lim.max_urls, &ht);
        tp->text = ht.text;
        tp->text_len = ht.len;
        tp->html_images = ht.nimages;
        tp->html_links = ht.nanchors;
        for (size_t i = 0; i < ht.nlinks; i++)
            url_add_html_link(w->urls, &ht.links[i]);
    } else {
        tp->text = u;
        tp->text_len = ulen;
    }
    tp->text = mime_strip_invisible(w->arena, tp->text, tp->text_len, &tp->text_len,
                                    &tp->invisible);
    url_scan_text(w->urls, tp->text, tp->text_len);
    mime_text_stats(tp->text, tp->text_len, &tp->nwords, &tp->empty, &tp->mixed_scripts);
}

static void fill_leaf(struct walk *w, int idx, GMimePart *part)
{
    struct mime_part *mp = &w->msg->parts[idx];
    const char *fn = g_mime_part_get_filename(part);
    GMimeContentDisposition *disp = g_mime_object_get_content_disposition(GMIME_OBJECT(part));

    if (fn != NULL && *fn != '\0')
        mp->filename = arena_strdup(w->arena, fn);
    classify_leaf(mp, mp->filename,
                  disp != NULL && g_mime_content_disposition_is_attachment(disp));

    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *s = dw != NULL ? g_mime_data_wrapper_get_stream(dw) : NULL;
    if (s == NULL) {
        mp->content = "";
        if (mp->is_text)
            add_text_part(w, idx);
        return;
    }
    size_t len;
    const char *raw = raw_content(w, s, &len);
    mp = &w->msg->parts[idx];
    mp->raw_size = len;
    decode_content(w, mp, g_mime_data_wrapper_get_encoding(dw), raw, len);
    if (mp->is_text)
        add_text_part(w, idx);
}

static void walk(struct walk *w, GMimeObject *obj, int parent, unsigned depth,
                 const struct mime_header *hdrs);

static void walk_children(struct walk *w, GMimeObject *obj, int idx, unsigned depth)
{
    if (depth + 1 > w->lim.max_depth) {
        w->msg->parts_truncated = true;
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n && !w->full; i++) {
            GMimeObject *child = g_mime_multipart_get_part(mp, i);
            walk(w, child, idx, depth + 1, part_headers(w, child));
        }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        GMimeObject *body = inner != NULL ? g_mime_message_get_mime_part(inner) : NULL;
        if (body != NULL)
            walk(w, body, idx, depth + 1, part_headers(w, GMIME_OBJECT(inner)));
    }
}

static void walk(struct walk *w, GMimeObject *obj, int parent, unsigned depth,
                 const struct mime_header *hdrs)
{
    if (w->msg->nparts >= w->lim.max_parts) {
        w->msg->parts_truncated = true;
        w->full = true;
        return;
    }
    int idx = add_part(w, parent, depth);
    struct mime_part *mp = &w->msg->parts[idx];
    mp->headers = hdrs;
    fill_type(w, mp, obj);
    if (GMIME_IS_MULTIPART(obj)) {
        mp->is_multipart = true;
        walk_children(w, obj, idx, depth);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        walk_children(w, obj, idx, depth);
    } else if (GMIME_IS_PART(obj)) {
        fill_leaf(w, idx, GMIME_PART(obj));
    }
}

static const char *header_cstr(struct walk *w, const char *name)
{
    const struct mime_header *h = message_header(w->msg, name);

    return h != NULL ? mime_header_unfold(w->arena, h->value, h->value_len, NULL) : NULL;
}

/* Most mail is a single part.  For it GMime's full parser (objects,
 * header lists, streams, then their teardown) costs more than everything
 * else together, so the root part is built from our own header block with
 * GMime's small Content-Type / Content-Disposition parsers.  Returns false
 * (nothing done) for multipart and message types: those take the full
 * parser. */
static bool single_part(struct walk *w, const char *body, size_t body_len)
{
    const char *ctv = header_cstr(w, "Content-Type");
    GMimeContentType *ct = ctv != NULL ? g_mime_content_type_parse(NULL, ctv) : NULL;
    const char *type = ct != NULL ? g_mime_content_type_get_media_type(ct) : NULL;

    if (ctv != NULL && (type == NULL || g_ascii_strcasecmp(type, "multipart") == 0 ||
                        g_ascii_strcasecmp(type, "message") == 0)) {
        if (ct != NULL)
            g_object_unref(ct);
        return false;
    }
    int idx = add_part(w, -1, 0);
    struct mime_part *mp = &w->msg->parts[idx];
    mp->type_missing = ctv == NULL;
    fill_type_ct(w, mp, ct, header_cstr(w, "Content-Transfer-Encoding"));

    const char *dv = header_cstr(w, "Content-Disposition");
    GMimeContentDisposition *disp = dv != NULL ? g_mime_content_disposition_parse(NULL, dv) : NULL;
    const char *fn = disp != NULL ? g_mime_content_disposition_get_parameter(disp, "filename")
                                  : NULL;
    if ((fn == NULL || *fn == '\0') && ct != NULL)
        fn = g_mime_content_type_get_parameter(ct, "name");
    if (fn != NULL && *fn != '\0')
        mp->filename = arena_strdup(w->arena, fn);
    classify_leaf(mp, mp->filename,
                  disp != NULL && g_mime_content_disposition_is_attachment(disp));
    if (disp != NULL)
        g_object_unref(disp);
    if (ct != NULL)
        g_object_unref(ct);

    GMimeContentEncoding enc = mp->cte != NULL ? g_mime_content_encoding_from_string(mp->cte)
                                               : GMIME_CONTENT_ENCODING_DEFAULT;
    mp->raw_size = body_len;
    decode_content(w, mp, enc, body, body_len);
    if (mp->is_text)
        add_text_part(w, idx);
    return true;
}

/* No tree from GMime: the body is one text/plain part. */
static void fallback_root(struct walk *w, const char *body, size_t body_len)
{
    int idx = add_part(w, -1, 0);
    struct mime_part *mp = &w->msg->parts[idx];

    mp->type = "text";
    mp->subtype = "plain";
    mp->type_missing = true;
    mp->is_text = true;
    mp->content = body;
    mp->content_len = mp->raw_size = mp->decoded_size = body_len;
    add_text_part(w, idx);
}

/* GMime's cost is not linear in every input: it checks each line that
 * starts with "--" against the whole stack of open boundaries (quadratic
 * in the nesting: 20000 levels in 1 MB took a second of CPU), and it builds
 * a GObject for every part and every header line (150000 empty parts in
 * 1 MB: 0.9 s).  So before GMime sees the message we count, line by line,
 * "boundary" parameters, delimiter-like lines and header-like lines, and
 * cut the input at the start of the line where one count passes its
 * budget.  Real mail stays far below; a cut sets parts_truncated. */
struct gmime_budget {
    size_t boundaries;           /* 2 * max_depth */
    size_t dash_lines;           /* 2 * max_parts */
    size_t header_lines;         /* max_headers */
};

static bool has_boundary_word(const char *p, size_t len)
{
    static const char word[] = "boundary";

    for (size_t i = 7; i < len; i++) {
        if (((unsigned char)p[i] | 0x20) != 'y')
            continue;
        size_t k = 0;
        while (k < 7 && ((unsigned char)p[i - 7 + k] | 0x20) == (unsigned char)word[k])
            k++;
        if (k == 7)
            return true;
    }
    return false;
}

static bool header_like(const char *p, size_t len)
{
    for (size_t i = 0; i < len && i < 78; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ':')
            return i > 0;
        if (c <= ' ' || c >= 127)
            return false;
    }
    return false;
}

static size_t gmime_cut(const char *p, size_t len, struct gmime_budget b)
{
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - p) + 1 : len;
        const char *line = p + pos;
        size_t ll = end - pos;
        if (ll >= 2 && line[0] == '-' && line[1] == '-' && b.dash_lines-- == 0)
            return pos;
        if (header_like(line, ll) && b.header_lines-- == 0)
            return pos;
        if (has_boundary_word(line, ll) && b.boundaries-- == 0)
            return pos;
        pos = end;
    }
    return len;
}

void mime_parts_build(struct arena *arena, struct message *msg, const char *p, size_t len,
                      const struct mime_limits *limits, struct url_set *urls)
{
    struct walk w = {
        .arena = arena, .msg = msg, .lim = *limits, .raw = p, .raw_len = len, .urls = urls,
    };

    if (single_part(&w, msg->body, msg->body_len))
        return;
    struct gmime_budget budget = {2 * (size_t)w.lim.max_depth, 2 * w.lim.max_parts,
                                  w.lim.max_headers};
    size_t cut = gmime_cut(p, len, budget);
    if (cut < len) {
        msg->parts_truncated = true;
        len = w.raw_len = cut;
    }
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(p, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);

    /* The stream outlives the parser: leaf contents are windows on it.
     * Cleanups run in reverse order, so the message goes first. */
    arena_cleanup_add(arena, unref_object, stream);
    w.ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
    g_mime_parser_set_persist_stream(parser, TRUE);
    GMimeMessage *gm = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    GMimeObject *root = NULL;
    if (gm != NULL) {
        arena_cleanup_add(arena, unref_object, gm);
        root = g_mime_message_get_mime_part(gm);
    }
    if (root != NULL)
        walk(&w, root, -1, 0, NULL);
    else
        fallback_root(&w, msg->body, msg->body_len);
}
