/*
 * Stand-alone driver for libFuzzer targets: when the tree is built without
 * -Dfuzz=true, each fuzz target links this file instead of libFuzzer and runs
 * its entry point once over every file named on the command line (a
 * directory is expanded one level).  make check uses it to replay the seed
 * corpora under ASan/UBSan, so a seed that once crashed a parser stays a test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
            }
        }
    }
    fclose(f);
    if (buf == NULL)
        return -1;
    /* Hand libFuzzer-like exact-size heap copies so ASan sees overreads. */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            while (d != NULL && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                    continue;
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
                failed += run_file(path) != 0;
                files++;
            }
            if (d != NULL)
                closedir(d);
        } else {
            failed += run_file(argv[i]) != 0;
            files++;
        }
    }
    printf("fuzz driver: %d inputs replayed\n", files);
    return failed ? 1 : 0;
}
