/*
 * The DKIM library against the shared vectors (../shared/testdata, see its
 * HARNESS.md §2): dkimpy's cases.json verification cases and key records,
 * mailauth's relaxed RFC 8463 message and canonicalization KATs, signing
 * known-answer tests (RFC 8463 A.3 b= values reproduced bit for bit) and
 * sign-then-verify with every dkimpy and mailauth key.
 *
 * Every message is verified five ways: whole, body fed one byte at a time,
 * in pseudo-random chunks, with LF line ends and with CRLF line ends.  The data is read in place from
 * $WINNOW_TESTDATA (set by meson) and never copied; cases.json is turned into
 * tab-separated lines by /usr/bin/python3.  Without the data or python3 the
 * tests are skipped with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/arena.h"
#include "modules/dkim/dkim_private.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_DNS 64

static const char *testdata;

struct dns {
    const char *name[MAX_DNS];
    const char *value[MAX_DNS];
    size_t len[MAX_DNS];
    size_t n;
    size_t lookups;
};

static void dns_add(struct dns *d, const char *name, const char *value)
{
    assert_true(d->n < MAX_DNS);
    d->name[d->n] = name;
    d->value[d->n] = value;
    d->len[d->n] = value != NULL ? strlen(value) : 0;
    d->n++;
}

/* A NULL value stands for a DNS timeout: then *idx_r < n. */
static const char *dns_find(struct dns *d, const char *name, size_t *idx_r)
{
    *idx_r = d->n;
    for (size_t i = 0; i < d->n; i++) {
        if (strcasecmp(d->name[i], name) == 0) {
            *idx_r = i;
            return d->value[i];
        }
    }
    return NULL;
}

static enum dkim_dns_status fake_lookup(void *ctx, const char *name, const char *const **txt_r,
                                        const size_t **txt_len_r, size_t *ntxt_r)
{
    struct dns *d = ctx;
    size_t i;
    d->lookups++;
    if (dns_find(d, name, &i) == NULL)
        return i < d->n ? DKIM_DNS_TEMPFAIL : DKIM_DNS_NXDOMAIN;
    *txt_r = &d->value[i];
    *txt_len_r = &d->len[i];
    *ntxt_r = 1;
    return DKIM_DNS_OK;
}

static char *read_file(struct arena *a, const char *rel, size_t *len_r)
{
    char *path = arena_printf(a, "%s/%s", testdata, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = arena_alloc(a, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len_r != NULL)
        *len_r = (size_t)n;
    return buf;
}

static char *read_trimmed(struct arena *a, const char *rel)
{
    size_t len;
    char *s = read_file(a, rel, &len);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

enum mode { MODE_WHOLE, MODE_BYTES, MODE_RANDOM, MODE_LF, MODE_CRLF };
#define MODE_LAST MODE_CRLF
static const char *const mode_names[] = {"whole", "1-byte chunks", "random chunks", "LF", "CRLF"};

/* Rewrites line ends: to LF (drop CR before LF) or to CRLF (add a missing CR). */
static char *convert(struct arena *a, const char *msg, size_t len, bool crlf, size_t *len_r)
{
    char *out = arena_alloc(a, len * 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (!crlf && msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')
            continue;
        if (crlf && msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            out[o++] = '\r';
        out[o++] = msg[i];
    }
    *len_r = o;
    return out;
}

static struct dkim_verify *verify_msg(struct arena *a, const char *msg, size_t len, enum mode m,
                                      struct dns *dns)
{
    if (m == MODE_LF || m == MODE_CRLF)
        msg = convert(a, msg, len, m == MODE_CRLF, &len);
    struct dkim_header *h;
    size_t nh, blen;
    const char *body, *err;
    assert_int_equal(dkim_split_message(a, msg, len, &h, &nh, &body, &blen, &err), 0);
    struct dkim_verify_opts opts = {.ignore_time = true};
    struct dkim_verify *v = dkim_verify_new(a, &opts);
    assert_int_equal(dkim_verify_headers(v, h, nh, &err), 0);
    if (m == MODE_BYTES) {
        for (size_t i = 0; i < blen; i++)
            dkim_verify_body(v, body + i, 1);
    } else if (m == MODE_RANDOM) {
        uint32_t x = 12345;         /* deterministic chunk sizes 1..64 */
        for (size_t i = 0, n; i < blen; i += n) {
            x = x * 1103515245u + 12345u;
            n = 1 + (x >> 16) % 64;
            if (n > blen - i)
                n = blen - i;
            dkim_verify_body(v, body + i, n);
        }
    } else {
        dkim_verify_body(v, body, blen);
    }
    dkim_verify_body_end(v);
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
        const char *name = dkim_verify_key_name(v, i);
        if (name == NULL)
            continue;
        const char *const *txt = NULL;
        const size_t *txt_len = NULL;
        size_t ntxt = 0;
        enum dkim_dns_status st = fake_lookup(dns, name, &txt, &txt_len, &ntxt);
        dkim_verify_set_key(v, i, st, txt, txt_len, ntxt);
    }
    dkim_verify_finish(v);
    return v;
}

static bool have_data(void)
{
    if (testdata == NULL || access(testdata, R_OK) != 0) {
        print_message("SKIP: shared DKIM vectors not found (WINNOW_TESTDATA=%s)\n",
                      testdata ? testdata : "unset");
        return false;
    }
    return true;
}

/* ---- cases.json ---- */

static const char converter[] =
    "import json,sys\n"
    "c=json.load(open(sys.argv[1]))\n"
    "for v in c['verify']:\n"
    "  print('C\\t%s\\t%s'%(v['id'],v['message']))\n"
    "  for k,x in v['dns'].items(): print('D\\t%s\\t%s'%(k,x))\n"
    "  for e in v['expect']: print('E\\t%s\\t%s\\t%s'%(e['d'],e['s'],e['result']))\n"
    "print('Z')\n";

struct vcase {
    const char *id, *message;
    struct dns dns;
    const char *want_d[4], *want_s[4], *want[4];
    size_t nwant;
};

/* Runs a python3 script over a data file; returns its output lines
 * (tab-separated fields), which must end with a "Z" line. */
static char **py_lines(struct arena *a, const char *script_text, const char *rel, size_t *n_r)
{
    const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    char tmpl[] = "/tmp/dkimvecXXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, script_text, strlen(script_text)), (ssize_t)strlen(script_text));
    close(fd);
    FILE *p = popen(arena_printf(a, "%s %s %s/%s", py, tmpl, testdata, rel), "r");
    assert_non_null(p);
    size_t cap = 256, n = 0;
    char **lines = ARENA_NEW_N(a, char *, cap), line[20000];
    bool done = false;
    while (fgets(line, sizeof(line), p) != NULL && n < cap) {
        line[strcspn(line, "\n")] = '\0';
        done = strcmp(line, "Z") == 0;
        lines[n++] = arena_strdup(a, line);
    }
    pclose(p);
    unlink(tmpl);
    if (!done)
        fail_msg("could not convert %s with %s", rel, py);
    *n_r = n;
    return lines;
}

/* Splits a line in place into up to 4 tab-separated fields. */
static size_t fields(char *line, char **f)
{
    size_t n = 0;
    for (char *p = line; n < 4; n++) {
        f[n] = p;
        p = strchr(p, '\t');
        if (p == NULL)
            return n + 1;
        *p++ = '\0';
    }
    return n;
}

static size_t load_cases(struct arena *a, struct vcase *cases, size_t max)
{
    size_t nl, n = 0;
    char **lines = py_lines(a, converter, "dkimpy/cases.json", &nl);
    for (size_t i = 0; i < nl; i++) {
        char *f[4] = {NULL, NULL, NULL, NULL};
        size_t nf = fields(lines[i], f);
        if (f[0][0] == 'C' && nf >= 3 && n < max) {
            cases[n++] = (struct vcase){.id = f[1], .message = f[2]};
        } else if (f[0][0] == 'D' && nf >= 3 && n > 0) {
            dns_add(&cases[n - 1].dns, f[1], f[2]);
        } else if (f[0][0] == 'E' && nf >= 4 && n > 0 && cases[n - 1].nwant < 4) {
            struct vcase *c = &cases[n - 1];
            c->want_d[c->nwant] = f[1];
            c->want_s[c->nwant] = f[2];
            c->want[c->nwant++] = f[3];
        }
    }
    return n;
}

static void test_cases_json(void **state)
{
    if (!have_data())
        skip();
    struct arena *a = arena_new(0);
    struct vcase cases[16];
    size_t n = load_cases(a, cases, N(cases));
    assert_true(n >= 7);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *msg = read_file(a, arena_printf(a, "dkimpy/%s", cases[i].message), &len);
        for (enum mode m = MODE_WHOLE; m <= MODE_LAST; m++) {
            cases[i].dns.lookups = 0;
            struct dkim_verify *v = verify_msg(a, msg, len, m, &cases[i].dns);
            if (dkim_verify_count(v) != cases[i].nwant)
                fail_msg("%s (%s): %zu signatures, want %zu", cases[i].id, mode_names[m],
                         dkim_verify_count(v), cases[i].nwant);
            for (size_t j = 0; j < cases[i].nwant; j++) {
                const struct dkim_result *r = dkim_verify_result(v, j);
                if (strcmp(dkim_status_name(r->status), cases[i].want[j]) != 0)
                    fail_msg("%s (%s) sig %zu: %s (%s), want %s", cases[i].id, mode_names[m], j,
                             dkim_status_name(r->status), r->reason, cases[i].want[j]);
                if (r->status == DKIM_STATUS_PASS || r->status == DKIM_STATUS_FAIL) {
                    assert_string_equal(r->domain, cases[i].want_d[j]);
                    assert_string_equal(r->selector, cases[i].want_s[j]);
                }
            }
            if (strcmp(cases[i].id, "invalid-d-domain") == 0)
                assert_int_equal(cases[i].dns.lookups, 0);   /* never queried */
        }
        print_message("ok %s: %zu signature(s), 5 feeding modes\n", cases[i].id, cases[i].nwant);
    }
    arena_free(&a);
}

/* ---- key records (dkimpy test_*.txt etc.) ---- */

static void test_key_records(void **state)
{
    if (!have_data())
        skip();
    static const struct {
        const char *file;
        enum dkim_status want, alt;
    } cases[] = {
        {"dkimpy/data/test.txt", DKIM_STATUS_PASS, DKIM_STATUS_PASS},
        {"dkimpy/data/test2.txt", DKIM_STATUS_PASS, DKIM_STATUS_PASS},
        {"dkimpy/data/badversion.txt", DKIM_STATUS_PERMERROR, DKIM_STATUS_PERMERROR},
        {"dkimpy/data/badk.txt", DKIM_STATUS_PERMERROR, DKIM_STATUS_PERMERROR},
        {"dkimpy/data/test_bad.txt", DKIM_STATUS_FAIL, DKIM_STATUS_PERMERROR},
        {"dkimpy/data/test_tlsrpt.txt", DKIM_STATUS_PERMERROR, DKIM_STATUS_PERMERROR},
    };
    struct arena *a = arena_new(0);
    size_t len;
    const char *msg = read_file(a, "dkimpy/data/rfc6376.signed.rsa.msg", &len);
    for (size_t i = 0; i < N(cases); i++) {
        struct dns dns = {0};
        dns_add(&dns, "test._domainkey.football.example.com", read_trimmed(a, cases[i].file));
        struct dkim_verify *v = verify_msg(a, msg, len, MODE_WHOLE, &dns);
        assert_int_equal(dkim_verify_count(v), 1);
        const struct dkim_result *r = dkim_verify_result(v, 0);
        if (r->status != cases[i].want && r->status != cases[i].alt)
            fail_msg("%s: %s (%s)", cases[i].file, dkim_status_name(r->status), r->reason);
        print_message("ok %s: %s (%s)\n", cases[i].file, dkim_status_name(r->status), r->reason);
    }
    arena_free(&a);
}

/* ---- canonicalization KATs (mailauth README) ---- */

static void test_body_kats(void **state)
{
    if (!have_data())
        skip();
    struct arena *a = arena_new(0);
    size_t len;
    const char *msg = read_file(a, "mailauth/fixtures/message1.eml", &len);
    struct dkim_header *h;
    size_t nh, blen;
    const char *body, *err;
    assert_int_equal(dkim_split_message(a, msg, len, &h, &nh, &body, &blen, &err), 0);
    static const struct {
        enum dkim_canon c;
        int64_t l;
        const char *want;
    } kats[] = {
        {DKIM_CANON_RELAXED, -1, "D2H5TEwtUgM2u8Ew0gG6vnt/Na6L+Zep7apmSmfy8IQ="},
        {DKIM_CANON_SIMPLE, -1, "GjyEkbey2OupCW5AKJv4dzTPsPHSaZjRDMqUSmhpTyQ="},
        {DKIM_CANON_RELAXED, 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
        {DKIM_CANON_SIMPLE, 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    };
    for (size_t i = 0; i < N(kats); i++) {
        assert_string_equal(dkim_body_hash(a, kats[i].c, DKIM_ALG_RSA_SHA256, kats[i].l, body, blen),
                            kats[i].want);
        struct dkim_body *b = dkim_body_new(a, kats[i].c, DKIM_ALG_RSA_SHA256, kats[i].l >= 0, 0);
        for (size_t j = 0; j < blen; j++)
            dkim_body_update(b, body + j, 1);
        unsigned char d[64];
        size_t dl;
        dkim_body_final(b, d, &dl);
        assert_string_equal(dkim_base64_encode(a, d, dl), kats[i].want);
    }
    static const struct {
        enum dkim_canon c;
        enum dkim_alg alg;
        const char *want;
    } empty[] = {
        {DKIM_CANON_RELAXED, DKIM_ALG_RSA_SHA256, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
        {DKIM_CANON_RELAXED, DKIM_ALG_RSA_SHA1, "2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
        {DKIM_CANON_SIMPLE, DKIM_ALG_RSA_SHA256, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="},
        {DKIM_CANON_SIMPLE, DKIM_ALG_RSA_SHA1, "uoq1oCgLlTqpdDX/iUbLy7J1Wic="},
    };
    for (size_t i = 0; i < N(empty); i++)
        assert_string_equal(dkim_body_hash(a, empty[i].c, empty[i].alg, -1, "", 0), empty[i].want);
    arena_free(&a);
}

/* ---- signing ---- */

static struct dkim_privkey *load_key(struct arena *a, const char *rel)
{
    size_t len;
    const char *p = read_file(a, rel, &len);
    struct dkim_privkey *k;
    const char *err;
    if (dkim_privkey_load_mem(a, p, len, &k, &err) < 0)
        fail_msg("%s: %s", rel, err);
    return k;
}

static const char *b_value(struct arena *a, const struct dkim_header *h)
{
    const char *b = strstr(arena_strndup(a, h->raw, h->raw_len), " b=");
    assert_non_null(b);
    char *out = arena_strdup(a, b + 3), *w = out;
    for (const char *p = out; *p && *p != ';'; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            *w++ = *p;
    }
    *w = '\0';
    return out;
}

/* RFC 8463 A.3: RSASSA-PKCS1-v1_5 and Ed25519 are deterministic, so signing
 * the unsigned message with the published signature fields reproduces b=. */
static void test_sign_kat(void **state)
{
    if (!have_data())
        skip();
    static const struct {
        const char *signed_msg, *unsigned_msg, *key;
        size_t field;
        const char *bh;
    } cases[] = {
        {"dkimpy/data/rfc6376.signed.msg", "dkimpy/data/rfc6376.msg", "dkimpy/data/rfc8032_7_1.key",
         0, "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ="},
        {"dkimpy/data/rfc6376.signed.msg", "dkimpy/data/rfc6376.msg", "dkimpy/data/test.private",
         1, "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ="},
        {"mailauth/dkim-ec/signed.eml", NULL, "mailauth/dkim-ec/private-ec.key", 0,
         "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="},
        {"mailauth/dkim-ec/signed.eml", NULL, "mailauth/dkim-ec/private-rsa.key", 1,
         "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="},
    };
    struct arena *a = arena_new(0);
    for (size_t i = 0; i < N(cases); i++) {
        size_t slen, ulen, nsh, nuh, sblen, ublen;
        const char *smsg = read_file(a, cases[i].signed_msg, &slen), *sbody, *ubody, *err, *b64;
        struct dkim_header *sh, *uh;
        assert_int_equal(dkim_split_message(a, smsg, slen, &sh, &nsh, &sbody, &sblen, &err), 0);
        if (cases[i].unsigned_msg != NULL) {
            const char *umsg = read_file(a, cases[i].unsigned_msg, &ulen);
            assert_int_equal(dkim_split_message(a, umsg, ulen, &uh, &nuh, &ubody, &ublen, &err), 0);
        } else {            /* the same message without its two signature fields */
            uh = sh + 2, nuh = nsh - 2, ubody = sbody, ublen = sblen;
        }
        struct dkim_privkey *k = load_key(a, cases[i].key);
        const struct dkim_header *f = &sh[cases[i].field];
        if (dkim_sign_field(a, k, uh, nuh, f->raw, f->raw_len, &b64, &err) < 0)
            fail_msg("%s: %s", cases[i].key, err);
        assert_string_equal(b64, b_value(a, f));
        enum dkim_canon bc = strstr(f->raw, "c=simple/simple") ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
        assert_string_equal(dkim_body_hash(a, bc, DKIM_ALG_RSA_SHA256, -1, ubody, ublen), cases[i].bh);
        print_message("ok %s field %zu: b= reproduced\n", cases[i].signed_msg, cases[i].field);
    }
    arena_free(&a);
}

static const struct dkim_result *sign_and_verify(struct arena *a, const char *msg, size_t len,
                                                 struct dkim_privkey *k,
                                                 const struct dkim_sign_opts *o,
                                                 const char *txt, const char *append,
                                                 enum mode m)
{
    struct dkim_header *h;
    size_t nh, blen;
    const char *body, *err, *field;
    size_t flen;
    assert_int_equal(dkim_split_message(a, msg, len, &h, &nh, &body, &blen, &err), 0);
    struct dkim_signer *s = dkim_sign_new(a, k, o, &err);
    assert_non_null(s);
    for (size_t i = 0; i < blen; i += 3)
        dkim_sign_body(s, body + i, blen - i < 3 ? blen - i : 3);
    if (dkim_sign_finish(s, h, nh, &field, &flen, &err) < 0)
        fail_msg("sign: %s", err);
    char *signed_msg = arena_printf(a, "%s%s%.*s%s", field, o->lf ? "\n" : "\r\n", (int)len, msg,
                                    append);
    struct dns dns = {0};
    dns_add(&dns, arena_printf(a, "%s._domainkey.%s", o->selector, o->domain), txt);
    struct dkim_verify *v = verify_msg(a, signed_msg, strlen(signed_msg), m, &dns);
    assert_true(dkim_verify_count(v) >= 1);   /* ours is on top; message.mbox has another */
    return dkim_verify_result(v, 0);
}

static void expect_status(const struct dkim_result *r, enum dkim_status want, const char *what)
{
    if (r->status != want)
        fail_msg("%s: %s (%s), want %s", what, dkim_status_name(r->status), r->reason,
                 dkim_status_name(want));
}

static void test_sign_inputs(void **state)
{
    if (!have_data())
        skip();
    struct arena *a = arena_new(0);
    size_t len;
    const char *msg = read_file(a, "dkimpy/data/test.message", &len);
    struct dkim_privkey *k = load_key(a, "dkimpy/data/test.private");
    const char *txt = read_trimmed(a, "dkimpy/data/test.txt");
    for (int c = 0; c < 4; c++) {
        struct dkim_sign_opts o = {.domain = "example.com", .selector = "test",
                                   .hcanon = c & 1 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
                                   .bcanon = c & 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
                                   .timestamp = 1300000000, .lf = c == 1};
        for (enum mode m = MODE_WHOLE; m <= MODE_LAST; m++)
            expect_status(sign_and_verify(a, msg, len, k, &o, txt, "", m), DKIM_STATUS_PASS,
                          "test.message");
        expect_status(sign_and_verify(a, msg, len, k, &o, txt, "foo", MODE_WHOLE),
                      DKIM_STATUS_FAIL, "test.message + foo");
        o.body_length = true;
        expect_status(sign_and_verify(a, msg, len, k, &o, txt, "foo\r\n", MODE_WHOLE),
                      DKIM_STATUS_PASS, "test.message l= + foo");
    }
    static const struct {
        const char *msg, *key, *txt, *d, *s, *sign_headers;
    } more[] = {
        {"dkimpy/data/ed25519test.msg", "dkimpy/data/ed25519test.key", "dkimpy/data/ed25519test.dns",
         "example.net", "test", NULL},
        {"dkimpy/data/message.mbox", "dkimpy/data/test.private", "dkimpy/data/test.txt",
         "example.com", "test", "received:received:(o)from:subject"},
        {"dkimpy/data/test_extra.message", "dkimpy/data/test.private", "dkimpy/data/test.txt",
         "example.com", "test", "received:from:(x)subject"},
        {"dkimpy/data/rfc6376.w1258.msg", "dkimpy/data/test.private", "dkimpy/data/test.txt",
         "example.com", "test", NULL},
        {"dkimpy/data/test.message", "dkimpy/data/1024_testkey.key",
         "dkimpy/data/1024_testkey_wo_markers.pub.txt", "example.com", "k1", NULL},
        {"dkimpy/data/test.message", "dkimpy/data/1024_testkey.key",
         "dkimpy/data/1024_testkey_wo_markers.pub.rsa.txt", "example.com", "k1", NULL},
        {"dkimpy/data/test.message", "dkimpy/data/2048_testkey.key",
         "dkimpy/data/2048_testkey_wo_markers.pub.txt", "example.com", "k2", NULL},
        {"dkimpy/data/test.message", "dkimpy/data/2048_testkey.key",
         "dkimpy/data/2048_testkey_wo_markers.pub.rsa.txt", "example.com", "k2", NULL},
        {"dkimpy/data/test.message", "dkimpy/data/2048_testkey_PKCS8.key",
         "dkimpy/data/2048_testkey_PKCS8.key.pub.txt", "example.com", "k3", NULL},
        {"mailauth/fixtures/message2.eml", "mailauth/fixtures/private-rsa.pem", NULL,
         "example.com", "rsa", NULL},
        {"mailauth/fixtures/message3.eml", "mailauth/fixtures/private-ed25519.pem", NULL,
         "example.com", "ed", NULL},
        {"mailauth/fixtures/message4.eml", "mailauth/dkim-ec/private-ec.key", NULL,
         "example.com", "ec", NULL},
    };
    for (size_t i = 0; i < N(more); i++) {
        const char *m = read_file(a, more[i].msg, &len);
        k = load_key(a, more[i].key);
        txt = more[i].txt ? read_trimmed(a, more[i].txt) : dkim_privkey_txt_record(a, k);
        struct dkim_sign_opts o = {.domain = more[i].d, .selector = more[i].s,
                                   .sign_headers = more[i].sign_headers, .timestamp = 1300000000};
        for (enum mode md = MODE_WHOLE; md <= MODE_LAST; md++)
            expect_status(sign_and_verify(a, m, len, k, &o, txt, "", md), DKIM_STATUS_PASS, more[i].msg);
        print_message("ok sign+verify %s with %s\n", more[i].msg, more[i].key);
    }
    /* no From: the signer refuses */
    msg = read_file(a, "dkimpy/data/test_nofrom.message", &len);
    struct dkim_header *h;
    size_t nh, blen, flen;
    const char *body, *err, *field;
    assert_int_equal(dkim_split_message(a, msg, len, &h, &nh, &body, &blen, &err), 0);
    struct dkim_sign_opts o = {.domain = "example.com", .selector = "test"};
    struct dkim_signer *s = dkim_sign_new(a, load_key(a, "dkimpy/data/test.private"), &o, &err);
    assert_int_equal(dkim_sign_finish(s, h, nh, &field, &flen, &err), -1);
    arena_free(&a);
}

/* A 512-bit key cannot sign, and a 512-bit signature is a permerror. */
static void test_small_key(void **state)
{
    if (!have_data())
        skip();
    struct arena *a = arena_new(0);
    size_t len;
    const char *pem = read_file(a, "mailauth/fixtures/private-small.pem", &len);
    struct dkim_privkey *k;
    const char *err;
    assert_int_equal(dkim_privkey_load_mem(a, pem, len, &k, &err), -1);
    assert_non_null(strstr(err, "too small"));
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    struct dkim_privkey raw = {PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL),
                               DKIM_ALG_RSA_SHA256, 512};
    BIO_free(bio);
    assert_non_null(raw.pkey);
    const char *msg = read_file(a, "dkimpy/data/test.message", &len);
    struct dkim_sign_opts o = {.domain = "example.com", .selector = "small"};
    const struct dkim_result *r = sign_and_verify(a, msg, len, &raw, &o,
                                                  dkim_privkey_txt_record(a, &raw), "", MODE_WHOLE);
    expect_status(r, DKIM_STATUS_PERMERROR, "512-bit key");
    assert_non_null(strstr(r->reason, "too short"));
    EVP_PKEY_free(raw.pkey);
    arena_free(&a);
}

/* ---- rspamd-messages: the DKIM rows of EXPECTED.md (116_dkim.robot) ---- */

static const char rspamd_dns[] =
    "import json,sys\n"
    "for r in json.load(open(sys.argv[1]))['plugins.conf']:\n"
    "  if r['type']!='txt' or '_domainkey' not in r['name']: continue\n"
    "  if r.get('rcode')=='timeout': print('T\\t'+r['name'])\n"
    "  elif r.get('replies'): print('D\\t%s\\t%s'%(r['name'],r['replies'][0]))\n"
    "print('Z')\n";

static void test_rspamd_messages(void **state)
{
    if (!have_data())
        skip();
    static const struct {
        const char *msg;
        int sig;                  /* which result; -1 = no result may pass */
        enum dkim_status want;
        const char *not_reason;   /* the result must not be for this reason */
    } cases[] = {
        {"dkim_broken_key.eml", 0, DKIM_STATUS_PERMERROR, NULL},
        {"dkim_huge_hlist.eml", -1, 0, NULL},
        {"dkim_key_too_long.eml", 0, DKIM_STATUS_PERMERROR, NULL},
        {"dkim_key_too_wide.eml", 0, DKIM_STATUS_PERMERROR, NULL},
        {"dkim_key_wide_ok.eml", 0, DKIM_STATUS_FAIL, NULL},
        {"dkim_large_hlist.eml", 0, DKIM_STATUS_PERMERROR, "too many h= entries"},
        {"dkim_many_sigs.eml", -1, 0, NULL},
        {"dkim_revoked_key.eml", 0, DKIM_STATUS_PERMERROR, NULL},
        {"dkim_sigs_at_limit.eml", 4, DKIM_STATUS_PASS, NULL},
        {"dmarc/bad_dkim1.eml", 0, DKIM_STATUS_PERMERROR, NULL},
        {"dmarc/bad_dkim3.eml", 0, DKIM_STATUS_TEMPERROR, NULL},
        {"dmarc/dkim_unknown_tags.eml", 0, DKIM_STATUS_PASS, NULL},
        {"dmarc/good_dkim_rspamd.eml", 0, DKIM_STATUS_PASS, NULL},
        {"dmarc/bad_dkim_rspamd.eml", 0, DKIM_STATUS_FAIL, NULL},
        {"dmarc/pass_none.eml", 0, DKIM_STATUS_PASS, NULL},
    };
    struct arena *a = arena_new(0);
    size_t nl;
    char **lines = py_lines(a, rspamd_dns, "rspamd-messages/fake-dns.json", &nl);
    struct dns dns = {0};
    for (size_t i = 0; i < nl; i++) {
        char *f[4] = {NULL, NULL, NULL, NULL};
        size_t nf = fields(lines[i], f);
        if (nf >= 2 && (f[0][0] == 'T' || (f[0][0] == 'D' && nf >= 3)))
            dns_add(&dns, f[1], f[0][0] == 'T' ? NULL : f[2]);
    }
    for (size_t i = 0; i < N(cases); i++) {
        size_t len;
        const char *msg = read_file(a, arena_printf(a, "rspamd-messages/messages/%s", cases[i].msg), &len);
        for (enum mode m = MODE_WHOLE; m <= MODE_LAST; m++) {
            struct dkim_verify *v = verify_msg(a, msg, len, m, &dns);
            if (cases[i].sig < 0) {
                for (size_t j = 0; j < dkim_verify_count(v); j++)
                    assert_int_not_equal(dkim_verify_result(v, j)->status, DKIM_STATUS_PASS);
                continue;
            }
            assert_true((size_t)cases[i].sig < dkim_verify_count(v));
            const struct dkim_result *r = dkim_verify_result(v, (size_t)cases[i].sig);
            if (r->status != cases[i].want)
                fail_msg("%s (%s): %s (%s)", cases[i].msg, mode_names[m], dkim_status_name(r->status),
                         r->reason);
            if (cases[i].not_reason != NULL)
                assert_string_not_equal(r->reason, cases[i].not_reason);
        }
        print_message("ok %s\n", cases[i].msg);
    }
    arena_free(&a);
}

int main(void)
{
    testdata = getenv("WINNOW_TESTDATA");
    if (!have_data())
        return 77;                  /* meson: skipped */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_json),
        cmocka_unit_test(test_key_records),
        cmocka_unit_test(test_body_kats),
        cmocka_unit_test(test_sign_kat),
        cmocka_unit_test(test_sign_inputs),
        cmocka_unit_test(test_small_key),
        cmocka_unit_test(test_rspamd_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
