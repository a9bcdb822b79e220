#ifndef WINNOW_MODULES_ADDR_COMPAT_H
#define WINNOW_MODULES_ADDR_COMPAT_H
/*
 * Address headers read the way Rspamd 3.4 reads them
 * (rspamd_email_address_from_mime() and its RFC 5321 path grammar), for the
 * rules whose result hangs on Rspamd's quirks: which token counts as the
 * address, when an address is "valid", what its domain is when it is not.
 * The message parser's own lists (struct mime_addrlist, GMime) stay the
 * reference for everything else.
 */
#include <stdbool.h>
#include <stddef.h>

struct arena;
struct message;
struct task;

struct compat_addr {
    const char *addr;            /* NUL-terminated; "" for an empty element */
    size_t addr_len;
    const char *user;            /* local part (unquoted); "" when none */
    const char *domain;          /* as written, NUL-terminated; "" when none */
    size_t domain_len;
    bool valid;                  /* an RFC 5321 path (Rspamd's "valid" flag) */
    bool has_8bit;               /* not valid, and 8-bit bytes in the token */
};

struct compat_addrlist {
    struct compat_addr *a;
    size_t n, cap;
};

/* At most this many addresses are kept per list (further ones are dropped). */
#define ADDR_COMPAT_MAX 1024

/* Appends the addresses of one raw header value (unfolded as Rspamd does
 * before reading it) to *list.  Never fails; hostile input yields invalid
 * or empty elements, as in Rspamd. */
void addr_compat_parse(struct arena *arena, const char *value, size_t len,
                       struct compat_addrlist *list);

/* Rspamd's EMAIL_PLUS_ALIASES prefilter (rules/misc.lua) on a recipient
 * list: when an address carries a "+tag" (or is a dotted gmail.com one),
 * a copy of the whole list with tags and gmail dots removed (and
 * googlemail.com made gmail.com) is appended, the way Rspamd's
 * set_recipients(..., 'alias') appends it.  Rspamd's C functions see both
 * halves; its Lua rules see only the copy.  Returns the index where the
 * Lua view starts: 0 when nothing was rewritten. */
size_t addr_compat_dealias(struct arena *arena, struct compat_addrlist *list);

/* The lists the rules read, made once per task (the first module that asks
 * reads the headers; the others get the same lists): From as
 * get_from('mime'), and To/Cc/Bcc as get_recipients('mime') after the
 * plus-alias prefilter (addr_compat_dealias; *lua_first_r is its return).
 * Both empty without a parsed message. */
const struct compat_addrlist *addr_compat_from(struct task *task);
const struct compat_addrlist *addr_compat_rcpts(struct task *task, size_t *lua_first_r);

#endif
