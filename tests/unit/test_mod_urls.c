/* Table-driven tests of the urls module (src/modules/urls.c). */
#include "test_mod_harness.c"

extern const struct module module_urls;

#define HDR "From: alice@example.com\nTo: bob@example.org\nSubject: x\n" \
            "Date: Mon, 02 Mar 2020 10:00:00 +0000\nMessage-ID: <1@example.com>\nMIME-Version: 1.0\n"
#define HTML(body) HDR "Content-Type: text/html; charset=utf-8\n\n<html><body>" body "</body></html>\n"
#define TEXT(body) HDR "Content-Type: text/plain; charset=utf-8\n\n" body "\n"

static const struct mod_case cases[] = {
    {.name = "ordinary link",
     .eml = HTML("<a href=\"https://www.example.com/news\">https://www.example.com/news</a>"),
     .not_want = {"PHISHING", "R_SUSPICIOUS_URL", "HTTP_TO_IP"}},
    {.name = "same organisation",
     .eml = HTML("<a href=\"https://click.example.com/x\">www.example.com</a>"),
     .not_want = {"PHISHING"}},
    {.name = "look-alike anchor",
     .eml = HTML("<a href=\"http://paypa1.example/login\">https://www.paypal.example/login</a>"),
     .want = {"PHISHING"}},
    {.name = "ip literal anchor",
     .eml = HTML("<a href=\"http://192.0.2.10/login\">log in</a>"),
     .want = {"HTTP_TO_IP"}},
    {.name = "ip literal in text is not an anchor",
     .eml = TEXT("go to http://192.0.2.10/login now"),
     .not_want = {"HTTP_TO_IP"}},
    {.name = "redirector to the shown site",
     .eml = HTML("<a href=\"http://www.example.net/r?u=http%3A%2F%2Fwww.cnn.example%2F\">http://www.cnn.example</a>"),
     .not_want = {"PHISHING"}},
    {.name = "redirector with two destinations",
     .eml = HTML("<a href=\"http://www.example.net/r?u=http%3A%2F%2Fwww.cnn.example%2F&v=http%3A%2F%2Fevil.example%2F\">http://www.cnn.example</a>"),
     .want = {"PHISHING"}},
    {.name = "same name, other suffix",
     .eml = HTML("<a href=\"http://www.roses.example\">http://www.roses.co.uk</a>"),
     .not_want = {"PHISHING"}},
    {.name = "numeric host",
     .eml = TEXT("go to http://3221225994/login now"),
     .want = {"R_SUSPICIOUS_URL"}},
    {.name = "userinfo shows a host",
     .eml = TEXT("go to http://www.bank.example@evil.example/login now"),
     .want = {"R_SUSPICIOUS_URL"}},
    {.name = "onion",
     .eml = TEXT("see http://expyuzz4wqqyqhjn.onion/ for more"),
     .want = {"HAS_ONION_URI"}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        mod_check(&module_urls, NULL, &cases[i]);
}

static void test_phishing_off(void **state)
{
    (void)state;
    static const struct mod_case c = {
        .name = "phishing off",
        .eml = HTML("<a href=\"http://paypa1.example/login\">https://www.paypal.example/login</a>"),
        .not_want = {"PHISHING"}};
    mod_check(&module_urls, "phishing = false;", &c);
}

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_phishing_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
