#ifndef WINNOW_MODULES_AUTHDNS_H
#define WINNOW_MODULES_AUTHDNS_H
/*
 * Glue shared by the mail-authentication modules (spf, dkim, dmarc):
 *
 * - a per-task DNS answer cache with a replay driver, for the restartable
 *   evaluators (spf_check, dmarc_check): the evaluator asks authdns_lookup()
 *   for each name; an unknown name starts a dns_task_query() and answers
 *   NULL ("pending"); once every started lookup is answered the module's
 *   rerun function is called again;
 * - a small per-task data slot (task id + key -> pointer), so DMARC in stage
 *   1 can read what SPF and DKIM found in stage 0 without a field in struct
 *   task (a generic task_set_data() in core/task.h would replace it);
 * - struct auth_results, the shared record itself.
 */
#include <stdbool.h>
#include <stddef.h>

#include "net/dns.h"

struct task;

/* ---- per-task data ---- */

/* Stores ptr under (task, key); the entry goes with the task's arena.  key is
 * compared by address: use a static string. */
void auth_task_data_set(struct task *t, const char *key, void *ptr);
void *auth_task_data_get(const struct task *t, const char *key);

/* What SPF and DKIM left for DMARC. */
struct auth_results {
    bool spf_checked;
    int spf_result;              /* enum spf_result */
    const char *spf_domain;      /* the domain SPF checked (MAIL FROM or HELO) */
    bool dkim_checked;
    const char **dkim_pass;      /* d= of passing signatures */
    size_t ndkim_pass;
    size_t ndkim_other;          /* signatures that did not pass */
};

/* The task's record, created (zeroed) on first use. */
struct auth_results *auth_results_get(struct task *t);
/* NULL when neither SPF nor DKIM ran. */
const struct auth_results *auth_results_peek(const struct task *t);

/* The message's header fields in order, as the DKIM/ARC code takes them
 * (raw bytes with folding, name length), in the task's arena. */
struct dkim_header;
struct dkim_header *auth_dkim_headers(struct task *t, size_t *n_r);

/* ---- DNS ---- */

struct authdns;
typedef void (*authdns_rerun_fn)(struct task *t, void *data);

struct authdns *authdns_new(struct task *t, authdns_rerun_fn rerun, void *data);
/* The reply for (name, type) when it has arrived.  Otherwise NULL: the lookup
 * is started (once) and rerun will be called when it and every other
 * outstanding lookup of this authdns are answered.  Case-insensitive names. */
const struct dns_reply *authdns_lookup(struct authdns *ad, const char *name, enum dns_type type);
/* Calls rerun now, and again whenever all started lookups have been answered
 * and the previous run asked for more.  Never re-entrant: an answer that
 * arrives during a run (from the resolver's cache) schedules another run
 * after this one. */
void authdns_run(struct authdns *ad);

/* Tests: replaces dns_task_query(dns_default(), ...) with a fake.  NULL
 * restores the default.  Without a resolver (no worker) every lookup
 * answers DNS_TEMPFAIL "no resolver". */
typedef void (*authdns_query_fn)(struct task *t, const char *name, enum dns_type type,
                                 dns_task_cb cb, void *data);
void authdns_set_query_fn(authdns_query_fn fn);

/* Joins the TXT records of a reply: "selector._domainkey" style users want
 * each record's strings concatenated (the resolver already does that per
 * record); this only turns a reply into parallel arrays in the task arena. */
void authdns_txt_arrays(struct task *t, const struct dns_reply *rep, const char ***strs_r,
                        size_t **lens_r, size_t *n_r);

/* ---- outbound mail ---- */

struct conf_obj;
struct config;

/* check_local / check_authed: the module's value, else the options{} one,
 * else false (spec §9.4).  -1 with *error_r on a wrong type. */
struct auth_outbound {
    const struct config *config; /* for local_addrs; may be NULL (tests) */
    bool check_local, check_authed;
};
int auth_outbound_configure(const struct conf_obj *section, const struct config *config,
                            struct auth_outbound *ob, const char **error_r);
/* True when the task is outbound (authenticated user or local IP) and the
 * module was not asked to check such mail. */
bool auth_outbound_skip(const struct task *t, const struct auth_outbound *ob);

/* ---- Authentication-Results (RFC 8601) ---- */

/* The value of an Authentication-Results field for the task, built from the
 * symbols the spf, dkim, dmarc and arc modules inserted:
 *   "mx.example.com; dkim=pass header.d=example.org header.s=sel;
 *    spf=pass smtp.mailfrom=a@example.org; dmarc=pass header.from=example.org"
 * ("authserv-id; none" when no method ran).  In the task arena; for the
 * milter_headers module's `authentication-results` routine. */
const char *auth_results_header(struct task *t, const char *authserv_id);

/* Lower-cased domain part of an address ("user@Example.COM" -> "example.com"),
 * NULL without '@' or with an empty domain.  In the task arena. */
const char *auth_addr_domain(struct task *t, const char *addr);

#endif
