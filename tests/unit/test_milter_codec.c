#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/milter/codec.h"

/* Decodes all of in[0..len) in chunks of `step` bytes; records the command
 * letters of the frames and the total data length. */
static int decode_all(const char *in, size_t len, size_t step, char *cmds, size_t *datalen)
{
    struct milter_decoder *d = milter_decoder_new(1024);
    size_t off = 0, ncmd = 0;
    *datalen = 0;
    int rc = 0;
    while (off < len) {
        size_t chunk = len - off < step ? len - off : step;
        size_t pos = 0;
        while (pos < chunk) {
            struct milter_frame f;
            size_t used;
            const char *err;
            rc = milter_decoder_feed(d, in + off + pos, chunk - pos, &used, &f, &err);
            if (rc < 0)
                goto out;
            if (rc == 1) {
                cmds[ncmd++] = f.cmd;
                *datalen += f.len;
            }
            pos += used;
        }
        off += chunk;
    }
out:
    cmds[ncmd] = '\0';
    milter_decoder_free(&d);
    return rc < 0 ? -1 : 0;
}

static void test_session_any_split(void **state)
{
    struct buf b = BUF_INIT;
    struct milter_optneg o = {6, 0x1ff, 0x1fffff};
    milter_encode_optneg(&b, &o);
    milter_encode(&b, 'H', "helo.example", 13);
    milter_encode(&b, 'M', "<a@example.org>", 16);
    milter_encode(&b, 'L', "Subject\0 hi", 12);
    milter_encode_simple(&b, 'N');
    milter_encode(&b, 'B', "Hello\r\n", 7);
    milter_encode_simple(&b, 'E');
    static const size_t steps[] = {1, 2, 3, 5, 7, 64, 4096};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        char cmds[16];
        size_t datalen;
        assert_int_equal(decode_all(b.data, b.len, steps[i], cmds, &datalen), 0);
        assert_string_equal(cmds, "OHMLNBE");
        assert_int_equal(datalen, 12 + 13 + 16 + 12 + 7);
    }
    buf_free(&b);
}

static void test_limits(void **state)
{
    char cmds[16];
    size_t datalen;
    static const struct {
        const char *in;
        size_t len;
    } bad[] = {
        {"\0\0\0\0", 4},                 /* zero length */
        {"\x00\x00\x10\x00O", 5},        /* 4096 > 1024 limit */
        {"\xff\xff\xff\xffO", 5},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode_all(bad[i].in, bad[i].len, 1, cmds, &datalen), -1);
}

static void test_connect_and_header(void **state)
{
    static const struct {
        const char *data;
        size_t len;
        int ok;
        char family;
        const char *addr;
    } cases[] = {
        {"mx.example\0" "4\0\x19" "192.0.2.1", 24, 0, '4', "192.0.2.1"},
        {"unknown\0U", 9, 0, 'U', NULL},
        {"h\0" "6\0\x19" "IPv6:::1", 14, 0, '6', "IPv6:::1"},
        {"h\0" "4\0\x19" "192.0.2.1", 14, -1, 0, NULL},       /* address not terminated */
        {"h\0" "9\0\x19" "x", 7, -1, 0, NULL},                 /* bad family */
        {"h\0" "4\0", 5, -1, 0, NULL},                         /* truncated port */
        {"no-nul", 6, -1, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct milter_frame f = {'C', cases[i].data, cases[i].len};
        struct milter_connect c;
        const char *err;
        assert_int_equal(milter_parse_connect(&f, &c, &err), cases[i].ok);
        if (cases[i].ok == 0) {
            assert_int_equal(c.family, cases[i].family);
            if (cases[i].addr != NULL)
                assert_string_equal(c.addr, cases[i].addr);
        }
    }
    struct milter_frame h = {'L', "X-A\0v\0", 6};
    const char *n, *v, *err;
    size_t nl, vl;
    assert_int_equal(milter_parse_header(&h, &n, &nl, &v, &vl, &err), 0);
    assert_int_equal(nl, 3);
    assert_int_equal(vl, 1);
    struct milter_frame h2 = {'L', "X-A\0v", 5};
    assert_int_equal(milter_parse_header(&h2, &n, &nl, &v, &vl, &err), -1);
}

static void test_encode_insheader(void **state)
{
    struct buf b = BUF_INIT;
    milter_encode_insheader(&b, 1, "DKIM-Signature", "v=1");
    static const char want[] = "\x00\x00\x00\x18" "i" "\x00\x00\x00\x01" "DKIM-Signature\0v=1";
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_any_split),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_connect_and_header),
        cmocka_unit_test(test_encode_insheader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
