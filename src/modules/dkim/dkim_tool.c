/*
 * dkim_tool: a small command-line front end to the DKIM library, for interop
 * checks against other implementations (interop_dkimpy.py) and for poking at
 * messages by hand.  Not installed.
 *
 *   dkim_tool sign KEYFILE DOMAIN SELECTOR [CANON [TIMESTAMP]] < msg > signed
 *   dkim_tool verify NAME=TXTFILE... < msg      one line per signature
 *                                               (TXTFILE "TEMPFAIL": DNS failure)
 *   dkim_tool txt KEYFILE                       the DNS TXT record
 *
 * verify exits 0 when every signature passes, 1 otherwise; key lookups for
 * names not given on the command line answer NXDOMAIN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/buf.h"
#include "modules/dkim/dkim.h"

struct txt_map {
    char **name, **value;
    size_t *len;
    int n;
};

static enum dkim_dns_status map_lookup(void *ctx, const char *name, const char *const **txt_r,
                                       const size_t **txt_len_r, size_t *ntxt_r)
{
    struct txt_map *m = ctx;
    for (int i = 0; i < m->n; i++) {
        if (strcasecmp(m->name[i], name) == 0) {
            if (m->value[i] == NULL)
                return DKIM_DNS_TEMPFAIL;
            *txt_r = (const char *const *)&m->value[i];
            *txt_len_r = &m->len[i];
            *ntxt_r = 1;
            return DKIM_DNS_OK;
        }
    }
    return DKIM_DNS_NXDOMAIN;
}

static int cmd_sign(struct arena *a, int argc, char **argv)
{
    struct dkim_privkey *key;
    const char *err;
    if (argc < 5)
        return 2;
    if (dkim_privkey_load_file(a, argv[2], &key, &err) < 0) {
        fprintf(stderr, "dkim_tool: %s\n", err);
        return 1;
    }
    struct dkim_sign_opts o = {.domain = argv[3], .selector = argv[4]};
    if (argc > 5 && strncmp(argv[5], "simple", 6) == 0)
        o.hcanon = DKIM_CANON_SIMPLE;
    if (argc > 5 && strstr(argv[5], "/simple") != NULL)
        o.bcanon = DKIM_CANON_SIMPLE;
    if (argc > 6)
        o.timestamp = atoll(argv[6]);
    size_t len, nh, blen, flen;
    char *msg = buf_slurp_stream(stdin, &len);
    struct dkim_header *h;
    const char *body, *field;
    struct dkim_signer *s;
    if (msg == NULL || dkim_split_message(a, msg, len, &h, &nh, &body, &blen, &err) < 0 ||
        (s = dkim_sign_new(a, key, &o, &err)) == NULL) {
        fprintf(stderr, "dkim_tool: %s\n", msg == NULL ? "out of memory" : err);
        free(msg);
        return 1;
    }
    dkim_sign_body(s, body, blen);
    if (dkim_sign_finish(s, h, nh, &field, &flen, &err) < 0) {
        fprintf(stderr, "dkim_tool: %s\n", err);
        free(msg);
        return 1;
    }
    fwrite(field, 1, flen, stdout);
    fputs("\r\n", stdout);
    fwrite(msg, 1, len, stdout);
    free(msg);
    return 0;
}

static int load_map(struct arena *a, int argc, char **argv, struct txt_map *m)
{
    m->name = arena_calloc(a, (size_t)argc, sizeof(char *));
    m->value = arena_calloc(a, (size_t)argc, sizeof(char *));
    m->len = arena_calloc(a, (size_t)argc, sizeof(size_t));
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq != NULL && strcmp(eq + 1, "TEMPFAIL") == 0) {
            m->name[m->n++] = arena_strndup(a, argv[i], (size_t)(eq - argv[i]));
            continue;
        }
        FILE *f = eq != NULL ? fopen(eq + 1, "rb") : NULL;
        if (f == NULL) {
            fprintf(stderr, "dkim_tool: want NAME=TXTFILE, got %s\n", argv[i]);
            return -1;
        }
        size_t len;
        char *txt = buf_slurp_stream(f, &len);
        fclose(f);
        if (txt == NULL)
            return -1;
        while (len > 0 && (txt[len - 1] == '\n' || txt[len - 1] == '\r'))
            len--;
        m->name[m->n] = arena_strndup(a, argv[i], (size_t)(eq - argv[i]));
        m->value[m->n] = arena_strndup(a, txt, len);
        m->len[m->n++] = len;
        free(txt);
    }
    return 0;
}

static int cmd_verify(struct arena *a, int argc, char **argv)
{
    struct txt_map m = {0};
    if (load_map(a, argc, argv, &m) < 0)
        return 2;
    size_t len, nh, blen, nres;
    char *msg = buf_slurp_stream(stdin, &len);
    struct dkim_header *h;
    const char *body, *err;
    const struct dkim_result *res;
    if (msg == NULL || dkim_split_message(a, msg, len, &h, &nh, &body, &blen, &err) < 0 ||
        dkim_verify_message(a, NULL, h, nh, body, blen, map_lookup, &m, &res, &nres, &err) < 0) {
        fprintf(stderr, "dkim_tool: %s\n", msg == NULL ? "out of memory" : err);
        free(msg);
        return 2;
    }
    int ret = nres > 0 ? 0 : 1;
    for (size_t i = 0; i < nres; i++) {
        printf("%s d=%s s=%s a=%s (%s)\n", dkim_status_name(res[i].status),
               res[i].domain ? res[i].domain : "-", res[i].selector ? res[i].selector : "-",
               dkim_alg_name(res[i].alg), res[i].reason);
        if (res[i].status != DKIM_STATUS_PASS)
            ret = 1;
    }
    free(msg);
    return ret;
}

static int cmd_txt(struct arena *a, int argc, char **argv)
{
    struct dkim_privkey *key;
    const char *err;
    if (argc < 3)
        return 2;
    if (dkim_privkey_load_file(a, argv[2], &key, &err) < 0) {
        fprintf(stderr, "dkim_tool: %s\n", err);
        return 1;
    }
    puts(dkim_privkey_txt_record(a, key));
    return 0;
}

int main(int argc, char **argv)
{
    struct arena *a = arena_new(0);
    int ret = 2;
    if (argc >= 2 && strcmp(argv[1], "sign") == 0)
        ret = cmd_sign(a, argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        ret = cmd_verify(a, argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "txt") == 0)
        ret = cmd_txt(a, argc, argv);
    if (ret == 2)
        fprintf(stderr, "usage: dkim_tool sign KEYFILE DOMAIN SELECTOR [CANON [T]] | "
                        "verify NAME=TXTFILE... | txt KEYFILE\n");
    arena_free(&a);
    return ret;
}
