#ifndef WINNOW_CORE_SYMBOLS_H
#define WINNOW_CORE_SYMBOLS_H
/*
 * Symbol table: every symbol a module may insert, with its score, group and
 * description.  Built once per configuration snapshot (modules register
 * their defaults, then the `group`/`symbols` configuration overrides scores
 * and descriptions) and read-only afterwards, so workers share it after fork.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

enum symbol_flags {
    SYMBOL_ONE_SHOT = 1 << 0,    /* inserted at most once; repeats add options only */
    SYMBOL_IGNORE = 1 << 1,      /* not shown in replies */
    SYMBOL_DISABLED = 1 << 2,    /* never inserted */
};

struct symbol_def {
    const char *name;
    double score;                /* weight; the inserted score is weight * multiplier */
    const char *group;
    const char *description;     /* may be NULL */
    unsigned flags;
};

struct symtab;

struct symtab *symtab_new(struct arena *arena);
/* Registers a module default; a second registration of the same name keeps
 * the first and returns -1. */
int symtab_add(struct symtab *st, const struct symbol_def *def);
int symtab_add_many(struct symtab *st, const struct symbol_def *defs, size_t n);
/* Configuration overrides; creates the symbol when unknown. */
void symtab_set_score(struct symtab *st, const char *name, double score);
void symtab_set_description(struct symtab *st, const char *name, const char *desc);
void symtab_set_group(struct symtab *st, const char *name, const char *group);
void symtab_set_flags(struct symtab *st, const char *name, unsigned flags);
const struct symbol_def *symtab_find(const struct symtab *st, const char *name, size_t len);
size_t symtab_count(const struct symtab *st);
/* Iteration in registration order. */
const struct symbol_def *symtab_at(const struct symtab *st, size_t i);

#endif
