/* Facts about the host gathered before collecting: init system, instance
 * id (ECS Anywhere registration, else IMDSv2 on EC2 only), disk usage. */
#ifndef COLLECTOR_BUNDLE_HOST_H
#define COLLECTOR_BUNDLE_HOST_H

#include "collector/bundle/stage.h"

int host_is_systemd(const struct bundle *b);
/* Sets b->instance_id (or NULL) and b->instance_source. */
void host_instance_id(struct bundle *b);
/* Pure: an instance id is safe as a path component. */
int instance_id_valid(const char *id);
/* Disk pre-check: warns (stderr) for each filesystem above 70 %; sets
 * b->disk_max_pct / disk_worst; appends a report to out. */
void host_disk_check(struct bundle *b, struct buf *out);

#endif
