/*
 * ARC validation over the ValiMail suite (shared/testdata/arc-test-suite,
 * RFC 8617 draft 18): each message runs through arc_verify_* with the
 * scenario's TXT records as the only DNS (everything else NXDOMAIN), and
 * the chain result must be the suite's cv (Pass / Fail / None; '' = fail;
 * our "invalid" counts as fail).  The YAML is turned into TSV by
 * test_auth_arc_to_tsv.py (argv[1]) from argv[2].  Exit 77 (skip) when the
 * suite or python3-yaml is missing.  Known disagreements are listed in
 * `accepted_failures` with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "modules/arc.h"
#include "modules/dkim/dkim.h"

#define MAX_KEYS 32

struct key { char *name, *txt; };

static struct key keys[MAX_KEYS];
static size_t nkeys;

/* Over-strict tests mailauth skips too (arc-test-suite/README.md); we are
 * lenient on the same points as the DKIM tag-list grammar. */
static const char *const accepted_failures[] = {
    "as_format_tags_sc",         /* a trailing ';' after the last tag: the tag-list
                                    grammar of RFC 6376 §3.2 allows it */
    NULL,
};

static char *unescape(char *s)
{
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p != '\\' || p[1] == '\0') {
            *w++ = *p;
            continue;
        }
        p++;
        *w++ = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p == '0' ? '\0' : *p;
    }
    *w = '\0';
    return s;
}

static const char *lookup(const char *name)
{
    for (size_t i = 0; i < nkeys; i++)
        if (strcasecmp(keys[i].name, name) == 0)
            return keys[i].txt;
    return NULL;
}

static const char *result_name(enum arc_result r)
{
    switch (r) {
    case ARC_RES_NONE: return "none";
    case ARC_RES_PASS: return "pass";
    default: return "fail";
    }
}

static const char *run_one(const char *msg, const char **reason_r)
{
    struct arena *a = arena_new(0);
    struct dkim_header *h;
    size_t n, blen;
    const char *body, *err = NULL;
    static char res[16];
    if (dkim_split_message(a, msg, strlen(msg), &h, &n, &body, &blen, &err) < 0) {
        n = 0;
        body = msg;
        blen = strlen(msg);
        h = NULL;
    }
    struct arc_verify *v = arc_verify_new(a, h, n, body, blen);
    for (size_t i = 0; i < arc_verify_nkeys(v); i++) {
        const char *name = arc_verify_key_name(v, i);
        const char *txt = name ? lookup(name) : NULL;
        if (name != NULL)
            arc_verify_set_key(v, i, txt ? DKIM_DNS_OK : DKIM_DNS_NXDOMAIN, txt,
                               txt ? strlen(txt) : 0);
    }
    snprintf(res, sizeof(res), "%s", result_name(arc_verify_finish(v, reason_r)));
    static char reason[256];
    snprintf(reason, sizeof(reason), "%s", *reason_r ? *reason_r : "");
    *reason_r = reason;
    arena_free(&a);
    return res;
}

static bool accepted(const char *id)
{
    for (size_t i = 0; accepted_failures[i] != NULL; i++)
        if (strcmp(accepted_failures[i], id) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 3 || access(argv[2], R_OK) != 0) {
        printf("SKIP: ARC suite not found\n");
        return 77;
    }
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", argv[1], argv[2]);
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return 77;
    char *line = NULL;
    size_t cap = 0;
    unsigned total = 0, bad = 0, known = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *save = NULL, *kind = strtok_r(line, "\t", &save);
        if (kind == NULL)
            continue;
        if (strcmp(kind, "S") == 0) {
            for (size_t i = 0; i < nkeys; i++)
                free(keys[i].name), free(keys[i].txt);
            nkeys = 0;
        } else if (strcmp(kind, "K") == 0 && nkeys < MAX_KEYS) {
            char *name = strtok_r(NULL, "\t", &save), *val = strtok_r(NULL, "", &save);
            keys[nkeys].name = strdup(name);
            keys[nkeys++].txt = val ? strdup(unescape(val)) : strdup("");
        } else if (strcmp(kind, "T") == 0) {
            char *id = strtok_r(NULL, "\t", &save), *cv = strtok_r(NULL, "\t", &save);
            char *msg = strtok_r(NULL, "", &save);
            const char *reason = NULL;
            static char empty[1];
            const char *got = run_one(msg ? unescape(msg) : empty, &reason);
            total++;
            if (strcmp(got, cv) != 0) {
                bool ok = accepted(id);
                known += ok;
                bad += !ok;
                printf("%s %s: want %s, got %s (%s)\n", ok ? "known" : "FAIL", id, cv, got,
                       reason);
            }
        }
    }
    free(line);
    if (pclose(f) != 0 && total == 0) {
        printf("SKIP: converter failed (python3-yaml missing?)\n");
        return 77;
    }
    printf("%u tests, %u failed, %u known disagreements\n", total, bad, known);
    return bad == 0 && total > 0 ? 0 : 1;
}
