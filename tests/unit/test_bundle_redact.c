/* Unit tests: the bundle's redaction patterns (collector/bundle/redact.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "collector/bundle/redact.h"

/* Redact in by mode; returns the result as a C string (owned) and the stats. */
static char *redact_mode_str(enum redact_mode mode, const char *in, struct redact_stats *st)
{
    struct buf out;
    buf_init(&out);
    memset(st, 0, sizeof *st);
    redact_by_mode(mode, in, strlen(in), &out, st);
    buf_append(&out, "", 1);
    return out.data;
}

static char *red(const char *in, struct redact_stats *st)
{
    return redact_mode_str(REDACT_TEXT, in, st);
}

static char *inspect(const char *in, struct redact_stats *st)
{
    return redact_mode_str(REDACT_INSPECT, in, st);
}

static void expect(const char *in, const char *want, enum redact_kind kind)
{
    struct redact_stats st;
    char *got = red(in, &st);
    if (strcmp(got, want) != 0)
        fail_msg("redact(%s)\n  got  %s\n  want %s", in, got, want);
    if ((int)kind >= 0)
        assert_true(st.counts[kind] >= 1);
    /* idempotent: a second pass finds nothing */
    struct redact_stats again;
    char *twice = red(got, &again);
    assert_string_equal(twice, got);
    assert_int_equal(redact_total(&again), 0);
    free(twice);
    free(got);
}

static void test_key_values(void **state)
{
    (void)state;
    expect("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
           "AWS_SECRET_ACCESS_KEY={REDACTED}\n", RK_AWS_SECRET_KEY);
    expect("export AWS_SESSION_TOKEN=\"abc/def+ghi==\" rest",
           "export AWS_SESSION_TOKEN=\"{REDACTED}\" rest", RK_AWS_SESSION_TOKEN);
    expect("{\"SecretAccessKey\": \"xyz123\", \"Expiration\": \"2024\"}",
           "{\"SecretAccessKey\": \"{REDACTED}\", \"Expiration\": \"2024\"}", RK_AWS_SECRET_KEY);
    expect("db password: hunter2 and more", "db password: {REDACTED} and more", RK_PASSWORD);
    expect("url?X-Amz-Security-Token=abcDEF123&x=1", "url?X-Amz-Security-Token={REDACTED}&x=1",
           RK_AWS_SESSION_TOKEN);
    expect("MY_API_KEY='k-123'", "MY_API_KEY='{REDACTED}'", RK_API_KEY);
    expect("client_secret=s3cr3t,", "client_secret={REDACTED},", RK_SECRET);
    expect("nothing here: key=value PWD=/root", "nothing here: key=value PWD=/root", -1);
}

static void test_ecs_auth_data(void **state)
{
    (void)state;
    expect("ECS_ENGINE_AUTH_DATA={\"https://index.docker.io/v1/"
           "\":{\"username\":\"bob\",\"password\":\"pw\"}}\nNEXT=1\n",
           "ECS_ENGINE_AUTH_DATA={REDACTED}\nNEXT=1\n", RK_ECS_AUTH_DATA);
}

static void test_standalone(void **state)
{
    (void)state;
    expect("key AKIAIOSFODNN7EXAMPLE used", "key {REDACTED} used", RK_AWS_ACCESS_KEY_ID);
    expect("tok FwoGZXIvYXdzEJr//////////wEaDExampleToken123", "tok {REDACTED}",
           RK_AWS_SESSION_TOKEN);
    expect("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
           "Authorization: Bearer {REDACTED}", RK_BEARER);
    expect("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic {REDACTED}",
           RK_BASIC_AUTH);
    expect("proxy https://user:pa55@proxy:3128/", "proxy https://user:{REDACTED}@proxy:3128/",
           RK_URL_CREDENTIALS);
    expect("app --password s3cret --verbose", "app --password {REDACTED} --verbose", RK_PASSWORD);
    expect("x\n-----BEGIN RSA PRIVATE KEY-----\nMIIabc\ndef\n-----END RSA PRIVATE KEY-----\ny",
           "x\n-----BEGIN RSA PRIVATE KEY-----{REDACTED}-----END RSA PRIVATE KEY-----\ny",
           RK_PRIVATE_KEY);
    expect("plain words, Basic functionality, bearer of news",
           "plain words, Basic functionality, bearer of news", -1);
}

static void test_ecs_config(void **state)
{
    (void)state;
    const char *in = "ECS_CLUSTER=prod\n"
                     "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
                     "MY_THING=abc\n"
                     "continued line\n"
                     "# comment\n"
                     "ECS_LOGLEVEL=info\n"
                     "HTTPS_PROXY=http://proxy:3128\n"
                     "HTTP_PROXY=http://u:pw@proxy:3128\n";
    struct buf out;
    buf_init(&out);
    struct redact_stats st = {0};
    redact_ecs_config(in, strlen(in), &out, &st);
    assert_string_equal(out.data, "ECS_CLUSTER=prod\n"
                                  "AWS_ACCESS_KEY_ID={REDACTED}\n"
                                  "MY_THING={REDACTED}\n"
                                  "{REDACTED}\n"
                                  "# comment\n"
                                  "ECS_LOGLEVEL=info\n"
                                  "HTTPS_PROXY={REDACTED}\n"
                                  "HTTP_PROXY=http://u:{REDACTED}@proxy:3128\n");
    assert_int_equal(st.counts[RK_ECS_CONFIG_ALLOWLIST], 4);
    assert_int_equal(st.counts[RK_URL_CREDENTIALS], 1);
    assert_true(redact_ecs_key_allowed("ECS_CLUSTER", 11));
    assert_false(redact_ecs_key_allowed("ECS_ENGINE_AUTH_DATA", 20));
    buf_free(&out);
}

static void test_inspect(void **state)
{
    (void)state;
    const char *in = "[{\"Id\":\"abc\",\"Config\":{\"Env\":[\"PATH=/bin\",\"DB=x\",\"EMPTY=\"],"
                     "\"Labels\":{\"com.amazonaws.ecs.cluster\":\"c1\"}}}]";
    struct redact_stats st;
    char *got = inspect(in, &st);
    assert_non_null(strstr(got, "\"PATH={REDACTED}\""));
    assert_non_null(strstr(got, "\"DB={REDACTED}\""));
    assert_non_null(strstr(got, "\"EMPTY=\""));
    assert_non_null(strstr(got, "com.amazonaws.ecs.cluster"));
    assert_int_equal(st.counts[RK_CONTAINER_ENV], 2);
    free(got);
    /* not JSON: generic patterns only */
    got = inspect("Error: No such object: password=x", &st);
    assert_string_equal(got, "Error: No such object: password={REDACTED}");
    free(got);
}

/* The keyword list: pass, pwd, auth, token, secret, key, credential in their
 * usual spellings, as words of a key or inside one. */
static void test_keyword_spellings(void **state)
{
    (void)state;
    expect("DB_PASS=hunter2 x", "DB_PASS={REDACTED} x", RK_PASSWORD);
    expect("MYSQL_PWD=hunter2", "MYSQL_PWD={REDACTED}", RK_PASSWORD);
    expect("PGPASSWORD=hunter2", "PGPASSWORD={REDACTED}", RK_PASSWORD);
    expect("passphrase=abc", "passphrase={REDACTED}", RK_PASSWORD);
    expect("apiKey: abc", "apiKey: {REDACTED}", RK_API_KEY);
    expect("ENCRYPTION_KEY=abc", "ENCRYPTION_KEY={REDACTED}", RK_API_KEY);
    expect("GITHUB_TOKEN=abc", "GITHUB_TOKEN={REDACTED}", RK_TOKEN);
    expect("{\"creds\": \"abc\"}", "{\"creds\": \"{REDACTED}\"}", RK_CREDENTIAL);
    expect("X-Registry-Auth: abc", "X-Registry-Auth: {REDACTED}", RK_DOCKER_AUTH);
    expect("X-Auth: abc", "X-Auth: {REDACTED}", RK_AUTH);
    expect("{\"auth\":\"YWxpY2U6cHc=\"}", "{\"auth\":\"{REDACTED}\"}", RK_DOCKER_AUTH);
    /* a key describing a secret is not one */
    expect("ECS_ENGINE_AUTH_TYPE=dockercfg", "ECS_ENGINE_AUTH_TYPE=dockercfg", -1);
    expect("OLDPWD=/tmp PWD=/root", "OLDPWD=/tmp PWD=/root", -1);
    expect("{\"pwd\": \"x1\"}", "{\"pwd\": \"{REDACTED}\"}", RK_PASSWORD);
}

/* A key=value whose key is not a secret does not hide the pairs inside its
 * value; flags too. */
static void test_nested_flags(void **state)
{
    (void)state;
    expect("OPTIONS=\"--debug --registry-auth=abc --x\"",
           "OPTIONS=\"--debug --registry-auth={REDACTED} --x\"", RK_DOCKER_AUTH);
    expect("ARGS=\"--registry-auth abc\"", "ARGS=\"--registry-auth {REDACTED}\"", RK_DOCKER_AUTH);
    expect("dbtool --db-pass abc --verbose", "dbtool --db-pass {REDACTED} --verbose", RK_PASSWORD);
    expect("ls --color auto", "ls --color auto", -1);
}

/* Name/value pairs and environment maps: the value goes whatever the name. */
static void test_env_values(void **state)
{
    (void)state;
    expect("def={\"name\":\"NEUTRAL\",\"value\":\"v1\"}",
           "def={\"name\":\"NEUTRAL\",\"value\":\"{REDACTED}\"}", RK_ENV_VALUE);
    expect("{\"Value\": \"v1\", \"Name\": \"X\"}", "{\"Value\": \"{REDACTED}\", \"Name\": \"X\"}",
           RK_ENV_VALUE);
    expect("msg=\"{\\\"name\\\":\\\"A\\\",\\\"value\\\":\\\"v1\\\"}\"",
           "msg=\"{\\\"name\\\":\\\"A\\\",\\\"value\\\":\\\"{REDACTED}\\\"}\"", RK_ENV_VALUE);
    expect("\"Environment\": {\"PORT\": \"80\", \"N\": 3, \"B\": \"x\"}",
           "\"Environment\": {\"PORT\": \"{REDACTED}\", \"N\": 3, \"B\": \"{REDACTED}\"}",
           RK_ENV_VALUE);
    expect("Environment={\"A\": \"1\"} Env=[\"B=2\", \"C\"]",
           "Environment={\"A\": \"{REDACTED}\"} Env=[\"B={REDACTED}\", \"{REDACTED}\"]",
           RK_ENV_VALUE);
    /* Go's map syntax, as the ECS agent logs a container's environment */
    expect("msg=\"x\" Environment:map[A:1 PORT:80 B:two words] next=1",
           "msg=\"x\" Environment:map[A:{REDACTED} PORT:{REDACTED} B:{REDACTED} {REDACTED}] next=1",
           RK_ENV_VALUE);
    /* in a JSON document (ECS agent state): maps and name/value lists anywhere */
    const char *in = "{\"Tasks\":[{\"Containers\":[{\"Environment\":{\"A\":\"s1\"},"
                     "\"environment\":[{\"name\":\"B\",\"value\":\"s2\"}],\"Arn\":\"arn:x\"}]}]}";
    struct redact_stats st;
    char *got = inspect(in, &st);
    assert_null(strstr(got, "s1"));
    assert_null(strstr(got, "s2"));
    assert_non_null(strstr(got, "arn:x"));
    assert_non_null(strstr(got, "\"B\""));
    assert_int_equal(st.counts[RK_ENV_VALUE], 2);
    free(got);
}

/* ECS_ENGINE_AUTH_DATA's JSON value over several lines goes whole. */
static void test_multiline_auth_data(void **state)
{
    (void)state;
    expect("ECS_ENGINE_AUTH_DATA={\n  \"https://r\": {\n    \"username\": \"u1\"\n  }\n}\nNEXT=1",
           "ECS_ENGINE_AUTH_DATA={REDACTED}\nNEXT=1", RK_ECS_AUTH_DATA);
}

/* Text whose head was cut inside a private key block loses the rest of the
 * block; text without one is unchanged. */
static void test_cut_private_key(void **state)
{
    (void)state;
    const char *in = "AAAA\nbodysecret\n-----END RSA PRIVATE KEY-----\nlater line\n";
    struct buf out;
    buf_init(&out);
    struct redact_stats st = {0};
    redact_cut_text(in, strlen(in), &out, &st);
    buf_append(&out, "", 1);
    assert_string_equal(out.data, "{REDACTED}\n-----END RSA PRIVATE KEY-----\nlater line\n");
    assert_int_equal(st.counts[RK_PRIVATE_KEY], 1);
    buf_free(&out);
    buf_init(&out);
    const char *whole = "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n";
    redact_cut_text(whole, strlen(whole), &out, &st);
    assert_int_equal(out.len, strlen(whole));
    buf_free(&out);
}

static void test_stats_format(void **state)
{
    (void)state;
    struct redact_stats st = {0};
    st.counts[RK_PASSWORD] = 2;
    st.counts[RK_BEARER] = 1;
    struct buf out;
    buf_init(&out);
    redact_stats_format(&st, &out);
    assert_string_equal(out.data, "password x2, bearer-token x1");
    assert_int_equal(redact_total(&st), 3);
    buf_free(&out);
}

/* A pattern that cannot finish (PCRE2's match limit, here lowered to make
 * it happen) withholds what it had not looked at: the text never goes out
 * unredacted, and the count says so. */
static void test_match_limit_fails_closed(void **state)
{
    (void)state;
    const char *in = "db password: hunter2 and key AKIAABCDEFGHIJKLMNOP\n"
                     "\"Environment\": {\"DB_PASS\": \"s3cr3t\"}\n";
    redact_set_match_limit(1);
    struct redact_stats st;
    char *got = red(in, &st);
    redact_set_match_limit(0);
    assert_null(strstr(got, "hunter2"));
    assert_null(strstr(got, "AKIAABCDEFGHIJKLMNOP"));
    assert_null(strstr(got, "s3cr3t"));
    assert_non_null(strstr(got, REDACT_WITHHELD));
    assert_true(st.counts[RK_UNCHECKED] >= 1);
    free(got);
    /* the default limits again: the same text is redacted value by value */
    got = red(in, &st);
    assert_null(strstr(got, REDACT_WITHHELD));
    assert_int_equal(st.counts[RK_UNCHECKED], 0);
    assert_non_null(strstr(got, "db password: {REDACTED} and"));
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_values), cmocka_unit_test(test_ecs_auth_data),
        cmocka_unit_test(test_match_limit_fails_closed),
        cmocka_unit_test(test_standalone), cmocka_unit_test(test_ecs_config),
        cmocka_unit_test(test_inspect),    cmocka_unit_test(test_keyword_spellings),
        cmocka_unit_test(test_nested_flags), cmocka_unit_test(test_env_values),
        cmocka_unit_test(test_multiline_auth_data), cmocka_unit_test(test_cut_private_key),
        cmocka_unit_test(test_stats_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
