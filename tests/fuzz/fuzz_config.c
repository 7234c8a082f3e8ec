/* The configuration (collector/core/config.c and the option tables of every
 * section, as check-config reads it): the input parsed from a string, then
 * as a file through agent_load, which applies every option table and
 * reports errors through struct diag. Nothing is started. */
#include "fuzz_util.h"
#include "collector/agent/agent.h"
#include "collector/core/config.h"
#include "collector/core/log.h"

#include <fcntl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) { /* what the loaders log is not the point here */
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd >= 0)
            log_set_fd(fd);
        quiet = 1;
    }
    char *text = fuzz_cstr(data, size);
    struct config cfg = {0};
    struct diag diag = {0};
    (void)config_load_string(&cfg, "fuzz.conf", text, &diag);
    config_free(&cfg);
    diag_free(&diag);
    free(text);

    char path[128];
    snprintf(path, sizeof path, "%s/fuzz.conf", fuzz_tmpdir());
    if (fuzz_write_file(path, data, size) < 0)
        abort();
    struct diag d2 = {0};
    struct agent *a = agent_load(path, &d2);
    if (a)
        agent_free(a);
    diag_free(&d2);
    unlink(path);
    return 0;
}
