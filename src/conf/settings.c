/*
 * The configuration snapshot: config_load() sets the path variables
 * ($CONFDIR, $LOCAL_CONFDIR, $DBDIR, $RUNDIR, $LOGDIR, $WWWDIR, overridable
 * with NAME=VALUE), parses the main file with its includes, and fills the
 * typed settings of options{}, logging{}, actions{} and the workers.  All of
 * it lives in one arena owned by struct config and goes with config_free().
 * A wrong type or value stops the load with "FILE:LINE: KEY: problem";
 * unknown keys are kept in the tree (modules and workers read their own).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_private.h"
#include "conf/settings_private.h"
#include "core/arena.h"
#include "core/netaddr.h"

#define OPT(field) offsetof(struct options_conf, field)

static const struct setting_row option_rows[] = {
    {"task_timeout", SET_TIME, OPT(task_timeout), 8, NULL, 0.001, 86400,
     "seconds a scan may run; checks still pending then are recorded as timed out"},
    {"max_message", SET_SIZE, OPT(max_message), 50.0 * 1024 * 1024, NULL, 1024, 2147483647.0,
     "largest message accepted for scanning, in bytes (larger ones get 413)"},
    {"max_header_size", SET_SIZE, OPT(max_header_size), 65536, NULL, 1024, 16.0 * 1024 * 1024,
     "largest HTTP request header block, in bytes"},
    {"request_timeout", SET_TIME, OPT(request_timeout), 60, NULL, 0.001, 86400,
     "seconds within which a whole HTTP request must arrive"},
    {"enable_test_patterns", SET_BOOL, OPT(enable_test_patterns), 0, NULL, 0, 1,
     "also honour the YJS/ZJS/AJS variants of the GTUBE test string"},
    {"control_socket", SET_STRING, OPT(control_socket), 0, "$DBDIR/winnow.sock mode=0600", 0, 0,
     "unix socket of the main process for `winnowadm control`"},
    {"stats_file", SET_STRING, OPT(stats_file), 0, "$DBDIR/stats.ucl", 0, 0,
     "counters kept across restarts (\"\" = not kept)"},
    {"pidfile", SET_STRING, OPT(pidfile), 0, "$RUNDIR/winnowd.pid", 0, 0,
     "file the main process writes its pid to"},
    {"history_rows", SET_UINT, OPT(history_rows), 200, NULL, 0, 100000,
     "scan results kept for the controller's history"},
};

const struct setting_row *settings_option_rows(size_t *n_r)
{
    *n_r = sizeof(option_rows) / sizeof(option_rows[0]);
    return option_rows;
}

const char *settings_error(struct config *cfg, const struct conf_obj *v, const char *key,
                           const char *problem)
{
    if (v == NULL)
        return arena_printf(cfg->arena, "%s: %s: %s", cfg->path, key, problem);
    return arena_printf(cfg->arena, "%s:%u: %s: %s", v->file ? v->file : cfg->path, v->line,
                        key, problem);
}

int settings_each_block(const struct conf_obj *root, const char *name,
                        int (*fn)(struct config *, const struct conf_obj *, const char **),
                        struct config *cfg, const char **error_r)
{
    const struct conf_obj *sec = conf_get(root, name);
    if (sec != NULL && !(sec->type == CONF_ARRAY && sec->implicit))
        return fn(cfg, sec, error_r);
    for (const struct conf_obj *e = conf_each_first(sec); e; e = conf_each_next(sec, e))
        if (fn(cfg, e, error_r) < 0)
            return -1;
    return 0;
}

/* ---- options ---- */

static int option_row(struct config *cfg, const struct conf_obj *sec, const struct setting_row *r,
                      const char **error_r)
{
    char *field = (char *)&cfg->options + r->offset;
    const struct conf_obj *v = conf_first(conf_get(sec, r->name));
    double d = 0;
    uint64_t u = 0;
    int64_t i = 0;
    int rc = 0;
    switch (r->type) {
    case SET_TIME:
        rc = conf_get_time(sec, r->name, *(double *)field, &d, error_r);
        *(double *)field = d;
        break;
    case SET_SIZE:
        rc = conf_get_size(sec, r->name, *(uint64_t *)field, &u, error_r);
        *(uint64_t *)field = u;
        d = (double)u;
        break;
    case SET_UINT:
        rc = conf_get_int(sec, r->name, *(unsigned *)field, &i, error_r);
        d = (double)i;
        if (rc == 0 && d >= r->min && d <= r->max)
            *(unsigned *)field = (unsigned)i;
        break;
    case SET_BOOL:
        return conf_get_bool(sec, r->name, *(bool *)field, (bool *)field, error_r);
    case SET_STRING:
        return conf_get_string(sec, r->name, *(const char **)field, (const char **)field, error_r);
    }
    if (rc < 0)
        return -1;
    if (v != NULL && (d < r->min || d > r->max)) {
        *error_r = settings_error(cfg, v, r->name,
                                  arena_printf(cfg->arena, "out of range (%g .. %g)", r->min, r->max));
        return -1;
    }
    return 0;
}

static int add_netmask(struct config *cfg, const char *p, size_t len, const char **why_r)
{
    struct netmask m;
    if (netmask_parse(p, len, &m) < 0) {
        bool url = (len > 7 && !strncmp(p, "http://", 7)) || (len > 8 && !strncmp(p, "https://", 8));
        *why_r = url ? "HTTP maps are not supported: use a file or list the networks"
                     : arena_printf(cfg->arena, "'%.*s' is not an address or network", (int)len, p);
        return -1;
    }
    struct options_conf *o = &cfg->options;
    o->local_addrs = arena_realloc(cfg->arena, o->local_addrs, o->nlocal_addrs * sizeof(m),
                                   (o->nlocal_addrs + 1) * sizeof(m));
    o->local_addrs[o->nlocal_addrs++] = m;
    return 0;
}

/* Networks separated by commas and blanks in [p, end); '#' starts a comment
 * running to the end of the line (map files). */
static int add_netmask_list(struct config *cfg, const char *p, const char *end, unsigned *line_r,
                            const char **why_r)
{
    while (p < end) {
        if (*p == '#') {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            p = nl ? nl : end;
            continue;
        }
        if (*p == '\n' && line_r != NULL)
            (*line_r)++;
        if (strchr(", \t\r\n", *p) != NULL) {
            p++;
            continue;
        }
        const char *t = p;
        while (p < end && strchr(", \t\r\n#", *p) == NULL)
            p++;
        if (add_netmask(cfg, t, (size_t)(p - t), why_r) < 0)
            return -1;
    }
    return 0;
}

/* local_addrs = "/path" or "file:///path": one network per line (or several
 * separated by commas), '#' comments; read once, at load. */
static int local_addrs_file(struct config *cfg, const struct conf_obj *v, const char *path,
                            const char **error_r)
{
    char *data;
    size_t len;
    unsigned line = 1;
    const char *why = NULL;
    if (conf_read_file(cfg->arena, path, &data, &len) < 0) {
        *error_r = settings_error(cfg, v, "local_addrs",
                                  arena_printf(cfg->arena, "cannot read map %s: %s", path, strerror(errno)));
        return -1;
    }
    if (add_netmask_list(cfg, data, data + len, &line, &why) < 0) {
        *error_r = arena_printf(cfg->arena, "%s:%u: local_addrs: %s", path, line, why);
        return -1;
    }
    return 0;
}

/* A list, a comma/space separated string, a map file, or a mix (spec §8.6). */
static int local_addrs_from(struct config *cfg, const struct conf_obj *v, const char **error_r)
{
    if (v->type == CONF_ARRAY) {
        for (const struct conf_obj *e = v->v.list.head; e != NULL; e = e->next)
            if (local_addrs_from(cfg, e, error_r) < 0)
                return -1;
        return 0;
    }
    const char *s = conf_as_string(v), *why = NULL;
    if (s == NULL) {
        *error_r = settings_error(cfg, v, "local_addrs", "expected a list of networks");
        return -1;
    }
    if (s[0] == '/' || !strncmp(s, "file://", 7))
        return local_addrs_file(cfg, v, s[0] == '/' ? s : s + 7, error_r);
    if (add_netmask_list(cfg, s, s + v->v.str.len, NULL, &why) < 0) {
        *error_r = settings_error(cfg, v, "local_addrs", why);
        return -1;
    }
    return 0;
}

static int options_block(struct config *cfg, const struct conf_obj *sec, const char **error_r)
{
    size_t n;
    const struct setting_row *rows = settings_option_rows(&n);
    if (sec->type != CONF_OBJECT) {
        *error_r = settings_error(cfg, sec, "options", "expected a block { ... }");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (option_row(cfg, sec, &rows[i], error_r) < 0)
            return -1;
    const struct conf_obj *la = conf_get(sec, "local_addrs");
    if (la != NULL) {
        cfg->options.nlocal_addrs = 0;
        if (local_addrs_from(cfg, la, error_r) < 0)
            return -1;
    }
    return 0;
}

static int options_defaults(struct config *cfg, const char **error_r)
{
    static const char default_local[] =
        "192.168.0.0/16, 10.0.0.0/8, 172.16.0.0/12, fd00::/8, 169.254.0.0/16, fe80::/10";
    size_t n;
    const struct setting_row *rows = settings_option_rows(&n);
    struct conf_obj *def = conf_new_string(cfg->arena, default_local, sizeof(default_local) - 1);
    for (size_t i = 0; i < n; i++) {
        char *field = (char *)&cfg->options + rows[i].offset;
        switch (rows[i].type) {
        case SET_TIME: *(double *)field = rows[i].def; break;
        case SET_SIZE: *(uint64_t *)field = (uint64_t)rows[i].def; break;
        case SET_UINT: *(unsigned *)field = (unsigned)rows[i].def; break;
        case SET_BOOL: *(bool *)field = rows[i].def != 0; break;
        case SET_STRING: {
            size_t len;
            *(const char **)field = conf_expand_vars(cfg->arena, cfg->vars, rows[i].def_str,
                                                     strlen(rows[i].def_str), &len);
            break;
        }
        }
    }
    return local_addrs_from(cfg, def, error_r);
}

/* ---- logging ---- */

static int debug_modules(struct config *cfg, const struct conf_obj *v, const char **error_r)
{
    size_t n = 0, cap = 8;
    const char **mods = ARENA_NEW_N(cfg->arena, const char *, cap + 1);
    for (const struct conf_obj *e = conf_each_first(v); e; e = conf_each_next(v, e)) {
        const char *s = conf_as_string(e);
        if (s == NULL) {
            *error_r = settings_error(cfg, e, "debug_modules", "expected module names");
            return -1;
        }
        while (*s != '\0') {
            size_t len = strcspn(s, ", \t");
            if (len > 0) {
                if (n == cap) {
                    mods = arena_realloc(cfg->arena, mods, (cap + 1) * sizeof(*mods),
                                         (cap * 2 + 1) * sizeof(*mods));
                    cap *= 2;
                }
                mods[n++] = arena_strndup(cfg->arena, s, len);
            }
            s += len;
            s += strspn(s, ", \t");
        }
    }
    mods[n] = NULL;
    cfg->logging.debug_modules = mods;
    return 0;
}

static int logging_block(struct config *cfg, const struct conf_obj *sec, const char **error_r)
{
    struct log_settings *l = &cfg->logging;
    const char *type = NULL, *level = NULL;
    if (conf_get_string(sec, "type", NULL, &type, error_r) < 0 ||
        conf_get_string(sec, "level", NULL, &level, error_r) < 0 ||
        conf_get_string(sec, "filename", l->filename, &l->filename, error_r) < 0 ||
        conf_get_string(sec, "facility", l->facility, &l->facility, error_r) < 0 ||
        conf_get_bool(sec, "color", l->color, &l->color, error_r) < 0)
        return -1;
    if (type != NULL) {
        if (!strcmp(type, "console"))
            l->type = LOG_TYPE_CONSOLE;
        else if (!strcmp(type, "file"))
            l->type = LOG_TYPE_FILE;
        else if (!strcmp(type, "syslog"))
            l->type = LOG_TYPE_SYSLOG;
        else {
            *error_r = settings_error(cfg, conf_first(conf_get(sec, "type")), "type",
                                      "expected console, file or syslog");
            return -1;
        }
    }
    if (level != NULL && log_level_parse(level, &l->level) < 0) {
        *error_r = settings_error(cfg, conf_first(conf_get(sec, "level")), "level",
                                  "expected error, warning, notice, info, silent or debug");
        return -1;
    }
    const struct conf_obj *dm = conf_get(sec, "debug_modules");
    if (dm != NULL && debug_modules(cfg, dm, error_r) < 0)
        return -1;
    return 0;
}

static int logging_check(struct config *cfg, const char **error_r)
{
    if (cfg->logging.type == LOG_TYPE_FILE && cfg->logging.filename == NULL) {
        *error_r = settings_error(cfg, conf_first(conf_get(cfg->root, "logging")), "logging",
                                  "type = \"file\" needs a filename");
        return -1;
    }
    if (cfg->logging.facility == NULL)
        cfg->logging.facility = "mail";
    return 0;
}

/* ---- variables ---- */

/* Directory variables are made absolute: includes resolve relative paths
 * against the including file, not the working directory. */
static const char *absolute(struct arena *arena, const char *path)
{
    char cwd[PATH_MAX], real[PATH_MAX];
    if (path[0] == '/')
        return path;
    if (realpath(path, real) != NULL)
        return arena_strdup(arena, real);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return path;
    return arena_printf(arena, "%s/%s", cwd, path);
}

static int set_vars(struct config *cfg, const struct config_load_opts *opts, const char **error_r)
{
    static const char *const dirs[] = {"CONFDIR", "LOCAL_CONFDIR", "DBDIR", "RUNDIR", "LOGDIR", "WWWDIR"};
    const char *confdir = absolute(cfg->arena, conf_dirname(cfg->arena, cfg->path));
    cfg->vars = conf_vars_new(cfg->arena);
    conf_vars_set(cfg->vars, "CONFDIR", confdir);
    conf_vars_set(cfg->vars, "LOCAL_CONFDIR", confdir);
    conf_vars_set(cfg->vars, "DBDIR", "/var/lib/winnow");
    conf_vars_set(cfg->vars, "RUNDIR", "/run/winnow");
    conf_vars_set(cfg->vars, "LOGDIR", "/var/log/winnow");
    conf_vars_set(cfg->vars, "WWWDIR", WINNOW_WWWDIR);
    for (const char **v = opts->vars; v != NULL && *v != NULL; v++) {
        const char *eq = strchr(*v, '=');
        if (eq == NULL || eq == *v) {
            *error_r = arena_printf(cfg->arena, "variable '%s': expected NAME=VALUE", *v);
            return -1;
        }
        conf_vars_set(cfg->vars, arena_strndup(cfg->arena, *v, (size_t)(eq - *v)), eq + 1);
    }
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        conf_vars_set(cfg->vars, dirs[i], absolute(cfg->arena, conf_vars_get(cfg->vars, dirs[i])));
    struct options_conf *o = &cfg->options;
    o->confdir = conf_vars_get(cfg->vars, "CONFDIR");
    o->local_confdir = conf_vars_get(cfg->vars, "LOCAL_CONFDIR");
    o->dbdir = conf_vars_get(cfg->vars, "DBDIR");
    o->rundir = conf_vars_get(cfg->vars, "RUNDIR");
    o->logdir = conf_vars_get(cfg->vars, "LOGDIR");
    return 0;
}

/* ---- load ---- */

static int actions_block(struct config *cfg, const struct conf_obj *sec, const char **error_r)
{
    return settings_actions(cfg, sec, error_r);
}

static int build(struct config *cfg, const struct config_load_opts *opts, const char **error_r)
{
    struct conf_parse_opts po = {.vars = NULL};
    if (set_vars(cfg, opts, error_r) < 0)
        return -1;
    po.vars = cfg->vars;
    if ((cfg->root = conf_parse_file(cfg->arena, cfg->path, &po, error_r)) == NULL)
        return -1;
    if (cfg->root->type != CONF_OBJECT) {
        *error_r = arena_printf(cfg->arena, "%s: the top level must hold keys, not an array", cfg->path);
        return -1;
    }
    cfg->logging.type = LOG_TYPE_CONSOLE;
    cfg->logging.level = LOG_LVL_INFO;
    actions_init_defaults(&cfg->actions);
    if (options_defaults(cfg, error_r) < 0 ||
        settings_each_block(cfg->root, "options", options_block, cfg, error_r) < 0 ||
        settings_each_block(cfg->root, "logging", logging_block, cfg, error_r) < 0 ||
        logging_check(cfg, error_r) < 0 ||
        settings_each_block(cfg->root, "actions", actions_block, cfg, error_r) < 0 ||
        settings_workers(cfg, error_r) < 0)
        return -1;
    return 0;
}

struct config *config_load(const struct config_load_opts *opts, const char **error_r)
{
    static const struct config_load_opts none = {NULL, NULL};
    struct arena *arena = arena_new(0);
    struct config *cfg = ARENA_NEW(arena, struct config);
    const char *err = NULL;
    if (opts == NULL)
        opts = &none;
    cfg->arena = arena;
    cfg->path = arena_strdup(arena, opts->path ? opts->path : "etc/winnow.conf");
    if (build(cfg, opts, &err) < 0) {
        /* The message lives in the arena we are about to free. */
        static __thread char msg[1024];
        snprintf(msg, sizeof(msg), "%s", err ? err : "configuration error");
        *error_r = msg;
        arena_free(&arena);
        return NULL;
    }
    return cfg;
}

void config_free(struct config **cfg)
{
    if (cfg == NULL || *cfg == NULL)
        return;
    struct arena *arena = (*cfg)->arena;
    *cfg = NULL;
    arena_free(&arena);
}

bool config_is_local_addr(const struct config *cfg, const struct netaddr *a)
{
    if (a == NULL || a->family == 0)
        return false;
    if (netaddr_is_loopback(a))
        return true;
    for (size_t i = 0; i < cfg->options.nlocal_addrs; i++)
        if (netmask_match(&cfg->options.local_addrs[i], a))
            return true;
    return false;
}

const struct conf_obj *config_section(const struct config *cfg, const char *name)
{
    const struct conf_obj *s = conf_get(cfg->root, name);
    if (s == NULL && strchr(name, '.') != NULL)
        s = conf_get_path(cfg->root, name);
    return s;
}
