/* AWS error responses (collector/aws/errors.c): the body as JSON or XML,
 * the first line split into the status and the two headers
 * ("<status> <x-amzn-ErrorType> <x-amzn-query-error>"). */
#include "fuzz_util.h"
#include "collector/aws/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *head = fuzz_take_line(&data, &size);
    int status = atoi(head);
    char *type = strchr(head, ' ');
    char *query = NULL;
    if (type) {
        *type++ = 0;
        query = strchr(type, ' ');
        if (query)
            *query++ = 0;
    }
    char *body = malloc(size ? size : 1);
    memcpy(body, data, size);
    struct aws_error err;
    (void)aws_error_parse(status, type, query, body, size, &err);
    (void)aws_error_classify(type ? type : "", status);
    char out[128];
    (void)aws_xml_text(body, size, "Code", out, sizeof out);
    aws_error_normalize_code(head, out, sizeof out);
    free(body);
    free(head);
    return 0;
}
