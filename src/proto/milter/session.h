#ifndef WINNOW_PROTO_MILTER_SESSION_H
#define WINNOW_PROTO_MILTER_SESSION_H
/*
 * One milter connection as an explicit state machine (spec §4.1, §4.2):
 * option negotiation, macros, envelope, the message rebuilt from header and
 * body frames, end of body.  Push-style: the caller feeds bytes as they
 * arrive and writes out whatever milter_session_output() holds.  No I/O and
 * no scanning here: at end of body the feed stops with MILTER_EV_SCAN, the
 * caller scans the message and answers with milter_session_answer() (or
 * milter_session_answer_failure()), then feeds the rest of its input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/milter/reply.h"

struct milter_session;

struct milter_session_limits {
    size_t max_frame;            /* 0 = MILTER_DEFAULT_MAX_FRAME (1 MiB) */
    size_t max_message;          /* header + body bytes; 0 = 50 MiB */
    size_t max_headers;          /* header frames per message; 0 = 2000 */
    size_t max_rcpts;            /* 0 = 10000 */
};

enum milter_event {
    MILTER_EV_NONE = 0,          /* all input consumed, waiting for more */
    MILTER_EV_SCAN,              /* a message is complete: scan, then answer */
    MILTER_EV_CLOSE,             /* QUIT: write the output, then close */
};

/* What the scan needs (valid until the answer). */
struct milter_envelope {
    const char *hostname;        /* connect hostname, NULL if none */
    char family;                 /* '4', '6', 'L', 'U', 0 = no connect */
    const char *addr;            /* IP text ("IPv6:" kept as sent) or socket path */
    const char *helo;
    const char *from;            /* first MAIL argument, as sent (<...>) */
    const char **rcpts;          /* first RCPT argument of each */
    size_t nrcpts;
    const char *message;         /* rebuilt: "Name: value\r\n"..., "\r\n", body */
    size_t message_len;
    size_t nheaders;
    const char *over_limit;      /* why the message exceeded a limit, else NULL */
};

struct milter_session *milter_session_new(const struct milter_session_limits *limits);
void milter_session_free(struct milter_session **s);

/*
 * Consumes input up to the next event.  Returns MILTER_EV_* with
 * *consumed_r bytes used (feed the rest again once the event is handled;
 * during a scan, keep it), or -1 with *error_r on a protocol error (bad
 * frame, bad negotiation, a command out of place): write the output and
 * close the connection.
 */
int milter_session_feed(struct milter_session *s, const char *p, size_t len,
                        size_t *consumed_r, const char **error_r);

/* Reply bytes waiting to be written; the caller consumes from it. */
struct buf *milter_session_output(struct milter_session *s);

const struct milter_envelope *milter_session_envelope(const struct milter_session *s);
/* Macro by name with or without braces ("i" finds "{i}"), NULL if unset. */
const char *milter_session_macro(const struct milter_session *s, const char *name);
/* How many headers of that name (case-insensitive) the message has. */
unsigned milter_session_header_count(const struct milter_session *s, const char *name);
/* The MTA's negotiated actions (what it allows us to do). */
uint32_t milter_session_actions(const struct milter_session *s);

/* Encodes the replies for the message (reply.h), then resets the message
 * for the next one on the connection.  Returns a static summary of the
 * final reply for the log line ("accept", "reject", ...). */
const char *milter_session_answer(struct milter_session *s, const struct milter_result *r,
                                  const struct milter_reply_opts *o);
/* The scan failed: SMFIR_TEMPFAIL, or accept when accept_on_failure. */
const char *milter_session_answer_failure(struct milter_session *s, bool accept_on_failure);

#endif
