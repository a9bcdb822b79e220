/*
 * libFuzzer target for the HTTP / RSPAMC / SPAMC request parser
 * (src/proto/http/) and the header -> task mapping (src/proto/scan.c).
 *
 * The input is fed three ways: in one call, split in two at an offset taken
 * from the first byte, and in 7-byte pieces; each run keeps feeding the
 * unconsumed rest after a complete request (pipelining) and hands every
 * complete request to scan_request_to_task.  Small limits so the 413/431
 * paths are reachable with short inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/actions.h"
#include "core/task.h"
#include "proto/http/http.h"
#include "proto/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_request(const struct http_request *req)
{
    static struct actions acts;
    if (acts.n == 0)
        actions_init_defaults(&acts);
    (void)http_request_header(req, "Content-Length");
    (void)http_request_query(req, "IP");
    (void)scan_command_from_path(req->path);
    struct task *t = task_new(NULL, NULL, &acts);
    const char *err;
    (void)scan_request_to_task(req, t, &err);
    task_free(&t);
}

/* Feeds [p, p+len) in pieces of at most `step` bytes (0 = whole). */
static void run(const char *p, size_t len, size_t first, size_t step)
{
    static const struct http_limits lim = {
        .max_header_bytes = 4096, .max_headers = 32, .max_body = 65536};
    struct http_parser_state *ps = http_request_parser_new(&lim);
    size_t off = 0;
    int requests = 0;
    while (off < len && requests < 64) {
        size_t n = len - off;
        if (first > 0 && off < first)
            n = first - off;
        else if (step > 0 && n > step)
            n = step;
        size_t consumed = 0;
        struct http_request *req = NULL;
        int status = 0;
        const char *err = NULL;
        int rc = http_request_feed(ps, p + off, n, &consumed, &req, &status, &err);
        if (consumed > n)
            __builtin_trap();
        off += consumed;
        if (rc < 0)
            break;
        if (rc == 1) {
            use_request(req);
            requests++;
        } else if (consumed != n) {
            __builtin_trap();   /* "need more" must take everything */
        }
        (void)http_request_parser_want_continue(ps);
    }
    http_request_parser_free(&ps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    run(p, size, 0, 0);
    if (size > 1)
        run(p, size, (size_t)data[0] % size, 0);
    run(p, size, 0, 7);
    return 0;
}
