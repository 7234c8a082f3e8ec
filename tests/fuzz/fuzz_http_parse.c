/* The status endpoint's request parser (collector/status/http_parse.c) and
 * its listen address parser on the first line. */
#include "fuzz_util.h"
#include "collector/status/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    struct http_request req;
    int rc = http_parse_request(copy, size, &req);
    if (rc > 0) {
        if ((size_t)rc > size || req.head_len > size)
            abort();
        if (req.path + req.path_len > copy + size || req.method + req.method_len > copy + size)
            abort();
        (void)http_method_is(&req, "GET");
        (void)http_path_is(&req, "/health");
    }
    free(copy);
    char *line = fuzz_take_line(&data, &size);
    struct http_addr addr;
    char err[256];
    (void)http_addr_parse(line, &addr, err, sizeof err);
    free(line);
    return 0;
}
