/*
 * winnowadm: administration commands (rspamadm's counterpart).
 *
 *   winnowadm [--var NAME=VALUE ...] [-v] COMMAND [command options]
 *
 * Each command is one row of `admin_commands` (name, one-line help, usage,
 * handler): dkim_keygen, control and doctor slot in as new rows and files.
 * configtest and configdump load the configuration exactly as winnowd does
 * (config_load, then modules_configure), so "syntax OK" here means the daemon
 * will start on it.  pw lives in adm_pw.c.  Exit status: 0 on success, 1 on
 * failure or a usage error.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/adm.h"
#include "conf/conf.h"
#include "conf/settings.h"
#include "core/buf.h"
#include "modules/pipeline.h"

static int cmd_help(struct adm_ctx *ctx, int argc, char **argv);
static int cmd_configtest(struct adm_ctx *ctx, int argc, char **argv);
static int cmd_configdump(struct adm_ctx *ctx, int argc, char **argv);

static const struct adm_command admin_commands[] = {
    {"configtest", "Perform configuration file test",
     "configtest [-c FILE] [-q] [-s]", cmd_configtest},
    {"configdump", "Perform configuration file dump",
     "configdump [-c FILE] [-j|--json] [-C|--compact] [-m] [SECTION ...]", cmd_configdump},
    {"pw", "Manage winnow passwords",
     "pw [-e] [-p PASSWORD] | pw --check HASH [-p PASSWORD] | pw -c -p HASH", adm_cmd_pw},
    {"dkim_keygen", "Create DKIM key pair and print the DNS record",
     "dkim_keygen -s SELECTOR [-d DOMAIN] [-b BITS] [-t rsa|ed25519] [-k FILE] [-f]",
     adm_cmd_dkim_keygen},
    {"control", "Ask the running daemon for its status or to reload",
     "control [-c FILE] [-s SOCKET] [-t SECONDS] [-j] stat|reload", adm_cmd_control},
    {"help", "Shows help for commands", "help [COMMAND]", cmd_help},
};

#define N_COMMANDS (sizeof(admin_commands) / sizeof(admin_commands[0]))

static const struct adm_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(admin_commands[i].name, name) == 0)
            return &admin_commands[i];
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: winnowadm [--var NAME=VALUE ...] [-v] command [command_options]\n\n"
               "Available commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-18s %s\n", admin_commands[i].name, admin_commands[i].help);
}

static int cmd_help(struct adm_ctx *ctx, int argc, char **argv)
{
    const struct adm_command *cmd = argc > 1 ? find_command(argv[1]) : NULL;

    (void)ctx;
    if (argc > 1 && cmd == NULL) {
        fprintf(stderr, "winnowadm: unknown command '%s'\n", argv[1]);
        return 1;
    }
    if (cmd != NULL)
        printf("Usage: winnowadm %s\n%s\n", cmd->usage, cmd->help);
    else
        usage(stdout);
    return 0;
}

/* Loads and checks the configuration as the daemon would; NULL with the
 * reason in *error_r. */
struct config *adm_load(struct adm_ctx *ctx, const char *path, bool with_modules,
                        const char **error_r)
{
    struct config_load_opts opts = {path != NULL ? path : ADM_DEFAULT_CONFIG, ctx->vars};
    struct config *cfg = config_load(&opts, error_r);

    if (cfg != NULL && with_modules && modules_configure(cfg, error_r) < 0)
        config_free(&cfg);
    return cfg;
}

static int cmd_configtest(struct adm_ctx *ctx, int argc, char **argv)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'}, {"quiet", no_argument, NULL, 'q'},
        {"strict", no_argument, NULL, 's'},       {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *error = NULL;
    bool quiet = false;
    struct config *cfg;
    int c;

    while ((c = getopt_long(argc, argv, "c:qsT", lo, NULL)) != -1) {
        if (c == 'c')
            path = optarg;
        else if (c == 'q')
            quiet = true;
        else if (c != 's' && c != 'T')
            return adm_usage_error(admin_commands[0].usage);
    }
    cfg = adm_load(ctx, path, true, &error);
    if (cfg == NULL) {
        if (!quiet)
            printf("%s\nsyntax BAD\n", error != NULL ? error : "failed to load config");
        return 1;
    }
    config_free(&cfg);
    if (!quiet)
        printf("syntax OK\n");
    return 0;
}

enum dump_format { DUMP_UCL, DUMP_JSON, DUMP_COMPACT };

/* conf_emit_ucl() of an object starts with "{" when it prints braces; a
 * section is shown by rspamadm as its bare members, so strip one level. */
static void emit_members_ucl(const struct conf_obj *obj, struct buf *out)
{
    struct buf tmp = BUF_INIT;

    conf_emit_ucl(obj, &tmp);
    if (obj->type == CONF_OBJECT && tmp.len >= 2 && tmp.data[0] == '{') {
        size_t end = tmp.len;
        while (end > 0 && (tmp.data[end - 1] == '\n' || tmp.data[end - 1] == ' '))
            end--;
        if (end > 0 && tmp.data[end - 1] == '}')
            end--;
        adm_dedent(out, tmp.data + 1, end - 1);
    } else {
        buf_append(out, tmp.data, tmp.len);
    }
    buf_free(&tmp);
}

static void dump_obj(const struct conf_obj *obj, enum dump_format fmt, struct buf *out)
{
    if (fmt == DUMP_UCL) {
        emit_members_ucl(obj, out);
    } else {
        conf_emit_json(obj, out, fmt == DUMP_JSON);
        if (out->len == 0 || out->data[out->len - 1] != '\n')
            buf_putc(out, '\n');
    }
}

static void dump_section(const struct config *cfg, const char *name, enum dump_format fmt,
                         struct buf *out)
{
    const struct conf_obj *s = config_section(cfg, name);

    if (s == NULL) {
        buf_printf(out, "Section %s NOT FOUND\n", name);
        return;
    }
    if (fmt == DUMP_UCL)
        buf_printf(out, "*** Section %s ***\n", name);
    dump_obj(s, fmt, out);
    if (fmt == DUMP_UCL) {
        if (out->len > 0 && out->data[out->len - 1] != '\n')
            buf_putc(out, '\n');
        buf_printf(out, "\n*** End of section %s ***\n", name);
    }
}

static int cmd_configdump(struct adm_ctx *ctx, int argc, char **argv)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {"compact", no_argument, NULL, 'C'},      {"modules-state", no_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *error = NULL;
    enum dump_format fmt = DUMP_UCL;
    bool modules = false;
    struct buf out = BUF_INIT;
    struct config *cfg;
    int c;

    while ((c = getopt_long(argc, argv, "c:jCm", lo, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'j': fmt = DUMP_JSON; break;
        case 'C': fmt = DUMP_COMPACT; break;
        case 'm': modules = true; break;
        default: return adm_usage_error(admin_commands[1].usage);
        }
    }
    cfg = adm_load(ctx, path, modules, &error);
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", error != NULL ? error : "failed to load config");
        return 1;
    }
    if (modules)
        buf_printf(&out, "%s\n", modules_describe(cfg));
    else if (optind >= argc)
        dump_obj(cfg->root, fmt, &out);
    for (int i = optind; i < argc; i++)
        dump_section(cfg, argv[i], fmt, &out);
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    config_free(&cfg);
    return 0;
}

int adm_usage_error(const char *usage_line)
{
    fprintf(stderr, "Usage: winnowadm %s\n", usage_line);
    return 1;
}

/* Removes up to four leading spaces (one UCL indent level) from each line. */
void adm_dedent(struct buf *out, const char *p, size_t len)
{
    size_t i = 0;

    while (i < len && p[i] == '\n')      /* the newline after "{" */
        i++;
    while (i < len) {
        const char *nl = memchr(p + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - p) + 1 : len;
        size_t skip = 0;
        while (skip < 4 && i + skip < end && p[i + skip] == ' ')
            skip++;
        buf_append(out, p + i + skip, end - i - skip);
        i = end;
    }
}

/* Global options come before the command, as with rspamadm. */
static int parse_global(struct adm_ctx *ctx, int argc, char **argv, int *first_r)
{
    int i = 1;
    size_t nvars = 0;

    ctx->vars = calloc((size_t)argc + 1, sizeof(*ctx->vars));
    if (ctx->vars == NULL)
        abort();
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--var") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--var=", 6) == 0)
            v = argv[i] + 6;
        else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            ctx->verbose = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ||
                 strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "--list-commands") == 0)
            return 0;
        else
            return adm_usage_error("[--var NAME=VALUE ...] [-v] command [command_options]");
        if (v != NULL && strchr(v, '=') == NULL)
            return adm_usage_error("--var NAME=VALUE");
        if (v != NULL)
            ctx->vars[nvars++] = v;
    }
    *first_r = i;
    return 0;
}

int main(int argc, char **argv)
{
    struct adm_ctx ctx = {0};
    const struct adm_command *cmd;
    int first = argc, rc;

    if (parse_global(&ctx, argc, argv, &first) != 0) {
        free(ctx.vars);
        return 1;
    }
    if (first >= argc) {
        usage(first == argc && argc > 1 ? stdout : stderr);
        free(ctx.vars);
        return argc > 1 ? 0 : 1;
    }
    cmd = find_command(argv[first]);
    if (cmd == NULL) {
        fprintf(stderr, "winnowadm: unknown command '%s'\n", argv[first]);
        usage(stderr);
        free(ctx.vars);
        return 1;
    }
    optind = 1;                          /* each command parses its own options */
    rc = cmd->run(&ctx, argc - first, argv + first);
    free(ctx.vars);
    return rc;
}
