/* Shared file parsing (profiles, comments, bad files), ISO-8601 expiry,
 * the EC2 host check on a fake sysfs root, the IMDS policy and the order of
 * the credential chain (source description only: no network here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/aws/aws.h"
#include "collector/aws/credentials.h"
#include "collector/aws/shared_config.h"
#include "collector/core/util.h"

extern char **environ;

static char tmpdir[256];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *tpath(const char *rel)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, rel);
    return buf[i];
}

/* Every test starts from an environment without AWS_* and HOME in tmpdir. */
static int setup(void **state)
{
    (void)state;
    for (;;) {
        int found = 0;
        for (char **e = environ; e && *e; e++) {
            if (strncmp(*e, "AWS_", 4) == 0) {
                char name[256];
                size_t n = strcspn(*e, "=");
                if (n >= sizeof name) n = sizeof name - 1;
                memcpy(name, *e, n);
                name[n] = '\0';
                unsetenv(name);
                found = 1;
                break;
            }
        }
        if (!found) break;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_aws_credentials.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    setenv("HOME", tmpdir, 1);
    mkdir(tpath(".aws"), 0700);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- shared files ---- */

static void test_ini_profiles(void **state)
{
    (void)state;
    const char *text =
        "# comment\n"
        "; another comment\n"
        "[default]\n"
        "aws_access_key_id = AKIDDEFAULT\n"
        "AWS_Secret_Access_Key=secretdefault   \n"
        "\n"
        "[profile dev]\r\n"
        "region: eu-west-1\r\n"
        "s3 =\n"
        "    max_concurrent_requests = 20\n"
        "    addressing_style = path\n"
        "[profile   spaced]\n"
        "region = ap-south-1\n"
        "[prod]\n"
        "aws_access_key_id = A\n"
        "aws_access_key_id = B\n"
        "note = first\n"
        "  second\n";
    struct aws_ini ini;
    char err[256];
    assert_int_equal(aws_ini_parse(text, strlen(text), &ini, err, sizeof err), 0);
    assert_int_equal(ini.nsections, 4);
    const struct aws_ini_section *d = aws_profile(&ini, "default", 0);
    assert_string_equal(aws_ini_get(d, "aws_access_key_id"), "AKIDDEFAULT");
    assert_string_equal(aws_ini_get(d, "aws_secret_access_key"), "secretdefault");
    /* config-file naming */
    const struct aws_ini_section *dev = aws_profile(&ini, "dev", 1);
    assert_non_null(dev);
    assert_null(aws_profile(&ini, "dev", 0));
    assert_string_equal(aws_ini_get(dev, "region"), "eu-west-1");
    assert_string_equal(aws_ini_get(dev, "s3.max_concurrent_requests"), "20");
    assert_string_equal(aws_ini_get(dev, "s3.addressing_style"), "path");
    assert_string_equal(aws_ini_get(aws_profile(&ini, "spaced", 1), "region"), "ap-south-1");
    assert_non_null(aws_profile(&ini, "default", 1));
    assert_non_null(aws_profile(&ini, NULL, 1));
    const struct aws_ini_section *prod = aws_profile(&ini, "prod", 0);
    assert_string_equal(aws_ini_get(prod, "aws_access_key_id"), "B");   /* last wins */
    assert_string_equal(aws_ini_get(prod, "note"), "first\nsecond");
    assert_null(aws_ini_get(prod, "missing"));
    assert_null(aws_profile(&ini, "nope", 0));
    aws_ini_free(&ini);

    /* "[profile default]" is accepted in the config file */
    const char *t2 = "[profile default]\nregion = us-west-1\n";
    assert_int_equal(aws_ini_parse(t2, strlen(t2), &ini, err, sizeof err), 0);
    assert_string_equal(aws_ini_get(aws_profile(&ini, "default", 1), "region"), "us-west-1");
    aws_ini_free(&ini);

    /* empty file */
    assert_int_equal(aws_ini_parse("", 0, &ini, err, sizeof err), 0);
    assert_int_equal(ini.nsections, 0);
    aws_ini_free(&ini);
}

static void expect_error(const char *text, const char *want)
{
    struct aws_ini ini;
    char err[256] = "";
    assert_int_equal(aws_ini_parse(text, strlen(text), &ini, err, sizeof err), -1);
    if (!strstr(err, want)) fail_msg("error \"%s\" does not contain \"%s\"", err, want);
    assert_int_equal(ini.nsections, 0);
}

static void test_ini_bad(void **state)
{
    (void)state;
    expect_error("aws_access_key_id = x\n", "line 1: key outside of any [section]");
    expect_error("[default]\nx = 1\n[broken\ny = 2\n", "line 3: section header without ']'");
    expect_error("# c\n[default]\njust some words\n", "line 3: expected 'key = value'");
    expect_error("[default]\n = value\n", "line 2: empty key");
    expect_error("[]\n", "line 1: empty section name");
    expect_error("[p]\ns3 =\n  no equals here\n", "line 3:");
}

static void test_ini_load(void **state)
{
    (void)state;
    struct aws_ini ini;
    char err[512];
    assert_int_equal(aws_ini_load(tpath("absent"), &ini, err, sizeof err), 1);
    write_file(tpath("bad"), "[default]\naws_access_key_id = x\n\ngarbage\n");
    assert_int_equal(aws_ini_load(tpath("bad"), &ini, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s:4: expected 'key = value'", tpath("bad"));
    assert_string_equal(err, want);
    write_file(tpath("good"), "[x]\na=b\n");
    assert_int_equal(aws_ini_load(tpath("good"), &ini, err, sizeof err), 0);
    assert_string_equal(aws_ini_get(aws_ini_section(&ini, "x"), "a"), "b");
    aws_ini_free(&ini);
    /* a directory is not a readable file */
    assert_int_equal(aws_ini_load(tmpdir, &ini, err, sizeof err), -1);
}

static void test_iso8601(void **state)
{
    (void)state;
    assert_true(aws_parse_iso8601_ms("2016-02-25T06:03:31Z") == 1456380211000LL);
    assert_true(aws_parse_iso8601_ms("2016-02-25T06:03:31.359Z") == 1456380211359LL);
    assert_true(aws_parse_iso8601_ms("2016-02-25T07:03:31+01:00") == 1456380211000LL);
    assert_true(aws_parse_iso8601_ms("2016-02-25 06:03") == -1);
    assert_true(aws_parse_iso8601_ms("yesterday") == -1);
    assert_true(aws_parse_iso8601_ms(NULL) == -1);
}

/* ---- EC2 detection and the IMDS policy ---- */

static void make_sysfs(const char *root, const char *vendor, const char *uuid, const char *hv)
{
    char p[1200];
    snprintf(p, sizeof p, "mkdir -p '%s/sys/class/dmi/id' '%s/sys/hypervisor'", root, root);
    assert_int_equal(system(p), 0);
    if (vendor) {
        snprintf(p, sizeof p, "%s/sys/class/dmi/id/sys_vendor", root);
        write_file(p, vendor);
    }
    if (uuid) {
        snprintf(p, sizeof p, "%s/sys/class/dmi/id/product_uuid", root);
        write_file(p, uuid);
    }
    if (hv) {
        snprintf(p, sizeof p, "%s/sys/hypervisor/uuid", root);
        write_file(p, hv);
    }
}

static void test_ec2_detection(void **state)
{
    (void)state;
    char a[512], b[512], c[512], d[512];
    snprintf(a, sizeof a, "%s", tpath("vendor"));
    snprintf(b, sizeof b, "%s", tpath("uuid"));
    snprintf(c, sizeof c, "%s", tpath("xen"));
    snprintf(d, sizeof d, "%s", tpath("laptop"));
    make_sysfs(a, "Amazon EC2\n", NULL, NULL);
    make_sysfs(b, "Xen\n", "EC2E1916-9099-7CAF-FD21-012345678902\n", NULL);
    make_sysfs(c, NULL, NULL, "ec2e1916-9099-7caf-fd21-012345678902\n");
    make_sysfs(d, "LENOVO\n", "4C4C4544-0042-4A10-8048-B4C04F4A4E32\n", NULL);
    assert_true(aws_host_is_ec2(a));
    assert_true(aws_host_is_ec2(b));
    assert_true(aws_host_is_ec2(c));
    assert_false(aws_host_is_ec2(d));
    assert_false(aws_host_is_ec2(tpath("nothing-here")));

    struct aws_settings s;
    char why[200];
    aws_settings_defaults(&s);
    assert_string_equal(s.imds, "auto");
    s.sysfs_root = d;
    assert_false(aws_imds_allowed(&s, why, sizeof why));
    assert_non_null(strstr(why, "not an EC2 host"));
    s.sysfs_root = a;
    assert_true(aws_imds_allowed(&s, why, sizeof why));
    free(s.imds);
    s.imds = xstrdup("off");
    assert_false(aws_imds_allowed(&s, why, sizeof why));
    free(s.imds);
    s.imds = xstrdup("on");
    s.sysfs_root = d;
    assert_true(aws_imds_allowed(&s, why, sizeof why));
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);       /* wins over imds = on */
    assert_false(aws_imds_allowed(&s, why, sizeof why));
    assert_non_null(strstr(why, "AWS_EC2_METADATA_DISABLED"));
    unsetenv("AWS_EC2_METADATA_DISABLED");

    char ep[256];
    aws_imds_endpoint(ep, sizeof ep);
    assert_string_equal(ep, "http://169.254.169.254");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1234/", 1);
    aws_imds_endpoint(ep, sizeof ep);
    assert_string_equal(ep, "http://127.0.0.1:1234");
    aws_settings_free(&s);
}

/* ---- the chain ---- */

static struct aws_settings base_settings(void)
{
    struct aws_settings s;
    aws_settings_defaults(&s);
    s.region = xstrdup("us-east-1");
    s.sysfs_root = tpath("not-ec2");   /* a laptop: no IMDS in auto mode */
    return s;
}

static void expect_source(struct aws_settings *s, const char *want_prefix)
{
    char err[512] = "";
    struct aws_context *ctx = aws_context_new(s, err, sizeof err);
    if (!ctx) fail_msg("context failed: %s", err);
    const char *src = aws_context_credential_source(ctx);
    if (strncmp(src, want_prefix, strlen(want_prefix)) != 0)
        fail_msg("source \"%s\" does not start with \"%s\"", src, want_prefix);
    aws_context_free(ctx);
}

static void expect_failure(struct aws_settings *s, const char *want)
{
    char err[512] = "";
    struct aws_context *ctx = aws_context_new(s, err, sizeof err);
    if (ctx) {
        aws_context_free(ctx);
        fail_msg("context built, wanted error \"%s\"", want);
    }
    if (!strstr(err, want)) fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

static void test_chain_order(void **state)
{
    (void)state;
    struct aws_settings s = base_settings();

    expect_source(&s, "none: no access keys");

    /* 5. IMDS on an EC2 host (auto) */
    make_sysfs(tpath("ec2"), "Amazon EC2\n", NULL, NULL);
    s.sysfs_root = tpath("ec2");
    expect_source(&s, "EC2 instance profile (IMDSv2");
    s.imds_v1 = 1;
    expect_source(&s, "EC2 instance profile (IMDSv2, IMDSv1 fallback allowed");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    expect_source(&s, "none: ");
    unsetenv("AWS_EC2_METADATA_DISABLED");

    /* 4. ECS beats IMDS */
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    expect_source(&s, "ECS container credentials (http://169.254.170.2/v2/credentials/abc)");
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds", 1);
    expect_source(&s, "ECS container credentials (http://127.0.0.1:9/creds)");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
    expect_failure(&s, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://example.com/creds", 1);
    expect_source(&s, "ECS container credentials (https://example.com/creds)");

    /* 2. shared config file, then credentials file, beat ECS */
    write_file(tpath(".aws/config"), "[default]\nregion = eu-central-1\n"
                                     "aws_access_key_id = AKIDCONF\naws_secret_access_key = s\n");
    char want[600];
    snprintf(want, sizeof want, "shared config file %s (profile default)", tpath(".aws/config"));
    expect_source(&s, want);
    write_file(tpath(".aws/credentials"), "[default]\naws_access_key_id = AKIDFILE\n"
                                          "aws_secret_access_key = s\n[other]\n"
                                          "aws_access_key_id = AKIDOTHER\naws_secret_access_key = t\n");
    snprintf(want, sizeof want, "shared credentials file %s (profile default)",
             tpath(".aws/credentials"));
    expect_source(&s, want);
    setenv("AWS_PROFILE", "other", 1);
    snprintf(want, sizeof want, "shared credentials file %s (profile other)",
             tpath(".aws/credentials"));
    expect_source(&s, want);
    /* the configured profile beats AWS_PROFILE */
    s.profile = xstrdup("default");
    snprintf(want, sizeof want, "shared credentials file %s (profile default)",
             tpath(".aws/credentials"));
    expect_source(&s, want);

    /* 1. environment beats files; configuration beats environment */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    expect_source(&s, "environment");
    s.access_key_id = xstrdup("AKIDCFG");
    s.secret_access_key = xstrdup("secretcfg");
    expect_source(&s, "configuration");

    /* 3. assume role via whatever the chain found */
    s.role_arn = xstrdup("arn:aws:iam::123456789012:role/shipper");
    expect_source(&s, "assume role arn:aws:iam::123456789012:role/shipper via configuration");
    free(s.access_key_id);
    free(s.secret_access_key);
    s.access_key_id = s.secret_access_key = NULL;
    expect_source(&s, "assume role arn:aws:iam::123456789012:role/shipper via environment");
    aws_settings_free(&s);
}

/* AWS_CONTAINER_CREDENTIALS_FULL_URI over http: loopback and the ECS/EKS
 * addresses as IPs only; host names (even "127.something") are refused
 * without being resolved; userinfo in the refused URI is not echoed. */
static void test_full_uri_hosts(void **state)
{
    (void)state;
    struct aws_settings s = base_settings();
    static const char *const ok[] = {
        "http://127.0.0.1:9/c", "http://127.1.2.3/c", "http://[::1]:9/c", "http://169.254.170.2/c",
        "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials",
        "https://creds.example.com/c", NULL};
    static const char *const refused[] = {
        "http://127.evil.example/c", "http://127.0.0.1.evil.example/c", "http://localhost:9/c",
        "http://169.254.170.3/c", "http://169.254.169.254/c", "http://[fd00:ec2::24]/c",
        "http://[::ffff:8.8.8.8]/c", "http://10.0.0.1/c", "http://127/c", NULL};
    for (int i = 0; ok[i]; i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok[i], 1);
        expect_source(&s, "ECS container credentials (");
    }
    for (int i = 0; refused[i]; i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i], 1);
        expect_failure(&s, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https");
    }
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://u:Secr3t@example.com/c", 1);
    char err[512] = "";
    struct aws_context *ctx = aws_context_new(&s, err, sizeof err);
    assert_null(ctx);
    assert_null(strstr(err, "Secr3t"));
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    aws_settings_free(&s);
}

static void test_chain_errors(void **state)
{
    (void)state;
    struct aws_settings s = base_settings();
    s.access_key_id = xstrdup("AKIDONLY");
    expect_failure(&s, "must be set together");
    free(s.access_key_id);
    s.access_key_id = NULL;

    setenv("AWS_SECRET_ACCESS_KEY", "x", 1);
    expect_failure(&s, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
    unsetenv("AWS_SECRET_ACCESS_KEY");

    s.role_arn = xstrdup("arn:aws:iam::123456789012:role/r");
    expect_failure(&s, "no credentials to assume it with");
    free(s.role_arn);
    s.role_arn = NULL;

    write_file(tpath(".aws/credentials"), "[default]\naws_access_key_id = AKIDHALF\n");
    expect_failure(&s, "has only one of");
    write_file(tpath(".aws/credentials"), "[default]\nthis line is broken\n");
    expect_failure(&s, ":2: expected 'key = value'");
    unlink(tpath(".aws/credentials"));

    /* AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE move the files */
    write_file(tpath("creds"), "[default]\naws_access_key_id=A\naws_secret_access_key=B\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", tpath("creds"), 1);
    char want[600];
    snprintf(want, sizeof want, "shared credentials file %s (profile default)", tpath("creds"));
    expect_source(&s, want);
    aws_settings_free(&s);
}

static void test_profile_role(void **state)
{
    (void)state;
    struct aws_settings s = base_settings();
    write_file(tpath(".aws/config"),
               "[profile shipper]\nrole_arn = arn:aws:iam::210987654321:role/logs\n"
               "source_profile = base\nexternal_id = ext-1\n");
    write_file(tpath(".aws/credentials"), "[base]\naws_access_key_id = A\naws_secret_access_key = B\n");
    s.profile = xstrdup("shipper");
    expect_source(&s, "assume role arn:aws:iam::210987654321:role/logs via shared files (profile base)");
    write_file(tpath(".aws/credentials"), "[other]\naws_access_key_id = A\naws_secret_access_key = B\n");
    expect_failure(&s, "source_profile base has no usable access keys");
    aws_settings_free(&s);
}

static void test_region_order(void **state)
{
    (void)state;
    struct aws_settings s = base_settings();
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    free(s.region);
    s.region = NULL;
    expect_failure(&s, "no region");
    write_file(tpath(".aws/config"), "[default]\nregion = eu-north-1\n[profile p]\nregion = sa-east-1\n");
    char err[256];
    struct aws_context *ctx = aws_context_new(&s, err, sizeof err);
    assert_non_null(ctx);
    assert_string_equal(aws_context_region(ctx), "eu-north-1");
    assert_string_equal(aws_context_endpoint(ctx, AWS_SVC_LOGS), "https://logs.eu-north-1.amazonaws.com");
    aws_context_free(ctx);
    setenv("AWS_PROFILE", "p", 1);
    ctx = aws_context_new(&s, err, sizeof err);
    assert_string_equal(aws_context_region(ctx), "sa-east-1");
    aws_context_free(ctx);
    setenv("AWS_DEFAULT_REGION", "ap-east-1", 1);
    ctx = aws_context_new(&s, err, sizeof err);
    assert_string_equal(aws_context_region(ctx), "ap-east-1");
    aws_context_free(ctx);
    setenv("AWS_REGION", "cn-north-1", 1);
    ctx = aws_context_new(&s, err, sizeof err);
    assert_string_equal(aws_context_region(ctx), "cn-north-1");
    assert_string_equal(aws_context_endpoint(ctx, AWS_SVC_MONITORING),
                        "https://monitoring.cn-north-1.amazonaws.com.cn");
    aws_context_free(ctx);
    s.region = xstrdup("us-west-2");
    s.use_fips = 1;
    ctx = aws_context_new(&s, err, sizeof err);
    assert_string_equal(aws_context_region(ctx), "us-west-2");
    assert_string_equal(aws_context_endpoint(ctx, AWS_SVC_LOGS), "https://logs-fips.us-west-2.amazonaws.com");
    aws_context_free(ctx);
    free(s.region);
    s.region = xstrdup("bad region!");
    expect_failure(&s, "invalid region");
    aws_settings_free(&s);
}

static void test_static_get(void **state)
{
    (void)state;
    struct aws_settings s = base_settings();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    setenv("AWS_SESSION_TOKEN", "tok", 1);
    struct aws_cred_env e = { .settings = &s, .profile = "default", .region = "us-east-1" };
    char err[256];
    struct aws_cred_provider *p = aws_cred_provider_new(&e, err, sizeof err);
    assert_non_null(p);
    struct aws_creds c;
    assert_int_equal(aws_credentials_get(p, &c, err, sizeof err), 0);
    assert_string_equal(c.akid, "AKIDENV");
    assert_string_equal(c.secret, "secretenv");
    assert_string_equal(c.token, "tok");
    assert_true(c.expires_ms == 0);
    assert_false(aws_credentials_refreshable(p));
    aws_credentials_invalidate(p, &c);     /* no-op for static keys */
    assert_int_equal(aws_credentials_get(p, &c, err, sizeof err), 0);
    aws_creds_clear(&c);
    assert_string_equal(c.akid, "");
    aws_cred_provider_free(p);

    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    p = aws_cred_provider_new(&e, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(aws_credentials_get(p, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "no credentials"));
    aws_cred_provider_free(p);
    aws_settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ini_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ini_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ini_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iso8601, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ec2_detection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_uri_hosts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_get, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
