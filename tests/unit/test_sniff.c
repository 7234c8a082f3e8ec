/* Unit tests: recognising a pasted foreign configuration, and "did you
 * mean" (options_suggest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "collector/core/options.h"
#include "collector/core/sniff.h"

static void test_sniff(void **state)
{
    (void)state;
    assert_int_equal(sniff_format("[agent]\ndata_dir = /x\n\n[input a]\ntype = tail\n"), SNIFF_OURS);
    assert_int_equal(sniff_format("# only a comment\n"), SNIFF_OURS);
    assert_int_equal(sniff_format("\n# c\n[input a]\npath = /var/log/x.log # note: yes\n"),
                     SNIFF_OURS);
    assert_int_equal(sniff_format("[general]\nstate_file = /var/lib/awslogs/agent-state\n"),
                     SNIFF_AWSLOGS);
    assert_int_equal(sniff_format("[/var/log/messages]\nfile = /var/log/messages\n"
                                  "log_group_name = x\n"), SNIFF_AWSLOGS);
    assert_int_equal(sniff_format("  {\"logs\": {\"logs_collected\": {}}}"), SNIFF_CWAGENT_JSON);
    assert_int_equal(sniff_format("{\"a\": 1}"), SNIFF_JSON);
    assert_int_equal(sniff_format("[SERVICE]\n    Flush 1\n[INPUT]\n    Name tail\n"),
                     SNIFF_FLUENTBIT);
    assert_int_equal(sniff_format("service:\n  flush: 1\npipeline:\n  inputs:\n    - name: tail\n"),
                     SNIFF_YAML);
    assert_non_null(strstr(sniff_format_advice(SNIFF_AWSLOGS), "collector import awslogs"));
    assert_non_null(strstr(sniff_format_advice(SNIFF_CWAGENT_JSON),
                           "collector import cloudwatch-agent"));
}

static void test_suggest(void **state)
{
    (void)state;
    const char *keys[] = {"path", "exclude_path", "read_from_head", "multiline.start",
                          "flush_interval", NULL};
    assert_string_equal(options_suggest("pathh", keys, 6), "path");
    assert_string_equal(options_suggest("Path", keys, 6), "path");
    assert_string_equal(options_suggest("read_form_head", keys, 6), "read_from_head");
    assert_string_equal(options_suggest("flush_intreval", keys, 6), "flush_interval");
    assert_string_equal(options_suggest("multiline_start", keys, 6), "multiline.start");
    assert_null(options_suggest("colour", keys, 6));
    assert_null(options_suggest("x", keys, 6));
    const char *kinds[] = {"agent", "input", "output", "parser"};
    assert_string_equal(options_suggest("inptu", kinds, 4), "input");
    assert_string_equal(options_suggest("outputs", kinds, 4), "output");
    assert_null(options_suggest("filter", kinds, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
