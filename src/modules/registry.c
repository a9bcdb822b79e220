/*
 * The module registry: every module, in scan order, NULL-terminated.  Edited
 * by hand so that grep finds which modules exist (STYLE.md §6).  GTUBE runs
 * first so a test message is recognised before anything else looks at it.
 */
#include "modules/registry.h"

#include <stddef.h>

extern const struct module module_gtube;
extern const struct module module_headers;
extern const struct module module_addresses;
extern const struct module module_mua;
extern const struct module module_body;
extern const struct module module_mime_types;
extern const struct module module_urls;
extern const struct module module_milter_headers;
extern const struct module module_bayes;
extern const struct module module_history;
extern const struct module module_greylist;
extern const struct module module_spf;
extern const struct module module_dkim;
extern const struct module module_dmarc;
extern const struct module module_dmarc_prefetch;
extern const struct module module_dkim_signing;
extern const struct module module_arc;

const struct module *const modules_registry[] = {
    &module_gtube,
    &module_headers,
    &module_addresses,
    &module_mua,             /* after headers: reads MAILLIST for FORGED_MUA_MAILLIST */
    &module_body,
    &module_mime_types,
    &module_urls,
    &module_bayes,
    &module_spf,
    &module_dkim,
    &module_arc,
    &module_dmarc_prefetch,  /* stage 0: _dmarc lookups overlap SPF and DKIM */
    &module_dmarc,
    &module_dkim_signing,
    &module_greylist,        /* post_scan: may defer with a soft reject */
    &module_milter_headers,  /* after the checks: headers from the final verdict */
    &module_history,         /* last: its post_scan records the final verdict */
    NULL,
};
