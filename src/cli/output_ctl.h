#ifndef WINNOW_CLI_OUTPUT_CTL_H
#define WINNOW_CLI_OUTPUT_CTL_H
/*
 * winnowc's reports for controller commands beyond rspamc's: the history
 * table (`winnowc history`) and the learning progress line and summary
 * (`winnowc learn_spam DIR` on a terminal).
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/jsonparse.h"

/* The /history reply ({"version":2,"rows":[...]}, or a plain array of
 * rows) as a table, newest first; verbose adds each row's symbols. */
void output_history(struct buf *out, const struct jv *reply, bool verbose);

/* "[#######.............]  12/100" for a terminal line of `width` columns. */
void output_progress(struct buf *out, size_t done, size_t total, size_t width);

/* The error text of a learn reply: its "error" member, else NULL. */
const char *output_learn_error(const struct jv *reply);

#endif
