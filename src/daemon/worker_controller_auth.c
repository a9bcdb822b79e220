/*
 * Controller authentication and authorisation (spec §5.1, JOURNEY §7).
 *
 * Two stored passwords: `password` lets a client use the read-only views,
 * `enable_password` also the commands that change state (learn, resets).
 * Without an enable_password, `password` grants both (Rspamd's legacy mode).
 * Passwords are checked in worker_controller_pw.c (argon2id, Rspamd's
 * "$1$", plain text; "$2$" never matches).  The literal passwords q1 and
 * q2, Rspamd's stock placeholders, are always refused when a client sends
 * them.
 *
 * `secure_ip` networks need no password.  Absent from the configuration it
 * defaults to 127.0.0.1 and ::1 only while no password is set: a fresh
 * install works on loopback like Rspamd's stock config, and setting a
 * password makes every client present it, as JOURNEY §7 expects.  A client
 * on a secure address that forwards for someone else (X-Forwarded-For,
 * X-Real-IP: a local web proxy) is judged by the forwarded address.
 *
 * Failed attempts (a wrong password, not a missing one) are counted per
 * client address in a small table: after max_failures within fail_window
 * seconds the address gets 429 for `lockout` seconds, whatever it sends.
 * That also bounds the hashing work a stranger can cause.  The table holds
 * CTL_RL_SLOTS addresses; when full the stalest entry is reused.
 */
#include <math.h>
#include <sodium.h>
#include <string.h>

#include "conf/conf.h"
#include "core/arena.h"
#include "daemon/worker_controller.h"

#define CTL_RL_SLOTS 256

struct rl_slot {
    struct netaddr addr;
    unsigned failures;
    double window_start;
    double locked_until;
    bool used;
};

static struct rl_slot rl_table[CTL_RL_SLOTS];

void ctl_auth_reset_state(void)
{
    memset(rl_table, 0, sizeof(rl_table));
    ctl_password_reset();
}

/* ---- rate limiting ---- */

static struct rl_slot *rl_find(const struct netaddr *addr, bool create)
{
    struct rl_slot *stalest = &rl_table[0];

    for (size_t i = 0; i < CTL_RL_SLOTS; i++) {
        struct rl_slot *s = &rl_table[i];
        if (s->used && memcmp(&s->addr, addr, sizeof(*addr)) == 0)
            return s;
    }
    if (!create)
        return NULL;
    for (size_t i = 0; i < CTL_RL_SLOTS; i++) {
        struct rl_slot *s = &rl_table[i];
        if (!s->used)
            return s;
        if (fmax(s->window_start, s->locked_until) <
            fmax(stalest->window_start, stalest->locked_until))
            stalest = s;
    }
    return stalest;
}

static void rl_fail(const struct ctl_auth_conf *ac, const struct netaddr *addr, double now)
{
    struct rl_slot *s = rl_find(addr, true);

    if (!s->used || memcmp(&s->addr, addr, sizeof(*addr)) != 0) {
        memset(s, 0, sizeof(*s));
        s->addr = *addr;
        s->used = true;
    }
    if (now - s->window_start > ac->fail_window) {
        s->window_start = now;
        s->failures = 0;
    }
    if (++s->failures >= ac->max_failures) {
        s->locked_until = now + ac->lockout;
        s->failures = 0;
        s->window_start = now;
    }
}

static bool rl_locked(const struct netaddr *addr, double now, double *retry_after_r)
{
    struct rl_slot *s = rl_find(addr, false);

    if (s == NULL || s->locked_until <= now)
        return false;
    *retry_after_r = s->locked_until - now;
    return true;
}

/* ---- configuration ---- */

static const char *stored_value(const struct conf_obj *section, const char *key)
{
    const char *s = conf_as_string(conf_first(conf_get(section, key)));

    if (s == NULL || s[0] == '\0' || strcmp(s, "false") == 0)
        return NULL;
    return s;
}

static int add_secure(struct ctl_auth_conf *ac, const char *s, const char **error_r)
{
    if (ac->nsecure == CTL_SECURE_MAX) {
        *error_r = "secure_ip: too many networks";
        return -1;
    }
    if (netmask_parse(s, strlen(s), &ac->secure[ac->nsecure]) < 0) {
        *error_r = "secure_ip: expected addresses or networks such as \"127.0.0.1\" or "
                   "\"10.0.0.0/8\"";
        return -1;
    }
    ac->nsecure++;
    return 0;
}

int ctl_auth_configure(struct ctl_auth_conf *ac, const struct conf_obj *section,
                       struct arena *arena, const char **error_r)
{
    const struct conf_obj *sec = section ? conf_get(section, "secure_ip") : NULL;

    (void)arena;
    memset(ac, 0, sizeof(*ac));
    if (sodium_init() < 0) {
        *error_r = "libsodium initialisation failed";
        return -1;
    }
    ac->max_failures = 5;
    ac->fail_window = 60;
    ac->lockout = 60;
    ac->password = section ? stored_value(section, "password") : NULL;
    ac->enable_password = section ? stored_value(section, "enable_password") : NULL;
    for (const struct conf_obj *e = conf_each_first(sec); e; e = conf_each_next(sec, e)) {
        const char *s = conf_as_string(e);
        ac->secure_set = true;
        if (s == NULL) {
            *error_r = "secure_ip: expected strings";
            return -1;
        }
        if (s[0] != '\0' && add_secure(ac, s, error_r) < 0)
            return -1;
    }
    if (!ac->secure_set && ac->password == NULL && ac->enable_password == NULL) {
        if (add_secure(ac, "127.0.0.1", error_r) < 0 || add_secure(ac, "::1", error_r) < 0)
            return -1;
    }
    return 0;
}

/* ---- decisions ---- */

static bool is_secure(const struct ctl_auth_conf *ac, const struct netaddr *a)
{
    for (size_t i = 0; a->family != 0 && i < ac->nsecure; i++)
        if (netmask_match(&ac->secure[i], a))
            return true;
    return false;
}

/* The last element of X-Forwarded-For ("a, b, c" -> c), or X-Real-IP. */
static bool forwarded_addr(const char *fwd, struct netaddr *out)
{
    const char *p = strrchr(fwd, ',');
    const char *start = p ? p + 1 : fwd;
    size_t len;

    while (*start == ' ' || *start == '\t')
        start++;
    len = strlen(start);
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
        len--;
    return len > 0 && netaddr_parse(start, len, out) == 0;
}

static enum ctl_auth_result check_password(const struct ctl_auth_conf *ac,
                                           const struct ctl_auth_check *chk, bool *read_only_r)
{
    const char *pw = chk->password;

    if (strcmp(pw, "q1") == 0 || strcmp(pw, "q2") == 0)
        return CTL_AUTH_WRONG;
    if (ctl_password_matches(ac->enable_password, pw)) {
        *read_only_r = false;
        return CTL_AUTH_OK;
    }
    if (!ctl_password_matches(ac->password, pw))
        return CTL_AUTH_WRONG;
    if (ac->enable_password == NULL) {       /* legacy: password grants everything */
        *read_only_r = false;
        return CTL_AUTH_OK;
    }
    *read_only_r = true;
    return chk->need == CTL_PRIV_ENABLE ? CTL_AUTH_FORBIDDEN : CTL_AUTH_OK;
}

enum ctl_auth_result ctl_auth_decide(const struct ctl_auth_conf *ac,
                                     const struct ctl_auth_check *chk, bool *read_only_r,
                                     double *retry_after_r)
{
    struct netaddr client = *chk->peer;
    enum ctl_auth_result res;

    *read_only_r = false;
    *retry_after_r = 0;
    if (chk->need == CTL_PRIV_NONE)
        return CTL_AUTH_OK;
    if (is_secure(ac, &client)) {
        struct netaddr fwd;
        if (chk->forwarded == NULL)
            return CTL_AUTH_OK;
        /* A local proxy speaking for someone else: judge that someone.  An
         * address we cannot read is nobody we trust. */
        if (forwarded_addr(chk->forwarded, &fwd)) {
            if (is_secure(ac, &fwd))
                return CTL_AUTH_OK;
            client = fwd;
        }
    }
    if (rl_locked(&client, chk->now, retry_after_r))
        return CTL_AUTH_LOCKED;
    if (ac->password == NULL && ac->enable_password == NULL) {
        if (chk->need == CTL_PRIV_READ || ac->nsecure == 0)
            return CTL_AUTH_OK;
        return CTL_AUTH_NO_ENABLE;
    }
    if (chk->password == NULL)
        return CTL_AUTH_MISSING;
    res = check_password(ac, chk, read_only_r);
    if (res == CTL_AUTH_WRONG)
        rl_fail(ac, &client, chk->now);
    return res;
}
