/* Argument parsing for `collector bundle`: --opt VALUE, --opt=VALUE, short
 * -o/-q/-c/-j. Environment defaults (for tests and unusual hosts):
 * COLLECTOR_BUNDLE_ROOT, COLLECTOR_ECS_INTROSPECTION_URL, COLLECTOR_STATUS_URL. */
#include "collector/bundle/cli.h"

#include "collector/core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char bundle_usage[] =
    "usage: collector bundle [-o PATH|-] [--mode brief|enable-debug] [--since DURATION]\n"
    "                        [--max-size SIZE] [--item-max SIZE] [--timeout DURATION]\n"
    "                        [-j JOBS] [-c CONFIG] [-q] [--no-redact-check]\n"
    "\n"
    "  -o PATH            archive path or directory (default "
    "./collect-<instance-id>-<YYYYMMDDHHmm>.tgz);\n"
    "                     - writes the archive to stdout\n"
    "  --mode brief       collect (default); enable-debug: turn on Docker and ECS agent debug\n"
    "                     logging as ecs-logs-collector does, say what changed and how to undo it\n"
    "  --since DURATION   only log lines of the last DURATION (journal) and log files modified "
    "then\n"
    "  --max-size SIZE    all files together, uncompressed (default 256MiB); largest logs keep "
    "their newest bytes\n"
    "  --item-max SIZE    one file (default 32MiB), newest bytes kept\n"
    "  --timeout DURATION longest any one command or HTTP call may take (default 60s)\n"
    "  -j JOBS            items collected in parallel (default 6)\n"
    "  -c CONFIG          the agent's configuration (default /etc/collector/conf.d)\n"
    "  -q                 no progress lines on stderr\n"
    "  --no-redact-check  skip the final scan of every file for secrets that survived redaction\n";

static int value_of(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (strcmp(a, name) == 0) {
        if (*i + 1 >= argc)
            return -1;
        *val = argv[++*i];
        return 1;
    }
    return 0;
}

int bundle_parse_args(int argc, char **argv, struct bundle_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->mode = MODE_BRIEF;
    o->max_size = BUNDLE_DEFAULT_MAX_SIZE;
    o->item_max = BUNDLE_DEFAULT_ITEM_MAX;
    o->timeout_ms = BUNDLE_DEFAULT_TIMEOUT_MS;
    o->redact_check = 1;
    o->jobs = BUNDLE_DEFAULT_JOBS;
    o->root = getenv("COLLECTOR_BUNDLE_ROOT");
    o->ecs_url = getenv("COLLECTOR_ECS_INTROSPECTION_URL");
    o->status_url = getenv("COLLECTOR_STATUS_URL");

    static const struct {
        const char *long_name, *short_name;
    } valued[] = {
        {"--output", "-o"},   {"--mode", NULL},    {"--since", NULL},      {"--max-size", NULL},
        {"--item-max", NULL}, {"--timeout", NULL}, {"--jobs", "-j"},       {"--config", "-c"},
        {"--root", NULL},     {"--ecs-url", NULL}, {"--status-url", NULL},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 1;
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        if (strcmp(a, "--no-redact-check") == 0) {
            o->redact_check = 0;
            continue;
        }
        const char *val = NULL;
        int which = -1;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
            int r = value_of(argc, argv, &i, valued[k].long_name, &val);
            if (r == 0 && valued[k].short_name)
                r = value_of(argc, argv, &i, valued[k].short_name, &val);
            if (r < 0) {
                snprintf(err, errlen, "option %s needs a value", a);
                return -1;
            }
            if (r > 0) {
                which = (int)k;
                break;
            }
        }
        if (which < 0) {
            snprintf(err, errlen, "unknown argument '%s'", a);
            return -1;
        }
        uint64_t size;
        int64_t ms;
        switch (which) {
        case 0: o->output = val; break;
        case 1:
            if (strcmp(val, "brief") == 0)
                o->mode = MODE_BRIEF;
            else if (strcmp(val, "enable-debug") == 0)
                o->mode = MODE_ENABLE_DEBUG;
            else {
                snprintf(err, errlen, "--mode must be brief or enable-debug, not '%s'", val);
                return -1;
            }
            break;
        case 2:
        case 5:
            if (parse_duration_ms(val, &ms) < 0 || ms <= 0) {
                snprintf(err, errlen, "%s: '%s' is not a duration (e.g. 30m, 2h, 1d)",
                         which == 2 ? "--since" : "--timeout", val);
                return -1;
            }
            if (which == 2)
                o->since_ms = ms;
            else
                o->timeout_ms = ms;
            break;
        case 3:
        case 4:
            if (parse_size(val, &size) < 0 || size < 4096) {
                snprintf(err, errlen, "%s: '%s' is not a size of at least 4KiB (e.g. 256MiB)",
                         which == 3 ? "--max-size" : "--item-max", val);
                return -1;
            }
            if (which == 3)
                o->max_size = size;
            else
                o->item_max = size;
            break;
        case 6: {
            char *end;
            long j = strtol(val, &end, 10);
            if (*end || j < 1 || j > 64) {
                snprintf(err, errlen, "-j: '%s' is not a number from 1 to 64", val);
                return -1;
            }
            o->jobs = (int)j;
            break;
        }
        case 7: o->config = val; break;
        case 8: o->root = val; break;
        case 9: o->ecs_url = val; break;
        case 10: o->status_url = val; break;
        }
    }
    if (o->item_max > o->max_size)
        o->item_max = o->max_size;
    if (o->root && strcmp(o->root, "/") == 0)
        o->root = NULL;
    return 0;
}
