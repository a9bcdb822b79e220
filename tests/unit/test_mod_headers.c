/* Table-driven tests of the headers module (src/modules/headers.c). */
#include "test_mod_harness.c"

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
     .want = {"MISSING_SUBJECT"}},
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
    {.name = "forged outlook express",
     .eml = FROM TO DATE MIMEV CT "Message-ID: <abcdef@example.com>\nSubject: x\n"
            "X-Mailer: Microsoft Outlook Express 6.00.2600.0000\n" BODY,
     .want = {"FORGED_MUA_OUTLOOK"}},
    {.name = "real outlook express",
     .eml = FROM TO DATE MIMEV CT "Message-ID: <000801c2f0b4$3a8f9e80$0200a8c0@pc.example.com>\n"
            "Subject: x\nX-Mailer: Microsoft Outlook Express 6.00.2600.0000\n" BODY,
     .not_want = {"FORGED_MUA_OUTLOOK", "FORGED_OUTLOOK_HTML"}},
    {.name = "outlook with html only",
     .eml = FROM TO DATE MID MIMEV "Content-Type: text/html; charset=us-ascii\nSubject: x\n"
            "X-Mailer: Microsoft Outlook 16.0\n\n<html><body><p>Hello there</p></body></html>\n",
     .want = {"FORGED_OUTLOOK_HTML"}},
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

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_date_threshold),
        cmocka_unit_test(test_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
