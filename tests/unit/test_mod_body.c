/* Table-driven tests of the body module (src/modules/body.c). */
#include "test_mod_harness.c"

#include <stdlib.h>

extern const struct module module_body;

#define HDRS "From: Alice <alice@example.com>\nTo: bob@example.org\n" \
             "Date: Mon, 02 Mar 2020 10:00:00 +0000\nMessage-ID: <1.2@example.com>\nMIME-Version: 1.0\n"
#define PLAIN HDRS "Subject: hello\nContent-Type: text/plain; charset=us-ascii\n\n"

static const struct mod_case cases[] = {
    {.name = "my name is",
     .eml = PLAIN "Dear friend,\nMy name is Joe and I need your help.\n",
     .want = {"INTRODUCTION"}},
    {.name = "title after I am",
     .eml = PLAIN "Greetings. I am Dr. Adamu, the bank manager.\n",
     .want = {"INTRODUCTION"}},
    {.name = "line break between the words reads as a space",
     .eml = PLAIN "Permit me to say that this is\n   Mr. John, a barrister.\n",
     .want = {"INTRODUCTION"}},
    {.name = "a line break inside the phrase",
     .eml = PLAIN "Hello, my name\nis Joe.\n",
     .want = {"INTRODUCTION"}},
    {.name = "in the subject",
     .eml = HDRS "Subject: This is Mrs Smith\nContent-Type: text/plain\n\nhello\n",
     .want = {"INTRODUCTION"}},
    {.name = "in an html part",
     .eml = HDRS "Subject: hi\nContent-Type: text/html\n\n<html><body><p>I am <b>Prof</b>"
            " Okafor</p></body></html>\n",
     .want = {"INTRODUCTION"}},
    {.name = "a title that is only a prefix",
     .eml = PLAIN "I am mrsomething and this is sirius.\n",
     .not_want = {"INTRODUCTION"}},
    {.name = "not at a word start",
     .eml = PLAIN "Tommy name is Tom; Hi am Mr X.\n",
     .not_want = {"INTRODUCTION"}},
    {.name = "my name isn't",
     .eml = PLAIN "my name isn't important\n",
     .not_want = {"INTRODUCTION"}},
    {.name = "empty body and subject",
     .eml = HDRS "Subject:\nContent-Type: text/plain\n\n",
     .not_want = {"INTRODUCTION"}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        mod_check(&module_body, NULL, &cases[i]);
}

/* A long body of near misses, and the phrase at the very end. */
static void test_long(void **state)
{
    (void)state;
    static const char unit[] = "i am\n\n\r\n  m this is my name i\n";
    size_t n = 500000, ul = sizeof(unit) - 1, hl = strlen(PLAIN);
    char *eml = malloc(hl + n + 32);
    assert_non_null(eml);
    memcpy(eml, PLAIN, hl);
    size_t k = hl;
    while (k + ul < hl + n) {
        memcpy(eml + k, unit, ul);
        k += ul;
    }
    eml[k] = '\0';
    struct mod_case miss = {.name = "long miss", .eml = eml, .not_want = {"INTRODUCTION"}};
    mod_check(&module_body, NULL, &miss);
    strcpy(eml + k, "I am Sir");
    struct mod_case hit = {.name = "long hit", .eml = eml, .want = {"INTRODUCTION"}};
    mod_check(&module_body, NULL, &hit);
    free(eml);
}

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
