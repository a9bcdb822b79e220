#ifndef WINNOW_MODULES_REGISTRY_H
#define WINNOW_MODULES_REGISTRY_H
#include "modules/module.h"

/* Every module, in scan order, NULL-terminated (registry.c). */
extern const struct module *const modules_registry[];

#endif
