/* Declarative option tables, in the manner of Fluent Bit's config maps.
 *
 * Every configurable module (the agent section, each input and output type)
 * describes its keys once, as a table of struct option_def. The same table
 * drives parsing into the module's own struct, validation with file:line
 * errors, defaults, secret masking in `check-config`, and `collector help`.
 *
 *   struct file_out_conf { char *path; int gzip; uint64_t max_size; };
 *   static const struct option_def file_options[] = {
 *       { "path", OPT_STRING, NULL, OPT_REQUIRED,
 *         offsetof(struct file_out_conf, path), NULL, "directory to write into" },
 *       { "gzip", OPT_BOOL, "false", 0,
 *         offsetof(struct file_out_conf, gzip), NULL, "compress rotated files" },
 *       { 0 }
 *   };
 *
 * Target field types by option type:
 *   OPT_STRING, OPT_SECRET, OPT_ENUM  char *        (heap copy; NULL when unset and no default)
 *   OPT_BOOL, OPT_INT                 int64_t for INT, int for BOOL
 *   OPT_DURATION                      int64_t       milliseconds
 *   OPT_SIZE                          uint64_t      bytes
 *   OPT_LIST                          struct strlist (space or comma separated words)
 * OPT_ENUM's allowed values are in `choices`, separated by '|'.
 * OPT_INT's optional range is in `choices` as "min..max".
 *
 * A table shared by several modules (the tail engine's settings) is bound
 * with one OPT_INCLUDE row: its rows take their place in the including
 * table, their offsets counted from the row's own offset (a struct the
 * including module embeds):
 *       OPT_INCLUDE_ROW(offsetof(struct tail_conf, engine), tail_engine_options),
 * (The table travels in `choices`, the one pointer field a row has, so that
 * every existing table keeps its seven positional fields.) */
#ifndef COLLECTOR_OPTIONS_H
#define COLLECTOR_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
    OPT_END = 0,
    OPT_STRING,
    OPT_SECRET,     /* a string never printed: masked in check-config and logs */
    OPT_BOOL,
    OPT_INT,
    OPT_DURATION,
    OPT_SIZE,
    OPT_ENUM,
    OPT_LIST,
    OPT_INCLUDE,    /* the rows of `include`, at offset */
};

enum opt_flags {
    OPT_REQUIRED = 1 << 0,
    OPT_MULTI    = 1 << 1,  /* OPT_LIST only: repeated keys append instead of erroring */
};

struct option_def {
    const char *name;
    enum opt_type type;
    const char *default_value;  /* as it would be written in the file; NULL = none */
    unsigned flags;
    size_t offset;              /* offset of the target field in the module's struct */
    const char *choices;        /* ENUM: "a|b|c"; INT: "min..max"; INCLUDE: the table */
    const char *description;    /* one line, for help and the reference */
};

#define OPT_INCLUDE_ROW(offset, table) \
    {"(include)", OPT_INCLUDE, NULL, 0, (offset), (const char *)(const void *)(table), NULL}

struct strlist {
    char **items;
    int count;
};

void strlist_free(struct strlist *list);
int strlist_contains(const struct strlist *list, const char *item);

/* One table applied to one struct. A section may be validated against several
 * (the agent section takes the agent's own options and the AWS options). */
struct option_binding {
    const struct option_def *defs;
    void *target;
};

struct conf_section;
struct diag;

/* Fill each target from the section's entries, applying defaults first.
 * Reports unknown keys, bad values and missing required keys to diag, every
 * one with its file:line. Returns the number of errors added. */
int options_apply(const struct conf_section *section, const struct option_binding *bindings,
                  int nbindings, struct diag *diag);

/* Free every heap field that options_apply set in target. */
void options_free(const struct option_def *defs, void *target);

/* Print the effective values (secrets masked) as `key = value` lines. */
void options_print(FILE *out, const struct option_def *defs, const void *target);

/* Print the table as a reference: key, type, default, description. */
void options_print_help(FILE *out, const struct option_def *defs);
/* The same as Markdown table rows (no header), for the README reference. */
void options_print_markdown(FILE *out, const struct option_def *defs);

const struct option_def *options_find(const struct option_def *defs, const char *name);

/* "Did you mean": the candidate closest to word (a typo: a few edits,
 * case-insensitive), or NULL when none is close. NULL candidates are skipped. */
const char *options_suggest(const char *word, const char *const *candidates, int n);

#endif
