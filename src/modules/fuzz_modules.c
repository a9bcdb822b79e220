/*
 * libFuzzer target: parses the input as a message and runs every module of
 * the registry over it, so the heuristics meet whatever the MIME layer can
 * produce from hostile mail (empty lists, NULL fields, odd charsets).  The
 * envelope is fixed; modules are configured once with their defaults.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/actions.h"
#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/module.h"
#include "modules/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NMOD 32

static struct arena *fuzz_arena;
static struct symtab *fuzz_symtab;
static struct actions fuzz_actions;
static void *fuzz_ctx[NMOD];

static void fuzz_init(void)
{
    const char *err = NULL;
    mime_global_init();
    fuzz_arena = arena_new(0);
    fuzz_symtab = symtab_new(fuzz_arena);
    actions_init_defaults(&fuzz_actions);
    for (size_t i = 0; modules_registry[i] != NULL && i < NMOD; i++) {
        struct module_env env = {.arena = fuzz_arena, .symtab = fuzz_symtab, .config = NULL};
        if (modules_registry[i]->configure(NULL, &env, &fuzz_ctx[i], &err) != 0)
            fuzz_ctx[i] = NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_arena == NULL)
        fuzz_init();
    struct task *t = task_new(NULL, fuzz_symtab, &fuzz_actions);
    struct mime_limits limits = {0};
    const char *err = NULL;
    t->raw = (const char *)data;
    t->raw_len = size;
    if (message_parse(t->arena, (const char *)data, size, &limits, &t->msg, &err) != 0)
        t->msg = NULL;
    t->env.from = "sender@example.org";
    task_add_rcpt(t, "rcpt@example.com", 16);
    for (size_t i = 0; modules_registry[i] != NULL && i < NMOD; i++)
        if (fuzz_ctx[i] != NULL)
            modules_registry[i]->scan(t, fuzz_ctx[i]);
    task_free(&t);
    return 0;
}
