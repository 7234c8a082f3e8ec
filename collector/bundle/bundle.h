/* `collector bundle`: the command's entry point, and nothing else.
 *
 * A run (bundle.c): parse arguments (cli.c) -> host facts and instance id
 * (host.c) -> a staging directory <tmp>/collect/<id>/ -> jobs from the item
 * table (items.c) run by a bounded pool of threads (job.h, runner.c); each job
 * writes its files through the staging API (stage.h, stage.c: size cap,
 * redaction, sha256) and records manifest entries -> size budget for the
 * whole bundle, redact check, summary.txt (summary.c), redactions.txt and
 * manifest.json (manifest.c) -> the .tgz (archive.c) -> the staging
 * directory removed. */
#ifndef COLLECTOR_BUNDLE_BUNDLE_H
#define COLLECTOR_BUNDLE_BUNDLE_H

#include <stdio.h>

/* The agent's configuration at path, as check-config lists it (secrets
 * masked), or its errors as file:line lines; returns the number of errors.
 * Supplied by the caller so that the bundle does not depend on the agent. */
typedef int (*bundle_config_lister)(const char *path, FILE *out);

int bundle_main(int argc, char **argv, bundle_config_lister list_config);

#endif
