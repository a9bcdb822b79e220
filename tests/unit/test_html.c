/*
 * Unit tests for src/mime/html.c: HTML reduced to text, links collected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "mime/html.h"

struct html_case {
    const char *in;
    const char *want_text;
    size_t want_links;
    const char *want_href0;      /* NULL: not checked */
    const char *want_anchor0;
    size_t want_images;
};

static const struct html_case cases[] = {
    {"<p>Hello <b>world</b></p>", "Hello world", 0, NULL, NULL, 0},
    {"a<br>b<br/>c", "a\nb\nc", 0, NULL, NULL, 0},
    {"<div>one</div><div>two</div>", "one\ntwo", 0, NULL, NULL, 0},
    {"x   \r\n\t  y", "x y", 0, NULL, NULL, 0},
    {"<script>var a = '<p>no</p>';</script>yes", "yes", 0, NULL, NULL, 0},
    {"<STYLE type=text/css>p {}</STYLE>shown", "shown", 0, NULL, NULL, 0},
    {"<html><head><title>T</title><meta x=1></head><body>B</body></html>", "B", 0, NULL, NULL,
     0},
    {"<head><p>implicit body", "implicit body", 0, NULL, NULL, 0},
    {"a<!-- <p>hidden</p> -->b", "ab", 0, NULL, NULL, 0},
    {"&lt;tag&gt; &amp; &quot;q&quot; &#65;&#x42;&#X43;", "<tag> & \"q\" ABC", 0, NULL, NULL, 0},
    {"caf&eacute; &euro;5 &copy", "caf\xc3\xa9 \xe2\x82\xac" "5 \xc2\xa9", 0, NULL, NULL, 0},
    {"a&nbsp;&nbsp;b", "a b", 0, NULL, NULL, 0},
    {"&#0; &#xD800; &#1114112;", "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd", 0, NULL, NULL, 0},
    {"&#150;", "\xe2\x80\x93", 0, NULL, NULL, 0},
    {"pay&shy;pal &unknown; & x", "paypal &unknown; & x", 0, NULL, NULL, 0},
    {"1 < 2 and 3 > 2", "1 < 2 and 3 > 2", 0, NULL, NULL, 0},
    {"<a href=\"http://x.com/?a=1&amp;b=2\">click <b>here</b></a>", "click here", 1,
     "http://x.com/?a=1&b=2", "click here", 0},
    {"<a href='http://evil.com'>http://paypal.com</a>", "http://paypal.com", 1,
     "http://evil.com", "http://paypal.com", 0},
    {"<A HREF=http://u.com/p>u</A>", "u", 1, "http://u.com/p", "u", 0},
    {"<img src=\"http://img.com/a.png\"><img alt=x>", "", 1, "http://img.com/a.png", "", 2},
    {"<a href=\"x\">one<a href=\"y\">two</a>", "onetwo", 2, "x", "one", 0},
    {"<a name=top>anchor without href</a>", "anchor without href", 0, NULL, NULL, 0},
    {"<p unterminated", "", 0, NULL, NULL, 0},
    {"<a href=\"never closed>text", "", 0, NULL, NULL, 0},
    {"<!-- never closed", "", 0, NULL, NULL, 0},
    {"<td>a</td><td>b</td>", "a b", 0, NULL, NULL, 0},
    {"<a href=\" http://x.com/\r\n  \">t</a>", "t", 1, "http://x.com/", "t", 0},
    {"", "", 0, NULL, NULL, 0},
    {"<", "<", 0, NULL, NULL, 0},
    {"&", "&", 0, NULL, NULL, 0},
    {"&#", "&#", 0, NULL, NULL, 0},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct html_case *c = &cases[i];
        size_t len = strlen(c->in);
        char *copy = malloc(len ? len : 1);
        memcpy(copy, c->in, len);
        struct arena *arena = arena_new(0);
        struct html_text ht;
        print_message("case %zu: %s\n", i, c->in);
        html_to_text(arena, copy, len, 100, &ht);
        assert_string_equal(ht.text, c->want_text);
        assert_int_equal(ht.len, strlen(c->want_text));
        assert_int_equal(ht.nlinks, c->want_links);
        assert_int_equal(ht.nimages, c->want_images);
        if (c->want_href0 != NULL) {
            assert_string_equal(ht.links[0].href, c->want_href0);
            assert_string_equal(ht.links[0].anchor, c->want_anchor0);
        }
        arena_free(&arena);
        free(copy);
    }
}

static void test_link_cap(void **state)
{
    (void)state;
    struct arena *arena = arena_new(0);
    char buf[4096] = "";
    for (int i = 0; i < 50; i++)
        strcat(buf, "<img src=\"http://a/\">");
    struct html_text ht;
    html_to_text(arena, buf, strlen(buf), 10, &ht);
    assert_int_equal(ht.nlinks, 10);
    assert_int_equal(ht.nimages, 50);
    arena_free(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_link_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
