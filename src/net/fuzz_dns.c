/* libFuzzer target: DNS answer parsing (TTL scan and c-ares record parsers). */
#include <stdint.h>

#include "core/arena.h"
#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum dns_type types[] = {DNS_T_A, DNS_T_AAAA, DNS_T_TXT, DNS_T_MX, DNS_T_PTR};
    struct arena *a = arena_new(0);
    dns_answer_min_ttl(data, size);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        dns_reply_parse(a, data, size, types[i], "example.org");
    arena_free(&a);
    return 0;
}
