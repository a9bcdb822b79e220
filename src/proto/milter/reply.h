#ifndef WINNOW_PROTO_MILTER_REPLY_H
#define WINNOW_PROTO_MILTER_REPLY_H
/*
 * Scan result -> milter replies at end of message (spec §4.4).  One result
 * struct for both ways of scanning (in-process task, or an upstream's v2
 * JSON), so both answer the MTA byte for byte alike.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* A header change asked for by the scan (milter.add_headers/remove_headers). */
struct milter_hdr_op {
    const char *name;
    const char *value;           /* NULL: remove */
    int order;                   /* add: -1 append, >= 0 insert index; remove: instance, 0 = all */
};

struct milter_result {
    const char *action;          /* canonical name; NULL or unknown => TEMPFAIL */
    const char *subject;         /* rewrite subject */
    const char *smtp_message;    /* messages.smtp_message */
    const char *reject_mode;     /* milter.reject: "discard" / "quarantine" */
    bool no_action;              /* milter.no_action */
    const char *spam_header;     /* milter.spam_header (string form) */
    const struct milter_hdr_op *ops;
    size_t nops;
    const char *const *dkim;     /* dkim-signature values */
    size_t ndkim;
    const char *change_from;
    const char *const *add_rcpt;
    size_t nadd_rcpt;
    const char *const *del_rcpt;
    size_t ndel_rcpt;
};

struct milter_reply_opts {
    bool discard_on_reject;
    bool quarantine_on_reject;
    const char *spam_header;     /* NULL = "X-Spam" */
    const char *reject_message;  /* NULL = "Spam message rejected" */
};

/* Existing instances of a header in the message being answered. */
typedef unsigned (*milter_header_count_fn)(const void *ctx, const char *name);

/*
 * Appends the reply frames for r to out and returns a static summary of the
 * final verdict ("accept", "reject", "tempfail", "discard", "quarantine",
 * "soft reject").  Removals of one name are sent once, the later ones
 * skipped, so a header the scan and the proxy both delete is not deleted
 * twice.
 */
const char *milter_reply_encode(struct buf *out, const struct milter_result *r,
                                const struct milter_reply_opts *o, milter_header_count_fn count,
                                const void *count_ctx);

#endif
