#ifndef WINNOW_CLI_OUTPUT_H
#define WINNOW_CLI_OUTPUT_H
/*
 * winnowc's report formats: the rspamc-shaped text report of a scan, the
 * reply as pretty or compact JSON (with "filename" and "scan_time" added, as
 * rspamc does), and the reply as UCL (what rspamc prints for learn and the
 * other controller commands).
 */
#include <stdbool.h>

#include "core/buf.h"
#include "core/jsonparse.h"

/* "Results for file: NAME (T seconds)\n"; kind is "file" or "command". */
void output_results_line(struct buf *out, const char *kind, const char *name, double secs);
/* The scan report of a /checkv2 reply, without the Results line; ends with
 * the blank line that terminates a result. */
void output_symbols(struct buf *out, const struct jv *reply);
/* The reply (an object) plus filename/scan_time keys when filename != NULL. */
/* rspamc's text form of a controller /stat reply (spec §6.3); ends with a
 * blank line. */
void output_stat(struct buf *out, const struct jv *reply);
void output_json(struct buf *out, const struct jv *reply, const char *filename, double scan_time,
                 bool pretty);
void output_ucl(struct buf *out, const struct jv *reply, const char *filename, double scan_time);
/* rspamc's `{:.3}`: three significant digits, no trailing zeros. */
void output_secs(struct buf *out, double secs);

#endif
