/*
 * An upstream scanner's v2 JSON reply (spec §2.4) -> the milter result the
 * reply encoder takes: action, subject, messages.smtp_message,
 * dkim-signature (string or array) and the milter object (add_headers in
 * its three shapes, remove_headers, change_from, add_rcpt, del_rcpt,
 * reject, no_action, spam_header).  Everything lands in the caller's
 * arena.  Lenient about members it does not know; a reply that is not a
 * JSON object is refused (the caller answers by its failure mode).
 */
#include <math.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonparse.h"
#include "daemon/worker_proxy.h"

#define OPS_MAX 256
#define LIST_MAX 256

struct ops {
    struct milter_hdr_op *v;
    size_t n;
};

static void op_add(struct ops *ops, const char *name, const char *value, int order)
{
    if (ops->n < OPS_MAX)
        ops->v[ops->n++] = (struct milter_hdr_op){name, value, order};
}

static int num_int(const struct jv *v, int def)
{
    double d;
    if (!jv_num(v, &d) || !isfinite(d) || d < -1e6 || d > 1e6)
        return def;
    return (int)d;
}

/* {"value": str, "order": n} or a plain string (legacy). */
static void add_one(struct ops *ops, const char *name, const struct jv *v)
{
    if (jv_str(v) != NULL) {
        op_add(ops, name, jv_str(v), -1);
        return;
    }
    const char *value = jv_str(jv_get(v, "value"));
    if (value != NULL)
        op_add(ops, name, value, num_int(jv_get(v, "order"), -1));
}

static void parse_adds(struct ops *ops, const struct jv *adds)
{
    if (adds == NULL || adds->type != JV_OBJ)
        return;
    for (const struct jv *m = adds->head; m != NULL; m = m->next) {
        if (m->type == JV_ARR) {
            for (const struct jv *e = m->head; e != NULL; e = e->next)
                add_one(ops, m->key, e);
        } else {
            add_one(ops, m->key, m);
        }
    }
}

static void parse_removes(struct ops *ops, const struct jv *rm)
{
    if (rm == NULL || rm->type != JV_OBJ)
        return;
    for (const struct jv *m = rm->head; m != NULL; m = m->next)
        op_add(ops, m->key, NULL, num_int(m, 0));
}

/* A string or an array of strings -> NULL-terminated vector. */
static const char *const *str_list(struct arena *arena, const struct jv *v, size_t *n_r)
{
    *n_r = 0;
    if (v == NULL)
        return NULL;
    const char **out = ARENA_NEW_N(arena, const char *, LIST_MAX + 1);
    if (jv_str(v) != NULL) {
        out[(*n_r)++] = jv_str(v);
    } else if (v->type == JV_ARR) {
        for (const struct jv *e = v->head; e != NULL && *n_r < LIST_MAX; e = e->next)
            if (jv_str(e) != NULL)
                out[(*n_r)++] = jv_str(e);
    }
    return out;
}

static void parse_milter(struct arena *arena, const struct jv *m, struct milter_result *r,
                         struct ops *ops)
{
    if (m == NULL || m->type != JV_OBJ)
        return;
    parse_removes(ops, jv_get(m, "remove_headers"));
    parse_adds(ops, jv_get(m, "add_headers"));
    r->change_from = jv_str(jv_get(m, "change_from"));
    r->add_rcpt = str_list(arena, jv_get(m, "add_rcpt"), &r->nadd_rcpt);
    r->del_rcpt = str_list(arena, jv_get(m, "del_rcpt"), &r->ndel_rcpt);
    r->reject_mode = jv_str(jv_get(m, "reject"));
    const struct jv *na = jv_get(m, "no_action");
    r->no_action = na != NULL && na->type == JV_BOOL && na->b;
    r->spam_header = jv_str(jv_get(m, "spam_header"));
}

int proxy_result_from_json(struct arena *arena, const char *p, size_t len,
                           struct milter_result *r, const char **error_r)
{
    struct jv *root = jv_parse(arena, p, len, error_r);
    memset(r, 0, sizeof(*r));
    if (root == NULL)
        return -1;
    if (root->type != JV_OBJ) {
        *error_r = "reply is not a JSON object";
        return -1;
    }
    struct ops ops = {ARENA_NEW_N(arena, struct milter_hdr_op, OPS_MAX), 0};
    r->action = jv_str(jv_get(root, "action"));
    r->subject = jv_str(jv_get(root, "subject"));
    r->smtp_message = jv_str(jv_get(jv_get(root, "messages"), "smtp_message"));
    parse_milter(arena, jv_get(root, "milter"), r, &ops);
    if (r->reject_mode == NULL)      /* top-level "reject" (milter actions) */
        r->reject_mode = jv_str(jv_get(root, "reject"));
    r->dkim = str_list(arena, jv_get(root, "dkim-signature"), &r->ndkim);
    r->ops = ops.v;
    r->nops = ops.n;
    return 0;
}
