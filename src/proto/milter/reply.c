/*
 * The replies at end of message (spec §4.4), in Rspamd's order: header
 * removals, header additions, envelope changes, DKIM signatures at the top,
 * then the action itself.  Owns nothing; appends frames to the caller's
 * buffer.  Refuses nothing either: a result without an action becomes
 * TEMPFAIL (the MTA retries later), never a silent accept.  SMTP reply text
 * coming from a scanner has CR and LF replaced by spaces so it cannot end
 * the MTA's reply line early.
 */
#include "proto/milter/reply.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "proto/milter/codec.h"

#define REMOVED_MAX 64           /* names deduplicated per reply */

enum verdict {
    V_REJECT, V_SOFT_REJECT, V_REWRITE_SUBJECT, V_ADD_HEADER, V_GREYLIST,
    V_NO_ACTION, V_DISCARD, V_QUARANTINE, V_CUSTOM,
};

static const struct {
    const char *name;
    enum verdict v;
} verdicts[] = {
    {"reject", V_REJECT},           {"soft reject", V_SOFT_REJECT},
    {"soft_reject", V_SOFT_REJECT}, {"rewrite subject", V_REWRITE_SUBJECT},
    {"rewrite_subject", V_REWRITE_SUBJECT}, {"add header", V_ADD_HEADER},
    {"add_header", V_ADD_HEADER},   {"greylist", V_GREYLIST},
    {"no action", V_NO_ACTION},     {"no_action", V_NO_ACTION},
    {"accept", V_NO_ACTION},        {"discard", V_DISCARD},
    {"quarantine", V_QUARANTINE},
};

struct reply_ctx {
    struct buf *out;
    const struct milter_reply_opts *o;
    milter_header_count_fn count;
    const void *count_ctx;
    const char *removed[REMOVED_MAX];
    size_t nremoved;
};

static enum verdict verdict_of(const char *action)
{
    for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
        if (strcasecmp(action, verdicts[i].name) == 0)
            return verdicts[i].v;
    return V_CUSTOM;             /* a configured custom action: accepted */
}

static bool already_removed(struct reply_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nremoved; i++)
        if (strcasecmp(c->removed[i], name) == 0)
            return true;
    if (c->nremoved < REMOVED_MAX)
        c->removed[c->nremoved++] = name;
    return false;
}

/* instance 0 = every instance, last first so the indexes stay valid;
 * n > 0 the n-th; n < 0 the n-th from the end. */
static void remove_header(struct reply_ctx *c, const char *name, int instance)
{
    unsigned have = c->count ? c->count(c->count_ctx, name) : 0;
    if (instance == 0) {
        if (already_removed(c, name))
            return;
        for (unsigned i = have; i >= 1; i--)
            milter_encode_chgheader(c->out, i, name, "");
        return;
    }
    long idx = instance > 0 ? instance : (long)have + instance + 1;
    if (idx >= 1 && idx <= (long)have)
        milter_encode_chgheader(c->out, (uint32_t)idx, name, "");
}

static void header_ops(struct reply_ctx *c, const struct milter_result *r)
{
    for (size_t i = 0; i < r->nops; i++)
        if (r->ops[i].value == NULL)
            remove_header(c, r->ops[i].name, r->ops[i].order);
    for (size_t i = 0; i < r->nops; i++) {
        const struct milter_hdr_op *op = &r->ops[i];
        if (op->value == NULL)
            continue;
        if (op->order >= 0)
            milter_encode_insheader(c->out, (uint32_t)op->order, op->name, op->value);
        else
            milter_encode_addheader(c->out, op->name, op->value);
    }
}

static void envelope_ops(struct reply_ctx *c, const struct milter_result *r)
{
    if (r->change_from != NULL)
        milter_encode_chgfrom(c->out, r->change_from, NULL);
    for (size_t i = 0; i < r->nadd_rcpt; i++)
        milter_encode_rcpt(c->out, MILTER_REPLY_ADDRCPT, r->add_rcpt[i]);
    for (size_t i = 0; i < r->ndel_rcpt; i++)
        milter_encode_rcpt(c->out, MILTER_REPLY_DELRCPT, r->del_rcpt[i]);
}

/* "CODE X.Y.Z text" with CR/LF from the scanner flattened. */
static void reply_code(struct buf *out, const char *code, const char *text)
{
    struct buf t = BUF_INIT;
    buf_printf(&t, "%s %s", code, text);
    for (size_t i = 0; i < t.len; i++)
        if (t.data[i] == '\r' || t.data[i] == '\n')
            t.data[i] = ' ';
    milter_encode_replycode(out, t.data);
    buf_free(&t);
}

static const char *spam_header_name(const struct milter_reply_opts *o)
{
    return o->spam_header && *o->spam_header ? o->spam_header : "X-Spam";
}

static void set_spam_header(struct reply_ctx *c, const char *value)
{
    const char *name = spam_header_name(c->o);
    remove_header(c, name, 0);
    milter_encode_chgheader(c->out, 1, name, value);
}

static const char *quarantine(struct buf *out)
{
    milter_encode_quarantine(out, "Spam message quarantined");
    milter_encode_simple(out, MILTER_REPLY_ACCEPT);
    return "quarantine";
}

static const char *do_reject(struct reply_ctx *c, const struct milter_result *r)
{
    const char *mode = r->reject_mode ? r->reject_mode : "";
    if (c->o->discard_on_reject || strcasecmp(mode, "discard") == 0) {
        milter_encode_simple(c->out, MILTER_REPLY_DISCARD);
        return "discard";
    }
    if (c->o->quarantine_on_reject || strcasecmp(mode, "quarantine") == 0)
        return quarantine(c->out);
    const char *text = r->smtp_message;
    if (text == NULL || *text == '\0')
        text = c->o->reject_message ? c->o->reject_message : "Spam message rejected";
    reply_code(c->out, "554 5.7.1", text);
    return "reject";
}

static const char *do_action(struct reply_ctx *c, const struct milter_result *r, enum verdict v)
{
    switch (v) {
    case V_REJECT:
        return do_reject(c, r);
    case V_SOFT_REJECT:
        reply_code(c->out, "451 4.7.1",
                   r->smtp_message && *r->smtp_message ? r->smtp_message : "Try again later");
        return "soft reject";
    case V_REWRITE_SUBJECT:
        if (r->subject != NULL)
            milter_encode_chgheader(c->out, 1, "Subject", r->subject);
        break;
    case V_ADD_HEADER:
        set_spam_header(c, "Yes");
        break;
    case V_DISCARD:
        milter_encode_simple(c->out, MILTER_REPLY_DISCARD);
        return "discard";
    case V_QUARANTINE:
        return quarantine(c->out);
    case V_GREYLIST:
    case V_NO_ACTION:
    case V_CUSTOM:
        break;
    }
    milter_encode_simple(c->out, MILTER_REPLY_ACCEPT);
    return "accept";
}

const char *milter_reply_encode(struct buf *out, const struct milter_result *r,
                                const struct milter_reply_opts *o, milter_header_count_fn count,
                                const void *count_ctx)
{
    static const struct milter_reply_opts no_opts;
    struct reply_ctx c = {out, o ? o : &no_opts, count, count_ctx, {0}, 0};

    if (r == NULL || r->action == NULL || *r->action == '\0') {
        milter_encode_simple(out, MILTER_REPLY_TEMPFAIL);
        return "tempfail";
    }
    enum verdict v = verdict_of(r->action);
    header_ops(&c, r);
    envelope_ops(&c, r);
    if (v == V_ADD_HEADER && r->spam_header != NULL && !r->no_action) {
        set_spam_header(&c, r->spam_header);
        milter_encode_simple(out, MILTER_REPLY_ACCEPT);
        return "accept";
    }
    for (size_t i = 0; i < r->ndkim; i++)
        milter_encode_insheader(out, (uint32_t)(i + 1), "DKIM-Signature", r->dkim[i]);
    if (r->no_action) {
        milter_encode_addheader(out, "X-Rspamd-Action", r->action);
        milter_encode_simple(out, MILTER_REPLY_ACCEPT);
        return "accept";
    }
    return do_action(&c, r, v);
}
