/*
 * winnowadm control: asks the running daemon's main process, over its
 * control socket (options.control_socket, ctlsock.c in the daemon), for its
 * status or to reload.  `stat` prints what an administrator checks first
 * (JOURNEY §8): uptime, messages scanned and learned, connections, the
 * count per action, then Redis, DNS, features that are off and the
 * workers.  -j prints the daemon's JSON as it came.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/adm.h"
#include "cli/client.h"
#include "conf/settings.h"
#include "core/arena.h"
#include "core/jsonparse.h"

#define CONTROL_USAGE "control [-c FILE] [-s SOCKET] [-t SECONDS] [-j] stat|reload"

struct control_call {
    const char *command;
};

static int control_start(struct client_req *req, size_t idx, void *ctx)
{
    const struct control_call *call = ctx;
    (void)idx;
    buf_printf(&req->out, "GET /%s HTTP/1.0\r\n\r\n", call->command);
    return 0;
}

static void control_done(struct client_req *req, size_t idx, void *ctx)
{
    (void)req; (void)idx; (void)ctx;
}

/* "$DBDIR/winnow.sock mode=0600" (already expanded) -> the path. */
static const char *socket_path(struct arena *a, const char *spec)
{
    size_t n = strcspn(spec, " \t");
    return arena_strndup(a, spec, n);
}

/* options.control_socket's default, "$DBDIR/winnow.sock", with DBDIR as
 * given by --var or the built-in /var/lib/winnow. */
static const char *default_socket(struct arena *a, const struct adm_ctx *ctx)
{
    const char *dbdir = "/var/lib/winnow";
    for (const char **v = ctx->vars; v != NULL && *v != NULL; v++)
        if (strncmp(*v, "DBDIR=", 6) == 0)
            dbdir = *v + 6;
    return arena_printf(a, "%s/winnow.sock", dbdir);
}

static uint64_t num(const struct jv *obj, const char *key)
{
    double d = 0;
    return jv_num(jv_get(obj, key), &d) && d > 0 ? (uint64_t)d : 0;
}

static void print_duration(const char *label, uint64_t s)
{
    printf("%s%llu days, %02llu:%02llu:%02llu\n", label, (unsigned long long)(s / 86400),
           (unsigned long long)(s % 86400 / 3600), (unsigned long long)(s % 3600 / 60),
           (unsigned long long)(s % 60));
}

static void print_dependencies(const struct jv *st)
{
    const struct jv *redis = jv_get(st, "redis"), *dns = jv_get(st, "dns");
    const struct jv *off = jv_get(st, "features_off");
    const char *state = jv_str(jv_get(redis, "state"));
    const char *err = jv_str(jv_get(redis, "last_error"));

    if (state != NULL && strcmp(state, "down") == 0)
        printf("Redis: down (%s)\n", err != NULL && *err ? err : "no answer");
    else if (state != NULL && strcmp(state, "unconfigured") == 0)
        printf("Redis: not configured\n");
    else
        printf("Redis: %s, %llu commands, %llu errors, %llu timeouts\n", state ? state : "?",
               (unsigned long long)num(redis, "commands"), (unsigned long long)num(redis, "errors"),
               (unsigned long long)num(redis, "timeouts"));
    printf("DNS: %llu queries, %llu errors, %llu timeouts\n",
           (unsigned long long)num(dns, "queries"), (unsigned long long)num(dns, "errors"),
           (unsigned long long)num(dns, "timeouts"));
    printf("Features off:");
    if (off == NULL || off->type != JV_ARR || off->n == 0)
        printf(" none");
    for (const struct jv *f = off ? off->head : NULL; f != NULL; f = f->next)
        printf("%s %s", f == off->head ? "" : ",", jv_str(f) ? jv_str(f) : "?");
    if (off != NULL && off->n > 0)
        printf(" (%s)", state != NULL && strcmp(state, "down") == 0 ? "Redis is down"
                                                                    : "Redis not configured");
    printf("\n");
}

static void print_stat(const struct jv *st)
{
    const struct jv *actions = jv_get(st, "actions"), *workers = jv_get(st, "workers");
    uint64_t scanned = num(st, "scanned");
    double avg = 0;

    print_duration("Uptime: ", num(st, "uptime"));
    printf("Messages scanned: %llu\n", (unsigned long long)scanned);
    printf("Messages learned: %llu\n", (unsigned long long)num(st, "learned"));
    printf("Connections: %llu\n", (unsigned long long)num(st, "connections"));
    printf("Control connections: %llu\n", (unsigned long long)num(st, "control_connections"));
    for (const struct jv *a = actions ? actions->head : NULL; a != NULL; a = a->next) {
        double n = 0;
        jv_num(a, &n);
        printf("Messages with action %s: %.0f, %.2f%%\n", a->key, n,
               scanned ? n * 100.0 / (double)scanned : 0.0);
    }
    printf("Messages treated as spam: %llu\n", (unsigned long long)num(st, "spam_count"));
    printf("Messages treated as ham: %llu\n", (unsigned long long)num(st, "ham_count"));
    jv_num(jv_get(st, "scan_time_average"), &avg);
    printf("Average scan time: %.2f ms\n", avg * 1e3);
    printf("Worker restarts: %llu\n", (unsigned long long)num(st, "worker_restarts"));
    print_dependencies(st);
    printf("Workers: %zu\n", workers && workers->type == JV_ARR ? workers->n : 0);
    for (const struct jv *w = workers ? workers->head : NULL; w != NULL; w = w->next) {
        const char *type = jv_str(jv_get(w, "type"));
        char label[64];
        snprintf(label, sizeof(label), "  %-12s pid %-8llu up ", type ? type : "?",
                 (unsigned long long)num(w, "pid"));
        print_duration(label, num(w, "uptime"));
    }
}

static int control_print(const char *command, const struct client_req *req, bool json)
{
    struct arena *a = arena_new(0);
    const char *error = NULL;
    struct jv *reply = jv_parse(a, req->body.data ? req->body.data : "", req->body.len, &error);
    int rc = 0;

    if (json || reply == NULL) {
        fwrite(req->body.data, 1, req->body.len, stdout);
        printf("\n");
        rc = reply == NULL ? 1 : 0;
    } else if (strcmp(command, "stat") == 0) {
        print_stat(reply);
    } else {
        const struct jv *ok = jv_get(reply, "success");
        const char *err = jv_str(jv_get(reply, "error"));
        printf("%s: %s\n", command, ok != NULL && ok->type == JV_BOOL && ok->b ? "success"
                                                                              : (err ? err : "failed"));
    }
    if (req->status != 200)
        rc = 1;
    arena_free(&a);
    return rc;
}

int adm_cmd_control(struct adm_ctx *ctx, int argc, char **argv)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'}, {"socket", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *sock = NULL, *error = NULL;
    double timeout = 5.0;
    bool json = false;
    int c;

    while ((c = getopt_long(argc, argv, "c:s:t:j", lo, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 's': sock = optarg; break;
        case 't': timeout = atof(optarg); break;
        case 'j': json = true; break;
        default: return adm_usage_error(CONTROL_USAGE);
        }
    }
    if (optind + 1 != argc || timeout <= 0)
        return adm_usage_error(CONTROL_USAGE);
    struct control_call call = {argv[optind]};
    if (strcmp(call.command, "stat") != 0 && strcmp(call.command, "reload") != 0)
        return adm_usage_error(CONTROL_USAGE);

    struct arena *a = arena_new(0);
    struct config *cfg = NULL;
    if (sock == NULL) {
        cfg = adm_load(ctx, path, false, &error);
        if (cfg == NULL) {
            /* A broken file is when `reload` gets asked for: still reach
             * the daemon, at the default place. */
            sock = default_socket(a, ctx);
            fprintf(stderr, "winnowadm control: the configuration does not load (%s); trying %s\n",
                    error ? error : "?", sock);
        } else {
            sock = socket_path(a, cfg->options.control_socket ? cfg->options.control_socket : "");
        }
    }
    /* A relative DBDIR (--var DBDIR=var/lib) names a socket below the
     * current directory. */
    char cwd[4096];
    if (sock[0] != '\0' && sock[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
        sock = arena_printf(a, "%s/%s", cwd, sock);
    int rc = 1;
    struct client_target target;
    struct client_req req;
    struct client_ops ops = {control_start, control_done};
    if (sock[0] != '/') {
        fprintf(stderr, "winnowadm control: control_socket \"%s\" is not a unix socket path\n", sock);
    } else if (client_target_parse(sock, 0, &target, &error) < 0) {
        fprintf(stderr, "winnowadm control: %s: %s\n", sock, error);
    } else {
        memset(&req, 0, sizeof(req));
        client_run(&req, 1, &target, 1, timeout, &ops, &call);
        if (req.status == 0 || req.body.len == 0)
            fprintf(stderr, "winnowadm control: %s: %s (is winnowd running, and are you root or "
                    "its user?)\n", sock, req.error ? req.error : "no answer");
        else
            rc = control_print(call.command, &req, json);
        free(req.error);
        buf_free(&req.out);
        buf_free(&req.body);
    }
    if (cfg != NULL)
        config_free(&cfg);
    arena_free(&a);
    return rc;
}
