/* `collector import`: another agent's configuration translated into a
 * conf.d file that does what the old agent did.
 *
 *   awslogs.c   awslogs.conf (the legacy CloudWatch Logs agent), INI
 *   cwagent.c   the CloudWatch agent's JSON (logs, and metrics where they map)
 *   positions.c the old agent's file positions as tail checkpoints (switch-over)
 *   import_cli.c the command: files in, files out
 *
 * The translators are pure: text in, a struct import_result out. Every line
 * written says what it came from; everything that does not map is listed
 * with the reason, in notes and as comments in the file. */
#ifndef COLLECTOR_IMPORT_H
#define COLLECTOR_IMPORT_H

#include "collector/core/util.h"

#define IMPORT_MAX_INPUTS 64

/* One tail input written, for the switch-over (positions.c). */
struct import_input {
    char name[128];      /* the section name: [input NAME] */
    char path[1024];     /* its `path` glob */
};

struct import_result {
    struct buf conf;                 /* the conf.d file */
    struct buf notes;                /* "SOURCE:LINE: what: why\n" for each thing not mapped */
    int nnotes;
    struct import_input inputs[IMPORT_MAX_INPUTS];
    int ninputs;
};

void import_result_init(struct import_result *r);
void import_result_free(struct import_result *r);

/* 0, or -1 with a reason in err (nothing usable in the text). */
int import_awslogs(const char *text, const char *source, struct import_result *r, char *err,
                   size_t errlen);
int import_cloudwatch_agent(const char *text, const char *source, struct import_result *r,
                            char *err, size_t errlen);

/* ---- shared by the translators (import_util.c), unit-tested ---- */

/* A PCRE2 pattern matching, at the start of a line, text written with this
 * strptime/strftime format (Python's, or the CloudWatch agent's with %-d
 * style unpadded fields): "^\d{4}-\d{1,2}-..." 0, or -1 for a directive with
 * no pattern (named in bad). */
int import_format_regex(const char *fmt, struct buf *out, char *bad);

/* The CloudWatch agent's timestamp_format in this agent's time_format
 * syntax (%-d -> %d...). 0, or -1 with the unknown directive in bad. */
int import_time_format(const char *fmt, struct buf *out, char *bad);

/* A section name ([A-Za-z0-9_.-]) from any text: "/var/log/messages" ->
 * "var_log_messages"; unique among the names in taken (n of them). */
void import_section_name(const char *raw, char (*taken)[128], int n, char *out, size_t cap);

/* A glob character in path? (awslogs and the CloudWatch agent follow only the
 * newest matching file) */
int import_is_glob(const char *path);

/* Append a note (printf) to r->notes; it is also written as a comment by
 * the translator. */
void import_note(struct import_result *r, const char *source, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
