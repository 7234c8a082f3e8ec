/* Unit tests: the configuration reader and option tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/core/util.h"
#include "collector/core/config.h"
#include "collector/core/options.h"

static int has_message(const struct diag *d, const char *text)
{
    for (int i = 0; i < d->count; i++)
        if (strstr(d->messages[i], text))
            return 1;
    return 0;
}

static void test_sections_and_values(void **state)
{
    (void)state;
    struct config cfg;
    struct diag d = {0};
    setenv("COLLECTOR_TEST_DIR", "/srv/logs", 1);
    unsetenv("COLLECTOR_TEST_UNSET");
    const char *text = "# comment\n"
                       "[agent]\n"
                       "log_level = debug   # trailing comment\n"
                       "\n"
                       "[input app]\n"
                       "  type = tail\n"
                       "  path = ${COLLECTOR_TEST_DIR}/app.log\n"
                       "  tag = ${COLLECTOR_TEST_UNSET:-app.default}\n"
                       "  group = /ecs/#hash   \n"
                       "  quoted = \"  spaced  \"\n";
    assert_int_equal(config_load_string(&cfg, "t.conf", text, &d), 0);
    assert_int_equal(d.count, 0);
    assert_int_equal(cfg.nsections, 2);
    assert_string_equal(cfg.sections[0].kind, "agent");
    assert_null(cfg.sections[0].name);
    assert_string_equal(conf_section_get(&cfg.sections[0], "log_level")->value, "debug");
    const struct conf_section *in = &cfg.sections[1];
    assert_string_equal(in->kind, "input");
    assert_string_equal(in->name, "app");
    assert_int_equal(in->line, 5);
    assert_string_equal(conf_section_get(in, "path")->value, "/srv/logs/app.log");
    assert_int_equal(conf_section_get(in, "path")->line, 7);
    assert_string_equal(conf_section_get(in, "tag")->value, "app.default");
    assert_string_equal(conf_section_get(in, "group")->value, "/ecs/#hash");
    assert_string_equal(conf_section_get(in, "quoted")->value, "  spaced  ");
    config_free(&cfg);
    diag_free(&d);
}

static void test_syntax_errors_have_lines(void **state)
{
    (void)state;
    struct config cfg;
    struct diag d = {0};
    unsetenv("COLLECTOR_TEST_UNSET");
    const char *text = "key = outside\n"          /* 1 */
                       "[input]\n"                /* 2: ok syntactically */
                       "[broken\n"                /* 3 */
                       "[input a b c]\n"          /* 4: name with spaces */
                       "[output o]\n"             /* 5 */
                       "no equals sign here\n"    /* 6 */
                       "x = ${COLLECTOR_TEST_UNSET}\n" /* 7 */
                       "y = ${unterminated\n";    /* 8 */
    assert_int_equal(config_load_string(&cfg, "bad.conf", text, &d), -1);
    assert_true(has_message(&d, "bad.conf:1: key 'key' is outside any [section]"));
    assert_true(has_message(&d, "bad.conf:3: malformed section header"));
    assert_true(has_message(&d, "bad.conf:4: section name"));
    assert_true(has_message(&d, "bad.conf:6: expected 'key = value'"));
    assert_true(has_message(&d, "bad.conf:7: environment variable COLLECTOR_TEST_UNSET is not set"));
    assert_true(has_message(&d, "bad.conf:8: unterminated ${"));
    config_free(&cfg);
    diag_free(&d);
}

static void test_missing_path(void **state)
{
    (void)state;
    struct config cfg;
    struct diag d = {0};
    assert_int_equal(config_load(&cfg, "/nonexistent/collector.conf", &d), -1);
    assert_true(has_message(&d, "configuration not found"));
    config_free(&cfg);
    diag_free(&d);
}

/* A FIFO named *.conf is refused at once, with its name, instead of blocking
 * the load (alarm: a blocking open would hang the test). */
static void test_fifo_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_config.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *good = xasprintf("%s/10-good.conf", dir);
    char *fifo = xasprintf("%s/20-fifo.conf", dir);
    FILE *f = fopen(good, "w");
    assert_non_null(f);
    fputs("[input x]\nname = n\n", f);
    fclose(f);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    struct config cfg;
    struct diag d = {0};
    alarm(5);
    assert_int_equal(config_load(&cfg, dir, &d), -1);
    alarm(0);
    assert_true(has_message(&d, "20-fifo.conf: not a regular file"));
    config_free(&cfg);
    diag_free(&d);
    unlink(good);
    unlink(fifo);
    rmdir(dir);
    free(good);
    free(fifo);
}

struct sample {
    char *name;
    char *secret;
    char *mode;
    int enabled;
    int64_t count;
    int64_t wait_ms;
    uint64_t size;
    struct strlist globs;
};

static const struct option_def sample_options[] = {
    {"name", OPT_STRING, NULL, OPT_REQUIRED, offsetof(struct sample, name), NULL, "a name"},
    {"secret", OPT_SECRET, NULL, 0, offsetof(struct sample, secret), NULL, "a secret"},
    {"mode", OPT_ENUM, "fast", 0, offsetof(struct sample, mode), "fast|slow", "a mode"},
    {"enabled", OPT_BOOL, "true", 0, offsetof(struct sample, enabled), NULL, "on or off"},
    {"count", OPT_INT, "3", 0, offsetof(struct sample, count), "1..10", "a count"},
    {"wait", OPT_DURATION, "5s", 0, offsetof(struct sample, wait_ms), NULL, "a wait"},
    {"size", OPT_SIZE, "1MiB", 0, offsetof(struct sample, size), NULL, "a size"},
    {"globs", OPT_LIST, "*.log", 0, offsetof(struct sample, globs), NULL, "globs"},
    {0},
};

static int apply(const char *text, struct sample *s, struct diag *d, struct config *cfg)
{
    memset(s, 0, sizeof *s);
    config_load_string(cfg, "o.conf", text, d);
    struct option_binding b = {sample_options, s};
    return options_apply(&cfg->sections[0], &b, 1, d);
}

static void test_options_defaults_and_values(void **state)
{
    (void)state;
    struct config cfg;
    struct diag d = {0};
    struct sample s;
    assert_int_equal(apply("[input x]\nname = n\n", &s, &d, &cfg), 0);
    assert_string_equal(s.name, "n");
    assert_string_equal(s.mode, "fast");
    assert_int_equal(s.enabled, 1);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.wait_ms, 5000);
    assert_int_equal(s.size, 1 << 20);
    assert_int_equal(s.globs.count, 1);
    options_free(sample_options, &s);
    config_free(&cfg);

    assert_int_equal(apply("[input x]\nname = n\nmode = slow\nenabled = off\ncount = 10\n"
                           "wait = 250ms\nsize = 64KiB\nglobs = a.log, b/*.log c\n",
                           &s, &d, &cfg), 0);
    assert_string_equal(s.mode, "slow");
    assert_int_equal(s.enabled, 0);
    assert_int_equal(s.count, 10);
    assert_int_equal(s.wait_ms, 250);
    assert_int_equal(s.size, 65536);
    assert_int_equal(s.globs.count, 3); /* explicit list replaces the default */
    assert_string_equal(s.globs.items[1], "b/*.log");
    options_free(sample_options, &s);
    config_free(&cfg);
    diag_free(&d);
}

static void test_options_errors(void **state)
{
    (void)state;
    struct config cfg;
    struct diag d = {0};
    struct sample s;
    int n = apply("[input x]\n"          /* 1 */
                  "nmae = typo\n"        /* 2 */
                  "mode = medium\n"      /* 3 */
                  "enabled = perhaps\n"  /* 4 */
                  "count = 11\n"         /* 5 */
                  "wait = soon\n"        /* 6 */
                  "size = big\n"         /* 7 */
                  "mode = slow\n"        /* 8: duplicate */
                  "secret = hunter2\n",  /* 9 */
                  &s, &d, &cfg);
    assert_int_equal(n, 8);
    assert_true(has_message(&d, "o.conf:2: unknown key 'nmae' in [input x]"));
    assert_true(has_message(&d, "o.conf:3: mode = 'medium': not one of the allowed values (fast|slow)"));
    assert_true(has_message(&d, "o.conf:4: enabled = 'perhaps'"));
    assert_true(has_message(&d, "o.conf:5: count = '11': out of range (1..10)"));
    assert_true(has_message(&d, "o.conf:6: wait = 'soon': expected a duration"));
    assert_true(has_message(&d, "o.conf:7: size = 'big': expected a size"));
    assert_true(has_message(&d, "o.conf:8: key 'mode' is set twice (first at line 3)"));
    assert_true(has_message(&d, "o.conf:1: [input x] is missing required key 'name'"));
    for (int i = 0; i < d.count; i++)
        assert_null(strstr(d.messages[i], "hunter2"));
    options_free(sample_options, &s);
    config_free(&cfg);
    diag_free(&d);
}

/* What check-config would list for s (the caller frees it). */
static char *listing(const struct sample *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    options_print(f, sample_options, s);
    fclose(f);
    return text;
}

static void test_options_print_masks_secrets(void **state)
{
    (void)state;
    struct config cfg;
    struct diag d = {0};
    struct sample s;
    assert_int_equal(apply("[input x]\nname = n\nsecret = hunter2\n", &s, &d, &cfg), 0);
    char *text = listing(&s);
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "****"));
    assert_non_null(strstr(text, "wait                   = 5s"));
    free(text);
    options_free(sample_options, &s);
    config_free(&cfg);
    diag_free(&d);
}

/* URL userinfo never leaves the agent: not in the listing, not in an error
 * that echoes a value; control characters in echoed values are escaped. */
static void test_userinfo_masked_and_controls_escaped(void **state)
{
    (void)state;
    struct config cfg;
    struct diag d = {0};
    struct sample s;
    assert_int_equal(apply("[input x]\nname = http://alice:S3cr3t@host:3128/p\n", &s, &d, &cfg), 0);
    char *text = listing(&s);
    assert_null(strstr(text, "S3cr3t"));
    assert_null(strstr(text, "alice"));
    assert_non_null(strstr(text, "http://***@host:3128/p"));
    free(text);
    options_free(sample_options, &s);
    config_free(&cfg);

    apply("[input x]\nname = n\ncount = http://bob:Pw0rd@h:1\nmode = fa\x1b[2Jst\n", &s, &d, &cfg);
    assert_int_equal(d.count, 2);
    for (int i = 0; i < d.count; i++) {
        assert_null(strstr(d.messages[i], "Pw0rd"));
        assert_null(strchr(d.messages[i], '\x1b'));
    }
    assert_true(has_message(&d, "count = 'http://***@h:1'"));
    assert_true(has_message(&d, "mode = 'fa\\x1b[2Jst'"));
    options_free(sample_options, &s);
    config_free(&cfg);
    diag_free(&d);

    /* any message, whatever a module quotes in it */
    diag_add(&d, "m.conf", 3, "unknown type '%s' via %s", "x\ny\x1b", "https://u:p4ss@h/");
    assert_string_equal(d.messages[0], "m.conf:3: unknown type 'x\\ny\\x1b' via https://***@h/");
    diag_free(&d);

    /* a line without '=' is echoed by its first word only */
    config_load_string(&cfg, "l.conf", "[input x]\nsecret_access_key wJalrXUtnFEMI\n", &d);
    assert_true(has_message(&d, "l.conf:2: expected 'key = value'"));
    assert_false(has_message(&d, "wJalr"));
    config_free(&cfg);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections_and_values),
        cmocka_unit_test(test_syntax_errors_have_lines),
        cmocka_unit_test(test_missing_path),
        cmocka_unit_test(test_fifo_refused),
        cmocka_unit_test(test_options_defaults_and_values),
        cmocka_unit_test(test_options_errors),
        cmocka_unit_test(test_options_print_masks_secrets),
        cmocka_unit_test(test_userinfo_masked_and_controls_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
