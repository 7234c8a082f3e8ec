/* `collector import awslogs|cloudwatch-agent FILE [-o DIR] [positions]`:
 * reads the old configuration, writes the translation (stdout, or
 * DIR/60-imported-<kind>.conf), lists what did not map, and for the
 * switch-over writes the inputs' starting positions. */
#include "collector/import/import.h"
#include "collector/import/import_positions.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INPUT_FILE (4u << 20)

int import_main(int argc, char **argv);

static void usage(FILE *out)
{
    fprintf(out, "usage: collector import awslogs|cloudwatch-agent FILE [-o DIR]\n"
                 "                        [--positions-from STATE_DIR | --positions-at-end] "
                 "[--data-dir DIR]\n");
}

static void help(void)
{
    usage(stdout);
    printf("\ntranslate an awslogs.conf or a CloudWatch agent JSON configuration into a conf.d\n"
           "file; every line says what it came from, and what does not map is listed with\n"
           "the reason (here and as comments in the file).\n\n"
           "  -o, --output DIR        write DIR/60-imported-awslogs.conf (or "
           "-cloudwatch-agent.conf)\n"
           "                          instead of printing it\n"
           "  --positions-from DIR    switch-over from the CloudWatch agent: start each file where "
           "it\n"
           "                          stopped (its state directory, "
           "/opt/aws/amazon-cloudwatch-agent/logs/state)\n"
           "  --positions-at-end      switch-over: start each file at its end now (run right after "
           "the\n"
           "                          old agent stopped)\n"
           "  --data-dir DIR          the agent's data_dir for the positions (default "
           "/var/lib/collector)\n"
           "  -h, --help              this text\n\n"
           "docs/migrating.md has the switch-over procedure and worked examples.\n");
}

static char *read_all(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        buf_append(&b, chunk, (size_t)n);
        if (b.len > MAX_INPUT_FILE) {
            snprintf(err, errlen, "%s is larger than 4 MiB", path);
            n = -1;
            errno = EFBIG;
            break;
        }
    }
    if (n < 0 && b.len <= MAX_INPUT_FILE)
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    close(fd);
    if (n < 0) {
        buf_free(&b);
        return NULL;
    }
    buf_append_char(&b, '\0');
    return b.data;
}

/* The notes as comments at the end of the file. */
static void append_notes(struct import_result *r)
{
    if (!r->nnotes)
        return;
    buf_printf(&r->conf, "\n# ---- not mapped (%d): each with the reason ----\n", r->nnotes);
    const char *p = r->notes.data;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        buf_printf(&r->conf, "# %.*s\n", (int)len, p);
        p = nl ? nl + 1 : p + len;
    }
}

static int write_file(const char *dir, const char *kind, const struct buf *text, char *path,
                      size_t pathlen, char *err, size_t errlen)
{
    if (mkdir_p(dir) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, pathlen, "%s/60-imported-%s.conf", dir, kind);
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, text->data, text->len) < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot write %.900s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot rename %.900s: %s", tmp, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int import_main(int argc, char **argv)
{
    const char *kind = NULL, *file = NULL, *out_dir = NULL, *state_dir = NULL;
    const char *data_dir = "/var/lib/collector";
    int at_end = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help();
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--data-dir") ||
                   !strcmp(a, "--positions-from")) {
            if (!has_value) {
                fprintf(stderr, "collector import: %s needs a directory\n", a);
                usage(stderr);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--data-dir"))
                data_dir = v;
            else if (!strcmp(a, "--positions-from"))
                state_dir = v;
            else
                out_dir = v;
        } else if (!strcmp(a, "--positions-at-end")) {
            at_end = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "collector import: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!kind) {
            kind = a;
        } else if (!file) {
            file = a;
        } else {
            fprintf(stderr, "collector import: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    int awslogs = kind && !strcmp(kind, "awslogs");
    int cwagent = kind && (!strcmp(kind, "cloudwatch-agent") || !strcmp(kind, "cwagent"));
    if (!awslogs && !cwagent) {
        fprintf(stderr, "collector import: %s (awslogs or cloudwatch-agent)\n",
                kind ? "unknown kind of configuration" : "which configuration?");
        usage(stderr);
        return 2;
    }
    if (!file) {
        fprintf(stderr, "collector import %s: the file to import is missing (for example %s)\n",
                kind, awslogs ? "/etc/awslogs/awslogs.conf"
                              : "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json");
        usage(stderr);
        return 2;
    }
    if (at_end && state_dir) {
        fprintf(stderr, "collector import: --positions-from and --positions-at-end exclude each "
                "other\n");
        return 2;
    }
    char err[1200];
    char *text = read_all(file, err, sizeof err);
    if (!text) {
        fprintf(stderr, "collector import: %s\n", err);
        return 1;
    }
    struct import_result r;
    import_result_init(&r);
    int rc = awslogs ? import_awslogs(text, file, &r, err, sizeof err)
                     : import_cloudwatch_agent(text, file, &r, err, sizeof err);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "collector import: %s\n", err);
        import_result_free(&r);
        return 2;
    }
    append_notes(&r);
    int code = 0;
    FILE *report = out_dir ? stdout : stderr;
    if (out_dir) {
        char path[1200];
        if (write_file(out_dir, awslogs ? "awslogs" : "cloudwatch-agent", &r.conf, path,
                       sizeof path, err, sizeof err) < 0) {
            fprintf(stderr, "collector import: %s\n", err);
            import_result_free(&r);
            return 1;
        }
        printf("wrote %s: %d input%s\ncheck it with: collector check-config -c %s\n", path,
               r.ninputs, r.ninputs == 1 ? "" : "s", out_dir);
    } else {
        fputs(r.conf.data ? r.conf.data : "", stdout);
    }
    if (r.nnotes) {
        fprintf(report, "\nnot mapped (%d), each with the reason:\n", r.nnotes);
        fputs(r.notes.data, report);
    }
    if (state_dir || at_end) {
        fprintf(report, "\nstarting positions in %s/tail:\n", data_dir);
        if (import_write_positions(&r, data_dir, state_dir, report, err, sizeof err) < 0) {
            fprintf(stderr, "collector import: %s\n", err);
            code = 1;
        }
    }
    import_result_free(&r);
    return code;
}
