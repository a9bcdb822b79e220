#ifndef WINNOW_MODULES_BAYES_MODULE_H
#define WINNOW_MODULES_BAYES_MODULE_H
/*
 * The bayes module's public entry points, for the controller (/learnspam,
 * /learnham), winnowc's learning path and tools.  Everything else about the
 * module (its Redis layout, docs/redis-schema.md; its options, docs/bayes.md)
 * stays private to src/modules/bayes/.
 *
 * Learning is asynchronous: it needs two Redis round trips (the learn cache,
 * then the counters).  bayes_learn_task() returns at once; `done` runs
 * exactly once, from the event loop or, for an immediate refusal (no Redis
 * configured, too few tokens), before bayes_learn_task() returns.  While the
 * learn is in flight the task is held with task_async_begin("bayes learn"),
 * so a caller that runs task_wait() afterwards is woken only when learning
 * has finished; `done` is not called if the task is freed first (timeout).
 */
#include <stdbool.h>
#include <stdint.h>

struct task;

enum bayes_learn_status {
    BAYES_LEARN_OK = 0,          /* counters updated (or moved from the other class) */
    BAYES_LEARN_ALREADY,         /* learn cache: this message is already learned as that class */
    BAYES_LEARN_REFUSED,         /* too few tokens, no parsed message, Bayes disabled */
    BAYES_LEARN_ERROR,           /* Redis unreachable, timeout, error reply */
};

/* message: a human-readable sentence for the reply and the log (in the task's
 * arena), e.g. "learned as spam (812 tokens)", "<mid> is already learned as
 * spam", "relearned as ham (was spam)", "redis: timeout". */
typedef void (*bayes_learn_done)(struct task *task, enum bayes_learn_status status,
                                 const char *message, void *data);

/*
 * Learns task's message (task->raw; parsed here when task->msg is NULL) as
 * spam or ham in the statistics the scan would use (per-user prefix from
 * Deliver-To / the first recipient when per_user is on).  Explicit learning
 * always takes effect except when the learn cache says the same message was
 * already learned as the same class; learning it as the other class moves
 * its counts; nothing else is skipped (no "already classified" refusal:
 * an administrator's correction always counts).  Must be called in a worker
 * process, after the module's worker_init.
 */
void bayes_learn_task(struct task *task, bool spam, bayes_learn_done done, void *data);

/* True when the bayes module is enabled and has Redis in this process. */
bool bayes_learn_available(void);

/*
 * The figures of the controller's /stat "statfiles" (spec §5.3): learns of
 * each class summed over all statistics prefixes (the global one and, with
 * per_user, every user's), and the number of prefixes with learns (at
 * least 1).  Read asynchronously from Redis on the calling worker's loop;
 * `done` runs exactly once: from the loop, or before bayes_stats_fetch()
 * returns when Bayes is off.  On failure st is NULL and error says why
 * ("redis: timeout", "Bayes is not enabled").  Only in a worker process
 * after the module's worker_init, like bayes_learn_task().
 */
struct bayes_stats {
    uint64_t learns_spam, learns_ham;
    uint64_t users;
};
typedef void (*bayes_stats_done)(const struct bayes_stats *st, const char *error, void *data);

void bayes_stats_fetch(bayes_stats_done done, void *data);

/* True when bayes_stats_fetch() can read (the module is on, with Redis). */
bool bayes_stats_available(void);

/* The configured symbol of a class ("BAYES_SPAM" / "BAYES_HAM" by default). */
const char *bayes_stats_symbol(bool spam);

/* The module.h learn hook calls bayes_learn_task() and reports through task
 * messages: on failure task_set_message(task, "error", reason); on success
 * task_set_message(task, "learn", message).  It returns 0 when learning was
 * started (run task_wait() to wait for it), -1 when refused at once (the
 * "error" message is set). */

#endif
