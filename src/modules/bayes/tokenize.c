/*
 * Bayes tokenizer.  Features, each hashed to 64 bits in its own namespace:
 *  - words of the text parts (HTML already reduced to text), case-folded;
 *    over-long words become a length bucket;
 *  - orthogonal sparse bigrams (OSB, as CRM114 and Rspamd): each word paired
 *    with each of the next window-1 words, the distance part of the pair, so
 *    phrases count without a combinatorial explosion;
 *  - selected headers: Subject words, From address/domain/display name,
 *    Reply-To and recipient domains, the mailer, Message-ID domain, the
 *    Received hops' host names, priority and precedence headers, content
 *    types, charsets and transfer encodings;
 *  - the shape of each word with digits ("$1,999" -> "$9,999");
 *  - URL host names, the words of URL paths, and e-mail domains in the text.
 * Header-name presence and body-shape tokens (HTML only, image and link
 * counts) were tried and made the SpamAssassin-corpus figures slightly worse,
 * so they are not here (docs/bayes.md has the measurements).
 * The result is sorted and de-duplicated: a feature counts once per message.
 */
#include "modules/bayes/bayes.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "mime/message.h"

#define MAX_WORD 40
#define WINDOW_MAX 8

struct tokbuf {
    struct arena *arena;
    uint64_t *v;
    size_t n, cap;
};

#ifdef BAYES_TOKEN_NAMES
/* The offline evaluator's copy (bayes_eval.c) names every token it sees, to
 * show which features decided a verdict; the daemon's copy has no hook. */
void bayes_token_named(uint64_t tok, uint64_t ns, const char *p, size_t len);
void bayes_token_paired(uint64_t tok, uint64_t a, uint64_t b, unsigned d);
#define TOKEN_NAMED(t, ns, p, len) bayes_token_named(t, ns, p, len)
#define TOKEN_PAIRED(t, a, b, d) bayes_token_paired(t, a, b, d)
#else
#define TOKEN_NAMED(t, ns, p, len) ((void)0)
#define TOKEN_PAIRED(t, a, b, d) ((void)0)
#endif

static uint64_t hash_ns(uint64_t ns, const char *p, size_t len)
{
    uint64_t h = str_mix64(str_hash(p, len) ^ (ns * 0x9E3779B97F4A7C15ULL));
    TOKEN_NAMED(h, ns, p, len);
    return h;
}

static void push(struct tokbuf *tb, uint64_t h)
{
    if (tb->n == tb->cap) {
        size_t ncap = tb->cap ? tb->cap * 2 : 512;
        tb->v = arena_realloc(tb->arena, tb->v, tb->cap * sizeof(uint64_t), ncap * sizeof(uint64_t));
        tb->cap = ncap;
    }
    tb->v[tb->n++] = h;
}

/* Namespaces. */
enum {
    NS_WORD = 1, NS_PAIR = 2, NS_SUBJ = 3, NS_HDR = 4, NS_URL = 5, NS_MIME = 6, NS_LONG = 7,
    NS_URLPATH = 10, NS_NUMSHAPE = 11
};

struct words {
    uint64_t h[WINDOW_MAX];      /* ring of recent word hashes */
    size_t count;
    unsigned window;
    uint64_t ns_word, ns_pair;
};

static void word_emit(struct tokbuf *tb, struct words *w, const char *p, size_t len)
{
    uint64_t h = hash_ns(w->ns_word, p, len);
    push(tb, h);
    /* OSB: pair this word with each of the previous window-1 words. */
    for (unsigned d = 1; d < w->window && d <= w->count; d++) {
        uint64_t prev = w->h[(w->count - d) % WINDOW_MAX];
        uint64_t pair = str_mix64(prev * 0x100000001b3ULL + h * (2 * d + 1) + w->ns_pair);
        TOKEN_PAIRED(pair, prev, h, d);
        push(tb, pair);
    }
    w->h[w->count % WINDOW_MAX] = h;
    w->count++;
}

static bool ascii_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '$' || c == '\'';
}

/* A number's shape ("$1,999" and "$4,500" are both "$9,999": prices,
 * phone numbers, dates), which the exact words cannot generalise.  (A
 * capitals-only flag was tried too: it added false positives.) */
static void number_shape_token(struct tokbuf *tb, const char *p, size_t len)
{
    char sh[MAX_WORD + 1];
    bool digit = false;
    for (size_t i = 0; i < len && i < MAX_WORD; i++) {
        unsigned char c = (unsigned char)p[i];
        bool d = c >= '0' && c <= '9';
        digit |= d;
        sh[i] = d ? '9' : (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ? 'a' : (char)c;
    }
    if (digit)
        push(tb, hash_ns(NS_NUMSHAPE, sh, len < MAX_WORD ? len : MAX_WORD));
}

/* Splits UTF-8 text into words; non-ASCII letters count as word characters.
 * Returns the number of words seen. */
static size_t text_words(struct tokbuf *tb, struct words *w, const char *p, size_t len,
                         size_t max_words)
{
    size_t i = 0, nwords = 0;
    char buf[MAX_WORD * 4 + 8];
    while (i < len && nwords < max_words) {
        /* skip separators */
        while (i < len) {
            unsigned char c = (unsigned char)p[i];
            if (c < 0x80 ? ascii_word_char(c) : true)
                break;
            i++;
        }
        size_t start = i;
        bool ascii = true;
        while (i < len) {
            unsigned char c = (unsigned char)p[i];
            if (c < 0x80) {
                if (!ascii_word_char(c))
                    break;
                i++;
                continue;
            }
            gunichar u = g_utf8_get_char_validated(p + i, (gssize)(len - i));
            if (u == (gunichar)-1 || u == (gunichar)-2) {
                i++;                 /* invalid byte: a separator */
                break;
            }
            if (!g_unichar_isalnum(u))
                break;
            ascii = false;
            i = (size_t)(g_utf8_next_char(p + i) - p);
        }
        size_t wl = i - start;
        /* trim apostrophes at the ends ("'quoted'") */
        while (wl > 0 && p[start] == '\'')
            start++, wl--;
        while (wl > 0 && p[start + wl - 1] == '\'')
            wl--;
        if (wl == 0) {
            if (i == start)
                i++;
            continue;
        }
        nwords++;
        if (wl > MAX_WORD) {
            char lb[16];
            int n = snprintf(lb, sizeof(lb), "L%zu", wl / 10);
            push(tb, hash_ns(NS_LONG, lb, (size_t)n));
            continue;
        }
        if (wl < 2)
            continue;
        if (ascii) {
            memcpy(buf, p + start, wl);
            number_shape_token(tb, buf, wl);
            str_lower(buf, wl);
            word_emit(tb, w, buf, wl);
        } else {
            char *folded = g_utf8_casefold(p + start, (gssize)wl);
            size_t fl = strlen(folded);
            word_emit(tb, w, folded, fl < sizeof(buf) ? fl : sizeof(buf));
            g_free(folded);
        }
    }
    return nwords;
}

/* A feature from a header: namespace per header name. */
static void hdr_token(struct tokbuf *tb, const char *hname, const char *val, size_t len)
{
    if (val == NULL || len == 0)
        return;
    char low[256];
    size_t n = len < sizeof(low) ? len : sizeof(low);
    memcpy(low, val, n);
    str_lower(low, n);
    uint64_t h = hash_ns(NS_HDR ^ str_hash(hname, strlen(hname)), low, n);
#ifdef BAYES_TOKEN_NAMES
    char named[300];
    int nl = snprintf(named, sizeof(named), "%s=%.*s", hname, (int)n, low);
    TOKEN_NAMED(h, 0, named, (size_t)nl < sizeof(named) ? (size_t)nl : sizeof(named) - 1);
#endif
    push(tb, h);
}

static void hdr_value_token(struct tokbuf *tb, const struct message *msg, const char *name,
                            size_t maxlen)
{
    const struct mime_header *h = message_header(msg, name);
    if (h != NULL && h->decoded != NULL) {
        size_t len = strlen(h->decoded);
        hdr_token(tb, name, h->decoded, len < maxlen ? len : maxlen);
    }
}

static void addr_tokens(struct tokbuf *tb, const char *tag, const struct mime_addrlist *l,
                        bool full)
{
    for (size_t i = 0; i < l->n && i < 4; i++) {
        const struct mime_address *a = &l->a[i];
        if (full && a->addr)
            hdr_token(tb, tag, a->addr, strlen(a->addr));
        if (a->domain)
            hdr_token(tb, tag, a->domain, strlen(a->domain));
        if (full && a->name) {
            struct words w = {.window = 1, .ns_word = NS_HDR ^ 0x51, .ns_pair = 0};
            text_words(tb, &w, a->name, strlen(a->name), 16);
        }
    }
}

/* "from host.example.org (...)": the host name of a Received hop. */
static void received_tokens(struct tokbuf *tb, const struct message *msg)
{
    for (size_t i = 0; i < 3; i++) {
        const struct mime_header *h = message_header_nth(msg, "Received", i);
        if (h == NULL || h->decoded == NULL)
            break;
        const char *v = h->decoded;
        size_t len = strlen(v);
        long pos = str_isearch(v, len, "from ", 5);
        if (pos < 0)
            continue;
        const char *host = v + pos + 5;
        size_t hl = strcspn(host, " ();[]");
        hdr_token(tb, "received", host, hl);
        const char *dot = memchr(host, '.', hl);
        if (dot != NULL)
            hdr_token(tb, "received-dom", dot + 1, hl - (size_t)(dot + 1 - host));
    }
}

static void header_tokens(struct tokbuf *tb, const struct message *msg)
{

    if (msg->subject != NULL) {
        struct words w = {.window = 3, .ns_word = NS_SUBJ, .ns_pair = NS_SUBJ * 7};
        text_words(tb, &w, msg->subject, strlen(msg->subject), 64);
    }
    addr_tokens(tb, "from", &msg->from, true);
    addr_tokens(tb, "reply-to", &msg->reply_to, false);
    addr_tokens(tb, "to", &msg->to, false);
    hdr_value_token(tb, msg, "X-Mailer", 40);
    hdr_value_token(tb, msg, "User-Agent", 40);
    hdr_value_token(tb, msg, "X-MimeOLE", 40);
    hdr_value_token(tb, msg, "Content-Type", 24);
    if (msg->message_id != NULL) {
        const char *at = strrchr(msg->message_id, '@');
        if (at != NULL)
            hdr_token(tb, "mid-domain", at + 1, strlen(at + 1));
    }
    received_tokens(tb, msg);
    hdr_value_token(tb, msg, "X-Priority", 16);
    hdr_value_token(tb, msg, "X-MSMail-Priority", 16);
    hdr_value_token(tb, msg, "Importance", 16);
    hdr_value_token(tb, msg, "Precedence", 16);
    hdr_value_token(tb, msg, "MIME-Version", 16);
    hdr_value_token(tb, msg, "Content-Transfer-Encoding", 24);
    for (size_t i = 0; i < msg->nparts; i++) {
        const struct mime_part *p = &msg->parts[i];
        char ct[128];
        int n = snprintf(ct, sizeof(ct), "%s/%s;%s;%s", p->type ? p->type : "",
                         p->subtype ? p->subtype : "", p->charset ? p->charset : "",
                         p->cte ? p->cte : "");
        push(tb, hash_ns(NS_MIME, ct, (size_t)n < sizeof(ct) ? (size_t)n : sizeof(ct) - 1));
    }
}

/* Words of a URL's path and query ("/cgi-bin/click?id=" ...): tracking and
 * unsubscribe schemes recur across a spammer's runs while hosts rotate. */
static void url_path_tokens(struct tokbuf *tb, const struct mime_url *u)
{
    const char *p = u->url;
    if (p == NULL || u->host == NULL)
        return;
    const char *h = strstr(p, u->host);
    if (h == NULL)
        return;
    p = h + strlen(u->host);
    size_t len = strnlen(p, 256), i = 0, nwords = 0;
    while (i < len && nwords < 8) {
        while (i < len && !ascii_word_char((unsigned char)p[i]))
            i++;
        size_t st = i;
        while (i < len && ascii_word_char((unsigned char)p[i]))
            i++;
        if (i - st >= 2 && i - st <= 24) {
            char w[32];
            memcpy(w, p + st, i - st);
            str_lower(w, i - st);
            push(tb, hash_ns(NS_URLPATH, w, i - st));
            nwords++;
        }
    }
}

static void url_tokens(struct tokbuf *tb, const struct message *msg)
{
    for (size_t i = 0; i < msg->nurls && i < 256; i++) {
        const struct mime_url *u = &msg->urls[i];
        if (u->host != NULL)
            push(tb, hash_ns(NS_URL, u->host, strlen(u->host)));
        if (u->tld != NULL)
            push(tb, hash_ns(NS_URL * 3, u->tld, strlen(u->tld)));
        url_path_tokens(tb, u);
    }
    for (size_t i = 0; i < msg->nemails && i < 64; i++) {
        const char *at = strrchr(msg->emails[i], '@');
        if (at != NULL)
            push(tb, hash_ns(NS_URL * 5, at + 1, strlen(at + 1)));
    }
}

/* LSD radix sort of 64-bit feature hashes, a byte per pass, with one
 * histogram pass for all eight digits.  The keys are uniformly spread
 * hashes, so this beats qsort's n log n callback comparisons by far (qsort
 * was 13% of a scanner worker's time).  tmp holds n keys. */
static void sort_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++)
        for (unsigned d = 0; d < 8; d++)
            count[d][(v[i] >> (8 * d)) & 0xff]++;
    uint64_t *src = v, *dst = tmp;
    for (unsigned d = 0; d < 8; d++) {
        size_t pos = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t c = count[d][b];
            count[d][b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[d][(src[i] >> (8 * d)) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    /* eight passes: the sorted keys are back in v */
}

void bayes_tokenize(struct arena *arena, const struct message *msg,
                    const struct bayes_tokenizer_opts *opts, struct bayes_tokens *out)
{
    struct tokbuf tb = {arena, NULL, 0, 0};
    unsigned window = opts && opts->osb_window ? opts->osb_window : 2;
    if (window > WINDOW_MAX)
        window = WINDOW_MAX;
    size_t max_words = opts && opts->max_words ? opts->max_words : 2000;
    size_t words_left = max_words;
    for (size_t i = 0; i < msg->ntext_parts && words_left > 0; i++) {
        const struct text_part *tp = &msg->text_parts[i];
        if (tp->text == NULL)
            continue;
        struct words w = {.window = window, .ns_word = NS_WORD, .ns_pair = NS_PAIR};
        words_left -= text_words(&tb, &w, tp->text, tp->text_len, words_left);
    }
    if (opts == NULL || opts->header_tokens)
        header_tokens(&tb, msg);
    url_tokens(&tb, msg);
    if (tb.n > 1)
        sort_u64(tb.v, arena_alloc(arena, tb.n * sizeof(uint64_t)), tb.n);
    size_t u = 0;
    for (size_t i = 0; i < tb.n; i++)
        if (u == 0 || tb.v[u - 1] != tb.v[i])
            tb.v[u++] = tb.v[i];
    out->v = tb.v;
    out->n = u;
}
