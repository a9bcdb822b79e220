/* libFuzzer target: DMARC record parsing. */
#include <stdint.h>

#include "modules/dmarc/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dmarc_record rec;
    const char *err;
    dmarc_record_parse((const char *)data, size, &rec, &err);
    return 0;
}
