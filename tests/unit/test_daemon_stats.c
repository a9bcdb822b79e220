/* Unit tests for daemon/stats.c: counters shared across fork. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "core/actions.h"
#include "daemon/stats.h"

static void test_shared_across_fork(void **state)
{
    struct daemon_stats *s = daemon_stats_create();
    struct actions acts;
    pid_t pid;
    int status;

    actions_init_defaults(&acts);
    assert_ptr_equal(daemon_stats_get(), s);
    assert_true(daemon_stats_read(&s->start_time) > 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 1000; i++)
            daemon_stats_count_scan(&acts, ACTION_REJECT);
        daemon_stats_count_scan(&acts, ACTION_NO_ACTION);
        daemon_stats_inc(&s->connections);
        _exit(0);
    }
    for (int i = 0; i < 1000; i++)
        daemon_stats_count_scan(&acts, ACTION_REJECT);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(daemon_stats_read(&s->scanned), 2001);
    assert_int_equal(daemon_stats_read(&s->actions[ACTION_REJECT]), 2000);
    assert_int_equal(daemon_stats_read(&s->actions[ACTION_NO_ACTION]), 1);
    assert_int_equal(daemon_stats_read(&s->spam_count), 2000);
    assert_int_equal(daemon_stats_read(&s->ham_count), 1);
    assert_int_equal(daemon_stats_read(&s->connections), 1);
    /* out-of-range action ids are ignored, not trusted */
    daemon_stats_count_scan(&acts, ACTIONS_MAX + 3);
    daemon_stats_count_scan(&acts, -1);
    assert_int_equal(daemon_stats_read(&s->scanned), 2003);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_across_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
