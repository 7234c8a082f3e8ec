/* collector: the command line. Exit codes: 0 ok, 1 runtime failure,
 * 2 usage or configuration error. */
#include "collector/agent/agent.h"
#include "collector/agent/agent_check.h"
#include "collector/bundle/bundle.h"
#include "collector/core/config.h"
#include "collector/core/gzip.h"
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
    const char *options;  /* --help text of the options; NULL: the command answers --help itself */
};

static int cmd_run(int argc, char **argv);
static int cmd_check_config(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);
int status_cli_main(int argc, char **argv); /* collector/status/status_cli.c */
static int cmd_bundle(int argc, char **argv);
int dashboard_main(int argc, char **argv);  /* collector/metrics/dashboard.c */
int import_main(int argc, char **argv);     /* collector/import/import_cli.c */

#define CONFIG_OPTION "  -c, --config PATH   a file or a directory of *.conf files\n"

static const struct command commands[] = {
    {"run", "collector run [-c PATH]",
     "run the agent in the foreground until SIGTERM/SIGINT; SIGHUP reloads the configuration",
     cmd_run, CONFIG_OPTION},
    {"check-config", "collector check-config [-c PATH]",
     "validate the configuration; print the effective values (secrets masked) or every error as "
     "file:line: message; warnings (routing, likely mistakes), the identity the agent will use, "
     "the metric series it will publish, and what depends on this machine (credentials, region, "
     "Docker) as a separate part",
     cmd_check_config, CONFIG_OPTION},
    {"status", "collector status [--addr HOST:PORT|/path.sock] [--json]",
     "print a running agent's state (GET /status of its http_listen endpoint); exit 0 ready, "
     "1 unreachable, 3 not ready", status_cli_main, NULL},
    {"bundle", "collector bundle [-o PATH|-] [--mode brief|enable-debug] [--since DURATION] "
     "[--max-size SIZE] [--no-redact-check] [-q]",
     "write a diagnostic support bundle (collect-<instance-id>-<YYYYMMDDHHmm>.tgz), secrets redacted",
     cmd_bundle, NULL},
    {"dashboard", "collector dashboard [-c PATH] [--cluster NAME] [--put NAME]",
     "print a CloudWatch dashboard body (PutDashboard JSON) for the metrics this agent "
     "publishes; --put NAME creates or updates it with the agent's credentials",
     dashboard_main, CONFIG_OPTION "  --cluster NAME      the cluster the dashboard shows\n"
                                   "  --put NAME          PutDashboard NAME instead of printing the body\n"},
    {"import", "collector import awslogs|cloudwatch-agent FILE [-o DIR]",
     "translate an awslogs.conf or a CloudWatch agent JSON configuration into conf.d files; what "
     "does not map is listed with the reason", import_main, NULL},
    {"version", "collector version", "print the version", cmd_version, ""},
    {"help", "collector help [COMMAND | agent | input [TYPE] | output [TYPE] | TYPE | reference]",
     "describe a command, or the options of a module; `reference` prints them all as Markdown",
     cmd_help, ""},
    {NULL, NULL, NULL, NULL, NULL},
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
        } else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
            fprintf(stderr, "collector %s: %s needs a path (a file or a directory of *.conf "
                    "files)\nusage: collector %s [-c PATH]\n", cmd, argv[i], cmd);
            return NULL;
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
    struct check_view cv = agent_check_view(a);
    agent_print_metrics_plan(&cv, stdout);
    agent_print_machine(&cv, stdout);
    if (a->warnings.count)
        fprintf(stdout, "\n");
    for (int i = 0; i < a->warnings.count; i++)
        fprintf(stdout, "warning: %s\n", a->warnings.messages[i]);
    fprintf(stdout, "\nconfiguration OK");
    if (a->warnings.count)
        fprintf(stdout, ", with %d warning%s (above)", a->warnings.count,
                a->warnings.count == 1 ? "" : "s");
    fprintf(stdout, "\n");
    agent_free(a);
    diag_free(&diag);
    return 0;
}

static int cmd_bundle(int argc, char **argv)
{
    return bundle_main(argc, argv, agent_list_config);
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("collector %s (%s)\n", COLLECTOR_VERSION, COLLECTOR_GIT_REV);
    printf("gzip: %s\n", gzip_backend());
    return 0;
}

static void list_modules(int inputs)
{
    printf("%s types (collector help %s TYPE):\n", inputs ? "input" : "output",
           inputs ? "input" : "output");
    for (int i = 0;; i++) {
        const char *name = inputs ? (input_plugins[i] ? input_plugins[i]->name : NULL)
                                  : (output_plugins[i] ? output_plugins[i]->name : NULL);
        if (!name)
            break;
        printf("  %-20s %s\n", name,
               inputs ? input_plugins[i]->description : output_plugins[i]->description);
    }
}

static int help_module(const char *kind, const char *type)
{
    if (agent_print_module_help(stdout, kind, type) == 0)
        return 0;
    fprintf(stderr, "collector help: no %s module named '%s'\n", kind, type);
    list_modules(strcmp(kind, "input") == 0);
    return EXIT_USAGE;
}

static void print_command_help(const struct command *c)
{
    printf("usage: %s\n\n%s\n", c->usage, c->summary);
    if (c->options && *c->options)
        printf("\noptions:\n%s", c->options);
    printf("  -h, --help          this text\n");
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
    if (strcmp(argv[1], "input") == 0 || strcmp(argv[1], "inputs") == 0) {
        list_modules(1);
        return 0;
    }
    if (strcmp(argv[1], "output") == 0 || strcmp(argv[1], "outputs") == 0) {
        list_modules(0);
        return 0;
    }
    if (strcmp(argv[1], "reference") == 0) {
        agent_print_reference(stdout);
        return 0;
    }
    if (strcmp(argv[1], "agent") == 0) {
        agent_print_agent_help(stdout);
        return 0;
    }
    for (const struct command *c = commands; c->name; c++) {
        if (strcmp(c->name, argv[1]) == 0) {
            if (!c->options) { /* the command's own --help: one text, not two */
                char *args[] = {(char *)c->name, "--help", NULL};
                return c->run(2, args);
            }
            print_command_help(c);
            return 0;
        }
    }
    /* A module type alone: `collector help tail`. */
    int in = input_plugin_find(argv[1]) != NULL, out = output_plugin_find(argv[1]) != NULL;
    if (in || out) {
        if (in)
            help_module("input", argv[1]);
        if (in && out)
            printf("\n");
        if (out)
            help_module("output", argv[1]);
        return 0;
    }
    fprintf(stderr, "collector help: unknown topic '%s' (a command, agent, input, output, an "
            "input or output type, or reference)\n", argv[1]);
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
    for (const struct command *c = commands; c->name; c++) {
        if (strcmp(c->name, argv[1]) != 0)
            continue;
        if (c->options)
            for (int i = 2; i < argc; i++)
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                    print_command_help(c);
                    return 0;
                }
        return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "collector: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
