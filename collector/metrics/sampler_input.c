/* The sampler inputs' shared wrapper: see sampler_input.h. */
#include "collector/metrics/sampler_input.h"

#include "collector/cloudwatch/host_info.h"
#include "collector/core/config.h"
#include "collector/docker/ecs_agent.h"
#include "collector/metrics/ci_names.h"
#include "collector/metrics/sampler.h"
#include "collector/pipeline/pipeline.h"
#include "collector/plugin.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

const struct option_def sampler_input_options[] = {
    {"interval", OPT_DURATION, "60s", 0, offsetof(struct sample_conf, interval_ms), NULL,
     "sampling interval (1s or more)"},
    {"proc_root", OPT_STRING, "/proc", 0, offsetof(struct sample_conf, proc_root), NULL,
     "procfs of the host (/host/proc when the agent runs in a container)"},
    {"cluster", OPT_STRING, NULL, 0, offsetof(struct sample_conf, cluster), NULL,
     "ClusterName; default from ECS introspection or container labels, else the hostname"},
    {"metrics", OPT_BOOL, "true", 0, offsetof(struct sample_conf, metrics), NULL,
     "emit metric records (for cloudwatch_metrics, stdout, file)"},
    {"emf_namespace", OPT_STRING, CI_DEFAULT_NAMESPACE, 0, offsetof(struct sample_conf, emf_namespace),
     NULL, "CloudWatch namespace declared in the EMF records"},
    {"storage_resolution", OPT_INT, "60", 0, offsetof(struct sample_conf, storage_resolution),
     "1..60", "EMF StorageResolution: 1 (high resolution) or 60"},
    {0},
};

int sampler_input_error(struct input_instance *in, struct diag *diag, const char *key,
                        const char *msg)
{
    const struct conf_entry *e = in->section ? conf_section_get(in->section, key) : NULL;
    diag_add(diag, e ? e->file : (in->section ? in->section->file : NULL),
             e ? e->line : (in->section ? in->section->line : 0), "input %s: %s", in->name, msg);
    return -1;
}

int sampler_input_check(struct input_instance *in, struct diag *diag,
                        const struct sample_conf *conf)
{
    int bad = 0;
    if (conf->interval_ms < 1000)
        bad |= sampler_input_error(in, diag, "interval", "interval must be 1s or more");
    if (conf->storage_resolution != 1 && conf->storage_resolution != 60)
        bad |= sampler_input_error(in, diag, "storage_resolution",
                                   "storage_resolution must be 1 or 60");
    if (!conf->metrics && !conf->emf)
        bad |= sampler_input_error(in, diag, "metrics",
                                   "metrics = false and emf = false: nothing to emit");
    char why[600];
    if (ecs_introspection_url_check(conf->introspection_url, why, sizeof why) < 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "introspection_url: %s", why);
        bad |= sampler_input_error(in, diag, "introspection_url", msg);
    }
    return bad;
}

void *sampler_input_new(struct input_instance *in, size_t size, const struct sampler_input_ops *ops,
                        const struct sample_conf *conf, const char *default_tag,
                        const struct aws_settings *aws, const char *hostname)
{
    struct sampler_input *si = xcalloc(1, size);
    si->ops = ops;
    si->in = in;
    si->interval_ms = conf->interval_ms;
    si->aws = aws;
    snprintf(si->hostname, sizeof si->hostname, "%s", hostname ? hostname : "localhost");
    snprintf(si->instance_id, sizeof si->instance_id, "%s", si->hostname);
    si->fe.metric_tag = frame_default_tag(in, default_tag);
    si->fe.emf_tag = tag_intern(conf->emf_tag);
    in->ctx = si;
    return si;
}

void sampler_input_sampling(const struct sampler_input *si, const struct sample_conf *conf,
                            struct sample_conf *out)
{
    *out = *conf;
    out->hostname = si->hostname;
    out->instance_id = si->instance_id;
}

/* Sampler thread. */
static void fill(void *arg, struct mframe *f)
{
    struct sampler_input *si = arg;
    if (!si->host_loaded) {
        struct cwl_host_info h;
        if (si->aws) {
            cwl_host_info_load(&h, si->hostname, si->aws, 1);
            snprintf(si->instance_id, sizeof si->instance_id, "%s", h.instance_id);
        }
        si->host_loaded = 1;
    }
    si->source->ops->sample(si->source, f);
}

/* Loop thread. */
static void emit(void *arg, const struct mframe *f)
{
    struct sampler_input *si = arg;
    if (f->errors != si->errors_seen && f->error[0])
        log_every(&si->err_limit, 60000, LOG_WARN, si->ops->mod, "input %s: %s", si->in->name,
                  f->error);
    si->errors_seen = f->errors;
    si->containers = f->containers;
    si->samples = f->samples;
    frame_emit(&si->fe, si->in, f);
    if (si->ops->emitted)
        si->ops->emitted(si->in, f);
}

int sampler_input_start(struct input_instance *in)
{
    struct sampler_input *si = in->ctx;
    si->sampler = sampler_start(in->loop, si->interval_ms, fill, emit, si);
    return si->sampler ? 0 : -1;
}

void sampler_input_stop(struct input_instance *in)
{
    struct sampler_input *si = in->ctx;
    if (si->sampler) {
        sampler_stop(si->sampler);
        si->sampler = NULL;
    }
}

void sampler_input_destroy(struct input_instance *in)
{
    struct sampler_input *si = in->ctx;
    if (!si)
        return;
    sampler_input_stop(in);
    if (si->source)
        si->source->ops->free(si->source);
    frame_emitter_free(&si->fe);
    free(si);
    in->ctx = NULL;
}

void sampler_input_status(struct input_instance *in, json_t *obj)
{
    struct sampler_input *si = in->ctx;
    if (si->ops->status)
        si->ops->status(in, obj);
    json_object_set_new(obj, "metrics_emitted", json_integer((json_int_t)si->fe.metrics_emitted));
    json_object_set_new(obj, "emf_emitted", json_integer((json_int_t)si->fe.logs_emitted));
    json_object_set_new(obj, "errors", json_integer((json_int_t)si->errors_seen));
    if (si->sampler)
        json_object_set_new(obj, "sampler_cpu_ns",
                            json_integer((json_int_t)sampler_cpu_ns(si->sampler)));
}
