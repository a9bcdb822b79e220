/*
 * dkim_signing configuration: every option of spec §9.1 that winnow
 * supports, read into struct sign_ctx (dkim_signing.h) once per
 * configuration snapshot.  Boolean and string options are table rows (name,
 * default, field); maps become struct sign_map (read later, in the
 * workers); sign_networks files are read here, once.  A wrong type or a bad
 * network stops the configuration with the option named.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/netaddr.h"
#include "modules/dkim_signing.h"

#define SIGN_MAX_NETWORKS 1024

/* Boolean options: name, default, default for ARC sealing (spec §9.3), field. */
static const struct {
    const char *name;
    bool def, arc_def;
    size_t off;
} sign_bools[] = {
    {"use_esld", true, true, offsetof(struct sign_ctx, use_esld)},
    {"allow_username_mismatch", false, false, offsetof(struct sign_ctx, allow_username_mismatch)},
    {"sign_authenticated", true, false, offsetof(struct sign_ctx, sign_authenticated)},
    {"sign_local", true, false, offsetof(struct sign_ctx, sign_local)},
    {"sign_inbound", false, true, offsetof(struct sign_ctx, sign_inbound)},
    {"try_fallback", true, true, offsetof(struct sign_ctx, try_fallback)},
    {"allow_hdrfrom_mismatch", false, true, offsetof(struct sign_ctx, allow_hdrfrom_mismatch)},
    {"allow_hdrfrom_mismatch_local", false, false, offsetof(struct sign_ctx, allow_hdrfrom_mismatch_local)},
    {"allow_hdrfrom_mismatch_sign_networks", false, false,
     offsetof(struct sign_ctx, allow_hdrfrom_mismatch_sign_networks)},
    {"allow_hdrfrom_multiple", false, false, offsetof(struct sign_ctx, allow_hdrfrom_multiple)},
    {"allow_envfrom_empty", true, true, offsetof(struct sign_ctx, allow_envfrom_empty)},
    {"skip_spam_sign", false, false, offsetof(struct sign_ctx, skip_spam_sign)},
};

/* String options: name, default, default for ARC sealing, field. */
static const struct {
    const char *name;
    const char *def, *arc_def;
    size_t off;
} sign_strings[] = {
    {"selector", "dkim", "arc", offsetof(struct sign_ctx, selector)},
    {"use_domain", "header", "recipient", offsetof(struct sign_ctx, use_domain)},
    {"use_domain_sign_networks", NULL, NULL, offsetof(struct sign_ctx, use_domain_networks)},
    {"use_domain_sign_local", NULL, NULL, offsetof(struct sign_ctx, use_domain_local)},
    {"use_domain_sign_inbound", NULL, NULL, offsetof(struct sign_ctx, use_domain_inbound)},
    {"symbol", "DKIM_SIGNED", "ARC_SIGNED", offsetof(struct sign_ctx, symbol)},
};

/* "a:b" or ["a", "b"] -> "a:b"; NULL when absent. */
static int headers_option(struct arena *a, const struct conf_obj *sec, const char **out_r,
                          const char **error_r)
{
    const struct conf_obj *v = sec != NULL ? conf_get(sec, "sign_headers") : NULL;
    struct buf b = BUF_INIT;
    for (const struct conf_obj *e = conf_each_first(v); e; e = conf_each_next(v, e)) {
        const char *s = conf_as_string(e);
        if (s == NULL) {
            buf_free(&b);
            *error_r = "sign_headers: expected a string or an array of strings";
            return -1;
        }
        buf_printf(&b, "%s%s", b.len ? ":" : "", s);
    }
    if (b.len > 0)
        *out_r = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    return 0;
}

/* Adds the networks of a "a/n, b/n c/n" list (comments from '#' to the end
 * of a line are skipped, so a file's content works too). */
static int add_networks(struct arena *a, struct sign_ctx *ctx, const char *text,
                        const char **error_r)
{
    for (const char *p = text; *p;) {
        if (*p == '#') {
            p += strcspn(p, "\n");
            continue;
        }
        size_t len = strcspn(p, ", \t\r\n#");
        if (len > 0) {
            if (ctx->nnetworks == SIGN_MAX_NETWORKS ||
                netmask_parse(p, len, &ctx->networks[ctx->nnetworks]) < 0) {
                *error_r = arena_printf(a, "sign_networks: bad network '%.*s'", (int)len, p);
                return -1;
            }
            ctx->nnetworks++;
        }
        p += len;
        p += strspn(p, ", \t\r\n");
    }
    return 0;
}

/* A map file of networks, read once at configuration time. */
static const char *networks_file(struct arena *a, const char *path, const char **error_r)
{
    if (strncmp(path, "file://", 7) == 0)
        path += 7;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        *error_r = arena_printf(a, "sign_networks: %s: %s", path, strerror(errno));
        return NULL;
    }
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1u << 20))
        buf_append(&b, chunk, n);
    fclose(f);
    const char *out = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return out;
}

/* sign_networks: a list, a comma-separated string, or a file (path or
 * file:// URL) of networks. */
static int networks_option(struct arena *a, const struct conf_obj *sec, struct sign_ctx *ctx,
                           const char **error_r)
{
    const struct conf_obj *v = sec != NULL ? conf_get(sec, "sign_networks") : NULL;
    ctx->networks = ARENA_NEW_N(a, struct netmask, SIGN_MAX_NETWORKS);
    for (const struct conf_obj *e = conf_each_first(v); e; e = conf_each_next(v, e)) {
        const char *s = conf_as_string(e);
        if (s == NULL) {
            *error_r = "sign_networks: expected strings (networks or a file)";
            return -1;
        }
        if (s[0] == '/' || strncmp(s, "file://", 7) == 0)
            s = networks_file(a, s, error_r);
        if (s == NULL || add_networks(a, ctx, s, error_r) < 0)
            return -1;
    }
    return 0;
}

static int map_option(struct arena *a, const struct conf_obj *sec, const char *key,
                      const char *alias, struct sign_map **map_r, const char **error_r)
{
    const char *path = NULL;
    if (conf_get_string(sec, key, NULL, &path, error_r) < 0)
        return -1;
    if (path == NULL && alias != NULL && conf_get_string(sec, alias, NULL, &path, error_r) < 0)
        return -1;
    *map_r = path != NULL ? sign_map_new(a, key, path) : NULL;
    return 0;
}

static int selector_entry(struct arena *a, const struct conf_obj *o, struct sign_selector *s,
                          const char **error_r)
{
    if (conf_get_string(o, "selector", NULL, &s->selector, error_r) < 0 ||
        conf_get_string(o, "path", NULL, &s->path, error_r) < 0)
        return -1;
    (void)a;
    return 0;
}

/* domain { example.com { selector; path; selectors = [ {selector; path}, ... ] } } */
static int domain_entry(struct arena *a, const struct conf_obj *d, struct sign_ctx *ctx,
                        const char **error_r)
{
    struct sign_domain *sd = ARENA_NEW(a, struct sign_domain);
    const struct conf_obj *list = conf_get(d, "selectors");
    size_t n = 1;
    for (const struct conf_obj *e = conf_each_first(list); e; e = conf_each_next(list, e))
        n++;
    sd->domain = arena_strdup(a, d->key);
    for (char *p = (char *)sd->domain; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    sd->sels = ARENA_NEW_N(a, struct sign_selector, n);
    if (list == NULL) {
        if (selector_entry(a, d, &sd->sels[0], error_r) < 0)
            return -1;
        sd->n = 1;
    }
    for (const struct conf_obj *e = conf_each_first(list); e; e = conf_each_next(list, e)) {
        if (e->type != CONF_OBJECT) {
            *error_r = arena_printf(a, "domain %s: selectors: expected objects", d->key);
            return -1;
        }
        if (selector_entry(a, e, &sd->sels[sd->n++], error_r) < 0)
            return -1;
    }
    sd->next = ctx->domains;
    ctx->domains = sd;
    return 0;
}

static int domains_option(struct arena *a, const struct conf_obj *sec, struct sign_ctx *ctx,
                          const char **error_r)
{
    const struct conf_obj *v = sec != NULL ? conf_get(sec, "domain") : NULL;
    for (const struct conf_obj *blk = conf_each_first(v); blk; blk = conf_each_next(v, blk)) {
        if (blk->type != CONF_OBJECT) {
            *error_r = "domain: expected { example.com { ... } }";
            return -1;
        }
        for (const struct conf_obj *d = blk->v.list.head; d != NULL; d = d->next)
            if (d->type == CONF_OBJECT && domain_entry(a, d, ctx, error_r) < 0)
                return -1;
    }
    return 0;
}

static int scalar_options(const struct conf_obj *sec, struct sign_ctx *ctx, bool arc,
                          const char **error_r)
{
    for (size_t i = 0; i < sizeof(sign_bools) / sizeof(sign_bools[0]); i++) {
        bool *field = (bool *)((char *)ctx + sign_bools[i].off);
        bool def = arc ? sign_bools[i].arc_def : sign_bools[i].def;
        if (conf_get_bool(sec, sign_bools[i].name, def, field, error_r) < 0)
            return -1;
    }
    /* auth_only: the legacy name of sign_authenticated */
    if (sec != NULL && conf_get(sec, "sign_authenticated") == NULL &&
        conf_get_bool(sec, "auth_only", ctx->sign_authenticated, &ctx->sign_authenticated,
                      error_r) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(sign_strings) / sizeof(sign_strings[0]); i++) {
        const char **field = (const char **)((char *)ctx + sign_strings[i].off);
        const char *def = arc ? sign_strings[i].arc_def : sign_strings[i].def;
        if (conf_get_string(sec, sign_strings[i].name, def, field, error_r) < 0)
            return -1;
    }
    return 0;
}
int sign_conf_parse(const struct conf_obj *sec, struct arena *a, const struct config *config,
                    bool arc, struct sign_ctx *ctx, const char **error_r)
{
    const char *dbdir = config != NULL && config->options.dbdir != NULL ? config->options.dbdir
                                                                         : "/var/lib/winnow";
    ctx->config = config;
    if (scalar_options(sec, ctx, arc, error_r) < 0 ||
        conf_get_string(sec, "path", arena_printf(a, "%s/%s/$domain.$selector.key", dbdir,
                                                  arc ? "arc" : "dkim"),
                        &ctx->path, error_r) < 0 ||
        map_option(a, sec, "selector_map", NULL, &ctx->selector_map, error_r) < 0 ||
        map_option(a, sec, "key_map", "path_map", &ctx->key_map, error_r) < 0 ||
        map_option(a, sec, "signing_table", NULL, &ctx->signing_table, error_r) < 0 ||
        map_option(a, sec, "key_table", NULL, &ctx->key_table, error_r) < 0 ||
        networks_option(a, sec, ctx, error_r) < 0 || domains_option(a, sec, ctx, error_r) < 0)
        return -1;
    /* 3.4 reads sign_headers from the dkim section; ours wins when set. */
    if (headers_option(a, config ? config_section(config, "dkim") : NULL, &ctx->sign_headers,
                       error_r) < 0 ||
        headers_option(a, sec, &ctx->sign_headers, error_r) < 0)
        return -1;
    return 0;
}
