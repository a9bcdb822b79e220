/* Table-driven tests of the headers module (src/modules/headers.c). */
#include "test_mod_harness.c"

#include <stdlib.h>

extern const struct module module_headers;

#define FROM "From: Alice <alice@example.com>\n"
#define TO "To: bob@example.org\n"
#define DATE "Date: Mon, 02 Mar 2020 10:00:00 +0000\n"
#define MID "Message-ID: <20200302100000.1234@example.com>\n"
#define MIMEV "MIME-Version: 1.0\n"
#define CT "Content-Type: text/plain; charset=us-ascii\n"
#define BASE FROM TO DATE MID MIMEV CT
#define BODY "\nHello Bob,\nsee you tomorrow.\n"

static const struct mod_case cases[] = {
    {.name = "clean",
     .eml = BASE "Subject: Lunch on Friday\n" BODY,
     .want = {"DATE_IN_PAST", "RCVD_COUNT_ZERO", "MID_RHS_MATCH_FROM"},
     .not_want = {"MISSING_DATE", "MISSING_MID", "MISSING_SUBJECT", "INVALID_MSGID",
                  "MID_MISSING_BRACKETS", "MID_RHS_NOT_FQDN", "SUBJ_ALL_CAPS",
                  "SUBJECT_ENDS_QUESTION", "MISSING_MIME_VERSION", "MULTIPLE_UNIQUE_HEADERS",
                  "BROKEN_HEADERS", "FAKE_REPLY", "DATE_IN_FUTURE", "MV_CASE"}},
    {.name = "missing date mid subject",
     .eml = FROM TO MIMEV CT BODY,
     .want = {"MISSING_DATE", "MISSING_MID", "MISSING_SUBJECT"}},
    {.name = "empty subject",
     .eml = BASE "Subject: \n" BODY,
     .want = {"EMPTY_SUBJECT"},
     .not_want = {"MISSING_SUBJECT", "SUBJ_ALL_CAPS"}},
    {.name = "blank subject is empty too",
     .eml = BASE "Subject:  \t \n" BODY,
     .want = {"EMPTY_SUBJECT"},
     .not_want = {"MISSING_SUBJECT"}},
    {.name = "encoded space is not empty",
     .eml = BASE "Subject: =?UTF-8?B?IA==?=\n" BODY,
     .not_want = {"EMPTY_SUBJECT", "MISSING_SUBJECT"}},
    {.name = "dollar in subject",
     .eml = BASE "Subject: Earn $500 a day\n" BODY,
     .want = {"SUBJECT_HAS_CURRENCY"}},
    {.name = "encoded euro and pound",
     .eml = BASE "Subject: =?UTF-8?B?4oKsIDEwMA==?=\nSubject: =?iso-8859-1?Q?=A3100?=\n" BODY,
     .want = {"SUBJECT_HAS_CURRENCY"}},
    {.name = "raw latin-1 pound is not read as a pound",
     .eml = BASE "Subject: Save \xa3" "5 now\n" BODY,
     .not_want = {"SUBJECT_HAS_CURRENCY"}},
    {.name = "raw utf-8 yen",
     .eml = BASE "Subject: \xc2\xa5" "100\n" BODY,
     .want = {"SUBJECT_HAS_CURRENCY"}},
    {.name = "exclamation inside",
     .eml = BASE "Subject: Wow! look at this\n" BODY,
     .want = {"SUBJECT_HAS_EXCLAIM"},
     .not_want = {"SUBJECT_ENDS_EXCLAIM", "SUBJECT_HAS_CURRENCY"}},
    {.name = "exclamation at the end, then spaces",
     .eml = BASE "Subject: Wow! look at this!  \n" BODY,
     .want = {"SUBJECT_ENDS_EXCLAIM"},
     .not_want = {"SUBJECT_HAS_EXCLAIM"}},
    {.name = "content-type ends in a semicolon",
     .eml = FROM TO DATE MID MIMEV "Subject: x\nContent-Type: text/plain;\n" BODY,
     .want = {"CT_EXTRA_SEMI"}},
    {.name = "folded content-type ends in a semicolon",
     .eml = FROM TO DATE MID MIMEV "Subject: x\nContent-Type: text/plain;\n\tcharset=us-ascii;\n" BODY,
     .want = {"CT_EXTRA_SEMI"}},
    {.name = "semicolon then a space is not the end",
     .eml = FROM TO DATE MID MIMEV "Subject: x\nContent-Type: text/plain; \n" BODY,
     .not_want = {"CT_EXTRA_SEMI"}},
    {.name = "empty content-type",
     .eml = FROM TO DATE MID MIMEV "Subject: x\nContent-Type:\n" BODY,
     .not_want = {"CT_EXTRA_SEMI"}},
    {.name = "mid rhs is a bare ip",
     .eml = FROM TO DATE MIMEV CT "Subject: x\nMessage-ID: <1234.5678@192.0.2.10>\n" BODY,
     .want = {"MID_BARE_IP"}},
    {.name = "mid rhs is an ip literal, not bare",
     .eml = FROM TO DATE MIMEV CT "Subject: x\nMessage-ID: <1234.5678@[192.0.2.10]>\n" BODY,
     .not_want = {"MID_BARE_IP"}},
    {.name = "mid made at the recipient's domain",
     .eml = FROM TO DATE MIMEV CT "Subject: x\nMessage-ID: <1234.5678@Example.ORG>\n" BODY,
     .want = {"MID_RHS_MATCH_TO"},
     .not_want = {"MID_CONTAINS_TO", "MID_RHS_MATCH_FROM"}},
    {.name = "mid contains the recipient",
     .eml = FROM TO DATE MIMEV CT "Subject: x\nMessage-ID: <bob@example.org.99@mx.example.net>\n" BODY,
     .want = {"MID_CONTAINS_TO"},
     .not_want = {"MID_RHS_MATCH_TO"}},
    {.name = "same domain on both sides is skipped",
     .eml = "From: alice@example.org\n" TO DATE MIMEV CT "Subject: x\nMessage-ID: <1.2@example.org>\n" BODY,
     .not_want = {"MID_RHS_MATCH_TO", "MID_CONTAINS_TO"}},
    {.name = "cc first counts as the first recipient",
     .eml = FROM "Cc: carol@example.net\n" TO DATE MIMEV CT "Subject: x\nMessage-ID: <1.2@example.net>\n" BODY,
     .want = {"MID_RHS_MATCH_TO"}},
    {.name = "undisclosed first recipient stops the check",
     .eml = FROM "To: undisclosed-recipients:;\nCc: carol@example.net\n" DATE MIMEV CT
            "Subject: x\nMessage-ID: <1.2@example.net>\n" BODY,
     .not_want = {"MID_RHS_MATCH_TO"}},
    {.name = "date in future",
     .eml = FROM TO MID MIMEV CT "Date: Thu, 01 Jan 2099 00:00:00 +0000\nSubject: x\n" BODY,
     .want = {"DATE_IN_FUTURE"},
     .not_want = {"DATE_IN_PAST", "INVALID_DATE"}},
    {.name = "invalid date",
     .eml = FROM TO MID MIMEV CT "Date: sometime last week\nSubject: x\n" BODY,
     .want = {"INVALID_DATE"},
     .not_want = {"MISSING_DATE", "DATE_IN_PAST"}},
    {.name = "mid without brackets, short rhs",
     .eml = FROM TO DATE MIMEV CT "Message-ID: abc123@localhost\nSubject: x\n" BODY,
     .want = {"MID_MISSING_BRACKETS", "MID_RHS_NOT_FQDN"},
     .not_want = {"MISSING_MID"}},
    {.name = "mid with spaces",
     .eml = FROM TO DATE MIMEV CT "Message-ID: <abc def@example.com>\nSubject: x\n" BODY,
     .want = {"INVALID_MSGID"}},
    {.name = "mid contains from",
     .eml = FROM TO DATE MIMEV CT "Message-ID: <alice@example.com.99@mx.example.net>\nSubject: x\n" BODY,
     .want = {"MID_CONTAINS_FROM"},
     .not_want = {"MID_RHS_MATCH_FROM"}},
    {.name = "all caps subject",
     .eml = BASE "Subject: BUY CHEAP WATCHES NOW\n" BODY,
     .want = {"SUBJ_ALL_CAPS"}},
    {.name = "short caps subject weighs little",
     .eml = BASE "Subject: Re: FYI\nIn-Reply-To: <1@example.org>\n" BODY,
     .not_want = {"FAKE_REPLY"},
     .want_opt = "SUBJ_ALL_CAPS=3"},
    {.name = "mixed case subject",
     .eml = BASE "Subject: Re: FYI the Q3 numbers\nIn-Reply-To: <1@example.org>\n" BODY,
     .not_want = {"SUBJ_ALL_CAPS"}},
    {.name = "question",
     .eml = BASE "Subject: Are you free tomorrow?\n" BODY,
     .want = {"SUBJECT_ENDS_QUESTION"}},
    {.name = "question in a reply",
     .eml = BASE "Subject: Re: are you free tomorrow?\nReferences: <1@example.org>\n" BODY,
     .not_want = {"SUBJECT_ENDS_QUESTION", "FAKE_REPLY"}},
    {.name = "fake reply",
     .eml = BASE "Subject: RE: your invoice\n" BODY,
     .want = {"FAKE_REPLY"}},
    {.name = "excess base64 subject",
     .eml = BASE "Subject: =?UTF-8?B?SGVsbG8gd29ybGQ=?=\n" BODY,
     .want = {"SUBJ_EXCESS_BASE64"},
     .not_want = {"SUBJ_EXCESS_QP", "SUBJECT_NEEDS_ENCODING"}},
    {.name = "needed base64 subject",
     .eml = BASE "Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\n" BODY,
     .not_want = {"SUBJ_EXCESS_BASE64", "SUBJ_ALL_CAPS"}},
    {.name = "excess qp from",
     .eml = TO DATE MID MIMEV CT "From: =?iso-8859-1?Q?Alice_Smith?= <alice@example.com>\nSubject: x\n" BODY,
     .want = {"FROM_EXCESS_QP"}},
    {.name = "raw 8-bit subject",
     .eml = BASE "Subject: Caf\xc3\xa9 tonight\n" BODY,
     .want = {"SUBJECT_NEEDS_ENCODING"}},
    {.name = "multipart without MIME-Version",
     .eml = FROM TO DATE MID "Subject: x\nContent-Type: multipart/alternative; boundary=\"b\"\n\n"
            "--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: text/html\n\n<p>hi</p>\n--b--\n",
     .want = {"MISSING_MIME_VERSION"}},
    {.name = "plain old message without MIME-Version",
     .eml = FROM TO DATE MID "Subject: x\n" BODY,
     .not_want = {"MISSING_MIME_VERSION"}},
    {.name = "Content-Type without MIME-Version",
     .eml = FROM TO DATE MID "Subject: x\nContent-Type: text/plain\n" BODY,
     .want = {"MISSING_MIME_VERSION"}},
    {.name = "two From headers, one with space before the colon",
     .eml = TO DATE MID MIMEV CT "From: <any@attack.example>\nFrom : <admin@legit.example>\nSubject: x\n" BODY,
     .want = {"BROKEN_HEADERS", "MULTIPLE_UNIQUE_HEADERS"}},
    {.name = "space before the colon alone is legal",
     .eml = TO DATE MID MIMEV CT "From : <admin@legit.example>\nSubject: x\n" BODY,
     .not_want = {"BROKEN_HEADERS"}},
    {.name = "Mime-Version case",
     .eml = FROM TO DATE MID CT "Mime-Version: 1.0\nSubject: x\n" BODY,
     .want = {"MV_CASE"}},
    {.name = "repeated subject",
     .eml = BASE "Subject: one\nSubject: two\n" BODY,
     .want = {"MULTIPLE_UNIQUE_HEADERS"},
     .want_opt = "MULTIPLE_UNIQUE_HEADERS=Subject"},
    {.name = "received count",
     .eml = "Received: from a by b; Mon, 02 Mar 2020 10:00:00 +0000\n"
            "Received: from c by a; Mon, 02 Mar 2020 10:00:00 +0000\n" BASE "Subject: x\n" BODY,
     .want = {"RCVD_COUNT_TWO"},
     .not_want = {"ONCE_RECEIVED", "RCVD_COUNT_ZERO"},
     .want_opt = "RCVD_COUNT_TWO=2"},
    {.name = "once received",
     .eml = "Received: from a by b; Mon, 02 Mar 2020 10:00:00 +0000\n" BASE "Subject: x\n" BODY,
     .want = {"RCVD_COUNT_ONE", "ONCE_RECEIVED"}},
    {.name = "mailing list",
     .eml = BASE "Subject: [list] x\nList-Id: <list.example.org>\n"
            "List-Unsubscribe: <mailto:list-leave@example.org>\nPrecedence: bulk\n" BODY,
     .want = {"MAILLIST", "HAS_LIST_UNSUB", "PRECEDENCE_BULK"},
     .want_opt = "MAILLIST=generic"},
    {.name = "x-priority",
     .eml = BASE "Subject: x\nX-Priority: 1 (Highest)\n" BODY,
     .want = {"HAS_X_PRIO_ONE"}},
    {.name = "mailer without version",
     .eml = BASE "Subject: x\nX-Mailer: Bulk Sender Pro\n" BODY,
     .want = {"XM_UA_NO_VERSION"}},
    {.name = "mailer with version",
     .eml = BASE "Subject: x\nUser-Agent: Mutt/2.2.9\n" BODY,
     .not_want = {"XM_UA_NO_VERSION"}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        mod_check(&module_headers, NULL, &cases[i]);
}

static void test_date_threshold(void **state)
{
    (void)state;
    /* A past threshold of 10^6 hours (114 years) silences DATE_IN_PAST. */
    static const struct mod_case c = {.name = "threshold",
                                      .eml = BASE "Subject: x\n" BODY,
                                      .not_want = {"DATE_IN_PAST"}};
    mod_check(&module_headers, "date_past_hours = 1000000;", &c);
}

static void test_disabled(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct module_env env = {.arena = a, .symtab = symtab_new(a), .config = NULL};
    void *ctx = (void *)1;
    const char *err = NULL;
    const char *ucl = "enabled = false;";
    const struct conf_obj *sec = conf_parse_buf(a, "t", ucl, strlen(ucl), NULL, &err);
    assert_non_null(sec);
    assert_int_equal(module_headers.configure(sec, &env, &ctx, &err), 0);
    assert_null(ctx);
    /* Symbols stay registered so scores and descriptions are known. */
    assert_non_null(symtab_find(env.symtab, "MISSING_MID", 11));
    arena_free(&a);
}

/* Huge values for every header the new matchers read. */
static void test_oversized(void **state)
{
    (void)state;
    static const char *const names[] = {"Subject", "Message-ID", "Content-Type", "To", NULL};
    mod_check_oversized(&module_headers, names, "!$@;>\xa3\xe2 ", BASE "Subject: x\n" BODY);
}

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_date_threshold),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_oversized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
