/* collector: the command line. Exit codes: 0 ok, 1 runtime failure,
 * 2 usage or configuration error. */
#include "collector/agent.h"
#include "collector/core/config.h"
#include "collector/core/log.h"
#include "collector/plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXIT_USAGE 2
#define DEFAULT_CONFIG "/etc/collector/conf.d"

struct command {
    const char *name;
    const char *usage;
    const char *summary;
    int (*run)(int argc, char **argv);
};

static int cmd_run(int argc, char **argv);
static int cmd_check_config(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);
int status_cli_main(int argc, char **argv); /* collector/status/status_cli.c */
int bundle_main(int argc, char **argv);     /* collector/bundle/bundle.c */
int dashboard_main(int argc, char **argv);  /* collector/metrics/dashboard.c */

static const struct command commands[] = {
    {"run", "collector run [-c PATH]",
     "run the agent in the foreground until SIGTERM/SIGINT; SIGHUP reloads the configuration",
     cmd_run},
    {"check-config", "collector check-config [-c PATH]",
     "validate the configuration; print the effective values (secrets masked) or every error as "
     "file:line: message",
     cmd_check_config},
    {"status", "collector status [--addr HOST:PORT|/path.sock] [--json]",
     "print a running agent's state (GET /status of its http_listen endpoint)", status_cli_main},
    {"bundle", "collector bundle [-o PATH|-] [--mode brief|enable-debug] [--since DURATION] "
     "[--max-size SIZE] [--no-redact-check] [-q]",
     "write a diagnostic support bundle (collect-<instance-id>-<YYYYMMDDHHmm>.tgz), secrets redacted",
     bundle_main},
    {"dashboard", "collector dashboard [-c PATH] [--cluster NAME] [--put NAME]",
     "print a CloudWatch dashboard body (PutDashboard JSON) for the metrics this agent "
     "publishes; --put NAME creates or updates it with the agent's credentials",
     dashboard_main},
    {"version", "collector version", "print the version", cmd_version},
    {"help", "collector help [COMMAND | agent | input TYPE | output TYPE | reference]",
     "describe a command, or the options of a module; `reference` prints them all as Markdown",
     cmd_help},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: collector COMMAND [OPTIONS]\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
    fprintf(out, "\nPATH is a file or a directory of *.conf files read in lexical order\n"
                 "(default " DEFAULT_CONFIG ", or ./conf.d when run from a checkout).\n"
                 "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.\n");
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Parse [-c PATH]; returns the path (default when absent) or NULL on a usage error. */
static const char *config_arg(int argc, char **argv, const char *cmd)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        } else {
            fprintf(stderr, "collector %s: unexpected argument '%s'\nusage: collector %s [-c PATH]\n",
                    cmd, argv[i], cmd);
            return NULL;
        }
    }
    if (path)
        return path;
    if (!exists(DEFAULT_CONFIG) && exists("conf.d"))
        return "conf.d";
    return DEFAULT_CONFIG;
}

static int cmd_run(int argc, char **argv)
{
    const char *path = config_arg(argc, argv, "run");
    return path ? agent_run(path) : EXIT_USAGE;
}

static int cmd_check_config(int argc, char **argv)
{
    const char *path = config_arg(argc, argv, "check-config");
    if (!path)
        return EXIT_USAGE;
    log_set_level(LOG_WARN); /* modules' info lines would mix with the report */
    struct diag diag = {0};
    struct agent *a = agent_load(path, &diag);
    if (!a) {
        diag_print(&diag, stdout);
        fprintf(stdout, "%d error%s\n", diag.count, diag.count == 1 ? "" : "s");
        diag_free(&diag);
        return EXIT_USAGE;
    }
    agent_print_config(a, stdout);
    fprintf(stdout, "\nconfiguration OK\n");
    agent_free(a);
    diag_free(&diag);
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("collector %s (%s)\n", COLLECTOR_VERSION, COLLECTOR_GIT_REV);
    return 0;
}

static int help_module(const char *kind, const char *type)
{
    if (strcmp(kind, "input") == 0) {
        const struct input_plugin *p = input_plugin_find(type);
        if (p) {
            printf("input %s: %s\n\noptions (plus type, tag):\n", p->name, p->description);
            options_print_help(stdout, p->options);
            return 0;
        }
    } else if (strcmp(kind, "output") == 0) {
        const struct output_plugin *p = output_plugin_find(type);
        if (p) {
            printf("output %s: %s\n\noptions (plus type, match, flush_interval, batch_max_bytes, "
                   "batch_max_records, workers, retry_limit, retry_max_backoff):\n",
                   p->name, p->description);
            options_print_help(stdout, p->options);
            return 0;
        }
    }
    fprintf(stderr, "collector help: no %s module named '%s'\n", kind, type);
    return EXIT_USAGE;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        printf("\ninputs: ");
        for (int i = 0; input_plugins[i]; i++)
            printf("%s%s", i ? ", " : "", input_plugins[i]->name);
        printf("\noutputs: ");
        for (int i = 0; output_plugins[i]; i++)
            printf("%s%s", i ? ", " : "", output_plugins[i]->name);
        printf("\n");
        return 0;
    }
    if (argc >= 3 && (strcmp(argv[1], "input") == 0 || strcmp(argv[1], "output") == 0))
        return help_module(argv[1], argv[2]);
    if (strcmp(argv[1], "reference") == 0) {
        agent_print_reference(stdout);
        return 0;
    }
    if (strcmp(argv[1], "agent") == 0) {
        printf("[agent] section options:\n");
        options_print_help(stdout, agent_options);
        return 0;
    }
    for (const struct command *c = commands; c->name; c++) {
        if (strcmp(c->name, argv[1]) == 0) {
            printf("usage: %s\n\n%s\n", c->usage, c->summary);
            return 0;
        }
    }
    fprintf(stderr, "collector help: unknown command '%s'\n", argv[1]);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv);
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, argv[1]) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "collector: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
