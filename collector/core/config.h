/* The configuration files: INI-style sections read from one file or a
 * directory of *.conf files in lexical order.
 *
 *   # comment
 *   [KIND NAME]          KIND: agent | input | parser | output ; NAME optional for agent
 *   key = value          ${VAR} and ${VAR:-default} expanded from the environment
 *
 * This module only reads text into sections and entries, each remembering its
 * file and line. Meaning (which keys exist, their types) belongs to the option
 * tables of each module (options.h); the agent (agent.c) ties the two together.
 * Errors are collected into a struct diag so that one pass reports all of them. */
#ifndef COLLECTOR_CONFIG_H
#define COLLECTOR_CONFIG_H

#include <stdio.h>

struct conf_entry {
    char *key;
    char *value;
    const char *file;   /* points into struct config's file list */
    int line;
    int invalid;        /* the value could not be read (reported already): skip it */
};

struct conf_section {
    char *kind;         /* "agent", "input", "parser", "output" */
    char *name;         /* may be NULL for [agent] */
    const char *file;
    int line;
    struct conf_entry *entries;
    int nentries;
};

struct config {
    char **files;       /* every file read, in order (owned) */
    int nfiles;
    struct conf_section *sections;
    int nsections;
};

/* An error list: every message is "file:line: text" (or "path: text"). */
struct diag {
    char **messages;
    int count;
    struct diag_pos { char *file; int line; } *pos;   /* for ordering (owned copies) */
};

void diag_add(struct diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_print(const struct diag *d, FILE *out);

/* A value as it may be echoed in a message, a listing or a log: the
 * user:password part of any URL in it replaced by "***", control characters
 * escaped (\n, \t, \xNN), cut to fit outlen (with "..."). */
void conf_echo(const char *value, char *out, size_t outlen);
void diag_free(struct diag *d);

/* Read PATH (a file, or a directory of *.conf). Syntax errors and unset
 * environment variables go to diag; the sections that did parse are kept.
 * Returns 0 if no error was added, -1 otherwise. */
int config_load(struct config *cfg, const char *path, struct diag *diag);

/* Same, from a string (for tests); name is used as the file name in messages. */
int config_load_string(struct config *cfg, const char *name, const char *text, struct diag *diag);

void config_free(struct config *cfg);

/* The value of key in section, or NULL. The last one wins if repeated. */
const struct conf_entry *conf_section_get(const struct conf_section *s, const char *key);

#endif
