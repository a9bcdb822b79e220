/*
 * Symbol table: an open-addressing hash from name to definition plus the
 * definitions in registration order.  Built once per configuration snapshot
 * in its arena, read-only while scanning.
 */
#include "core/symbols.h"

#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/str.h"

struct symtab {
    struct arena *arena;
    struct symbol_def **defs;    /* registration order */
    size_t n, cap;
    struct symbol_def **slots;   /* hash table, power of two */
    size_t nslots;
};

struct symtab *symtab_new(struct arena *arena)
{
    struct symtab *st = ARENA_NEW(arena, struct symtab);
    st->arena = arena;
    st->nslots = 256;
    st->slots = ARENA_NEW_N(arena, struct symbol_def *, st->nslots);
    return st;
}

static size_t slot_of(const struct symtab *st, const char *name, size_t len)
{
    size_t mask = st->nslots - 1;
    size_t i = (size_t)str_hash(name, len) & mask;
    while (st->slots[i] != NULL &&
           !(strlen(st->slots[i]->name) == len && memcmp(st->slots[i]->name, name, len) == 0))
        i = (i + 1) & mask;
    return i;
}

static void grow(struct symtab *st)
{
    size_t old_n = st->nslots;
    struct symbol_def **old = st->slots;
    st->nslots *= 2;
    st->slots = ARENA_NEW_N(st->arena, struct symbol_def *, st->nslots);
    for (size_t i = 0; i < old_n; i++)
        if (old[i] != NULL)
            st->slots[slot_of(st, old[i]->name, strlen(old[i]->name))] = old[i];
}

static struct symbol_def *insert_new(struct symtab *st, const char *name)
{
    if ((st->n + 1) * 2 > st->nslots)
        grow(st);
    if (st->n == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 128;
        st->defs = arena_realloc(st->arena, st->defs, st->cap * sizeof(*st->defs),
                                 ncap * sizeof(*st->defs));
        st->cap = ncap;
    }
    struct symbol_def *d = ARENA_NEW(st->arena, struct symbol_def);
    d->name = arena_strdup(st->arena, name);
    d->group = "misc";
    st->defs[st->n++] = d;
    st->slots[slot_of(st, name, strlen(name))] = d;
    return d;
}

int symtab_add(struct symtab *st, const struct symbol_def *def)
{
    size_t len = strlen(def->name);
    struct symbol_def *d = st->slots[slot_of(st, def->name, len)];
    if (d != NULL)
        return -1;
    d = insert_new(st, def->name);
    d->score = def->score;
    d->group = def->group ? arena_strdup(st->arena, def->group) : "misc";
    d->description = def->description ? arena_strdup(st->arena, def->description) : NULL;
    d->flags = def->flags;
    return 0;
}

int symtab_add_many(struct symtab *st, const struct symbol_def *defs, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (symtab_add(st, &defs[i]) < 0)
            rc = -1;
    return rc;
}

static struct symbol_def *get_or_create(struct symtab *st, const char *name)
{
    struct symbol_def *d = st->slots[slot_of(st, name, strlen(name))];
    return d != NULL ? d : insert_new(st, name);
}

void symtab_set_score(struct symtab *st, const char *name, double score)
{
    get_or_create(st, name)->score = score;
}

void symtab_set_description(struct symtab *st, const char *name, const char *desc)
{
    get_or_create(st, name)->description = arena_strdup(st->arena, desc);
}

void symtab_set_group(struct symtab *st, const char *name, const char *group)
{
    get_or_create(st, name)->group = arena_strdup(st->arena, group);
}

void symtab_set_flags(struct symtab *st, const char *name, unsigned flags)
{
    get_or_create(st, name)->flags = flags;
}

const struct symbol_def *symtab_find(const struct symtab *st, const char *name, size_t len)
{
    if (st == NULL)
        return NULL;
    return st->slots[slot_of(st, name, len)];
}

size_t symtab_count(const struct symtab *st)
{
    return st->n;
}

const struct symbol_def *symtab_at(const struct symtab *st, size_t i)
{
    return i < st->n ? st->defs[i] : NULL;
}
