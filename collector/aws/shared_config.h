/* Pure parser of the AWS shared files: ~/.aws/credentials and ~/.aws/config.
 *
 * The syntax is botocore's (Python configparser, raw): `[section]`, `key = value`
 * or `key: value`, full-line comments starting with '#' or ';', keys
 * case-insensitive (stored lowercased), values trimmed, no inline comments.
 * An indented line continues the previous key: after `key =` with an empty
 * value it is a nested `sub = value` (stored as "key.sub"), otherwise it is
 * appended to the value with a newline. In the config file profiles are
 * `[profile NAME]` (and `[default]`); in the credentials file just `[NAME]`. */
#ifndef COLLECTOR_AWS_SHARED_CONFIG_H
#define COLLECTOR_AWS_SHARED_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct aws_ini_entry {
    char *key;
    char *value;
    int line;
};

struct aws_ini_section {
    char *name;
    int line;
    struct aws_ini_entry *entries;
    int nentries;
};

struct aws_ini {
    struct aws_ini_section *sections;
    int nsections;
};

/* 0, or -1 with "line N: reason" in err (out is freed on error). */
int aws_ini_parse(const char *text, size_t len, struct aws_ini *out, char *err, size_t errlen);

/* 0 loaded, 1 file absent (out empty), -1 unreadable or malformed with
 * "PATH:N: reason" in err. */
int aws_ini_load(const char *path, struct aws_ini *out, char *err, size_t errlen);

void aws_ini_free(struct aws_ini *ini);

const struct aws_ini_section *aws_ini_section(const struct aws_ini *ini, const char *name);
const char *aws_ini_get(const struct aws_ini_section *s, const char *key);

/* The profile's section: config_file selects "[profile NAME]" naming (with
 * "[default]" and, for default only, "[profile default]"). NULL if none. */
const struct aws_ini_section *aws_profile(const struct aws_ini *ini, const char *profile,
                                          int config_file);

/* Open path for reading without blocking on it (a FIFO) and only if it is a
 * regular file (errno EINVAL otherwise). Links are followed. */
FILE *aws_fopen_regular(const char *path);

#endif
