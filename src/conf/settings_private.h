#ifndef WINNOW_CONF_SETTINGS_PRIVATE_H
#define WINNOW_CONF_SETTINGS_PRIVATE_H
/*
 * For the implementers of src/conf only: the pieces of config_load() kept in
 * their own files, and the documentation table of options{} (a test checks
 * that every row has a description).
 */
#include <stddef.h>

#include "conf/conf.h"
#include "conf/settings.h"

enum setting_type { SET_TIME, SET_SIZE, SET_BOOL, SET_UINT, SET_STRING };

struct setting_row {
    const char *name;
    enum setting_type type;
    size_t offset;               /* in struct options_conf */
    double def;                  /* numbers, booleans */
    const char *def_str;         /* strings; $VARS expanded */
    double min, max;             /* numbers */
    const char *desc;
};

const struct setting_row *settings_option_rows(size_t *n_r);

/* Calls fn for each block of a section given once or several times. */
int settings_each_block(const struct conf_obj *root, const char *name,
                        int (*fn)(struct config *, const struct conf_obj *, const char **),
                        struct config *cfg, const char **error_r);
/* "FILE:LINE: KEY: problem" in the config arena. */
const char *settings_error(struct config *cfg, const struct conf_obj *v, const char *key,
                           const char *problem);

int settings_actions(struct config *cfg, const struct conf_obj *sec, const char **error_r);
int settings_workers(struct config *cfg, const char **error_r);

#endif
