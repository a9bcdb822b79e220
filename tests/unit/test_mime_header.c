/*
 * Unit tests for src/mime/header.c: the raw header reader and the value
 * decoder.  Table-driven; each block is also re-read from an exact-size
 * heap copy so ASan sees any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "mime/header.h"
#include "mime/message.h"

struct block_case {
    const char *name;
    const char *in;
    int want_rc;                 /* of the last call: 0 end, -1 limit */
    size_t want_count;
    const char *want_names;      /* names joined by '|' */
    const char *want_first_raw;  /* raw bytes of the first field, or NULL */
    const char *want_first_decoded;
    bool want_broken;
    bool want_crlf;
    size_t want_body_offset;     /* (size_t)-1: strlen(in) */
    struct mime_limits lim;
};

#define ALL ((size_t)-1)

static const struct block_case block_cases[] = {
    {"crlf", "From: a@b\r\nTo: c@d\r\n\r\nbody", 0, 2, "From|To", "From: a@b\r\n", "a@b", false,
     true, 22, {0}},
    {"bare lf", "From: a@b\nTo: c@d\n\nbody", 0, 2, "From|To", "From: a@b\n", "a@b", false,
     false, 19, {0}},
    {"folding", "Subject: one\r\n two\r\n\tthree\r\nX: y\r\n\r\n", 0, 2, "Subject|X",
     "Subject: one\r\n two\r\n\tthree\r\n", "one two\tthree", false, true, ALL, {0}},
    {"space before colon", "Subject : hi\n\n", 0, 1, "Subject", "Subject : hi\n", "hi", false,
     false, ALL, {0}},
    {"empty value", "X-Empty:\nY: 1\n\n", 0, 2, "X-Empty|Y", "X-Empty:\n", "", false, false, ALL,
     {0}},
    {"no blank line at eof", "A: 1\nB: 2\n", 0, 2, "A|B", "A: 1\n", "1", true, false, ALL, {0}},
    {"no final newline", "A: 1\nB: 2", 0, 2, "A|B", "A: 1\n", "1", true, false, ALL, {0}},
    {"junk line ends block", "A: 1\nthis is body\nB: 2\n", 0, 1, "A", "A: 1\n", "1", true, false,
     5, {0}},
    {"stray continuation first", "  cont\nA: 1\n\n", 0, 1, "A", "A: 1\n", "1", true, false, ALL,
     {0}},
    {"mbox from line", "From foo@bar Mon Jan  1 00:00:00 2024\nA: 1\n\n", 0, 1, "A", "A: 1\n",
     "1", false, false, ALL, {0}},
    {"empty input", "", 0, 0, "", NULL, NULL, true, false, 0, {0}},
    {"only blank line", "\r\nbody", 0, 0, "", NULL, NULL, false, true, 2, {0}},
    {"8-bit name is junk", "A: 1\nX\xff: 2\n\n", 0, 1, "A", "A: 1\n", "1", true, false, 5, {0}},
    {"colon first is junk", ": x\n\n", 0, 0, "", NULL, NULL, true, false, 0, {0}},
    {"too many headers", "A: 1\nB: 2\nC: 3\n\n", -1, 2, "A|B", "A: 1\n", "1", false, false, 0,
     {.max_headers = 2}},
    {"too many bytes", "A: 1\nB: 2222222222\n\n", -1, 1, "A", "A: 1\n", "1", false, false, 0,
     {.max_header_bytes = 10}},
    {"rfc2047 q", "Subject: =?utf-8?q?caf=C3=A9?=\n\n", 0, 1, "Subject", NULL, "caf\xc3\xa9",
     false, false, ALL, {0}},
    {"rfc2047 b", "Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\n\n", 0, 1, "Subject", NULL,
     "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", false, false, ALL, {0}},
    {"rfc2047 adjacent words", "Subject: =?iso-8859-1?q?a?= =?iso-8859-1?q?b?=\n\n", 0, 1,
     "Subject", NULL, "ab", false, false, ALL, {0}},
    {"rfc2047 folded", "Subject: =?utf-8?q?a?=\n =?utf-8?q?b?=\n\n", 0, 1, "Subject", NULL, "ab",
     false, false, ALL, {0}},
    {"rfc2047 latin1", "Subject: =?iso-8859-1?q?=E9t=E9?=\n\n", 0, 1, "Subject", NULL,
     "\xc3\xa9t\xc3\xa9", false, false, ALL, {0}},
    {"raw utf-8 ok", "Subject: \xc3\xa9t\xc3\xa9\n\n", 0, 1, "Subject", NULL, "\xc3\xa9t\xc3\xa9",
     false, false, ALL, {0}},
    {"trimmed", "Subject:    padded   \n\n", 0, 1, "Subject", NULL, "padded", false, false, ALL,
     {0}},
};

static void check_block(const struct block_case *c)
{
    size_t len = strlen(c->in);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, c->in, len);
    struct arena *arena = arena_new(0);
    struct mime_header_parser hp;
    struct mime_header *h, *first = NULL;
    const char *err = NULL;
    char names[256] = "";
    int rc;

    mime_header_parser_init(&hp, copy, len, &c->lim);
    while ((rc = mime_header_next(&hp, arena, &h, &err)) == 1) {
        if (first == NULL)
            first = h;
        if (names[0] != '\0')
            strcat(names, "|");
        strcat(names, h->name);
    }
    print_message("case: %s\n", c->name);
    assert_int_equal(rc, c->want_rc);
    assert_string_equal(names, c->want_names);
    if (rc == 0) {
        assert_int_equal(hp.count, c->want_count);
        assert_int_equal(hp.broken, c->want_broken);
        assert_int_equal(hp.body_offset, c->want_body_offset == ALL ? len : c->want_body_offset);
        if (len > 0)
            assert_int_equal(hp.crlf, c->want_crlf);
    } else {
        assert_non_null(err);
    }
    if (c->want_first_raw != NULL) {
        assert_non_null(first);
        assert_int_equal(first->raw_len, strlen(c->want_first_raw));
        assert_memory_equal(first->raw, c->want_first_raw, first->raw_len);
    }
    if (c->want_first_decoded != NULL) {
        assert_non_null(first);
        assert_string_equal(first->decoded, c->want_first_decoded);
    }
    arena_free(&arena);
    free(copy);
}

static void test_blocks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(block_cases) / sizeof(block_cases[0]); i++)
        check_block(&block_cases[i]);
}

struct decode_case {
    const char *in;
    const char *want;
    bool want_bad;
};

static const struct decode_case decode_cases[] = {
    {"plain", "plain", false},
    {" a\r\n b ", "a b", false},
    {"=?utf-8?b?w6k=?=", "\xc3\xa9", false},
    {"x =?bogus-charset?q?abc?= y", NULL, false},   /* whatever GMime does; no crash */
    {"\xe9t\xe9", NULL, true},                       /* raw latin-1: bad, lossy */
    {"=?utf-8?q?=FF=FE?=", NULL, false},
    {"a\0b", "a b", false},
    {"=?utf-8?x?abc?=", "=?utf-8?x?abc?=", false},   /* not an encoded-word: kept as is */
};

static void test_decode(void **state)
{
    (void)state;
    struct arena *arena = arena_new(0);
    for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
        const struct decode_case *c = &decode_cases[i];
        size_t len = i == 6 ? 3 : strlen(c->in);
        bool bad = false;
        char *d = mime_header_decode(arena, c->in, len, &bad);
        print_message("decode case %zu\n", i);
        assert_non_null(d);
        if (c->want != NULL)
            assert_string_equal(d, c->want);
        if (c->want_bad || i == 4)
            assert_true(bad);
    }
    arena_free(&arena);
}

/* Feeding the block one growing prefix at a time must never read past the
 * prefix, and the full parse must give the same fields as parse_all. */
static void test_prefixes(void **state)
{
    (void)state;
    static const char msg[] = "From: a@b\r\nSubject: x\r\n y\r\nTo: c\r\n\r\nbody\r\n";
    size_t len = sizeof(msg) - 1;
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, msg, n);
        struct arena *arena = arena_new(0);
        struct mime_header *list;
        struct mime_header_parser hp;
        size_t count;
        const char *err;
        assert_int_equal(mime_header_parse_all(arena, copy, n, NULL, &list, &count, &hp, &err), 0);
        size_t raw = 0;
        for (struct mime_header *h = list; h != NULL; h = h->next)
            raw += h->raw_len;
        assert_true(raw <= n);
        if (n == len) {
            assert_int_equal(count, 3);
            assert_false(hp.broken);
            assert_int_equal(hp.block_len, raw);
        }
        arena_free(&arena);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
