/*
 * urls: heuristics on the URLs the MIME layer extracted: obfuscated hosts
 * (numeric, %-encoded, "trusted.example@evil.example"), links to bare IP
 * addresses, anchors whose visible text names another site than the link
 * (phishing), and a few informational markers (.onion, data: URIs).
 *
 * Owns nothing beyond its configuration.  Reads task->msg->urls only: no
 * DNS, no redirector following (that is the rbl/url_redirector work).  The
 * phishing weight follows Rspamd's phishing plugin: look-alike domains
 * (small edit distance) weigh most, unrelated ones less, because tracking
 * links in newsletters routinely show one site and point at another.
 */
#include <math.h>
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/str.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/heur.h"
#include "modules/module.h"

struct urls_ctx {
    bool phishing;               /* `phishing = false` turns only PHISHING off */
};

static const struct symbol_def urls_symbols[] = {
    {"R_SUSPICIOUS_URL", 5.0, "url", "Obfuscated or suspicious URL (option: host)", SYMBOL_ONE_SHOT},
    {"HTTP_TO_IP", 1.0, "html", "An HTML anchor points to an IP address", 0},
    {"PHISHING", 4.0, "phishing", "Link text shows another site than the link (option: shown->real)", 0},
    {"HAS_ONION_URI", 0.0, "experimental", "Link to a Tor .onion host", 0},
    {"HAS_DATA_URI", 0.0, "html", "Message has a data: URI", 0},
};

/* The userinfo of "scheme://user@host/..." looks like a host name:
 * "http://www.bank.example@evil.example/" shows the reader a trusted name. */
static bool userinfo_looks_like_host(const char *url)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return false;
    p += 3;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at == NULL)
        return false;
    return memchr(p, '.', (size_t)(at - p)) != NULL;
}

/* Edit distance with substitution cost 2 (Rspamd's phishing metric) over
 * the first 128 bytes of each name. */
static size_t domain_distance(const char *a, const char *b)
{
    uint64_t ca[128], cb[128];
    size_t la = 0, lb = 0;

    for (; a[la] != '\0' && la < 128; la++)
        ca[la] = (unsigned char)a[la];
    for (; b[lb] != '\0' && lb < 128; lb++)
        cb[lb] = (unsigned char)b[lb];
    return str_edit_distance(ca, la, cb, lb, 2);
}

#define LEAF_DEPTH_MAX 4

/* One layer of %XX decoding of [p, p+len) into the arena. */
static char *pct_decode(struct arena *arena, const char *p, size_t len)
{
    char *out = arena_alloc(arena, len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        int h1, h2;
        if (p[i] == '%' && i + 2 < len && (h1 = str_hexval(p[i + 1])) >= 0 &&
            (h2 = str_hexval(p[i + 2])) >= 0) {
            *o++ = (char)((h1 << 4) | h2);
            i += 2;
        } else {
            *o++ = p[i];
        }
    }
    *o = '\0';
    return out;
}

/* The URL a redirector link leads to when its query carries exactly one
 * URL (decoded layer by layer, LEAF_DEPTH_MAX layers at most): NULL when
 * there is none, several, or too many layers, so such links are judged on
 * their own host. */
static const char *redirect_leaf(struct arena *arena, const char *url)
{
    const char *cur = url;
    for (unsigned depth = 0; depth <= LEAF_DEPTH_MAX; depth++) {
        const char *q = strchr(cur, '?');
        const char *found = NULL;
        size_t nfound = 0;
        while (q != NULL) {
            /* Each parameter is looked at once: linear in the URL length. */
            const char *amp = strchr(q + 1, '&');
            size_t plen = amp != NULL ? (size_t)(amp - q) : strlen(q);
            const char *v = memchr(q, '=', plen);
            if (v != NULL) {
                size_t vl = plen - (size_t)(v + 1 - q);
                char *dec = pct_decode(arena, v + 1, vl);
                if (strncasecmp(dec, "http://", 7) == 0 || strncasecmp(dec, "https://", 8) == 0) {
                    found = dec;
                    nfound++;
                }
            }
            q = amp;
        }
        if (nfound > 1)
            return NULL;
        if (nfound == 0)
            return depth == 0 ? NULL : cur;
        cur = found;
    }
    return NULL;
}

/* Lower-case host of an absolute http(s) URL, in the arena. */
static char *url_host(struct arena *arena, const char *url)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return NULL;
    p += 3;
    size_t n = strcspn(p, "/?#:");
    const char *at = memchr(p, '@', n);
    if (at != NULL) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    char *h = arena_strndup(arena, p, n);
    str_lower(h, n);
    return h;
}

/* davidaustinroses.com vs davidaustinroses.co.za: the same name under
 * another public suffix is the same owner more often than not. */
static bool same_label(const char *a, const char *b)
{
    size_t la = strcspn(a, "."), lb = strcspn(b, ".");
    return la == lb && strncmp(a, b, la) == 0;
}

static void check_phishing(struct task *task, const struct mime_url *u)
{
    if (u->anchor_host == NULL || u->host == NULL || u->host[0] == '\0')
        return;
    char *shown = arena_strdup(task->arena, u->anchor_host);
    str_lower(shown, strlen(shown));
    while (shown[0] != '\0' && shown[strlen(shown) - 1] == '.')
        shown[strlen(shown) - 1] = '\0';
    if (shown[0] == '\0' || strcmp(shown, u->host) == 0)
        return;
    const char *a = heur_esld(shown), *b = heur_esld(u->host);
    if (strcmp(a, b) == 0 || same_label(a, b))
        return;
    const char *leaf = u->url != NULL ? redirect_leaf(task->arena, u->url) : NULL;
    const char *leaf_host = leaf != NULL ? url_host(task->arena, leaf) : NULL;
    if (leaf_host != NULL && strcmp(heur_esld(leaf_host), a) == 0)
        return;
    double dist = 2.0 * (double)domain_distance(a, b) / (double)(strlen(a) + strlen(b));
    double weight = 1.0;
    if (dist > 0.3 && dist <= 1.0)
        weight = tanh(3.0 * (1.0 - dist + 0.1));
    else if (dist > 1.0)
        weight = 0.5;
    task_insertf(task, "PHISHING", weight, "%s->%s", shown, u->host);
}

static void check_url(struct task *task, const struct urls_ctx *ctx, const struct mime_url *u)
{
    const char *host = u->host != NULL ? u->host : "";

    if ((u->flags & (URL_HOST_NUMERIC | URL_OBFUSCATED)) ||
        ((u->flags & URL_HAS_USER) && userinfo_looks_like_host(u->url)))
        task_insert(task, "R_SUSPICIOUS_URL", 1.0, host);
    /* Rspamd: an HTML anchor to a dotted IPv4 address (images and text
     * URLs do not count). */
    if ((u->flags & URL_HOST_IP) && (u->flags & URL_FROM_HTML) && !(u->flags & URL_IMAGE) &&
        u->scheme != NULL && (strcmp(u->scheme, "http") == 0 || strcmp(u->scheme, "https") == 0) &&
        host[0] != '\0' && strspn(host, "0123456789.") == strlen(host))
        task_insert(task, "HTTP_TO_IP", 1.0, host);
    size_t hl = strlen(host);
    if (hl > 6 && strcmp(host + hl - 6, ".onion") == 0)
        task_insert(task, "HAS_ONION_URI", 1.0, NULL);
    if (u->scheme != NULL && strcmp(u->scheme, "data") == 0)
        task_insert(task, "HAS_DATA_URI", 1.0, NULL);
    if (ctx->phishing)
        check_phishing(task, u);
}

static int urls_configure(const struct conf_obj *section, struct module_env *env, void **ctx_r,
                          const char **error_r)
{
    bool enabled;
    struct urls_ctx *ctx;

    *ctx_r = NULL;
    symtab_add_many(env->symtab, urls_symbols, sizeof(urls_symbols) / sizeof(urls_symbols[0]));
    if (heur_conf_enabled(section, &enabled, error_r) < 0)
        return -1;
    ctx = ARENA_NEW(env->arena, struct urls_ctx);
    ctx->phishing = true;
    if (section != NULL && conf_get_bool(section, "phishing", true, &ctx->phishing, error_r) < 0)
        return -1;
    heur_psl_init();
    if (enabled)
        *ctx_r = ctx;
    return 0;
}

static int urls_scan(struct task *task, void *vctx)
{
    const struct urls_ctx *ctx = vctx;
    const struct message *msg = task->msg;

    if (msg == NULL)
        return 0;
    for (size_t i = 0; i < msg->nurls; i++)
        check_url(task, ctx, &msg->urls[i]);
    return 0;
}

const struct module module_urls = {
    .name = "urls",
    .abi = MODULE_ABI,
    .configure = urls_configure,
    .scan = urls_scan,
};
