/* libFuzzer target for the clients' HTTP response parser: the input is fed in
 * pieces whose sizes come from the first byte, then EOF is signalled. */
#include <stdint.h>
#include <stddef.h>

#include "proto/http/httpresp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_resp r;
    const char *error;
    size_t step, pos = 1;
    int rc = 0;

    if (size == 0)
        return 0;
    step = (size_t)(data[0] % 17) + 1;
    http_resp_init(&r, &(struct http_resp_limits){.max_line = 512, .max_body = 1 << 16});
    while (pos < size && rc == 0) {
        size_t n = size - pos < step ? size - pos : step;
        rc = http_resp_feed(&r, (const char *)data + pos, n, &error);
        pos += n;
    }
    if (rc == 0)
        http_resp_eof(&r, &error);
    http_resp_deinit(&r);
    return 0;
}
