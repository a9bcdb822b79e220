/* libFuzzer target: the control socket's request-line parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctlsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *req = malloc(size + 1);
    char cmd[32];

    if (req == NULL)
        return 0;
    memcpy(req, data, size);
    req[size] = '\0';
    if (ctlsock_parse_command(req, cmd, sizeof(cmd)) && strlen(cmd) >= sizeof(cmd))
        abort();
    free(req);
    return 0;
}
