#ifndef WINNOW_CLI_INPUTS_H
#define WINNOW_CLI_INPUTS_H
/*
 * What winnowc scans: files, directories (recursively, entries in name
 * order), mbox files with several messages (split into messages named FILE:N,
 * N from 1) and stdin.
 */
#include <stddef.h>

struct input {
    char *name;                  /* as printed in "Results for file:" */
    char *path;                  /* read when the request starts; NULL if data is set */
    char *data;                  /* mbox message or stdin: owned here */
    size_t len;
};

struct input_list {
    struct input *v;
    size_t n, cap;
    const char *const *excludes; /* globs (fnmatch) tried on the path and its basename */
    size_t nexcludes;
};

/* Adds a file, directory or mbox.  -1 with *error_r (a static buffer) when
 * the path cannot be opened. */
int inputs_add_path(struct input_list *l, const char *path, const char **error_r);
/* Adds a named in-memory message (takes ownership of data, a malloc'd block). */
void inputs_add_data(struct input_list *l, const char *name, char *data, size_t len);
/* Reads all of fd into a malloc'd block; -1 on a read error or over max bytes. */
int inputs_read_fd(int fd, size_t max, char **data_r, size_t *len_r);
/* Splits an mbox buffer into messages (From_ lines removed, ">From " lines
 * unquoted once); each becomes NAME:N. */
void inputs_split_mbox(struct input_list *l, const char *name, const char *p, size_t len);
void inputs_free(struct input_list *l);

#endif
