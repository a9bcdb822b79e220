/*
 * The scan protocol's request side: maps the path to a command (spec §2.1)
 * and the request headers onto the task's envelope and flags (§2.2, §2.3).
 *
 * Owns nothing: every string it keeps is copied into the task's arena,
 * including the message body, so the task may outlive the connection's
 * parser (a client that hangs up mid-scan must not leave the task pointing
 * at freed memory).
 *
 * Refuses only the inputs not implemented here (`Compression: zstd`, `Shm`),
 * rather than scan bytes that are not the message.  A bad IP header is
 * logged and ignored, as Rspamd does.
 * Everything else is lenient, as Rspamd is: unknown headers and flags are
 * kept for rules and otherwise ignored.
 */
#include "proto/scan.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/str.h"
#include "core/task.h"

static const struct {
    const char *path;
    enum scan_command cmd;
} commands[] = {
    {"checkv2", SCAN_CMD_CHECKV2}, {"check", SCAN_CMD_CHECK},
    {"symbols", SCAN_CMD_CHECK},   {"scan", SCAN_CMD_CHECK},
    {"process", SCAN_CMD_CHECK},   {"report", SCAN_CMD_CHECK},
    {"report_ifspam", SCAN_CMD_CHECK}, {"skip", SCAN_CMD_SKIP},
    {"ping", SCAN_CMD_PING},
};

enum scan_command scan_command_from_path(const char *path)
{
    if (path == NULL)
        return SCAN_CMD_UNKNOWN;
    if (path[0] == '/')
        path++;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcasecmp(path, commands[i].path) == 0)
            return commands[i].cmd;
    return SCAN_CMD_UNKNOWN;
}

/* ---- header values ---- */

static const char *dup_trimmed(struct task *t, const char *v)
{
    const char *p = v;
    size_t len = strlen(v);
    str_trim(&p, &len);
    return arena_strndup(t->arena, p, len);
}

/* An address as given in MAIL FROM / RCPT TO: the part inside the first
 * <...> if there is one (ESMTP parameters may follow), else the trimmed
 * value.  Returns false for an unbalanced '<'. */
static bool address_part(const char **p, size_t *len)
{
    str_trim(p, len);
    const char *lt = memchr(*p, '<', *len);
    if (lt == NULL)
        return memchr(*p, '>', *len) == NULL;
    size_t off = (size_t)(lt - *p) + 1;
    const char *gt = memchr(lt + 1, '>', *len - off);
    if (gt == NULL)
        return false;
    *len = (size_t)(gt - lt) - 1;
    *p = lt + 1;
    str_trim(p, len);
    return true;
}

static void set_from(struct task *t, const char *v)
{
    const char *p = v;
    size_t len = strlen(v);
    if (!address_part(&p, &len)) {
        /* Unparsable: keep what was sent minus the brackets, and say so. */
        t->flags |= TASK_BROKEN_HEADERS;
        p = v;
        len = strlen(v);
        str_trim(&p, &len);
        while (len > 0 && (*p == '<' || *p == '>'))
            p++, len--;
        while (len > 0 && (p[len - 1] == '<' || p[len - 1] == '>'))
            len--;
    }
    t->env.from = arena_strndup(t->arena, p, len);
}

/* Rcpt may be repeated and each may hold a comma-separated list. */
static void add_rcpts(struct task *t, const char *v)
{
    size_t len = strlen(v);
    while (len > 0) {
        const char *comma = memchr(v, ',', len);
        size_t n = comma ? (size_t)(comma - v) : len;
        const char *a = v;
        size_t alen = n;
        if (!address_part(&a, &alen)) {
            a = v;
            alen = n;
            str_trim(&a, &alen);
        }
        if (alen > 0)
            task_add_rcpt(t, a, alen);
        if (comma == NULL)
            break;
        v += n + 1;
        len -= n + 1;
    }
}

/*
 * A bad IP header is logged and the task goes on without an IP, as Rspamd
 * 3.4 does (protocol.c: "bad ip header"): answering 400 would make the MTA
 * apply its failure policy, often "accept", to mail that can still be
 * scanned.  A path is a unix socket peer: kept as text, no address.
 */
static int set_ip(struct task *t, const char *v, const char **error_r)
{
    const char *p = v;
    size_t len = strlen(v);
    str_trim(&p, &len);
    if (len == 0)
        return 0;
    if (p[0] != '/' && netaddr_parse(p, len, &t->env.ip) < 0) {
        char esc[128];
        memset(&t->env.ip, 0, sizeof(t->env.ip));
        log_task_warn(t, "bad IP header ignored: '%s'", log_escape(esc, sizeof(esc), p, len));
        return 0;
    }
    t->env.ip_str = arena_strndup(t->arena, p, len);
    return 0;
}

static const struct {
    const char *name;
    unsigned flag;
} flag_names[] = {
    {"pass_all", TASK_PASS_ALL},   {"no_log", TASK_NO_LOG},
    {"skip", TASK_SKIP},           {"skip_process", TASK_SKIP_PROCESS},
    {"no_stat", TASK_NO_STAT},     {"ssl", TASK_SSL},
    {"profile", TASK_PROFILE},     {"milter", TASK_MILTER},
    {"ext_urls", TASK_EXT_URLS},   {"body_block", TASK_BODY_BLOCK},
    {"groups", TASK_GROUPS},
    /* zstd: replies are never compressed here; accepted and ignored. */
};

static void add_flags(struct task *t, const char *v)
{
    size_t len = strlen(v);
    while (len > 0) {
        const char *comma = memchr(v, ',', len);
        size_t n = comma ? (size_t)(comma - v) : len;
        const char *f = v;
        size_t flen = n;
        str_trim(&f, &flen);
        for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
            if (str_ieq_cstr(f, flen, flag_names[i].name))
                t->flags |= flag_names[i].flag;
        if (comma == NULL)
            break;
        v += n + 1;
        len -= n + 1;
    }
}

/* Single-valued envelope strings: header name -> field of task_envelope. */
static const struct {
    const char *name;
    size_t offset;
} env_strings[] = {
    {"Helo", offsetof(struct task_envelope, helo)},
    {"Deliver-To", offsetof(struct task_envelope, deliver_to)},
    {"Queue-Id", offsetof(struct task_envelope, queue_id)},
    {"MTA-Name", offsetof(struct task_envelope, mta_name)},
    {"Settings-ID", offsetof(struct task_envelope, settings_id)},
    {"Log-Tag", offsetof(struct task_envelope, log_tag)},
    {"Filename", offsetof(struct task_envelope, filename)},
    {"TLS-Cipher", offsetof(struct task_envelope, tls_cipher)},
    {"User-Agent", offsetof(struct task_envelope, user_agent)},
};

static bool set_env_string(struct task *t, const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof(env_strings) / sizeof(env_strings[0]); i++) {
        if (strcasecmp(name, env_strings[i].name) == 0) {
            /* UNSAFE: offset comes from the table above, always a const char * field. */
            const char **field = (const char **)((char *)&t->env + env_strings[i].offset);
            *field = dup_trimmed(t, value);
            return true;
        }
    }
    return false;
}

/* Headers that only set a flag: when the trimmed value equals `value`
 * (case-insensitive), or whatever it is when `value` is NULL. */
static const struct {
    const char *name;
    const char *value;
    unsigned flag;
} flag_headers[] = {
    {"Pass", "all", TASK_PASS_ALL},   {"Log", "no", TASK_NO_LOG},
    {"Raw", "yes", TASK_RAW},         {"Raw", "true", TASK_RAW},
    {"Raw", "1", TASK_RAW},           {"Milter", NULL, TASK_MILTER},
    {"Profile", NULL, TASK_PROFILE},  {"URL-Format", "extended", TASK_EXT_URLS},
};

static bool set_flag_header(struct task *t, const char *name, const char *value)
{
    bool known = false;
    for (size_t i = 0; i < sizeof(flag_headers) / sizeof(flag_headers[0]); i++) {
        if (strcasecmp(name, flag_headers[i].name) != 0)
            continue;
        known = true;
        if (flag_headers[i].value == NULL ||
            strcasecmp(dup_trimmed(t, value), flag_headers[i].value) == 0)
            t->flags |= flag_headers[i].flag;
    }
    return known;
}

static int h_ip(struct task *t, enum http_proto proto, const char *v, const char **error_r)
{
    return set_ip(t, v, error_r);
}

static int h_hostname(struct task *t, enum http_proto proto, const char *v, const char **error_r)
{
    const char *h = dup_trimmed(t, v);
    t->env.hostname = (h[0] == '\0' || strcasecmp(h, "unknown") == 0) ? NULL : h;
    return 0;
}

static int h_from(struct task *t, enum http_proto proto, const char *v, const char **error_r)
{
    set_from(t, v);
    return 0;
}

static int h_rcpt(struct task *t, enum http_proto proto, const char *v, const char **error_r)
{
    add_rcpts(t, v);
    return 0;
}

/* spamc's User is a local account, not an SMTP login: ignored there. */
static int h_user(struct task *t, enum http_proto proto, const char *v, const char **error_r)
{
    if (proto != HTTP_PROTO_SPAMC)
        t->env.user = dup_trimmed(t, v);
    return 0;
}

static int h_flags(struct task *t, enum http_proto proto, const char *v, const char **error_r)
{
    add_flags(t, v);
    return 0;
}

/* Not implemented: scanning a zstd stream (or an empty body standing in
 * for shared memory) as the message would give a silently wrong verdict. */
static int h_compression(struct task *t, enum http_proto proto, const char *v,
                         const char **error_r)
{
    const char *c = dup_trimmed(t, v);
    if (c[0] == '\0' || strcasecmp(c, "none") == 0 || strcasecmp(c, "identity") == 0)
        return 0;
    *error_r = "compressed requests are not supported";
    return -1;
}

static int h_shm(struct task *t, enum http_proto proto, const char *v, const char **error_r)
{
    *error_r = "shared memory input is not supported";
    return -1;
}

static const struct {
    const char *name;
    int (*fn)(struct task *t, enum http_proto proto, const char *value, const char **error_r);
} header_handlers[] = {
    {"IP", h_ip},       {"Hostname", h_hostname}, {"From", h_from},
    {"Rcpt", h_rcpt},   {"User", h_user},         {"Flags", h_flags},
    {"Compression", h_compression},               {"Shm", h_shm},
};

/* One header's effect on the task; unknown headers have none here (they
 * are still in task->req_headers for the modules). */
static int apply_header(struct task *t, enum http_proto proto, const char *name,
                        const char *value, const char **error_r)
{
    if (set_env_string(t, name, value) || set_flag_header(t, name, value))
        return 0;
    for (size_t i = 0; i < sizeof(header_handlers) / sizeof(header_handlers[0]); i++)
        if (strcasecmp(name, header_handlers[i].name) == 0)
            return header_handlers[i].fn(t, proto, value, error_r);
    return 0;
}

static void copy_headers(const struct http_request *req, struct task *t)
{
    struct task_header **tail = &t->req_headers;
    while (*tail != NULL)
        tail = &(*tail)->next;
    for (size_t i = 0; i < req->nheaders; i++) {
        struct task_header *h = ARENA_NEW(t->arena, struct task_header);
        h->name = arena_strdup(t->arena, req->headers[i].name);
        h->value = arena_strdup(t->arena, req->headers[i].value);
        *tail = h;
        tail = &h->next;
    }
}

int scan_request_to_task(const struct http_request *req, struct task *task, const char **error_r)
{
    copy_headers(req, task);
    for (size_t i = 0; i < req->nheaders; i++) {
        if (apply_header(task, req->proto, req->headers[i].name, req->headers[i].value,
                         error_r) < 0)
            return -1;
    }
    if (task->env.tls_cipher != NULL)
        task->flags |= TASK_SSL;
    /* Rspamd: a Settings header (the settings module reads it) wins over
     * Settings-ID. */
    if (task->env.settings_id != NULL && http_request_header(req, "Settings") != NULL)
        task->env.settings_id = NULL;
    if (task->env.user_agent != NULL && strcasecmp(task->env.user_agent, "rspamc") == 0)
        task->flags |= TASK_LOCAL_CLIENT;
    if (scan_command_from_path(req->path) == SCAN_CMD_SKIP)
        task->flags |= TASK_SKIP;
    char *raw = arena_alloc(task->arena, req->body_len + 1);
    if (req->body_len > 0)
        memcpy(raw, req->body, req->body_len);
    raw[req->body_len] = '\0';
    task->raw = raw;
    task->raw_len = req->body_len;
    return 0;
}
