/* Table-driven tests of the addresses module (src/modules/addresses.c). */
#include "test_mod_harness.c"

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

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
