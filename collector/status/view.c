/* The reload counters of the view (view.h): kept by the runner across
 * configurations, read by the status endpoint. */
#include "collector/status/view.h"
#include "collector/core/util.h"

#include <stdlib.h>

void status_reloads_note(struct status_reloads *r, int ok, const char *error)
{
    free(r->last_error);
    r->last_error = NULL;
    if (ok) {
        r->ok++;
        r->generation++;
        r->loaded_ms = now_ms();
    } else {
        r->failed++;
        r->last_error = xstrdup(error ? error : "unknown error");
    }
}

void status_reloads_free(struct status_reloads *r)
{
    free(r->last_error);
    r->last_error = NULL;
}
