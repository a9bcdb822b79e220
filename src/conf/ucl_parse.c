/*
 * UCL grammar on top of ucl_lex.c: objects (`key = value;`, `key: value`,
 * `key value`, `key { }`), named sections (`worker "normal" { }` becomes
 * worker -> { normal -> { } }, as libucl does), arrays, and the .include /
 * .try_include macros with try, priority, duplicate and glob.  Each
 * included file is parsed into its own object and then inserted into the
 * including object with the include's priority and duplicate policy
 * (conf_obj_insert); a local.d file that wraps its content in the section's
 * own name (`actions { ... }` inside local.d/actions.conf) is unwrapped.
 * Limits: nesting depth (objects and arrays, across includes), include
 * depth, file size.  Recursion always carries the depth counter, so no input
 * can exhaust the stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf_private.h"
#include "core/arena.h"

static int parse_value(struct conf_lexer *lx, const char *key, struct conf_obj **v_r,
                       bool *container_r);
static int parse_object_body(struct conf_lexer *lx, struct conf_obj *obj, const char *objkey,
                             bool braced);

static struct conf_obj *node_new(struct conf_lexer *lx, enum conf_type type, unsigned line,
                                 unsigned col)
{
    struct conf_obj *o = conf_new(lx->arena, type);
    o->priority = lx->priority;
    o->file = lx->name;
    o->line = line;
    o->col = col;
    return o;
}

static int depth_push(struct conf_lexer *lx)
{
    if (++lx->depth > lx->max_depth)
        return lex_error(lx, "objects and arrays nested deeper than %u levels", lx->max_depth);
    return 0;
}

/* After a value: a newline, comment, ';' or ',' must follow, unless the value
 * was a block or the enclosing block ends here. */
static int after_value(struct conf_lexer *lx, bool container, char closing)
{
    bool sep = container;
    if (lex_skip_space(lx, &sep) < 0)
        return -1;
    if (lx->p < lx->end && (*lx->p == ';' || *lx->p == ',')) {
        lex_adv(lx, 1);
        return 0;
    }
    if (sep || lx->p >= lx->end || *lx->p == closing)
        return 0;
    return lex_error(lx, "delimiter is missing: expected ';', ',' or a new line");
}

static int parse_array_body(struct conf_lexer *lx, struct conf_obj *arr)
{
    for (;;) {
        if (lex_skip_space(lx, NULL) < 0)
            return -1;
        if (lx->p >= lx->end)
            return lex_error(lx, "unexpected end of file: missing ']'");
        if (*lx->p == ']') {
            lex_adv(lx, 1);
            return 0;
        }
        struct conf_obj *v;
        bool container;
        if (parse_value(lx, NULL, &v, &container) < 0)
            return -1;
        conf_array_append(arr, v);
        if (after_value(lx, container, ']') < 0)
            return -1;
    }
}

static int parse_block(struct conf_lexer *lx, const char *key, struct conf_obj *v, bool array)
{
    if (depth_push(lx) < 0)
        return -1;
    lex_adv(lx, 1);
    int r = array ? parse_array_body(lx, v) : parse_object_body(lx, v, key, true);
    lx->depth--;
    return r;
}

static int parse_value(struct conf_lexer *lx, const char *key, struct conf_obj **v_r,
                       bool *container_r)
{
    if (lex_skip_space(lx, NULL) < 0)
        return -1;
    if (lx->p >= lx->end)
        return lex_error(lx, "unexpected end of file: a value is expected");
    unsigned line = lx->line, col = lex_col(lx);
    struct conf_obj *v;
    int r;
    *container_r = false;
    switch (*lx->p) {
    case '{':
    case '[':
        v = node_new(lx, *lx->p == '{' ? CONF_OBJECT : CONF_ARRAY, line, col);
        *container_r = true;
        if (parse_block(lx, key, v, v->type == CONF_ARRAY) < 0)
            return -1;
        break;
    case '"':
    case '\'':
        v = node_new(lx, CONF_STRING, line, col);
        r = *lx->p == '"' ? lex_dquoted(lx, true, (char **)&v->v.str.s, &v->v.str.len)
                          : lex_squoted(lx, (char **)&v->v.str.s, &v->v.str.len);
        if (r < 0)
            return -1;
        break;
    default:
        v = node_new(lx, CONF_STRING, line, col);
        r = lex_heredoc(lx, (char **)&v->v.str.s, &v->v.str.len);
        if (r < 0)
            return -1;
        if (r == 0) {
            if (lex_atom(lx, &v) < 0)
                return -1;
            v->priority = lx->priority;
            v->file = lx->name;
            v->line = line;
            v->col = col;
        }
        break;
    }
    *v_r = v;
    return 0;
}

/* libucl's rule for `key1 key2 ... { }`: with no '=' or ':' after a key,
 * another token followed by '{' or '[' on the same statement starts a named
 * section. */
static bool next_is_section(const struct conf_lexer *lx)
{
    const char *t = lx->p;
    if (t < lx->end && (*t == '{' || *t == '['))
        return false;
    while (t < lx->end) {
        char c = *t;
        if (c == ',' || c == ';' || c == '\n' || c == '\r' || c == '#')
            return false;
        if (c == '{' || c == '[')
            return true;
        if (c == '"' || c == '\'') {
            for (t++; t < lx->end && *t != c && *t != '\n'; t++)
                if (*t == '\\')
                    t++;
        }
        t++;
    }
    return false;
}

static int parse_key(struct conf_lexer *lx, char **key_r, size_t *len_r)
{
    if (*lx->p == '"')
        return lex_dquoted(lx, false, key_r, len_r);
    if (*lx->p == '\'')
        return lex_squoted(lx, key_r, len_r);
    return lex_key(lx, key_r, len_r);
}

/* One `key [=|:] value` (or `key name ... { }`) into container. */
static int parse_pair(struct conf_lexer *lx, struct conf_obj *container)
{
    unsigned line = lx->line, col = lex_col(lx);
    char *key;
    size_t keylen;
    bool got_sep = false, container_val = false;
    if (parse_key(lx, &key, &keylen) < 0)
        return -1;
    if (keylen == 0)
        return lex_error_at(lx, line, col, "empty keys are not allowed");
    if (lex_skip_space(lx, NULL) < 0)
        return -1;
    if (lx->p < lx->end && (*lx->p == '=' || *lx->p == ':')) {
        got_sep = true;
        lex_adv(lx, 1);
        if (lex_skip_space(lx, NULL) < 0)
            return -1;
    }
    if (lx->p >= lx->end)
        return lex_error(lx, "unfinished key '%s': a value is expected", key);
    struct conf_obj *v;
    if (!got_sep && next_is_section(lx)) {
        if (depth_push(lx) < 0)
            return -1;
        v = node_new(lx, CONF_OBJECT, line, col);
        if (parse_pair(lx, v) < 0)
            return -1;
        lx->depth--;
        container_val = true;
    } else if (parse_value(lx, key, &v, &container_val) < 0) {
        return -1;
    }
    v->line = line;
    v->col = col;
    const char *err = NULL;
    if (conf_obj_insert(lx->arena, container, key, keylen, v, lx->dup, &err) < 0)
        return lex_error_at(lx, line, col, "%s", err);
    return container_val ? 1 : 0;
}

/* ---- .include ---- */

struct include_params {
    bool try_, glob;
    unsigned priority;
    enum conf_dup dup;
};

static int param_bool(struct conf_lexer *lx, const char *k, const char *v, bool *b_r)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        *b_r = true;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0"))
        *b_r = false;
    else
        return lex_error(lx, "include parameter %s: expected true or false, not '%s'", k, v);
    return 0;
}

static int param_set(struct conf_lexer *lx, struct include_params *ip, const char *k, const char *v)
{
    if (!strcmp(k, "try"))
        return param_bool(lx, k, v, &ip->try_);
    if (!strcmp(k, "glob"))
        return param_bool(lx, k, v, &ip->glob);
    if (!strcmp(k, "priority")) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (*v == '\0' || *end != '\0' || n > 15)
            return lex_error(lx, "include parameter priority: expected 0..15, not '%s'", v);
        ip->priority = (unsigned)n;
        return 0;
    }
    if (!strcmp(k, "duplicate")) {
        static const char *const names[] = {"append", "merge", "rewrite", "error"};
        for (unsigned i = 0; i < 4; i++)
            if (!strcmp(v, names[i])) {
                ip->dup = (enum conf_dup)i;
                return 0;
            }
        return lex_error(lx, "include parameter duplicate: expected append, merge, rewrite or error, not '%s'", v);
    }
    return 0;   /* sign, prefix, ...: ignored, as libucl ignores unknown ones */
}

/* "(try=true,priority=1;duplicate=merge)"; the cursor is on '('. */
static int parse_params(struct conf_lexer *lx, struct include_params *ip)
{
    const char *close = memchr(lx->p, ')', (size_t)(lx->end - lx->p));
    if (close == NULL)
        return lex_error(lx, "missing ')' after the macro parameters");
    char *s = arena_strndup(lx->arena, lx->p + 1, (size_t)(close - lx->p - 1));
    char *save = NULL;
    for (char *tok = strtok_r(s, ",; \t\r\n", &save); tok; tok = strtok_r(NULL, ",; \t\r\n", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            return lex_error(lx, "macro parameter '%s' is not name=value", tok);
        *eq = '\0';
        char *v = eq + 1;
        size_t vl = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = '\0';
            v++;
        }
        if (param_set(lx, ip, tok, v) < 0)
            return -1;
    }
    lex_adv(lx, (size_t)(close - lx->p) + 1);
    return 0;
}

/* Unwrap `NAME { ... }` when it is all an included file holds and NAME is the
 * key of the block it is included into. */
static struct conf_obj *unwrap_section(struct conf_obj *top, const char *objkey)
{
    struct conf_obj *h = top->v.list.head;
    if (objkey != NULL && top->v.list.n == 1 && h->type == CONF_OBJECT && !h->implicit &&
        strcmp(h->key, objkey) == 0)
        return h;
    return top;
}

static int include_file(struct conf_lexer *lx, struct conf_obj *obj, const char *objkey,
                        const char *path, const struct include_params *ip)
{
    char *data;
    size_t len;
    if (lx->include_depth + 1 > lx->max_include_depth)
        return lex_error(lx, "includes nested deeper than %u levels", lx->max_include_depth);
    if (conf_read_file(lx->arena, path, &data, &len) < 0) {
        if (errno == ENOENT && ip->try_)
            return 0;
        return lex_error(lx, "cannot include '%s': %s", path, strerror(errno));
    }
    struct conf_lexer sub = *lx;
    sub.name = arena_strdup(lx->arena, path);
    sub.dir = conf_dirname(lx->arena, path);
    sub.p = sub.line_start = data;
    sub.end = data + len;
    sub.line = 1;
    sub.include_depth = lx->include_depth + 1;
    sub.priority = ip->priority;
    sub.dup = ip->dup;
    sub.error = NULL;
    struct conf_obj *top;
    if (conf_parse_chunk(&sub, &top) < 0) {
        lx->error = sub.error;
        return -1;
    }
    if (top->type != CONF_OBJECT)
        return lex_error(lx, "cannot include '%s': it holds an array, not keys", path);
    struct conf_obj *m = unwrap_section(top, objkey)->v.list.head, *next;
    for (; m != NULL; m = next) {
        const char *err = NULL;
        next = m->next;
        m->next = NULL;
        if (conf_obj_insert(lx->arena, obj, m->key, m->keylen, m, ip->dup, &err) < 0) {
            lx->error = arena_printf(lx->arena, "%s:%u:%u: %s", m->file, m->line, m->col, err);
            return -1;
        }
    }
    return 0;
}

static int include_glob(struct conf_lexer *lx, struct conf_obj *obj, const char *objkey,
                        const char *pattern, const struct include_params *ip)
{
    glob_t g;
    int r = glob(pattern, 0, NULL, &g);
    if (r == GLOB_NOMATCH) {
        globfree(&g);
        return ip->try_ ? 0 : lex_error(lx, "cannot match any files for pattern '%s'", pattern);
    }
    if (r != 0) {
        globfree(&g);
        return lex_error(lx, "cannot expand pattern '%s'", pattern);
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (include_file(lx, obj, objkey, g.gl_pathv[i], ip) < 0) {
            globfree(&g);
            return -1;
        }
    }
    globfree(&g);
    return 0;
}

/* The macro's argument: "quoted", {braced} or an atom. */
static int macro_arg(struct conf_lexer *lx, char **arg_r, size_t *len_r)
{
    if (lx->p >= lx->end)
        return lex_error(lx, "the macro needs an argument");
    if (*lx->p == '"')
        return lex_dquoted(lx, true, arg_r, len_r);
    if (*lx->p == '\'')
        return lex_squoted(lx, arg_r, len_r);
    const char *q = lx->p;
    char close = *q == '{' ? '}' : 0;
    if (close)
        q++;
    const char *start = q;
    while (q < lx->end && (close ? *q != close : !lex_is_atom_end(lx, q)))
        q++;
    if (close && q >= lx->end)
        return lex_error(lx, "missing '}' after the macro argument");
    const char *e = q;
    while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *arg_r = (char *)start;
    *len_r = (size_t)(e - start);
    if (lx->opts && lx->opts->vars)
        *arg_r = conf_expand_vars(lx->arena, lx->opts->vars, start, *len_r, len_r);
    else
        *arg_r = arena_strndup(lx->arena, start, *len_r);
    lex_adv(lx, (size_t)(q - lx->p) + (close ? 1 : 0));
    return 0;
}

static int parse_macro(struct conf_lexer *lx, struct conf_obj *obj, const char *objkey)
{
    unsigned line = lx->line, col = lex_col(lx);
    const char *name = lx->p + 1, *q = name;
    while (q < lx->end && ((*q >= 'a' && *q <= 'z') || *q == '_'))
        q++;
    size_t nlen = (size_t)(q - name);
    struct include_params ip = {.priority = lx->priority, .dup = CONF_DUP_APPEND};
    if (nlen == 7 && !memcmp(name, "include", 7))
        ip.try_ = false;
    else if ((nlen == 11 && !memcmp(name, "try_include", 11)))
        ip.try_ = true;
    else if (nlen == 8 && !memcmp(name, "includes", 8))
        ip.try_ = false;
    else
        return lex_error(lx, "unknown macro: '.%.*s'", (int)nlen, name);
    if (lx->opts != NULL && lx->opts->no_includes)
        return lex_error(lx, "includes are not allowed here");
    lex_adv(lx, nlen + 1);
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
        lex_adv(lx, 1);
    if (lx->p < lx->end && *lx->p == '(' && parse_params(lx, &ip) < 0)
        return -1;
    if (lex_skip_space(lx, NULL) < 0)
        return -1;
    char *arg;
    size_t alen;
    if (macro_arg(lx, &arg, &alen) < 0)
        return -1;
    if (alen == 0 || memchr(arg, '\0', alen) != NULL)
        return lex_error_at(lx, line, col, "include: empty or invalid path");
    const char *path = arg[0] == '/' ? arg : arena_printf(lx->arena, "%s/%s", lx->dir, arg);
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == ';'))
        lex_adv(lx, 1);
    if (ip.glob || strpbrk(path, "*?[") != NULL)
        return include_glob(lx, obj, objkey, path, &ip);
    return include_file(lx, obj, objkey, path, &ip);
}

static int parse_object_body(struct conf_lexer *lx, struct conf_obj *obj, const char *objkey,
                             bool braced)
{
    for (;;) {
        if (lex_skip_space(lx, NULL) < 0)
            return -1;
        if (lx->p >= lx->end)
            return braced ? lex_error(lx, "unexpected end of file: missing '}'") : 0;
        char c = *lx->p;
        if (c == '}') {
            if (!braced)
                return lex_error(lx, "unexpected '}' without a matching '{'");
            lex_adv(lx, 1);
            return 0;
        }
        if (c == ';' || c == ',') {
            lex_adv(lx, 1);
            continue;
        }
        if (c == '.') {
            if (parse_macro(lx, obj, objkey) < 0)
                return -1;
            continue;
        }
        int r = parse_pair(lx, obj);
        if (r < 0 || after_value(lx, r == 1, braced ? '}' : 0) < 0)
            return -1;
    }
}

int conf_parse_chunk(struct conf_lexer *lx, struct conf_obj **top_r)
{
    if (lex_skip_space(lx, NULL) < 0)
        return -1;
    struct conf_obj *top = node_new(lx, CONF_OBJECT, lx->line, lex_col(lx));
    if (lx->p < lx->end && (*lx->p == '{' || *lx->p == '[')) {
        if (*lx->p == '[')
            top->type = CONF_ARRAY;
        if (parse_block(lx, NULL, top, top->type == CONF_ARRAY) < 0)
            return -1;
        if (lex_skip_space(lx, NULL) < 0)
            return -1;
        while (lx->p < lx->end && *lx->p == ';')
            lex_adv(lx, 1);
        if (lex_skip_space(lx, NULL) < 0)
            return -1;
        if (lx->p < lx->end)
            return lex_error(lx, "unexpected data after the top-level %s",
                             top->type == CONF_ARRAY ? "array" : "object");
    } else if (parse_object_body(lx, top, NULL, false) < 0) {
        return -1;
    }
    *top_r = top;
    return 0;
}

/* ---- entry points ---- */

int conf_read_file(struct arena *arena, const char *path, char **data_r, size_t *len_r)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    int e = 0;
    if (fstat(fd, &st) < 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    else if (!S_ISREG(st.st_mode))
        e = EINVAL;              /* a FIFO or device could block or never end */
    else if (st.st_size > CONF_MAX_FILE_SIZE)
        e = EFBIG;
    if (e != 0) {
        close(fd);
        errno = e;
        return -1;
    }
    size_t len = 0, cap = (size_t)st.st_size;
    char *data = arena_alloc(arena, cap + 1);
    while (len < cap) {
        ssize_t n = read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    data[len] = '\0';
    *data_r = data;
    *len_r = len;
    return 0;
}

const char *conf_dirname(struct arena *arena, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return ".";
    if (slash == path)
        return "/";
    return arena_strndup(arena, path, (size_t)(slash - path));
}

static void lexer_init(struct conf_lexer *lx, struct arena *arena, const char *name,
                       const char *p, size_t len, const struct conf_parse_opts *opts)
{
    memset(lx, 0, sizeof(*lx));
    lx->arena = arena;
    lx->name = arena_strdup(arena, name);
    lx->dir = conf_dirname(arena, lx->name);
    lx->p = lx->line_start = p;
    lx->end = p + len;
    lx->line = 1;
    lx->opts = opts;
    lx->max_depth = opts && opts->max_depth ? opts->max_depth : 64;
    lx->max_include_depth = opts && opts->max_include_depth ? opts->max_include_depth : 16;
    lx->dup = CONF_DUP_APPEND;
}

struct conf_obj *conf_parse_buf(struct arena *arena, const char *name, const char *p, size_t len,
                                const struct conf_parse_opts *opts, const char **error_r)
{
    struct conf_lexer lx;
    struct conf_obj *top;
    lexer_init(&lx, arena, name ? name : "(buffer)", p, len, opts);
    if (conf_parse_chunk(&lx, &top) < 0) {
        *error_r = lx.error;
        return NULL;
    }
    return top;
}

struct conf_obj *conf_parse_file(struct arena *arena, const char *path,
                                 const struct conf_parse_opts *opts, const char **error_r)
{
    char *data;
    size_t len;
    if (conf_read_file(arena, path, &data, &len) < 0) {
        *error_r = arena_printf(arena, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    return conf_parse_buf(arena, path, data, len, opts, error_r);
}
