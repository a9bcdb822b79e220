/*
 * Unit tests of the DKIM library without external data: tag lists,
 * signature and key-record validation, body and header canonicalization
 * (against hand-written canonical forms, whole and byte by byte), h=
 * selection, sign_headers rules, signing round trips with generated keys and
 * the key-file permission checks.  The shared vectors are in
 * test_dkim_vectors.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "core/arena.h"
#include "modules/dkim/dkim_private.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *sha256_b64(struct arena *a, const char *p, size_t len)
{
    unsigned char d[32];
    unsigned int dl;
    EVP_Digest(p, len, d, &dl, EVP_sha256(), NULL);
    return dkim_base64_encode(a, d, dl);
}

/* The field without any whitespace, to compare folded output. */
static const char *squash(struct arena *a, const char *field)
{
    char *out = arena_strdup(a, field), *w = out;
    for (const char *p = field; *p; p++) {
        if (*p != '\r' && *p != '\n' && *p != '\t' && *p != ' ')
            *w++ = *p;
    }
    *w = '\0';
    return out;
}

static void test_tags(void **state)
{
    static const struct {
        const char *in;
        int want;
        size_t want_n;
        const char *want_first;   /* "name=value" of the first tag */
    } cases[] = {
        {"v=1; a=rsa-sha256", 0, 2, "v=1"},
        {"  v = 1 ;\r\n\ta=x;", 0, 2, "v=1"},
        {"v=1;", 0, 1, "v=1"},
        {"", 0, 0, NULL},
        {" ; ", 0, 0, NULL},                   /* empty specs are skipped */
        {"v=1;; ;a=2", 0, 2, "v=1"},
        {"v=1; =2", -1, 0, NULL},
        {"v=1; v=2", -1, 0, NULL},             /* duplicate */
        {"1v=1", -1, 0, NULL},                 /* bad name */
        {"v", -1, 0, NULL},
        {"v=a b\r\n c ", 0, 1, "v=a b\r\n c"},  /* inner FWS kept */
        {"v=\x01", -1, 0, NULL},
        {"x_y2=; z=", 0, 2, "x_y2="},
        {"V=1; v=1", 0, 2, "V=1"},              /* names are case-sensitive */
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct dkim_taglist tl;
        const char *err = NULL;
        int r = dkim_tags_parse(cases[i].in, strlen(cases[i].in), &tl, &err);
        assert_int_equal(r, cases[i].want);
        if (r < 0) {
            assert_non_null(err);
            continue;
        }
        assert_int_equal(tl.n, cases[i].want_n);
        if (cases[i].want_first != NULL) {
            char buf[100];
            snprintf(buf, sizeof(buf), "%.*s=%.*s", (int)tl.tags[0].name_len, tl.tags[0].name,
                     (int)tl.tags[0].value_len, tl.tags[0].value);
            assert_string_equal(buf, cases[i].want_first);
        }
    }
}

static void test_base64(void **state)
{
    static const struct {
        const char *in;
        int want;
        const char *out;
    } cases[] = {
        {"Zm9v", 0, "foo"}, {"Zm8=", 0, "fo"}, {"Zm8", 0, "fo"}, {"Z m\r\n\t9v", 0, "foo"},
        {"Zg==", 0, "f"}, {"Z", -1, NULL}, {"Zm9v!", -1, NULL}, {"Zg==Zg==", -1, NULL},
        {"", 0, ""},
    };
    for (size_t i = 0; i < N(cases); i++) {
        unsigned char out[32];
        size_t len;
        int r = dkim_base64_decode(cases[i].in, strlen(cases[i].in), out, &len);
        assert_int_equal(r, cases[i].want);
        if (r == 0) {
            assert_int_equal(len, strlen(cases[i].out));
            assert_memory_equal(out, cases[i].out, len);
        }
    }
}

#define BH256 "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; "
#define BH1 "bh=2jmj7l5rSw0yVb/vlWAYkK/YBwk=; "

static void test_sig_parse(void **state)
{
    static const struct {
        const char *in;
        int want;
        const char *want_err;     /* substring */
    } cases[] = {
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=From:To; " BH256 "b=AAAA", 0, NULL},
        {"v=1; a=ed25519-sha256; c=relaxed; d=Example.COM; s=s1; h=from; " BH256 "b=AA==", 0, NULL},
        {"v=1; a=rsa-sha1; c=simple/relaxed; d=a.b; s=x.y; h=from; " BH1 "b=AAAA", 0, NULL},
        {"v=2; a=rsa-sha256; d=example.com; s=sel; h=from; " BH256 "b=AAAA", -1, "v="},
        {"v=1; a=rsa-md5; d=example.com; s=sel; h=from; " BH256 "b=AAAA", -1, "a="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; " BH256 "b=AAAA", -1, "From"},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; " BH256 "b=AAAA", -1, "h="},
        {"v=1; a=rsa-sha256; s=sel; h=from; " BH256 "b=AAAA", -1, "d="},
        {"v=1; a=rsa-sha256; d=ex(ample.com; s=sel; h=from; " BH256 "b=AAAA", -1, "domain"},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BH1 "b=AAAA", -1, "bh="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BH256 "b=", -1, "b="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BH256 "b=A!AA", -1, "b="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; i=u@sub.example.com; " BH256 "b=AAAA", 0, NULL},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; i=@EXAMPLE.com; " BH256 "b=AAAA", 0, NULL},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; i=u@badexample.com; " BH256 "b=AAAA", -1, "i="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; i=nodomain; " BH256 "b=AAAA", -1, "i="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; t=20; x=10; " BH256 "b=AAAA", -1, "x="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; t=10; x=10; " BH256 "b=AAAA", 0, NULL},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; l=-1; " BH256 "b=AAAA", -1, "l="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; q=dns/txt:other; " BH256 "b=AAAA", 0, NULL},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; q=http; " BH256 "b=AAAA", -1, "q="},
        {"v=1; a=rsa-sha256; c=fancy; d=example.com; s=sel; h=from; " BH256 "b=AAAA", -1, "c="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from::to; " BH256 "b=AAAA", -1, "h="},
        {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; z=unknown|tag; " BH256 "b=AAAA", 0, NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct arena *a = arena_new(0);
        struct dkim_sig sig = {0};
        size_t b_eq, b_end;
        const char *err = NULL;
        int r = dkim_sig_parse(a, cases[i].in, strlen(cases[i].in), 64, &sig, &b_eq, &b_end, &err);
        if (r != cases[i].want)
            fail_msg("case %zu (%s): got %d (%s)", i, cases[i].in, r, err ? err : "");
        if (r < 0 && strstr(err, cases[i].want_err) == NULL)
            fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].want_err);
        arena_free(&a);
    }
    /* field values come out as the verifier needs them */
    struct arena *a = arena_new(0);
    const char *in = "v=1; a=rsa-sha256; c=relaxed; d=Example.COM; s=sel; "
                     "h=From :\r\n\t:To; " BH256 "b= AA\r\n AA ;";
    struct dkim_sig sig = {0};
    size_t b_eq, b_end;
    const char *err;
    assert_int_equal(dkim_sig_parse(a, in, strlen(in), 64, &sig, &b_eq, &b_end, &err), -1);
    in = "v=1; a=rsa-sha256; c=relaxed; d=Example.COM; s=sel; h=From :\r\n\t To; " BH256 "b= AA\r\n AA ;";
    assert_int_equal(dkim_sig_parse(a, in, strlen(in), 64, &sig, &b_eq, &b_end, &err), 0);
    assert_string_equal(sig.domain, "example.com");
    assert_int_equal(sig.hcanon, DKIM_CANON_RELAXED);
    assert_int_equal(sig.bcanon, DKIM_CANON_SIMPLE);
    assert_int_equal(sig.nh, 2);
    assert_string_equal(sig.hnames[1], "to");
    assert_string_equal(sig.auid, "@example.com");
    assert_int_equal(sig.b_len, 3);
    assert_memory_equal(in + b_eq, " AA\r\n AA ", b_end - b_eq);
    /* the h= limit */
    in = "v=1; a=rsa-sha256; d=e.com; s=s; h=from:a:b:c:d; " BH256 "b=AAAA";
    assert_int_equal(dkim_sig_parse(a, in, strlen(in), 4, &sig, &b_eq, &b_end, &err), -1);
    assert_non_null(strstr(err, "too many"));
    arena_free(&a);
}

static const char rsa_rec[] =
    "v=DKIM1; g=*; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6w"
    "y5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9Pzox"
    "ZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

static void test_key_parse(void **state)
{
    static const struct {
        const char *in;
        int want;
        bool rsa, revoked, testing, strict, sha1_ok;
        unsigned bits;
    } cases[] = {
        {rsa_rec, 0, true, false, false, false, true, 1024},
        {"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", 0, false, false, false, false, true, 256},
        {"k=ed25519; p=11qYAYKx CrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo", 0, false, false, false, false, true, 256},
        {"v=DKIM1; p=", 0, true, true, false, false, true, 0},
        {"v=DKIM1; k=rsa; t=y:s; h=sha256; p=", 0, true, true, true, true, false, 0},
        {"k=rsa; v=DKIM1; p=", -1, 0, 0, 0, 0, 0, 0},          /* v= not first */
        {"v=DKIM2; p=", -1, 0, 0, 0, 0, 0, 0},
        {"v=DKIM1: g=*; k=rsa; p=", -1, 0, 0, 0, 0, 0, 0},
        {"v=DKIM1; k=ed25519-sha256; p=", -1, 0, 0, 0, 0, 0, 0},
        {"v=DKIM1; k=rsa", -1, 0, 0, 0, 0, 0, 0},               /* no p= */
        {"v=DKIM1; s=tlsrpt; p=", -1, 0, 0, 0, 0, 0, 0},
        {"v=DKIM1; s=email:tlsrpt; p=", 0, true, true, 0, 0, true, 0},
        {"v=DKIM1; k=ed25519; p=AAAA", -1, 0, 0, 0, 0, 0, 0},   /* 3 bytes */
        {"v=DKIM1; k=rsa; p=MIGfMA0G!", -1, 0, 0, 0, 0, 0, 0},
        {"v=DKIM1; k=rsa; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", -1, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct arena *a = arena_new(0);
        struct dkim_pubkey k;
        const char *err = NULL;
        int r = dkim_key_parse(a, cases[i].in, strlen(cases[i].in), &k, &err);
        if (r != cases[i].want)
            fail_msg("case %zu (%s): got %d (%s)", i, cases[i].in, r, err ? err : "");
        if (r == 0) {
            assert_int_equal(k.rsa, cases[i].rsa);
            assert_int_equal(k.revoked, cases[i].revoked);
            assert_int_equal(k.testing, cases[i].testing);
            assert_int_equal(k.strict, cases[i].strict);
            assert_int_equal(k.sha1_ok, cases[i].sha1_ok);
            assert_int_equal(k.bits, cases[i].bits);
        }
        arena_free(&a);
    }
}

/* Body canonicalization against the canonical text, whole and 1-byte fed. */
static void test_body_canon(void **state)
{
    static const struct {
        enum dkim_canon c;
        const char *in, *want;
        int64_t l;
    } cases[] = {
        {DKIM_CANON_SIMPLE, "", "\r\n", -1},
        {DKIM_CANON_RELAXED, "", "", -1},
        {DKIM_CANON_SIMPLE, "\r\n\r\n", "\r\n", -1},
        {DKIM_CANON_RELAXED, "\r\n \r\n", "", -1},
        {DKIM_CANON_SIMPLE, "a\r\n\r\n\r\n", "a\r\n", -1},
        {DKIM_CANON_SIMPLE, "a\n\nb\n\n", "a\r\n\r\nb\r\n", -1},
        {DKIM_CANON_SIMPLE, "a", "a\r\n", -1},
        {DKIM_CANON_SIMPLE, " a \t\r\n", " a \t\r\n", -1},
        {DKIM_CANON_RELAXED, " a  \t b \t\r\n", " a b\r\n", -1},
        {DKIM_CANON_RELAXED, "a \r\n \r\n\t\r\nb", "a\r\n\r\n\r\nb\r\n", -1},
        {DKIM_CANON_RELAXED, "a\rb\r\n", "a\rb\r\n", -1},
        {DKIM_CANON_SIMPLE, "a\r", "a\r\r\n", -1},
        {DKIM_CANON_RELAXED, "x  \r", "x \r\r\n", -1},
        {DKIM_CANON_RELAXED, "abc\r\n", "ab", 2},
        {DKIM_CANON_SIMPLE, "abc\r\n", "", 0},
        {DKIM_CANON_SIMPLE, "abc\r\n\r\n", "abc\r\n", 100},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct arena *a = arena_new(0);
        const char *want = sha256_b64(a, cases[i].want, strlen(cases[i].want));
        size_t len = strlen(cases[i].in);
        const char *got = dkim_body_hash(a, cases[i].c, DKIM_ALG_RSA_SHA256, cases[i].l,
                                         cases[i].in, len);
        if (strcmp(got, want) != 0)
            fail_msg("case %zu: whole body hash differs", i);
        struct dkim_body *b = dkim_body_new(a, cases[i].c, DKIM_ALG_RSA_SHA256, cases[i].l >= 0,
                                            cases[i].l >= 0 ? (uint64_t)cases[i].l : 0);
        for (size_t j = 0; j < len; j++)
            dkim_body_update(b, cases[i].in + j, 1);
        unsigned char d[64];
        size_t dl;
        dkim_body_final(b, d, &dl);
        if (strcmp(dkim_base64_encode(a, d, dl), want) != 0)
            fail_msg("case %zu: byte-fed body hash differs", i);
        arena_free(&a);
    }
}

static void test_header_canon(void **state)
{
    static const struct {
        enum dkim_canon c;
        const char *raw, *want;
        bool crlf;
    } cases[] = {
        {DKIM_CANON_SIMPLE, "Subject: a  b \r\n", "Subject: a  b \r\n", true},
        {DKIM_CANON_SIMPLE, "Subject: a\n\tb\n", "Subject: a\r\n\tb\r\n", true},
        {DKIM_CANON_SIMPLE, "Subject: a", "Subject: a\r\n", true},
        {DKIM_CANON_RELAXED, "SubJect : a  b \r\n", "subject:a b\r\n", true},
        {DKIM_CANON_RELAXED, "Subject:\r\n\t a\r\n   b\t\r\n", "subject:a b\r\n", true},
        {DKIM_CANON_RELAXED, "To:x\r\n", "to:x", false},
        {DKIM_CANON_RELAXED, "X-Empty:   \r\n", "x-empty:\r\n", true},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct arena *a = arena_new(0);
        struct dkim_header h = {cases[i].raw, strlen(cases[i].raw), 0};
        EVP_MD_CTX *md = dkim_md_new(a, DKIM_ALG_RSA_SHA256);
        dkim_header_canon(md, cases[i].c, &h, cases[i].crlf, 0, 0);
        unsigned char d[32];
        unsigned int dl;
        EVP_DigestFinal_ex(md, d, &dl);
        if (strcmp(dkim_base64_encode(a, d, dl), sha256_b64(a, cases[i].want, strlen(cases[i].want))))
            fail_msg("case %zu (%s) differs", i, cases[i].raw);
        arena_free(&a);
    }
}

/* h= selection: bottom-up per name, extra names add nothing. */
static void test_header_select(void **state)
{
    struct arena *a = arena_new(0);
    struct dkim_header h[] = {
        {"Received: 1\r\n", 13, 0}, {"From: a\r\n", 9, 0}, {"Received: 2\r\n", 13, 0},
        {"Subject: s\r\n", 12, 0}, {"received: 3\r\n", 13, 0},
    };
    const char *names[] = {"received", "from", "received", "x-none", "from", "received",
                           "received", "subject"};
    const char *want = "received:3\r\nfrom:a\r\nreceived:2\r\nreceived:1\r\nsubject:s\r\n";
    bool used[5];
    EVP_MD_CTX *md = dkim_md_new(a, DKIM_ALG_RSA_SHA256);
    dkim_headers_hash(md, DKIM_CANON_RELAXED, h, 5, names, N(names), used);
    unsigned char d[32];
    unsigned int dl;
    EVP_DigestFinal_ex(md, d, &dl);
    assert_string_equal(dkim_base64_encode(a, d, dl), sha256_b64(a, want, strlen(want)));
    arena_free(&a);
}

static struct dkim_privkey *gen_rsa(struct arena *a, unsigned bits)
{
    EVP_PKEY *pkey = EVP_RSA_gen(bits);
    assert_non_null(pkey);
    unsigned char *der = NULL;
    int len = i2d_PrivateKey(pkey, &der);
    const char *b64 = dkim_base64_encode(a, der, (size_t)len);
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    struct dkim_privkey *k;
    const char *err;
    if (dkim_privkey_load_mem(a, b64, strlen(b64), &k, &err) < 0)
        fail_msg("%s", err);
    return k;
}

static struct dkim_privkey *gen_ed25519(struct arena *a, bool with_pk)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    const char *b64 = dkim_base64_encode(a, sk, with_pk ? 64 : 32);
    struct dkim_privkey *k;
    const char *err;
    if (dkim_privkey_load_mem(a, b64, strlen(b64), &k, &err) < 0)
        fail_msg("%s", err);
    if (with_pk) {   /* a seed||pk pair that does not belong together is refused */
        sk[40] ^= 1;
        b64 = dkim_base64_encode(a, sk, 64);
        struct dkim_privkey *bad;
        assert_int_equal(dkim_privkey_load_mem(a, b64, strlen(b64), &bad, &err), -1);
    }
    return k;
}

struct one_key {
    const char *rec;
};

static enum dkim_dns_status one_lookup(void *ctx, const char *name, const char *const **txt_r,
                                       const size_t **txt_len_r, size_t *ntxt_r)
{
    static size_t len;
    struct one_key *k = ctx;
    len = strlen(k->rec);
    *txt_r = &k->rec;
    *txt_len_r = &len;
    *ntxt_r = 1;
    return strcmp(name, "sel._domainkey.example.com") == 0 ? DKIM_DNS_OK : DKIM_DNS_NXDOMAIN;
}

static const char msg_hdrs[] = "From: A <a@example.com>\r\nTo: b@example.net\r\n"
                               "Subject:  hello\r\n   world\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n";
static const char msg_body[] = "Hi  there \r\n\r\nbye\r\n\r\n\r\n";

static const struct dkim_result *sign_verify(struct arena *a, struct dkim_privkey *k,
                                             const struct dkim_sign_opts *o, const char *body,
                                             const char **field_r)
{
    struct dkim_header *h;
    size_t nh, blen;
    const char *b, *err;
    char *msg = arena_printf(a, "%s\r\n%s", msg_hdrs, body);
    assert_int_equal(dkim_split_message(a, msg, strlen(msg), &h, &nh, &b, &blen, &err), 0);
    struct dkim_signer *s = dkim_sign_new(a, k, o, &err);
    assert_non_null(s);
    dkim_sign_body(s, msg_body, strlen(msg_body));
    const char *field;
    size_t flen;
    if (dkim_sign_finish(s, h, nh, &field, &flen, &err) < 0)
        fail_msg("sign: %s", err);
    *field_r = field;
    struct dkim_header *all = ARENA_NEW_N(a, struct dkim_header, nh + 1);
    all[0] = (struct dkim_header){arena_printf(a, "%s\r\n", field), flen + 2, 0};
    memcpy(all + 1, h, nh * sizeof(*h));
    struct one_key ctx = {dkim_privkey_txt_record(a, k)};
    const struct dkim_result *res;
    size_t nres;
    struct dkim_verify_opts vo = {.ignore_time = true};
    assert_int_equal(dkim_verify_message(a, &vo, all, nh + 1, b, blen, one_lookup, &ctx, &res,
                                         &nres, &err), 0);
    assert_int_equal(nres, 1);
    return res;
}

static void test_sign_roundtrip(void **state)
{
    struct arena *a = arena_new(0);
    struct dkim_privkey *keys[] = {gen_rsa(a, 2048), gen_ed25519(a, false), gen_ed25519(a, true)};
    for (size_t k = 0; k < N(keys); k++) {
        for (int c = 0; c < 4; c++) {
            struct dkim_sign_opts o = {.domain = "example.com", .selector = "sel",
                                       .hcanon = c & 1 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
                                       .bcanon = c & 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
                                       .timestamp = 1700000000, .lf = c == 3};
            const char *field;
            const struct dkim_result *r = sign_verify(a, keys[k], &o, msg_body, &field);
            if (r->status != DKIM_STATUS_PASS)
                fail_msg("key %zu canon %d: %s (%s)\n%s", k, c, dkim_status_name(r->status),
                         r->reason, field);
            r = sign_verify(a, keys[k], &o, "changed\r\n", &field);
            assert_int_equal(r->status, DKIM_STATUS_FAIL);
            assert_string_equal(r->reason, "body hash mismatch");
            /* every folded line stays within ~80 columns */
            const char *line = field;
            for (const char *p = field;; p++) {
                if (*p == '\n' || *p == '\0') {
                    assert_true(p - line <= 81);
                    if (*p == '\0')
                        break;
                    line = p + 1;
                }
            }
            assert_true((strstr(field, "\r\n\t") != NULL) == (c != 3));
        }
    }
    /* tag order of spec §9.3 */
    struct dkim_sign_opts o = {.domain = "example.com", .selector = "sel", .timestamp = 1700000000,
                               .expire = 3600};
    const char *field;
    assert_int_equal(sign_verify(a, keys[1], &o, msg_body, &field)->status, DKIM_STATUS_PASS);
    const char *want = "DKIM-Signature:v=1;a=ed25519-sha256;c=relaxed/relaxed;"
                       "d=example.com;s=sel;x=1700003600;t=1700000000;h=from:from:";
    assert_true(strncmp(squash(a, field), want, strlen(want)) == 0);
    arena_free(&a);
}

static void test_sign_headers_rules(void **state)
{
    struct arena *a = arena_new(0);
    struct dkim_privkey *k = gen_ed25519(a, false);
    /* the verified example h= of spec §9.3 */
    const char *msg = "From: a@example.com\r\nSubject: s\r\nDate: d\r\nMessage-ID: <m@x>\r\n"
                      "To: t@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
    struct dkim_header *h;
    size_t nh, blen;
    const char *b, *err, *field;
    size_t flen;
    assert_int_equal(dkim_split_message(a, msg, strlen(msg), &h, &nh, &b, &blen, &err), 0);
    struct dkim_sign_opts o = {.domain = "example.com", .selector = "sel", .timestamp = 1};
    struct dkim_signer *s = dkim_sign_new(a, k, &o, &err);
    dkim_sign_body(s, b, blen);
    assert_int_equal(dkim_sign_finish(s, h, nh, &field, &flen, &err), 0);
    assert_non_null(strstr(squash(a, field), "h=from:from:reply-to:subject:subject:date:date:message-id:"
                                     "message-id:to:to:cc:mime-version:mime-version:content-type:"
                                     "content-type;bh="));
    /* plain names once per instance, (x) absent adds nothing */
    o.sign_headers = "(x)x-absent:received:(o)FROM";
    const char *two = "Received: 1\r\nReceived: 2\r\nFrom: a@example.com\r\n";
    assert_int_equal(dkim_split_message(a, two, strlen(two), &h, &nh, &b, &blen, &err), 0);
    s = dkim_sign_new(a, k, &o, &err);
    assert_int_equal(dkim_sign_finish(s, h, nh, &field, &flen, &err), 0);
    assert_non_null(strstr(field, "h=received:received:from:from;"));
    /* no From: refused */
    const char *nofrom = "To: x@example.com\r\n";
    assert_int_equal(dkim_split_message(a, nofrom, strlen(nofrom), &h, &nh, &b, &blen, &err), 0);
    s = dkim_sign_new(a, k, &o, &err);
    assert_int_equal(dkim_sign_finish(s, h, nh, &field, &flen, &err), -1);
    assert_non_null(strstr(err, "From"));
    /* bad domain refused */
    o.domain = "bad domain";
    assert_null(dkim_sign_new(a, k, &o, &err));
    arena_free(&a);
}

static void test_key_file(void **state)
{
    struct arena *a = arena_new(0);
    char dir[] = "/tmp/dkimkeyXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = arena_printf(a, "%s/k.key", dir);
    FILE *f = fopen(path, "w");
    fputs("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n", f);
    fclose(f);
    struct dkim_privkey *k;
    const char *err;
    chmod(path, 0644);
    assert_int_equal(dkim_privkey_load_file(a, path, &k, &err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "chmod 0600"));
    assert_non_null(strstr(err, "readable by others"));
    chmod(path, 0640);
    assert_int_equal(dkim_privkey_load_file(a, path, &k, &err), 0);
    assert_int_equal(dkim_privkey_alg(k), DKIM_ALG_ED25519_SHA256);
    assert_string_equal(dkim_privkey_txt_record(a, k),
                        "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    chmod(path, 0600);
    assert_int_equal(dkim_privkey_load_file(a, path, &k, &err), 0);
    f = fopen(path, "w");
    fputs("garbage!\n", f);
    fclose(f);
    assert_int_equal(dkim_privkey_load_file(a, path, &k, &err), -1);
    assert_non_null(strstr(err, path));
    unlink(path);
    assert_int_equal(dkim_privkey_load_file(a, path, &k, &err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "does not exist"));
    if (geteuid() != 0) {   /* root reads anything */
        f = fopen(path, "w");
        fclose(f);
        chmod(path, 0000);
        assert_int_equal(dkim_privkey_load_file(a, path, &k, &err), -1);
        assert_non_null(strstr(err, path));
        unlink(path);
    }
    rmdir(dir);
    arena_free(&a);
}

/* Step API: lookups after the body, DNS failures, limits. */
static void test_verify_steps(void **state)
{
    struct arena *a = arena_new(0);
    struct dkim_privkey *k = gen_rsa(a, 1024);
    struct dkim_sign_opts o = {.domain = "example.com", .selector = "sel", .timestamp = 1700000000};
    const char *field;
    assert_int_equal(sign_verify(a, k, &o, msg_body, &field)->status, DKIM_STATUS_PASS);
    char *msg = arena_printf(a, "%s\r\n%s\r\n%s\r\n%s", field, field, msg_hdrs, msg_body);
    struct dkim_header *h;
    size_t nh, blen;
    const char *b, *err;
    assert_int_equal(dkim_split_message(a, msg, strlen(msg), &h, &nh, &b, &blen, &err), 0);
    const char *rec = dkim_privkey_txt_record(a, k);
    size_t rec_len = strlen(rec);
    static const struct {
        enum dkim_dns_status st;
        unsigned min_bits;
        size_t max_sigs;
        enum dkim_status want;
        size_t want_n;
    } cases[] = {
        {DKIM_DNS_OK, 0, 0, DKIM_STATUS_PASS, 2},
        {DKIM_DNS_TEMPFAIL, 0, 0, DKIM_STATUS_TEMPERROR, 2},
        {DKIM_DNS_NXDOMAIN, 0, 0, DKIM_STATUS_PERMERROR, 2},
        {DKIM_DNS_OK, 2048, 0, DKIM_STATUS_PERMERROR, 2},
        {DKIM_DNS_OK, 0, 1, DKIM_STATUS_PASS, 1},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct dkim_verify_opts vo = {.ignore_time = true};
        vo.limits.min_rsa_bits = cases[i].min_bits;
        vo.limits.max_sigs = cases[i].max_sigs;
        struct dkim_verify *v = dkim_verify_new(a, &vo);
        assert_int_equal(dkim_verify_headers(v, h, nh, &err), 0);
        for (size_t j = 0; j < blen; j += 7)
            dkim_verify_body(v, b + j, blen - j < 7 ? blen - j : 7);
        dkim_verify_body_end(v);
        assert_int_equal(dkim_verify_count(v), cases[i].want_n);
        for (size_t j = 0; j < dkim_verify_count(v); j++) {
            assert_string_equal(dkim_verify_key_name(v, j), "sel._domainkey.example.com");
            dkim_verify_set_key(v, j, cases[i].st, &rec, &rec_len, 1);
        }
        dkim_verify_finish(v);
        for (size_t j = 0; j < dkim_verify_count(v); j++) {
            const struct dkim_result *r = dkim_verify_result(v, j);
            if (r->status != cases[i].want)
                fail_msg("case %zu sig %zu: %s (%s)", i, j, dkim_status_name(r->status), r->reason);
            assert_string_equal(r->domain, "example.com");
            assert_string_equal(r->selector, "sel");
        }
    }
    /* no key ever supplied: temperror; expired: permerror */
    struct dkim_verify_opts vo = {.now = 1800000000};
    struct dkim_verify *v = dkim_verify_new(a, &vo);
    assert_int_equal(dkim_verify_headers(v, h, nh, &err), 0);
    dkim_verify_finish(v);
    assert_int_equal(dkim_verify_result(v, 0)->status, DKIM_STATUS_TEMPERROR);
    o.expire = 60;
    assert_int_equal(sign_verify(a, k, &o, msg_body, &field)->status, DKIM_STATUS_PASS);
    msg = arena_printf(a, "%s\r\n%s\r\n%s", field, msg_hdrs, msg_body);
    assert_int_equal(dkim_split_message(a, msg, strlen(msg), &h, &nh, &b, &blen, &err), 0);
    v = dkim_verify_new(a, &vo);
    assert_int_equal(dkim_verify_headers(v, h, nh, &err), 0);
    assert_null(dkim_verify_key_name(v, 0));
    dkim_verify_finish(v);
    assert_int_equal(dkim_verify_result(v, 0)->status, DKIM_STATUS_PERMERROR);
    assert_string_equal(dkim_verify_result(v, 0)->reason, "signature expired");
    arena_free(&a);
}

/* Header mutations after signing (HARNESS §2): an added From above or below
 * breaks an oversigned signature; without oversigning only one below does. */
static void test_mutations(void **state)
{
    static const struct {
        const char *sign_headers, *top, *bottom;
        enum dkim_status want;
    } cases[] = {
        {NULL, "", "", DKIM_STATUS_PASS},
        {NULL, "From: evil@example.org\r\n", "", DKIM_STATUS_FAIL},
        {NULL, "", "From: evil@example.org\r\n", DKIM_STATUS_FAIL},
        {NULL, "Subject: other\r\n", "", DKIM_STATUS_FAIL},
        {NULL, "X-Added: fine\r\n", "X-Trailer: fine\r\n", DKIM_STATUS_PASS},
        {"from:subject", "From: evil@example.org\r\n", "", DKIM_STATUS_PASS},
        {"from:subject", "", "From: evil@example.org\r\n", DKIM_STATUS_FAIL},
    };
    struct arena *a = arena_new(0);
    struct dkim_privkey *k = gen_ed25519(a, false);
    for (size_t i = 0; i < N(cases); i++) {
        char *msg = arena_printf(a, "%s%s\r\n%s", msg_hdrs, "", msg_body);
        struct dkim_header *h;
        size_t nh, blen, flen, nres;
        const char *b, *err, *field;
        assert_int_equal(dkim_split_message(a, msg, strlen(msg), &h, &nh, &b, &blen, &err), 0);
        struct dkim_sign_opts o = {.domain = "example.com", .selector = "sel",
                                   .sign_headers = cases[i].sign_headers};
        struct dkim_signer *s = dkim_sign_new(a, k, &o, &err);
        dkim_sign_body(s, b, blen);
        assert_int_equal(dkim_sign_finish(s, h, nh, &field, &flen, &err), 0);
        msg = arena_printf(a, "%s%s\r\n%s%s\r\n%s", cases[i].top, field, msg_hdrs,
                           cases[i].bottom, msg_body);
        assert_int_equal(dkim_split_message(a, msg, strlen(msg), &h, &nh, &b, &blen, &err), 0);
        struct one_key ctx = {dkim_privkey_txt_record(a, k)};
        const struct dkim_result *res;
        assert_int_equal(dkim_verify_message(a, NULL, h, nh, b, blen, one_lookup, &ctx, &res,
                                             &nres, &err), 0);
        assert_int_equal(nres, 1);
        if (res[0].status != cases[i].want)
            fail_msg("case %zu: %s (%s)", i, dkim_status_name(res[0].status), res[0].reason);
    }
    arena_free(&a);
}

static void test_privkey_formats(void **state)
{
    static const struct {
        const char *in;
        int want;
        const char *want_txt;     /* NULL: not checked */
    } cases[] = {
        {"# brisbane key\n-----BEGIN PRIVATE KEY-----\n"
         "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
         "-----END PRIVATE KEY-----\n", 0,
         "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
        {"  nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n\n", 0,
         "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
        {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", -1, NULL},
        {"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQww\n"
         "-----END ENCRYPTED PRIVATE KEY-----\n", -1, NULL},
        {"not a key at all", -1, NULL},
        {"", -1, NULL},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, NULL},   /* any 32 bytes are a seed */
    };
    struct arena *a = arena_new(0);
    for (size_t i = 0; i < N(cases); i++) {
        struct dkim_privkey *k;
        const char *err = NULL;
        int r = dkim_privkey_load_mem(a, cases[i].in, strlen(cases[i].in), &k, &err);
        if (r != cases[i].want)
            fail_msg("case %zu: got %d (%s)", i, r, err ? err : "");
        if (r == 0 && cases[i].want_txt != NULL)
            assert_string_equal(dkim_privkey_txt_record(a, k), cases[i].want_txt);
    }
    /* RSA below 1024 bits cannot sign */
    EVP_PKEY *small = EVP_RSA_gen(512);
    assert_non_null(small);
    unsigned char *der = NULL;
    int len = i2d_PrivateKey(small, &der);
    const char *b64 = dkim_base64_encode(a, der, (size_t)len);
    OPENSSL_free(der);
    EVP_PKEY_free(small);
    struct dkim_privkey *k;
    const char *err;
    assert_int_equal(dkim_privkey_load_mem(a, b64, strlen(b64), &k, &err), -1);
    assert_non_null(strstr(err, "too small"));
    arena_free(&a);
}

/* Hostile sizes meet a limit before anything else happens. */
static void test_limits(void **state)
{
    struct arena *a = arena_new(0);
    struct dkim_taglist tl;
    const char *err;
    char *big = arena_alloc(a, DKIM_MAX_FIELD + 10);
    memset(big, ' ', DKIM_MAX_FIELD + 10);
    memcpy(big, "v=1", 3);
    assert_int_equal(dkim_tags_parse(big, DKIM_MAX_FIELD + 10, &tl, &err), -1);
    assert_int_equal(dkim_tags_parse(big, DKIM_MAX_FIELD, &tl, &err), 0);
    char many[DKIM_MAX_TAGS * 8 + 16] = "";
    for (int i = 0; i <= DKIM_MAX_TAGS; i++)
        sprintf(many + strlen(many), "t%d=x;", i);
    assert_int_equal(dkim_tags_parse(many, strlen(many), &tl, &err), -1);
    assert_non_null(strstr(err, "too many"));

    /* header count limit, and signatures over max_sigs are only counted */
    struct dkim_header *h = ARENA_NEW_N(a, struct dkim_header, 1001);
    for (size_t i = 0; i < 1001; i++)
        h[i] = (struct dkim_header){"X: y\r\n", 6, 0};
    struct dkim_verify *v = dkim_verify_new(a, NULL);
    assert_int_equal(dkim_verify_headers(v, h, 1001, &err), -1);
    const char *sig = "DKIM-Signature: v=1; a=rsa-sha256; d=e.com; s=s; h=from; "
                      "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n";
    for (size_t i = 0; i < 7; i++)
        h[i] = (struct dkim_header){sig, strlen(sig), 0};
    h[7] = (struct dkim_header){"DKIM-Signature: junk\r\n", 22, 0};
    struct dkim_verify_opts o = {.limits.max_sigs = 3};
    v = dkim_verify_new(a, &o);
    assert_int_equal(dkim_verify_headers(v, h, 8, &err), 0);
    assert_int_equal(dkim_verify_count(v), 3);
    assert_int_equal(dkim_verify_skipped(v), 5);
    dkim_verify_finish(v);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(dkim_verify_result(v, i)->status, DKIM_STATUS_TEMPERROR);
    assert_null(dkim_verify_result(v, 3));
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_sig_parse),
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_body_canon),
        cmocka_unit_test(test_header_canon),
        cmocka_unit_test(test_header_select),
        cmocka_unit_test(test_sign_roundtrip),
        cmocka_unit_test(test_sign_headers_rules),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_verify_steps),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_privkey_formats),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
