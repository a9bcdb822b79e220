/*
 * DMARC evaluation against mailauth's cases (shared/testdata/mailauth,
 * converted by dmarc_cases_to_tsv.py).  Each case's TXT records feed a fake
 * lookup; an injected DNS error answers TEMPFAIL.  Exit 77 when the data is
 * absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "modules/dmarc/dmarc.h"
#include "net/dns.h"

#define MAX_DNS 8

struct dcase {
    char line[2048];
    char *f[9];
    struct {
        char name[256];
        char rec[1024];
    } dns[MAX_DNS];
    int ndns;
};

struct lookup_ctx {
    struct dcase *c;
    struct arena *a;
    bool error;
};

static int lookup(void *vctx, const char *name, const struct dns_reply **reply_r)
{
    struct lookup_ctx *ctx = vctx;
    struct dns_reply *r = arena_calloc(ctx->a, 1, sizeof(*r));
    r->type = DNS_T_TXT;
    r->name = name;
    r->rrs = arena_calloc(ctx->a, MAX_DNS, sizeof(struct dns_rr));
    r->status = ctx->error ? DNS_TEMPFAIL : DNS_NXDOMAIN;
    r->error = ctx->error ? "DNS timeout" : NULL;
    for (int i = 0; !ctx->error && i < ctx->c->ndns; i++) {
        if (strcasecmp(ctx->c->dns[i].name, name) != 0)
            continue;
        r->status = DNS_OK;
        r->rrs[r->n].v.txt.s = ctx->c->dns[i].rec;
        r->rrs[r->n].v.txt.len = strlen(ctx->c->dns[i].rec);
        r->n++;
    }
    *reply_r = r;
    return 0;
}

static int split(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t')
            *p = '\0', f[n++] = p + 1;
    return n;
}

static int run(struct dcase *c, unsigned *pass)
{
    struct arena *a = arena_new(0);
    struct lookup_ctx ctx = {c, a, c->f[5][0] == '1'};
    const char *dkim[8];
    size_t nd = 0;
    char dk[512];
    snprintf(dk, sizeof(dk), "%s", c->f[3]);
    for (char *t = strtok(dk, ","); t && nd < 8; t = strtok(NULL, ","))
        dkim[nd++] = t;
    struct dmarc_request req = {c->f[2], dkim, nd, c->f[4][0] ? c->f[4] : NULL};
    struct dmarc_outcome out;
    enum dmarc_result r = dmarc_check(a, &req, lookup, &ctx, &out);
    int bad = 0;
    if (strcmp(c->f[6], "-") != 0 && strcmp(c->f[6], dmarc_result_name(r)) != 0)
        bad = 1;
    if (strcmp(c->f[7], "-") != 0 && strcmp(c->f[7], dmarc_policy_name(out.policy)) != 0)
        bad = 1;
    if (strcmp(c->f[8], "-") != 0 &&
        (out.record_domain == NULL || strcmp(c->f[8], out.record_domain) != 0))
        bad = 1;
    if (bad)
        printf("not ok - %s: got %s/%s/%s, want %s/%s/%s (%s)\n", c->f[1], dmarc_result_name(r),
               dmarc_policy_name(out.policy), out.record_domain ? out.record_domain : "-",
               c->f[6], c->f[7], c->f[8], out.reason ? out.reason : "-");
    else
        (*pass)++;
    arena_free(&a);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    FILE *probe = fopen(argv[2], "r");
    if (probe == NULL) {
        printf("SKIP: %s not found (shared/testdata absent)\n", argv[2]);
        return 77;
    }
    fclose(probe);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", argv[1], argv[2]);
    FILE *in = popen(cmd, "r");
    struct dcase *cur = NULL;
    unsigned total = 0, pass = 0, fail = 0;
    char line[2048];
    while (in && fgets(line, sizeof(line), in)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == 'C') {
            if (cur) {
                total++;
                fail += (unsigned)run(cur, &pass);
                free(cur);
            }
            cur = calloc(1, sizeof(*cur));
            snprintf(cur->line, sizeof(cur->line), "%s", line);
            if (split(cur->line, cur->f, 9) < 9) {
                free(cur);
                cur = NULL;
            }
        } else if (line[0] == 'D' && cur && cur->ndns < MAX_DNS) {
            char *f[3];
            if (split(line, f, 3) == 3) {
                snprintf(cur->dns[cur->ndns].name, 256, "%s", f[1]);
                snprintf(cur->dns[cur->ndns].rec, 1024, "%s", f[2]);
                cur->ndns++;
            }
        }
    }
    if (cur) {
        total++;
        fail += (unsigned)run(cur, &pass);
        free(cur);
    }
    if (in)
        pclose(in);
    if (total == 0) {
        printf("SKIP: no cases converted\n");
        return 77;
    }
    printf("dmarc cases: %u run, %u passed, %u failed\n", total, pass, fail);
    return fail ? 1 : 0;
}
