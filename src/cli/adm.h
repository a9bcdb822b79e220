#ifndef WINNOW_CLI_ADM_H
#define WINNOW_CLI_ADM_H
/*
 * Shared by winnowadm's command files: the command table row and the global
 * context.  A new command (dkim_keygen, control, doctor) is a handler in its
 * own adm_NAME.c plus one row in winnowadm.c.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define ADM_DEFAULT_CONFIG "/etc/winnow/winnow.conf"

struct adm_ctx {
    const char **vars;           /* "NAME=VALUE" from --var, NULL-terminated */
    bool verbose;
};

struct adm_command {
    const char *name;
    const char *help;            /* one line, for `winnowadm help` */
    const char *usage;           /* after "winnowadm " */
    /* argv[0] is the command name; getopt's optind is reset to 1. */
    int (*run)(struct adm_ctx *ctx, int argc, char **argv);
};

int adm_usage_error(const char *usage_line);
void adm_dedent(struct buf *out, const char *p, size_t len);

int adm_cmd_pw(struct adm_ctx *ctx, int argc, char **argv);
int adm_cmd_dkim_keygen(struct adm_ctx *ctx, int argc, char **argv);
int adm_cmd_control(struct adm_ctx *ctx, int argc, char **argv);

struct config;
/* Loads and checks the configuration as the daemon would (with_modules:
 * configures the modules too); NULL with the reason in *error_r. */
struct config *adm_load(struct adm_ctx *ctx, const char *path, bool with_modules,
                        const char **error_r);

#endif
