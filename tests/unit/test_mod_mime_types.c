/* Table-driven tests of the mime_types module (src/modules/mime_types.c). */
#include "test_mod_harness.c"

extern const struct module module_mime_types;

#define HDR "From: alice@example.com\nTo: bob@example.org\nSubject: x\n" \
            "Date: Mon, 02 Mar 2020 10:00:00 +0000\nMessage-ID: <1@example.com>\nMIME-Version: 1.0\n"

#define ALT(plain, html)                                                               \
    HDR "Content-Type: multipart/alternative; boundary=\"b\"\n\n"                      \
        "--b\nContent-Type: text/plain; charset=utf-8\n\n" plain "\n"                  \
        "--b\nContent-Type: text/html; charset=utf-8\n\n" html "\n--b--\n"

static const struct mod_case cases[] = {
    {.name = "plain text",
     .eml = HDR "Content-Type: text/plain; charset=us-ascii\n\nhello\n",
     .want = {"MIME_GOOD", "MIME_TRACE"},
     .not_want = {"MIME_UNKNOWN", "MIME_BAD", "MIME_HTML_ONLY", "HAS_ATTACHMENT",
                  "BROKEN_CONTENT_TYPE", "R_BAD_CTE_7BIT", "R_MIXED_CHARSET", "MIME_BASE64_TEXT"},
     .want_opt = "MIME_TRACE=0:+"},
    {.name = "alternative that agrees",
     .eml = ALT("Hello Bob, the meeting is at ten in room four.",
                "<p>Hello Bob, the meeting is at ten in room four.</p>"),
     .want = {"MIME_GOOD"},
     .not_want = {"R_PARTS_DIFFER", "MIME_MA_MISSING_TEXT", "MIME_MA_MISSING_HTML",
                  "MIME_HTML_ONLY"},
     .want_opt = "MIME_TRACE=2:~"},
    {.name = "alternative that differs",
     .eml = ALT("Hello Bob, the meeting is at ten in room four.",
                "<p>Cheap pills online best prices click here now friend</p>"),
     .want = {"R_PARTS_DIFFER"}},
    {.name = "html only",
     .eml = HDR "Content-Type: text/html; charset=utf-8\n\n<html><body><p>Hi there, long enough text "
                "for the empty image check to stay quiet in this case.</p></body></html>\n",
     .want = {"MIME_HTML_ONLY"}},
    {.name = "alternative without text",
     .eml = HDR "Content-Type: multipart/alternative; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/html\n\n<p>hi</p>\n--b--\n",
     .want = {"MIME_MA_MISSING_TEXT"}},
    {.name = "base64 text without 8-bit",
     .eml = HDR "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                "SGVsbG8gd29ybGQK\n",
     .want = {"MIME_BASE64_TEXT", "MIME_BASE64_TEXT_BOGUS"}},
    {.name = "base64 text with 8-bit",
     .eml = HDR "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                "0J/RgNC40LLQtdGCINC80LjRgAo=\n",
     .want = {"MIME_BASE64_TEXT"},
     .not_want = {"MIME_BASE64_TEXT_BOGUS"}},
    {.name = "utf-8 in 7bit weighs less",
     .eml = HDR "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
                "Caf\xc3\xa9\n",
     .want = {"R_BAD_CTE_7BIT"},
     .want_opt = "R_BAD_CTE_7BIT=utf8"},
    {.name = "8-bit declared 8bit",
     .eml = HDR "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                "Caf\xc3\xa9\n",
     .not_want = {"R_BAD_CTE_7BIT", "R_MISSING_CHARSET"}},
    {.name = "8-bit in 7bit",
     .eml = HDR "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 7bit\n\n"
                "Caf\xe9 cr\xe8me\n",
     .want = {"R_BAD_CTE_7BIT"}},
    {.name = "8-bit without charset",
     .eml = HDR "Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\nCaf\xc3\xa9\n",
     .want = {"R_MISSING_CHARSET"}},
    {.name = "mixed scripts",
     /* "Vіаgrа" with Cyrillic і and а. */
     .eml = HDR "Content-Type: text/plain; charset=utf-8\n\nBuy V\xd1\x96\xd0\xb0gr\xd0\xb0 now\n",
     .want = {"R_MIXED_CHARSET"}},
    {.name = "russian text is not mixed",
     .eml = HDR "Content-Type: text/plain; charset=utf-8\n\n\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
                "\xd1\x82, Windows \xd0\xb8 Linux\n",
     .not_want = {"R_MIXED_CHARSET"}},
    {.name = "attachment with bad extension",
     .eml = HDR "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nsee attached\n"
                "--b\nContent-Type: application/octet-stream\n"
                "Content-Disposition: attachment; filename=\"setup.exe\"\n"
                "Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--b--\n",
     .want = {"HAS_ATTACHMENT", "MIME_BAD_EXTENSION"},
     .not_want = {"CTYPE_MIXED_BOGUS", "MIME_DOUBLE_BAD_EXTENSION"},
     .want_opt = "MIME_TRACE=2:-"},
    {.name = "unregistered type",
     .eml = HDR "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nsee attached\n"
                "--b\nContent-Type: application/x-foo-bar\n\nxx\n--b--\n",
     .want = {"MIME_UNKNOWN"},
     .want_opt = "MIME_UNKNOWN=application/x-foo-bar"},
    {.name = "signed message",
     .eml = HDR "Content-Type: multipart/signed; boundary=\"b\"; protocol=\"application/pgp-signature\"\n\n"
                "--b\nContent-Type: text/plain\n\nsigned text\n"
                "--b\nContent-Type: application/pgp-signature\n\nsig\n--b--\n",
     .want = {"MIME_GOOD"},
     .not_want = {"MIME_UNKNOWN", "MIME_BAD"},
     .want_opt = "MIME_GOOD=multipart/signed"},
    {.name = "double extension",
     .eml = HDR "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nsee attached\n"
                "--b\nContent-Type: application/octet-stream\n"
                "Content-Disposition: attachment; filename=\"invoice.pdf.scr\"\n\nxx\n--b--\n",
     .want = {"MIME_DOUBLE_BAD_EXTENSION"},
     .not_want = {"MIME_BAD_EXTENSION", "MIME_BAD"},
     .want_opt = "MIME_DOUBLE_BAD_EXTENSION=.pdf.scr"},
    {.name = "bad extension inside a compressor",
     .eml = HDR "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nsee attached\n"
                "--b\nContent-Type: application/x-xz\n"
                "Content-Disposition: attachment; filename=\"photo.scr.xz\"\n\nxx\n--b--\n",
     .want_opt = "MIME_DOUBLE_BAD_EXTENSION=.scr.xz"},
    {.name = "numbered copy is not a double extension",
     .eml = HDR "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nsee attached\n"
                "--b\nContent-Type: application/octet-stream\n"
                "Content-Disposition: attachment; filename=\"setup.2).msi\"\n\nxx\n--b--\n",
     .not_want = {"MIME_DOUBLE_BAD_EXTENSION"},
     .want_opt = "MIME_BAD_EXTENSION=msi"},
    {.name = "mixed with one part",
     .eml = HDR "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nonly part\n--b--\n",
     .want = {"CTYPE_MIXED_BOGUS"}},
    {.name = "MIME_HTML_ONLY ignores attached messages",
     .eml = HDR "Content-Type: multipart/mixed; boundary=\"o\"\n\n"
                "--o\nContent-Type: text/html\n\n<p>Hello there, a long enough text for this check.</p>\n"
                "--o\nContent-Type: message/rfc822\n\nFrom: c@example.net\nSubject: fwd\n"
                "Content-Type: text/plain\n\ninner plain text\n--o--\n",
     .want = {"MIME_HTML_ONLY"}},
    {.name = "html with a calendar alternative",
     .eml = HDR "Content-Type: multipart/alternative; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/html\n\n<p>Meeting</p>\n"
                "--b\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n--b--\n",
     .not_want = {"MIME_HTML_ONLY"}},
    {.name = "boundary value after a space",
     .eml = HDR "Content-Type: multipart/mixed; boundary=\n\t\"xxx\"\n\n--xxx\nContent-Type: text/plain\n\nhi\n"
                "--xxx\nContent-Type: text/plain\n\nho\n--xxx--\n",
     .want = {"BROKEN_CONTENT_TYPE"}},
    {.name = "base64 padding in an unquoted parameter is fine",
     .eml = HDR "Content-Type: text/plain; charset=us-ascii; x-tag=YWJj==\n\nhello\n",
     .not_want = {"BROKEN_CONTENT_TYPE"}},
    {.name = "broken content type",
     .eml = HDR "Content-Type: text\n\nhello\n",
     .want = {"BROKEN_CONTENT_TYPE"}},
    {.name = "image with no text",
     .eml = HDR "Content-Type: text/html\n\n<html><body><img src=\"http://img.example/a.png\"></body></html>\n",
     .want = {"R_EMPTY_IMAGE"}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        mod_check(&module_mime_types, NULL, &cases[i]);
}

static void test_bad_extensions_config(void **state)
{
    (void)state;
    static const struct mod_case c = {
        .name = "exe turned off",
        .eml = HDR "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                   "--b\nContent-Type: text/plain\n\nsee attached\n"
                   "--b\nContent-Type: application/octet-stream\n"
                   "Content-Disposition: attachment; filename=\"setup.exe\"\n\nxx\n--b--\n",
        .not_want = {"MIME_BAD_EXTENSION"}};
    mod_check(&module_mime_types, "bad_extensions { exe = 0; }", &c);
}

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_bad_extensions_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
