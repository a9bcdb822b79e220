/*
 * libFuzzer target: the web interface's request-path check.  Whatever it
 * accepts must be a plain relative name: no leading '/', no '.' or '..'
 * or empty segment, no hidden file, no control byte or backslash, within
 * the buffer.  The input is the path as the HTTP parser hands it over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/worker_controller.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_segments(const char *rel)
{
    const char *seg = rel;

    for (;;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || seg[0] == '.')
            abort();
        if (seg[n] == '\0')
            return;
        seg += n + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[256];
    const char *why = NULL;

    if (ctl_static_path((const char *)data, size, out, sizeof(out), &why) < 0) {
        if (why == NULL)
            abort();
        return 0;
    }
    size_t n = strnlen(out, sizeof(out));
    if (n == sizeof(out) || n == 0)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f || out[i] == '\\')
            abort();
    check_segments(out);
    return 0;
}
