/* What the sampler inputs' wrapper (sampler_input.h) needs of a sampler:
 * the settings both inputs share (container_metrics and host_metrics bind
 * them from their option tables; the samplers read them through their
 * cs_conf / hs_conf), and one interface, struct sample_source, that
 * container_sample and host_sample implement. */
#ifndef COLLECTOR_METRICS_SAMPLE_SOURCE_H
#define COLLECTOR_METRICS_SAMPLE_SOURCE_H

#include <stdint.h>

struct sample_conf {
    int64_t interval_ms;
    char *docker_socket;             /* "" = no Docker API */
    char *proc_root;
    char *introspection_url;         /* NULL or "" = off */
    int64_t introspection_refresh_ms;
    char *cluster;                   /* override; NULL = from ECS */
    int metrics;                     /* emit metric events */
    int emf;                         /* emit EMF events */
    char *emf_tag;
    char *emf_namespace;
    int64_t storage_resolution;
    /* Not options: set by sampler_input_new(). */
    const char *hostname;            /* cluster name of last resort */
    const char *instance_id;
};

struct mframe;
struct sample_source;

struct sample_source_ops {
    /* Sampler thread: sample and fill f, its errors, error, samples and
     * containers counts included. */
    void (*sample)(struct sample_source *src, struct mframe *f);
    void (*free)(struct sample_source *src);
};

/* The first member of a sampler's state. */
struct sample_source {
    const struct sample_source_ops *ops;
};

#endif
