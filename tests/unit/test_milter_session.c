/*
 * The milter session state machine and the replies at end of message
 * (proto/milter/session.c, reply.c).  Table-driven: each case is a script
 * of MTA commands, the results the scan returns at each end of message,
 * and the exact reply frames wanted.  Every case runs twice, with the
 * whole input at once and one byte at a time, and must give the same
 * bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/milter/codec.h"
#include "proto/milter/session.h"

/* ---- building the MTA's side ---- */

/* "name=value" pairs separated by spaces -> NUL-separated strings. */
static void put_pairs(struct buf *d, const char *s)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", s);
    for (char *save = NULL, *tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        *eq = '\0';
        buf_append(d, tok, strlen(tok) + 1);
        buf_append(d, eq + 1, strlen(eq + 1) + 1);
    }
}

/* One script line -> one frame (see the cases for the syntax). */
static void encode_line(struct buf *b, const char *line)
{
    struct buf d = BUF_INIT;
    char cmd = line[0];
    const char *arg = line[1] == ' ' ? line + 2 : line + 1;
    switch (cmd) {
    case 'O': {
        struct milter_optneg o = {6, 0x1ff, 0x1fffff};
        if (strcmp(arg, "v2") == 0)
            o.version = 2;
        if (strcmp(arg, "noNR") == 0)
            o.protocol = 0;
        milter_encode_optneg(b, &o);
        buf_free(&d);
        return;
    }
    case 'D':                    /* "DC name=value ..." */
        buf_putc(&d, arg[0]);
        put_pairs(&d, arg + 2);
        break;
    case 'C': {                  /* "C host 4 1.2.3.4"; a bare "C": no payload at all */
        char host[64], fam, addr[64];
        if (sscanf(arg, "%63s %c %63s", host, &fam, addr) != 3)
            break;
        buf_append(&d, host, strlen(host) + 1);
        buf_putc(&d, fam);
        buf_append(&d, "\x00\x19", 2);
        buf_append(&d, addr, strlen(addr) + 1);
        break;
    }
    case 'L': {                  /* "L Name: value" */
        const char *colon = strchr(arg, ':');
        buf_append(&d, arg, (size_t)(colon - arg));
        buf_putc(&d, '\0');
        buf_append(&d, colon + 2, strlen(colon + 2) + 1);
        break;
    }
    case 'B':
        buf_append(&d, arg, strlen(arg));
        break;
    case 'Z':                    /* a frame announcing 2 GiB */
        buf_append(b, "\x7f\xff\xff\xff" "B", 5);
        buf_free(&d);
        return;
    case 'N': case 'E': case 'A': case 'K': case 'Q': case 'T':
        break;
    default:                     /* H M R: one string */
        buf_append(&d, arg, strlen(arg) + 1);
    }
    milter_encode(b, cmd, d.data, d.len);
    buf_free(&d);
}

/* ---- reading our side ---- */

static uint32_t u32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Reply frames as text: "O 6 1ff ff080;m 2 X-Spam=;a". */
static void render(const struct buf *out, char *text, size_t size)
{
    size_t off = 0, t = 0;
    text[0] = '\0';
    while (off + 5 <= out->len) {
        uint32_t len = u32(out->data + off);
        char cmd = out->data[off + 4];
        const char *d = out->data + off + 5;
        size_t dl = len - 1;
        char one[512];
        if (cmd == 'O')
            snprintf(one, sizeof(one), "O %u %x %x", u32(d), u32(d + 4), u32(d + 8));
        else if (cmd == 'm' || cmd == 'i')
            snprintf(one, sizeof(one), "%c %u %s=%s", cmd, u32(d), d + 4, d + 4 + strlen(d + 4) + 1);
        else if (cmd == 'h')
            snprintf(one, sizeof(one), "h %s=%s", d, d + strlen(d) + 1);
        else if (dl > 0)
            snprintf(one, sizeof(one), "%c %s", cmd, d);
        else
            snprintf(one, sizeof(one), "%c", cmd);
        t += (size_t)snprintf(text + t, size - t, "%s%s", t ? ";" : "", one);
        off += 4 + len;
    }
}

/* ---- the cases ---- */

static const struct milter_hdr_op ham_ops[] = {
    {"X-Spam", NULL, 0},
    {"X-Spamd-Result", NULL, 0},
    {"X-Spamd-Result", "default: False [0.00 / 15.00]", -1},
    {"X-Spam-Status", "No, score=0.00", -1},
};
static const struct milter_result ham = {.action = "no action", .ops = ham_ops, .nops = 4};
static const struct milter_result gtube = {.action = "reject", .smtp_message = "Gtube pattern"};
static const struct milter_result reject_plain = {.action = "reject"};
static const struct milter_result soft = {.action = "soft reject"};
static const struct milter_result rewrite = {.action = "rewrite subject",
                                             .subject = "***SPAM*** hi"};
static const struct milter_result addhdr = {.action = "add header"};
static const struct milter_result discard = {.action = "discard"};
static const struct milter_result quarantine = {.action = "quarantine"};
static const struct milter_result greylist = {.action = "greylist"};
static const struct milter_result custom = {.action = "my_custom"};
static const struct milter_result noaction_flag = {.action = "reject", .no_action = true};
static const struct milter_result reject_discard = {.action = "reject", .reject_mode = "discard"};
static const char *const sigs[] = {"v=1; a=rsa-sha256; d=example.org", "v=1; d=example.net"};
static const struct milter_result dkim = {.action = "no action", .dkim = sigs, .ndkim = 2};
static const struct milter_result none = {.action = NULL};
static const struct milter_hdr_op rel_ops[] = {
    {"Received", NULL, -1}, {"Received", NULL, 1}, {"X-Top", "1", 1}, {"X-Mid", "2", 0},
};
static const struct milter_result relative = {.action = "no action", .ops = rel_ops, .nops = 4};
static const struct milter_result spamhdr = {.action = "add header", .spam_header = "Maybe"};

static const struct milter_reply_opts opts_default = {0};
static const struct milter_reply_opts opts_discard = {.discard_on_reject = true};
static const struct milter_reply_opts opts_quar = {.quarantine_on_reject = true};
static const struct milter_reply_opts opts_custom = {.spam_header = "X-Junk",
                                                     .reject_message = "Go away"};

#define MSG "DC j=mx.example {daemon_name}=mx", "C client.example 4 192.0.2.1", "H helo.example", \
            "DM {i}=4ABC", "M <a@example.org>", "R <b@example.com>", "L Subject: hi"
#define OPT "O 6 1ff ff080"
#define FAIL ((const struct milter_result *)1)  /* answer with the failure mode */

struct session_case {
    const char *name;
    const char *script[24];
    const struct milter_result *answers[4];
    const struct milter_reply_opts *opts;
    size_t max_frame, max_message;
    const char *want;
    int want_rc;                 /* last feed: 0 fine, -1 protocol error, 2 closed by QUIT */
};

static const struct session_case cases[] = {
    {"ham: spoofed X-Spam removed last first, headers added",
     {"O", MSG, "L X-Spam: yes", "L X-Spam: YES", "N", "B Hello\r\n", "E"}, {&ham}, NULL, 0, 0,
     OPT ";m 2 X-Spam=;m 1 X-Spam=;h X-Spamd-Result=default: False [0.00 / 15.00];"
         "h X-Spam-Status=No, score=0.00;a", 0},
    {"gtube: 554 with the scanner's message", {"O", MSG, "N", "B x", "E"}, {&gtube}, NULL, 0, 0,
     OPT ";y 554 5.7.1 Gtube pattern", 0},
    {"reject without message: reject_message", {"O", MSG, "N", "E"}, {&reject_plain},
     &opts_custom, 0, 0, OPT ";y 554 5.7.1 Go away", 0},
    {"reject without message: default text", {"O", MSG, "N", "E"}, {&reject_plain}, NULL, 0, 0,
     OPT ";y 554 5.7.1 Spam message rejected", 0},
    {"discard_on_reject", {"O", MSG, "N", "E"}, {&gtube}, &opts_discard, 0, 0, OPT ";d", 0},
    {"quarantine_on_reject", {"O", MSG, "N", "E"}, {&gtube}, &opts_quar, 0, 0,
     OPT ";q Spam message quarantined;a", 0},
    {"milter.reject = discard", {"O", MSG, "N", "E"}, {&reject_discard}, NULL, 0, 0, OPT ";d", 0},
    {"soft reject", {"O", MSG, "N", "E"}, {&soft}, NULL, 0, 0, OPT ";y 451 4.7.1 Try again later",
     0},
    {"rewrite subject", {"O", MSG, "N", "E"}, {&rewrite}, NULL, 0, 0,
     OPT ";m 1 Subject=***SPAM*** hi;a", 0},
    {"add header: old X-Spam deleted, then set", {"O", MSG, "L X-Spam: no", "N", "E"}, {&addhdr},
     NULL, 0, 0, OPT ";m 1 X-Spam=;m 1 X-Spam=Yes;a", 0},
    {"add header: configured spam_header", {"O", MSG, "N", "E"}, {&addhdr}, &opts_custom, 0, 0,
     OPT ";m 1 X-Junk=Yes;a", 0},
    {"add header: milter.spam_header", {"O", MSG, "N", "E"}, {&spamhdr}, NULL, 0, 0,
     OPT ";m 1 X-Spam=Maybe;a", 0},
    {"greylist accepts", {"O", MSG, "N", "E"}, {&greylist}, NULL, 0, 0, OPT ";a", 0},
    {"custom action accepts", {"O", MSG, "N", "E"}, {&custom}, NULL, 0, 0, OPT ";a", 0},
    {"discard", {"O", MSG, "N", "E"}, {&discard}, NULL, 0, 0, OPT ";d", 0},
    {"quarantine", {"O", MSG, "N", "E"}, {&quarantine}, NULL, 0, 0,
     OPT ";q Spam message quarantined;a", 0},
    {"no_action: X-Rspamd-Action then accept", {"O", MSG, "N", "E"}, {&noaction_flag}, NULL, 0, 0,
     OPT ";h X-Rspamd-Action=reject;a", 0},
    {"dkim signatures at the top", {"O", MSG, "N", "E"}, {&dkim}, NULL, 0, 0,
     OPT ";i 1 DKIM-Signature=v=1; a=rsa-sha256; d=example.org;"
         "i 2 DKIM-Signature=v=1; d=example.net;a", 0},
    {"instances from the end, inserts by order",
     {"O", MSG, "L Received: a", "L Received: b", "L Received: c", "N", "E"}, {&relative}, NULL,
     0, 0, OPT ";m 3 Received=;m 1 Received=;i 1 X-Top=1;i 0 X-Mid=2;a", 0},
    {"no action in the result: tempfail", {"O", MSG, "N", "E"}, {&none}, NULL, 0, 0, OPT ";t", 0},
    {"scan failure: tempfail", {"O", MSG, "N", "E"}, {FAIL}, NULL, 0, 0, OPT ";t", 0},
    {"two messages on one connection, header counts per message",
     {"O", MSG, "L X-Spam: 1", "N", "E", "M <c@example.org>", "R <d@example.com>",
      "L X-Spam: 2", "L X-Spam: 3", "N", "E"},
     {&ham, &addhdr}, NULL, 0, 0,
     OPT ";m 1 X-Spam=;h X-Spamd-Result=default: False [0.00 / 15.00];"
         "h X-Spam-Status=No, score=0.00;a;m 2 X-Spam=;m 1 X-Spam=;m 1 X-Spam=Yes;a", 0},
    {"abort drops the message, the next one starts clean",
     {"O", MSG, "L X-Spam: 1", "L X-Spam: 2", "A", "M <c@example.org>", "R <d@example.com>",
      "N", "E"},
     {&addhdr}, NULL, 0, 0, OPT ";m 1 X-Spam=Yes;a", 0},
    {"quit-new-connection keeps the negotiation",
     {"O", MSG, "N", "E", "K", MSG, "N", "E"}, {&greylist, &gtube}, NULL, 0, 0,
     OPT ";a;y 554 5.7.1 Gtube pattern", 0},
    {"MTA without no-reply flags gets CONTINUE per stage",
     {"O noNR", "DC j=mx", "C h 4 192.0.2.1", "H helo", "M <a@b>", "R <c@d>", "T", "L A: b", "N",
      "B x", "E"},
     {&greylist}, NULL, 0, 0, "O 6 1ff 0;c;c;c;c;c;c;c;c;a", 0},
    {"QUIT closes", {"O", MSG, "Q"}, {NULL}, NULL, 0, 0, OPT, 2},
    {"version 2 refused", {"O v2"}, {NULL}, NULL, 0, 0, "", -1},
    {"command before negotiation refused", {"H helo"}, {NULL}, NULL, 0, 0, "", -1},
    {"negotiation twice refused", {"O", "O"}, {NULL}, NULL, 0, 0, OPT, -1},
    {"oversized frame refused", {"O", "Z"}, {NULL}, NULL, 0, 0, OPT, -1},
    {"frame over a small max_frame refused", {"O", "M <a@b>", "B 0123456789abcdefghijklmnopq"}, {NULL},
     NULL, 24, 0, OPT, -1},
    {"message over max_message: failure mode, connection kept",
     {"O", MSG, "N", "B 0123456789abcdefghijklmnopqrstuvwxyz", "E", "M <a@b>", "N", "E"},
     {FAIL, &greylist}, NULL, 0, 40, OPT ";t;a", 0},
    {"malformed connect refused", {"O", "C"}, {NULL}, NULL, 0, 0, OPT, -1},
};

struct run {
    struct milter_session *s;
    const struct session_case *c;
    size_t nanswer;
};

static int on_scan(struct run *r)
{
    const struct milter_result *res = r->c->answers[r->nanswer++];
    const struct milter_reply_opts *o = r->c->opts ? r->c->opts : &opts_default;
    const struct milter_envelope *env = milter_session_envelope(r->s);
    if (res == FAIL || env->over_limit != NULL) {
        assert_true(res == FAIL);
        milter_session_answer_failure(r->s, false);
    } else {
        assert_non_null(res);
        milter_session_answer(r->s, res, o);
    }
    return 0;
}

/* Feeds in[0..len) in steps of `step`; returns the last feed status. */
static int run_case(const struct session_case *c, const char *in, size_t len, size_t step,
                    struct buf *out)
{
    struct milter_session_limits lim = {.max_frame = c->max_frame, .max_message = c->max_message};
    struct run r = {milter_session_new(&lim), c, 0};
    int rc = 0;
    for (size_t off = 0; off < len && rc == 0;) {
        size_t n = len - off < step ? len - off : step;
        size_t used = 0;
        const char *err = NULL;
        int ev = milter_session_feed(r.s, in + off, n, &used, &err);
        off += used;
        if (ev < 0) {
            assert_non_null(err);
            rc = -1;
        } else if (ev == MILTER_EV_SCAN) {
            on_scan(&r);
        } else if (ev == MILTER_EV_CLOSE) {
            rc = 2;
        } else {
            assert_int_equal(used, n);
        }
    }
    struct buf *o = milter_session_output(r.s);
    buf_append(out, o->data, o->len);
    milter_session_free(&r.s);
    return rc;
}

static void test_cases(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct session_case *c = &cases[i];
        struct buf in = BUF_INIT, one = BUF_INIT, bytes = BUF_INIT;
        char got[4096];
        for (size_t k = 0; c->script[k] != NULL; k++)
            encode_line(&in, c->script[k]);
        int rc = run_case(c, in.data, in.len, in.len, &one);
        render(&one, got, sizeof(got));
        if (strcmp(got, c->want) != 0 || rc != c->want_rc)
            fail_msg("%s:\n got  %s (rc %d)\n want %s (rc %d)", c->name, got, rc, c->want,
                     c->want_rc);
        rc = run_case(c, in.data, in.len, 1, &bytes);
        assert_int_equal(rc, c->want_rc);
        assert_int_equal(bytes.len, one.len);
        assert_memory_equal(bytes.data, one.data, one.len);
        buf_free(&in);
        buf_free(&one);
        buf_free(&bytes);
    }
}

/* The envelope and message handed to the scan, and the macros. */
static void test_envelope(void **state)
{
    static const char *const script[] = {
        "O", "DC {daemon_name}=mx.example j=other", "C unknown 6 IPv6:2001:db8::1", "H helo.example",
        "DM {i}=4ABC i=4ABD", "M <a@example.org>", "R <b@example.com>", "R <c@example.com>",
        "L Subject: hi there", "L X-A: 1", "L x-a: 2", "N", "B Hello\r\n", "B World\r\n", "E", NULL};
    struct buf in = BUF_INIT;
    for (size_t k = 0; script[k]; k++)
        encode_line(&in, script[k]);
    struct milter_session *s = milter_session_new(NULL);
    size_t used;
    const char *err;
    assert_int_equal(milter_session_feed(s, in.data, in.len, &used, &err), MILTER_EV_SCAN);
    assert_int_equal(used, in.len);
    const struct milter_envelope *env = milter_session_envelope(s);
    assert_string_equal(env->hostname, "unknown");
    assert_int_equal(env->family, '6');
    assert_string_equal(env->addr, "IPv6:2001:db8::1");
    assert_string_equal(env->helo, "helo.example");
    assert_string_equal(env->from, "<a@example.org>");
    assert_int_equal(env->nrcpts, 2);
    assert_string_equal(env->rcpts[1], "<c@example.com>");
    static const char want[] = "Subject: hi there\r\nX-A: 1\r\nx-a: 2\r\n\r\nHello\r\nWorld\r\n";
    assert_int_equal(env->message_len, sizeof(want) - 1);
    assert_memory_equal(env->message, want, sizeof(want) - 1);
    assert_null(env->over_limit);
    assert_int_equal(milter_session_header_count(s, "X-a"), 2);
    assert_int_equal(milter_session_header_count(s, "Received"), 0);
    /* later values overwrite; braces or not, the same macro */
    assert_string_equal(milter_session_macro(s, "i"), "4ABD");
    assert_string_equal(milter_session_macro(s, "{i}"), "4ABD");
    assert_string_equal(milter_session_macro(s, "daemon_name"), "mx.example");
    assert_string_equal(milter_session_macro(s, "{j}"), "other");
    assert_null(milter_session_macro(s, "auth_authen"));
    milter_session_answer_failure(s, true);
    milter_session_free(&s);
    buf_free(&in);
}

/* A scan in progress holds the input back: nothing is consumed. */
static void test_input_waits_during_scan(void **state)
{
    struct buf in = BUF_INIT;
    encode_line(&in, "O");
    encode_line(&in, "M <a@b>");
    encode_line(&in, "E");
    size_t first = in.len;
    encode_line(&in, "Q");
    struct milter_session *s = milter_session_new(NULL);
    size_t used;
    const char *err;
    assert_int_equal(milter_session_feed(s, in.data, in.len, &used, &err), MILTER_EV_SCAN);
    assert_int_equal(used, first);
    assert_int_equal(milter_session_feed(s, in.data + used, in.len - used, &used, &err),
                     MILTER_EV_NONE);
    assert_int_equal(used, 0);
    milter_session_answer(s, &greylist, NULL);
    assert_int_equal(milter_session_feed(s, in.data + first, in.len - first, &used, &err),
                     MILTER_EV_CLOSE);
    milter_session_free(&s);
    buf_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_input_waits_during_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
