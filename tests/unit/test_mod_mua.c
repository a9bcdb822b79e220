/* Table-driven tests of the mua module (src/modules/mua.c). */
#include "test_mod_harness.c"

#include <stdlib.h>

extern const struct module module_mua;
extern const struct module module_headers;

#define FROM "From: Alice <alice@example.com>\n"
#define TO "To: bob@example.org\n"
#define DATE "Date: Mon, 02 Mar 2020 10:00:00 +0000\n"
#define MID "Message-ID: <20200302100000.1234@example.com>\n"
#define CT "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
#define BASE FROM TO DATE "Subject: x\n" CT
#define BODY "\nHello Bob,\nsee you tomorrow.\n"
#define EXCH_MID "Message-ID: <000801c2f0b4$3a8f9e80$0200a8c0@pc.example.com>\n"
#define BAT "X-Mailer: The Bat! (v1.52f) Business\n"

static const struct mod_case cases[] = {
    /* RATWARE_MS_HASH */
    {.name = "exchange id without exchange",
     .eml = BASE EXCH_MID BODY,
     .want = {"RATWARE_MS_HASH"}},
    {.name = "exchange id with MimeOLE",
     .eml = BASE EXCH_MID "X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2600.0000\n" BODY,
     .not_want = {"RATWARE_MS_HASH"}},
    {.name = "exchange id relayed by exchange",
     .eml = "Received: from a.example ([192.0.2.1]) by mx.example with Microsoft Exchange "
            "Server; Mon, 02 Mar 2020 10:00:00 +0000\n" BASE EXCH_MID BODY,
     .not_want = {"RATWARE_MS_HASH"}},
    {.name = "upper-case hex and short runs are not the exchange shape",
     .eml = BASE "Message-ID: <000801C2F0B4$3A8F9E80$0200A8C0@pc.example.com>\n"
            "References: <abc$0123$4567@x.example> <1234$5678$abcd@ >\n" BODY,
     .not_want = {"RATWARE_MS_HASH"}},
    /* MISSING_MIMEOLE */
    {.name = "msmail priority without mimeole",
     .eml = BASE MID "X-MSMail-Priority: Normal\n" BODY,
     .want = {"MISSING_MIMEOLE"}},
    {.name = "msmail priority with mimeole",
     .eml = BASE MID "X-MSMail-Priority: Normal\nX-MimeOLE: Produced By Microsoft MimeOLE\n" BODY,
     .not_want = {"MISSING_MIMEOLE"}},
    {.name = "outlook 2016 writes no mimeole",
     .eml = BASE MID "X-MSMail-Priority: Normal\nX-Mailer: Microsoft Outlook 16.0\n" BODY,
     .not_want = {"MISSING_MIMEOLE"}},
    {.name = "squirrelmail",
     .eml = BASE MID "X-MSMail-Priority: Normal\nX-Mailer: SquirrelMail (version 1.2.7)\n" BODY,
     .not_want = {"MISSING_MIMEOLE"}},
    {.name = "squirrelmailer is not squirrelmail",
     .eml = BASE MID "X-MSMail-Priority: Normal\nX-Mailer: SquirrelMailer 2\n" BODY,
     .want = {"MISSING_MIMEOLE"}},
    /* FORGED_X_MAILER, FORGED_IMS */
    {.name = "thunderbird in x-mailer",
     .eml = BASE MID "X-Mailer: Mozilla Thunderbird 1.0.2 (Windows/20050317)\n" BODY,
     .want = {"FORGED_X_MAILER"}},
    {.name = "header name repeated in the value",
     .eml = BASE MID "X-Mailer: X-Mailer: Foo 1.0\n" BODY,
     .want = {"FORGED_X_MAILER"}},
    {.name = "fake iphone",
     .eml = BASE MID "X-Mailer: iPhone Mail (Z99)\n" BODY,
     .want = {"FORGED_X_MAILER"}},
    {.name = "genuine iphone",
     .eml = BASE MID "X-Mailer: iPhone Mail (16H5)\n" BODY,
     .not_want = {"FORGED_X_MAILER"}},
    {.name = "thunderbird without a version digit",
     .eml = BASE MID "X-Mailer: Thunderbird rocks\n" BODY,
     .not_want = {"FORGED_X_MAILER"}},
    {.name = "empty x-mailer",
     .eml = BASE MID "X-Mailer:\nX-MSMail-Priority:\n" BODY,
     .want = {"MISSING_MIMEOLE"},
     .not_want = {"FORGED_X_MAILER", "FORGED_IMS", "FORGED_MUA_THEBAT_MSGID_UNKNOWN"}},
    {.name = "ims without its received line",
     .eml = BASE MID "X-Mailer: Internet Mail Service (5.5.2653.19)\n" BODY,
     .want = {"FORGED_IMS"}},
    {.name = "ims with its received line (folded)",
     .eml = "Received: by DC-EXMPL with Internet Mail Service (5.5.2656.59)\n"
            "\tid <HKH4BJQX>; Tue, 8 Dec 2020 07:10:54 -0600\n" BASE MID
            "X-Mailer: Internet Mail Service (5.5.2656.59)\n" BODY,
     .not_want = {"FORGED_IMS"}},
    /* The Bat! */
    {.name = "the bat with an unknown id",
     .eml = BASE BAT "Message-ID: <3C5A1E2B.6070708@example.com>\n" BODY,
     .want = {"FORGED_MUA_THEBAT_MSGID_UNKNOWN"},
     .not_want = {"FORGED_MUA_THEBAT_MSGID"}},
    {.name = "the bat with its own id",
     .eml = BASE BAT "Message-ID: <1234.20020921012046@example.com>\n" BODY,
     .not_want = {"FORGED_MUA_THEBAT_MSGID_UNKNOWN", "FORGED_MUA_THEBAT_MSGID"}},
    {.name = "the bat with a dated-looking but wrong id",
     .eml = BASE BAT "Message-ID: <1234.20021399999999@example.com>\n" BODY,
     .want = {"FORGED_MUA_THEBAT_MSGID"},
     .not_want = {"FORGED_MUA_THEBAT_MSGID_UNKNOWN"}},
    {.name = "the bat through mailman",
     .eml = BASE BAT "Message-ID: <mailman.12.1033.8.list@lists.example.org>\n" BODY,
     .not_want = {"FORGED_MUA_THEBAT_MSGID_UNKNOWN", "FORGED_MUA_THEBAT_MSGID"}},
    {.name = "the bat through ezmlm",
     .eml = BASE BAT "Message-ID: <3C5A1E2B.6070708@example.com>\nList-Unsubscribe: <mailto:list-unsubscribe@lists.example.org>\n" BODY,
     .not_want = {"FORGED_MUA_THEBAT_MSGID_UNKNOWN"}},
    {.name = "the bat 1.x boundary",
     .eml = FROM TO DATE MID "Subject: x\nMIME-Version: 1.0\n" BAT
            "Content-Type: multipart/alternative; boundary=\"=_NextPart_x\"\n\n--=_NextPart_x--\n",
     .want = {"FORGED_MUA_THEBAT_BOUN"}},
    {.name = "the bat 1.x boundary with ten dashes",
     .eml = FROM TO DATE MID "Subject: x\nMIME-Version: 1.0\n" BAT
            "Content-Type: multipart/mixed; boundary=\"----------12345\"\n\n------------12345--\n",
     .not_want = {"FORGED_MUA_THEBAT_BOUN"}},
    /* Outlook */
    {.name = "forged outlook express",
     .eml = FROM TO DATE CT "Message-ID: <abcdef@example.com>\nSubject: x\n"
            "X-Mailer: Microsoft Outlook Express 6.00.2600.0000\n" BODY,
     .want = {"FORGED_MUA_OUTLOOK"}},
    {.name = "real outlook express",
     .eml = FROM TO DATE CT EXCH_MID "Subject: x\nX-Mailer: Microsoft Outlook Express 6.00.2600.0000\n"
            BODY,
     .not_want = {"FORGED_MUA_OUTLOOK", "FORGED_OUTLOOK_HTML"}},
    {.name = "outlook express through hotmail",
     .eml = FROM TO DATE CT "Message-ID: <F12abcDEFghiJKLmnoPQRstuVWX@hotmail.com>\nSubject: x\n"
            "X-Mailer: Microsoft Outlook Express 6.00.2600.0000\n" BODY,
     .not_want = {"FORGED_MUA_OUTLOOK"}},
    {.name = "outlook 2000 ids",
     .eml = FROM TO DATE CT "Message-ID: <!~!UENERkVCMDkAAQACAAAAAAAAAAAAAAAAABgAAAAAAAAA@example.com>\n"
            "Subject: x\nX-Mailer: Microsoft Outlook, Build 10.0.2627\n" BODY,
     .not_want = {"FORGED_MUA_OUTLOOK"}},
    {.name = "outlook 2002 with a made-up id",
     .eml = FROM TO DATE CT MID "Subject: x\nX-Mailer: Microsoft Outlook, Build 10.0.2627\n" BODY,
     .want = {"FORGED_MUA_OUTLOOK"}},
    {.name = "outlook with html first",
     .eml = FROM TO DATE MID "MIME-Version: 1.0\nContent-Type: text/html; charset=us-ascii\nSubject: x\n"
            "X-Mailer: Microsoft Outlook 16.0\n\n<html><body><p>Hello there</p></body></html>\n",
     .want = {"FORGED_OUTLOOK_HTML"}},
    {.name = "outlook html through yahoo groups",
     .eml = "Received: from [10.1.1.1] by n9.groups.yahoo.com with NNFMP; Sep, 20 2002\n"
            FROM TO DATE MID "MIME-Version: 1.0\nContent-Type: text/html; charset=us-ascii\nSubject: x\n"
            "X-Mailer: Microsoft Outlook 16.0\n\n<html><body><p>Hello there</p></body></html>\n",
     .not_want = {"FORGED_OUTLOOK_HTML"}},
    {.name = "outlooker is not outlook",
     .eml = FROM TO DATE MID "MIME-Version: 1.0\nContent-Type: text/html; charset=us-ascii\nSubject: x\n"
            "X-Mailer: Microsoft Outlooker\n\n<html><body><p>Hello there</p></body></html>\n",
     .not_want = {"FORGED_OUTLOOK_HTML"}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        mod_check(&module_mua, NULL, &cases[i]);
}

/* Runs headers then mua on one task, as the registry orders them. */
static struct task *run_with_headers(const char *eml, struct arena **cfg_arena_r)
{
    struct arena *a = arena_new(0);
    struct symtab *st = symtab_new(a);
    struct module_env env = {.arena = a, .symtab = st, .config = NULL};
    struct actions *acts = ARENA_NEW(a, struct actions);
    void *hctx = NULL, *mctx = NULL;
    const char *err = NULL;
    assert_int_equal(module_headers.configure(NULL, &env, &hctx, &err), 0);
    assert_int_equal(module_mua.configure(NULL, &env, &mctx, &err), 0);
    actions_init_defaults(acts);
    struct task *t = task_new(NULL, st, acts);
    struct mime_limits limits;
    struct message *msg = NULL;
    memset(&limits, 0, sizeof(limits));
    assert_int_equal(message_parse(t->arena, eml, strlen(eml), &limits, &msg, &err), 0);
    t->msg = msg;
    assert_int_equal(module_headers.scan(t, hctx), 0);
    assert_int_equal(module_mua.scan(t, mctx), 0);
    *cfg_arena_r = a;
    return t;
}

/* Rspamd's FORGED_MUA_MAILLIST composite: list mail keeps MAILLIST and
 * trades the mua group for a zero-weight marker; other groups stay. */
static void test_maillist(void **state)
{
    (void)state;
    struct arena *a;
    struct task *t = run_with_headers(
        FROM TO DATE CT MID BAT "Subject: x\nX-MSMail-Priority: Normal\n"
        "List-Id: <list.example.org>\nList-Post: <mailto:list@example.org>\n"
        "X-Mailman-Version: 2.1\n" BODY, &a);
    assert_non_null(task_find_symbol(t, "MAILLIST"));
    assert_non_null(task_find_symbol(t, "FORGED_MUA_MAILLIST"));
    assert_null(task_find_symbol(t, "FORGED_MUA_THEBAT_MSGID_UNKNOWN"));
    assert_non_null(task_find_symbol(t, "MISSING_MIMEOLE"));
    task_free(&t);
    arena_free(&a);
}

/* Huge and hostile values: every matcher stays inside its bytes. */
static void test_oversized(void **state)
{
    (void)state;
    static const char *const names[] = {"Message-ID", "X-Mailer", "List-Unsubscribe",
                                        "Content-Type", "Received", NULL};
    mod_check_oversized(&module_mua, names, "$a@<>!~ \t0", BASE "X-Mailer: The Bat!\n" BODY);
}

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_maillist),
        cmocka_unit_test(test_oversized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
