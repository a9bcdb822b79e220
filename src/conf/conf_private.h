#ifndef WINNOW_CONF_CONF_PRIVATE_H
#define WINNOW_CONF_CONF_PRIVATE_H
/*
 * For the implementers of src/conf only: the UCL lexer state shared by
 * ucl_lex.c (tokens) and ucl_parse.c (grammar, macros, includes), and the
 * number scanner the typed getters reuse for strings such as "10s".
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

#define CONF_MAX_FILE_SIZE (16u * 1024 * 1024)   /* one configuration file */

struct conf_lexer {
    struct arena *arena;
    const char *name;            /* file name for messages and node->file */
    const char *dir;             /* base directory of relative includes */
    const char *p, *end;         /* cursor and end of the chunk */
    const char *line_start;      /* for the column */
    unsigned line;
    const struct conf_parse_opts *opts;
    unsigned max_depth, max_include_depth;
    unsigned depth;              /* object/array nesting, across includes */
    unsigned include_depth;
    unsigned priority;           /* of every node this chunk creates */
    enum conf_dup dup;           /* duplicate policy of this chunk */
    const char *error;           /* "FILE:LINE:COL: problem" */
};

/* Sets lx->error at the cursor (or at line/col) and returns -1. */
int lex_error(struct conf_lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lex_error_at(struct conf_lexer *lx, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
unsigned lex_col(const struct conf_lexer *lx);
/* Advances n bytes (n <= remaining), counting lines. */
void lex_adv(struct conf_lexer *lx, size_t n);
/* Skips blanks, newlines and comments; *sep_r (may be NULL) is set when a
 * newline or a comment was crossed (both separate values in UCL). */
int lex_skip_space(struct conf_lexer *lx, bool *sep_r);
bool lex_is_atom_end(const struct conf_lexer *lx, const char *q);

/* Quoted strings: the cursor is on the opening quote.  Results are
 * NUL-terminated arena copies. */
int lex_dquoted(struct conf_lexer *lx, bool expand, char **s_r, size_t *len_r);
int lex_squoted(struct conf_lexer *lx, char **s_r, size_t *len_r);
/* 1 = heredoc read, 0 = not a heredoc (cursor unchanged), -1 = error. */
int lex_heredoc(struct conf_lexer *lx, char **s_r, size_t *len_r);
/* An unquoted value: number, boolean, null or string. */
int lex_atom(struct conf_lexer *lx, struct conf_obj **v_r);
/* An unquoted key; the cursor is on its first byte. */
int lex_key(struct conf_lexer *lx, char **key_r, size_t *len_r);

/* libucl's number grammar (ucl_maybe_parse_number).  Scans [p, end): returns
 * 1 and fills type/i/d and *used_r, 0 when it is not a number, -1 when the
 * number is out of range.  bytes = true makes k/m/g powers of 1024 (size
 * strings); the parser itself uses false, as libucl does. */
int conf_number_scan(const char *p, const char *end, bool bytes, enum conf_type *type_r,
                     int64_t *i_r, double *d_r, size_t *used_r);

/* Expands $VAR and ${VAR}; unknown variables stay as written. */
char *conf_expand_vars(struct arena *arena, const struct conf_vars *vars, const char *p,
                       size_t len, size_t *len_r);

/* Parses a whole chunk (a file's content) into obj, or an array when the
 * chunk starts with '['. */
int conf_parse_chunk(struct conf_lexer *lx, struct conf_obj **top_r);
/* Reads a file into the arena; -1 with errno set. */
int conf_read_file(struct arena *arena, const char *path, char **data_r, size_t *len_r);
const char *conf_dirname(struct arena *arena, const char *path);

#endif
