/*
 * test_catena: Catena-Butterfly (catena.c) and Rspamd's "$2$" controller
 * passwords through ctl_password_matches() (worker_controller_pw.c).
 *
 * Every "$2$" vector was made by Debian's Rspamd 3.4 with
 * `rspamadm pw -t catena -p PASSWORD` (a fresh random salt each).  The
 * 64-byte catena_test() vector in Rspamd's catena.c ("from catena-v3.1
 * spec") is not used: the code that reproduces every rspamadm hash below
 * does not reproduce it, and rspamadm's output is what administrators
 * carry over.
 * Malformed hashes must never match and never crash (ASan/UBSan build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "daemon/catena.h"
#include "daemon/worker_controller.h"

#define ABC "abcdefghijklmnopqrstuvwxyz"

#define H_SECRET "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7y"
#define H_LONG300 "$2$jaobxee6q31g9ysowazdxbxemnof4own$ju56k714xxkk6ifxotgo35r5w1hjcpkewxcxxr6k1wab7imyk77b"

struct pw_case {
    const char *name;
    const char *stored;
    const char *pw;              /* with len > 0: a pattern repeated to len bytes */
    size_t len;
    bool want;
};

static const struct pw_case cases[] = {
    {"secret", H_SECRET, "secret", 0, true},
    {"secret, other case", H_SECRET, "Secret", 0, false},
    {"secret, prefix", H_SECRET, "secre", 0, false},
    {"secret, longer", H_SECRET, "secret ", 0, false},
    {"secret, empty", H_SECRET, "", 0, false},
    {"one byte",
     "$2$i9rokok1kksj7hujy7tzfwjo3k9eczbn$u7add1wy3bhyicnbgsixke6gp1b718p9x683qhzbhgf8wcpubeab",
     "x", 0, true},
    {"one byte, wrong",
     "$2$i9rokok1kksj7hujy7tzfwjo3k9eczbn$u7add1wy3bhyicnbgsixke6gp1b718p9x683qhzbhgf8wcpubeab",
     "y", 0, false},
    {"a single space",
     "$2$1eto77wopx6ih8xb56foa6g5mxom41i9$upbm7jxitz5o977y15i1aizakhqkpf46yk9dka3wb4sowuumo83b",
     " ", 0, true},
    {"a single space is not empty",
     "$2$1eto77wopx6ih8xb56foa6g5mxom41i9$upbm7jxitz5o977y15i1aizakhqkpf46yk9dka3wb4sowuumo83b",
     "", 0, false},
    {"passphrase",
     "$2$e9ast776rohpwubc7txegbr9u5fofcwd$4wc5boto89ndikyk6xtdcswo9pi4ts7t54t6qjikp9suzxouaq6b",
     "correct horse battery staple", 0, true},
    {"utf-8",
     "$2$1y5b84jz4x84uiit1611jngjtj9x1e1o$zm6fgqrht66g7bm187yf73ysprn6f1k98qdhp4wgmjgj6iof9y1b",
     "p\xc3\xa4ssw\xc3\xb6rd-\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80", 0, true},
    {"utf-8, decomposed a-umlaut is another password",
     "$2$1y5b84jz4x84uiit1611jngjtj9x1e1o$zm6fgqrht66g7bm187yf73ysprn6f1k98qdhp4wgmjgj6iof9y1b",
     "pa\xcc\x88ssw\xc3\xb6rd-\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80", 0, false},
    {"quotes, dollar, at",
     "$2$i1tfuzzhyu4pc7karxydus8kkkd8x7k6$ehtiuqoad859m6ugafd8hngf7yccugimdw1y74zj5zr87zyscs7b",
     "Rspamd: \"q\"\\$tr@ng\xe2\x82\xac", 0, true},
    {"100 bytes",
     "$2$89x98qsw97494bopnas3saqor1rgc9iw$dqp1trnrs6h1dupp6j6rc5e6jbxnwcr3cm87uhoxccjgmizodcky",
     "A", 100, true},
    {"99 bytes",
     "$2$89x98qsw97494bopnas3saqor1rgc9iw$dqp1trnrs6h1dupp6j6rc5e6jbxnwcr3cm87uhoxccjgmizodcky",
     "A", 99, false},
    {"200 bytes",
     "$2$1w7jjuw1w1gfmcdxma9rg3axhmmsq1fe$tc7u6xork33jf6fuzgag5tn1mkzdtksypdji797jwndsey9cbdky",
     "0123456789", 200, true},
    {"255 bytes",
     "$2$dceyt19xjrh6baakddg3jirdkqsoicxp$o3amkwgn6j8qrs3yi91x3zcendsjp7gnmogqkx3cnenosr9o3qdy",
     "Z", 255, true},
    /* Rspamd hashes only pw_len mod 256 bytes: 300 bytes are its first 44 */
    {"300 bytes", H_LONG300, ABC, 300, true},
    {"300 bytes, as Rspamd: its first 44", H_LONG300, ABC, 44, true},
    {"300 bytes, 43 is not enough", H_LONG300, ABC, 43, false},

    /* malformed or foreign: never match */
    {"unknown id", "$3$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7y",
     "secret", 0, false},
    {"catena salt and key as $1$",
     "$1$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7y",
     "secret", 0, false},
    {"bare id", "$2$", "", 0, false},
    {"empty salt and key", "$2$$", "", 0, false},
    {"no key", "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh", "secret", 0, false},
    {"short parts", "$2$abc$def", "secret", 0, false},
    {"salt one char short",
     "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1w$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7y",
     "secret", 0, false},
    {"salt one char long",
     "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1why$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7y",
     "secret", 0, false},
    {"key one char short",
     "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7",
     "secret", 0, false},
    {"key one char long",
     "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7yy",
     "secret", 0, false},
    {"character outside the alphabet",
     "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf70",
     "secret", 0, false},
    {"upper case",
     "$2$JC5CXAAF4ES5R1TPMZTUXHJ11K5IB1WH$7E1JE5CK34W175NBDPD8KTY9IOG5IWT9GTKEKET7FS5Z9P46QF7Y",
     "secret", 0, false},
    {"trailing newline",
     "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7y\n",
     "secret", 0, false},
    {"third part",
     "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7y$x",
     "secret", 0, false},
    {"one key bit flipped",
     "$2$jc5cxaaf4es5r1tpmztuxhj11k5ib1wh$7e1je5ck34w175nbdpd8kty9iog5iwt9gtkeket7fs5z9p46qf7b",
     "secret", 0, false},
};

static char *make_pw(const struct pw_case *tc)
{
    size_t n = tc->len > 0 ? tc->len : strlen(tc->pw), plen = strlen(tc->pw);
    char *s = malloc(n + 1);

    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = tc->pw[i % plen];
    s[n] = '\0';
    return s;
}

static void test_rspamadm_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pw_case *tc = &cases[i];
        char *pw = make_pw(tc);

        bool got;

        ctl_password_reset();
        got = ctl_password_matches(tc->stored, pw);
        free(pw);
        if (got != tc->want)
            fail_msg("%s: got %d, want %d", tc->name, got, tc->want);
    }
}

/* A verified password is cached; the cache must not let others in. */
static void test_cache(void **state)
{
    (void)state;
    ctl_password_reset();
    assert_false(ctl_password_matches(H_SECRET, "wrong"));
    assert_true(ctl_password_matches(H_SECRET, "secret"));
    assert_true(ctl_password_matches(H_SECRET, "secret"));
    assert_false(ctl_password_matches(H_SECRET, "wrong"));
    assert_false(ctl_password_matches(H_SECRET, ""));
}

/* catena.c alone on H_SECRET, salt and key decoded from Rspamd's base32. */
static void test_catena_raw(void **state)
{
    static const struct catena_params rspamd = {
        .lambda = CATENA_RSPAMD_LAMBDA, .min_garlic = CATENA_RSPAMD_GARLIC,
        .garlic = CATENA_RSPAMD_GARLIC, .hash_len = CATENA_RSPAMD_KEY_LEN};
    static const uint8_t salt[CATENA_RSPAMD_SALT_LEN] = {
        0x89, 0x6d, 0xf6, 0x30, 0x2e, 0x1a, 0xd9, 0x4d, 0x64, 0x6c,
        0xeb, 0xc6, 0xf9, 0x78, 0x92, 0x52, 0xed, 0x1a, 0x24, 0xe5};
    static const uint8_t want[CATENA_RSPAMD_KEY_LEN] = {
        0x1d, 0xc9, 0x84, 0x36, 0x53, 0x59, 0x53, 0xd9, 0xb7, 0x08, 0xa3,
        0x8d, 0xa3, 0x22, 0xf8, 0x15, 0x9a, 0x5d, 0x69, 0xfc, 0x26, 0x2a,
        0xa4, 0x50, 0xec, 0xc5, 0xee, 0xfb, 0x9b, 0xf6, 0xae, 0x74};
    uint8_t got[CATENA_RSPAMD_KEY_LEN];

    (void)state;
    assert_int_equal(catena_hash(&rspamd, (const uint8_t *)"secret", 6, salt, sizeof(salt),
                                 (const uint8_t *)"rspamd", 6, got),
                     0);
    assert_memory_equal(got, want, sizeof(want));
}

static void test_catena_params_refused(void **state)
{
    static const struct {
        struct catena_params p;
        size_t salt_len;
    } bad[] = {
        {{.lambda = 0, .min_garlic = 10, .garlic = 10, .hash_len = 32}, 20},
        {{.lambda = 4, .min_garlic = 0, .garlic = 10, .hash_len = 32}, 20},
        {{.lambda = 4, .min_garlic = 11, .garlic = 10, .hash_len = 32}, 20},
        {{.lambda = 4, .min_garlic = 10, .garlic = CATENA_GARLIC_MAX + 1, .hash_len = 32}, 20},
        {{.lambda = 4, .min_garlic = 255, .garlic = 255, .hash_len = 32}, 20},
        {{.lambda = 4, .min_garlic = 10, .garlic = 10, .hash_len = 0}, 20},
        {{.lambda = 4, .min_garlic = 10, .garlic = 10, .hash_len = CATENA_HLEN + 1}, 20},
        {{.lambda = 4, .min_garlic = 10, .garlic = 10, .hash_len = 32}, 256},
    };
    uint8_t salt[256] = {0}, out[CATENA_HLEN + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(out, 0xa5, sizeof(out));
        assert_int_equal(catena_hash(&bad[i].p, (const uint8_t *)"pw", 2, salt, bad[i].salt_len,
                                     NULL, 0, out),
                         -1);
        assert_int_equal(out[0], 0xa5);
    }
}

/* The smallest graphs (garlic 1 to 3: two to eight cells a row) run
 * clean under the sanitizers, deterministically, and salt, data and
 * password each change the result. */
static void test_catena_small_and_inputs(void **state)
{
    struct catena_params p = {.lambda = 1, .min_garlic = 1, .garlic = 3, .hash_len = 16};
    uint8_t a[16], b[16];
    const uint8_t *pw = (const uint8_t *)"pw";

    (void)state;
    assert_int_equal(catena_hash(&p, pw, 2, (const uint8_t *)"s", 1, NULL, 0, a), 0);
    assert_int_equal(catena_hash(&p, pw, 2, (const uint8_t *)"s", 1, NULL, 0, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(catena_hash(&p, pw, 2, (const uint8_t *)"t", 1, NULL, 0, b), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(catena_hash(&p, pw, 2, (const uint8_t *)"s", 1, (const uint8_t *)"d", 1, b),
                     0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(catena_hash(&p, pw, 0, NULL, 0, NULL, 0, b), 0);
    assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catena_raw),
        cmocka_unit_test(test_catena_params_refused),
        cmocka_unit_test(test_catena_small_and_inputs),
        cmocka_unit_test(test_rspamadm_vectors),
        cmocka_unit_test(test_cache),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
