/* Credentials answered by the ECS / IMDS endpoints (collector/aws/credentials.c)
 * and the ISO 8601 expiration times in them. */
#include "fuzz_util.h"
#include "collector/aws/credentials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1);
    memcpy(body, data, size);
    struct aws_creds creds;
    memset(&creds, 0, sizeof creds);
    char err[256];
    if (aws_creds_parse_json(body, size, &creds, err, sizeof err) == 0) {
        if (!memchr(creds.akid, 0, sizeof creds.akid) || !memchr(creds.token, 0, sizeof creds.token))
            abort(); /* fields stay terminated */
    }
    aws_creds_clear(&creds);
    free(body);
    char *text = fuzz_cstr(data, size);
    (void)aws_parse_iso8601_ms(text);
    free(text);
    return 0;
}
