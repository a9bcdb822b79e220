/*
 * dkim_signing keys: a per-worker cache of private keys by file path.  A
 * key is loaded on first use (or when worker_init warms the paths the
 * configuration names) through dkim_privkey_load_file(), which refuses a
 * file readable by others; the file is stat()ed again at most every
 * SIGN_MAP_CHECK seconds and reloaded when it changed, so a replaced key
 * is used without a reload.  Each entry owns a small arena; each loaded key
 * its own, freed when replaced (the signer uses a key only synchronously,
 * within one post_scan, so nothing else can hold it).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/log.h"
#include "modules/dkim/dkim.h"
#include "modules/dkim_signing.h"

struct key_cache {
    const char *path;            /* in own */
    struct arena *arena;         /* holds key; replaced on reload */
    struct dkim_privkey *key;
    struct stat st;
    double checked;
    char *error;                 /* last error logged, heap */
    struct arena *own;           /* the arena this entry lives in */
    struct key_cache *next;
};

static struct key_cache *key_cache_head;

static struct key_cache *key_cache_entry(const char *path)
{
    for (struct key_cache *k = key_cache_head; k != NULL; k = k->next)
        if (strcmp(k->path, path) == 0)
            return k;
    struct arena *a = arena_new(0);
    struct key_cache *k = ARENA_NEW(a, struct key_cache);
    k->own = a;
    k->path = arena_strdup(a, path);
    k->checked = -1e9;
    k->next = key_cache_head;
    key_cache_head = k;
    return k;                    /* freed by sign_worker_deinit */
}

/* Logs an error once per distinct text, so a missing key is one line. */
static void key_error(struct key_cache *k, const char *why, const char *err)
{
    if (k->error != NULL && strcmp(k->error, err) == 0)
        return;
    free(k->error);
    k->error = strdup(err);
    log_error("dkim_signing: cannot load key for %s: %s", why, err);
}

static bool stat_changed(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
           a->st_size != b->st_size || a->st_ino != b->st_ino || a->st_mode != b->st_mode;
}

const struct dkim_privkey *sign_key_get(const char *path, const char *why)
{
    struct key_cache *k = key_cache_entry(path);
    double now = sign_map_now();
    if (now - k->checked < SIGN_MAP_CHECK && k->key != NULL)
        return k->key;
    k->checked = now;
    struct stat st;
    if (k->key != NULL && stat(path, &st) == 0 && !stat_changed(&st, &k->st))
        return k->key;
    struct arena *a = arena_new(0);
    struct dkim_privkey *key = NULL;
    const char *err = NULL;
    if (dkim_privkey_load_file(a, path, &key, &err) < 0) {
        key_error(k, why, err ? err : path);
        arena_free(&a);
        arena_free(&k->arena);
        k->key = NULL;
        return NULL;
    }
    arena_free(&k->arena);
    k->arena = a;
    k->key = key;
    if (stat(path, &k->st) < 0)
        memset(&k->st, 0, sizeof(k->st));
    free(k->error);
    k->error = NULL;
    return key;
}

/* Worker exit: every cached key goes (keys are secrets: their memory is
 * released, and OpenSSL's key objects clear themselves). */
void sign_keys_free(void)
{
    while (key_cache_head != NULL) {
        struct key_cache *k = key_cache_head;
        struct arena *own = k->own;
        key_cache_head = k->next;
        arena_free(&k->arena);
        free(k->error);
        arena_free(&own);
    }
}
