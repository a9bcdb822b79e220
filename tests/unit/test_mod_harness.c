/*
 * Shared harness for the heuristic module tests (included by each
 * test_mod_*.c, not built on its own): configure one module against a fresh
 * symbol table, parse a literal message with message_parse(), set the
 * envelope, run scan() and check which symbols came out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "core/actions.h"
#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/module.h"

#define MAX_SYMS 16

struct mod_case {
    const char *name;
    const char *eml;
    const char *env_from;        /* NULL = not given */
    const char *rcpts[4];        /* NULL-terminated */
    const char *want[MAX_SYMS];  /* symbols that must be present */
    const char *not_want[MAX_SYMS];
    const char *want_opt;        /* "SYMBOL=option": that option must be present */
};

static const char *symbols_list(const struct task *t)
{
    static char out[4096];
    size_t n = 0;
    out[0] = '\0';
    for (const struct task_symbol *s = t->symbols; s != NULL && n + 2 < sizeof(out); s = s->next) {
        int w = snprintf(out + n, sizeof(out) - n, "%s%s(%.2f)", n > 0 ? " " : "", s->name,
                         s->score);
        if (w < 0)
            break;
        n += (size_t)w;
        if (n >= sizeof(out))
            n = sizeof(out) - 1;
    }
    return out;
}

static bool symbol_has_option(const struct task_symbol *s, const char *opt)
{
    for (size_t i = 0; i < s->noptions; i++)
        if (strcmp(s->options[i], opt) == 0)
            return true;
    return false;
}

/* Parses the section text (UCL) when given; NULL = no section. */
static const struct conf_obj *mod_section(struct arena *arena, const char *ucl)
{
    const char *err = NULL;
    if (ucl == NULL)
        return NULL;
    struct conf_obj *o = conf_parse_buf(arena, "test", ucl, strlen(ucl), NULL, &err);
    if (o == NULL)
        fail_msg("section: %s", err);
    return o;
}

static struct task *mod_run(const struct module *mod, const char *section_ucl,
                            const struct mod_case *c, struct arena **cfg_arena_r)
{
    struct arena *cfg_arena = arena_new(0);
    struct symtab *st = symtab_new(cfg_arena);
    struct module_env env = {.arena = cfg_arena, .symtab = st, .config = NULL};
    struct actions *acts = ARENA_NEW(cfg_arena, struct actions);
    void *ctx = NULL;
    const char *err = NULL;

    if (mod->configure(mod_section(cfg_arena, section_ucl), &env, &ctx, &err) != 0)
        fail_msg("%s: configure: %s", c->name, err != NULL ? err : "?");
    assert_non_null(ctx);
    actions_init_defaults(acts);

    struct task *t = task_new(NULL, st, acts);
    struct mime_limits limits;
    struct message *msg = NULL;
    memset(&limits, 0, sizeof(limits));
    if (message_parse(t->arena, c->eml, strlen(c->eml), &limits, &msg, &err) != 0)
        fail_msg("%s: parse: %s", c->name, err != NULL ? err : "?");
    t->msg = msg;
    t->raw = c->eml;
    t->raw_len = strlen(c->eml);
    t->env.from = c->env_from;
    for (size_t i = 0; c->rcpts[i] != NULL; i++)
        task_add_rcpt(t, c->rcpts[i], strlen(c->rcpts[i]));
    assert_int_equal(mod->scan(t, ctx), 0);
    *cfg_arena_r = cfg_arena;
    return t;
}

__attribute__((unused)) static void mod_check(const struct module *mod, const char *section_ucl, const struct mod_case *c)
{
    struct arena *cfg_arena;
    struct task *t = mod_run(mod, section_ucl, c, &cfg_arena);

    for (size_t i = 0; i < MAX_SYMS && c->want[i] != NULL; i++)
        if (task_find_symbol(t, c->want[i]) == NULL)
            fail_msg("%s: want %s; got %s", c->name, c->want[i], symbols_list(t));
    for (size_t i = 0; i < MAX_SYMS && c->not_want[i] != NULL; i++)
        if (task_find_symbol(t, c->not_want[i]) != NULL)
            fail_msg("%s: unwanted %s; got %s", c->name, c->not_want[i], symbols_list(t));
    if (c->want_opt != NULL) {
        char sym[64];
        const char *eq = strchr(c->want_opt, '=');
        assert_non_null(eq);
        snprintf(sym, sizeof(sym), "%.*s", (int)(eq - c->want_opt), c->want_opt);
        const struct task_symbol *s = task_find_symbol(t, sym);
        if (s == NULL || !symbol_has_option(s, eq + 1))
            fail_msg("%s: want option %s; got %s", c->name, c->want_opt, symbols_list(t));
    }
    task_free(&t);
    arena_free(&cfg_arena);
}

/* Runs mod over messages where one header (each of names in turn) holds
 * a 200 KB value: digits and letters with every fifth byte one of fills
 * (each in turn).  rest is the remainder of the message (the other
 * headers, a blank line, a body).  Passes when nothing crashes, reads out
 * of bounds or leaks. */
__attribute__((unused)) static void mod_check_oversized(const struct module *mod,
                                                        const char *const *names,
                                                        const char *fills, const char *rest)
{
    size_t n = 200000;
    char *value = malloc(n + 1);
    assert_non_null(value);
    for (const char *f = fills; *f != '\0'; f++) {
        for (size_t i = 0; i < n; i++)
            value[i] = i % 5 == 0 ? *f : "0123456789.abcdef"[i % 17];
        value[n] = '\0';
        for (size_t k = 0; names[k] != NULL; k++) {
            size_t len = strlen(names[k]) + n + strlen(rest) + 8;
            char *eml = malloc(len);
            assert_non_null(eml);
            snprintf(eml, len, "%s: %s\n%s", names[k], value, rest);
            struct mod_case c = {.name = "oversized", .eml = eml};
            mod_check(mod, NULL, &c);
            free(eml);
        }
    }
    free(value);
}
