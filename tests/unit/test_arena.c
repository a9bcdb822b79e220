#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

static int cleanup_order[4];
static int cleanup_n;

static void cleanup_cb(void *data)
{
    cleanup_order[cleanup_n++] = (int)(intptr_t)data;
}

static void test_alloc_alignment_and_big(void **state)
{
    struct arena *a = arena_new(1024);
    for (size_t sz = 1; sz < 5000; sz += 97) {
        char *p = arena_alloc(a, sz);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xAB, sz);
    }
    char *big = arena_alloc(a, 100000);
    memset(big, 1, 100000);
    arena_free(&a);
    assert_null(a);
}

static void test_cleanups_run_lifo(void **state)
{
    struct arena *a = arena_new(0);
    cleanup_n = 0;
    arena_cleanup_add(a, cleanup_cb, (void *)1);
    arena_cleanup_add(a, cleanup_cb, (void *)2);
    arena_cleanup_add(a, cleanup_cb, (void *)3);
    arena_free(&a);
    assert_int_equal(cleanup_n, 3);
    assert_int_equal(cleanup_order[0], 3);
    assert_int_equal(cleanup_order[2], 1);
}

static void test_realloc_and_strings(void **state)
{
    struct arena *a = arena_new(0);
    char *p = arena_alloc(a, 8);
    memcpy(p, "abcdefgh", 8);
    char *q = arena_realloc(a, p, 8, 64);
    assert_memory_equal(q, "abcdefgh", 8);
    assert_string_equal(arena_printf(a, "%s-%d", "x", 42), "x-42");
    assert_string_equal(arena_strndup(a, "hello", 3), "hel");
    char *long_s = arena_printf(a, "%0300d", 7);
    assert_int_equal(strlen(long_s), 300);
    arena_free(&a);
}

static void test_buf(void **state)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i);
    assert_true(b.len > 3000);
    buf_consume(&b, 2);
    assert_memory_equal(b.data, "1,2,", 4);
    buf_free(&b);
}

static void test_str_helpers(void **state)
{
    static const struct {
        const char *in;
        int ok;
        uint64_t want;
    } cases[] = {
        {"0", 0, 0}, {"12345", 0, 12345}, {"", -1, 0}, {"-1", -1, 0},
        {"18446744073709551615", 0, UINT64_MAX}, {"18446744073709551616", -1, 0}, {"1x", -1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 0;
        assert_int_equal(str_to_u64(cases[i].in, strlen(cases[i].in), &v), cases[i].ok);
        if (cases[i].ok == 0)
            assert_true(v == cases[i].want);
    }
    assert_int_equal(str_isearch("Hello World", 11, "WORLD", 5), 6);
    assert_int_equal(str_isearch("abc", 3, "abcd", 4), -1);
    const char *p = "  x y \r\n";
    size_t len = strlen(p);
    str_trim(&p, &len);
    assert_int_equal(len, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_alignment_and_big),
        cmocka_unit_test(test_cleanups_run_lifo),
        cmocka_unit_test(test_realloc_and_strings),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_str_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
