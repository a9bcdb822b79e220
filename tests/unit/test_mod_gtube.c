/* Table-driven tests of the gtube module (src/modules/gtube.c). */
#include <math.h>

#include "test_mod_harness.c"

extern const struct module module_gtube;

#define HDR "From: alice@example.com\nTo: bob@example.org\nSubject: test\n" \
            "Date: Mon, 02 Mar 2020 10:00:00 +0000\nMessage-ID: <1@example.com>\nMIME-Version: 1.0\n"
#define TAIL "JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

struct gtube_case {
    const char *name;
    const char *section;         /* module section UCL */
    const char *eml;
    int want_action;             /* -1 = no passthrough */
};

static const struct gtube_case cases[] = {
    {"plain gtube", NULL, HDR "Content-Type: text/plain\n\nThis is GTUBE:\nX" TAIL "\n", ACTION_REJECT},
    {"gtube in base64 part", NULL,
     HDR "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
         "WEpTKkM0SkRCUUFETjEuTlNCTjMqMklETkVOKkdUVUJFLVNUQU5EQVJELUFOVEktVUJFLVRFU1QtRU1BSUwqQy4zNFgK\n",
     ACTION_REJECT},
    {"no pattern", NULL, HDR "Content-Type: text/plain\n\nhello\n", -1},
    {"broken pattern", NULL, HDR "Content-Type: text/plain\n\nXJS*C4JDBQADN1.NSBN3*GTUBE\n", -1},
    {"YJS without test patterns", NULL, HDR "Content-Type: text/plain\n\nY" TAIL "\n", -1},
    {"YJS with test patterns", "enable_test_patterns = true;",
     HDR "Content-Type: text/plain\n\nY" TAIL "\n", ACTION_ADD_HEADER},
    {"ZJS with test patterns", "enable_test_patterns = true;",
     HDR "Content-Type: text/plain\n\nZ" TAIL "\n", ACTION_REWRITE_SUBJECT},
    {"AJS with test patterns", "enable_test_patterns = true;",
     HDR "Content-Type: text/plain\n\nA" TAIL "\n", ACTION_NO_ACTION},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct gtube_case *g = &cases[i];
        struct mod_case c = {.name = g->name, .eml = g->eml};
        struct arena *cfg_arena;
        struct task *t = mod_run(&module_gtube, g->section, &c, &cfg_arena);
        if (g->want_action < 0) {
            if (t->passthrough != NULL || task_find_symbol(t, "GTUBE") != NULL)
                fail_msg("%s: unexpected GTUBE", g->name);
        } else {
            if (t->passthrough == NULL || task_find_symbol(t, "GTUBE") == NULL)
                fail_msg("%s: no GTUBE; got %s", g->name, symbols_list(t));
            assert_int_equal(t->passthrough->action, g->want_action);
            assert_string_equal(t->passthrough->message, "Gtube pattern");
            assert_false(t->passthrough->least);
            assert_true(t->is_skipped);
            assert_true((t->flags & TASK_SKIP) != 0);
            if (g->want_action == ACTION_REJECT)
                assert_true(t->passthrough->score == 15.0);
        }
        task_free(&t);
        arena_free(&cfg_arena);
    }
}

int main(void)
{
    mime_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
