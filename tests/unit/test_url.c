/*
 * Unit tests for src/mime/url.c: URL parsing, text scanning, e-mail
 * extraction and the phishing-anchor check.
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
#include "mime/html.h"
#include "mime/message.h"
#include "mime/url.h"

struct parse_case {
    const char *in;
    int want_rc;
    const char *want_host;
    const char *want_tld;        /* NULL: must be NULL */
    unsigned want_flags;
};

static const struct parse_case parse_cases[] = {
    {"http://Example.COM/path", 0, "example.com", "example.com", 0},
    {"https://www.example.co.uk:8080/x?y#z", 0, "www.example.co.uk", "example.co.uk", 0},
    {"www.example.org", 0, "www.example.org", "example.org", 0},
    {"//cdn.example.net/a.js", 0, "cdn.example.net", "example.net", 0},
    {"http://user:pw@evil.com/", 0, "evil.com", "evil.com", URL_HAS_USER},
    {"http://paypal.com@evil.com/", 0, "evil.com", "evil.com", URL_HAS_USER},
    {"http://192.168.1.10/", 0, "192.168.1.10", NULL, URL_HOST_IP},
    {"http://3232235786/", 0, "192.168.1.10", NULL, URL_HOST_IP | URL_HOST_NUMERIC},
    {"http://0xC0.0250.1.10/", 0, "192.168.1.10", NULL, URL_HOST_IP | URL_HOST_NUMERIC},
    {"http://0x7f.1/", 0, "127.0.0.1", NULL, URL_HOST_IP | URL_HOST_NUMERIC},
    {"http://[2001:db8::1]/", 0, "2001:db8::1", NULL, URL_HOST_IP},
    {"http://%65vil.com/", 0, "evil.com", "evil.com", URL_OBFUSCATED},
    {"http://p\xd0\xb0ypal.com/", 0, "p\xd0\xb0ypal.com", "p\xd0\xb0ypal.com", URL_OBFUSCATED},
    {"http://example.com./", 0, "example.com", "example.com", 0},
    {"HTTP:\\\\example.com\\x", 0, "example.com", "example.com", 0},
    {"mailto:a@b.com", -1, NULL, NULL, 0},
    {"javascript:alert(1)", -1, NULL, NULL, 0},
    {"/relative/path", -1, NULL, NULL, 0},
    {"http://", -1, NULL, NULL, 0},
    {"http://exa mple.com/", -1, NULL, NULL, 0},
    {"http://[::1", -1, NULL, NULL, 0},
    {"", -1, NULL, NULL, 0},
};

static void test_parse(void **state)
{
    (void)state;
    struct arena *arena = arena_new(0);
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct mime_url u;
        print_message("case %zu: %s\n", i, c->in);
        size_t len = strlen(c->in);
        char *copy = malloc(len ? len : 1);
        memcpy(copy, c->in, len);
        int rc = url_parse(arena, copy, len, &u);
        free(copy);
        assert_int_equal(rc, c->want_rc);
        if (rc != 0)
            continue;
        assert_string_equal(u.host, c->want_host);
        if (c->want_tld == NULL)
            assert_null(u.tld);
        else
            assert_string_equal(u.tld, c->want_tld);
        assert_int_equal(u.flags, c->want_flags);
    }
    arena_free(&arena);
}

struct scan_case {
    const char *in;
    const char *want_urls;       /* hosts joined by ' ' in order */
    const char *want_emails;     /* joined by ' ' */
};

static const struct scan_case scan_cases[] = {
    {"see http://a.com/x, and https://b.org.", "a.com b.org", ""},
    {"(http://c.com/page_(1)) and (www.d.net)", "c.com www.d.net", ""},
    {"<http://e.com/> \"https://f.com/q?x=1\"", "e.com f.com", ""},
    {"twice http://a.com http://a.com", "a.com", ""},
    {"nowww.x.com xwww.y.com www.z.com", "www.z.com", ""},
    {"mail John.Doe@Example.COM or x@y.org.", "", "john.doe@example.com x@y.org"},
    {"not@mail, a@b, @c.com, d@.com, e@f.g1", "", ""},
    {"http://h.com/\xc2\xbbquote", "h.com", ""},
    {"http://h2.com\xc2\xbb and http://\xd0\xbf\xd1\x80.com\xc2\xa0x", "h2.com \xd0\xbf\xd1\x80.com",
     ""},
    {"ahttp://nope.com ftp://files.example.com/a", "files.example.com", ""},
    {"http://", "", ""},
    {"www.", "", ""},
};

static void join_hosts(const struct message *m, char *out)
{
    out[0] = '\0';
    for (size_t i = 0; i < m->nurls; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, m->urls[i].host);
    }
}

static void join_emails(const struct message *m, char *out)
{
    out[0] = '\0';
    for (size_t i = 0; i < m->nemails; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, m->emails[i]);
    }
}

static void test_scan(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++) {
        const struct scan_case *c = &scan_cases[i];
        struct arena *arena = arena_new(0);
        struct url_set *set = url_set_new(arena, 100, 100);
        struct message m;
        char buf[1024];
        size_t len = strlen(c->in);
        char *copy = malloc(len ? len : 1);
        memcpy(copy, c->in, len);
        print_message("case %zu: %s\n", i, c->in);
        url_scan_text(set, copy, len);
        memset(&m, 0, sizeof(m));
        url_set_export(set, &m);
        join_hosts(&m, buf);
        assert_string_equal(buf, c->want_urls);
        join_emails(&m, buf);
        assert_string_equal(buf, c->want_emails);
        for (size_t k = 0; k < m.nurls; k++)
            assert_true(m.urls[k].flags & URL_FROM_TEXT);
        free(copy);
        arena_free(&arena);
    }
}

struct link_case {
    const char *href;
    const char *anchor;
    bool image;
    bool want_url;
    bool want_phished;
    const char *want_anchor_host;
};

static const struct link_case link_cases[] = {
    {"http://evil.com/login", "http://www.paypal.com/", false, true, true, "www.paypal.com"},
    {"http://evil.com/login", "www.paypal.com", false, true, true, "www.paypal.com"},
    {"http://evil.com/login", "paypal.com", false, true, true, "paypal.com"},
    {"http://www.paypal.com/x", "paypal.com", false, true, false, NULL},
    {"http://click.example.com/x", "https://example.com/offer", false, true, false, NULL},
    {"http://evil.com/", "Click here", false, true, false, NULL},
    {"http://evil.com/", "file.txt", false, true, false, NULL},
    {"http://evil.com/", "support@paypal.com", false, true, false, NULL},
    {"http://img.com/a.png", "", true, true, false, NULL},
    {"mailto:Boss@Corp.example.com?subject=x", "mail me", false, false, false, NULL},
    {"cid:part1@x", "", true, false, false, NULL},
};

static void test_links(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(link_cases) / sizeof(link_cases[0]); i++) {
        const struct link_case *c = &link_cases[i];
        struct arena *arena = arena_new(0);
        struct url_set *set = url_set_new(arena, 100, 100);
        struct html_link l = {c->href, strlen(c->href), c->anchor, strlen(c->anchor), c->image};
        struct message m;
        print_message("case %zu: %s / %s\n", i, c->href, c->anchor);
        url_add_html_link(set, &l);
        memset(&m, 0, sizeof(m));
        url_set_export(set, &m);
        assert_int_equal(m.nurls, c->want_url ? 1 : 0);
        if (c->want_url) {
            assert_true(m.urls[0].flags & URL_FROM_HTML);
            assert_int_equal(!!(m.urls[0].flags & URL_PHISHED), c->want_phished);
            assert_int_equal(!!(m.urls[0].flags & URL_IMAGE), c->image);
            if (c->want_anchor_host != NULL)
                assert_string_equal(m.urls[0].anchor_host, c->want_anchor_host);
        }
        if (i == 9) {
            assert_int_equal(m.nemails, 1);
            assert_string_equal(m.emails[0], "boss@corp.example.com");
        }
        arena_free(&arena);
    }
}

static void test_cap(void **state)
{
    (void)state;
    struct arena *arena = arena_new(0);
    struct url_set *set = url_set_new(arena, 5, 5);
    char buf[8192] = "";
    for (int i = 0; i < 200; i++) {
        char one[64];
        snprintf(one, sizeof(one), "http://h%d.com/ u%d@x.com ", i, i);
        strcat(buf, one);
    }
    struct message m;
    memset(&m, 0, sizeof(m));
    url_scan_text(set, buf, strlen(buf));
    url_set_export(set, &m);
    assert_int_equal(m.nurls, 5);
    assert_int_equal(m.nemails, 5);
    assert_true(m.urls_truncated);
    arena_free(&arena);

    /* Many unique URLs: the index grows and stays consistent. */
    arena = arena_new(0);
    set = url_set_new(arena, 10000, 10000);
    for (int i = 0; i < 2000; i++) {
        char one[64];
        int n = snprintf(one, sizeof(one), "http://h%d.com/ x%d@y.com", i % 1000, i % 1000);
        url_scan_text(set, one, (size_t)n);
    }
    memset(&m, 0, sizeof(m));
    url_set_export(set, &m);
    assert_int_equal(m.nurls, 1000);
    assert_int_equal(m.nemails, 1000);
    arena_free(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
