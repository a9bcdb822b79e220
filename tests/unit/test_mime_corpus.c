/*
 * test_mime_corpus: robustness run of message_parse() over real mail.
 *
 * Parses every file under the directories (recursively) or files named on
 * the command line -- by default the shared Rspamd test messages, or
 * $WINNOW_MIME_CORPUS -- and prints the count, the failures (limit
 * refusals) and the mean parse time per message.  Exits 77 (skip) when the
 * default directory is absent.  A crash or a sanitizer report fails it;
 * that is the point.  `-r N` repeats the run N times (for timing); `-v`
 * prints what was parsed from each message.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "mime/message.h"

#define DEFAULT_DIR "/work/shared/testdata/rspamd-messages/messages"

struct stats {
    size_t files, failed, parts, text_parts, urls, bytes;
    double seconds;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int verbose;

static void dump(const char *path, const struct message *m)
{
    printf("== %s\n  headers=%zu broken=%d crlf=%d subject=%s message_id=%s date=%lld\n", path,
           m->nheaders, m->header_block_broken, m->crlf, m->subject ? m->subject : "(none)",
           m->message_id ? m->message_id : "(none)", (long long)m->date);
    for (size_t i = 0; i < m->from.n; i++)
        printf("  from: name=%s addr=%s domain=%s invalid=%d\n",
               m->from.a[i].name ? m->from.a[i].name : "-",
               m->from.a[i].addr ? m->from.a[i].addr : "-",
               m->from.a[i].domain ? m->from.a[i].domain : "-", m->from.a[i].invalid);
    printf("  to=%zu cc=%zu\n", m->to.n, m->cc.n);
    for (size_t i = 0; i < m->nparts; i++) {
        const struct mime_part *p = &m->parts[i];
        printf("  part %zu: parent=%d depth=%u %s/%s cs=%s cte=%s fn=%s att=%d text=%d html=%d "
               "tmiss=%d csbad=%d ctebad=%d raw=%zu dec=%zu\n",
               i, p->parent, p->depth, p->type, p->subtype, p->charset ? p->charset : "-",
               p->cte ? p->cte : "-", p->filename ? p->filename : "-", p->is_attachment,
               p->is_text, p->is_html, p->type_missing, p->charset_bad, p->cte_bad, p->raw_size,
               p->decoded_size);
    }
    for (size_t i = 0; i < m->ntext_parts; i++) {
        const struct text_part *t = &m->text_parts[i];
        printf("  text %zu (part %zu): words=%zu empty=%d mixed=%d imgs=%zu links=%zu: %.100s\n",
               i, t->part, t->nwords, t->empty, t->mixed_scripts, t->html_images, t->html_links,
               t->text);
    }
    for (size_t i = 0; i < m->nurls; i++)
        printf("  url: %s host=%s tld=%s flags=0x%x anchor_host=%s\n", m->urls[i].url,
               m->urls[i].host, m->urls[i].tld ? m->urls[i].tld : "-", m->urls[i].flags,
               m->urls[i].anchor_host ? m->urls[i].anchor_host : "-");
    for (size_t i = 0; i < m->nemails; i++)
        printf("  email: %s\n", m->emails[i]);
}

static void parse_file(const char *path, struct stats *st, int repeat)
{
    size_t len;
    char *buf = buf_slurp(path, &len);
    if (buf == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return;
    }
    for (int r = 0; r < repeat; r++) {
        struct arena *arena = arena_new(0);
        struct message *msg;
        const char *err;
        double t0 = now();
        int rc = message_parse(arena, buf, len, NULL, &msg, &err);
        st->seconds += now() - t0;
        st->files++;
        st->bytes += len;
        if (rc < 0) {
            st->failed++;
            if (r == 0)
                fprintf(stderr, "%s: refused: %s\n", path, err);
        } else {
            st->parts += msg->nparts;
            st->text_parts += msg->ntext_parts;
            st->urls += msg->nurls;
            if (verbose && r == 0)
                dump(path, msg);
        }
        arena_free(&arena);
    }
    free(buf);
}

static void walk(const char *path, struct stats *st, int repeat)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        parse_file(path, st, repeat);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        walk(sub, st, repeat);
    }
    if (d != NULL)
        closedir(d);
}

int main(int argc, char **argv)
{
    struct stats st = {0};
    int repeat = 1, first = 1;

    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        first = 2;
    } else if (argc > 2 && strcmp(argv[1], "-r") == 0) {
        repeat = atoi(argv[2]);
        first = 3;
    }
    log_current_level = LOG_LVL_ERROR;
    mime_global_init();
    if (first >= argc) {
        const char *dir = getenv("WINNOW_MIME_CORPUS");
        struct stat sb;
        if (dir == NULL)
            dir = DEFAULT_DIR;
        if (stat(dir, &sb) != 0) {
            printf("skip: %s absent\n", dir);
            return 77;
        }
        walk(dir, &st, repeat);
    }
    for (int i = first; i < argc; i++)
        walk(argv[i], &st, repeat);
    printf("%zu messages, %zu refused, %zu parts, %zu text parts, %zu urls, %.1f KB mean; "
           "%.1f us/message\n",
           st.files, st.failed, st.parts, st.text_parts, st.urls,
           st.files ? (double)st.bytes / (double)st.files / 1024 : 0.0,
           st.files ? st.seconds * 1e6 / (double)st.files : 0.0);
    return 0;
}
