/* Unit tests for daemon/stats.c: counters shared across fork. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/actions.h"
#include "core/counters.h"
#include "core/log.h"
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
            daemon_stats_count_scan(&acts, ACTION_REJECT, -1);
        daemon_stats_count_scan(&acts, ACTION_NO_ACTION, -1);
        daemon_stats_inc(&s->connections);
        _exit(0);
    }
    for (int i = 0; i < 1000; i++)
        daemon_stats_count_scan(&acts, ACTION_REJECT, -1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(daemon_stats_read(&s->scanned), 2001);
    assert_int_equal(daemon_stats_read(&s->actions[ACTION_REJECT]), 2000);
    assert_int_equal(daemon_stats_read(&s->actions[ACTION_NO_ACTION]), 1);
    assert_int_equal(daemon_stats_read(&s->spam_count), 2000);
    assert_int_equal(daemon_stats_read(&s->ham_count), 1);
    assert_int_equal(daemon_stats_read(&s->connections), 1);
    /* out-of-range action ids are ignored, not trusted */
    daemon_stats_count_scan(&acts, ACTIONS_MAX + 3, -1);
    daemon_stats_count_scan(&acts, -1, -1);
    assert_int_equal(daemon_stats_read(&s->scanned), 2003);
}

/* Scans land in the current minute; the hour graph's last point shows them
 * as messages per minute, the earlier points are 0, and the day graph
 * averages over its five-minute points. */
static void test_graph(void **state)
{
    struct daemon_stats *s = daemon_stats_create();
    struct stats_point pts[400];
    uint64_t now = (uint64_t)time(NULL);
    int n;

    for (int i = 0; i < 10; i++)
        daemon_stats_count_scan(NULL, ACTION_ADD_HEADER, 0.002);
    n = daemon_stats_graph("hour", now, pts, 400);
    assert_int_equal(n, 60);
    assert_true(pts[59].y[ACTION_ADD_HEADER] >= 10.0);
    assert_true(pts[59].known);
    assert_true(pts[0].y[ACTION_ADD_HEADER] == 0.0);
    assert_true(pts[0].x + 59 * 60 == now / 60 * 60);
    n = daemon_stats_graph("day", now, pts, 400);
    assert_int_equal(n, 288);
    assert_true(pts[287].y[ACTION_ADD_HEADER] >= 2.0);
    assert_int_equal(daemon_stats_graph("year", now, pts, 400), 365);
    assert_int_equal(daemon_stats_graph("decade", now, pts, 400), -1);
    assert_int_equal(daemon_stats_graph("hour", now, pts, 7), 7);
    /* the histogram: 2 ms falls in the 2.5 ms bucket */
    assert_true(daemon_stats_read(&s->scan_hist[1]) >= 10);
    assert_true(daemon_stats_read(&s->scan_times_pos) >= 10);
}

/* Error and warning lines reach the ring with their module; the ring keeps
 * the newest STATS_ERRORS, oldest first; notices do not enter it. */
static void test_errors(void **state)
{
    static struct stats_error out[STATS_ERRORS];
    struct log_settings ls = {.type = LOG_TYPE_CONSOLE, .level = LOG_LVL_INFO};
    const char *err = NULL;
    size_t n;

    daemon_stats_create();
    assert_int_equal(log_configure(&ls, &err), 0);
    daemon_stats_set_process("normal");
    log_error("redis(bayes): cannot connect to %s: %s", "/x.sock", "refused");
    log_notice("not an error");
    n = daemon_stats_errors(out, STATS_ERRORS);
    assert_true(n >= 1);
    assert_string_equal(out[n - 1].module, "redis(bayes)");
    assert_string_equal(out[n - 1].type, "normal");
    assert_non_null(strstr(out[n - 1].message, "cannot connect to /x.sock: refused"));
    assert_int_equal(out[n - 1].pid, getpid());
    for (int i = 0; i < STATS_ERRORS + 5; i++)
        log_warn("line %d", i);
    n = daemon_stats_errors(out, STATS_ERRORS);
    assert_int_equal(n, STATS_ERRORS);
    assert_string_equal(out[0].message, "line 5");
    assert_string_equal(out[n - 1].message, "line 68");
}

/* Lower layers count through core_counters, which now points into the
 * shared segment. */
static void test_lower_counters(void **state)
{
    struct daemon_stats *s = daemon_stats_create();
    char buf[64];

    assert_ptr_equal(core_counters, &s->lower);
    core_counters_redis_fail("connection refused", 1);
    core_counters_redis_last_error(buf, sizeof(buf));
    assert_string_equal(buf, "connection refused");
    assert_true(daemon_stats_read(&s->lower.redis_connect_failures) >= 1);
    core_counters_redis_last_error(buf, 5);
    assert_string_equal(buf, "conn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_across_fork),
        cmocka_unit_test(test_graph),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_lower_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
