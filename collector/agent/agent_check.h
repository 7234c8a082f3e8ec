/* check-config's findings beyond errors (agent_check.c). Warnings go to
 * view->warnings with file:line; the print functions write the part of the
 * answer that depends on this machine, labelled as such. */
#ifndef COLLECTOR_AGENT_CHECK_H
#define COLLECTOR_AGENT_CHECK_H

#include <stddef.h>
#include <stdio.h>

struct aws_settings;
struct config;
struct diag;
struct input_instance;
struct input_plugin;
struct option_def;
struct output_instance;

/* What the checks read of the agent (the agent fills it; agent_check knows
 * nothing else of it). */
struct check_view {
    const struct config *cfg;
    struct input_instance **inputs;
    int ninputs;
    struct output_instance **outputs;  /* before `enabled` is applied: all declared; after: the enabled */
    int noutputs;
    char *const *disabled;             /* "name (type): why" */
    int ndisabled;
    const char *hostname;
    const struct aws_settings *aws;
    const struct option_def *input_common, *output_common;  /* keys of every input / output */
    const struct option_def *const *agent_tables;           /* keys of [agent] */
    int nagent_tables;
    struct diag *warnings;             /* where warnings go */
};

/* The tags an input's records carry: `tag` (default the section name), or
 * its own tag_* options (containers: tag_ecs, tag_docker), plus emf_tag when
 * emf = true. Returns how many (at most max). */
int agent_input_tags(const struct input_instance *in, const char **tags, int max);
/* Does the module tag with tag_* options instead of `tag`? */
int agent_input_has_own_tags(const struct input_plugin *p);

/* Inputs whose tags no output takes, outputs whose match takes no input
 * (every declared output: enabled here or not). */
void agent_check_routing(struct check_view *a);
/* Unitless durations far beyond their option's usual range. */
void agent_check_durations(struct check_view *a);
/* Options set that act only with a switch the section leaves off
 * (host_metrics' ECS agent check and task sizes without capacity). */
void agent_check_switches(struct check_view *a);
/* Files of a configuration directory that were not read. */
void agent_check_ignored(struct check_view *a);

/* How many metric series each metrics input publishes, per host and per
 * cluster, with their dimensions and namespace. */
void agent_print_metrics_plan(const struct check_view *a, FILE *out);

/* Outputs left out here, Docker, identity (hostname, instance id, cluster,
 * region and where each came from). */
void agent_print_machine(const struct check_view *a, FILE *out);
void agent_print_identity(const struct check_view *a, FILE *out);

/* aws_context_describe() of these settings as text (malloc'd; region,
 * endpoints, credential source), or NULL with why in err. */
char *agent_aws_describe(const struct aws_settings *aws, char *err, size_t errlen);

#endif
