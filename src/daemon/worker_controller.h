#ifndef WINNOW_DAEMON_WORKER_CONTROLLER_H
#define WINNOW_DAEMON_WORKER_CONTROLLER_H
/*
 * Between the files of the controller worker (worker_controller*.c) and its
 * unit tests: routing (worker_controller.c), authorisation
 * (worker_controller_auth.c), password verification (_pw.c), the statistics
 * views (_stat.c), history (_history.c), learning and scanning (_learn.c).
 * Not for other workers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/netaddr.h"
#include "proto/http/http.h"

struct arena;
struct conn;
struct conf_obj;
struct worker;

/* What an endpoint needs from the caller (spec §5.1). */
enum ctl_priv { CTL_PRIV_NONE = 0, CTL_PRIV_READ, CTL_PRIV_ENABLE };

/* ---- authentication (worker_controller_auth.c) ---- */

#define CTL_SECURE_MAX 64

struct ctl_auth_conf {
    const char *password;        /* stored form ($argon2id$... or plain), NULL = unset */
    const char *enable_password;
    struct netmask secure[CTL_SECURE_MAX];
    size_t nsecure;
    bool secure_set;             /* secure_ip given in the configuration */
    unsigned max_failures;       /* per client address and window; default 5 */
    double fail_window;          /* seconds; default 60 */
    double lockout;              /* seconds a client is refused after that; default 60 */
};

/* Reads password, enable_password, secure_ip (string, list; "false" and ""
 * mean unset) from the worker block.  secure_ip absent: 127.0.0.1 and ::1
 * when neither password is set, else nobody.  -1 with *error_r. */
int ctl_auth_configure(struct ctl_auth_conf *ac, const struct conf_obj *section,
                       struct arena *arena, const char **error_r);

enum ctl_auth_result {
    CTL_AUTH_OK = 0,             /* allowed */
    CTL_AUTH_MISSING,            /* needs a password and none was given: 401 */
    CTL_AUTH_WRONG,              /* a wrong password: 401, counted */
    CTL_AUTH_FORBIDDEN,          /* right password, too weak for this command: 403 */
    CTL_AUTH_NO_ENABLE,          /* write command, no password configured and no secure_ip */
    CTL_AUTH_LOCKED,             /* too many failures from this address: 429 */
};

struct ctl_auth_check {
    const struct netaddr *peer;  /* family 0: unix socket */
    const char *password;        /* Password header or ?password=, NULL if none */
    const char *forwarded;       /* X-Forwarded-For (last element used) or X-Real-IP */
    enum ctl_priv need;
    double now;
};

/* Decides one request.  *read_only_r says whether the caller holds only the
 * read password (for "read_only" in /stat and /auth).  Failures update the
 * per-address counters; *retry_after_r is set for CTL_AUTH_LOCKED. */
enum ctl_auth_result ctl_auth_decide(const struct ctl_auth_conf *ac,
                                     const struct ctl_auth_check *chk, bool *read_only_r,
                                     double *retry_after_r);
/* Forgets counters and the verification cache (tests). */
void ctl_auth_reset_state(void);

/* ---- passwords (worker_controller_pw.c) ---- */

/* Does a client's password match a stored value (argon2id, Rspamd "$1$"
 * or "$2$", or plain text)?  NULL stored never matches. */
bool ctl_password_matches(const char *stored, const char *given);
/* Forgets the cache of verified passwords. */
void ctl_password_reset(void);
/* True for Rspamd's "$N$..." hashes: "$1$" (PBKDF2-BLAKE2b) and "$2$"
 * (Catena) are verified, other ids never match. */
bool ctl_auth_is_rspamd_hash(const char *stored);

/* ---- replies (worker_controller.c) ---- */

/* Every controller reply: Cache-Control: no-store (spec §5.1). */
void ctl_reply(struct conn *c, int status, const char *reason, const char *ctype,
               const char *body, size_t len, bool keep_alive);
void ctl_reply_json(struct conn *c, int status, const char *body, size_t len, bool keep_alive);
/* {"error": msg} */
void ctl_reply_error(struct conn *c, int status, const char *msg, bool keep_alive);

/* Per-request context handed to the endpoint functions. */
struct ctl_req {
    struct conn *conn;
    struct http_request *req;
    struct worker *w;
    bool read_only;
    bool keep_alive;
};

/* ---- endpoints ---- */
void ctl_ep_auth(struct ctl_req *r);
void ctl_ep_stat(struct ctl_req *r);
void ctl_ep_statreset(struct ctl_req *r);
void ctl_ep_actions(struct ctl_req *r);
void ctl_ep_symbols(struct ctl_req *r);
void ctl_ep_history(struct ctl_req *r);
void ctl_ep_historyreset(struct ctl_req *r);
void ctl_ep_learnspam(struct ctl_req *r);
void ctl_ep_learnham(struct ctl_req *r);
void ctl_ep_scan(struct ctl_req *r);
/* worker_controller_metrics.c: time series, error ring, Prometheus, health */
void ctl_ep_graph(struct ctl_req *r);
void ctl_ep_pie(struct ctl_req *r);
void ctl_ep_errors(struct ctl_req *r);
void ctl_ep_metrics(struct ctl_req *r);
void ctl_ep_status(struct ctl_req *r);
void ctl_ep_configdump(struct ctl_req *r);
void ctl_ep_counters(struct ctl_req *r);
/* Calls fn(r, bs, flag) once the Bayes statistics are read from Redis: at
 * once with bs NULL when Bayes is off, later (the connection held) when
 * not; bs NULL too when Redis does not answer, with a log line
 * (worker_controller_stat.c, for /stat and /metrics). */
struct bayes_stats;
typedef void (*ctl_bayes_fn)(struct ctl_req *r, const struct bayes_stats *bs, bool flag);
void ctl_with_bayes_stats(struct ctl_req *r, ctl_bayes_fn fn, bool flag);

/* hits / scanned for one symbol (worker_controller_stat.c) */
double ctl_symbol_frequency(const char *name);

/* ---- the web interface (worker_controller_static.c) ---- */

/* Reads `static_dir` from the worker block (default "$WWWDIR").  -1 with
 * *error_r when the option is malformed; a missing directory is not an
 * error (the API works without the web interface). */
int ctl_static_configure(const struct conf_obj *section, struct arena *arena,
                         const char **error_r);
/* The request path p (len bytes, %-escapes allowed) as a relative file
 * name below static_dir in out (outsize bytes, NUL-terminated): "/" and
 * ".../" become index.html; '.', '..', hidden and empty segments, control
 * bytes, backslashes and an escaped '/' are refused (-1 with *why_r). */
int ctl_static_path(const char *p, size_t len, char *out, size_t outsize, const char **why_r);
/* GET or HEAD of a path that is not an API endpoint: a file under
 * static_dir ("/" is index.html), or 404.  Needs no password. */
void ctl_ep_static(struct ctl_req *r);

/* Opaque checksum of the configuration snapshot ("config_id"). */
const char *ctl_config_id(const struct worker *w);

#endif
