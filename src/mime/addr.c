/*
 * addr.c: address headers (From, To, Cc, Reply-To, Sender), Message-ID and
 * Date.
 *
 * Addresses go through GMime's lenient RFC 5322 address parser, which also
 * decodes RFC 2047 display names; groups are flattened (the group itself is
 * an entry with no address, its members follow).  The result is copied into
 * the arena and GMime's objects are released before returning.  A header
 * GMime cannot make sense of yields one entry marked invalid, so "From:
 * garbage" is visible to the heuristics rather than looking absent.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "core/arena.h"
#include "core/str.h"
#include "mime/header.h"
#include "mime/mime_private.h"

/* Display names are capped so a hostile header cannot blow up the arena. */
#define MAX_ADDRS 1024

static void fill_mailbox(struct arena *arena, InternetAddress *ia, struct mime_address *a)
{
    const char *name = internet_address_get_name(ia);
    const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));

    if (name != NULL && *name != '\0')
        a->name = arena_strdup(arena, name);
    if (addr == NULL || *addr == '\0') {
        a->invalid = true;
        return;
    }
    a->addr = arena_strdup(arena, addr);
    const char *at = strrchr(a->addr, '@');
    if (at == NULL || at == a->addr || at[1] == '\0') {
        a->invalid = true;
        a->local = a->addr;
        return;
    }
    a->local = arena_strndup(arena, a->addr, (size_t)(at - a->addr));
    char *dom = arena_strdup(arena, at + 1);
    str_lower(dom, strlen(dom));
    a->domain = dom;
    /* A domain needs at least one character that is not a dot. */
    if (strspn(dom, ".") == strlen(dom) || strpbrk(dom, " \t<>()[],;:\"\\") != NULL)
        a->invalid = true;
}

static void add_list(struct arena *arena, InternetAddressList *l, struct mime_address *out,
                     size_t *n)
{
    int count = internet_address_list_length(l);

    for (int i = 0; i < count && *n < MAX_ADDRS; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        struct mime_address *a = &out[(*n)++];
        memset(a, 0, sizeof(*a));
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            fill_mailbox(arena, ia, a);
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            const char *name = internet_address_get_name(ia);
            a->name = name != NULL ? arena_strdup(arena, name) : NULL;
            InternetAddressList *members =
                internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            if (members != NULL)
                add_list(arena, members, out, n);
        } else {
            a->invalid = true;
        }
    }
}

static size_t count_all(InternetAddressList *l)
{
    size_t n = 0;
    int count = internet_address_list_length(l);

    for (int i = 0; i < count; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        n++;
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            InternetAddressList *m = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            if (m != NULL)
                n += count_all(m);
        }
    }
    return n;
}

static void split_addr(struct arena *arena, struct mime_address *a, const char *addr, size_t n)
{
    const char *at = memchr(addr, '@', n);

    a->addr = arena_strndup(arena, addr, n);
    a->local = arena_strndup(arena, addr, (size_t)(at - addr));
    char *dom = arena_strndup(arena, at + 1, n - (size_t)(at + 1 - addr));
    str_lower(dom, n - (size_t)(at + 1 - addr));
    a->domain = dom;
}

/* The shapes most headers take -- "local@domain", "<local@domain>",
 * "Plain Name <local@domain>" in printable ASCII with no quoting, comments,
 * groups, lists or encoded words -- read without GMime, whose object
 * set-up and teardown cost more than the rest of the header work.
 * Anything else returns false and goes to GMime. */
static bool simple_mailbox(struct arena *arena, const char *s, size_t n, struct mime_address *a)
{
    const char *lt = NULL, *gt = NULL, *at = NULL;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7F || strchr(",;:\"()\\[]", c) != NULL)
            return false;
        if (c == '=' && i + 1 < n && s[i + 1] == '?')
            return false;
        if (c == '<') {
            if (lt != NULL)
                return false;
            lt = s + i;
        } else if (c == '>') {
            if (gt != NULL)
                return false;
            gt = s + i;
        } else if (c == '@') {
            if (at != NULL)
                return false;
            at = s + i;
        }
    }
    const char *as = s, *ae = s + n;
    if (lt != NULL || gt != NULL) {
        if (lt == NULL || gt != s + n - 1 || gt < lt)
            return false;
        as = lt + 1;
        ae = gt;
    }
    if (at == NULL || at <= as || at + 1 >= ae || memchr(as, ' ', (size_t)(ae - as)) != NULL ||
        memchr(as, '\t', (size_t)(ae - as)) != NULL || at[1] == '.' || ae[-1] == '.')
        return false;
    memset(a, 0, sizeof(*a));
    if (lt != NULL) {
        const char *nm = s;
        size_t nl = (size_t)(lt - s);
        str_trim(&nm, &nl);
        if (nl > 0)
            a->name = arena_strndup(arena, nm, nl);
    }
    split_addr(arena, a, as, (size_t)(ae - as));
    return true;
}

void mime_addrlist_parse(struct arena *arena, const char *value, size_t len,
                         struct mime_addrlist *list_r)
{
    size_t ulen;
    char *u = mime_header_unfold(arena, value, len, &ulen);
    const char *s = u;

    list_r->a = NULL;
    list_r->n = 0;
    str_trim(&s, &ulen);
    if (ulen == 0)
        return;
    struct mime_address one;
    if (simple_mailbox(arena, s, ulen, &one)) {
        list_r->a = ARENA_NEW(arena, struct mime_address);
        *list_r->a = one;
        list_r->n = 1;
        return;
    }
    InternetAddressList *l = internet_address_list_parse(NULL, s);
    size_t total = l != NULL ? count_all(l) : 0;
    if (total == 0) {
        list_r->a = ARENA_NEW(arena, struct mime_address);
        list_r->a->invalid = true;
        list_r->n = 1;
    } else {
        if (total > MAX_ADDRS)
            total = MAX_ADDRS;
        list_r->a = ARENA_NEW_N(arena, struct mime_address, total);
        add_list(arena, l, list_r->a, &list_r->n);
    }
    if (l != NULL)
        g_object_unref(l);
}

const char *mime_message_id(struct arena *arena, const char *value, size_t len)
{
    size_t ulen;
    const char *s = mime_header_unfold(arena, value, len, &ulen);

    str_trim(&s, &ulen);
    const char *lt = memchr(s, '<', ulen);
    if (lt != NULL) {
        const char *gt = memchr(lt + 1, '>', ulen - (size_t)(lt + 1 - s));
        size_t n = gt != NULL ? (size_t)(gt - lt - 1) : ulen - (size_t)(lt + 1 - s);
        s = lt + 1;
        ulen = n;
        str_trim(&s, &ulen);
    }
    return arena_strndup(arena, s, ulen);
}

int64_t mime_date_parse(struct arena *arena, const char *value, size_t len)
{
    size_t ulen;
    const char *s = mime_header_unfold(arena, value, len, &ulen);

    str_trim(&s, &ulen);
    if (ulen == 0)
        return -1;
    /* GMime wants a C string; s is NUL-terminated at ulen after trimming
     * only on the left, so copy. */
    GDateTime *dt = g_mime_utils_header_decode_date(arena_strndup(arena, s, ulen));
    if (dt == NULL)
        return -1;
    int64_t t = g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    return t;
}
