/*
 * test_mod_corpus: runs every heuristic module of the registry over real
 * mail.  As a test (no arguments) it scans the shared Rspamd functional-test
 * messages (WINNOW_MOD_CORPUS or /work/shared/testdata/rspamd-messages/
 * messages; skipped when absent): a crash or a sanitizer report fails it.
 * By hand, `test_mod_corpus [-f FROM] [-r RCPT]... FILE...` prints the
 * symbols of each file, one line per file, for comparing with Rspamd.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/settings.h"
#include "core/actions.h"
#include "core/arena.h"
#include "core/symbols.h"
#include "core/task.h"
#include "mime/message.h"
#include "modules/module.h"
#include "modules/registry.h"

#define NMOD 32

struct corpus {
    struct arena *arena;
    struct symtab *symtab;
    struct actions actions;
    void *ctx[NMOD];
    const char *from;
    const char *rcpts[16];
    size_t nrcpts;
    bool print;
    size_t files;
};

static char *read_file(const char *path, size_t *len_r)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    *len_r = len;
    return buf;
}

static void scan_file(struct corpus *c, const char *path)
{
    size_t len;
    char *raw = read_file(path, &len);
    if (raw == NULL)
        return;
    struct task *t = task_new(NULL, c->symtab, &c->actions);
    struct mime_limits limits = {0};
    const char *err = NULL;
    t->raw = raw;
    t->raw_len = len;
    if (message_parse(t->arena, raw, len, &limits, &t->msg, &err) != 0)
        t->msg = NULL;
    t->env.from = c->from;
    for (size_t i = 0; i < c->nrcpts; i++)
        task_add_rcpt(t, c->rcpts[i], strlen(c->rcpts[i]));
    for (size_t i = 0; modules_registry[i] != NULL && i < NMOD; i++)
        if (c->ctx[i] != NULL)
            modules_registry[i]->scan(t, c->ctx[i]);
    if (c->print) {
        double score = 0;
        printf("%s:", path);
        for (const struct task_symbol *s = t->symbols; s != NULL; s = s->next) {
            score += s->score;
            printf(" %s(%.2f)", s->name, s->score);
            if (s->noptions > 0) {
                printf("[");
                for (size_t j = 0; j < s->noptions; j++)
                    printf("%s%s", j > 0 ? "," : "", s->options[j]);
                printf("]");
            }
        }
        printf(" | score=%.2f%s\n", score, t->passthrough != NULL ? " passthrough" : "");
    }
    c->files++;
    task_free(&t);
    free(raw);
}

static void scan_path(struct corpus *c, const char *path, unsigned depth)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        scan_file(c, path);
        return;
    }
    if (depth > 4)
        return;
    DIR *d = opendir(path);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        scan_path(c, sub, depth + 1);
    }
    if (d != NULL)
        closedir(d);
}

int main(int argc, char **argv)
{
    static struct corpus c;
    const char *err = NULL;
    int i = 1;

    mime_global_init();
    c.arena = arena_new(0);
    c.symtab = symtab_new(c.arena);
    actions_init_defaults(&c.actions);
    for (size_t m = 0; modules_registry[m] != NULL && m < NMOD; m++) {
        struct module_env env = {.arena = c.arena, .symtab = c.symtab, .config = NULL};
        if (modules_registry[m]->configure(NULL, &env, &c.ctx[m], &err) != 0) {
            fprintf(stderr, "%s: %s\n", modules_registry[m]->name, err);
            return 1;
        }
    }
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-f") == 0)
            c.from = argv[i + 1];
        else if (strcmp(argv[i], "-r") == 0 && c.nrcpts < 16)
            c.rcpts[c.nrcpts++] = argv[i + 1];
    }
    if (i < argc) {
        c.print = true;
        for (; i < argc; i++)
            scan_path(&c, argv[i], 0);
    } else {
        const char *dir = getenv("WINNOW_MOD_CORPUS");
        scan_path(&c, dir != NULL ? dir : "/work/shared/testdata/rspamd-messages/messages", 0);
        printf("scanned %zu messages\n", c.files);
    }
    arena_free(&c.arena);
    return 0;
}
