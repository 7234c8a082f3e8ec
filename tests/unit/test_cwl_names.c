/* Unit tests: log group / stream name templates (collector/cloudwatch/names.c):
 * parsing and configuration errors with file:line, rendering from tag, meta
 * and host values, and the replacement of characters AWS forbids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/cloudwatch/names.h"
#include "collector/core/config.h"
#include "collector/pipeline/record.h"

static const struct cwl_host_values host = {"web-1", "i-0abc", "10.0.0.7", "eu-west-1"};

static char *render(const char *tmpl, const char *tag, const struct meta *meta, int group)
{
    char err[512];
    struct cwl_template *t = cwl_template_parse(tmpl, err, sizeof err);
    if (!t)
        fail_msg("parse %s: %s", tmpl, err);
    struct buf b;
    buf_init(&b);
    buf_append_str(&b, "prefix:"); /* rendering appends; sanitizing starts at `from` */
    size_t from = b.len;
    cwl_template_render(t, &host, tag, meta, &b);
    if (group == 1)
        cwl_sanitize_group(&b, from);
    else if (group == 0)
        cwl_sanitize_stream(&b, from);
    assert_memory_equal(b.data, "prefix:", 7);
    char *out = xstrdup(b.data + from);
    buf_free(&b);
    cwl_template_free(t);
    return out;
}

static void expect(const char *tmpl, const char *tag, const struct meta *meta, int group,
                   const char *want)
{
    char *got = render(tmpl, tag, meta, group);
    assert_string_equal(got, want);
    free(got);
}

static void test_parse_errors(void **state)
{
    (void)state;
    char err[512];
    assert_null(cwl_template_parse("/a/{nope}", err, sizeof err));
    assert_non_null(strstr(err, "unknown placeholder {nope}"));
    assert_non_null(strstr(err, "{task_id}")); /* lists the known ones */
    assert_null(cwl_template_parse("/a/{hostname", err, sizeof err));
    assert_non_null(strstr(err, "closing"));
    assert_null(cwl_template_parse("", err, sizeof err));
    assert_null(cwl_template_parse("{}", err, sizeof err));
    assert_null(cwl_template_parse("{Hostname}", err, sizeof err)); /* case matters */
}

static void test_vars(void **state)
{
    (void)state;
    char err[256];
    struct cwl_template *t = cwl_template_parse("/x/{hostname}/{region}", err, sizeof err);
    assert_non_null(t);
    assert_int_equal(cwl_template_vars(t) & CWL_VARS_PER_RECORD, 0);
    cwl_template_free(t);
    t = cwl_template_parse("{instance_id}-{file_name}", err, sizeof err);
    uint32_t v = cwl_template_vars(t);
    assert_true(v & (1u << CWL_VAR_INSTANCE_ID));
    assert_true(v & CWL_VARS_PER_RECORD);
    cwl_template_free(t);
    t = cwl_template_parse("literal", err, sizeof err);
    assert_int_equal(cwl_template_vars(t), 0);
    cwl_template_free(t);
}

static void test_render_all_placeholders(void **state)
{
    (void)state;
    const char *pairs[] = {"file_path", "/var/log/app/x.log", "file_name", "x.log",
                           "cluster", "prod", "container_instance_id", "ci-1",
                           "task_id", "t123", "task_arn", "arn:aws:ecs:eu-west-1:1:task/prod/t123",
                           "task_family", "web", "task_revision", "7",
                           "container_name", "ecs-web-7-app-abc", "ecs_container_name", "app",
                           "container_id", "0123456789ab", "image", "nginx:1.27"};
    struct meta *m = meta_new(pairs, 12);
    expect("{hostname}|{instance_id}|{ip_address}|{region}|{tag}", "docker.app", m, -1,
           "web-1|i-0abc|10.0.0.7|eu-west-1|docker.app");
    expect("{file_name}|{file_path}|{cluster}|{container_instance_id}", NULL, m, -1,
           "x.log|/var/log/app/x.log|prod|ci-1");
    expect("{task_id}|{task_arn}|{task_family}|{task_revision}", NULL, m, -1,
           "t123|arn:aws:ecs:eu-west-1:1:task/prod/t123|web|7");
    /* the ECS container name wins over Docker's */
    expect("{container_name}|{container_id}|{image}", NULL, m, -1, "app|0123456789ab|nginx:1.27");
    meta_unref(m);
    const char *docker_only[] = {"container_name", "quirky_turing"};
    m = meta_new(docker_only, 1);
    expect("{container_name}", NULL, m, -1, "quirky_turing");
    meta_unref(m);
}

static void test_missing_values(void **state)
{
    (void)state;
    expect("/ecs/{cluster}/{task_family}", NULL, NULL, 1, "/ecs/unknown/unknown");
    expect("{tag}", NULL, NULL, 0, "unknown");
}

static void test_group_sanitized(void **state)
{
    (void)state;
    const char *pairs[] = {"file_path", "/var/log/my app (1).log", "task_arn",
                           "arn:aws:ecs:us-east-1:1:task/c/abc"};
    struct meta *m = meta_new(pairs, 2);
    expect("/logs/{file_path}", NULL, m, 1, "/logs//var/log/my_app__1_.log");
    expect("g/{task_arn}", NULL, m, 1, "g/arn_aws_ecs_us-east-1_1_task/c/abc");
    expect("caf\xC3\xA9#1", NULL, m, 1, "caf__#1");
    expect("aws/lambda/x", NULL, m, 1, "aws_lambda/x"); /* aws/ is reserved */
    meta_unref(m);
    /* at most 512 characters */
    char long_name[700];
    memset(long_name, 'g', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    char *got = render(long_name, NULL, NULL, 1);
    assert_int_equal(strlen(got), 512);
    free(got);
}

static void test_stream_sanitized(void **state)
{
    (void)state;
    const char *pairs[] = {"task_arn", "arn:aws:ecs:us-east-1:1:task/c/abc", "image",
                           "repo/img:tag*"};
    struct meta *m = meta_new(pairs, 2);
    expect("{task_arn}", NULL, m, 0, "arn_aws_ecs_us-east-1_1_task/c/abc");
    expect("{image} x\ty", NULL, m, 0, "repo/img_tag_ x_y");
    expect("caf\xC3\xA9/#1", NULL, m, 0, "caf\xC3\xA9/#1"); /* UTF-8 allowed in streams */
    meta_unref(m);
    /* 512 bytes at most, never cutting a character in two */
    struct buf t;
    buf_init(&t);
    buf_append_char(&t, 'a');
    for (int i = 0; i < 300; i++)
        buf_append_str(&t, "\xC3\xA9");
    char *got = render(t.data, NULL, NULL, 0);
    assert_int_equal(strlen(got), 511);
    assert_int_equal((unsigned char)got[510], 0xA9);
    free(got);
    buf_free(&t);
}

static void test_compile_reports_file_line(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct diag diag;
    memset(&diag, 0, sizeof diag);
    const char *text = "[output cw]\n"
                       "type = cloudwatch_logs\n"
                       "log_group = /ecs/{clustr}\n";
    assert_int_equal(config_load_string(&cfg, "20-cw.conf", text, &diag), 0);
    assert_int_equal(cfg.nsections, 1);
    const struct conf_section *s = &cfg.sections[0];
    assert_null(cwl_template_compile("/ecs/{clustr}", s, "log_group", &diag));
    assert_int_equal(diag.count, 1);
    assert_non_null(strstr(diag.messages[0], "20-cw.conf:3"));
    assert_non_null(strstr(diag.messages[0], "{clustr}"));
    struct cwl_template *t = cwl_template_compile("/ecs/{cluster}", s, "log_group", &diag);
    assert_non_null(t);
    assert_int_equal(diag.count, 1);
    cwl_template_free(t);
    diag_free(&diag);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_vars),
        cmocka_unit_test(test_render_all_placeholders),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_group_sanitized),
        cmocka_unit_test(test_stream_sanitized),
        cmocka_unit_test(test_compile_reports_file_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
