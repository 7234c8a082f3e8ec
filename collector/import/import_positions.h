/* The switch-over from a running agent (positions.c): the old agent's file
 * positions written as the imported tail inputs' checkpoints. */
#ifndef COLLECTOR_IMPORT_POSITIONS_H
#define COLLECTOR_IMPORT_POSITIONS_H

#include "collector/import/import.h"

#include <stdio.h>

/* For each input of r, <data_dir>/tail/<name>.ckpt holding every file its
 * path matches now: at the CloudWatch agent's saved offset (state_dir:
 * /opt/aws/amazon-cloudwatch-agent/logs/state), else at its end. One line
 * per file to report. 0, or -1 with err. */
int import_write_positions(const struct import_result *r, const char *data_dir,
                           const char *state_dir, FILE *report, char *err, size_t errlen);

#endif
