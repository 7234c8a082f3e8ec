/* Pure parsing and classification of AWS error responses.
 *
 * JSON (awsJson1.0/1.1): {"__type": "Code" | "prefix#Code" | "Code:extra",
 * "message" | "Message": "..."}; x-amzn-ErrorType header (same forms) when
 * __type is absent; x-amzn-query-error "Code;Sender" (query-compatible
 * services) wins as botocore does. Query/XML: <Error><Code>..</Code>
 * <Message>..</Message></Error>. */
#ifndef COLLECTOR_AWS_ERRORS_H
#define COLLECTOR_AWS_ERRORS_H

#include <stddef.h>

#include "collector/aws/aws.h"

/* Fill out from an HTTP response. Headers may be NULL. Always sets a kind:
 * AWS_ERR_NONE for 2xx. Returns out->kind. */
enum aws_error_kind aws_error_parse(int status, const char *error_type_header,
                                    const char *query_error_header, const char *body,
                                    size_t len, struct aws_error *out);

/* Kind for an error code (may be "") and HTTP status. */
enum aws_error_kind aws_error_classify(const char *code, int status);

/* "Code:extra" / "prefix#Code" -> "Code" into out. */
void aws_error_normalize_code(const char *raw, char *out, size_t outlen);

/* ExpiredToken and friends, UnrecognizedClient: credentials worth refreshing once. */
int aws_error_wants_refresh(const char *code);

int aws_error_is_throttle_code(const char *code);
int aws_error_is_transient_code(const char *code);

/* Text of the first <tag>...</tag> in xml, entities decoded. 0 or -1. */
int aws_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t outlen);

#endif
