/* `collector bundle` arguments. Pure: argv in, options or an error message out. */
#ifndef COLLECTOR_BUNDLE_CLI_H
#define COLLECTOR_BUNDLE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum bundle_mode { MODE_BRIEF, MODE_ENABLE_DEBUG };

struct bundle_opts {
    const char *output; /* NULL: ./collect-<id>-<stamp>.tgz; "-": stdout; a directory: inside it */
    enum bundle_mode mode;
    int64_t since_ms;   /* 0: no window (whole logs, size caps apply) */
    uint64_t max_size;  /* all files together, before compression */
    uint64_t item_max;  /* one file */
    int64_t timeout_ms; /* upper bound of any one command or HTTP call */
    int redact_check;
    int quiet;
    int jobs;
    const char *config; /* agent configuration (masked copy in the bundle) */
    int (*list_config)(const char *path, FILE *out); /* bundle.h: bundle_config_lister */
    /* hidden, for tests and unusual hosts */
    const char *root;       /* prefix of every host path read ("" = /) */
    const char *ecs_url;    /* ECS agent introspection base URL */
    const char *status_url; /* the agent's /status URL (default from [agent] http_listen) */
};

#define BUNDLE_DEFAULT_MAX_SIZE (256ull << 20)
#define BUNDLE_DEFAULT_ITEM_MAX (32ull << 20)
#define BUNDLE_DEFAULT_TIMEOUT_MS 60000
#define BUNDLE_DEFAULT_JOBS 6

extern const char bundle_usage[];

/* 0 ok, 1 help was asked (usage printed by caller), -1 error (message in err). */
int bundle_parse_args(int argc, char **argv, struct bundle_opts *o, char *err, size_t errlen);

#endif
