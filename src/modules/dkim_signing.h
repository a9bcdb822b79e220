#ifndef WINNOW_MODULES_DKIM_SIGNING_H
#define WINNOW_MODULES_DKIM_SIGNING_H
/*
 * Private to the dkim_signing module: its configuration, the map files
 * (selector_map, key_map, signing_table, key_table) and the per-process key
 * cache.
 *
 * A map is a text file of `KEY VALUE` lines (`#` comments, blank lines
 * ignored), re-read when its modification time, size or inode changes;
 * the file is looked at no more often than every SIGN_MAP_CHECK seconds per
 * worker, so a rotation (new selector in the map) takes effect without a
 * reload.  A missing map file is logged once and behaves as empty.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/netaddr.h"

struct arena;
struct conf_obj;
struct config;
struct dkim_privkey;
struct sign_map;

#define SIGN_MAP_CHECK 5.0

/* ---- the module's configuration (dkim_signing_conf.c) ---- */

struct sign_selector {
    const char *selector;
    const char *path;            /* NULL: from key_map / path template */
};

struct sign_domain {
    const char *domain;
    struct sign_selector *sels;
    size_t n;
    struct sign_domain *next;
};

struct sign_ctx {
    const struct config *config;
    const char *path, *selector, *use_domain, *symbol, *sign_headers;
    const char *use_domain_networks, *use_domain_local, *use_domain_inbound;
    struct sign_map *selector_map, *key_map, *signing_table, *key_table;
    bool use_esld, allow_username_mismatch, sign_authenticated, sign_local, sign_inbound;
    bool try_fallback, allow_hdrfrom_mismatch, allow_hdrfrom_mismatch_local;
    bool allow_hdrfrom_mismatch_sign_networks, allow_hdrfrom_multiple, allow_envfrom_empty;
    bool skip_spam_sign;
    struct netmask *networks;
    size_t nnetworks;
    struct sign_domain *domains;
};

/* Fills ctx from the dkim_signing section (and sign_headers from the dkim
 * section, as 3.4 does); -1 with *error_r naming the option.  arc = true
 * applies the arc module's stock defaults (spec §9.3: sign_inbound,
 * use_domain = recipient, selector "arc", keys under $DBDIR/arc). */
int sign_conf_parse(const struct conf_obj *sec, struct arena *arena, const struct config *config,
                    bool arc, struct sign_ctx *ctx, const char **error_r);

/* One signature to make. */
struct sign_target {
    const char *domain, *selector, *path;
};

#define SIGN_MAX_TARGETS 8

/* The selection algorithm of spec §9.2 (dkim_signing.c): the signatures
 * this task should get, at most SIGN_MAX_TARGETS; 0 when none. */
struct task;
size_t sign_select(struct task *t, const struct sign_ctx *ctx, struct sign_target *tg);

/* ---- keys, per worker process (dkim_signing_keys.c) ---- */

/* The key at path, loaded or reloaded when its file changed (checked at most
 * every SIGN_MAP_CHECK seconds); NULL after logging why (once per distinct
 * error).  `why` names the domain and selector for that line. */
const struct dkim_privkey *sign_key_get(const char *path, const char *why);
/* Releases every cached key (worker exit). */
void sign_keys_free(void);

/* path may be given as "file:///path" (Rspamd's map URL form). */
struct sign_map *sign_map_new(struct arena *arena, const char *name, const char *path);
/* Exact, case-insensitive key lookup; NULL when absent. */
const char *sign_map_get(struct sign_map *m, const char *key);
/* First line (file order) whose key, a glob pattern (`*@example.com`), matches
 * subject case-insensitively; NULL when none does. */
const char *sign_map_glob(struct sign_map *m, const char *subject);
/* Number of entries (loads the file when needed); for tests. */
unsigned sign_map_count(struct sign_map *m);
/* Calls fn for every entry (for warming the key cache). */
void sign_map_each(struct sign_map *m, void (*fn)(const char *key, const char *value, void *data),
                   void *data);
/* Tests: pretend this much time passed (seconds added to the clock). */
void sign_map_clock_skew(double seconds);
double sign_map_now(void);

#endif
