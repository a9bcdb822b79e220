/*
 * HTTP/1.1 response writers: status line, the fixed header set every reply
 * carries (Connection, Server, Date, Content-Length, Content-Type), then the
 * body.  Everything is appended to a caller-owned struct buf.
 *
 * The Date header is formatted by hand rather than with strftime so the
 * process locale cannot change day and month names.
 */
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "proto/http/http.h"

#define SERVER_NAME "winnow/0.1"

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {204, "No Content"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {411, "Length Required"},
    {413, "Payload Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *http_status_reason(int status)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

static void put_date(struct buf *out)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
        tm.tm_mon > 11)
        return;
    buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday],
               tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
               tm.tm_sec);
}

void http_reply(struct buf *out, int status, const char *reason, const char *content_type,
                const char *body, size_t body_len, bool keep_alive, const char *extra_headers)
{
    if (reason == NULL)
        reason = http_status_reason(status);
    buf_printf(out, "HTTP/1.1 %d %s\r\n", status, reason);
    buf_printf(out, "Connection: %s\r\n", keep_alive ? "keep-alive" : "close");
    buf_puts(out, "Server: " SERVER_NAME "\r\n");
    put_date(out);
    buf_printf(out, "Content-Length: %zu\r\n", body_len);
    if (content_type != NULL)
        buf_printf(out, "Content-Type: %s\r\n", content_type);
    if (extra_headers != NULL && extra_headers[0] != '\0') {
        size_t n = strlen(extra_headers);
        buf_append(out, extra_headers, n);
        if (n < 2 || memcmp(extra_headers + n - 2, "\r\n", 2) != 0)
            buf_puts(out, "\r\n");
    }
    buf_puts(out, "\r\n");
    if (body_len > 0)
        buf_append(out, body, body_len);
}

void http_reply_error_reason(struct buf *out, int status, const char *reason, const char *msg,
                             bool keep_alive)
{
    struct buf body = BUF_INIT;
    buf_puts(&body, "{\"error\":");
    json_escape(&body, msg ? msg : "", msg ? strlen(msg) : 0);
    buf_putc(&body, '}');
    http_reply(out, status, reason, "application/json", body.data, body.len, keep_alive, NULL);
    buf_free(&body);
}

void http_reply_error(struct buf *out, int status, const char *msg, bool keep_alive)
{
    http_reply_error_reason(out, status, NULL, msg, keep_alive);
}
