#ifndef WINNOW_PROTO_SCAN_H
#define WINNOW_PROTO_SCAN_H
/*
 * The scan protocol on top of HTTP: request headers -> task envelope and
 * flags (spec §2.2, §2.3), and task result -> v2 JSON (§2.4), v1 JSON (§2.5)
 * and the legacy RSPAMC/SPAMC replies (§2.6).
 */
#include <stdbool.h>

#include "core/buf.h"
#include "proto/http/http.h"

struct task;

enum scan_command {
    SCAN_CMD_UNKNOWN = 0,
    SCAN_CMD_CHECKV2,            /* /checkv2 */
    SCAN_CMD_CHECK,              /* /check /symbols /scan /process /report /report_ifspam */
    SCAN_CMD_SKIP,               /* /skip */
    SCAN_CMD_PING,               /* /ping */
};

enum scan_command scan_command_from_path(const char *path);

/* Copies the request's envelope headers, flags and body reference into the
 * task.  Returns -1 with *error_r for invalid values (the caller answers 400). */
int scan_request_to_task(const struct http_request *req, struct task *task, const char **error_r);

/* Appends the JSON body of the reply (no HTTP head). */
void scan_reply_v2(const struct task *task, struct buf *out);
void scan_reply_v1(const struct task *task, struct buf *out);
/* Complete legacy replies (RSPAMC has no HTTP head at all). */
void scan_reply_rspamc(const struct task *task, struct buf *out);
void scan_reply_spamc(const struct task *task, struct buf *out);

#endif
