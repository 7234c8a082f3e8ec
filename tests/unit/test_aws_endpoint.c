/* Region -> endpoint, FIPS, dual-stack, China, overrides; URL parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "collector/aws/endpoint.h"

static const char *env_names[8], *env_values[8];
static int env_count;

static char *fake_getenv(const char *name)
{
    for (int i = 0; i < env_count; i++)
        if (strcmp(env_names[i], name) == 0) return (char *)env_values[i];
    return NULL;
}

static void fake_env(const char *name, const char *value)
{
    env_names[env_count] = name;
    env_values[env_count] = value;
    env_count++;
}

static void check_default(enum aws_service svc, const char *region, int fips, int ds,
                          const char *want)
{
    char out[256];
    aws_endpoint_default(svc, region, fips, ds, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_defaults(void **state)
{
    (void)state;
    check_default(AWS_SVC_LOGS, "us-east-1", 0, 0, "https://logs.us-east-1.amazonaws.com");
    check_default(AWS_SVC_MONITORING, "eu-west-1", 0, 0, "https://monitoring.eu-west-1.amazonaws.com");
    check_default(AWS_SVC_STS, "ap-southeast-2", 0, 0, "https://sts.ap-southeast-2.amazonaws.com");
    check_default(AWS_SVC_LOGS, "cn-north-1", 0, 0, "https://logs.cn-north-1.amazonaws.com.cn");
    check_default(AWS_SVC_MONITORING, "cn-northwest-1", 0, 0,
                  "https://monitoring.cn-northwest-1.amazonaws.com.cn");
    check_default(AWS_SVC_LOGS, "us-west-2", 1, 0, "https://logs-fips.us-west-2.amazonaws.com");
    check_default(AWS_SVC_LOGS, "us-west-2", 0, 1, "https://logs.us-west-2.api.aws");
    check_default(AWS_SVC_MONITORING, "us-gov-west-1", 1, 1,
                  "https://monitoring-fips.us-gov-west-1.api.aws");
    check_default(AWS_SVC_LOGS, "cn-north-1", 0, 1,
                  "https://logs.cn-north-1.api.amazonwebservices.com.cn");
    assert_string_equal(aws_service_name(AWS_SVC_MONITORING), "monitoring");
    assert_string_equal(aws_service_endpoint_env(AWS_SVC_LOGS), "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
    assert_string_equal(aws_service_endpoint_env(AWS_SVC_MONITORING), "AWS_ENDPOINT_URL_CLOUDWATCH");
}

static void test_overrides(void **state)
{
    (void)state;
    char out[256], err[256];
    const char *origin;
    env_count = 0;
    assert_int_equal(aws_endpoint_resolve(AWS_SVC_LOGS, "us-east-1", NULL, 0, 0, fake_getenv,
                                          out, sizeof out, &origin, err, sizeof err), 0);
    assert_string_equal(out, "https://logs.us-east-1.amazonaws.com");
    assert_string_equal(origin, "default");

    fake_env("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/");
    assert_int_equal(aws_endpoint_resolve(AWS_SVC_LOGS, "us-east-1", NULL, 0, 0, fake_getenv,
                                          out, sizeof out, &origin, err, sizeof err), 0);
    assert_string_equal(out, "http://127.0.0.1:4566");
    assert_string_equal(origin, "AWS_ENDPOINT_URL");

    fake_env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "https://logs.example.test:8443/prefix/");
    assert_int_equal(aws_endpoint_resolve(AWS_SVC_LOGS, "us-east-1", NULL, 0, 0, fake_getenv,
                                          out, sizeof out, &origin, err, sizeof err), 0);
    assert_string_equal(out, "https://logs.example.test:8443/prefix");
    assert_string_equal(origin, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
    /* the metrics service has its own variable: falls back to the global one */
    assert_int_equal(aws_endpoint_resolve(AWS_SVC_MONITORING, "us-east-1", NULL, 0, 0, fake_getenv,
                                          out, sizeof out, &origin, err, sizeof err), 0);
    assert_string_equal(out, "http://127.0.0.1:4566");

    /* configuration wins over everything */
    assert_int_equal(aws_endpoint_resolve(AWS_SVC_LOGS, "us-east-1", "http://localhost:9000", 0, 0,
                                          fake_getenv, out, sizeof out, &origin, err, sizeof err), 0);
    assert_string_equal(out, "http://localhost:9000");
    assert_string_equal(origin, "configuration");

    /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true: variables ignored */
    fake_env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    assert_int_equal(aws_endpoint_resolve(AWS_SVC_LOGS, "eu-west-1", NULL, 1, 0, fake_getenv,
                                          out, sizeof out, &origin, err, sizeof err), 0);
    assert_string_equal(out, "https://logs-fips.eu-west-1.amazonaws.com");

    /* bad override, bad region */
    assert_int_equal(aws_endpoint_resolve(AWS_SVC_LOGS, "us-east-1", "ftp://x", 0, 0, fake_getenv,
                                          out, sizeof out, &origin, err, sizeof err), -1);
    assert_non_null(strstr(err, "ftp://x"));
    assert_int_equal(aws_endpoint_resolve(AWS_SVC_LOGS, "us east/1", NULL, 0, 0, fake_getenv,
                                          out, sizeof out, &origin, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid region"));
    env_count = 0;
}

static void test_url_parse(void **state)
{
    (void)state;
    struct aws_url u;
    assert_int_equal(aws_url_parse("https://logs.us-east-1.amazonaws.com", &u), 0);
    assert_true(u.https);
    assert_string_equal(u.host, "logs.us-east-1.amazonaws.com");
    assert_string_equal(u.hostport, "logs.us-east-1.amazonaws.com");
    assert_string_equal(u.path, "/");
    assert_int_equal(aws_url_parse("http://127.0.0.1:8080/", &u), 0);
    assert_false(u.https);
    assert_string_equal(u.hostport, "127.0.0.1:8080");
    assert_string_equal(u.base, "http://127.0.0.1:8080");
    assert_int_equal(aws_url_parse("https://h:443/x/y?q=1", &u), 0);
    assert_string_equal(u.hostport, "h");
    assert_string_equal(u.path, "/x/y");
    assert_int_equal(aws_url_parse("http://[::1]:9000", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.hostport, "[::1]:9000");
    assert_int_equal(aws_url_parse("HTTP://Example.com:80", &u), 0);
    assert_string_equal(u.hostport, "Example.com");
    assert_int_equal(aws_url_parse("ftp://x", &u), -1);
    assert_int_equal(aws_url_parse("http://", &u), -1);
    assert_int_equal(aws_url_parse("http://h:0", &u), -1);
    assert_int_equal(aws_url_parse("http://h:99999", &u), -1);
    assert_int_equal(aws_url_parse("http://h:12ab", &u), -1);
    assert_int_equal(aws_url_parse("http://[::1", &u), -1);
    assert_int_equal(aws_url_parse("http://user@h", &u), -1);
    assert_int_equal(aws_url_parse(NULL, &u), -1);
}

static void test_region(void **state)
{
    (void)state;
    assert_true(aws_region_valid("us-east-1"));
    assert_true(aws_region_valid("cn-northwest-1"));
    assert_false(aws_region_valid(""));
    assert_false(aws_region_valid(NULL));
    assert_false(aws_region_valid("-x"));
    assert_false(aws_region_valid("us.east"));
    assert_false(aws_region_valid("evil.com/x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_region),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
