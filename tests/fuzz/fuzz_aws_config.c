/* Shared credentials and config files (collector/aws/shared_config.c):
 * parse, then look profiles and keys up as the credential chain does. */
#include "fuzz_util.h"
#include "collector/aws/shared_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    struct aws_ini ini;
    char err[256];
    if (aws_ini_parse(text, size, &ini, err, sizeof err) == 0) {
        for (int cfg = 0; cfg < 2; cfg++) {
            const struct aws_ini_section *s = aws_profile(&ini, "default", cfg);
            if (s) {
                (void)aws_ini_get(s, "aws_access_key_id");
                (void)aws_ini_get(s, "role_arn");
            }
            (void)aws_profile(&ini, "dev", cfg);
        }
        (void)aws_ini_section(&ini, "sso-session x");
        aws_ini_free(&ini);
    }
    free(text);
    return 0;
}
