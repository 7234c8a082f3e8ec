/* One way to write a sampler input (container_metrics, host_metrics): the
 * plugin's start/stop/destroy and the shared part of its checks, describe
 * and status around a sample source (sample_source.h: container_sample,
 * host_sample). The module's state begins with a struct sampler_input
 * (in->ctx points at both) and its init sets `source`. On the sampler
 * thread the wrapper loads the host's identity once, then has the source
 * fill the frame; on the loop thread it emits the frame (metric events
 * and EMF records) and warns, rate-limited, when its error count moved. */
#ifndef COLLECTOR_METRICS_SAMPLER_INPUT_H
#define COLLECTOR_METRICS_SAMPLER_INPUT_H

#include "collector/core/log.h"
#include "collector/core/options.h"
#include "collector/metrics/frame.h"
#include "collector/metrics/frame_emit.h"
#include "collector/metrics/sample_source.h"

#include <jansson.h>
#include <stdint.h>

struct aws_settings;
struct diag;
struct input_instance;
struct sampler;

struct sampler_input_ops {
    const char *mod;             /* log tag: the module's name */
    /* Loop thread: the module's own status keys (optional). */
    void (*status)(struct input_instance *in, json_t *obj);
    /* Loop thread: f was just emitted (optional). */
    void (*emitted)(struct input_instance *in, const struct mframe *f);
};

struct sampler_input {
    const struct sampler_input_ops *ops;
    struct input_instance *in;
    int64_t interval_ms;
    struct sample_source *source; /* set by the module's init */
    struct sampler *sampler;
    struct frame_emitter fe;
    char hostname[256];
    char instance_id[256];       /* the hostname until the instance's is loaded */
    int host_loaded;             /* sampler thread */
    const struct aws_settings *aws;
    struct log_limit err_limit;
    uint64_t errors_seen;        /* loop thread: copied from the last frame */
    uint64_t containers, samples;
};

/* The checks both inputs make of their common options; each error goes to
 * diag with its file:line. 0, or -1 when one failed. */
int sampler_input_check(struct input_instance *in, struct diag *diag,
                        const struct sample_conf *conf);
/* Report one option's error ("input NAME: msg" at the key's file:line). */
int sampler_input_error(struct input_instance *in, struct diag *diag, const char *key,
                        const char *msg);

/* Allocate the module's state (size bytes, zeroed, a struct sampler_input
 * first) as in->ctx and fill the shared part. aws: the agent's settings
 * (NULL: the instance id stays the hostname). */
void *sampler_input_new(struct input_instance *in, size_t size, const struct sampler_input_ops *ops,
                        const struct sample_conf *conf, const char *default_tag,
                        const struct aws_settings *aws, const char *hostname);
/* The sampler's copy of conf (into the module's cs_conf / hs_conf), with
 * the host's name and instance id. */
void sampler_input_sampling(const struct sampler_input *si, const struct sample_conf *conf,
                            struct sample_conf *out);

/* The input plugin's start, stop and destroy. */
int sampler_input_start(struct input_instance *in);
void sampler_input_stop(struct input_instance *in);
void sampler_input_destroy(struct input_instance *in);
/* The plugin's status: the module's keys, then the emitted counts, errors
 * and the sampler's CPU time. */
void sampler_input_status(struct input_instance *in, json_t *obj);

/* The option rows both sampler inputs have, over their struct sample_conf
 * (bound with OPT_INCLUDE_ROW(offsetof(struct X_conf, base), ...)): interval,
 * proc_root, cluster, metrics, emf_namespace, storage_resolution. */
extern const struct option_def sampler_input_options[];

#endif
