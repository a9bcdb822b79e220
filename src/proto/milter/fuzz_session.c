/*
 * libFuzzer target: the milter session state machine (session.c, reply.c)
 * fed the input in two splits, answering every end of message in turn
 * with a reject, an add header and a failure, so replies are built against
 * whatever headers the input declared.
 */
#include <stdint.h>
#include <string.h>

#include "proto/milter/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct milter_hdr_op ops[] = {
    {"X-Spam", NULL, 0}, {"Received", NULL, -2}, {"X-Spamd-Result", "default: False", -1},
    {"X-Top", "1", 1},
};
static const struct milter_result results[] = {
    {.action = "reject", .smtp_message = "bad\r\nline"},
    {.action = "add header", .ops = ops, .nops = 4},
    {.action = "rewrite subject", .subject = "[SPAM] x"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct milter_session_limits lim = {.max_frame = 4096, .max_message = 8192,
                                        .max_headers = 64, .max_rcpts = 16};
    struct milter_session *s = milter_session_new(&lim);
    const char *p = (const char *)data;
    size_t split = size ? data[0] % (size + 1) : 0, off = 0, n = 0;
    size_t ends[2] = {split, size};
    for (int k = 0; k < 2; k++) {
        while (off < ends[k]) {
            size_t used = 0;
            const char *err;
            int ev = milter_session_feed(s, p + off, ends[k] - off, &used, &err);
            off += used;
            if (ev < 0 || ev == MILTER_EV_CLOSE)
                goto out;
            if (ev == MILTER_EV_SCAN) {
                milter_session_envelope(s);
                if (n % 4 == 3)
                    milter_session_answer_failure(s, n % 8 == 3);
                else
                    milter_session_answer(s, &results[n % 3], NULL);
                n++;
            }
            if (milter_session_output(s)->len > 65536)
                buf_reset(milter_session_output(s));
            if (ev == MILTER_EV_NONE)
                break;
        }
        off = ends[k];
    }
out:
    milter_session_free(&s);
    return 0;
}
