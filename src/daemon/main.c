/*
 * winnowd: command line, configuration test (-t), then the main process
 * (supervisor.c).  Owns the argument copies and the first configuration
 * snapshot until the supervisor takes it.  Refuses to start with a
 * configuration that does not load or whose modules do not configure: the
 * error names file, line and problem.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/settings.h"
#include "core/arena.h"
#include "core/log.h"
#include "daemon/proctitle.h"
#include "daemon/supervisor.h"
#include "mime/message.h"
#include "modules/pipeline.h"

#define DEFAULT_CONFIG "/etc/winnow/winnow.conf"
#define MAX_VARS 64

struct args {
    const char *config;
    bool foreground, test;
    const char *user, *group, *pidfile;
    const char *vars[MAX_VARS + 1];
    size_t nvars;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: winnowd [-f] [-t] [-c FILE] [-u USER] [-g GROUP] [-p PIDFILE]\n"
            "               [--var NAME=VALUE]... [-v]\n"
            "  -c, --config FILE     configuration (default " DEFAULT_CONFIG ")\n"
            "  -f, --no-fork         stay in the foreground\n"
            "  -t, --config-test     check the configuration: syntax OK / syntax BAD\n"
            "  -u, --user USER       run workers as USER (when started as root)\n"
            "  -g, --group GROUP     and GROUP\n"
            "  -p, --pid FILE        write the main process id to FILE\n"
            "      --var NAME=VALUE  set a configuration variable ($NAME)\n"
            "  -v, --version         print the version\n");
}

/* Returns -1 to exit 2 (usage error), 1 to exit 0 (printed something). */
static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"no-fork", no_argument, NULL, 'f'},
        {"config-test", no_argument, NULL, 't'},  {"user", required_argument, NULL, 'u'},
        {"group", required_argument, NULL, 'g'},  {"pid", required_argument, NULL, 'p'},
        {"var", required_argument, NULL, 'V'},    {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;

    a->config = DEFAULT_CONFIG;
    while ((c = getopt_long(argc, argv, "c:ftu:g:p:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'f': a->foreground = true; break;
        case 't': a->test = true; break;
        case 'u': a->user = optarg; break;
        case 'g': a->group = optarg; break;
        case 'p': a->pidfile = optarg; break;
        case 'V':
            if (strchr(optarg, '=') == NULL || a->nvars >= MAX_VARS) {
                fprintf(stderr, "winnowd: --var wants NAME=VALUE (at most %d)\n", MAX_VARS);
                return -1;
            }
            a->vars[a->nvars++] = optarg;
            break;
        case 'v': printf("winnowd version %s\n", WINNOW_VERSION); return 1;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "winnowd: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* Loads and configures; prints the problem to stderr and returns NULL. */
static struct config *load_config(const struct config_load_opts *lo, bool test)
{
    const char *error = NULL;
    struct config *cfg = config_load(lo, &error);

    if (cfg != NULL && modules_configure(cfg, &error) < 0)
        config_free(&cfg);
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", error ? error : "configuration error");
        fprintf(stderr, test ? "syntax BAD\n" : "winnowd: cannot start\n");
    }
    return cfg;
}

int main(int argc, char **argv)
{
    static struct args a;
    static struct supervisor_opts so;
    struct config *cfg;
    const char *error = NULL;
    int rc;

    proctitle_init(argc, argv);
    rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    /* Relative paths must survive the chdir("/") of daemonizing and
     * reloads; realpath() would also resolve symlinks, which is fine. */
    char *abs = realpath(a.config, NULL);
    so.load.path = abs != NULL ? abs : a.config;
    so.load.vars = a.vars;

    mime_global_init();
    log_set_process("main");
    cfg = load_config(&so.load, a.test);
    if (cfg == NULL)
        return 1;
    if (a.test) {
        printf("syntax OK\n");
        config_free(&cfg);
        free(abs);
        return 0;
    }
    if (log_configure(&cfg->logging, &error) < 0) {
        fprintf(stderr, "winnowd: logging: %s\n", error ? error : "?");
        config_free(&cfg);
        return 1;
    }
    so.user = a.user;
    so.group = a.group;
    so.pidfile = a.pidfile ? a.pidfile : cfg->options.pidfile;
    so.pidfile_explicit = a.pidfile != NULL;
    so.foreground = a.foreground;
    rc = supervisor_run(cfg, &so);
    free(abs);
    return rc;
}
