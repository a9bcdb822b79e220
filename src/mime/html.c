/*
 * html.c: HTML reduced to text, by a one-pass tokenizer of our own.
 *
 * What a reader of the message would see is what the text heuristics and
 * the word list want: tags are dropped, the contents of script, style,
 * title and head are skipped, entities (named, decimal, hex) are decoded,
 * block-level tags become line breaks, and whitespace runs collapse to one
 * space as a browser renders them.  Along the way <a href> (with the text
 * inside the anchor, for the phishing check) and <img src> are collected.
 *
 * It is not an HTML parser: no tree, no error recovery beyond "keep going",
 * no CSS (text hidden by style is still text).  An unterminated tag or
 * comment swallows the rest of the input, as in a browser.  Owns arena
 * memory only; output grows with arena_realloc, never per byte.
 */
#include "mime/html.h"

#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "mime/mime_private.h"

#define MAX_ANCHOR_TEXT 1024     /* enough to see which host the text shows */

struct out {
    struct arena *arena;
    char *p;
    size_t len, cap;
    bool space;                  /* a collapsed space is pending */
};

struct hstate {
    struct arena *arena;
    struct out o;
    const char *end;
    bool in_head;
    bool in_a;
    const char *a_href;
    size_t a_href_len;
    size_t a_start;
    struct html_text *res;
    size_t max_links;
    size_t links_cap;
};

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

static inline bool is_alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static void out_reserve(struct out *o, size_t n)
{
    if (o->cap - o->len >= n + 2)
        return;
    size_t ncap = (o->cap + n + 2) * 2;
    o->p = arena_realloc(o->arena, o->p, o->cap, ncap);
    o->cap = ncap;
}

static void out_put(struct out *o, const char *s, size_t n)
{
    out_reserve(o, n + 1);
    if (o->space) {
        o->space = false;
        if (o->len > 0 && o->p[o->len - 1] != '\n' && o->p[o->len - 1] != ' ')
            o->p[o->len++] = ' ';
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* A line break for a block tag: at most one in a row.  <br> forces one. */
static void out_newline(struct out *o, bool force)
{
    o->space = false;
    while (o->len > 0 && o->p[o->len - 1] == ' ')
        o->len--;
    if (o->len == 0 || (!force && o->p[o->len - 1] == '\n'))
        return;
    out_reserve(o, 1);
    o->p[o->len++] = '\n';
}

static size_t utf8_encode(uint32_t cp, char *buf)
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

struct entity {
    const char *name;
    uint32_t cp;                 /* 0: decodes to nothing (soft hyphen, zero-width) */
};

/* The entities mail actually uses; case-sensitive as in HTML. */
static const struct entity entities[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", ' '},
    {"ensp", ' '}, {"emsp", ' '}, {"thinsp", ' '}, {"shy", 0}, {"zwnj", 0}, {"zwj", 0},
    {"copy", 0xA9}, {"reg", 0xAE}, {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014},
    {"ndash", 0x2013}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D}, {"sbquo", 0x201A}, {"bdquo", 0x201E}, {"bull", 0x2022},
    {"middot", 0xB7}, {"euro", 0x20AC}, {"pound", 0xA3}, {"yen", 0xA5}, {"cent", 0xA2},
    {"sect", 0xA7}, {"deg", 0xB0}, {"plusmn", 0xB1}, {"times", 0xD7}, {"divide", 0xF7},
    {"laquo", 0xAB}, {"raquo", 0xBB}, {"iexcl", 0xA1}, {"iquest", 0xBF}, {"para", 0xB6},
    {"micro", 0xB5}, {"frac12", 0xBD}, {"frac14", 0xBC}, {"frac34", 0xBE}, {"uml", 0xA8},
    {"acute", 0xB4}, {"ordf", 0xAA}, {"ordm", 0xBA}, {"sup2", 0xB2}, {"sup3", 0xB3},
    {"Agrave", 0xC0}, {"Aacute", 0xC1}, {"Acirc", 0xC2}, {"Atilde", 0xC3}, {"Auml", 0xC4},
    {"Aring", 0xC5}, {"AElig", 0xC6}, {"Ccedil", 0xC7}, {"Egrave", 0xC8}, {"Eacute", 0xC9},
    {"Ecirc", 0xCA}, {"Euml", 0xCB}, {"Igrave", 0xCC}, {"Iacute", 0xCD}, {"Icirc", 0xCE},
    {"Iuml", 0xCF}, {"ETH", 0xD0}, {"Ntilde", 0xD1}, {"Ograve", 0xD2}, {"Oacute", 0xD3},
    {"Ocirc", 0xD4}, {"Otilde", 0xD5}, {"Ouml", 0xD6}, {"Oslash", 0xD8}, {"Ugrave", 0xD9},
    {"Uacute", 0xDA}, {"Ucirc", 0xDB}, {"Uuml", 0xDC}, {"Yacute", 0xDD}, {"THORN", 0xDE},
    {"szlig", 0xDF}, {"agrave", 0xE0}, {"aacute", 0xE1}, {"acirc", 0xE2}, {"atilde", 0xE3},
    {"auml", 0xE4}, {"aring", 0xE5}, {"aelig", 0xE6}, {"ccedil", 0xE7}, {"egrave", 0xE8},
    {"eacute", 0xE9}, {"ecirc", 0xEA}, {"euml", 0xEB}, {"igrave", 0xEC}, {"iacute", 0xED},
    {"icirc", 0xEE}, {"iuml", 0xEF}, {"eth", 0xF0}, {"ntilde", 0xF1}, {"ograve", 0xF2},
    {"oacute", 0xF3}, {"ocirc", 0xF4}, {"otilde", 0xF5}, {"ouml", 0xF6}, {"oslash", 0xF8},
    {"ugrave", 0xF9}, {"uacute", 0xFA}, {"ucirc", 0xFB}, {"uuml", 0xFC}, {"yacute", 0xFD},
    {"thorn", 0xFE}, {"yuml", 0xFF},
};

/* HTML5 maps numeric references 0x80..0x9F through windows-1252. */
static const uint16_t cp1252_c1[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

static uint32_t numeric_cp(uint32_t cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    if (cp >= 0x80 && cp <= 0x9F)
        return cp1252_c1[cp - 0x80];
    if (cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0xFEFF || cp == 0xAD)
        return 0;                /* invisible: would split words */
    return cp;
}

/* Parses a character reference at p ('&'); returns the bytes consumed (0 if
 * it is not one) and writes the UTF-8 into buf (up to 4 bytes, *n_r). */
static size_t entity_parse(const char *p, const char *end, char *buf, size_t *n_r)
{
    const char *q = p + 1;
    uint32_t cp = 0;

    if (q < end && *q == '#') {
        q++;
        bool hex = q < end && (*q | 0x20) == 'x';
        q += hex;
        const char *ds = q;
        while (q < end && q - ds < 8) {
            int v;
            unsigned char c = (unsigned char)*q;
            if (c >= '0' && c <= '9')
                v = c - '0';
            else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                v = (c | 0x20) - 'a' + 10;
            else
                break;
            cp = cp * (hex ? 16 : 10) + (uint32_t)v;
            q++;
        }
        if (q == ds)
            return 0;
        while (q < end && ((*q >= '0' && *q <= '9') || (hex && is_alpha((unsigned char)*q) &&
                                                        (*q | 0x20) <= 'f'))) {
            q++;                 /* absurdly long number: consume, U+FFFD */
            cp = 0x110000;
        }
        cp = numeric_cp(cp);
    } else {
        const char *ns = q;
        while (q < end && q - ns < 8 && (is_alpha((unsigned char)*q) || (*q >= '0' && *q <= '9')))
            q++;
        size_t nl = (size_t)(q - ns);
        size_t i;
        if (nl == 0)
            return 0;
        for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
            if (entities[i].name[0] == *ns && strncmp(entities[i].name, ns, nl) == 0 &&
                entities[i].name[nl] == '\0')
                break;
        }
        if (nl == 0 || i == sizeof(entities) / sizeof(entities[0]))
            return 0;
        cp = entities[i].cp;
    }
    if (q < end && *q == ';')
        q++;
    *n_r = cp == 0 ? 0 : utf8_encode(cp, buf);
    return (size_t)(q - p);
}

/* Decodes entities in an attribute value, drops the whitespace browsers
 * strip from URLs (CR, LF, tab) and trims; NUL-terminated arena copy. */
static char *attr_decode(struct arena *arena, const char *p, size_t len, size_t *len_r)
{
    char *out = arena_alloc(arena, len + 1);
    const char *end = p + len;
    size_t o = 0;

    while (p < end) {
        char buf[4];
        size_t n, used;
        if (*p == '&' && (used = entity_parse(p, end, buf, &n)) > 0 && n <= used) {
            memcpy(out + o, buf, n);
            o += n;
            p += used;
            continue;
        }
        if (*p != '\r' && *p != '\n' && *p != '\t' && *p != '\0')
            out[o++] = *p;
        p++;
    }
    const char *s = out;
    str_trim(&s, &o);
    *len_r = o;
    return arena_strndup(arena, s, o);
}

static void add_link(struct hstate *st, const char *href, size_t hlen, const char *anchor,
                     size_t alen, bool image)
{
    struct html_text *r = st->res;

    if (r->nlinks >= st->max_links)
        return;
    r->links = mime_grow(st->arena, r->links, r->nlinks, &st->links_cap, sizeof(*r->links), 16);
    struct html_link *l = &r->links[r->nlinks++];
    l->href = attr_decode(st->arena, href, hlen, &l->href_len);
    l->anchor = arena_strndup(st->arena, anchor, alen);
    l->anchor_len = alen;
    l->image = image;
}

static void close_anchor(struct hstate *st)
{
    if (!st->in_a)
        return;
    st->in_a = false;
    const char *a = st->o.p + st->a_start;
    size_t alen = st->o.len - st->a_start;
    str_trim(&a, &alen);
    if (alen > MAX_ANCHOR_TEXT)
        alen = MAX_ANCHOR_TEXT;
    add_link(st, st->a_href, st->a_href_len, a, alen, false);
}

static bool name_in(const char *name, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (name[0] == (*list)[0] && strcmp(name, *list) == 0)
            return true;
    }
    return false;
}

static const char *const block_tags[] = {
    "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
    "blockquote", "pre", "hr", "dl", "dt", "dd", "center", "form", "section", "article",
    "header", "footer", "nav", "address", "tbody", "thead", "tfoot", "caption", NULL,
};
static const char *const head_tags[] = {
    "title", "meta", "link", "style", "script", "base", "noscript", "head", "html", NULL,
};

/* After an opening <script>, <style> or <title>: the raw text up to its
 * closing tag is skipped.  Returns where parsing resumes. */
static const char *skip_raw_text(const char *q, const char *end, const char *name)
{
    char pat[16];
    size_t n = strlen(name);

    pat[0] = '<';
    pat[1] = '/';
    memcpy(pat + 2, name, n);
    long off = str_isearch(q, (size_t)(end - q), pat, n + 2);
    return off < 0 ? end : q + off;
}

struct tag {
    char name[16];
    bool closing;
    const char *href, *src;
    size_t href_len, src_len;
};

/* Reads attributes up to the closing '>'; returns the byte after it, or
 * NULL when the tag is not terminated. */
static const char *parse_attrs(const char *q, const char *end, struct tag *t)
{
    for (;;) {
        while (q < end && (is_ws((unsigned char)*q) || *q == '/'))
            q++;
        if (q >= end)
            return NULL;
        if (*q == '>')
            return q + 1;
        const char *an = q;
        while (q < end && !is_ws((unsigned char)*q) && *q != '=' && *q != '>' && *q != '/')
            q++;
        size_t alen = (size_t)(q - an);
        if (alen == 0) {
            q++;                 /* a stray '=' */
            continue;
        }
        while (q < end && is_ws((unsigned char)*q))
            q++;
        if (q >= end || *q != '=')
            continue;
        q++;
        while (q < end && is_ws((unsigned char)*q))
            q++;
        if (q >= end)
            return NULL;
        const char *vs, *ve;
        if (*q == '"' || *q == '\'') {
            vs = q + 1;
            ve = memchr(vs, *q, (size_t)(end - vs));
            if (ve == NULL)
                return NULL;
            q = ve + 1;
        } else {
            vs = q;
            while (q < end && !is_ws((unsigned char)*q) && *q != '>')
                q++;
            ve = q;
        }
        if (alen == 4 && str_ieq_cstr(an, alen, "href") && t->href == NULL) {
            t->href = vs;
            t->href_len = (size_t)(ve - vs);
        } else if (alen == 3 && str_ieq_cstr(an, alen, "src") && t->src == NULL) {
            t->src = vs;
            t->src_len = (size_t)(ve - vs);
        }
    }
}

static void handle_open(struct hstate *st, const struct tag *t)
{
    const char *n = t->name;

    if (st->in_head && !name_in(n, head_tags))
        st->in_head = false;     /* body content implicitly closes head */
    if (strcmp(n, "head") == 0) {
        st->in_head = true;
    } else if (strcmp(n, "body") == 0) {
        st->in_head = false;
    } else if (strcmp(n, "a") == 0 && t->href != NULL) {
        close_anchor(st);
        st->res->nanchors++;
        st->in_a = true;
        st->a_href = t->href;
        st->a_href_len = t->href_len;
        st->a_start = st->o.len;
    } else if (strcmp(n, "img") == 0) {
        st->res->nimages++;
        if (t->src != NULL)
            add_link(st, t->src, t->src_len, "", 0, true);
    } else if (strcmp(n, "br") == 0) {
        out_newline(&st->o, true);
    } else if (strcmp(n, "td") == 0 || strcmp(n, "th") == 0) {
        st->o.space = true;
    } else if (name_in(n, block_tags)) {
        out_newline(&st->o, false);
    }
}

static void handle_close(struct hstate *st, const struct tag *t)
{
    const char *n = t->name;

    if (strcmp(n, "a") == 0)
        close_anchor(st);
    else if (strcmp(n, "head") == 0)
        st->in_head = false;
    else if (name_in(n, block_tags))
        out_newline(&st->o, false);
}

/* At '<'.  Returns where text resumes. */
static const char *parse_tag(struct hstate *st, const char *lt)
{
    const char *end = st->end, *q = lt + 1;
    struct tag t;

    if (q < end && (*q == '!' || *q == '?')) {
        if (end - q >= 3 && q[0] == '!' && q[1] == '-' && q[2] == '-') {
            const char *c = memmem(q + 3, (size_t)(end - q - 3), "-->", 3);
            return c != NULL ? c + 3 : end;
        }
        const char *gt = memchr(q, '>', (size_t)(end - q));
        return gt != NULL ? gt + 1 : end;
    }
    memset(&t, 0, sizeof(t));
    if (q < end && *q == '/') {
        t.closing = true;
        q++;
    }
    if (q >= end || !is_alpha((unsigned char)*q)) {
        if (t.closing) {         /* "</ junk>": a bogus comment */
            const char *gt = memchr(q, '>', (size_t)(end - q));
            return gt != NULL ? gt + 1 : end;
        }
        out_put(&st->o, "<", 1);
        return lt + 1;
    }
    size_t nl = 0;
    while (q < end && (is_alpha((unsigned char)*q) || (*q >= '0' && *q <= '9'))) {
        if (nl < sizeof(t.name) - 1)
            t.name[nl++] = (char)(*q | 0x20);
        q++;
    }
    q = parse_attrs(q, end, &t);
    if (q == NULL)
        return end;
    if (t.closing) {
        handle_close(st, &t);
        return q;
    }
    handle_open(st, &t);
    if (strcmp(t.name, "script") == 0 || strcmp(t.name, "style") == 0 ||
        strcmp(t.name, "title") == 0)
        return skip_raw_text(q, end, t.name);
    return q;
}

static const char *text_run(struct hstate *st, const char *p)
{
    const char *q = p;

    while (q < st->end && *q != '<' && *q != '&' && !is_ws((unsigned char)*q))
        q++;
    if (!st->in_head)
        out_put(&st->o, p, (size_t)(q - p));
    return q;
}

void html_to_text(struct arena *arena, const char *p, size_t len, size_t max_links,
                  struct html_text *out)
{
    struct hstate st;

    memset(out, 0, sizeof(*out));
    memset(&st, 0, sizeof(st));
    st.arena = arena;
    st.end = p + len;
    st.res = out;
    st.max_links = max_links;
    st.o.arena = arena;
    st.o.cap = len + 64;
    st.o.p = arena_alloc(arena, st.o.cap);

    while (p < st.end) {
        unsigned char c = (unsigned char)*p;
        if (c == '<') {
            p = parse_tag(&st, p);
        } else if (c == '&') {
            char buf[4];
            size_t n, used = entity_parse(p, st.end, buf, &n);
            if (used == 0) {
                used = 1;
                buf[0] = '&';
                n = 1;
            }
            if (!st.in_head && n > 0) {
                if (buf[0] == ' ' && n == 1)
                    st.o.space = true;   /* &nbsp; and friends */
                else
                    out_put(&st.o, buf, n);
            }
            p += used;
        } else if (is_ws(c)) {
            if (!st.in_head)
                st.o.space = true;
            p++;
        } else {
            p = text_run(&st, p);
        }
    }
    close_anchor(&st);
    while (st.o.len > 0 && (st.o.p[st.o.len - 1] == ' ' || st.o.p[st.o.len - 1] == '\n'))
        st.o.len--;
    st.o.p[st.o.len] = '\0';
    out->text = st.o.p;
    out->len = st.o.len;
}
