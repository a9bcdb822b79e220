/*
 * Unit tests for message_parse() as a whole: envelope fields and
 * addresses, the MIME tree, transfer and charset decoding, text parts,
 * URLs from text and HTML, limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "mime/message.h"

static struct arena *arena;

static int setup(void **state)
{
    (void)state;
    mime_global_init();
    arena = arena_new(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&arena);
    return 0;
}

/* Parses from an exact-size heap copy (ASan catches over-reads); the copy
 * lives until teardown through an arena cleanup. */
static struct message *parse(const char *text, const struct mime_limits *lim, int want_rc)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    arena_cleanup_add(arena, free, copy);
    struct message *m = NULL;
    const char *err = NULL;
    assert_int_equal(message_parse(arena, copy, len, lim, &m, &err), want_rc);
    return m;
}

struct addr_case {
    const char *header;          /* value of From: */
    size_t want_n;
    const char *want_name0;      /* NULL: none */
    const char *want_addr0;      /* NULL: none */
    const char *want_domain0;
    bool want_invalid0;
};

static const struct addr_case addr_cases[] = {
    {"John Doe <John@Example.COM>", 1, "John Doe", "John@Example.COM", "example.com", false},
    {"\"Doe, John\" <j@x.org>", 1, "Doe, John", "j@x.org", "x.org", false},
    {"=?utf-8?q?J=C3=BCrgen?= <j@x.de>", 1, "J\xc3\xbcrgen", "j@x.de", "x.de", false},
    {"plain@x.com", 1, NULL, "plain@x.com", "x.com", false},
    {"a@x.com, B <b@y.com>", 2, NULL, "a@x.com", "x.com", false},
    {"undisclosed-recipients:;", 1, "undisclosed-recipients", NULL, NULL, false},
    {"team: a@x.com, b@x.com;", 3, "team", NULL, NULL, false},
    {"garbage without at", 1, NULL, NULL, NULL, true},
    {"<>", 1, NULL, NULL, NULL, true},
};

static void test_addresses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
        const struct addr_case *c = &addr_cases[i];
        char buf[512];
        snprintf(buf, sizeof(buf), "From: %s\r\nTo: x@y.com\r\n\r\nhi\r\n", c->header);
        print_message("case %zu: %s\n", i, c->header);
        struct message *m = parse(buf, NULL, 0);
        assert_int_equal(m->from.n, c->want_n);
        const struct mime_address *a = &m->from.a[0];
        if (c->want_name0)
            assert_string_equal(a->name, c->want_name0);
        else
            assert_null(a->name);
        if (c->want_addr0) {
            assert_string_equal(a->addr, c->want_addr0);
            assert_string_equal(a->domain, c->want_domain0);
        } else {
            assert_null(a->addr);
        }
        assert_int_equal(a->invalid, c->want_invalid0);
        assert_int_equal(m->to.n, 1);
    }
}

static void test_envelope(void **state)
{
    (void)state;
    struct message *m = parse("Message-ID:  <abc@host.example>\r\n"
                              "Subject: =?utf-8?b?SGVsbG8=?= world\r\n"
                              "Date: Thu, 01 Jan 2015 00:00:00 +0000\r\n"
                              "To: a@x.com\r\nTo: b@x.com\r\nCc: c@x.com, d@x.com\r\n"
                              "Reply-To: r@x.com\r\nSender: s@x.com\r\n\r\nbody\r\n",
                              NULL, 0);
    assert_string_equal(m->message_id, "abc@host.example");
    assert_string_equal(m->subject, "Hello world");
    assert_true(m->date_present);
    assert_int_equal(m->date, 1420070400);
    assert_int_equal(m->to.n, 2);
    assert_int_equal(m->cc.n, 2);
    assert_string_equal(m->reply_to.a[0].addr, "r@x.com");
    assert_string_equal(m->sender.a[0].addr, "s@x.com");
    assert_true(m->crlf);
    assert_false(m->header_block_broken);
    assert_int_equal(m->body_len, 6);
    assert_int_equal(message_header_count(m, "to"), 2);
    assert_string_equal(message_header_nth(m, "TO", 1)->decoded, "b@x.com");
    assert_null(message_header(m, "X-Nope"));

    m = parse("Date: not a date\nSubject:\n\n", NULL, 0);
    assert_true(m->date_present);
    assert_int_equal(m->date, -1);
    assert_null(m->message_id);
    assert_string_equal(m->subject, "");
    assert_false(m->crlf);

    m = parse("X: 1\n\n", NULL, 0);
    assert_false(m->date_present);
    assert_int_equal(m->date, -1);
}

static const char multipart[] =
    "From: a@x.com\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"B1\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--B1\r\n"
    "Content-Type: multipart/alternative; boundary=B2\r\n"
    "\r\n"
    "--B2\r\n"
    "Content-Type: text/plain; charset=ISO-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=E9 http://plain.example.com/x =\r\n"
    "soft\r\n"
    "--B2\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PHA+SGkgPGEgaHJlZj0iaHR0cDovL2V2aWwuZXhhbXBsZS5uZXQvIj53d3cucGF5cGFsLmNvbTwv\r\n"
    "YT48L3A+\r\n"
    "--B2--\r\n"
    "--B1\r\n"
    "Content-Type: application/pdf; name=\"doc.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"doc.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQK\r\n"
    "--B1\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "Content-Type: text/plain; charset=koi8-r\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "\xf0\xd2\xc9\xd7\xc5\xd4\r\n"
    "--B1--\r\n";

static void test_tree(void **state)
{
    (void)state;
    struct message *m = parse(multipart, NULL, 0);
    /* 0 mixed, 1 alternative, 2 plain, 3 html, 4 pdf, 5 rfc822, 6 inner plain */
    assert_int_equal(m->nparts, 7);
    assert_true(m->parts[0].is_multipart);
    assert_null(m->parts[0].headers);
    assert_int_equal(m->parts[0].nchildren, 3);
    assert_string_equal(m->parts[1].subtype, "alternative");
    assert_int_equal(m->parts[1].parent, 0);
    assert_int_equal(m->parts[2].depth, 2);
    assert_string_equal(m->parts[2].charset, "iso-8859-1");
    assert_string_equal(m->parts[2].cte, "quoted-printable");
    assert_non_null(m->parts[2].headers);
    assert_string_equal(m->parts[2].headers->name, "Content-Type");
    assert_true(m->parts[3].is_html);
    assert_true(m->parts[4].is_attachment);
    assert_false(m->parts[4].is_text);
    assert_string_equal(m->parts[4].filename, "doc.pdf");
    assert_int_equal(m->parts[4].decoded_size, 9);
    assert_memory_equal(m->parts[4].content, "%PDF-1.4\n", 9);
    assert_string_equal(m->parts[5].type, "message");
    assert_int_equal(m->parts[6].parent, 5);
    assert_string_equal(m->parts[6].headers->name, "Subject");

    assert_int_equal(m->ntext_parts, 3);
    const struct text_part *plain = &m->text_parts[0], *html = &m->text_parts[1];
    assert_string_equal(plain->text, "caf\xc3\xa9 http://plain.example.com/x soft");
    assert_int_equal(plain->nwords, 7);
    assert_true(html->html);
    assert_string_equal(html->text, "Hi www.paypal.com");
    assert_int_equal(html->html_links, 1);
    assert_string_equal(m->text_parts[2].text, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");

    /* plain.example.com from text, evil.example.net from HTML (phished),
     * www.paypal.com from the HTML text itself. */
    assert_int_equal(m->nurls, 3);
    bool phished = false;
    for (size_t i = 0; i < m->nurls; i++) {
        if (strcmp(m->urls[i].host, "evil.example.net") == 0) {
            phished = (m->urls[i].flags & URL_PHISHED) != 0;
            assert_string_equal(m->urls[i].anchor_host, "www.paypal.com");
        }
    }
    assert_true(phished);
}

struct flag_case {
    const char *msg;
    bool want_type_missing, want_charset_bad, want_cte_bad, want_mixed, want_empty;
    bool want_broken;
    const char *want_text;       /* of text part 0, NULL: no text part */
};

static const struct flag_case flag_cases[] = {
    {"Subject: x\n\nplain body\n", true, false, false, false, false, false, "plain body\n"},
    {"Content-Type: text/plain; charset=x-nonsense-42\n\nabc\n", false, true, false, false,
     false, false, "abc\n"},
    {"Content-Type: text/plain\nContent-Transfer-Encoding: 7bit\n\n\xe9t\xe9\n", false, false,
     true, false, false, false, "\xc3\xa9t\xc3\xa9\n"},
    {"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8*!\n", false, false,
     true, false, false, false, "hello"},
    {"Content-Type: text/plain\nContent-Transfer-Encoding: x-weird\n\nabc\n", false, false, true,
     false, false, false, "abc\n"},
    {"Content-Type: text/plain; charset=utf-8\n\nP\xd0\xb0yPal account\n", false, false, false,
     true, false, false, "P\xd0\xb0yPal account\n"},
    {"Content-Type: text/html\n\n<meta charset=\"windows-1251\"><p>\xcf\xf0\xe8\xe2\xe5\xf2",
     false, false, false, false, false, false,
     "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
    {"Content-Type: text/plain\n\n \r\n\t\n", false, false, false, false, true, false,
     " \r\n\t\n"},
    {"Subject: x\nbody without blank line\n", true, false, false, false, false, true,
     "body without blank line\n"},
    {"Content-Type: text/plain\n\na\0b\n", false, false, false, false, false, false, "a"},
    {"Content-Type: application/octet-stream\n\n\x01\x02", false, false, false, false, false,
     false, NULL},
    {"Content-Type: text/plain\nContent-Disposition: attachment\n\nx", false, false, false,
     false, false, false, NULL},
};

static void test_flags(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
        const struct flag_case *c = &flag_cases[i];
        print_message("case %zu\n", i);
        struct message *m = parse(c->msg, NULL, 0);
        const struct mime_part *p = &m->parts[0];
        assert_int_equal(p->type_missing, c->want_type_missing);
        assert_int_equal(p->charset_bad, c->want_charset_bad);
        assert_int_equal(p->cte_bad, c->want_cte_bad);
        assert_int_equal(m->header_block_broken, c->want_broken);
        if (c->want_text == NULL) {
            assert_int_equal(m->ntext_parts, 0);
            continue;
        }
        assert_int_equal(m->ntext_parts, 1);
        assert_string_equal(m->text_parts[0].text, c->want_text);
        assert_int_equal(m->text_parts[0].mixed_scripts, c->want_mixed);
        assert_int_equal(m->text_parts[0].empty, c->want_empty);
    }
}

static void test_invisible(void **state)
{
    (void)state;
    struct message *m = parse("Content-Type: text/plain; charset=utf-8\n\n"
                              "Vi\xe2\x80\x8b" "ag\xc2\xad" "ra \xef\xbb\xbf" "now\n", NULL, 0);
    assert_string_equal(m->text_parts[0].text, "Viagra now\n");
    assert_int_equal(m->text_parts[0].invisible, 3);
    assert_int_equal(m->text_parts[0].nwords, 2);
    assert_true(m->text_parts[0].utf8_len > m->text_parts[0].text_len);

    m = parse("Content-Type: text/plain; charset=utf-8\n\ncaf\xc3\xa9\n", NULL, 0);
    assert_ptr_equal(m->text_parts[0].text, m->text_parts[0].utf8);
    assert_int_equal(m->text_parts[0].invisible, 0);
}

static void test_limits(void **state)
{
    (void)state;
    struct mime_limits lim = {.max_headers = 3};
    parse("A: 1\nB: 2\nC: 3\nD: 4\n\n", &lim, -1);

    /* Deep nesting: cut at max_depth, still parsed. */
    char buf[16384] = "";
    for (int i = 0; i < 40; i++) {
        char one[128];
        snprintf(one, sizeof(one), "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
        strcat(buf, one);
    }
    strcat(buf, "Content-Type: text/plain\n\ndeep\n");
    struct mime_limits lim2 = {.max_depth = 5};
    struct message *m = parse(buf, &lim2, 0);
    assert_true(m->parts_truncated);
    assert_int_equal(m->nparts, 6);

    /* Past 2 * max_depth boundaries GMime's input is cut (its boundary
     * checks are quadratic in the nesting); the walk still sees the top. */
    buf[0] = '\0';
    for (int i = 0; i < 100; i++) {
        char one[128];
        snprintf(one, sizeof(one), "Content-Type: multipart/mixed; boundary=c%d\n\n--c%d\n", i, i);
        strcat(buf, one);
    }
    m = parse(buf, NULL, 0);
    assert_true(m->parts_truncated);
    assert_int_equal(m->nparts, 33);

    struct mime_limits lim3 = {.max_parts = 3};
    m = parse(multipart, &lim3, 0);
    assert_int_equal(m->nparts, 3);
    assert_true(m->parts_truncated);

    struct mime_limits lim4 = {.max_text_bytes = 4};
    m = parse("Content-Type: text/plain; charset=utf-8\n\nab\xc3\xa9xyz", &lim4, 0);
    assert_true(m->text_truncated);
    assert_string_equal(m->text_parts[0].text, "ab\xc3\xa9");
}

static void test_degenerate(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "", "\n", "\r\n\r\n", "From x\n", "Content-Type: multipart/mixed\n\nno boundary",
        "Content-Type: multipart/mixed; boundary=x\n\n--x\n", "Content-Type: message/rfc822\n\n",
        "Content-Type: /\n\n", "Content-Type: text/html\n\n<a href=",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct message *m = parse(inputs[i], NULL, 0);
        assert_true(m->nparts >= 1);
    }
    struct message *m = NULL;
    const char *err;
    assert_int_equal(message_parse(arena, NULL, 0, NULL, &m, &err), 0);
    assert_int_equal(m->nparts, 1);
}

/* Single-part messages take a fast path that skips GMime's parser; the same
 * part wrapped in a multipart goes through GMime.  Both must agree. */
static const char *const single_parts[] = {
    "Content-Type: text/plain; charset=\"ISO-8859-1\"\nContent-Transfer-Encoding: "
    "quoted-printable\n\nd=E9j=E0 vu http://x.example/a\n",
    "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
    "PGI+aGk8L2I+IDxhIGhyZWY9Imh0dHA6Ly9hLmNvbS8iPmI8L2E+\n",
    "Content-Type: application/pdf; name=\"=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=\"\n"
    "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n",
    "Content-Type: text/plain\nContent-Disposition: attachment; filename*=utf-8''%C3%A9.txt\n\nx\n",
    "Content-Type: TEXT/Plain; CHARSET=KOI8-R\nContent-Transfer-Encoding: 8BIT\n\n\xf0\xd2\xc9\n",
    "Content-Type: text/plain; charset=x-nonsense\n\nabc\n",
    "Content-Type: image/png\nContent-Transfer-Encoding: 7bit\n\n\x89PNG\n",
};

static void test_fast_path_equivalence(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(single_parts) / sizeof(single_parts[0]); i++) {
        char wrapped[2048];
        print_message("case %zu\n", i);
        snprintf(wrapped, sizeof(wrapped),
                 "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n%s\n--zz--\n",
                 single_parts[i]);
        struct message *a = parse(single_parts[i], NULL, 0);
        struct message *b = parse(wrapped, NULL, 0);
        assert_int_equal(a->nparts, 1);
        assert_int_equal(b->nparts, 2);
        const struct mime_part *pa = &a->parts[0], *pb = &b->parts[1];
        assert_string_equal(pa->type, pb->type);
        assert_string_equal(pa->subtype, pb->subtype);
        assert_string_equal(pa->charset ? pa->charset : "-", pb->charset ? pb->charset : "-");
        assert_string_equal(pa->cte ? pa->cte : "-", pb->cte ? pb->cte : "-");
        assert_string_equal(pa->filename ? pa->filename : "-", pb->filename ? pb->filename : "-");
        assert_int_equal(pa->is_attachment, pb->is_attachment);
        assert_int_equal(pa->is_text, pb->is_text);
        assert_int_equal(pa->is_html, pb->is_html);
        assert_int_equal(pa->charset_bad, pb->charset_bad);
        assert_int_equal(pa->cte_bad, pb->cte_bad);
        assert_int_equal(pa->decoded_size, pb->decoded_size);
        assert_int_equal(a->ntext_parts, b->ntext_parts);
        if (a->ntext_parts > 0)
            assert_string_equal(a->text_parts[0].text, b->text_parts[0].text);
        assert_int_equal(a->nurls, b->nurls);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses), cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_tree),      cmocka_unit_test(test_flags),
        cmocka_unit_test(test_limits),    cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_fast_path_equivalence),
        cmocka_unit_test(test_invisible),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
