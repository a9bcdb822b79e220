/* libFuzzer target: SPF record syntax check and macro expansion. */
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "modules/spf/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(0);
    const char *err, *out;
    spf_record_check(a, (const char *)data, size, &err);
    struct spf_request req = {0};
    netaddr_parse("2001:db8::1", 11, &req.ip);
    req.sender = "user@example.org";
    req.helo = "helo.example.org";
    spf_macro_expand(a, (const char *)data, size, &req, "example.org", size & 1, &out, &err);
    arena_free(&a);
    return 0;
}
