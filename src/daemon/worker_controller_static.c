/*
 * The web interface's files, served by the controller from static_dir.
 * (Placeholder: answers 404 until the web interface lands.)
 */
#include <stddef.h>

#include "daemon/worker.h"
#include "daemon/worker_controller.h"

int ctl_static_configure(const struct conf_obj *section, struct arena *arena,
                         const char **error_r)
{
    (void)section; (void)arena; (void)error_r;
    return 0;
}

void ctl_ep_static(struct ctl_req *r)
{
    ctl_reply(r->conn, 404, "Not found", "text/plain", "Not found", 9, r->keep_alive);
}
