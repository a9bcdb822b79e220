/*
 * test_mod_docs: every symbol a module of the registry registers has a
 * group and a description, and is documented in docs/symbols.md (path given
 * as the first argument), so the reference the daemon is tested against
 * cannot fall behind the code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/symbols.h"
#include "modules/module.h"
#include "modules/registry.h"

/* Documented either as `NAME` or inside a range row `FIRST` … `LAST` of the
 * same family (RCVD_COUNT_*, RCPT_COUNT_*, HAS_X_PRIO_*). */
static int documented(const char *doc, const char *name)
{
    char pat[128];
    snprintf(pat, sizeof(pat), "`%s`", name);
    if (strstr(doc, pat) != NULL)
        return 1;
    const char *families[] = {"RCVD_COUNT_", "RCPT_COUNT_", "HAS_X_PRIO_", NULL};
    for (size_t i = 0; families[i] != NULL; i++) {
        size_t fl = strlen(families[i]);
        if (strncmp(name, families[i], fl) == 0) {
            snprintf(pat, sizeof(pat), "`_%s`", name + fl);
            char row[64];
            snprintf(row, sizeof(row), "`%s", families[i]);
            if (strstr(doc, row) != NULL && (strstr(doc, pat) != NULL || strstr(doc, name) != NULL))
                return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *err = NULL;
    int bad = 0;
    char *doc = argc > 1 ? buf_slurp(argv[1], NULL) : NULL;
    if (doc == NULL) {
        fprintf(stderr, "usage: test_mod_docs docs/symbols.md\n");
        return 1;
    }
    struct arena *a = arena_new(0);
    struct symtab *st = symtab_new(a);
    for (size_t i = 0; modules_registry[i] != NULL; i++) {
        struct module_env env = {.arena = a, .symtab = st, .config = NULL};
        void *ctx;
        if (modules_registry[i]->configure(NULL, &env, &ctx, &err) != 0) {
            fprintf(stderr, "%s: %s\n", modules_registry[i]->name, err);
            bad++;
        }
    }
    for (size_t i = 0; i < symtab_count(st); i++) {
        const struct symbol_def *d = symtab_at(st, i);
        if (d->group == NULL || d->description == NULL || d->description[0] == '\0') {
            fprintf(stderr, "%s: no group or description\n", d->name);
            bad++;
        }
        if (!documented(doc, d->name)) {
            fprintf(stderr, "%s: not in docs/symbols.md\n", d->name);
            bad++;
        }
    }
    printf("%zu symbols, %d problems\n", symtab_count(st), bad);
    free(doc);
    arena_free(&a);
    return bad == 0 ? 0 : 1;
}
