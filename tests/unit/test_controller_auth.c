/*
 * test_controller_auth: the controller's authorisation decisions
 * (worker_controller_auth.c) as a table: configuration, client address,
 * password sent, privilege needed -> result and read_only.  Then the
 * failure counter: five wrong passwords lock an address out, other
 * addresses are unaffected, and the lock ends after its time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "daemon/worker_controller.h"

/* argon2id of "s3cret" and "en4ble" with the libsodium minimum limits,
 * made at start so the test needs no fixture files. */
static char hash_read[crypto_pwhash_STRBYTES], hash_enable[crypto_pwhash_STRBYTES];

struct auth_case {
    const char *name;
    const char *conf;            /* worker block body; %R / %E = the hashes */
    const char *peer;            /* NULL = unix socket */
    const char *password;
    const char *forwarded;
    enum ctl_priv need;
    enum ctl_auth_result want;
    bool want_read_only;
};

static const struct auth_case cases[] = {
    {"ping needs nothing", "password = \"%R\";", "192.0.2.1", NULL, NULL, CTL_PRIV_NONE,
     CTL_AUTH_OK, false},
    {"no passwords: loopback trusted for writes", "", "127.0.0.1", NULL, NULL, CTL_PRIV_ENABLE,
     CTL_AUTH_OK, false},
    {"no passwords: ::1 trusted", "", "::1", NULL, NULL, CTL_PRIV_ENABLE, CTL_AUTH_OK, false},
    {"no passwords: remote read open (spec 5.1)", "", "192.0.2.1", NULL, NULL, CTL_PRIV_READ,
     CTL_AUTH_OK, false},
    {"no passwords: remote write refused", "", "192.0.2.1", NULL, NULL, CTL_PRIV_ENABLE,
     CTL_AUTH_NO_ENABLE, false},
    {"password set: loopback must present it", "password = \"%R\";", "127.0.0.1", NULL, NULL,
     CTL_PRIV_READ, CTL_AUTH_MISSING, false},
    {"read password reads", "password = \"%R\"; enable_password = \"%E\";", "127.0.0.1",
     "s3cret", NULL, CTL_PRIV_READ, CTL_AUTH_OK, true},
    {"read password cannot write", "password = \"%R\"; enable_password = \"%E\";", "127.0.0.1",
     "s3cret", NULL, CTL_PRIV_ENABLE, CTL_AUTH_FORBIDDEN, true},
    {"enable password writes", "password = \"%R\"; enable_password = \"%E\";", "127.0.0.1",
     "en4ble", NULL, CTL_PRIV_ENABLE, CTL_AUTH_OK, false},
    {"enable password reads", "password = \"%R\"; enable_password = \"%E\";", "192.0.2.1",
     "en4ble", NULL, CTL_PRIV_READ, CTL_AUTH_OK, false},
    {"legacy: no enable_password, password writes", "password = \"%R\";", "127.0.0.1", "s3cret",
     NULL, CTL_PRIV_ENABLE, CTL_AUTH_OK, false},
    {"enable_password = false is unset", "password = \"%R\"; enable_password = \"false\";",
     "127.0.0.1", "s3cret", NULL, CTL_PRIV_ENABLE, CTL_AUTH_OK, false},
    {"wrong password", "password = \"%R\";", "127.0.0.1", "nope", NULL, CTL_PRIV_READ,
     CTL_AUTH_WRONG, false},
    {"plain text stored", "password = \"plainpw\";", "127.0.0.1", "plainpw", NULL, CTL_PRIV_READ,
     CTL_AUTH_OK, false},
    {"plain text, prefix is not enough", "password = \"plainpw\";", "127.0.0.1", "plain", NULL,
     CTL_PRIV_READ, CTL_AUTH_WRONG, false},
    {"q1 always refused", "password = \"q1\";", "127.0.0.1", "q1", NULL, CTL_PRIV_READ,
     CTL_AUTH_WRONG, false},
    {"secure_ip needs no password", "password = \"%R\"; secure_ip = \"10.0.0.0/8\";", "10.1.2.3",
     NULL, NULL, CTL_PRIV_ENABLE, CTL_AUTH_OK, false},
    {"secure_ip list", "password = \"%R\"; secure_ip = [\"10.0.0.0/8\", \"::1\"];", "::1", NULL,
     NULL, CTL_PRIV_ENABLE, CTL_AUTH_OK, false},
    {"secure proxy forwarding a stranger", "password = \"%R\"; secure_ip = \"127.0.0.1\";",
     "127.0.0.1", NULL, "203.0.113.5", CTL_PRIV_READ, CTL_AUTH_MISSING, false},
    {"secure proxy forwarding a secure client", "password = \"%R\"; secure_ip = \"127.0.0.1\";",
     "127.0.0.1", NULL, "198.51.100.1, 127.0.0.1", CTL_PRIV_READ, CTL_AUTH_OK, false},
    {"secure proxy forwarding garbage is not trusted", "password = \"%R\"; secure_ip = \"127.0.0.1\";",
     "127.0.0.1", NULL, "not-an-address", CTL_PRIV_READ, CTL_AUTH_MISSING, false},
    {"forwarded header from a stranger is ignored", "password = \"%R\"; secure_ip = \"127.0.0.1\";",
     "192.0.2.1", NULL, "127.0.0.1", CTL_PRIV_READ, CTL_AUTH_MISSING, false},
    {"unix socket follows password rules", "password = \"%R\";", NULL, "s3cret", NULL,
     CTL_PRIV_READ, CTL_AUTH_OK, false},
    /* made by rspamadm 3.4: `rspamadm pw -t pbkdf2 -p test` */
    {"rspamd $1$ (pbkdf2) verified",
     "password = \"$1$ymj6ekrc6fizufqwsxwpttrtaiss3gu6$spozpg3jrqqeqa7hjbqb8cubji4nxwo5w3iqa3qm8iuzj8x95fxb\";",
     "127.0.0.1", "test", NULL, CTL_PRIV_READ, CTL_AUTH_OK, false},
    {"rspamd $1$ wrong password",
     "password = \"$1$ymj6ekrc6fizufqwsxwpttrtaiss3gu6$spozpg3jrqqeqa7hjbqb8cubji4nxwo5w3iqa3qm8iuzj8x95fxb\";",
     "127.0.0.1", "tesT", NULL, CTL_PRIV_READ, CTL_AUTH_WRONG, false},
    {"rspamd $1$ malformed never matches", "password = \"$1$!!$zz\";", "127.0.0.1", "test",
     NULL, CTL_PRIV_READ, CTL_AUTH_WRONG, false},
    {"rspamd $2$ hash never matches", "password = \"$2$abc$def\";", "127.0.0.1", "$2$abc$def",
     NULL, CTL_PRIV_READ, CTL_AUTH_WRONG, false},
};

static char *expand(const char *tmpl, char *out, size_t outsz)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < outsz; p++) {
        const char *sub = NULL;
        if (p[0] == '%' && p[1] == 'R')
            sub = hash_read;
        else if (p[0] == '%' && p[1] == 'E')
            sub = hash_enable;
        if (sub != NULL) {
            size_t n = strlen(sub);
            assert_true(o + n < outsz);
            memcpy(out + o, sub, n);
            o += n;
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}

static void configure(struct arena *a, const char *tmpl, struct ctl_auth_conf *ac)
{
    char text[1024];
    const char *err = NULL;
    struct conf_parse_opts po = {.no_includes = true};
    struct conf_obj *o;

    expand(tmpl, text, sizeof(text));
    o = conf_parse_buf(a, "test", text, strlen(text), &po, &err);
    assert_non_null(o);
    assert_int_equal(ctl_auth_configure(ac, o, a, &err), 0);
}

static void peer_addr(const char *s, struct netaddr *a)
{
    memset(a, 0, sizeof(*a));
    if (s != NULL)
        assert_int_equal(netaddr_parse(s, strlen(s), a), 0);
}

static void test_decisions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct auth_case *tc = &cases[i];
        struct arena *a = arena_new(0);
        struct ctl_auth_conf ac;
        struct netaddr peer;
        bool ro = false;
        double retry = 0;

        ctl_auth_reset_state();
        configure(a, tc->conf, &ac);
        peer_addr(tc->peer, &peer);
        struct ctl_auth_check chk = {&peer, tc->password, tc->forwarded, tc->need, 1000.0};
        enum ctl_auth_result got = ctl_auth_decide(&ac, &chk, &ro, &retry);
        if (got != tc->want || ro != tc->want_read_only)
            fail_msg("%s: got %d read_only %d, want %d read_only %d", tc->name, got, ro, tc->want,
                     tc->want_read_only);
        arena_free(&a);
    }
}

static enum ctl_auth_result try_pw(const struct ctl_auth_conf *ac, const char *ip,
                                   const char *pw, double now, double *retry)
{
    struct netaddr peer;
    bool ro;

    peer_addr(ip, &peer);
    struct ctl_auth_check chk = {&peer, pw, NULL, CTL_PRIV_READ, now};
    return ctl_auth_decide(ac, &chk, &ro, retry);
}

static void test_rate_limit(void **state)
{
    struct arena *a = arena_new(0);
    struct ctl_auth_conf ac;
    double retry = 0;

    (void)state;
    ctl_auth_reset_state();
    configure(a, "password = \"%R\";", &ac);
    for (int i = 0; i < 5; i++)
        assert_int_equal(try_pw(&ac, "192.0.2.7", "wrong", 100.0 + i, &retry), CTL_AUTH_WRONG);
    /* locked now, even with the right password */
    assert_int_equal(try_pw(&ac, "192.0.2.7", "s3cret", 106.0, &retry), CTL_AUTH_LOCKED);
    assert_true(retry > 0 && retry <= 60);
    /* a missing password is not a failed attempt, and others are unaffected */
    assert_int_equal(try_pw(&ac, "192.0.2.8", NULL, 106.0, &retry), CTL_AUTH_MISSING);
    assert_int_equal(try_pw(&ac, "192.0.2.8", "s3cret", 106.0, &retry), CTL_AUTH_OK);
    /* the lock ends */
    assert_int_equal(try_pw(&ac, "192.0.2.7", "s3cret", 170.0, &retry), CTL_AUTH_OK);
    /* failures spread beyond the window do not add up */
    for (int i = 0; i < 8; i++)
        assert_int_equal(try_pw(&ac, "192.0.2.9", "wrong", 200.0 + i * 61.0, &retry),
                         CTL_AUTH_WRONG);
    arena_free(&a);
}

static void test_rspamd_hash_detect(void **state)
{
    (void)state;
    assert_true(ctl_auth_is_rspamd_hash("$2$abc$def"));
    assert_true(ctl_auth_is_rspamd_hash("$1$x$y"));
    assert_false(ctl_auth_is_rspamd_hash("$argon2id$v=19$..."));
    assert_false(ctl_auth_is_rspamd_hash("plain"));
    assert_false(ctl_auth_is_rspamd_hash("$"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decisions),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_rspamd_hash_detect),
    };
    if (sodium_init() < 0 ||
        crypto_pwhash_str(hash_read, "s3cret", 6, crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN) != 0 ||
        crypto_pwhash_str(hash_enable, "en4ble", 6, crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN) != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
