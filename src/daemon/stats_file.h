#ifndef WINNOW_DAEMON_STATS_FILE_H
#define WINNOW_DAEMON_STATS_FILE_H
/*
 * The counters across restarts (options.stats_file, default
 * "$DBDIR/stats.ucl", as Rspamd keeps them): the main process writes them
 * when it stops and adds them back when it starts, so "Messages scanned"
 * does not fall to zero with every package upgrade.  The file is JSON
 * (valid UCL).  The time series and the error ring are not kept.
 */
#include <stdbool.h>

struct actions;

/* Adds the file's counters to the shared segment.  A missing file is not
 * an error (first start); a damaged one is logged, named, and ignored. */
void daemon_stats_load(const char *path, const struct actions *acts);

/* Writes the counters (to path.new, then renamed over path); false with a
 * log line naming the file when it cannot. */
bool daemon_stats_save(const char *path, const struct actions *acts);

#endif
