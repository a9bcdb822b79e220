/*
 * The spf, dkim and dmarc modules against a fake resolver (authdns'
 * test hook): a table of DNS answers, delivered either synchronously (as
 * the resolver's cache does) or later, after scan() returned (as the
 * network does), and both ways must give the same symbols.  DMARC runs
 * after SPF and DKIM, as pipeline stage 1 does.  Table-driven: each case
 * is a message, an envelope and the symbols (with options) it must get.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "core/actions.h"
#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/authdns.h"
#include "modules/dkim/dkim.h"
#include "modules/module.h"

extern const struct module module_spf, module_dkim, module_dmarc;

/* ---- the fake resolver ---- */

struct fake_rr {
    const char *name;
    enum dns_type type;
    enum dns_status status;
    const char *value;           /* TXT text, or an address for A */
};

static const struct fake_rr zone[] = {
    {"example.org", DNS_T_TXT, DNS_OK, "v=spf1 ip4:192.0.2.0/24 include:_spf.example.org -all"},
    {"_spf.example.org", DNS_T_TXT, DNS_OK, "v=spf1 a:mx.example.org ~all"},
    {"mx.example.org", DNS_T_A, DNS_OK, "198.51.100.1"},
    {"_dmarc.example.org", DNS_T_TXT, DNS_OK, "v=DMARC1; p=reject"},
    {"broken.example", DNS_T_TXT, DNS_OK, "v=spf1 ip4:300.1.1.1 -all"},
    {"_dmarc.broken.example", DNS_T_TXT, DNS_OK, "v=DMARC1; p=bogus"},
    {"slow.example", DNS_T_TXT, DNS_TEMPFAIL, NULL},
    {"_dmarc.slow.example", DNS_T_TXT, DNS_TEMPFAIL, NULL},
    {"none.example", DNS_T_TXT, DNS_OK, "some other text"},
    {"_dmarc.none.example", DNS_T_TXT, DNS_OK, "v=DMARC1; p=quarantine; pct=100"},
    {NULL, 0, 0, NULL},
};

/* Set per test: the DKIM key record for sel._domainkey.example.org. */
static const char *dkim_key_record;

struct pending {
    struct task *t;
    const char *name;
    enum dns_type type;
    dns_task_cb cb;
    void *data;
};

static bool deferred;
static struct pending queue[64];
static size_t nqueue;

static void answer(struct task *t, const char *name, enum dns_type type, dns_task_cb cb,
                   void *data)
{
    struct dns_rr rr;
    struct dns_reply rep = {DNS_NXDOMAIN, type, name, &rr, 0, 60, NULL};
    memset(&rr, 0, sizeof(rr));
    const char *value = NULL;
    if (dkim_key_record != NULL && type == DNS_T_TXT &&
        strcmp(name, "sel._domainkey.example.org") == 0) {
        rep.status = DNS_OK;
        value = dkim_key_record;
    }
    for (const struct fake_rr *z = zone; value == NULL && z->name != NULL; z++) {
        if (strcmp(z->name, name) != 0)
            continue;
        rep.status = z->type == type ? z->status : DNS_OK;  /* other type: NODATA */
        if (z->type == type)
            value = z->value;
        rep.error = z->status == DNS_TEMPFAIL ? "query timed out" : NULL;
        break;
    }
    if (value != NULL && rep.status == DNS_OK) {
        rep.n = 1;
        if (type == DNS_T_A)
            netaddr_parse(value, strlen(value), &rr.v.addr);
        else
            rr.v.txt.s = arena_strdup(t->arena, value), rr.v.txt.len = strlen(value);
    }
    /* Like dns_task_query: the reply lives in the task's arena. */
    cb(t, dns_reply_copy(t->arena, &rep), data);
}

static void fake_query(struct task *t, const char *name, enum dns_type type, dns_task_cb cb,
                       void *data)
{
    task_async_begin(t, name);
    if (!deferred || nqueue == sizeof(queue) / sizeof(queue[0])) {
        answer(t, name, type, cb, data);
        task_async_end(t, name);
        return;
    }
    queue[nqueue++] = (struct pending){t, arena_strdup(t->arena, name), type, cb, data};
}

static void fake_flush(void)
{
    while (nqueue > 0) {
        struct pending p = queue[0];
        memmove(queue, queue + 1, --nqueue * sizeof(queue[0]));
        answer(p.t, p.name, p.type, p.cb, p.data);
        task_async_end(p.t, p.name);
    }
}

/* ---- cases ---- */

#define MAXW 6

struct auth_case {
    const char *name;
    const char *from_hdr;        /* header From address */
    const char *ip, *env_from, *helo, *user;
    bool sign;                   /* add a DKIM signature by sel._domainkey.example.org */
    bool tamper;                 /* change the body after signing */
    const char *want[MAXW];      /* "SYMBOL" or "SYMBOL=option" */
    const char *not_want[MAXW];
};

static const struct auth_case cases[] = {
    {"spf pass ip4 alone: dmarc allow", "ceo@example.org", "192.0.2.5",
     "ceo@example.org", "mx", NULL, false, false,
     {"R_SPF_ALLOW=+ip4:192.0.2.0/24", "R_DKIM_NA", "DMARC_POLICY_ALLOW=reject"},
     {"R_SPF_FAIL", "DMARC_POLICY_ALLOW_WITH_FAILURES"}},
    {"spf pass through include + a", "ceo@example.org", "198.51.100.1", "ceo@example.org", "mx",
     NULL, false, false, {"R_SPF_ALLOW=+include:_spf.example.org"}, {NULL}},
    {"spf fail, forged from -> dmarc reject", "ceo@example.org", "203.0.113.9",
     "ceo@example.org", "mx", NULL, false, false,
     {"R_SPF_FAIL=-all", "DMARC_POLICY_REJECT=example.org", "DMARC_POLICY_REJECT=reject"},
     {"DMARC_POLICY_ALLOW"}},
    {"spf none for unknown domain", "a@none.example", "192.0.2.5", "a@nowhere.example", "mx",
     NULL, false, false,
     {"R_SPF_NA=no SPF record", "DMARC_POLICY_QUARANTINE=none.example"}, {NULL}},
    {"spf permerror", "a@broken.example", "192.0.2.5", "a@broken.example", "mx", NULL, false,
     false, {"R_SPF_PERMFAIL", "DMARC_BAD_POLICY"}, {"R_SPF_ALLOW"}},
    {"dns failure is visible", "a@slow.example", "192.0.2.5", "a@slow.example", "mx", NULL,
     false, false, {"R_SPF_DNSFAIL", "DMARC_DNSFAIL"}, {"R_SPF_NA", "DMARC_NA"}},
    {"null sender uses helo", "a@example.org", "192.0.2.5", "", "example.org", NULL, false,
     false, {"R_SPF_ALLOW"}, {NULL}},
    {"authenticated: nothing checked", "a@example.org", "203.0.113.9", "a@example.org", "mx",
     "a@example.org", true, false, {NULL}, {"R_SPF_FAIL", "R_DKIM_ALLOW", "DMARC_POLICY_REJECT"}},
    {"dkim pass aligned -> dmarc allow", "ceo@example.org", "192.0.2.5", "ceo@example.org",
     "mx", NULL, true, false,
     {"R_DKIM_ALLOW=example.org:s=sel", "DKIM_TRACE=example.org:+", "DMARC_POLICY_ALLOW"},
     {"DMARC_POLICY_ALLOW_WITH_FAILURES"}},
    {"dkim body changed -> reject", "ceo@example.org", "203.0.113.9", "ceo@example.org", "mx",
     NULL, true, true,
     {"R_DKIM_REJECT=example.org", "DKIM_TRACE=example.org:-", "DMARC_POLICY_REJECT"},
     {"R_DKIM_ALLOW"}},
    {"dkim pass, spf fail -> allow", "ceo@example.org", "203.0.113.9",
     "ceo@example.org", "mx", NULL, true, false,
     {"R_DKIM_ALLOW", "R_SPF_FAIL", "DMARC_POLICY_ALLOW"}, {NULL}},
};

static const char body_text[] = "Hello,\r\nthe report is attached.\r\n";

static struct dkim_privkey *test_key(struct arena *a)
{
    /* RFC 8032 test 1 seed, as in RFC 8463's example. */
    static const char seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
    struct dkim_privkey *key = NULL;
    const char *err = NULL;
    if (dkim_privkey_load_mem(a, seed, strlen(seed), &key, &err) < 0)
        fail_msg("key: %s", err);
    dkim_key_record = arena_strdup(a, dkim_privkey_txt_record(a, key));
    return key;
}

/* The message of a case, signed when asked. */
static const char *case_message(struct arena *a, const struct auth_case *c)
{
    const char *hdrs = arena_printf(a, "From: <%s>\r\nTo: b@example.net\r\nSubject: report\r\n"
                                       "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\n",
                                    c->from_hdr);
    const char *msg = arena_printf(a, "%s%s", hdrs, body_text);
    if (!c->sign)
        return msg;
    struct dkim_header *h;
    size_t n, blen;
    const char *body, *err = NULL, *field;
    size_t flen;
    struct dkim_sign_opts o = {.domain = "example.org", .selector = "sel"};
    assert_int_equal(dkim_split_message(a, msg, strlen(msg), &h, &n, &body, &blen, &err), 0);
    struct dkim_signer *s = dkim_sign_new(a, test_key(a), &o, &err);
    assert_non_null(s);
    dkim_sign_body(s, body, blen);
    assert_int_equal(dkim_sign_finish(s, h, n, &field, &flen, &err), 0);
    const char *signed_msg = arena_printf(a, "%.*s\r\n%s", (int)flen, field, msg);
    if (!c->tamper)
        return signed_msg;
    char *m = arena_strdup(a, signed_msg);
    memcpy(strstr(m, "report is"), "REPORT is", 9);
    return m;
}

static bool has(const struct task *t, const char *want)
{
    char name[64];
    const char *eq = strchr(want, '=');
    snprintf(name, sizeof(name), "%.*s", (int)(eq ? (size_t)(eq - want) : strlen(want)), want);
    const struct task_symbol *s = task_find_symbol(t, name);
    if (s == NULL || eq == NULL)
        return s != NULL;
    for (size_t i = 0; i < s->noptions; i++)
        if (strcmp(s->options[i], eq + 1) == 0)
            return true;
    return false;
}

static const char *symbols_of(const struct task *t)
{
    static char out[2048];
    size_t n = 0;
    out[0] = '\0';
    for (const struct task_symbol *s = t->symbols; s && n < sizeof(out) - 200; s = s->next) {
        n += (size_t)snprintf(out + n, sizeof(out) - n, " %s", s->name);
        for (size_t i = 0; i < s->noptions; i++)
            n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%.60s", i ? "," : "{",
                                  s->options[i]);
        if (s->noptions)
            n += (size_t)snprintf(out + n, sizeof(out) - n, "}");
    }
    return out;
}

static void run_case(const struct auth_case *c, bool defer)
{
    struct arena *a = arena_new(0);
    struct symtab *st = symtab_new(a);
    struct module_env env = {.arena = a, .symtab = st, .config = NULL};
    struct actions acts;
    const struct module *mods[] = {&module_spf, &module_dkim, &module_dmarc};
    void *ctx[3];
    const char *err = NULL;
    actions_init_defaults(&acts);
    for (size_t i = 0; i < 3; i++)
        if (mods[i]->configure(NULL, &env, &ctx[i], &err) != 0 || ctx[i] == NULL)
            fail_msg("configure %s: %s", mods[i]->name, err ? err : "?");
    deferred = defer;
    authdns_set_query_fn(fake_query);

    struct task *t = task_new(NULL, st, &acts);
    const char *msg = case_message(t->arena, c);
    struct mime_limits lim = {0};
    assert_int_equal(message_parse(t->arena, msg, strlen(msg), &lim, &t->msg, &err), 0);
    netaddr_parse(c->ip, strlen(c->ip), &t->env.ip);
    t->env.from = c->env_from;
    t->env.helo = c->helo;
    t->env.user = c->user;
    for (size_t i = 0; i < 3; i++) {
        if (mods[i]->stage == 1)
            fake_flush();        /* stage 0 finished: what the pipeline waits for */
        assert_int_equal(mods[i]->scan(t, ctx[i]), 0);
    }
    fake_flush();
    assert_int_equal(t->pending, 0);
    for (size_t i = 0; i < MAXW && c->want[i]; i++)
        if (!has(t, c->want[i]))
            fail_msg("%s (%s): want %s; got%s", c->name, defer ? "deferred" : "sync", c->want[i],
                     symbols_of(t));
    for (size_t i = 0; i < MAXW && c->not_want[i]; i++)
        if (has(t, c->not_want[i]))
            fail_msg("%s (%s): unwanted %s; got%s", c->name, defer ? "deferred" : "sync",
                     c->not_want[i], symbols_of(t));
    authdns_set_query_fn(NULL);
    dkim_key_record = NULL;
    task_free(&t);
    arena_free(&a);
}

static void test_cases_sync(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i], false);
}

static void test_cases_deferred(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i], true);
}

/* Authentication-Results from the symbols of a DKIM-signed message. */
static void test_auth_results_header(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct symtab *st = symtab_new(a);
    struct actions acts;
    actions_init_defaults(&acts);
    struct task *t = task_new(NULL, st, &acts);
    assert_string_equal(auth_results_header(t, "mx.example.com"), "mx.example.com; none");
    t->env.from = "ceo@example.org";
    task_insert(t, "R_DKIM_ALLOW", 1.0, "example.org:s=sel");
    task_insert(t, "R_SPF_FAIL", 1.0, "-all");
    task_insert(t, "DMARC_POLICY_ALLOW", 1.0, "example.org");
    task_insert(t, "ARC_NA", 1.0, NULL);
    assert_string_equal(auth_results_header(t, "mx.example.com"),
                        "mx.example.com; dkim=pass header.d=example.org header.s=sel; "
                        "spf=fail smtp.mailfrom=ceo@example.org; "
                        "dmarc=pass header.from=example.org");
    t->env.from = "odd\"<>@example.org";
    assert_null(strstr(auth_results_header(t, "mx"), "odd"));
    task_free(&t);
    arena_free(&a);
}

/* The per-task data slot is per task and goes with it. */
static void test_task_data(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    struct symtab *st = symtab_new(a);
    struct actions acts;
    actions_init_defaults(&acts);
    struct task *t1 = task_new(NULL, st, &acts), *t2 = task_new(NULL, st, &acts);
    static const char key[] = "k";
    int x = 1, y = 2;
    auth_task_data_set(t1, key, &x);
    auth_task_data_set(t2, key, &y);
    assert_ptr_equal(auth_task_data_get(t1, key), &x);
    assert_ptr_equal(auth_task_data_get(t2, key), &y);
    uint64_t id1 = t1->id;
    task_free(&t1);
    assert_ptr_equal(auth_task_data_get(t2, key), &y);
    struct task *t3 = task_new(NULL, st, &acts);
    assert_true(t3->id != id1);
    assert_null(auth_task_data_get(t3, key));
    task_free(&t2);
    task_free(&t3);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_sync),
        cmocka_unit_test(test_cases_deferred),
        cmocka_unit_test(test_task_data),
        cmocka_unit_test(test_auth_results_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
