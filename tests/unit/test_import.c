/* Unit tests: the importers' pure translators (awslogs.conf, the CloudWatch
 * agent's JSON) and their helpers (strptime -> regex, time formats, names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "collector/import/import.h"

static int matches(const char *re, const char *text)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code_8 *c = pcre2_compile_8((PCRE2_SPTR8)re, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    assert_non_null(c);
    pcre2_match_data_8 *md = pcre2_match_data_create_from_pattern_8(c, NULL);
    int rc = pcre2_match_8(c, (PCRE2_SPTR8)text, strlen(text), 0, 0, md, NULL);
    pcre2_match_data_free_8(md);
    pcre2_code_free_8(c);
    return rc >= 0;
}

static void test_format_regex(void **state)
{
    (void)state;
    struct buf re;
    buf_init(&re);
    assert_int_equal(import_format_regex("%Y-%m-%dT%H:%M:%SZ", &re, NULL), 0);
    assert_true(matches(re.data, "2024-03-05T10:11:12Z ecs agent started"));
    assert_false(matches(re.data, "  at java.lang.Thread.run"));
    assert_false(matches(re.data, "x 2024-03-05T10:11:12Z")); /* anchored */
    buf_reset(&re);
    assert_int_equal(import_format_regex("%b %d %H:%M:%S", &re, NULL), 0);
    assert_true(matches(re.data, "Mar  5 10:11:12 host kernel: x"));
    buf_reset(&re);
    assert_int_equal(import_format_regex("[%d/%b/%Y:%H:%M:%S %z]", &re, NULL), 0);
    assert_true(matches(re.data, "[05/Mar/2024:10:11:12 +0000] GET /"));
    buf_reset(&re);
    /* The CloudWatch agent's unpadded fields. */
    assert_int_equal(import_format_regex("%-d/%-m %-H", &re, NULL), 0);
    assert_true(matches(re.data, "5/3 7 x"));
    buf_reset(&re);
    char bad = 0;
    assert_int_equal(import_format_regex("%Y %Q", &re, &bad), -1);
    assert_int_equal(bad, 'Q');
    buf_free(&re);
}

static void test_time_format(void **state)
{
    (void)state;
    struct buf f;
    buf_init(&f);
    assert_int_equal(import_time_format("%H: %M: %S%y%b%-d", &f, NULL), 0);
    assert_string_equal(f.data, "%H: %M: %S%y%b%d");
    buf_reset(&f);
    char bad = 0;
    assert_int_equal(import_time_format("%Y %U", &f, &bad), -1);
    assert_int_equal(bad, 'U');
    buf_free(&f);
}

static void test_section_names(void **state)
{
    (void)state;
    char taken[3][128] = {"var_log_messages", "var_log_messages_2", ""};
    char out[128];
    import_section_name("/var/log/ecs/ecs-agent.log", taken, 0, out, sizeof out);
    assert_string_equal(out, "var_log_ecs_ecs-agent.log");
    import_section_name("/var/log/messages", taken, 2, out, sizeof out);
    assert_string_equal(out, "var_log_messages_3");
    import_section_name("///", taken, 0, out, sizeof out);
    assert_string_equal(out, "imported");
    assert_true(import_is_glob("/var/log/app-*.log"));
    assert_false(import_is_glob("/var/log/messages"));
}

static const char AWSLOGS[] =
    "[general]\n"
    "state_file = /var/lib/awslogs/agent-state\n"
    "use_gzip_http_content_encoding = false\n"
    "\n"
    "[/var/log/messages]\n"
    "datetime_format = %b %d %H:%M:%S\n"
    "file = /var/log/messages\n"
    "buffer_duration = 10000\n"
    "log_stream_name = {instance_id}\n"
    "initial_position = end_of_file\n"
    "log_group_name = /var/log/messages\n"
    "time_zone = UTC\n"
    "batch_count = 500\n"
    "batch_size: 65536\n"
    "\n"
    "[app]\n"
    "file = /var/log/app/app.log.*\n"
    "log_group_name = app\n"
    "log_stream_name = {hostname}-{ip_address}\n"
    "datetime_format = %Y-%m-%d %H:%M:%S,%f\n"
    "multi_line_start_pattern = {datetime_format}\n"
    "encoding = latin_1\n"
    "file_fingerprint_lines = 1-3\n"
    "colour = blue\n";

static void assert_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("missing: %s\n---\n%s", needle, text);
}

static void test_awslogs(void **state)
{
    (void)state;
    struct import_result r;
    import_result_init(&r);
    char err[256];
    assert_int_equal(import_awslogs(AWSLOGS, "awslogs.conf", &r, err, sizeof err), 0);
    const char *c = r.conf.data;
    assert_int_equal(r.ninputs, 2);
    assert_string_equal(r.inputs[0].name, "var_log_messages");
    assert_string_equal(r.inputs[1].path, "/var/log/app/app.log.*");
    assert_has(c, "[input var_log_messages]\ntype = tail\ntag = awslogs.var_log_messages\n");
    assert_has(c, "path = /var/log/messages    # file = /var/log/messages (line 7)");
    assert_has(c, "read_from_head = false    # initial_position = end_of_file");
    assert_has(c, "time_format = %b %d %H:%M:%S    # datetime_format (line 6)");
    assert_has(c, "multiline.start = ^[^\\s]    # awslogs' default");
    assert_has(c, "log_group = /var/log/messages    # log_group_name (line 11)");
    assert_has(c, "log_stream = {instance_id}    # log_stream_name (line 9)");
    assert_has(c, "flush_interval = 10000ms    # buffer_duration = 10000 ms (line 8)");
    assert_has(c, "batch_max_records = 500    # batch_count (line 13)");
    assert_has(c, "batch_max_bytes = 65536    # batch_size (line 14)");
    assert_has(c, "compress = off    # use_gzip_http_content_encoding = false");
    assert_has(c, "# time_zone = UTC (line 12)");
    /* The glob: every match followed, the newest-only rule explained. */
    assert_has(c, "[input app]");
    assert_has(c, "# awslogs followed only the newest file matching this glob.");
    assert_has(c, "read_from_head = false\nread_newly_discovered_files_from_head = true\n");
    assert_has(c, "log_stream = {hostname}-{ip_address}");
    assert_has(c, "multiline.start = ^\\d{4}-\\d{1,2}-\\d{1,2}\\s+\\d{1,2}:\\d{1,2}:\\d{1,2},\\d{1,9}"
                  "    # multi_line_start_pattern = {datetime_format}");
    const char *n = r.notes.data;
    assert_has(n, "awslogs.conf:2: state_file");
    assert_has(n, "awslogs.conf:22: encoding = latin_1: this agent reads UTF-8 only");
    assert_has(n, "awslogs.conf:23: file_fingerprint_lines = 1-3: not needed");
    assert_has(n, "awslogs.conf:24: [app] colour = blue: not an awslogs key");
    assert_has(n, "awslogs.conf:17: [app] initial_position = start_of_file with a glob");
    assert_has(n, "awslogs.conf:20: time_zone = LOCAL (awslogs' default)");
    assert_int_equal(r.nnotes, 6);
    import_result_free(&r);

    import_result_init(&r);
    assert_int_equal(import_awslogs("[general]\nstate_file = x\n", "a.conf", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "no log stream section"));
    import_result_free(&r);
}

static const char CWAGENT[] =
    "{\"agent\": {\"region\": \"eu-west-1\", \"metrics_collection_interval\": 30,"
    "  \"credentials\": {\"role_arn\": \"arn:aws:iam::123456789012:role/cw\"}},"
    " \"logs\": {\"force_flush_interval\": 10, \"log_stream_name\": \"fallback-stream\","
    "  \"logs_collected\": {\"files\": {\"collect_list\": ["
    "   {\"file_path\": \"/var/log/app/*.log\", \"log_group_name\": \"app-{instance_id}\","
    "    \"timestamp_format\": \"%d/%b/%Y:%H:%M:%S %z\", \"multi_line_start_pattern\": "
    "\"{timestamp_format}\", \"retention_in_days\": 14, \"log_group_class\": \"INFREQUENT_ACCESS\","
    "    \"filters\": [{\"type\": \"exclude\", \"expression\": \"DEBUG\"}]},"
    "   {\"file_path\": \"/var/log/syslog\", \"log_stream_name\": \"{local_hostname}\","
    "    \"timezone\": \"Local\", \"timestamp_format\": \"%b %-d %H:%M:%S\"}]},"
    "   \"windows_events\": {}}},"
    " \"metrics\": {\"namespace\": \"CWAgent\", \"metrics_collected\": {\"cpu\": {}, \"net\": {},"
    "   \"procstat\": []}, \"force_flush_interval\": 60}}";

static void test_cloudwatch_agent(void **state)
{
    (void)state;
    struct import_result r;
    import_result_init(&r);
    char err[256];
    assert_int_equal(import_cloudwatch_agent(CWAGENT, "cw.json", &r, err, sizeof err), 0);
    const char *c = r.conf.data;
    assert_int_equal(r.ninputs, 2);
    assert_has(c, "[agent]\nregion = eu-west-1    # agent.region\n"
                  "role_arn = arn:aws:iam::123456789012:role/cw");
    assert_has(c, "path = /var/log/app/*.log    # file_path");
    assert_has(c, "# The CloudWatch agent followed only the most recently modified file");
    assert_has(c, "time_format = %d/%b/%Y:%H:%M:%S %z    # timestamp_format");
    assert_has(c, "multiline.start = ^\\d{1,2}/[A-Za-z]{3}/\\d{4}:");
    assert_has(c, "log_group = app-{instance_id}    # log_group_name");
    assert_has(c, "log_stream = fallback-stream    # log_stream_name");
    assert_has(c, "retention_days = 14    # retention_in_days");
    assert_has(c, "log_group_class = INFREQUENT_ACCESS");
    assert_has(c, "flush_interval = 10s    # logs.force_flush_interval");
    assert_has(c, "read_from_head = true    # the CloudWatch agent reads a file it has no state");
    assert_has(c, "log_group = /var/log/syslog    # log_group_name (absent: the file path");
    assert_has(c, "log_stream = {hostname}    # log_stream_name");
    assert_has(c, "time_format = %b %d %H:%M:%S    # timestamp_format %b %-d %H:%M:%S");
    assert_has(c, "[input host]\ntype = host_metrics\ninterval = 30s");
    assert_has(c, "per_device = true");
    assert_has(c, "namespace = CWAgent    # metrics.namespace");
    assert_has(c, "flush_interval = 60s    # metrics.force_flush_interval");
    const char *n = r.notes.data;
    assert_has(n, "collect_list[0].filters: include/exclude expressions are not mapped");
    assert_has(n, "collect_list[1].timezone = Local: this agent reads times without an offset");
    assert_has(n, "logs.logs_collected.windows_events: not mapped (Windows only)");
    assert_has(n, "metrics.metrics_collected.procstat: not mapped");
    import_result_free(&r);

    import_result_init(&r);
    assert_int_equal(import_cloudwatch_agent("{\"logs\": ", "bad.json", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad.json:1: not a JSON object"));
    import_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_regex), cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_section_names), cmocka_unit_test(test_awslogs),
        cmocka_unit_test(test_cloudwatch_agent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
