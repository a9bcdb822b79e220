/*
 * DKIM keys: public key records from DNS (RFC 6376 §3.6.1, RFC 8463 §4),
 * private keys for signing, and the two signature primitives.
 *
 * Key records are peer input.  v= is optional but must come first and be
 * DKIM1; k= is rsa (default) or ed25519, anything else is refused; h= limits
 * the hashes; s= must allow "email" or "*" (a TLSRPT-only key is refused);
 * t= flags y (testing) and s (strict i=).  An empty p= is a revoked key.  An
 * RSA p= is SubjectPublicKeyInfo DER or, as some publish it, a bare PKCS#1
 * RSAPublicKey; the DER must be consumed exactly.  Key sizes are checked by
 * the verifier (limits are its settings).
 *
 * Private keys: PEM (PKCS#1/PKCS#8 RSA, PKCS#8 Ed25519, never a passphrase
 * prompt), base64 of a raw Ed25519 seed (32 bytes) or seed||public key (64
 * bytes, what rspamadm dkim_keygen writes), or base64 DER.  The file loader
 * refuses a key readable by "others" and names the file and the chmod that
 * fixes it.  Private key bytes read from files are wiped after parsing.
 *
 * Every EVP_PKEY is freed by a cleanup on the arena that holds its wrapper.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/arena.h"
#include "core/str.h"
#include "modules/dkim/dkim_private.h"

#define KEY_FILE_MAX 65536

static void pkey_cleanup(void *p)
{
    EVP_PKEY_free(p);
}

static void pkey_own(struct arena *arena, EVP_PKEY *pkey)
{
    arena_cleanup_add(arena, pkey_cleanup, pkey);
}

/* ---- public key records ---- */

/* Whether a ':'-separated tag value lists want (case-insensitive, trimmed). */
static bool list_has(const struct dkim_tag *t, const char *want)
{
    size_t start = 0;
    for (size_t i = 0; i <= t->value_len; i++) {
        if (i < t->value_len && t->value[i] != ':')
            continue;
        const char *e = t->value + start;
        size_t elen = i - start;
        str_trim(&e, &elen);
        if (str_ieq_cstr(e, elen, want))
            return true;
        start = i + 1;
    }
    return false;
}

static EVP_PKEY *decode_rsa(const unsigned char *der, size_t len)
{
    const unsigned char *q = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &q, (long)len);
    if (pkey != NULL && (q != der + len || !EVP_PKEY_is_a(pkey, "RSA"))) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    if (pkey == NULL) {
        q = der;
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)len);   /* bare PKCS#1 */
        if (pkey != NULL && q != der + len) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    ERR_clear_error();
    return pkey;
}

static EVP_PKEY *decode_ed25519(const unsigned char *raw, size_t len)
{
    if (len == 32)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
    const unsigned char *q = raw;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &q, (long)len);   /* SPKI, seen in the wild */
    if (pkey != NULL && (q != raw + len || !EVP_PKEY_is_a(pkey, "ED25519"))) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    ERR_clear_error();
    return pkey;
}

static int key_flags(const struct dkim_taglist *tl, struct dkim_pubkey *key, const char **error_r)
{
    const struct dkim_tag *h = dkim_tags_get(tl, "h"), *s = dkim_tags_get(tl, "s");
    const struct dkim_tag *t = dkim_tags_get(tl, "t");
    key->sha1_ok = h == NULL || list_has(h, "sha1");
    key->sha256_ok = h == NULL || list_has(h, "sha256");
    if (s != NULL && !list_has(s, "*") && !list_has(s, "email")) {
        *error_r = "key record is not for email (s=)";
        return -1;
    }
    if (t != NULL) {
        key->testing = list_has(t, "y");
        key->strict = list_has(t, "s");
    }
    return 0;
}

static int key_type(const struct dkim_taglist *tl, struct dkim_pubkey *key, const char **error_r)
{
    const struct dkim_tag *v = dkim_tags_get(tl, "v"), *k = dkim_tags_get(tl, "k");
    if (v != NULL && (v != &tl->tags[0] || !(v->value_len == 5 && memcmp(v->value, "DKIM1", 5) == 0))) {
        *error_r = "key record v= is not DKIM1 or not first";
        return -1;
    }
    key->rsa = true;
    if (k != NULL) {
        if (str_ieq_cstr(k->value, k->value_len, "ed25519"))
            key->rsa = false;
        else if (!str_ieq_cstr(k->value, k->value_len, "rsa")) {
            *error_r = "unknown key type (k=)";
            return -1;
        }
    }
    return 0;
}

int dkim_key_parse(struct arena *arena, const char *p, size_t len, struct dkim_pubkey *key,
                   const char **error_r)
{
    struct dkim_taglist tl;
    memset(key, 0, sizeof(*key));
    if (dkim_tags_parse(p, len, &tl, error_r) < 0)
        return -1;
    if (key_type(&tl, key, error_r) < 0 || key_flags(&tl, key, error_r) < 0)
        return -1;
    const struct dkim_tag *pt = dkim_tags_get(&tl, "p");
    if (pt == NULL) {
        *error_r = "key record has no p=";
        return -1;
    }
    if (pt->value_len == 0) {
        key->revoked = true;
        return 0;
    }
    unsigned char *der = arena_alloc(arena, pt->value_len * 3 / 4 + 3);
    size_t der_len;
    if (dkim_base64_decode(pt->value, pt->value_len, der, &der_len) < 0) {
        *error_r = "key record p= is not base64";
        return -1;
    }
    EVP_PKEY *pkey = key->rsa ? decode_rsa(der, der_len) : decode_ed25519(der, der_len);
    if (pkey == NULL) {
        *error_r = "key record p= is not a valid public key";
        return -1;
    }
    pkey_own(arena, pkey);
    key->pkey = pkey;
    key->bits = key->rsa ? (unsigned)EVP_PKEY_get_bits(pkey) : 256;
    return 0;
}

/* ---- private keys ---- */

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

static EVP_PKEY *ed25519_from_raw(const unsigned char *raw, size_t len, const char **error_r)
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
    if (pkey == NULL) {
        *error_r = "cannot make an Ed25519 key from the seed";
        return NULL;
    }
    if (len == 64) {
        unsigned char pk[32];
        size_t pklen = sizeof(pk);
        if (EVP_PKEY_get_raw_public_key(pkey, pk, &pklen) != 1 || memcmp(pk, raw + 32, 32) != 0) {
            EVP_PKEY_free(pkey);
            *error_r = "Ed25519 key: public half does not match the seed";
            return NULL;
        }
    }
    return pkey;
}

static EVP_PKEY *load_base64(const char *p, size_t len, const char **error_r)
{
    unsigned char *raw = malloc(len * 3 / 4 + 3);
    size_t raw_len = 0;
    EVP_PKEY *pkey = NULL;
    if (raw == NULL)
        abort();
    if (dkim_base64_decode(p, len, raw, &raw_len) < 0) {
        *error_r = "key is neither PEM nor base64";
    } else if (raw_len == 32 || raw_len == 64) {
        pkey = ed25519_from_raw(raw, raw_len, error_r);
    } else {
        const unsigned char *q = raw;
        pkey = d2i_AutoPrivateKey(NULL, &q, (long)raw_len);
        if (pkey == NULL)
            *error_r = "key is not a valid private key";
    }
    OPENSSL_cleanse(raw, len * 3 / 4 + 3);
    free(raw);
    return pkey;
}

static int classify(struct arena *arena, EVP_PKEY *pkey, struct dkim_privkey **key_r,
                    const char **error_r)
{
    struct dkim_privkey *key = ARENA_NEW(arena, struct dkim_privkey);
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        key->alg = DKIM_ALG_RSA_SHA256;
        key->bits = (unsigned)EVP_PKEY_get_bits(pkey);
        if (key->bits < 1024) {
            EVP_PKEY_free(pkey);
            *error_r = arena_printf(arena, "RSA key of %u bits is too small (1024 minimum)", key->bits);
            return -1;
        }
    } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        key->alg = DKIM_ALG_ED25519_SHA256;
        key->bits = 256;
    } else {
        EVP_PKEY_free(pkey);
        *error_r = "key is neither RSA nor Ed25519";
        return -1;
    }
    pkey_own(arena, pkey);
    key->pkey = pkey;
    *key_r = key;
    return 0;
}

int dkim_privkey_load_mem(struct arena *arena, const char *p, size_t len,
                          struct dkim_privkey **key_r, const char **error_r)
{
    str_trim(&p, &len);
    if (len == 0 || len > KEY_FILE_MAX) {
        *error_r = len == 0 ? "key is empty" : "key is too long";
        return -1;
    }
    EVP_PKEY *pkey;
    if (memmem(p, len, "-----BEGIN", 10) != NULL) {    /* PEM, maybe after comments */
        BIO *bio = BIO_new_mem_buf(p, (int)len);
        pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
        BIO_free(bio);
        if (pkey == NULL)
            *error_r = "PEM key cannot be read (damaged, encrypted or not a private key)";
    } else {
        pkey = load_base64(p, len, error_r);
    }
    ERR_clear_error();
    if (pkey == NULL)
        return -1;
    return classify(arena, pkey, key_r, error_r);
}

static int open_key_file(struct arena *arena, const char *path, struct stat *st,
                         const char **error_r)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            *error_r = arena_printf(arena, "DKIM key file %s does not exist", path);
        else if (errno == EACCES)
            *error_r = arena_printf(arena, "DKIM key file %s is not readable by this process "
                                    "(permission denied): make it owned by the daemon's user "
                                    "or group", path);
        else
            *error_r = arena_printf(arena, "DKIM key file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        *error_r = arena_printf(arena, "DKIM key file %s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st->st_mode & S_IROTH) {
        *error_r = arena_printf(arena, "DKIM key file %s is readable by others (mode %04o): "
                                "run 'chmod 0600 %s' (or 'chmod 0640 %s' with the daemon's "
                                "group owning it)", path, (unsigned)(st->st_mode & 07777),
                                path, path);
        close(fd);
        return -1;
    }
    if (st->st_size > KEY_FILE_MAX) {
        *error_r = arena_printf(arena, "DKIM key file %s is too large to be a key", path);
        close(fd);
        return -1;
    }
    return fd;
}

int dkim_privkey_load_file(struct arena *arena, const char *path, struct dkim_privkey **key_r,
                           const char **error_r)
{
    struct stat st;
    int fd = open_key_file(arena, path, &st, error_r);
    if (fd < 0)
        return -1;
    char *buf = malloc(KEY_FILE_MAX + 1);
    size_t len = 0;
    ssize_t n = 0;
    if (buf == NULL)
        abort();
    while (len < KEY_FILE_MAX && (n = read(fd, buf + len, KEY_FILE_MAX - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *error_r = arena_printf(arena, "DKIM key file %s: %s", path, strerror(errno));
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    int ret = -1;
    if (n >= 0 || len == KEY_FILE_MAX) {
        const char *err;
        ret = dkim_privkey_load_mem(arena, buf, len, key_r, &err);
        if (ret < 0)
            *error_r = arena_printf(arena, "DKIM key file %s: %s", path, err);
    }
    OPENSSL_cleanse(buf, KEY_FILE_MAX + 1);
    free(buf);
    return ret;
}

enum dkim_alg dkim_privkey_alg(const struct dkim_privkey *key)
{
    return key->alg;
}

unsigned dkim_privkey_bits(const struct dkim_privkey *key)
{
    return key->bits;
}

const char *dkim_privkey_txt_record(struct arena *arena, const struct dkim_privkey *key)
{
    unsigned char raw[32];
    if (key->alg == DKIM_ALG_ED25519_SHA256) {
        size_t len = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &len) != 1)
            return NULL;
        return arena_printf(arena, "v=DKIM1; k=ed25519; p=%s", dkim_base64_encode(arena, raw, len));
    }
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key->pkey, &der);
    if (len <= 0)
        return NULL;
    const char *rec = arena_printf(arena, "v=DKIM1; k=rsa; p=%s",
                                   dkim_base64_encode(arena, der, (size_t)len));
    OPENSSL_free(der);
    return rec;
}

/* ---- primitives ---- */

static int rsa_ctx_setup(EVP_PKEY_CTX *ctx, enum dkim_alg alg)
{
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
                   EVP_PKEY_CTX_set_signature_md(ctx, dkim_alg_md(alg)) == 1
               ? 0 : -1;
}

int dkim_pkey_sign(struct arena *arena, const struct dkim_privkey *key,
                   const unsigned char *digest, size_t dlen,
                   unsigned char **sig_r, size_t *sig_len_r, const char **error_r)
{
    size_t len = (size_t)EVP_PKEY_get_size(key->pkey);
    unsigned char *sig = arena_alloc(arena, len);
    int ok;
    if (key->alg == DKIM_ALG_ED25519_SHA256) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(md, sig, &len, digest, dlen) == 1;
        EVP_MD_CTX_free(md);
    } else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);
        ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 && rsa_ctx_setup(ctx, key->alg) == 0 &&
             EVP_PKEY_sign(ctx, sig, &len, digest, dlen) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    ERR_clear_error();
    if (!ok) {
        *error_r = "signing failed";
        return -1;
    }
    *sig_r = sig;
    *sig_len_r = len;
    return 0;
}

int dkim_pkey_verify(EVP_PKEY *pkey, enum dkim_alg alg, const unsigned char *digest, size_t dlen,
                     const unsigned char *sig, size_t sig_len)
{
    int ok;
    if (alg == DKIM_ALG_ED25519_SHA256) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, digest, dlen) == 1;
        EVP_MD_CTX_free(md);
    } else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
        ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 && rsa_ctx_setup(ctx, alg) == 0 &&
             EVP_PKEY_verify(ctx, sig, sig_len, digest, dlen) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    ERR_clear_error();
    return ok ? 0 : -1;
}
