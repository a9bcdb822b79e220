/*
 * winnowc: the rspamc-compatible command-line client.
 *
 *   winnowc [options] [command] [file|dir|mbox ...]
 *
 * Builds one HTTP request per input (or one for commands without input),
 * runs them through client.c with up to -n in flight, and prints each
 * result in input order in rspamc's formats (output.c).  Every request says
 * "User-Agent: rspamc", not "winnowc": the scanner (ours and Rspamd's)
 * treats that agent as local command-line traffic, which greylisting and
 * rate limits skip; a different name would make winnowc's test scans
 * greylisted where rspamc's are not.  Exit status: 0 when every request got
 * a 2xx reply, 1 otherwise (and on option errors), as rspamc.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/inputs.h"
#include "cli/output.h"
#include "cli/output_ctl.h"
#include "core/arena.h"
#include "core/jsonparse.h"

#define SCANNER_PORT 11333
#define CONTROLLER_PORT 11334
#define MAX_INPUT ((size_t)1 << 30)

enum cmd_output { OUT_SYMBOLS, OUT_STAT, OUT_UCL, OUT_HISTORY, OUT_LEARN };

struct command {
    const char *name;
    const char *method;
    const char *path;
    bool controller;             /* default port 11334 */
    bool needs_input;
    enum cmd_output output;
    const char *help;
};

/* rspamc's command table (spec §6.1) plus history; aliases check and scan. */
static const struct command commands[] = {
    {"symbols", "POST", "/checkv2", false, true, OUT_SYMBOLS, "scan a message (default)"},
    {"check", "POST", "/checkv2", false, true, OUT_SYMBOLS, "alias of symbols"},
    {"scan", "POST", "/checkv2", false, true, OUT_SYMBOLS, "alias of symbols"},
    {"learn_spam", "POST", "/learnspam", true, true, OUT_LEARN, "learn message as spam"},
    {"learn_ham", "POST", "/learnham", true, true, OUT_LEARN, "learn message as ham"},
    {"fuzzy_add", "POST", "/fuzzyadd", true, true, OUT_UCL, "add message to fuzzy storage"},
    {"fuzzy_del", "POST", "/fuzzydel", true, true, OUT_UCL, "delete message from fuzzy storage"},
    {"stat", "GET", "/stat", true, false, OUT_STAT, "show statistics"},
    {"stat_reset", "GET", "/statreset", true, false, OUT_STAT, "show and reset statistics"},
    {"counters", "GET", "/counters", true, false, OUT_UCL, "show symbol counters"},
    {"uptime", "GET", "/auth", true, false, OUT_UCL, "show uptime"},
    {"history", "GET", "/history", true, false, OUT_HISTORY, "show scan history"},
};

struct opts {
    const char *connect;
    const char *password;
    char *password_buf;          /* read from a file, freed at exit */
    const char **headers;        /* "Name: value", already validated */
    size_t nheaders;
    const char **excludes;
    size_t nexcludes;
    double timeout;
    unsigned parallel;
    bool json, compact, ucl, empty, pass_all, raw, extended_urls, profile, verbose;
    const char *user_agent;
};

struct ctx {
    const struct command *cmd;
    const struct opts *o;
    const struct client_target *target;
    struct input_list *inputs;
    struct client_req *reqs;
    char **results;              /* formatted output per request */
    size_t nreqs, printed;
    bool any_failed;
    /* learn_spam/learn_ham of several messages on a terminal: a progress
     * bar on stderr instead of one report per message (learn_progress). */
    bool progress;
    size_t ndone, nfailed;
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: winnowc [options] [command] [file|dir|mbox ...]\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "See winnowc(1) for the options.\n");
}

static void add_str(const char ***v, size_t *n, const char *s)
{
    *v = realloc(*v, (*n + 1) * sizeof(**v));
    if (*v == NULL)
        abort();
    (*v)[(*n)++] = s;
}

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* Adds "Name: value" (value may be empty); refuses bytes that would split
 * the request. */
static int add_header(struct opts *o, const char *name, size_t nlen, const char *value)
{
    char *h;

    if (nlen == 0 || has_crlf(value) || memchr(name, ':', nlen) != NULL ||
        strpbrk(name, "\r\n") != NULL) {
        fprintf(stderr, "winnowc: bad header '%.*s'\n", (int)nlen, name);
        return -1;
    }
    while (*value == ' ' || *value == '\t')
        value++;
    if (asprintf(&h, "%.*s: %s", (int)nlen, name, value) < 0)
        abort();
    add_str(&o->headers, &o->nheaders, h);
    return 0;
}

/* --header 'Name: value' or 'Name=value' (rspamc accepts both). */
static int parse_header_opt(struct opts *o, const char *arg)
{
    const char *sep = strpbrk(arg, ":=");

    if (sep == NULL) {
        fprintf(stderr, "winnowc: --header wants 'Name: value' or Name=value\n");
        return -1;
    }
    return add_header(o, arg, (size_t)(sep - arg), sep + 1);
}

/* -P: a value starting with / or . names a file holding the password, when
 * that file exists (rspamc does the same). */
static const char *password_value(const char *arg)
{
    char *data;
    size_t len;
    int fd;

    if (arg[0] != '/' && arg[0] != '.')
        return arg;
    fd = open(arg, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return arg;
    if (inputs_read_fd(fd, 4096, &data, &len) < 0) {
        close(fd);
        return arg;
    }
    close(fd);
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    data[len] = '\0';                    /* inputs_read_fd leaves room: cap > len */
    return data;
}

enum long_only {
    OPT_HELO = 256, OPT_HOSTNAME, OPT_COMPACT, OPT_UCL, OPT_RAW, OPT_HEADER, OPT_EXCLUDE,
    OPT_QUEUE_ID, OPT_SETTINGS_ID, OPT_SETTINGS, OPT_EXT_URLS, OPT_PROFILE, OPT_SKIP_IMAGES,
    OPT_SKIP_ATTACHMENTS, OPT_COMMANDS, OPT_HELP, OPT_MTA_NAME,
};

static const struct option long_opts[] = {
    {"connect", required_argument, NULL, 'h'},
    {"password", required_argument, NULL, 'P'},
    {"classifier", required_argument, NULL, 'c'},
    {"weight", required_argument, NULL, 'w'},
    {"flag", required_argument, NULL, 'f'},
    {"fuzzy-symbol", required_argument, NULL, 'S'},
    {"pass-all", no_argument, NULL, 'p'},
    {"verbose", no_argument, NULL, 'v'},
    {"ip", required_argument, NULL, 'i'},
    {"user", required_argument, NULL, 'u'},
    {"deliver", required_argument, NULL, 'd'},
    {"from", required_argument, NULL, 'F'},
    {"rcpt", required_argument, NULL, 'r'},
    {"helo", required_argument, NULL, OPT_HELO},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"timeout", required_argument, NULL, 't'},
    {"json", no_argument, NULL, 'j'},
    {"compact", no_argument, NULL, OPT_COMPACT},
    {"ucl", no_argument, NULL, OPT_UCL},
    {"raw", no_argument, NULL, OPT_RAW},
    {"max-requests", required_argument, NULL, 'n'},
    {"extended-urls", no_argument, NULL, OPT_EXT_URLS},
    {"header", required_argument, NULL, OPT_HEADER},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"empty", no_argument, NULL, 'E'},
    {"user-agent", required_argument, NULL, 'U'},
    {"queue-id", required_argument, NULL, OPT_QUEUE_ID},
    {"settings-id", required_argument, NULL, OPT_SETTINGS_ID},
    {"settings", required_argument, NULL, OPT_SETTINGS},
    {"mta-name", required_argument, NULL, OPT_MTA_NAME},
    {"profile", no_argument, NULL, OPT_PROFILE},
    {"skip-images", no_argument, NULL, OPT_SKIP_IMAGES},
    {"skip-attachments", no_argument, NULL, OPT_SKIP_ATTACHMENTS},
    {"commands", no_argument, NULL, OPT_COMMANDS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Options that only become a request header. */
static const struct {
    int opt;
    const char *header;
} header_opts[] = {
    {'c', "Classifier"}, {'w', "Weight"},     {'f', "Flag"},          {'S', "Symbol"},
    {'i', "Ip"},         {'u', "User"},       {'d', "Deliver-To"},    {'F', "From"},
    {'r', "Rcpt"},       {OPT_HELO, "Helo"},  {OPT_HOSTNAME, "Hostname"},
    {OPT_QUEUE_ID, "Queue-Id"}, {OPT_SETTINGS_ID, "Settings-ID"}, {OPT_SETTINGS, "Settings"},
    {OPT_MTA_NAME, "MTA-Name"},
};

static int parse_number(const char *arg, const char *what, double min, double max, double *v_r)
{
    char *end;
    double v = strtod(arg, &end);

    if (end == arg || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "winnowc: bad %s '%s'\n", what, arg);
        return -1;
    }
    *v_r = v;
    return 0;
}

static int parse_flag_opt(struct opts *o, int c)
{
    switch (c) {
    case 'p': o->pass_all = true; break;
    case 'v': o->verbose = true; break;
    case 'j': o->json = true; break;
    case 'E': o->empty = true; break;
    case OPT_COMPACT: o->json = o->compact = true; break;
    case OPT_UCL: o->ucl = true; break;
    case OPT_RAW: o->raw = true; break;
    case OPT_EXT_URLS: o->extended_urls = true; break;
    case OPT_PROFILE: o->profile = true; break;
    case OPT_SKIP_IMAGES: return add_header(o, "Skip-Images", 11, "true");
    case OPT_SKIP_ATTACHMENTS: return add_header(o, "Skip-Attachments", 16, "true");
    default: return 1;
    }
    return 0;
}

/* Returns 0, -1 (error) or 1 (print help/commands and exit 0). */
static int parse_opt(struct opts *o, int c, const char *arg)
{
    double v;
    int rc = parse_flag_opt(o, c);

    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < sizeof(header_opts) / sizeof(header_opts[0]); i++)
        if (header_opts[i].opt == c)
            return add_header(o, header_opts[i].header, strlen(header_opts[i].header), arg);
    switch (c) {
    case 'h': o->connect = arg; return 0;
    case 'P':
        o->password = password_value(arg);
        if (o->password != arg) {
            free(o->password_buf);
            o->password_buf = (char *)o->password;
        }
        return has_crlf(o->password) ? -1 : 0;
    case 'U': o->user_agent = arg; return has_crlf(arg) ? -1 : 0;
    case 't': return parse_number(arg, "timeout", 0.001, 86400, &o->timeout);
    case 'n':
        if (parse_number(arg, "max-requests", 1, 1024, &v) < 0)
            return -1;
        o->parallel = (unsigned)v;
        return 0;
    case OPT_HEADER: return parse_header_opt(o, arg);
    case OPT_EXCLUDE: add_str(&o->excludes, &o->nexcludes, arg); return 0;
    case OPT_HELP: usage(stdout); return 1;
    case OPT_COMMANDS:
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
            printf("%-12s %-5s %-12s %s\n", commands[i].name, commands[i].method,
                   commands[i].path, commands[i].help);
        return 1;
    default: usage(stderr); return -1;
    }
}

static void opts_free(struct opts *o)
{
    for (size_t i = 0; i < o->nheaders; i++)
        free((char *)o->headers[i]);
    free(o->headers);
    free(o->excludes);
    free(o->password_buf);
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void build_flags(struct buf *b, const struct opts *o)
{
    buf_puts(b, "Flags: body_block");
    if (o->pass_all)
        buf_puts(b, ",pass_all");
    if (o->profile)
        buf_puts(b, ",profile");
    buf_puts(b, "\r\n");
}

static void build_request(struct buf *b, const struct ctx *c, const char *filename,
                          const char *body, size_t len)
{
    const struct opts *o = c->o;

    buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", c->cmd->method,
               c->cmd->path, c->target->host);
    buf_printf(b, "Content-Length: %zu\r\nUser-Agent: %s\r\n", len, o->user_agent);
    build_flags(b, o);
    if (filename != NULL && !has_crlf(filename))
        buf_printf(b, "Filename: %s\r\n", filename);
    if (o->password != NULL)
        buf_printf(b, "Password: %s\r\n", o->password);
    if (o->raw)
        buf_puts(b, "Raw: yes\r\n");
    if (o->extended_urls)
        buf_puts(b, "URL-Format: extended\r\n");
    for (size_t i = 0; i < o->nheaders; i++)
        buf_printf(b, "%s\r\n", o->headers[i]);
    buf_puts(b, "\r\n");
    buf_append(b, body, len);
}

static int req_start(struct client_req *req, size_t idx, void *data)
{
    struct ctx *c = data;
    struct input *in;
    char *body;
    size_t len;
    int fd;

    if (c->inputs->n == 0) {             /* a command without input */
        build_request(&req->out, c, NULL, "", 0);
        return 0;
    }
    in = &c->inputs->v[idx];
    if (in->path == NULL) {
        build_request(&req->out, c, in->name, in->data, in->len);
        return 0;
    }
    fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || inputs_read_fd(fd, MAX_INPUT, &body, &len) < 0) {
        if (asprintf(&req->error, "cannot read file %s: %s", in->path, strerror(errno)) < 0)
            abort();
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    build_request(&req->out, c, in->name, body, len);
    free(body);
    return 0;
}

static void format_failure(struct buf *out, const struct ctx *c, const struct client_req *req)
{
    buf_printf(out, "%s\n", req->error != NULL ? req->error : "request failed");
    if (c->o->json && req->body.len > 0) {
        buf_append(out, req->body.data, req->body.len);
        buf_putc(out, '\n');
    }
    buf_putc(out, '\n');
}

static void format_reply(struct buf *out, const struct ctx *c, const char *name,
                         const struct client_req *req, const struct jv *reply)
{
    const char *fname = c->inputs->n > 0 ? name : NULL;

    if (c->o->json) {
        output_json(out, reply, fname, req->elapsed, !c->o->compact);
        buf_putc(out, '\n');
    } else if (c->cmd->output == OUT_SYMBOLS && !c->o->ucl) {
        output_symbols(out, reply);
    } else if (c->cmd->output == OUT_STAT && !c->o->ucl && reply->type == JV_OBJ) {
        output_stat(out, reply);
    } else if (c->cmd->output == OUT_HISTORY && !c->o->ucl) {
        output_history(out, reply, c->o->verbose);
    } else {
        output_ucl(out, reply, fname, req->elapsed);
        buf_putc(out, '\n');
    }
}

/* Formats one result into c->results[idx]. */
static void format_result(struct ctx *c, struct client_req *req, size_t idx)
{
    struct buf out = BUF_INIT;
    struct arena *arena = arena_new(0);
    const char *name = c->inputs->n > 0 ? c->inputs->v[idx].name : c->cmd->name;
    const struct jv *reply = NULL;
    const char *error;

    if (!req->failed) {
        reply = jv_parse(arena, req->body.data ? req->body.data : "", req->body.len, &error);
        if (reply == NULL) {
            req->failed = true;
            if (asprintf(&req->error, "Bad reply: cannot parse JSON: %s", error) < 0)
                abort();
        }
    }
    if (!c->o->json)
        output_results_line(&out, c->inputs->n > 0 ? "file" : "command", name, req->elapsed);
    if (req->failed)
        format_failure(&out, c, req);
    else
        format_reply(&out, c, name, req, reply);
    arena_free(&arena);
    c->results[idx] = buf_steal(&out, NULL);
}

/* ---- learning: per-message outcome, progress bar, summary ---- */

/* A controller reply that names an error ({"error": "..."}) puts its text
 * after the bare "HTTP error: N, reason", so the administrator sees why
 * ("already learned as spam", "history needs Redis").  For learning, such a
 * reply is a failure whatever its status (Rspamd answers 208 for a message
 * already learned). */
static void server_error(struct client_req *req)
{
    struct arena *arena = arena_new(0);
    const char *error = NULL;
    const struct jv *reply = NULL;

    if (req->body.len > 0)
        reply = jv_parse(arena, req->body.data, req->body.len, &error);
    const char *text = reply ? output_learn_error(reply) : NULL;
    if (text != NULL) {
        char *msg = NULL;
        if (asprintf(&msg, req->failed && req->error ? "%s: %s" : "%s%s",
                     req->failed && req->error ? req->error : "", text) < 0)
            abort();
        free(req->error);
        req->error = msg;
        req->failed = true;
    }
    arena_free(&arena);
}

static void learn_outcome(struct ctx *c, struct client_req *req)
{
    server_error(req);
    c->ndone++;
    if (req->failed)
        c->nfailed++;
}

static void learn_progress(struct ctx *c, struct client_req *req, size_t idx)
{
    struct buf line = BUF_INIT;

    buf_puts(&line, "\r\033[K");
    if (req->failed)
        buf_printf(&line, "%s: %s\n", c->inputs->v[idx].name,
                   req->error ? req->error : "request failed");
    output_progress(&line, c->ndone, c->nreqs, 72);
    fwrite(line.data, 1, line.len, stderr);
    fflush(stderr);
    buf_free(&line);
    if (req->failed)
        c->any_failed = true;
    free(req->error);
    req->error = NULL;
    buf_free(&req->body);
}

static void learn_summary(struct ctx *c)
{
    FILE *f = c->progress ? stdout : stderr;

    if (c->progress)
        fputs("\r\033[K", stderr);
    if (c->progress || c->nreqs > 1)
        fprintf(f, "%s: %zu message%s, %zu learned, %zu failed\n", c->cmd->name, c->ndone,
                c->ndone == 1 ? "" : "s", c->ndone - c->nfailed, c->nfailed);
}

static void req_done(struct client_req *req, size_t idx, void *data)
{
    struct ctx *c = data;

    if (c->cmd->output == OUT_HISTORY && req->failed)
        server_error(req);
    if (c->cmd->output == OUT_LEARN) {
        learn_outcome(c, req);
        if (c->progress) {
            learn_progress(c, req, idx);
            return;
        }
    }
    format_result(c, req, idx);
    if (req->failed)
        c->any_failed = true;
    free(req->error);
    req->error = NULL;
    buf_free(&req->body);
    while (c->printed < c->nreqs && c->results[c->printed] != NULL) {
        fputs(c->results[c->printed], stdout);
        free(c->results[c->printed]);
        c->results[c->printed] = (char *)"";   /* printed; never freed again */
        c->printed++;
    }
    fflush(stdout);
}

/* Collects the inputs named on the command line, or stdin. */
static int collect_inputs(struct input_list *l, const struct opts *o, char **files, int nfiles)
{
    int rc = 0;

    l->excludes = o->excludes;
    l->nexcludes = o->nexcludes;
    for (int i = 0; i < nfiles; i++) {
        const char *error;
        if (inputs_add_path(l, files[i], &error) < 0) {
            fprintf(stderr, "%s\n", error);
            rc = -1;
        }
    }
    if (nfiles == 0) {
        char *data;
        size_t len = 0;
        if (o->empty) {
            data = calloc(1, 1);
        } else if (inputs_read_fd(STDIN_FILENO, MAX_INPUT, &data, &len) < 0) {
            fprintf(stderr, "cannot read stdin: %s\n", strerror(errno));
            return -1;
        }
        inputs_add_data(l, "stdin", data, len);
    }
    return rc;
}

static int run_requests(struct ctx *c)
{
    c->nreqs = c->cmd->needs_input ? c->inputs->n : 1;
    c->reqs = calloc(c->nreqs, sizeof(*c->reqs));
    c->results = calloc(c->nreqs, sizeof(*c->results));
    if (c->reqs == NULL || c->results == NULL)
        abort();
    c->progress = c->cmd->output == OUT_LEARN && c->nreqs > 1 && !c->o->json &&
                  isatty(STDERR_FILENO);
    client_run(c->reqs, c->nreqs, c->target, c->o->parallel, c->o->timeout,
               &(struct client_ops){req_start, req_done}, c);
    if (c->cmd->output == OUT_LEARN)
        learn_summary(c);
    free(c->reqs);
    free(c->results);
    return c->any_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.timeout = 10, .parallel = 8, .user_agent = "rspamc", .connect = "localhost"};
    struct input_list inputs = {0};
    struct client_target target;
    struct ctx c = {.o = &o, .target = &target, .inputs = &inputs};
    const char *error;
    int opt, rc, first;

    while ((opt = getopt_long(argc, argv, "h:P:c:w:f:S:pvi:u:d:F:r:t:jn:EU:", long_opts,
                              NULL)) != -1) {
        rc = parse_opt(&o, opt, optarg);
        if (rc != 0) {
            opts_free(&o);
            return rc < 0 ? 1 : 0;
        }
    }
    first = optind;
    c.cmd = first < argc ? find_command(argv[first]) : NULL;
    if (c.cmd != NULL)
        first++;
    else
        c.cmd = &commands[0];
    if (client_target_parse(o.connect, c.cmd->controller ? CONTROLLER_PORT : SCANNER_PORT,
                            &target, &error) < 0) {
        fprintf(stderr, "winnowc: %s\n", error);
        opts_free(&o);
        return 1;
    }
    rc = 0;
    if (c.cmd->needs_input && collect_inputs(&inputs, &o, argv + first, argc - first) < 0)
        rc = 1;
    if ((!c.cmd->needs_input || inputs.n > 0) && run_requests(&c) != 0)
        rc = 1;
    inputs_free(&inputs);
    opts_free(&o);
    return rc;
}
