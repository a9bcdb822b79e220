#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <ev.h>

#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"

static const struct symbol_def defs[] = {
    {"A_SYM", 2.5, "test", "an A", 0},
    {"B_SYM", -0.5, "test", NULL, 0},
    {"OFF_SYM", 3.0, "test", NULL, SYMBOL_DISABLED},
    {"BIG", 7.0, "test", NULL, 0},
};

struct fixture {
    struct arena *arena;
    struct symtab *st;
    struct actions acts;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->arena = arena_new(0);
    f->st = symtab_new(f->arena);
    symtab_add_many(f->st, defs, sizeof(defs) / sizeof(defs[0]));
    actions_init_defaults(&f->acts);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_free(&f->arena);
    free(f);
    return 0;
}

static void test_insert_and_options(void **state)
{
    struct fixture *f = *state;
    struct task *t = task_new(NULL, f->st, &f->acts);
    assert_non_null(task_insert(t, "A_SYM", 1.0, "x"));
    task_insert(t, "A_SYM", 1.0, "x");
    task_insert(t, "A_SYM", 1.0, "y");
    assert_null(task_insert(t, "OFF_SYM", 1.0, NULL));
    task_insertf(t, "B_SYM", 1.0, "%d", 42);
    task_insert(t, "UNKNOWN", 1.0, NULL);
    const struct task_symbol *a = task_find_symbol(t, "A_SYM");
    assert_int_equal(a->noptions, 2);
    assert_string_equal(a->options[1], "y");
    assert_int_equal(t->nsymbols, 3);
    task_finalize(t);
    assert_true(fabs(t->score - 2.0) < 1e-9);
    assert_int_equal(t->action, ACTION_NO_ACTION);
    task_free(&t);
}

static void test_actions_ladder(void **state)
{
    struct fixture *f = *state;
    static const struct {
        double score;
        int want;
    } cases[] = {{0, ACTION_NO_ACTION}, {3.99, ACTION_NO_ACTION}, {4, ACTION_GREYLIST},
                 {6, ACTION_ADD_HEADER}, {14.9, ACTION_ADD_HEADER}, {15, ACTION_REJECT},
                 {100, ACTION_REJECT}, {-5, ACTION_NO_ACTION}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(actions_for_score(&f->acts, cases[i].score), cases[i].want);
    f->acts.a[ACTION_REWRITE_SUBJECT].threshold = 8;
    assert_int_equal(actions_for_score(&f->acts, 9), ACTION_REWRITE_SUBJECT);
    f->acts.a[ACTION_REJECT].threshold = NAN;
    assert_int_equal(actions_for_score(&f->acts, 100), ACTION_REWRITE_SUBJECT);
    assert_true(actions_required_score(&f->acts) == 8);
}

static void test_passthrough_and_subject(void **state)
{
    struct fixture *f = *state;
    f->acts.a[ACTION_REWRITE_SUBJECT].threshold = 6.5;
    f->acts.subject = "[SPAM %d] %s %%";
    struct task *t = task_new(NULL, f->st, &f->acts);
    t->subject = "hello";
    task_insert(t, "BIG", 1.0, NULL);
    task_finalize(t);
    assert_int_equal(t->action, ACTION_REWRITE_SUBJECT);
    assert_string_equal(t->new_subject, "[SPAM 7.00] hello %");
    task_set_passthrough(t, ACTION_REJECT, NAN, "Gtube pattern", "gtube", false);
    task_set_passthrough(t, ACTION_NO_ACTION, NAN, NULL, "other", false);
    task_finalize(t);
    assert_int_equal(t->action, ACTION_REJECT);
    assert_string_equal(t->messages->value, "Gtube pattern");
    task_free(&t);
}

static int done_calls;
static void done_cb(struct task *t, void *data)
{
    done_calls++;
    *(struct task **)data = t;
}

static void test_async_and_timeout(void **state)
{
    struct fixture *f = *state;
    struct ev_loop *loop = ev_loop_new(0);
    struct task *t = task_new(loop, f->st, &f->acts), *seen = NULL;
    struct task_ref ref = task_ref(t);
    task_async_begin(t, "dns:a");
    task_async_begin(t, "dns:b");
    done_calls = 0;
    task_wait(t, 0.05, done_cb, &seen);
    assert_ptr_equal(task_ref_get(ref), t);
    task_async_end(t, "dns:a");
    assert_int_equal(done_calls, 0);
    ev_run(loop, 0);                    /* timer fires */
    assert_int_equal(done_calls, 1);
    assert_true(seen->timed_out);
    assert_null(task_ref_get(ref));     /* late replies find nothing */
    const struct task_symbol *s = task_find_symbol(seen, "TASK_TIMEOUT");
    assert_non_null(s);
    assert_string_equal(s->options[0], "dns:b");
    task_free(&seen);
    ev_loop_destroy(loop);
}

/* Stages: the idle hook runs when stage 0's lookups are done, may start
 * more lookups, and completion waits for those too. */
struct stage_state {
    int calls;
    struct ev_loop *loop;
};

static bool idle_hook(struct task *t, void *data)
{
    struct stage_state *s = data;
    if (s->calls++ == 0) {
        task_async_begin(t, "stage1");
        return true;
    }
    return false;
}

static void test_idle_stages(void **state)
{
    struct fixture *f = *state;
    struct ev_loop *loop = ev_loop_new(0);
    struct task *t = task_new(loop, f->st, &f->acts), *seen = NULL;
    struct stage_state ss = {0, loop};
    task_async_begin(t, "stage0");
    task_set_idle_hook(t, idle_hook, &ss);
    done_calls = 0;
    task_wait(t, 5.0, done_cb, &seen);
    task_async_end(t, "stage0");          /* runs the hook: stage1 starts */
    assert_int_equal(ss.calls, 1);
    assert_int_equal(done_calls, 0);
    task_async_end(t, "stage1");          /* hook says no more: complete */
    assert_int_equal(ss.calls, 2);
    assert_int_equal(done_calls, 1);
    assert_false(seen->timed_out);
    task_free(&seen);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_actions_ladder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passthrough_and_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_and_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_stages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
