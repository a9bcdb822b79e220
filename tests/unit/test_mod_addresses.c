/* Table-driven tests of the addresses module (src/modules/addresses.c). */
#include "test_mod_harness.c"

#include <stdlib.h>

extern const struct module module_addresses;

#define DATE "Date: Mon, 02 Mar 2020 10:00:00 +0000\n"
#define MID "Message-ID: <20200302100000.1234@example.com>\n"
#define REST DATE MID "Subject: x\nMIME-Version: 1.0\nContent-Type: text/plain\n\nhello\n"

static const struct mod_case cases[] = {
    {.name = "plain",
     .eml = "From: Alice <alice@example.com>\nTo: Bob <bob@example.org>\n" REST,
     .env_from = "alice@example.com",
     .rcpts = {"bob@example.org"},
     .want = {"FROM_HAS_DN", "FROM_EQ_ENVFROM", "TO_DN_ALL", "RCPT_COUNT_ONE",
              "TO_MATCH_ENVRCPT_ALL"},
     .not_want = {"MISSING_FROM", "MISSING_TO", "FORGED_SENDER", "FROM_NEQ_ENVFROM",
                  "SPOOF_DISPLAY_NAME", "FROM_NEQ_DISPLAY_NAME", "MULTIPLE_FROM",
                  "R_UNDISC_RCPT", "TO_DN_RECIPIENTS", "FROM_NAME_HAS_TITLE"}},
    {.name = "no envelope: no envelope symbols",
     .eml = "From: alice@example.com\nTo: bob@example.org\n" REST,
     .want = {"FROM_NO_DN", "TO_DN_NONE"},
     .not_want = {"FROM_EQ_ENVFROM", "FROM_NEQ_ENVFROM", "FORGED_SENDER", "TO_MATCH_ENVRCPT_ALL"}},
    {.name = "forged sender",
     .eml = "From: Bank <service@bank.example>\nTo: bob@example.org\n" REST,
     .env_from = "bounce@mailer.example",
     .want = {"FORGED_SENDER", "FROM_NEQ_ENVFROM"},
     .want_opt = "FORGED_SENDER=bounce@mailer.example"},
    {.name = "null sender is not forged",
     .eml = "From: MAILER-DAEMON@example.org\nTo: bob@example.org\n" REST,
     .env_from = "",
     .not_want = {"FORGED_SENDER"}},
    {.name = "missing from and to",
     .eml = REST,
     .want = {"MISSING_FROM", "MISSING_TO"}},
    {.name = "multiple from",
     .eml = "From: a@example.com, b@example.net\nTo: bob@example.org\n" REST,
     .want = {"MULTIPLE_FROM"}},
    {.name = "display name is address",
     .eml = "From: alice@example.com <alice@example.com>\nTo: bob@example.org\n" REST,
     .want = {"FROM_DN_EQ_ADDR"},
     .not_want = {"FROM_NEQ_DISPLAY_NAME", "SPOOF_DISPLAY_NAME"}},
    {.name = "display name spoofs recipient domain",
     .eml = "From: \"it-support@example.org\" <x@evil.example>\nTo: bob@example.org\n" REST,
     .want = {"SPOOF_DISPLAY_NAME"},
     .not_want = {"FROM_NEQ_DISPLAY_NAME"},
     .want_opt = "SPOOF_DISPLAY_NAME=example.org"},
    {.name = "display name shows other domain",
     .eml = "From: \"service@paypal.example\" <x@evil.example>\nTo: bob@example.org\n" REST,
     .want = {"FROM_NEQ_DISPLAY_NAME"},
     .not_want = {"SPOOF_DISPLAY_NAME"}},
    {.name = "google groups rewrite",
     .eml = "From: \"'carol@example.net' via Friends\" <friends@groups.example>\nTo: bob@example.org\n" REST,
     .not_want = {"SPOOF_DISPLAY_NAME", "FROM_NEQ_DISPLAY_NAME"}},
    {.name = "title and spaces",
     .eml = "From: \"Mrs.  Jane Doe\" <jane@example.com>\nTo: bob@example.org\n" REST,
     .want = {"FROM_NAME_HAS_TITLE", "FROM_NAME_EXCESS_SPACE"}},
    {.name = "undisclosed recipients",
     .eml = "From: alice@example.com\nTo: undisclosed-recipients:;\n" REST,
     .want = {"R_UNDISC_RCPT"},
     .not_want = {"MISSING_TO"}},
    {.name = "to display name recipients",
     .eml = "From: alice@example.com\nTo: Recipients <noreply@example.net>\n" REST,
     .want = {"TO_DN_RECIPIENTS"}},
    {.name = "recipient count",
     .eml = "From: alice@example.com\nTo: a@example.org, b@example.org, c@example.org\n"
            "Cc: d@example.org, e@example.org\n" REST,
     .want = {"RCPT_COUNT_FIVE"},
     .want_opt = "RCPT_COUNT_FIVE=5"},
    {.name = "to equals from",
     .eml = "From: alice@example.com\nTo: alice@example.com\n" REST,
     .want = {"TO_EQ_FROM"}},
    {.name = "reply-to other domain",
     .eml = "From: alice@example.com\nTo: bob@example.org\nReply-To: collect@other.example\n" REST,
     .want = {"HAS_REPLYTO", "REPLYTO_DOM_NEQ_FROM_DOM"},
     .not_want = {"REPLYTO_EQ_FROM", "REPLYTO_UNPARSEABLE"}},
    {.name = "reply-to is the recipient",
     .eml = "From: boss@company.example\nTo: victim@example.org\nReply-To: victim@example.org\n" REST,
     .want = {"REPLYTO_EQ_TO_ADDR"},
     .not_want = {"REPLYTO_DOM_NEQ_FROM_DOM"}},
    {.name = "list reply-to is the list",
     .eml = "From: alice@example.com\nTo: list@lists.example.org\nReply-To: list@lists.example.org\n"
            "List-Unsubscribe: <mailto:leave@lists.example.org>\n" REST,
     .not_want = {"REPLYTO_EQ_TO_ADDR", "REPLYTO_DOM_NEQ_FROM_DOM"}},
    {.name = "reply-to equals from",
     .eml = "From: Alice <alice@example.com>\nTo: bob@example.org\nReply-To: Alice <alice@example.com>\n" REST,
     .want = {"HAS_REPLYTO", "REPLYTO_EQ_FROM"}},
    {.name = "forged mdn",
     .eml = "From: alice@example.com\nTo: bob@example.org\nDisposition-Notification-To: track@spy.example\n" REST,
     .env_from = "alice@example.com",
     .want = {"HEADER_FORGED_MDN"}},
    {.name = "mdn without envelope is not judged",
     .eml = "From: alice@example.com\nTo: bob@example.org\nDisposition-Notification-To: track@spy.example\n" REST,
     .not_want = {"HEADER_FORGED_MDN"}},
    {.name = "comment is not a display name",
     .eml = "From: alice@example.com (Alice Smith)\nTo: bob@example.org\n" REST,
     .want = {"FROM_NO_DN"},
     .not_want = {"FROM_HAS_DN"}},
    {.name = "broken reply-to still yields its domain",
     .eml = "From: alice@example.com\nTo: bob@example.org\nReply-To: \"Banned\"eowu@other.example\n" REST,
     .want = {"HAS_REPLYTO", "REPLYTO_DOM_NEQ_FROM_DOM"},
     .not_want = {"REPLYTO_UNPARSEABLE"}},
    {.name = "previously delivered (folded for clause)",
     .eml = "Received: from a (a [127.0.0.1])\n\tby mx.example.org with ESMTP id 1\n\tfor <zz@localhost>; Mon, 02 Mar 2020 10:00:00 +0000\n"
            "Received: from mx by list.example for <bob@example.org>; Mon, 02 Mar 2020 10:00:00 +0000\n"
            "From: alice@example.com\nTo: bob@example.org\n" REST,
     .not_want = {"PREVIOUSLY_DELIVERED"}},
    {.name = "valid from",
     .eml = "From: \"Alice\" <alice@example.com>\nTo: bob@example.org\n" REST,
     .not_want = {"FROM_INVALID", "INVALID_FROM_8BIT"}},
    {.name = "two at signs",
     .eml = "From: ndtuft@uksyz@example.com\nTo: bob@example.org\n" REST,
     .want = {"FROM_INVALID"},
     .not_want = {"INVALID_FROM_8BIT"}},
    {.name = "quoted display name glued to a domain",
     .eml = "From: \"sales@example.net\"@example.com\nTo: bob@example.org\n" REST,
     .want = {"FROM_INVALID"}},
    {.name = "address literal that is no address",
     .eml = "From: zvf@[1086695621], [ufa]@example.com\nTo: bob@example.org\n" REST,
     .want = {"FROM_INVALID"}},
    {.name = "address literal",
     .eml = "From: root@[192.0.2.1]\nTo: bob@example.org\n" REST,
     .not_want = {"FROM_INVALID"}},
    {.name = "raw latin-1 local part",
     .eml = "From: \xb4O\xb1\xe1@example.com\nTo: bob@example.org\n" REST,
     .want = {"FROM_INVALID", "INVALID_FROM_8BIT"}},
    {.name = "utf-8 local part is valid (RFC 6531)",
     .eml = "From: j\xc3\xb6rg@example.com\nTo: bob@example.org\n" REST,
     .not_want = {"FROM_INVALID", "INVALID_FROM_8BIT"}},
    {.name = "empty from",
     .eml = "From:\nTo: bob@example.org\n" REST,
     .not_want = {"FROM_INVALID", "INVALID_FROM_8BIT"}},
    {.name = "from without an address",
     .eml = "From: Alice Smith\nTo: bob@example.org\n" REST,
     .want = {"FROM_INVALID"}},
    {.name = "generated recipients",
     .eml = "From: alice@example.com\nTo: jmfa@example.org, jmfb@example.org, jmfc@example.org,\n"
            "\tann@example.net, bob@example.net, cy@example.net, dee@example.net\n" REST,
     .want = {"SUSPICIOUS_RECIPS"}},
    {.name = "varied recipients",
     .eml = "From: alice@example.com\nTo: ann@example.org, bobby@example.org, carol@example.org,\n"
            "\tdan@example.net, eve.x@example.net, frank@example.net, gina@example.net\n" REST,
     .not_want = {"SUSPICIOUS_RECIPS"}},
    {.name = "six recipients are too few",
     .eml = "From: alice@example.com\nTo: jmfa@example.org, jmfb@example.org, jmfc@example.org,\n"
            "\tjmfd@example.org, jmfe@example.org, jmff@example.org\n" REST,
     .not_want = {"SUSPICIOUS_RECIPS"}},
    {.name = "a plus tag doubles the list (Rspamd's alias prefilter)",
     .eml = "From: alice@example.com\nTo: anna+x@a.example, bobby@b.example\n"
            "Cc: carol@c.example, dan@d.example\n" REST,
     .want = {"SUSPICIOUS_RECIPS"}},
    {.name = "the same four without a tag",
     .eml = "From: alice@example.com\nTo: anna@a.example, bobby@b.example\n"
            "Cc: carol@c.example, dan@d.example\n" REST,
     .not_want = {"SUSPICIOUS_RECIPS"}},
    {.name = "previously delivered",
     .eml = "Received: from mx by list.example for <bob@example.org>; Mon, 02 Mar 2020 10:00:00 +0000\n"
            "From: alice@example.com\nTo: bob@example.org\n" REST,
     .want = {"PREVIOUSLY_DELIVERED"}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        mod_check(&module_addresses, NULL, &cases[i]);
}

/* Thousands of recipients, and hostile nesting of quotes, comments and
 * brackets: Rspamd's reader keeps to the bytes it is given. */
static void test_hostile_lists(void **state)
{
    (void)state;
    static const char *const units[] = {"jm@example.org, ", "\"a,b\" <x@y>, ", "((((",
                                        "\\\"<@", "<<@>>,,", "@@[1.2.3.4:x]\t", "\xff\xfe@"};
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        size_t cap = 300000, n = 0, ul = strlen(units[u]);
        char *eml = malloc(cap);
        assert_non_null(eml);
        memcpy(eml, "From: ", 6);
        n = 6;
        while (n + ul < cap / 2) {
            memcpy(eml + n, units[u], ul);
            n += ul;
        }
        memcpy(eml + n, "\nTo: ", 5);
        n += 5;
        while (n + ul < cap - 200) {
            memcpy(eml + n, units[u], ul);
            n += ul;
        }
        snprintf(eml + n, cap - n, "\n%s", REST);
        struct mod_case c = {.name = "hostile list", .eml = eml};
        mod_check(&module_addresses, NULL, &c);
        free(eml);
    }
}

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_hostile_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
