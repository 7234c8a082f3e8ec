/* AWS error parsing: __type forms, message/Message, x-amzn-ErrorType,
 * x-amzn-query-error, query/XML errors, classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "collector/aws/errors.h"

static struct aws_error parse(int status, const char *etype, const char *qerr, const char *body)
{
    struct aws_error e;
    aws_error_parse(status, etype, qerr, body, body ? strlen(body) : 0, &e);
    return e;
}

static void test_type_forms(void **state)
{
    (void)state;
    struct aws_error e = parse(400, NULL, NULL,
                               "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}");
    assert_string_equal(e.code, "ThrottlingException");
    assert_string_equal(e.message, "Rate exceeded");
    assert_int_equal(e.kind, AWS_ERR_THROTTLE);

    e = parse(400, NULL, NULL, "{\"__type\":\"com.amazonaws.logs#ResourceNotFoundException\","
                               "\"Message\":\"The specified log group does not exist.\"}");
    assert_string_equal(e.code, "ResourceNotFoundException");
    assert_string_equal(e.message, "The specified log group does not exist.");
    assert_int_equal(e.kind, AWS_ERR_NOT_FOUND);

    e = parse(400, NULL, NULL, "{\"__type\":\"InvalidParameterException:http://internal.amazon.com/"
                               "coral/com.amazon.coral.validate/\",\"message\":\"bad\"}");
    assert_string_equal(e.code, "InvalidParameterException");
    assert_int_equal(e.kind, AWS_ERR_CLIENT);

    e = parse(400, NULL, NULL, "{\"__type\":\"aws.protocoltests#ValidationException:extra#x\"}");
    assert_string_equal(e.code, "ValidationException");
    assert_int_equal(e.kind, AWS_ERR_CLIENT);
}

static void test_headers(void **state)
{
    (void)state;
    struct aws_error e = parse(400, "ValidationException:http://internal.amazon.com/x", NULL,
                               "{\"message\":\"1 validation error\"}");
    assert_string_equal(e.code, "ValidationException");
    assert_string_equal(e.message, "1 validation error");
    /* __type wins over the header */
    e = parse(400, "Other", NULL, "{\"__type\":\"ThrottlingException\"}");
    assert_string_equal(e.code, "ThrottlingException");
    /* query-compatible JSON (CloudWatch): the query code wins */
    e = parse(400, "ThrottlingException", "Throttling;Sender",
              "{\"__type\":\"com.amazonaws.cloudwatch#ThrottlingException\",\"message\":\"x\"}");
    assert_string_equal(e.code, "Throttling");
    assert_int_equal(e.kind, AWS_ERR_THROTTLE);
    /* header only, empty body */
    e = parse(404, "ResourceNotFoundException", NULL, "");
    assert_string_equal(e.code, "ResourceNotFoundException");
    assert_int_equal(e.kind, AWS_ERR_NOT_FOUND);
    /* lower-case code/message (ECS credential endpoint) */
    e = parse(403, NULL, NULL, "{\"code\":\"AccessDenied\",\"message\":\"token invalid\"}");
    assert_string_equal(e.code, "AccessDenied");
    assert_int_equal(e.kind, AWS_ERR_AUTH);
}

static void test_xml(void **state)
{
    (void)state;
    struct aws_error e = parse(400, NULL, NULL,
        "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error>"
        "<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
        "<RequestId>abc</RequestId></ErrorResponse>");
    assert_string_equal(e.code, "Throttling");
    assert_string_equal(e.message, "Rate exceeded");
    assert_int_equal(e.kind, AWS_ERR_THROTTLE);

    e = parse(400, NULL, NULL,
        "<?xml version=\"1.0\"?>\n<ErrorResponse><Error><Code>InvalidParameterValue</Code>"
        "<Message>value &lt;x&gt; &amp; &quot;y&quot;</Message></Error></ErrorResponse>");
    assert_string_equal(e.code, "InvalidParameterValue");
    assert_string_equal(e.message, "value <x> & \"y\"");
    assert_int_equal(e.kind, AWS_ERR_CLIENT);

    e = parse(403, NULL, NULL, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code>"
                               "<Message>no</Message></Error></ErrorResponse>");
    assert_int_equal(e.kind, AWS_ERR_AUTH);
    assert_true(aws_error_wants_refresh(e.code));

    char out[32];
    assert_int_equal(aws_xml_text("<a><B>x</B></a>", 15, "C", out, sizeof out), -1);
    assert_int_equal(aws_xml_text("<a><B>xyz", 9, "B", out, sizeof out), -1);
    assert_int_equal(aws_xml_text("<B>0123456789</B>", 17, "B", out, 5), 0);
    assert_string_equal(out, "0123");
}

static void test_status_only(void **state)
{
    (void)state;
    struct aws_error e = parse(503, NULL, NULL, "");
    assert_int_equal(e.kind, AWS_ERR_TRANSIENT);
    assert_string_equal(e.message, "HTTP 503");
    e = parse(500, NULL, NULL, "{\"__type\":\"ServiceUnavailableException\",\"message\":\"x\"}");
    assert_int_equal(e.kind, AWS_ERR_TRANSIENT);
    e = parse(502, NULL, NULL, "<html>bad gateway</html>");
    assert_int_equal(e.kind, AWS_ERR_TRANSIENT);
    e = parse(429, NULL, NULL, NULL);
    assert_int_equal(e.kind, AWS_ERR_THROTTLE);
    e = parse(400, NULL, NULL, "not json at all");
    assert_int_equal(e.kind, AWS_ERR_CLIENT);
    e = parse(400, NULL, NULL, "{\"__type\":");
    assert_int_equal(e.kind, AWS_ERR_CLIENT);
    e = parse(200, NULL, NULL, "{}");
    assert_int_equal(e.kind, AWS_ERR_NONE);
    assert_string_equal(e.code, "");
}

static void test_classify(void **state)
{
    (void)state;
    static const char *const throttles[] = {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", NULL,
    };
    for (int i = 0; throttles[i]; i++)
        assert_int_equal(aws_error_classify(throttles[i], 400), AWS_ERR_THROTTLE);
    assert_int_equal(aws_error_classify("RequestTimeout", 400), AWS_ERR_TRANSIENT);
    assert_int_equal(aws_error_classify("RequestTimeoutException", 408), AWS_ERR_TRANSIENT);
    assert_int_equal(aws_error_classify("ExpiredTokenException", 400), AWS_ERR_EXPIRED);
    assert_int_equal(aws_error_classify("ExpiredToken", 400), AWS_ERR_EXPIRED);
    assert_int_equal(aws_error_classify("UnrecognizedClientException", 400), AWS_ERR_AUTH);
    assert_int_equal(aws_error_classify("AccessDeniedException", 400), AWS_ERR_AUTH);
    assert_int_equal(aws_error_classify("InvalidSignatureException", 400), AWS_ERR_AUTH);
    assert_int_equal(aws_error_classify("InvalidParameterException", 400), AWS_ERR_CLIENT);
    assert_int_equal(aws_error_classify("ValidationException", 400), AWS_ERR_CLIENT);
    assert_int_equal(aws_error_classify("DataAlreadyAcceptedException", 400), AWS_ERR_CLIENT);
    assert_int_equal(aws_error_classify("", 504), AWS_ERR_TRANSIENT);
    assert_int_equal(aws_error_classify("", 0), AWS_ERR_NETWORK);
    assert_int_equal(aws_error_classify("", 403), AWS_ERR_AUTH);
    assert_true(aws_error_wants_refresh("ExpiredTokenException"));
    assert_true(aws_error_wants_refresh("UnrecognizedClientException"));
    assert_false(aws_error_wants_refresh("AccessDeniedException"));
    assert_false(aws_error_wants_refresh(NULL));
    assert_string_equal(aws_error_kind_name(AWS_ERR_THROTTLE), "throttle");
    assert_string_equal(aws_error_kind_name(AWS_ERR_KIND_COUNT), "unknown");

    char out[8];
    aws_error_normalize_code("a#VeryLongCodeName", out, sizeof out);
    assert_string_equal(out, "VeryLon");
    aws_error_normalize_code(NULL, out, sizeof out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_forms),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_xml),
        cmocka_unit_test(test_status_only),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
