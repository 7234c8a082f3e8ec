/* Multiline joining (parsers/multiline.c). The first input line picks the
 * rule: a built-in name (java, go, python, ecs) or, after "re:", a regex of
 * its own (as a container label may supply); the rest are the lines fed,
 * with small caps so the cap paths run. */
#include "fuzz_util.h"
#include "parsers/multiline.h"

static void emit(void *arg, const char *msg, size_t len, uint64_t end_off)
{
    fuzz_touch(msg, len);
    (void)arg;
    (void)end_off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *head = fuzz_take_line(&data, &size);
    const char *regex = strncmp(head, "re:", 3) == 0 ? head + 3 : ml_builtin(head);
    if (!regex)
        regex = ml_builtin("java");
    struct ml_rule rule;
    char err[256];
    if (ml_rule_init(&rule, regex, err, sizeof err) < 0) {
        free(head);
        return 0;
    }
    rule.timeout_ms = 1000;
    rule.max_lines = 8;
    rule.max_bytes = 512;
    struct ml_state st;
    ml_state_init(&st);
    uint64_t off = 0;
    int64_t now = 0;
    while (size > 0) {
        char *line = fuzz_take_line(&data, &size);
        size_t len = strlen(line);
        off += len + 1;
        now += 300;
        if (ml_expired(&rule, &st, now))
            ml_flush(&st, emit, NULL);
        ml_feed(&rule, &st, line, len, off, now, emit, NULL);
        free(line);
    }
    ml_flush(&st, emit, NULL);
    ml_state_free(&st);
    ml_rule_free(&rule);
    free(head);
    return 0;
}
