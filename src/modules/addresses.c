/*
 * addresses: heuristics on the address headers and how they relate to the
 * envelope: From (missing, several, 8-bit, display name, titles, display
 * names that carry another address), To/Cc (missing, undisclosed, display
 * names, recipient count buckets, match with the envelope), Reply-To,
 * Disposition-Notification-To, and the sender forgery markers.  Names and
 * default scores follow Rspamd 3.4 (headers_checks.lua, misc.lua,
 * forged_recipients).
 *
 * Owns nothing beyond its configuration.  Reads task->msg (nothing is
 * inserted without a parsed message) and task->env.  Where Rspamd would
 * fire on a missing envelope (HEADER_FORGED_MDN) we stay quiet: a scan
 * without MAIL FROM (rspamc FILE) says nothing about the sender.
 */
#include <ctype.h>
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "core/str.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/heur.h"
#include "modules/module.h"

struct addresses_ctx {
    bool enabled;
};

#define H "headers"

static const struct symbol_def addresses_symbols[] = {
    {"MISSING_FROM", 2.0, H, "From header is missing or empty", 0},
    {"MULTIPLE_FROM", 8.0, H, "From header has several addresses", 0},
    {"INVALID_FROM_8BIT", 6.0, H, "From address has raw 8-bit characters", 0},
    {"FROM_NO_DN", 0.0, H, "From header has no display name", 0},
    {"FROM_HAS_DN", 0.0, H, "From header has a display name", 0},
    {"FROM_DN_EQ_ADDR", 1.0, H, "From display name is the address itself", 0},
    {"FROM_NAME_HAS_TITLE", 1.0, H, "From display name has a title (Mr/Mrs/Dr) (option: title)", 0},
    {"FROM_NAME_EXCESS_SPACE", 1.0, H, "From display name has runs of spaces", 0},
    {"FROM_EQ_ENVFROM", 0.0, H, "From address equals the envelope sender", 0},
    {"FROM_NEQ_ENVFROM", 0.0, H, "From address differs from the envelope sender (options)", 0},
    {"FORGED_SENDER", 0.3, H, "Envelope sender and From header differ (options)", 0},
    {"SPOOF_DISPLAY_NAME", 8.0, H,
     "From display name shows an address of the recipient's domain (options: domains)", 0},
    {"FROM_NEQ_DISPLAY_NAME", 4.0, H,
     "From display name shows an address of another domain (options: domains)", 0},
    {"TO_EQ_FROM", 0.0, H, "Single recipient equals the From address", 0},
    {"TO_DOM_EQ_FROM_DOM", 0.0, H, "Single recipient's domain equals the From domain", 0},
    {"MISSING_TO", 2.0, H, "To header is missing", 0},
    {"R_UNDISC_RCPT", 3.0, H, "Recipients are undisclosed", 0},
    {"TO_DN_RECIPIENTS", 2.0, H, "To display name is \"Recipients\"", 0},
    {"TO_DN_NONE", 0.0, H, "No recipient has a display name", 0},
    {"TO_DN_SOME", 0.0, H, "Some recipients have display names", 0},
    {"TO_DN_ALL", 0.0, H, "Every recipient has a display name", 0},
    {"TO_DN_EQ_ADDR_SOME", 0.0, H, "Some recipients' display names are their addresses", 0},
    {"TO_DN_EQ_ADDR_ALL", 0.0, H, "Every recipient's display name is its address", 0},
    {"TO_MATCH_ENVRCPT_SOME", 0.0, H, "Some header recipients match the envelope", 0},
    {"TO_MATCH_ENVRCPT_ALL", 0.0, H, "Every header recipient matches the envelope", 0},
    {"RCPT_COUNT_ZERO", 0.0, H, "No header recipients (option: count)", 0},
    {"RCPT_COUNT_ONE", 0.0, H, "One header recipient (option: count)", 0},
    {"RCPT_COUNT_TWO", 0.0, H, "Two header recipients (option: count)", 0},
    {"RCPT_COUNT_THREE", 0.0, H, "3-4 header recipients (option: count)", 0},
    {"RCPT_COUNT_FIVE", 0.0, H, "5-6 header recipients (option: count)", 0},
    {"RCPT_COUNT_SEVEN", 0.0, H, "7-11 header recipients (option: count)", 0},
    {"RCPT_COUNT_TWELVE", 0.0, H, "12-50 header recipients (option: count)", 0},
    {"RCPT_COUNT_GT_50", 0.0, H, "More than 50 header recipients (option: count)", 0},
    {"HAS_REPLYTO", 0.0, H, "Has a Reply-To header", 0},
    {"REPLYTO_UNPARSEABLE", 1.0, H, "Reply-To has no usable address", 0},
    {"REPLYTO_EQ_FROM", 0.0, H, "Reply-To is identical to From", 0},
    {"REPLYTO_ADDR_EQ_FROM", 0.0, H, "Reply-To address equals the From address", 0},
    {"REPLYTO_DOM_EQ_FROM_DOM", 0.0, H, "Reply-To domain equals the From domain", 0},
    {"REPLYTO_DOM_NEQ_FROM_DOM", 0.0, H, "Reply-To domain differs from the From domain", 0},
    {"REPLYTO_DN_EQ_FROM_DN", 0.0, H, "Reply-To display name equals From's", 0},
    {"REPLYTO_EQ_TO_ADDR", 5.0, H, "Reply-To is the recipient's own address (not a list)", 0},
    {"HEADER_FORGED_MDN", 2.0, H, "Read-receipt address differs from the envelope sender", 0},
    {"PREVIOUSLY_DELIVERED", 0.0, H, "A recipient appears in an earlier Received: for <...> (option)", 0},
};

#undef H

static const struct mime_address *first_addr(const struct mime_addrlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->a[i].addr != NULL && !l->a[i].invalid)
            return &l->a[i];
    return NULL;
}

static size_t count_addrs(const struct mime_addrlist *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->a[i].addr != NULL && !l->a[i].invalid)
            n++;
    return n;
}

static bool name_present(const struct mime_address *a)
{
    return a->name != NULL && !heur_is_blank(a->name, strlen(a->name));
}

/* "addr (Full Name)": the parser turns the comment into a name, Rspamd
 * does not; without an angle bracket in the raw value there is no display
 * name. */
static bool from_has_dn(const struct message *msg, const struct mime_address *from)
{
    const struct mime_header *h = message_header(msg, "From");
    return name_present(from) && h != NULL && memchr(h->value, '<', h->value_len) != NULL;
}

/* ---- From ---- */

static void check_from_name(struct task *task, const struct message *msg,
                            const struct mime_address *from)
{
    if (!from_has_dn(msg, from)) {
        task_insert(task, "FROM_NO_DN", 1.0, NULL);
        return;
    }
    if (heur_ieq(from->name, from->addr)) {
        task_insert(task, "FROM_DN_EQ_ADDR", 1.0, NULL);
        return;
    }
    task_insert(task, "FROM_HAS_DN", 1.0, NULL);
    static const char *const titles[] = {"mr", "mrs", "dr", NULL};
    for (size_t i = 0; titles[i] != NULL; i++) {
        size_t tl = strlen(titles[i]);
        if (strncasecmp(from->name, titles[i], tl) == 0 &&
            (from->name[tl] == '.' || from->name[tl] == ' ')) {
            task_insert(task, "FROM_NAME_HAS_TITLE", 1.0, titles[i]);
            break;
        }
    }
    for (const char *p = from->name; p[0] != '\0' && p[1] != '\0'; p++) {
        if (isspace((unsigned char)p[0]) && isspace((unsigned char)p[1])) {
            task_insert(task, "FROM_NAME_EXCESS_SPACE", 1.0, NULL);
            break;
        }
    }
}

static bool domain_is_rcpt(const struct task *task, const struct message *msg, const char *dom)
{
    const struct mime_addrlist *lists[] = {&msg->to, &msg->cc};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (heur_ieq(lists[l]->a[i].domain, dom))
                return true;
    for (size_t i = 0; i < task->env.nrcpts; i++) {
        const char *at = strrchr(task->env.rcpts[i], '@');
        if (at != NULL && heur_ieq(at + 1, dom))
            return true;
    }
    return false;
}

/* A display name that itself carries an address of another domain:
 * "support@bank.example" <x@elsewhere.example>.  Aimed at the recipient's
 * own domain it is spoofing; otherwise merely odd.  Google Groups and
 * Mailman rewrite From to "'a@b' via List", which we leave alone. */
static void check_from_dn_addr(struct task *task, const struct message *msg,
                               const struct mime_address *from)
{
    const char *addr, *dom;
    size_t alen, dlen;
    if (!from_has_dn(msg, from) || from->domain == NULL ||
        !heur_find_addr(from->name, strlen(from->name), &addr, &alen, &dom, &dlen))
        return;
    char *d = arena_strndup(task->arena, dom, dlen);
    str_lower(d, dlen);
    if (strcmp(d, from->domain) == 0)
        return;
    bool spoof = domain_is_rcpt(task, msg, d);
    if (!spoof && strstr(from->name, " via ") != NULL)
        return;
    /* Options: the From domain, then the domain shown in the name. */
    struct task_symbol *sym =
        task_insert(task, spoof ? "SPOOF_DISPLAY_NAME" : "FROM_NEQ_DISPLAY_NAME", 1.0, from->domain);
    if (sym != NULL)
        task_symbol_add_option(task, sym, d, dlen);
}

static void check_from_envelope(struct task *task, const struct mime_address *from)
{
    const char *env = task->env.from;
    if (env == NULL)
        return;
    if (from != NULL && heur_ieq(from->addr, env)) {
        task_insert(task, "FROM_EQ_ENVFROM", 1.0, NULL);
        return;
    }
    struct task_symbol *sym =
        task_insert(task, "FROM_NEQ_ENVFROM", 1.0, from != NULL ? from->addr : NULL);
    if (sym != NULL)
        task_symbol_add_option(task, sym, env, strlen(env));
    if (env[0] == '\0')
        return;
    sym = task_insert(task, "FORGED_SENDER", 1.0, from != NULL ? from->addr : NULL);
    if (sym != NULL)
        task_symbol_add_option(task, sym, env, strlen(env));
}

static void check_from(struct task *task, const struct message *msg)
{
    const struct mime_header *h = message_header(msg, "From");
    const struct mime_address *from = first_addr(&msg->from);

    if (h == NULL || h->decoded == NULL || heur_is_blank(h->decoded, strlen(h->decoded)))
        task_insert(task, "MISSING_FROM", 1.0, NULL);
    if (count_addrs(&msg->from) > 1)
        task_insert(task, "MULTIPLE_FROM", 1.0, NULL);
    check_from_envelope(task, from);
    if (from == NULL)
        return;
    if (heur_has_8bit(from->addr, strlen(from->addr)))
        task_insert(task, "INVALID_FROM_8BIT", 1.0, NULL);
    check_from_name(task, msg, from);
    check_from_dn_addr(task, msg, from);

    if (count_addrs(&msg->to) + count_addrs(&msg->cc) != 1)
        return;
    const struct mime_address *to = first_addr(&msg->to);
    if (to == NULL)
        to = first_addr(&msg->cc);
    if (heur_ieq(to->addr, from->addr))
        task_insert(task, "TO_EQ_FROM", 1.0, NULL);
    else if (heur_ieq(to->domain, from->domain))
        task_insert(task, "TO_DOM_EQ_FROM_DOM", 1.0, NULL);
}

/* ---- To / Cc ---- */

static bool env_has_rcpt(const struct task *task, const char *addr)
{
    for (size_t i = 0; i < task->env.nrcpts; i++)
        if (heur_ieq(task->env.rcpts[i], addr))
            return true;
    return false;
}

static void insert_rcpt_count(struct task *task, size_t n)
{
    const char *name = n > 50 ? "RCPT_COUNT_GT_50" : n >= 12 ? "RCPT_COUNT_TWELVE"
                     : n >= 7 ? "RCPT_COUNT_SEVEN" : n >= 5 ? "RCPT_COUNT_FIVE"
                     : n >= 3 ? "RCPT_COUNT_THREE" : n == 2 ? "RCPT_COUNT_TWO"
                     : n == 1 ? "RCPT_COUNT_ONE" : "RCPT_COUNT_ZERO";
    task_insertf(task, name, 1.0, "%zu", n);
}

struct rcpt_stats {
    size_t n, dn, dn_eq_addr, env_match;
};

static void rcpt_stats_add(struct task *task, const struct mime_address *a, struct rcpt_stats *st)
{
    if (a->addr == NULL || a->invalid)
        return;
    st->n++;
    if (a->name != NULL && (heur_ieq(a->name, "recipient") || heur_ieq(a->name, "recipients")))
        task_insert(task, "TO_DN_RECIPIENTS", 1.0, NULL);
    if (heur_ieq(a->name, a->addr))
        st->dn_eq_addr++;
    else if (name_present(a))
        st->dn++;
    if (env_has_rcpt(task, a->addr))
        st->env_match++;
}

static void check_rcpts(struct task *task, const struct message *msg)
{
    const struct mime_header *to_h = message_header(msg, "To");
    if (to_h == NULL) {
        task_insert(task, "MISSING_TO", 1.0, NULL);
    } else if (to_h->decoded != NULL) {
        const char *v = to_h->decoded;
        while (*v == ' ' || *v == '<' || *v == '"')
            v++;
        if (heur_istarts(v, "undisclosed-recipient") || heur_istarts(v, "undisclosed recipient"))
            task_insert(task, "R_UNDISC_RCPT", 1.0, NULL);
    }
    if (to_h == NULL && message_header(msg, "Cc") == NULL)
        return;

    struct rcpt_stats st = {0};
    for (size_t i = 0; i < msg->to.n; i++)
        rcpt_stats_add(task, &msg->to.a[i], &st);
    for (size_t i = 0; i < msg->cc.n; i++)
        rcpt_stats_add(task, &msg->cc.a[i], &st);
    insert_rcpt_count(task, st.n);
    if (st.n == 0)
        return;
    if (st.dn == 0 && st.dn_eq_addr == 0)
        task_insert(task, "TO_DN_NONE", 1.0, NULL);
    else if (st.dn == st.n)
        task_insert(task, "TO_DN_ALL", 1.0, NULL);
    else if (st.dn > 0)
        task_insert(task, "TO_DN_SOME", 1.0, NULL);
    if (st.dn_eq_addr == st.n)
        task_insert(task, "TO_DN_EQ_ADDR_ALL", 1.0, NULL);
    else if (st.dn_eq_addr > 0)
        task_insert(task, "TO_DN_EQ_ADDR_SOME", 1.0, NULL);
    if (task->env.nrcpts == 0)
        return;
    if (st.env_match == st.n)
        task_insert(task, "TO_MATCH_ENVRCPT_ALL", 1.0, NULL);
    else if (st.env_match > 0)
        task_insert(task, "TO_MATCH_ENVRCPT_SOME", 1.0, NULL);
}

/* ---- Reply-To ---- */

static bool raw_values_equal(const struct mime_header *a, const struct mime_header *b)
{
    const char *p = a->value, *q = b->value;
    size_t pl = a->value_len, ql = b->value_len;
    while (pl > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        pl--;
    }
    while (ql > 0 && (*q == ' ' || *q == '\t')) {
        q++;
        ql--;
    }
    return pl == ql && memcmp(p, q, pl) == 0;
}

/* Replies that go to the (first) recipient itself: the answer lands in the
 * victim's own mailbox while the sender looks like somebody else.  Lists and
 * automatic mail set Reply-To that way legitimately. */
static void check_replyto_domain(struct task *task, const struct message *msg,
                                 const struct mime_address *from, const struct mime_address *rt)
{
    if (heur_ieq(from->domain, rt->domain)) {
        task_insert(task, "REPLYTO_DOM_EQ_FROM_DOM", 1.0, NULL);
        return;
    }
    const struct mime_address *to = first_addr(&msg->to);
    if (to == NULL)
        to = first_addr(&msg->cc);
    if (to != NULL && heur_ieq(to->addr, rt->addr)) {
        if (message_header(msg, "List-Unsubscribe") == NULL &&
            message_header(msg, "X-To-Get-Off-This-List") == NULL &&
            message_header(msg, "X-List") == NULL && message_header(msg, "Auto-Submitted") == NULL)
            task_insert(task, "REPLYTO_EQ_TO_ADDR", 1.0, NULL);
        return;
    }
    task_insert(task, "REPLYTO_DOM_NEQ_FROM_DOM", 1.0, NULL);
}

static void check_replyto(struct task *task, const struct message *msg)
{
    const struct mime_header *rt_h = message_header(msg, "Reply-To");
    if (rt_h == NULL)
        return;
    const struct mime_address *rt = first_addr(&msg->reply_to);
    struct mime_address fallback;
    if (rt == NULL && rt_h->decoded != NULL) {
        /* Rspamd's parser digs an address out of broken values such as
         * "Name"x@example.com; do the same before calling it unparseable. */
        const char *addr, *dom;
        size_t alen, dlen;
        if (heur_find_addr(rt_h->decoded, strlen(rt_h->decoded), &addr, &alen, &dom, &dlen)) {
            memset(&fallback, 0, sizeof(fallback));
            fallback.addr = arena_strndup(task->arena, addr, alen);
            char *d = arena_strndup(task->arena, dom, dlen);
            str_lower(d, dlen);
            fallback.domain = d;
            rt = &fallback;
        }
    }
    if (rt == NULL) {
        task_insert(task, "REPLYTO_UNPARSEABLE", 1.0, NULL);
        return;
    }
    task_insert(task, "HAS_REPLYTO", 1.0, rt->addr);
    const struct mime_header *from_h = message_header(msg, "From");
    const struct mime_address *from = first_addr(&msg->from);
    if (from == NULL)
        return;
    if (from_h != NULL && raw_values_equal(from_h, rt_h)) {
        task_insert(task, "REPLYTO_EQ_FROM", 1.0, NULL);
        return;
    }
    if (heur_ieq(from->addr, rt->addr))
        task_insert(task, "REPLYTO_ADDR_EQ_FROM", 1.0, NULL);
    else if (from->domain != NULL && rt->domain != NULL)
        check_replyto_domain(task, msg, from, rt);
    /* As in Rspamd, two absent names are equal names. */
    if (heur_ieq(from->name != NULL ? from->name : "", rt->name != NULL ? rt->name : ""))
        task_insert(task, "REPLYTO_DN_EQ_FROM_DN", 1.0, NULL);
}

/* ---- read receipts, earlier deliveries ---- */

static void check_mdn(struct task *task, const struct message *msg)
{
    const struct mime_header *h = message_header(msg, "Disposition-Notification-To");
    const char *addr, *dom;
    size_t alen, dlen;
    if (h == NULL || h->decoded == NULL || task->env.from == NULL)
        return;
    if (!heur_find_addr(h->decoded, strlen(h->decoded), &addr, &alen, &dom, &dlen))
        return;
    if (!str_ieq_cstr(addr, alen, task->env.from))
        task_insert(task, "HEADER_FORGED_MDN", 1.0, NULL);
}

/* The address of a "for <addr>" clause in a Received value (white space
 * of any kind around "for", as folding leaves it), or NULL. */
static const char *received_for(const char *v, size_t *len_r)
{
    for (const char *p = v; *p != '\0'; p++) {
        if (p == v || !isspace((unsigned char)p[-1]) || strncasecmp(p, "for", 3) != 0 ||
            !isspace((unsigned char)p[3]))
            continue;
        const char *a = p + 3;
        while (isspace((unsigned char)*a))
            a++;
        if (*a != '<')
            continue;
        const char *end = strchr(++a, '>');
        if (end == NULL)
            return NULL;
        *len_r = (size_t)(end - a);
        return a;
    }
    return NULL;
}

/* Rspamd looks at the first Received with a "for <addr>" clause only. */
static void check_previously_delivered(struct task *task, const struct message *msg)
{
    for (const struct mime_header *h = msg->headers; h != NULL; h = h->next) {
        size_t alen;
        const char *a;
        if (strcasecmp(h->name, "Received") != 0 || h->decoded == NULL ||
            (a = received_for(h->decoded, &alen)) == NULL)
            continue;
        const struct mime_addrlist *lists[] = {&msg->to, &msg->cc};
        for (size_t l = 0; l < 2; l++)
            for (size_t i = 0; i < lists[l]->n; i++)
                if (lists[l]->a[i].addr != NULL && str_ieq_cstr(a, alen, lists[l]->a[i].addr)) {
                    task_insert(task, "PREVIOUSLY_DELIVERED", 1.0, lists[l]->a[i].addr);
                    return;
                }
        return;
    }
}

static int addresses_configure(const struct conf_obj *section, struct module_env *env,
                               void **ctx_r, const char **error_r)
{
    struct addresses_ctx *ctx;

    *ctx_r = NULL;
    symtab_add_many(env->symtab, addresses_symbols,
                    sizeof(addresses_symbols) / sizeof(addresses_symbols[0]));
    ctx = ARENA_NEW(env->arena, struct addresses_ctx);
    if (heur_conf_enabled(section, &ctx->enabled, error_r) < 0)
        return -1;
    heur_psl_init();
    if (ctx->enabled)
        *ctx_r = ctx;
    return 0;
}

static int addresses_scan(struct task *task, void *ctx)
{
    const struct message *msg = task->msg;
    (void)ctx;
    if (msg == NULL)
        return 0;
    check_from(task, msg);
    check_rcpts(task, msg);
    check_replyto(task, msg);
    check_mdn(task, msg);
    check_previously_delivered(task, msg);
    return 0;
}

const struct module module_addresses = {
    .name = "addresses",
    .abi = MODULE_ABI,
    .configure = addresses_configure,
    .scan = addresses_scan,
};
