/*
 * dkim_signing: which messages get signed, with which domain and selector
 * (spec §9.2, JOURNEY.md §5), table-driven over configurations written to
 * a temporary directory (key file, the three one-line maps).  Every
 * signature made is verified with the DKIM library against the key's own
 * public record.  Also: a map edited on disk is picked up (key rotation),
 * and a milter task gets "\n\t" folding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "core/actions.h"
#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/arc.h"
#include "modules/authdns.h"
#include "modules/dkim/dkim.h"
#include "modules/dkim_signing.h"
#include "modules/module.h"

extern const struct module module_dkim_signing, module_arc;

static char dir[64];
static const char *pubrec;   /* "v=DKIM1; k=ed25519; p=..." of the test key */

/* RFC 8032 test 1 seed. */
static const char seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n";

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/winnow-sign-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file("s2026.example.com.key", seed, 0600);
    write_file("s2027.example.com.key", seed, 0600);
    write_file("open.key", seed, 0644);
    write_file("dkim_selectors.map", "example.com s2026\n", 0644);
    char line[256];
    snprintf(line, sizeof(line), "example.com %s/s2026.example.com.key\n", dir);
    write_file("dkim_keys.map", line, 0644);
    write_file("dkim_signing.map", "# OpenDKIM style\n*@example.com example.com\n", 0644);
    struct arena *a = arena_new(0);
    struct dkim_privkey *k = NULL;
    const char *err = NULL;
    assert_int_equal(dkim_privkey_load_mem(a, seed, strlen(seed), &k, &err), 0);
    pubrec = strdup(dkim_privkey_txt_record(a, k));
    arena_free(&a);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free((void *)pubrec);
    return 0;
}

/* JOURNEY.md §5, with %s = the temporary directory. */
static const char journey_conf[] =
    "path = \"%s/$selector.$domain.key\";\n"
    "selector_map = \"%s/dkim_selectors.map\";\n"
    "key_map = \"%s/dkim_keys.map\";\n"
    "signing_table = \"%s/dkim_signing.map\";\n"
    "use_esld = false;\n"
    "allow_username_mismatch = true;\n";

struct sign_case {
    const char *name;
    const char *conf;            /* printf format with up to four %s = dir; NULL = journey */
    const char *from_hdr, *env_from, *user, *ip;
    bool reject;                 /* a reject pre-result */
    const char *want;            /* "d=...; s=..." expected in the signature, NULL = unsigned */
};

static const struct sign_case cases[] = {
    {"journey: authenticated example.com", NULL, "alice@example.com", "alice@example.com",
     "alice", NULL, false, "d=example.com; s=s2026;"},
    {"journey: other domain not signed", NULL, "carol@example.net", "carol@example.net",
     "carol@example.net", NULL, false, NULL},
    {"journey: not authenticated, no IP", NULL, "alice@example.com", "alice@example.com", NULL,
     NULL, false, NULL},
    {"journey: pre-result reject", NULL, "alice@example.com", "alice@example.com", "alice",
     NULL, true, NULL},
    {"journey: envelope domain differs", NULL, "alice@example.com", "alice@example.net",
     "alice", NULL, false, NULL},
    {"journey: bounce (empty envelope)", NULL, "alice@example.com", "", "alice", NULL, false,
     "d=example.com; s=s2026;"},
    {"username must match by default",
     "path = \"%s/$selector.$domain.key\"; selector = \"s2026\";", "alice@example.com",
     "alice@example.com", "alice@example.net", NULL, false, NULL},
    {"username without domain refused",
     "path = \"%s/$selector.$domain.key\"; selector = \"s2026\";", "alice@example.com",
     "alice@example.com", "alice", NULL, false, NULL},
    {"username matches: template path",
     "path = \"%s/$selector.$domain.key\"; selector = \"s2026\";", "alice@example.com",
     "alice@example.com", "alice@example.com", NULL, false, "d=example.com; s=s2026;"},
    {"use_esld reduces a subdomain",
     "path = \"%s/$selector.$domain.key\"; selector = \"s2026\";", "alice@mail.example.com",
     "alice@mail.example.com", "alice@example.com", NULL, false, "d=example.com; s=s2026;"},
    {"sign_networks", "sign_networks = \"203.0.113.0/24\"; domain { example.com { selector = "
     "\"s2027\"; path = \"%s/s2027.example.com.key\"; } }", "a@example.com", "a@example.com",
     NULL, "203.0.113.7", false, "d=example.com; s=s2027;"},
    {"sign_networks from a file", "sign_networks = \"%s/networks.map\"; domain { example.com { "
     "selector = \"s2027\"; path = \"%s/s2027.example.com.key\"; } }", "a@example.com",
     "a@example.com", NULL, "198.51.100.9", false, "d=example.com; s=s2027;"},
    {"sign_authenticated = false",
     "sign_authenticated = false; path = \"%s/$selector.$domain.key\"; selector = \"s2026\";",
     "alice@example.com", "alice@example.com", "alice@example.com", NULL, false, NULL},
    {"mismatch allowed", "allow_hdrfrom_mismatch = true; allow_username_mismatch = true; "
     "path = \"%s/$selector.$domain.key\"; selector = \"s2026\";", "alice@example.com",
     "alice@example.net", "x", NULL, false, "d=example.com; s=s2026;"},
    {"use_domain envelope", "use_domain = \"envelope\"; allow_hdrfrom_mismatch = true; "
     "allow_username_mismatch = true; domain { example.com { selector = \"s2026\"; "
     "path = \"%s/s2026.example.com.key\"; } }", "x@example.net", "x@example.com", "x", NULL,
     false, "d=example.com; s=s2026;"},
    {"key readable by others refused",
     "domain { example.com { selector = \"s1\"; path = \"%s/open.key\"; } }", "a@example.com",
     "a@example.com", "a@example.com", NULL, false, NULL},
    {"key_table entry", "signing_table = \"%s/st.map\"; key_table = \"%s/kt.map\"; "
     "allow_username_mismatch = true;", "a@example.com", "a@example.com", "a", NULL, false,
     "d=example.com; s=kt1;"},
};

static enum dkim_dns_status lookup(void *ctx, const char *name, const char *const **txt_r,
                                   const size_t **len_r, size_t *n_r)
{
    static const char *txt[1];
    static size_t len[1];
    (void)ctx;
    (void)name;
    txt[0] = pubrec;
    len[0] = strlen(pubrec);
    *txt_r = txt;
    *len_r = len;
    *n_r = 1;
    return DKIM_DNS_OK;
}

/* Prepends the signature and checks it with the library. */
static void verify(struct arena *a, const char *sig, const char *msg)
{
    const char *full = arena_printf(a, "DKIM-Signature: %s\r\n%s", sig, msg);
    struct dkim_header *h;
    size_t n, blen, nres;
    const char *body, *err = NULL;
    const struct dkim_result *res;
    struct dkim_verify_opts o = {.ignore_time = true};
    assert_int_equal(dkim_split_message(a, full, strlen(full), &h, &n, &body, &blen, &err), 0);
    assert_int_equal(dkim_verify_message(a, &o, h, n, body, blen, lookup, NULL, &res, &nres, &err),
                     0);
    assert_int_equal(nres, 1);
    if (res[0].status != DKIM_STATUS_PASS)
        fail_msg("signature does not verify: %s", res[0].reason);
}

static struct task *sign(const char *conf, const struct sign_case *c, unsigned flags,
                         struct arena **a_r)
{
    struct arena *a = arena_new(0);
    struct symtab *st = symtab_new(a);
    struct module_env env = {.arena = a, .symtab = st, .config = NULL};
    struct actions *acts = ARENA_NEW(a, struct actions);
    void *ctx = NULL;
    const char *err = NULL;
    actions_init_defaults(acts);
    struct conf_obj *sec = conf_parse_buf(a, "test", conf, strlen(conf), NULL, &err);
    if (sec == NULL || module_dkim_signing.configure(sec, &env, &ctx, &err) != 0)
        fail_msg("%s: %s", c->name, err ? err : "?");
    struct task *t = task_new(NULL, st, acts);
    const char *msg = arena_printf(t->arena, "From: A <%s>\r\nTo: b@example.org\r\nSubject: hi"
                                             "\r\n\r\nbody\r\n", c->from_hdr);
    struct mime_limits lim = {0};
    assert_int_equal(message_parse(t->arena, msg, strlen(msg), &lim, &t->msg, &err), 0);
    t->raw = msg;
    t->raw_len = strlen(msg);
    t->flags = flags;
    t->env.from = c->env_from;
    t->env.user = c->user;
    if (c->ip != NULL)
        netaddr_parse(c->ip, strlen(c->ip), &t->env.ip);
    if (c->reject)
        task_set_passthrough(t, ACTION_REJECT, 0.0, "no", "test", false);
    module_dkim_signing.post_scan(t, ctx);
    module_dkim_signing.worker_deinit(ctx);   /* drop the per-process key cache */
    *a_r = a;
    return t;
}

/* The configuration text with every "%s" replaced by the directory. */
static void subst(char *out, size_t size, const char *fmt)
{
    size_t n = 0;
    for (const char *p = fmt; *p && n + strlen(dir) + 1 < size; p++) {
        if (p[0] == '%' && p[1] == 's') {
            memcpy(out + n, dir, strlen(dir));
            n += strlen(dir);
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* The signature value on one line (folding removed). */
static const char *unfold(struct arena *a, const char *sig)
{
    char *u = arena_strdup(a, sig), *w = u;
    for (const char *p = sig; *p; p++)
        if (*p != '\r' && *p != '\n')
            *w++ = *p == '\t' ? ' ' : *p;
    *w = '\0';
    return u;
}

static void check_case(const struct sign_case *c)
{
    char conf[2048];
    subst(conf, sizeof(conf), c->conf ? c->conf : journey_conf);
    struct arena *a;
    struct task *t = sign(conf, c, 0, &a);
    const char *sig = t->dkim_signatures ? t->dkim_signatures[0] : NULL;
    if (c->want == NULL && sig != NULL)
        fail_msg("%s: signed unexpectedly: %s", c->name, sig);
    if (c->want != NULL && (sig == NULL || strstr(unfold(a, sig), c->want) == NULL))
        fail_msg("%s: want %s, got %s", c->name, c->want, sig ? sig : "no signature");
    if (sig != NULL) {
        assert_non_null(task_find_symbol(t, "DKIM_SIGNED"));
        verify(a, sig, t->raw);
    }
    task_free(&t);
    arena_free(&a);
}

static void test_selection(void **state)
{
    char line[256];
    (void)state;
    write_file("st.map", "*@example.com kt\n", 0644);
    write_file("networks.map", "# relays\n203.0.113.0/24\n198.51.100.0/24 # backup\n", 0644);
    snprintf(line, sizeof(line), "kt example.com:kt1:%s/s2026.example.com.key\n", dir);
    write_file("kt.map", line, 0644);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i]);
}

/* Key rotation: switch the selector map to s2027; picked up after the
 * check interval without a reload. */
static void test_rotation(void **state)
{
    char conf[1024], line[256];
    struct arena *a;
    (void)state;
    subst(conf, sizeof(conf), journey_conf);
    struct task *t = sign(conf, &cases[0], 0, &a);
    assert_non_null(strstr(t->dkim_signatures[0], "s=s2026;"));
    task_free(&t);
    arena_free(&a);

    write_file("dkim_selectors.map", "example.com s2027\n", 0644);
    snprintf(line, sizeof(line), "example.com %s/s2027.example.com.key\n", dir);
    write_file("dkim_keys.map", line, 0644);
    sign_map_clock_skew(SIGN_MAP_CHECK + 1);
    t = sign(conf, &cases[0], TASK_MILTER, &a);
    const char *sig = t->dkim_signatures[0];
    assert_non_null(strstr(sig, "s=s2027;"));
    assert_non_null(strstr(sig, "\n\t"));
    assert_null(strchr(sig, '\r'));      /* milter: LF folding */
    task_free(&t);
    arena_free(&a);
    write_file("dkim_selectors.map", "example.com s2026\n", 0644);
}

/* Every key lookup answers with the test key (the task's arena holds the
 * reply, as dns_task_query's does). */
static void key_query(struct task *t, const char *name, enum dns_type type, dns_task_cb cb,
                      void *data)
{
    struct dns_rr rr;
    struct dns_reply rep = {DNS_OK, type, name, &rr, 1, 60, NULL};
    memset(&rr, 0, sizeof(rr));
    rr.v.txt.s = pubrec;
    rr.v.txt.len = strlen(pubrec);
    task_async_begin(t, name);
    cb(t, dns_reply_copy(t->arena, &rep), data);
    task_async_end(t, name);
}

/* One ARC hop: scan (validate) then post_scan (seal) `msg` received for
 * b@example.com; returns the message with the new set on top. */
static const char *arc_hop(struct arena *out, const char *msg, const char *want_cv)
{
    char conf[512];
    struct arena *a = arena_new(0);
    struct symtab *st = symtab_new(a);
    struct module_env env = {.arena = a, .symtab = st, .config = NULL};
    struct actions acts;
    void *ctx = NULL;
    const char *err = NULL;
    actions_init_defaults(&acts);
    subst(conf, sizeof(conf), "selector = \"s2026\"; path = \"%s/$selector.$domain.key\";");
    struct conf_obj *sec = conf_parse_buf(a, "arc", conf, strlen(conf), NULL, &err);
    assert_int_equal(module_arc.configure(sec, &env, &ctx, &err), 0);
    struct task *t = task_new(NULL, st, &acts);
    struct mime_limits lim = {0};
    assert_int_equal(message_parse(t->arena, msg, strlen(msg), &lim, &t->msg, &err), 0);
    task_add_rcpt(t, "b@example.com", 13);
    t->env.from = "a@example.org";
    authdns_set_query_fn(key_query);
    module_arc.scan(t, ctx);
    authdns_set_query_fn(NULL);
    assert_non_null(task_find_symbol(t, strstr(msg, "ARC-Seal") ? "ARC_ALLOW" : "ARC_NA"));
    module_arc.post_scan(t, ctx);
    module_arc.worker_deinit(ctx);
    const char *aar = NULL, *ams = NULL, *as = NULL;
    for (const struct task_milter_header *h = t->milter_headers; h; h = h->next) {
        if (strcmp(h->name, "ARC-Authentication-Results") == 0) aar = h->value;
        if (strcmp(h->name, "ARC-Message-Signature") == 0) ams = h->value;
        if (strcmp(h->name, "ARC-Seal") == 0) as = h->value;
    }
    if (as == NULL)
        fail_msg("not sealed");
    assert_non_null(task_find_symbol(t, "ARC_SIGNED"));
    assert_non_null(strstr(as, want_cv));
    const char *res = arena_printf(out, "ARC-Seal: %s\r\nARC-Message-Signature: %s\r\n"
                                        "ARC-Authentication-Results: %s\r\n%s", as, ams, aar, msg);
    task_free(&t);
    arena_free(&a);
    return res;
}

/* What arc_verify says about msg, every key being the test key. */
static enum arc_result arc_check(struct arena *a, const char *msg, unsigned *inst_r)
{
    struct dkim_header *h;
    size_t n, blen;
    const char *body, *err = NULL, *reason = NULL;
    assert_int_equal(dkim_split_message(a, msg, strlen(msg), &h, &n, &body, &blen, &err), 0);
    struct arc_verify *v = arc_verify_new(a, h, n, body, blen);
    for (size_t i = 0; i < arc_verify_nkeys(v); i++)
        arc_verify_set_key(v, i, DKIM_DNS_OK, pubrec, strlen(pubrec));
    enum arc_result r = arc_verify_finish(v, &reason);
    *inst_r = arc_verify_instances(v);
    if (r != ARC_RES_PASS)
        printf("arc: %s\n", reason);
    return r;
}

/* Two hops seal in turn (cv=none, then cv=pass); each chain validates. */
static void test_arc_sealing(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    unsigned inst = 0;
    const char *msg = "From: a@example.org\r\nTo: b@example.com\r\nSubject: hop\r\n"
                      "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n";
    const char *hop1 = arc_hop(a, msg, "cv=none");
    assert_int_equal(arc_check(a, hop1, &inst), ARC_RES_PASS);
    assert_int_equal(inst, 1);
    const char *hop2 = arc_hop(a, hop1, "cv=pass");
    assert_int_equal(arc_check(a, hop2, &inst), ARC_RES_PASS);
    assert_int_equal(inst, 2);
    /* A changed body breaks the newest AMS. */
    char *bad = arena_strdup(a, hop2);
    memcpy(strstr(bad, "\r\n\r\nbody") + 4, "BODY", 4);
    assert_int_equal(arc_check(a, bad, &inst), ARC_RES_FAIL);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_arc_sealing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
