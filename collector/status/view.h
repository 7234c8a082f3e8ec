/* What the status endpoint knows of the agent: a view the agent hands it,
 * and the reload counters the runner keeps (view.c). */
#ifndef COLLECTOR_STATUS_VIEW_H
#define COLLECTOR_STATUS_VIEW_H

#include <stdint.h>

struct pipeline;
struct input_instance;
struct output_instance;
struct status_settings;

/* Configuration generation (1 = the first load) and reload counters. The
 * runner owns them (they outlive each configuration) and notes each reload. */
struct status_reloads {
    uint64_t generation;
    uint64_t ok;
    uint64_t failed;
    int64_t loaded_ms;            /* wall clock of the last successful load */
    char *last_error;             /* the last reload's error until one succeeds; NULL */
};
#define STATUS_RELOADS_INIT {.generation = 1}

/* ok, or the error text (copied). */
void status_reloads_note(struct status_reloads *r, int ok, const char *error);
void status_reloads_free(struct status_reloads *r);

/* What status reads of the running agent: handed over by the agent at start,
 * valid until status_stop. Status knows nothing else of the agent. */
struct status_view {
    const char *config_path;
    const char *hostname;
    const struct status_settings *settings;
    struct input_instance **inputs;
    int ninputs;
    struct output_instance **outputs;   /* the enabled ones */
    int noutputs;
    char *const *disabled;              /* "name (type): why" of outputs left out */
    int ndisabled;
    const struct status_reloads *reloads;
    struct pipeline *pipeline;
    uint64_t memory_limit;
};

#endif
