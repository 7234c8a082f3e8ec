/* Container Insights names: metric names, units, dimension names, and the
 * levels (dimension sets) the container input publishes. Shared by the
 * inputs, the EMF events and `collector dashboard`. */
#ifndef COLLECTOR_METRICS_CI_NAMES_H
#define COLLECTOR_METRICS_CI_NAMES_H

#define CI_NAMESPACE "ECS/ContainerInsights"
/* The agent's own namespace, the default: its series never mix with those
 * of Container Insights when that is also enabled on the cluster. Set
 * namespace / emf_namespace = ECS/ContainerInsights to publish into it. */
#define CI_DEFAULT_NAMESPACE "Collector/ECS"

#define CI_DIM_CLUSTER "ClusterName"
#define CI_DIM_SERVICE "ServiceName"
#define CI_DIM_FAMILY "TaskDefinitionFamily"
#define CI_DIM_TASK "TaskId"
#define CI_DIM_CONTAINER "ContainerName"
#define CI_DIM_INSTANCE "InstanceId"
#define CI_DIM_CONTAINER_INSTANCE "ContainerInstanceId"

#define CI_UNIT_NONE "None"
#define CI_UNIT_MB "Megabytes"
#define CI_UNIT_BPS "Bytes/Second"
#define CI_UNIT_BYTES "Bytes"
#define CI_UNIT_COUNT "Count"
#define CI_UNIT_PERCENT "Percent"

/* Levels of the container input (`levels` option). */
enum ci_level {
    CI_LEVEL_CLUSTER = 1 << 0,     /* {ClusterName} */
    CI_LEVEL_SERVICE = 1 << 1,     /* {ClusterName, ServiceName} */
    CI_LEVEL_FAMILY = 1 << 2,      /* {ClusterName, TaskDefinitionFamily} */
    CI_LEVEL_TASK = 1 << 3,        /* {ClusterName, TaskDefinitionFamily, TaskId} */
    CI_LEVEL_CONTAINER = 1 << 4,   /* {ClusterName, TaskDefinitionFamily, ContainerName} */
};

#define CI_LEVEL_NAMES "cluster service family task container"

#endif
