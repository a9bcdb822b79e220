/*
 * The milter session state machine (spec §4.1, §4.2).  States: waiting for
 * option negotiation, ready (connection and message commands), scanning
 * (the caller has the message; input waits), closed.  One switch on the
 * command per frame, the codec doing the framing.
 *
 * Owns the decoder, the reply buffer, the macros and the connection data
 * (heap, replaced when the MTA sends new values, so a long-lived connection
 * does not grow), and the current message (its own arena plus one buffer,
 * both dropped at every reset).
 *
 * Refuses (returns -1, the caller closes the connection): frames the codec
 * refuses, version < 6, any command before negotiation, a second
 * negotiation, malformed connect/header data.  Limits: message bytes,
 * header count and recipients per message; exceeding one does not close
 * the connection, it marks the message (over_limit) so the caller answers
 * by its failure mode instead of scanning half a message.
 */
#include "proto/milter/session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/str.h"
#include "proto/milter/codec.h"

#define MACROS_MAX 512
#define HDR_BUCKETS 64
#define DEFAULT_MAX_MESSAGE ((size_t)50 << 20)
#define DEFAULT_MAX_HEADERS 2000
#define DEFAULT_MAX_RCPTS 10000

enum sess_state { SESS_OPTNEG = 0, SESS_READY, SESS_SCANNING, SESS_CLOSED };

/* SMFIP_NR_* bits: stages we asked not to answer. */
#define NR_CONN 0x1000u
#define NR_HELO 0x2000u
#define NR_MAIL 0x4000u
#define NR_RCPT 0x8000u
#define NR_DATA 0x10000u
#define NR_UNKN 0x20000u
#define NR_EOH 0x40000u
#define NR_BODY 0x80000u
#define NR_HDR 0x80u

struct macro {
    char *name;                  /* without braces */
    char *value;
};

struct hdr_count {
    const char *name;
    unsigned n;
    struct hdr_count *next;
};

struct milter_session {
    enum sess_state state;
    struct milter_session_limits lim;
    struct milter_decoder *dec;
    struct buf out;
    uint32_t actions;            /* what the MTA offered */
    uint32_t proto;              /* negotiated protocol flags */
    struct macro macros[MACROS_MAX];
    size_t nmacros;
    /* connection */
    char *hostname, *addr, *helo;
    char family;
    /* message */
    struct arena *marena;
    char *from;
    const char **rcpts;
    size_t nrcpts, rcap;
    struct buf msg;
    size_t nheaders, nnames;
    struct hdr_count *buckets[HDR_BUCKETS];
    const char *over_limit;
    struct milter_envelope env;
};

struct milter_session *milter_session_new(const struct milter_session_limits *limits)
{
    struct milter_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        panic("milter: out of memory");
    if (limits != NULL)
        s->lim = *limits;
    if (s->lim.max_message == 0)
        s->lim.max_message = DEFAULT_MAX_MESSAGE;
    if (s->lim.max_headers == 0)
        s->lim.max_headers = DEFAULT_MAX_HEADERS;
    if (s->lim.max_rcpts == 0)
        s->lim.max_rcpts = DEFAULT_MAX_RCPTS;
    s->dec = milter_decoder_new(s->lim.max_frame);
    s->marena = arena_new(0);
    return s;
}

static void set_str(char **field, const char *p, size_t len)
{
    free(*field);
    *field = NULL;
    if (p == NULL)
        return;
    *field = malloc(len + 1);
    if (*field == NULL)
        panic("milter: out of memory");
    memcpy(*field, p, len);
    (*field)[len] = '\0';
}

static void message_reset(struct milter_session *s)
{
    arena_free(&s->marena);
    s->marena = arena_new(0);
    s->from = NULL;
    s->rcpts = NULL;
    s->nrcpts = s->rcap = 0;
    /* Give back the memory of a big message rather than keep it per connection. */
    if (s->msg.cap > (1u << 20))
        buf_free(&s->msg);
    else
        buf_reset(&s->msg);
    s->nheaders = s->nnames = 0;
    memset(s->buckets, 0, sizeof(s->buckets));
    s->over_limit = NULL;
}

static void connection_reset(struct milter_session *s)
{
    for (size_t i = 0; i < s->nmacros; i++) {
        set_str(&s->macros[i].name, NULL, 0);
        set_str(&s->macros[i].value, NULL, 0);
    }
    s->nmacros = 0;
    set_str(&s->hostname, NULL, 0);
    set_str(&s->addr, NULL, 0);
    set_str(&s->helo, NULL, 0);
    s->family = 0;
    message_reset(s);
}

void milter_session_free(struct milter_session **sp)
{
    struct milter_session *s = *sp;
    if (s == NULL)
        return;
    connection_reset(s);
    arena_free(&s->marena);
    buf_free(&s->msg);
    buf_free(&s->out);
    milter_decoder_free(&s->dec);
    free(s);
    *sp = NULL;
}

struct buf *milter_session_output(struct milter_session *s)
{
    return &s->out;
}

uint32_t milter_session_actions(const struct milter_session *s)
{
    return s->actions;
}

/* ---- macros ---- */

static void strip_braces(const char **p, size_t *len)
{
    if (*len >= 2 && (*p)[0] == '{' && (*p)[*len - 1] == '}') {
        (*p)++;
        *len -= 2;
    }
}

static struct macro *macro_find(const struct milter_session *s, const char *p, size_t len)
{
    for (size_t i = 0; i < s->nmacros; i++)
        if (str_ieq_cstr(p, len, s->macros[i].name))
            return (struct macro *)&s->macros[i];
    return NULL;
}

const char *milter_session_macro(const struct milter_session *s, const char *name)
{
    const char *p = name;
    size_t len = strlen(name);
    strip_braces(&p, &len);
    const struct macro *m = macro_find(s, p, len);
    return m ? m->value : NULL;
}

static void macro_set(struct milter_session *s, const char *n, size_t nlen, const char *v,
                      size_t vlen)
{
    strip_braces(&n, &nlen);
    if (nlen == 0)
        return;
    struct macro *m = macro_find(s, n, nlen);
    if (m == NULL) {
        if (s->nmacros == MACROS_MAX)
            return;              /* an MTA sends a few dozen; more is noise */
        m = &s->macros[s->nmacros++];
        set_str(&m->name, n, nlen);
    }
    set_str(&m->value, v, vlen);
}

static int cmd_macro(struct milter_session *s, const struct milter_frame *f,
                     const char **error_r)
{
    char stage;
    size_t off;
    const char *n, *v;
    size_t nlen, vlen;
    if (milter_parse_macro_stage(f, &stage, &off, error_r) < 0)
        return -1;
    while (milter_next_string(f, &off, &n, &nlen) == 1) {
        if (milter_next_string(f, &off, &v, &vlen) != 1)
            break;               /* a name without value: ignored, as libmilter does */
        macro_set(s, n, nlen, v, vlen);
    }
    return 0;
}

/* ---- connection commands ---- */

static int cmd_optneg(struct milter_session *s, const struct milter_frame *f,
                      const char **error_r)
{
    struct milter_optneg o;
    if (milter_parse_optneg(f, &o, error_r) < 0)
        return -1;
    if (o.version < MILTER_VERSION) {
        *error_r = "MTA offers milter protocol version < 6";
        return -1;
    }
    s->actions = o.actions;
    /* Ask for "no reply" only where the MTA allows it; other stages get
     * SMFIR_CONTINUE (sess_continue). */
    s->proto = MILTER_PROTO_RSPAMD & o.protocol;
    struct milter_optneg r = {MILTER_VERSION, o.actions | 0x3Fu, s->proto};
    milter_encode_optneg(&s->out, &r);
    s->state = SESS_READY;
    return 0;
}

static int cmd_connect(struct milter_session *s, const struct milter_frame *f,
                       const char **error_r)
{
    struct milter_connect c;
    if (milter_parse_connect(f, &c, error_r) < 0)
        return -1;
    set_str(&s->hostname, c.hostname, c.hostname_len);
    set_str(&s->addr, c.addr, c.addr_len);
    s->family = c.family;
    return 0;
}

static int first_arg(const struct milter_frame *f, const char **p, size_t *len)
{
    size_t off = 0;
    if (milter_next_string(f, &off, p, len) != 1) {
        *p = "";
        *len = 0;
    }
    return 0;
}

static int cmd_helo(struct milter_session *s, const struct milter_frame *f,
                    const char **error_r)
{
    const char *p;
    size_t len;
    first_arg(f, &p, &len);
    set_str(&s->helo, p, len);
    return 0;
}

/* ---- message commands ---- */

static int cmd_mail(struct milter_session *s, const struct milter_frame *f,
                    const char **error_r)
{
    const char *p;
    size_t len;
    message_reset(s);            /* MAIL starts a transaction */
    first_arg(f, &p, &len);
    s->from = arena_strndup(s->marena, p, len);
    return 0;
}

static int cmd_rcpt(struct milter_session *s, const struct milter_frame *f,
                    const char **error_r)
{
    const char *p;
    size_t len;
    first_arg(f, &p, &len);
    if (s->nrcpts >= s->lim.max_rcpts) {
        s->over_limit = "too many recipients";
        return 0;
    }
    if (s->nrcpts + 1 >= s->rcap) {
        size_t ncap = s->rcap ? s->rcap * 2 : 8;
        s->rcpts = arena_realloc(s->marena, s->rcpts, s->rcap * sizeof(char *),
                                 ncap * sizeof(char *));
        s->rcap = ncap;
    }
    s->rcpts[s->nrcpts++] = arena_strndup(s->marena, p, len);
    s->rcpts[s->nrcpts] = NULL;
    return 0;
}

static void msg_append(struct milter_session *s, const char *p, size_t len)
{
    if (s->over_limit != NULL)
        return;
    if (len > s->lim.max_message - s->msg.len) {
        s->over_limit = "message larger than max_message";
        return;
    }
    buf_append(&s->msg, p, len);
}

static void header_counted(struct milter_session *s, const char *name, size_t len)
{
    uint64_t h = str_ihash(name, len) % HDR_BUCKETS;
    for (struct hdr_count *c = s->buckets[h]; c != NULL; c = c->next) {
        if (str_ieq_cstr(name, len, c->name)) {
            c->n++;
            return;
        }
    }
    if (s->nnames >= s->lim.max_headers)
        return;
    struct hdr_count *c = ARENA_NEW(s->marena, struct hdr_count);
    c->name = arena_strndup(s->marena, name, len);
    c->n = 1;
    c->next = s->buckets[h];
    s->buckets[h] = c;
    s->nnames++;
}

unsigned milter_session_header_count(const struct milter_session *s, const char *name)
{
    size_t len = strlen(name);
    uint64_t h = str_ihash(name, len) % HDR_BUCKETS;
    for (const struct hdr_count *c = s->buckets[h]; c != NULL; c = c->next)
        if (str_ieq_cstr(name, len, c->name))
            return c->n;
    return 0;
}

static int cmd_header(struct milter_session *s, const struct milter_frame *f,
                      const char **error_r)
{
    const char *n, *v;
    size_t nlen, vlen;
    if (milter_parse_header(f, &n, &nlen, &v, &vlen, error_r) < 0)
        return -1;
    if (++s->nheaders > s->lim.max_headers) {
        if (s->over_limit == NULL)
            s->over_limit = "too many headers";
        return 0;
    }
    header_counted(s, n, nlen);
    msg_append(s, n, nlen);
    msg_append(s, ": ", 2);
    msg_append(s, v, vlen);
    msg_append(s, "\r\n", 2);
    return 0;
}

static int cmd_eoh(struct milter_session *s, const struct milter_frame *f,
                   const char **error_r)
{
    msg_append(s, "\r\n", 2);
    return 0;
}

static int cmd_body(struct milter_session *s, const struct milter_frame *f,
                    const char **error_r)
{
    msg_append(s, f->data, f->len);
    return 0;
}

static int cmd_ignore(struct milter_session *s, const struct milter_frame *f,
                      const char **error_r)
{
    return 0;
}

/* ---- dispatch ---- */

static const struct {
    char cmd;
    int (*fn)(struct milter_session *, const struct milter_frame *, const char **);
    uint32_t nr;                 /* the "no reply" bit of this stage, 0 = never answered */
} commands[] = {
    {MILTER_CMD_MACRO, cmd_macro, 0},     {MILTER_CMD_CONNECT, cmd_connect, NR_CONN},
    {MILTER_CMD_HELO, cmd_helo, NR_HELO}, {MILTER_CMD_MAIL, cmd_mail, NR_MAIL},
    {MILTER_CMD_RCPT, cmd_rcpt, NR_RCPT}, {MILTER_CMD_HEADER, cmd_header, NR_HDR},
    {MILTER_CMD_EOH, cmd_eoh, NR_EOH},    {MILTER_CMD_BODY, cmd_body, NR_BODY},
    {MILTER_CMD_DATA, cmd_ignore, NR_DATA}, {MILTER_CMD_UNKNOWN, cmd_ignore, NR_UNKN},
};

static int sess_ready(struct milter_session *s, const struct milter_frame *f,
                      const char **error_r)
{
    switch (f->cmd) {
    case MILTER_CMD_BODYEOB:
        msg_append(s, f->data, f->len);      /* may carry the last body chunk */
        s->state = SESS_SCANNING;
        return MILTER_EV_SCAN;
    case MILTER_CMD_ABORT:
        message_reset(s);
        return MILTER_EV_NONE;
    case MILTER_CMD_QUIT_NC:
        connection_reset(s);
        return MILTER_EV_NONE;
    case MILTER_CMD_QUIT:
        s->state = SESS_CLOSED;
        return MILTER_EV_CLOSE;
    case MILTER_CMD_OPTNEG:
        *error_r = "option negotiation repeated";
        return -1;
    default:
        break;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i].cmd != f->cmd)
            continue;
        if (commands[i].fn(s, f, error_r) < 0)
            return -1;
        if (commands[i].nr != 0 && !(s->proto & commands[i].nr))
            milter_encode_simple(&s->out, MILTER_REPLY_CONTINUE);
        return MILTER_EV_NONE;
    }
    /* Unknown command letters: libmilter answers them with CONTINUE too. */
    milter_encode_simple(&s->out, MILTER_REPLY_CONTINUE);
    return MILTER_EV_NONE;
}

static int sess_frame(struct milter_session *s, const struct milter_frame *f,
                      const char **error_r)
{
    switch (s->state) {
    case SESS_OPTNEG:
        if (f->cmd == MILTER_CMD_OPTNEG)
            return cmd_optneg(s, f, error_r);
        if (f->cmd == MILTER_CMD_QUIT) {
            s->state = SESS_CLOSED;
            return MILTER_EV_CLOSE;
        }
        *error_r = "command before option negotiation";
        return -1;
    case SESS_READY:
        return sess_ready(s, f, error_r);
    case SESS_SCANNING:
    case SESS_CLOSED:
        break;
    }
    panic("milter session fed in state %d", (int)s->state);
}

int milter_session_feed(struct milter_session *s, const char *p, size_t len,
                        size_t *consumed_r, const char **error_r)
{
    size_t off = 0;
    int ev = MILTER_EV_NONE;
    while (off < len && (s->state == SESS_OPTNEG || s->state == SESS_READY)) {
        struct milter_frame f;
        size_t used = 0;
        int rc = milter_decoder_feed(s->dec, p + off, len - off, &used, &f, error_r);
        off += used;
        if (rc == 0)
            break;
        if (rc > 0)
            ev = sess_frame(s, &f, error_r);
        if (rc < 0 || ev < 0) {
            s->state = SESS_CLOSED;
            ev = -1;
            break;
        }
        if (ev != MILTER_EV_NONE)
            break;
    }
    *consumed_r = off;
    return ev;
}

const struct milter_envelope *milter_session_envelope(const struct milter_session *sc)
{
    struct milter_session *s = (struct milter_session *)sc;
    s->env = (struct milter_envelope){
        .hostname = s->hostname, .family = s->family, .addr = s->addr, .helo = s->helo,
        .from = s->from, .rcpts = s->rcpts, .nrcpts = s->nrcpts,
        .message = s->msg.data ? s->msg.data : "", .message_len = s->msg.len,
        .nheaders = s->nheaders, .over_limit = s->over_limit,
    };
    return &s->env;
}

static unsigned count_cb(const void *ctx, const char *name)
{
    return milter_session_header_count(ctx, name);
}

const char *milter_session_answer(struct milter_session *s, const struct milter_result *r,
                                  const struct milter_reply_opts *o)
{
    ASSERT(s->state == SESS_SCANNING);
    const char *what = milter_reply_encode(&s->out, r, o, count_cb, s);
    message_reset(s);
    s->state = SESS_READY;
    return what;
}

const char *milter_session_answer_failure(struct milter_session *s, bool accept_on_failure)
{
    ASSERT(s->state == SESS_SCANNING);
    milter_encode_simple(&s->out, accept_on_failure ? MILTER_REPLY_ACCEPT : MILTER_REPLY_TEMPFAIL);
    message_reset(s);
    s->state = SESS_READY;
    return accept_on_failure ? "accept" : "tempfail";
}
