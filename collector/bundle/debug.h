/* --mode enable-debug: turn on Docker and ECS agent debug logging as
 * ecs-logs-collector does (anchors.md §3.4), plus daemon.json hosts; print
 * exactly what changed and how to undo it. Collects nothing. */
#ifndef COLLECTOR_BUNDLE_DEBUG_H
#define COLLECTOR_BUNDLE_DEBUG_H

#include "collector/bundle/cli.h"
#include "collector/core/util.h"

/* Pure: text of /etc/sysconfig/docker with -D added to OPTIONS (appended
 * line when there is none). Returns 0 if changed, 1 if -D already there. */
int debug_sysconfig_add_d(const char *in, struct buf *out);
/* Pure: 1 if ecs.config text has ECS_LOGLEVEL=debug. */
int debug_ecs_has_debug(const char *text);

int bundle_enable_debug(const struct bundle_opts *o);

#endif
