#ifndef WINNOW_CONF_SETTINGS_H
#define WINNOW_CONF_SETTINGS_H
/*
 * The configuration snapshot: the merged configuration tree plus the typed
 * global settings (options, logging, actions, workers).  Built once in the
 * main process by config_load(); workers inherit it across fork.  A reload
 * builds a new snapshot; a broken file leaves the old one in place.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/actions.h"
#include "core/log.h"
#include "core/netaddr.h"

struct arena;
struct conf_obj;
struct conf_vars;
struct symtab;

enum worker_type { WORKER_NORMAL = 0, WORKER_CONTROLLER, WORKER_PROXY, WORKER_FUZZY, WORKER_TYPE_COUNT };

struct bind_spec {
    bool is_unix;
    const char *host;            /* TCP: "127.0.0.1", "::1", "*", "*v4", "*v6", "localhost" */
    uint16_t port;
    const char *path;            /* unix */
    unsigned mode;               /* unix, default 0644 */
    const char *owner, *group;   /* unix, may be NULL */
    const char *text;            /* as written, for messages */
};

struct worker_conf {
    enum worker_type type;
    const char *name;            /* "normal", "controller", "rspamd_proxy" */
    struct bind_spec *binds;
    size_t nbinds;
    int count;                   /* -1 = disabled */
    bool enabled;
    double timeout;              /* I/O timeout */
    double task_timeout;         /* NAN = global */
    unsigned max_tasks;          /* 0 = unlimited */
    const struct conf_obj *section; /* the whole worker block, for worker-specific keys */
};

struct options_conf {
    double task_timeout;         /* 8 s */
    uint64_t max_message;        /* 50 MiB */
    uint64_t max_header_size;    /* HTTP request header bytes, 64 KiB */
    double request_timeout;      /* HTTP: whole request must arrive within, 60 s */
    struct netmask *local_addrs;
    size_t nlocal_addrs;
    bool enable_test_patterns;
    const char *control_socket;
    const char *stats_file;
    const char *pidfile;
    const char *dbdir, *rundir, *confdir, *local_confdir, *logdir;
    unsigned history_rows;
};

struct config {
    struct arena *arena;
    const char *path;            /* main file */
    struct conf_obj *root;
    struct conf_vars *vars;
    struct options_conf options;
    struct log_settings logging;
    struct actions actions;
    struct worker_conf *workers;
    size_t nworkers;
    const char *user, *group;    /* from -u/-g */
    struct symtab *symtab;       /* filled by modules_configure() */
    void *modules;               /* modules' contexts, owned by modules/registry.c */
};

struct config_load_opts {
    const char *path;            /* default "etc/winnow.conf" */
    const char **vars;           /* "NAME=VALUE", NULL-terminated, may be NULL */
};

/* Parses and validates; NULL with *error_r naming file, line and problem
 * (the message is in a per-thread buffer, valid until the next call).  The
 * variables (CONFDIR, LOCAL_CONFDIR = directory of the main file; DBDIR
 * /var/lib/winnow, RUNDIR /run/winnow, LOGDIR /var/log/winnow, WWWDIR) may be
 * overridden by opts->vars; directory variables are made absolute. */
struct config *config_load(const struct config_load_opts *opts, const char **error_r);
void config_free(struct config **cfg);

/* Parses one bind_socket value. */
int bind_spec_parse(struct arena *arena, const char *text, uint16_t default_port,
                    struct bind_spec *spec_r, const char **error_r);

bool config_is_local_addr(const struct config *cfg, const struct netaddr *a);

/* The effective section named like configdump's argument ("actions",
 * "options", "worker", "redis", a module name ...), or NULL. */
const struct conf_obj *config_section(const struct config *cfg, const char *name);

#endif
