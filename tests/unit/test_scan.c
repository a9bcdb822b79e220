/*
 * Scan protocol tests (src/proto/scan.c, scan_reply.c): path -> command,
 * request headers -> task envelope and flags, and the v2 / v1 / RSPAMC /
 * SPAMC replies of hand-built tasks against golden strings (time_real is
 * masked, it is the only field that changes between runs).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/symbols.h"
#include "core/task.h"
#include "proto/http/http.h"
#include "proto/scan.h"

/* ---- scan_command_from_path ---- */

static void test_command_from_path(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        enum scan_command want;
    } cases[] = {
        {"/checkv2", SCAN_CMD_CHECKV2}, {"checkv2", SCAN_CMD_CHECKV2},
        {"/CHECKV2", SCAN_CMD_CHECKV2}, {"/check", SCAN_CMD_CHECK},
        {"/symbols", SCAN_CMD_CHECK},   {"/Scan", SCAN_CMD_CHECK},
        {"/process", SCAN_CMD_CHECK},   {"/report", SCAN_CMD_CHECK},
        {"/report_ifspam", SCAN_CMD_CHECK}, {"/skip", SCAN_CMD_SKIP},
        {"/ping", SCAN_CMD_PING},       {"PING", SCAN_CMD_PING},
        {"/", SCAN_CMD_UNKNOWN},        {"", SCAN_CMD_UNKNOWN},
        {"/checkv2/", SCAN_CMD_UNKNOWN}, {"/checkv3", SCAN_CMD_UNKNOWN},
        {"//checkv2", SCAN_CMD_UNKNOWN}, {NULL, SCAN_CMD_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (scan_command_from_path(cases[i].path) != cases[i].want) {
            print_error("path '%s'\n", cases[i].path ? cases[i].path : "(null)");
            fail();
        }
    }
}

/* ---- fixtures ---- */

struct fixture {
    struct arena *arena;
    struct symtab *symtab;
    struct actions actions;
};

static const struct symbol_def defs[] = {
    {"HFILTER_HOSTNAME_UNKNOWN", 2.5, "hfilter",
     "Unknown client hostname (PTR or FCrDNS verification failed)", 0},
    {"MIME_GOOD", -0.1, "mime", "Known content-type", 0},
    {"R_SPF_NA", 0.0, "spf", "Missing SPF record", 0},
    {"DATE_IN_PAST", 1.0, "headers", NULL, 0},
    {"HIDDEN", 1.0, "x", "never shown", SYMBOL_IGNORE},
    {"BIG", 7.0, "x", "Big \"one\"", 0},
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->arena = arena_new(0);
    f->symtab = symtab_new(f->arena);
    symtab_add_many(f->symtab, defs, sizeof(defs) / sizeof(defs[0]));
    actions_init_defaults(&f->actions);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_free(&f->arena);
    free(f);
    return 0;
}

/* Parses a complete request; the parser is returned so the caller frees it. */
static struct http_request *parse(const char *in, struct http_parser_state **pp)
{
    *pp = http_request_parser_new(NULL);
    size_t consumed;
    struct http_request *req = NULL;
    int status;
    const char *err;
    assert_int_equal(http_request_feed(*pp, in, strlen(in), &consumed, &req, &status, &err), 1);
    return req;
}

/* ---- scan_request_to_task ---- */

static const struct {
    unsigned flag;
    const char *name;
} flag_names[] = {
    {TASK_PASS_ALL, "pass_all"},   {TASK_NO_LOG, "no_log"},       {TASK_SKIP, "skip"},
    {TASK_SKIP_PROCESS, "skip_process"}, {TASK_NO_STAT, "no_stat"}, {TASK_SSL, "ssl"},
    {TASK_MILTER, "milter"},       {TASK_BODY_BLOCK, "body_block"}, {TASK_GROUPS, "groups"},
    {TASK_PROFILE, "profile"},     {TASK_EXT_URLS, "ext_urls"},   {TASK_RAW, "raw"},
    {TASK_LOCAL_CLIENT, "local"},  {TASK_BROKEN_HEADERS, "broken"},
};

#define S(x) ((x) ? (x) : "-")

static void dump_envelope(const struct task *t, struct buf *b)
{
    const struct task_envelope *e = &t->env;
    char ip[64] = "-";
    if (e->ip.family != 0)
        netaddr_format(&e->ip, ip, sizeof(ip));
    buf_printf(b, "ip=%s(%s) helo=%s host=%s from=%s rcpt=", ip, S(e->ip_str), S(e->helo),
               S(e->hostname), S(e->from));
    for (size_t i = 0; i < e->nrcpts; i++)
        buf_printf(b, "%s%s", i ? "," : "", e->rcpts[i]);
    buf_printf(b, " user=%s qid=%s deliver=%s mta=%s settings=%s tag=%s file=%s tls=%s ua=%s",
               S(e->user), S(e->queue_id), S(e->deliver_to), S(e->mta_name), S(e->settings_id),
               S(e->log_tag), S(e->filename), S(e->tls_cipher), S(e->user_agent));
    buf_puts(b, " flags=");
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (t->flags & flag_names[i].flag)
            buf_printf(b, "%s,", flag_names[i].name);
    buf_printf(b, " raw=%.*s", (int)t->raw_len, t->raw);
}

static const struct {
    const char *name;
    const char *request;
    const char *want;            /* envelope dump; NULL = scan_request_to_task fails */
} req_cases[] = {
    {"rspamc style",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 3\r\nIp: 192.0.2.10\r\nFrom: alice@example.org\r\n"
     "Rcpt: bob@example.net\r\nHelo: mail.example.org\r\nQueue-Id: 4ABC123\r\n"
     "User-Agent: rspamc\r\nFlags: body_block\r\n\r\nabc",
     "ip=192.0.2.10(192.0.2.10) helo=mail.example.org host=- from=alice@example.org "
     "rcpt=bob@example.net user=- qid=4ABC123 deliver=- mta=- settings=- tag=- file=- tls=- "
     "ua=rspamc flags=body_block,local, raw=abc"},
    {"opensmtpd style, case-insensitive names",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nPass: All\r\nIP: ::1\r\nHOSTNAME: mx.x\r\n"
     "helo: h\r\nmta-name: smtpd\r\nqueue-id: q\r\nfrom: <a@x>\r\nuser: u@x\r\n"
     "rcpt: <b@y>\r\nRCPT: c@z\r\nsettings-id: outbound\r\n\r\n",
     "ip=::1(::1) helo=h host=mx.x from=a@x rcpt=b@y,c@z user=u@x qid=q deliver=- mta=smtpd "
     "settings=outbound tag=- file=- tls=- ua=- flags=pass_all, raw="},
    {"comma-separated rcpt, null sender, unknown hostname",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nRcpt: <a@x>, b@y ,,c@z\r\nFrom: <>\r\n"
     "Hostname: unknown\r\nDeliver-To: bob\r\n\r\n",
     "ip=-(-) helo=- host=- from= rcpt=a@x,b@y,c@z user=- qid=- deliver=bob mta=- settings=- "
     "tag=- file=- tls=- ua=- flags= raw="},
    {"empty From is the null sender",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nFrom:\r\n\r\n",
     "ip=-(-) helo=- host=- from= rcpt= user=- qid=- deliver=- mta=- settings=- tag=- file=- "
     "tls=- ua=- flags= raw="},
    {"From with ESMTP parameters and broken From",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nFrom: <a@x> SIZE=100\r\n\r\n",
     "ip=-(-) helo=- host=- from=a@x rcpt= user=- qid=- deliver=- mta=- settings=- tag=- "
     "file=- tls=- ua=- flags= raw="},
    {"unbalanced From is flagged",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nFrom: <a@x\r\n\r\n",
     "ip=-(-) helo=- host=- from=a@x rcpt= user=- qid=- deliver=- mta=- settings=- tag=- "
     "file=- tls=- ua=- flags=broken, raw="},
    {"flags list and single-purpose headers",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\n"
     "Flags: pass_all, no_log,skip_process , no_stat,ssl,profile,milter,zstd,ext_urls,groups,"
     "bogus\r\n\r\n",
     "ip=-(-) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- settings=- tag=- file=- "
     "tls=- ua=- flags=pass_all,no_log,skip_process,no_stat,ssl,milter,groups,profile,ext_urls, "
     "raw="},
    {"Log, Raw, Milter, URL-Format, TLS-Cipher, Log-Tag, Filename",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nLog: no\r\nRaw: yes\r\nMilter: 1\r\n"
     "URL-Format: extended\r\nTLS-Cipher: ECDHE-RSA-AES256-GCM-SHA384\r\nLog-Tag: t1\r\n"
     "Filename: /tmp/m.eml\r\n\r\n",
     "ip=-(-) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- settings=- tag=t1 "
     "file=/tmp/m.eml tls=ECDHE-RSA-AES256-GCM-SHA384 ua=- flags=no_log,ssl,milter,ext_urls,raw, "
     "raw="},
    {"query parameters act as headers",
     "POST /checkv2?IP=10.0.0.1&Rcpt=a%40b&From=%3Cz%40y%3E HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
     "ip=10.0.0.1(10.0.0.1) helo=- host=- from=z@y rcpt=a@b user=- qid=- deliver=- mta=- "
     "settings=- tag=- file=- tls=- ua=- flags= raw=x"},
    {"skip path", "POST /skip HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
     "ip=-(-) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- settings=- tag=- file=- "
     "tls=- ua=- flags=skip, raw="},
    {"IPv6: prefix and unix path",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nIP: IPv6:2001:db8::1\r\n\r\n",
     "ip=2001:db8::1(IPv6:2001:db8::1) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- "
     "settings=- tag=- file=- tls=- ua=- flags= raw="},
    {"unix socket peer", "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nIP: /run/x.sock\r\n\r\n",
     "ip=-(/run/x.sock) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- settings=- "
     "tag=- file=- tls=- ua=- flags= raw="},
    {"spamc ignores User",
     "SYMBOLS SPAMC/1.2\r\nContent-length: 2\r\nUser: nobody\r\n\r\nhi",
     "ip=-(-) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- settings=- tag=- file=- "
     "tls=- ua=- flags= raw=hi"},
    {"rspamc legacy (Exim)",
     "CHECK RSPAMC/1.3\r\nContent-length: 2\r\nQueue-Id: 1abc\r\nFrom: s@x\r\n"
     "Recipient-Number: 2\r\nRcpt: a@x\r\nRcpt: b@x\r\nHelo: h\r\nHostname: mx\r\nIP: 1.2.3.4\r\n"
     "User: u\r\n\r\nhi",
     "ip=1.2.3.4(1.2.3.4) helo=h host=mx from=s@x rcpt=a@x,b@x user=u qid=1abc deliver=- mta=- "
     "settings=- tag=- file=- tls=- ua=- flags= raw=hi"},
    {"invalid IP is ignored",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nIP: 1.2.3.999\r\nTLS-Cipher:\r\n\r\n",
     "ip=-(-) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- settings=- tag=- file=- "
     "tls= ua=- flags=ssl, raw="},
    {"Settings wins over Settings-ID",
     "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nSettings-ID: a\r\n"
     "Settings: {\"actions\":{\"reject\":20}}\r\n\r\n",
     "ip=-(-) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- settings=- tag=- file=- "
     "tls=- ua=- flags= raw="},
    {"zstd body refused", "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nCompression: zstd\r\n\r\n",
     NULL},
    {"shm refused", "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nShm: /x\r\n\r\n", NULL},
    {"IP garbage", "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nIP: hello\r\n\r\n",
     "ip=-(-) helo=- host=- from=- rcpt= user=- qid=- deliver=- mta=- settings=- tag=- file=- "
     "tls=- ua=- flags= raw="},
};

static void test_request_to_task(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
        struct http_parser_state *p;
        struct http_request *req = parse(req_cases[i].request, &p);
        struct task *t = task_new(NULL, f->symtab, &f->actions);
        const char *err = NULL;
        int rc = scan_request_to_task(req, t, &err);
        /* The task must not depend on the parser's memory. */
        http_request_parser_free(&p);
        if (req_cases[i].want == NULL) {
            if (rc != -1 || err == NULL) {
                print_error("case '%s': want an error\n", req_cases[i].name);
                fail();
            }
        } else {
            struct buf b = BUF_INIT;
            dump_envelope(t, &b);
            if (rc != 0 || strcmp(b.data, req_cases[i].want) != 0) {
                print_error("case '%s': rc=%d\n got: %s\nwant: %s\n", req_cases[i].name, rc,
                            b.data, req_cases[i].want);
                fail();
            }
            buf_free(&b);
        }
        task_free(&t);
    }
}

static void test_request_headers_kept(void **state)
{
    struct fixture *f = *state;
    struct http_parser_state *p;
    struct http_request *req =
        parse("POST /checkv2?Settings-ID=x HTTP/1.1\r\nContent-Length: 0\r\nSPF: pass\r\n"
              "X-Custom: 1\r\n\r\n",
              &p);
    struct task *t = task_new(NULL, f->symtab, &f->actions);
    const char *err;
    assert_int_equal(scan_request_to_task(req, t, &err), 0);
    http_request_parser_free(&p);
    assert_string_equal(task_request_header(t, "spf"), "pass");
    assert_string_equal(task_request_header(t, "x-custom"), "1");
    assert_string_equal(task_request_header(t, "Settings-Id"), "x");
    assert_string_equal(t->env.settings_id, "x");
    size_t n = 0;
    for (const struct task_header *h = t->req_headers; h; h = h->next)
        n++;
    assert_int_equal(n, 4);
    task_free(&t);
}

/* ---- replies ---- */

/* Replaces the number after "time_real": with 0.1 so goldens are stable. */
static void mask_time(struct buf *b)
{
    char *p = strstr(b->data, "\"time_real\":");
    if (p == NULL)
        return;
    p += strlen("\"time_real\":");
    char *e = p;
    while (*e && *e != ',' && *e != '}')
        e++;
    struct buf o = BUF_INIT;
    buf_append(&o, b->data, (size_t)(p - b->data));
    buf_puts(&o, "0.1");
    buf_puts(&o, e);
    buf_free(b);
    *b = o;
}

enum reply_kind { R_V2, R_V1, R_RSPAMC, R_SPAMC };

static void check_reply(const struct task *t, enum reply_kind kind, const char *want)
{
    struct buf b = BUF_INIT;
    switch (kind) {
    case R_V2: scan_reply_v2(t, &b); break;
    case R_V1: scan_reply_v1(t, &b); break;
    case R_RSPAMC: scan_reply_rspamc(t, &b); break;
    case R_SPAMC: scan_reply_spamc(t, &b); break;
    }
    mask_time(&b);
    if (strcmp(b.data, want) != 0) {
        print_error(" got: %s\nwant: %s\n", b.data, want);
        fail();
    }
    buf_free(&b);
}

/* The spec §2.7 example: add header at 9.3. */
static struct task *example_task(struct fixture *f)
{
    struct task *t = task_new(NULL, f->symtab, &f->actions);
    task_insert(t, "HFILTER_HOSTNAME_UNKNOWN", 1.0, NULL);
    task_insert(t, "MIME_GOOD", 1.0, "text/plain");
    task_insert(t, "R_SPF_NA", 1.0, "no SPF record");
    task_insert(t, "HIDDEN", 0.0, NULL);
    task_insert(t, "BIG", 1.0, NULL);
    task_insert(t, "DATE_IN_PAST", -0.1, "8771");
    task_insert(t, "DATE_IN_PAST", 1.0, "8771");
    task_finalize(t);
    t->message_id = "20251124100000.12345@example.org";
    task_remove_milter_header(t, "X-Spam", 0);
    return t;
}

static void test_reply_v2(void **state)
{
    struct fixture *f = *state;
    struct task *t = example_task(f);
    assert_true(fabs(t->score - 10.4) < 1e-9);
    check_reply(
        t, R_V2,
        "{\"is_skipped\":false,\"score\":10.4,\"required_score\":15.0,\"action\":\"add header\","
        "\"symbols\":{"
        "\"HFILTER_HOSTNAME_UNKNOWN\":{\"name\":\"HFILTER_HOSTNAME_UNKNOWN\",\"score\":2.5,"
        "\"metric_score\":2.5,\"description\":\"Unknown client hostname (PTR or FCrDNS "
        "verification failed)\"},"
        "\"MIME_GOOD\":{\"name\":\"MIME_GOOD\",\"score\":-0.1,\"metric_score\":-0.1,"
        "\"description\":\"Known content-type\",\"options\":[\"text/plain\"]},"
        "\"R_SPF_NA\":{\"name\":\"R_SPF_NA\",\"score\":0.0,\"metric_score\":0.0,"
        "\"description\":\"Missing SPF record\",\"options\":[\"no SPF record\"]},"
        "\"BIG\":{\"name\":\"BIG\",\"score\":7.0,\"metric_score\":7.0,"
        "\"description\":\"Big \\\"one\\\"\"},"
        "\"DATE_IN_PAST\":{\"name\":\"DATE_IN_PAST\",\"score\":1.0,\"metric_score\":1.0,"
        "\"options\":[\"8771\"]}},"
        "\"messages\":{},\"message-id\":\"20251124100000.12345@example.org\",\"time_real\":0.1,"
        "\"milter\":{\"remove_headers\":{\"X-Spam\":0}}}");
    check_reply(t, R_RSPAMC,
                "RSPAMD/1.3 0 EX_OK\r\n"
                "Metric: default; False; 10.40 / 15.00 / 0.0\r\n"
                "Action: add header\r\n"
                "Symbol: HFILTER_HOSTNAME_UNKNOWN(2.50)\r\n"
                "Symbol: MIME_GOOD(-0.10)\r\n"
                "Symbol: R_SPF_NA(0.00)\r\n"
                "Symbol: BIG(7.00)\r\n"
                "Symbol: DATE_IN_PAST(1.00)\r\n"
                "Message-ID: 20251124100000.12345@example.org\r\n");
    check_reply(t, R_SPAMC,
                "SPAMD/1.1 0 EX_OK\r\nContent-length: 93\r\n"
                "Spam: False ; 10.40 / 15.00\r\n\r\n"
                "HFILTER_HOSTNAME_UNKNOWN,MIME_GOOD,R_SPF_NA,BIG,DATE_IN_PAST\r\n");
    check_reply(
        t, R_V1,
        "{\"default\":{\"is_spam\":true,\"is_skipped\":false,\"score\":10.4,"
        "\"required_score\":15.0,\"action\":\"add header\","
        "\"HFILTER_HOSTNAME_UNKNOWN\":{\"name\":\"HFILTER_HOSTNAME_UNKNOWN\",\"score\":2.5,"
        "\"description\":\"Unknown client hostname (PTR or FCrDNS verification failed)\"},"
        "\"MIME_GOOD\":{\"name\":\"MIME_GOOD\",\"score\":-0.1,"
        "\"description\":\"Known content-type\",\"options\":[\"text/plain\"]},"
        "\"R_SPF_NA\":{\"name\":\"R_SPF_NA\",\"score\":0.0,"
        "\"description\":\"Missing SPF record\",\"options\":[\"no SPF record\"]},"
        "\"BIG\":{\"name\":\"BIG\",\"score\":7.0,\"description\":\"Big \\\"one\\\"\"},"
        "\"DATE_IN_PAST\":{\"name\":\"DATE_IN_PAST\",\"score\":1.0,\"options\":[\"8771\"]}},"
        "\"messages\":{},\"message-id\":\"20251124100000.12345@example.org\",\"time_real\":0.1,"
        "\"rmilter\":{\"remove_headers\":{\"X-Spam\":0}}}");
    task_free(&t);
}

/* An empty, clean task: every optional key absent, message-id undef. */
static void test_reply_empty(void **state)
{
    struct fixture *f = *state;
    struct task *t = task_new(NULL, f->symtab, &f->actions);
    task_finalize(t);
    check_reply(t, R_V2,
                "{\"is_skipped\":false,\"score\":0.0,\"required_score\":15.0,"
                "\"action\":\"no action\",\"symbols\":{},\"messages\":{},"
                "\"message-id\":\"undef\",\"time_real\":0.1}");
    check_reply(t, R_V1,
                "{\"default\":{\"is_spam\":false,\"is_skipped\":false,\"score\":0.0,"
                "\"required_score\":15.0,\"action\":\"no action\"},\"messages\":{},"
                "\"message-id\":\"undef\",\"time_real\":0.1}");
    check_reply(t, R_RSPAMC,
                "RSPAMD/1.3 0 EX_OK\r\nMetric: default; False; 0.00 / 15.00 / 0.0\r\n"
                "Action: no action\r\nMessage-ID: undef\r\n");
    check_reply(t, R_SPAMC,
                "SPAMD/1.1 0 EX_OK\r\nContent-length: 32\r\nSpam: False ; 0.00 / 15.00\r\n\r\n"
                "\r\n");
    task_free(&t);
}

/* Everything optional present: subject, messages, urls, emails, several DKIM
 * signatures, milter adds (one and several values) and removes. */
static void test_reply_full(void **state)
{
    struct fixture *f = *state;
    f->actions.a[ACTION_REWRITE_SUBJECT].threshold = 8.0;
    struct task *t = task_new(NULL, f->symtab, &f->actions);
    t->subject = "Hello";
    task_insert(t, "BIG", 1.3, "a\"b");
    task_finalize(t);
    task_set_message(t, "smtp_message", "go away");
    task_set_message(t, "other", "x");
    static const char *urls[] = {"example.com", "ex\xffmple.org", NULL};
    static const char *emails[] = {"a@example.com", NULL};
    static const char *sigs[] = {"v=1; a=rsa-sha256;\n\tb=AAA", "v=1; a=ed25519-sha256; b=BBB",
                                 NULL};
    t->urls = urls;
    t->emails = emails;
    t->dkim_signatures = sigs;
    task_add_milter_header(t, "X-Spamd-Result", "default: True", -1);
    task_add_milter_header(t, "X-Spam-Status", "Yes, score=9.10", 1);
    task_add_milter_header(t, "X-Spamd-Result", "second", 0);
    task_remove_milter_header(t, "X-Spam", 0);
    task_remove_milter_header(t, "DKIM-Signature", 1);
    task_remove_milter_header(t, "X-Spam", 2);
    check_reply(
        t, R_V2,
        "{\"is_skipped\":false,\"score\":9.1,\"required_score\":15.0,"
        "\"action\":\"rewrite subject\",\"subject\":\"*** SPAM *** Hello\","
        "\"symbols\":{\"BIG\":{\"name\":\"BIG\",\"score\":9.1,\"metric_score\":7.0,"
        "\"description\":\"Big \\\"one\\\"\",\"options\":[\"a\\\"b\"]}},"
        "\"messages\":{\"smtp_message\":\"go away\",\"other\":\"x\"},"
        "\"urls\":[\"example.com\",\"ex\xef\xbf\xbdmple.org\"],\"emails\":[\"a@example.com\"],"
        "\"message-id\":\"undef\",\"time_real\":0.1,"
        "\"dkim-signature\":[\"v=1; a=rsa-sha256;\\n\\tb=AAA\",\"v=1; a=ed25519-sha256; b=BBB\"],"
        "\"milter\":{\"add_headers\":{"
        "\"X-Spamd-Result\":[{\"value\":\"default: True\",\"order\":-1},"
        "{\"value\":\"second\",\"order\":0}],"
        "\"X-Spam-Status\":{\"value\":\"Yes, score=9.10\",\"order\":1}},"
        "\"remove_headers\":{\"X-Spam\":2,\"DKIM-Signature\":1}}}");
    check_reply(t, R_RSPAMC,
                "RSPAMD/1.3 0 EX_OK\r\nMetric: default; False; 9.10 / 15.00 / 0.0\r\n"
                "Action: rewrite subject\r\nSubject: *** SPAM *** Hello\r\n"
                "Symbol: BIG(9.10)\r\nMessage: go away\r\nMessage: x\r\nMessage-ID: undef\r\n");
    /* One signature is a plain string. */
    sigs[1] = NULL;
    t->milter_headers = NULL;
    struct buf b = BUF_INIT;
    scan_reply_v2(t, &b);
    assert_non_null(strstr(b.data, ",\"dkim-signature\":\"v=1; a=rsa-sha256;\\n\\tb=AAA\"}"));
    buf_free(&b);
    task_free(&t);
}

static void test_reply_groups(void **state)
{
    struct fixture *f = *state;
    struct task *t = task_new(NULL, f->symtab, &f->actions);
    t->flags |= TASK_GROUPS;
    task_insert(t, "BIG", 1.0, NULL);
    task_insert(t, "MIME_GOOD", 1.0, NULL);
    task_insert(t, "HIDDEN", 1.0, NULL);
    task_insert(t, "NOT_REGISTERED", 1.0, NULL);
    task_insert(t, "HFILTER_HOSTNAME_UNKNOWN", 1.0, NULL);
    symtab_set_group(f->symtab, "MIME_GOOD", "x");
    task_finalize(t);
    check_reply(t, R_V2,
                "{\"is_skipped\":false,\"score\":10.4,\"required_score\":15.0,"
                "\"action\":\"add header\",\"symbols\":{"
                "\"BIG\":{\"name\":\"BIG\",\"score\":7.0,\"metric_score\":7.0,"
                "\"description\":\"Big \\\"one\\\"\"},"
                "\"MIME_GOOD\":{\"name\":\"MIME_GOOD\",\"score\":-0.1,\"metric_score\":-0.1,"
                "\"description\":\"Known content-type\"},"
                "\"NOT_REGISTERED\":{\"name\":\"NOT_REGISTERED\",\"score\":0.0,"
                "\"metric_score\":0.0},"
                "\"HFILTER_HOSTNAME_UNKNOWN\":{\"name\":\"HFILTER_HOSTNAME_UNKNOWN\","
                "\"score\":2.5,\"metric_score\":2.5,\"description\":\"Unknown client hostname "
                "(PTR or FCrDNS verification failed)\"}},"
                "\"groups\":{\"x\":{\"score\":6.9},\"hfilter\":{\"score\":2.5}},"
                "\"messages\":{},\"message-id\":\"undef\",\"time_real\":0.1}");
    task_free(&t);
}

/* A milter-flavoured action (discard) adds "reject"; a passthrough forces it. */
static void test_reply_discard(void **state)
{
    struct fixture *f = *state;
    struct task *t = task_new(NULL, f->symtab, &f->actions);
    task_set_passthrough(t, ACTION_DISCARD, 20.0, "dropped", "test", false);
    task_finalize(t);
    t->is_skipped = true;
    check_reply(t, R_V2,
                "{\"is_skipped\":true,\"score\":20.0,\"required_score\":15.0,"
                "\"action\":\"discard\",\"reject\":\"discard\",\"symbols\":{},"
                "\"messages\":{\"smtp_message\":\"dropped\"},\"message-id\":\"undef\","
                "\"time_real\":0.1}");
    task_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_from_path),
        cmocka_unit_test_setup_teardown(test_request_to_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_headers_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_discard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_groups, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
