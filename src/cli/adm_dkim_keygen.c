/*
 * winnowadm dkim_keygen: makes a DKIM key pair and prints the DNS record to
 * publish (spec §7.3, JOURNEY.md §5):
 *
 *   winnowadm dkim_keygen -b 2048 -s s2026 -d example.com \
 *       -k /var/lib/winnow/dkim/s2026.example.com.key > s2026.example.com.txt
 *
 * The private key goes to -k FILE, created with mode 0600 (never readable
 * by others: the signer refuses such a key), or to stdout before the record
 * without -k.  RSA keys are PEM PKCS#8; Ed25519 keys are one line of base64
 * of the 64-byte seed || public key (Rspamd's format).  An existing key file
 * is never overwritten without -f: losing a published key's private half
 * breaks signing until DNS catches up.  The record is checked by loading the
 * written key back through the signer's own loader, so what is printed is
 * what the daemon will sign with.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cli/adm.h"
#include "core/arena.h"
#include "modules/dkim/dkim.h"

#define KEYGEN_USAGE "dkim_keygen -s SELECTOR [-d DOMAIN] [-b BITS] [-t rsa|ed25519] [-k FILE] [-f]"
#define TXT_STRING_MAX 255

struct keygen_opts {
    const char *selector, *domain, *file;
    int bits;
    bool ed25519, force;
};

static int parse_opts(int argc, char **argv, struct keygen_opts *o)
{
    static const struct option longopts[] = {
        {"selector", required_argument, NULL, 's'}, {"domain", required_argument, NULL, 'd'},
        {"bits", required_argument, NULL, 'b'},     {"type", required_argument, NULL, 't'},
        {"privkey", required_argument, NULL, 'k'},  {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *o = (struct keygen_opts){.bits = 2048};
    while ((c = getopt_long(argc, argv, "s:d:b:t:k:f", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->selector = optarg; break;
        case 'd': o->domain = optarg; break;
        case 'k': o->file = optarg; break;
        case 'f': o->force = true; break;
        case 'b': o->bits = atoi(optarg); break;
        case 't':
            if (strcmp(optarg, "ed25519") != 0 && strcmp(optarg, "rsa") != 0)
                return adm_usage_error(KEYGEN_USAGE);
            o->ed25519 = strcmp(optarg, "ed25519") == 0;
            break;
        default: return adm_usage_error(KEYGEN_USAGE);
        }
    }
    if (o->selector == NULL || optind != argc)
        return adm_usage_error(KEYGEN_USAGE);
    if (!o->ed25519 && (o->bits < 1024 || o->bits > 8192)) {
        fprintf(stderr, "winnowadm dkim_keygen: -b %d: RSA keys must have 1024 to 8192 bits "
                        "(2048 recommended)\n", o->bits);
        return 1;
    }
    return 0;
}

/* The private key in the file format the signer reads, NUL-terminated. */
static char *private_text(EVP_PKEY *pkey, bool ed25519)
{
    if (ed25519) {
        unsigned char raw[64];
        size_t seedlen = 32, publen = 32;
        if (EVP_PKEY_get_raw_private_key(pkey, raw, &seedlen) != 1 ||
            EVP_PKEY_get_raw_public_key(pkey, raw + 32, &publen) != 1)
            return NULL;
        char *b64 = malloc(4 * ((sizeof(raw) + 2) / 3) + 2);
        int n = EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
        OPENSSL_cleanse(raw, sizeof(raw));
        b64[n] = '\n';
        b64[n + 1] = '\0';
        return b64;
    }
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL, *p;
    if (bio != NULL && PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
        long len = BIO_get_mem_data(bio, &p);
        out = malloc((size_t)len + 1);
        memcpy(out, p, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(bio);
    return out;
}

static int write_key_file(const struct keygen_opts *o, const char *text)
{
    if (o->force && unlink(o->file) < 0 && errno != ENOENT) {
        fprintf(stderr, "winnowadm dkim_keygen: cannot replace %s: %s\n", o->file, strerror(errno));
        return -1;
    }
    int fd = open(o->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        fprintf(stderr, "winnowadm dkim_keygen: %s already exists; not overwriting a key "
                        "(use -f to replace it, or pick a new selector)\n", o->file);
        return -1;
    }
    if (fd < 0) {
        fprintf(stderr, "winnowadm dkim_keygen: cannot create %s: %s\n", o->file, strerror(errno));
        return -1;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "winnowadm dkim_keygen: writing %s: %s\n", o->file, strerror(errno));
            close(fd);
            unlink(o->file);
            return -1;
        }
        off += (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fprintf(stderr, "winnowadm dkim_keygen: writing %s: %s\n", o->file, strerror(errno));
        return -1;
    }
    return 0;
}

/* Spec §7.3: the first string holds "p=" and 253 characters, the others
 * 255; a key that fits one string closes on the same line. */
static void print_record(const char *selector, bool ed25519, const char *p)
{
    size_t len = strlen(p);
    const char *k = ed25519 ? "ed25519" : "rsa";
    if (len < TXT_STRING_MAX - 2) {
        printf("%s._domainkey IN TXT ( \"v=DKIM1; k=%s; \"\n\t\"p=%s\" ) ;\n", selector, k, p);
        return;
    }
    printf("%s._domainkey IN TXT ( \"v=DKIM1; k=%s; \"\n", selector, k);
    printf("\t\"p=%.*s\"\n", TXT_STRING_MAX - 2, p);
    for (size_t off = TXT_STRING_MAX - 2; off < len; off += TXT_STRING_MAX)
        printf("\t\"%.*s\"\n", (int)(len - off < TXT_STRING_MAX ? len - off : TXT_STRING_MAX),
               p + off);
    printf(") ; \n");
}

/* Loads text back through the signer's loader and prints the record. */
static int check_and_print(const struct keygen_opts *o, const char *text)
{
    struct arena *a = arena_new(0);
    struct dkim_privkey *key = NULL;
    const char *err = NULL;
    int ret = 1;
    if (dkim_privkey_load_mem(a, text, strlen(text), &key, &err) < 0) {
        fprintf(stderr, "winnowadm dkim_keygen: generated key does not load: %s\n", err);
    } else {
        const char *rec = dkim_privkey_txt_record(a, key);
        const char *p = rec != NULL ? strstr(rec, "p=") : NULL;
        if (p != NULL) {
            print_record(o->selector, o->ed25519, p + 2);
            ret = 0;
        }
    }
    arena_free(&a);
    return ret;
}

int adm_cmd_dkim_keygen(struct adm_ctx *ctx, int argc, char **argv)
{
    struct keygen_opts o;
    (void)ctx;
    int r = parse_opts(argc, argv, &o);
    if (r != 0)
        return r;
    EVP_PKEY *pkey = o.ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                               : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)o.bits);
    char *text = pkey != NULL ? private_text(pkey, o.ed25519) : NULL;
    EVP_PKEY_free(pkey);
    if (text == NULL) {
        fprintf(stderr, "winnowadm dkim_keygen: key generation failed\n");
        return 1;
    }
    if (o.file != NULL)
        r = write_key_file(&o, text) < 0 ? 1 : 0;
    else
        fputs(text, stdout);
    if (r == 0)
        r = check_and_print(&o, text);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    return r;
}
