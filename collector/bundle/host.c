#include "collector/bundle/host.h"
#include "collector/bundle/http.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

int host_is_systemd(const struct bundle *b)
{
    char *comm = bundle_read_host_line(b, "/proc/1/comm");
    int yes = comm && strcmp(comm, "systemd") == 0;
    free(comm);
    return yes;
}

int instance_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n < 3 || n > 64)
        return 0;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return 0;
    return id[0] != '.' && id[0] != '-';
}

static int starts_ci(const char *s, const char *prefix)
{
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* EC2 (Xen or Nitro): DMI vendor or UUIDs say so; never guessed from the network. */
static int host_is_ec2(const struct bundle *b, char **asset_tag)
{
    char *vendor = bundle_read_host_line(b, "/sys/class/dmi/id/sys_vendor");
    char *uuid = bundle_read_host_line(b, "/sys/class/dmi/id/product_uuid");
    char *hyp = bundle_read_host_line(b, "/sys/hypervisor/uuid");
    char *tag = bundle_read_host_line(b, "/sys/class/dmi/id/board_asset_tag");
    int yes =
        (vendor && strstr(vendor, "Amazon EC2")) || starts_ci(uuid, "ec2") || starts_ci(hyp, "ec2");
    if (yes && tag && strncmp(tag, "i-", 2) == 0 && instance_id_valid(tag))
        *asset_tag = tag;
    else
        free(tag);
    free(vendor);
    free(uuid);
    free(hyp);
    return yes;
}

static char *imds_instance_id(const struct bundle *b, char *why, size_t whylen)
{
    const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!base || !*base)
        base = "http://169.254.169.254";
    size_t bl = strlen(base);
    const char *sep = bl && base[bl - 1] == '/' ? "" : "/";
    int64_t timeout = b->o->timeout_ms < 2000 ? b->o->timeout_ms : 2000;
    struct buf tok, id;
    buf_init(&tok);
    buf_init(&id);
    char err[256] = "";
    char *url = xasprintf("%s%slatest/api/token", base, sep);
    long code = bundle_http("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600", timeout,
                            4096, &tok, err, sizeof err);
    free(url);
    char *result = NULL;
    if (code == 200 && tok.len) {
        char *hdr = xasprintf("X-aws-ec2-metadata-token: %s", tok.data);
        url = xasprintf("%s%slatest/meta-data/instance-id", base, sep);
        code = bundle_http("GET", url, hdr, timeout, 256, &id, err, sizeof err);
        free(url);
        free(hdr);
        if (code == 200 && id.len && instance_id_valid(id.data))
            result = xstrdup(id.data);
    }
    if (!result)
        snprintf(why, whylen, "IMDSv2 did not answer (%s)", code > 0 ? "bad status" : err);
    buf_free(&tok);
    buf_free(&id);
    return result;
}

void host_instance_id(struct bundle *b)
{
    /* ECS Anywhere: the SSM registration file. */
    char *full = bundle_host_path(b, "/var/lib/amazon/ssm/registration");
    json_error_t jerr;
    json_t *reg = json_load_file(full, 0, &jerr);
    free(full);
    if (reg) {
        const char *id = json_string_value(json_object_get(reg, "ManagedInstanceID"));
        if (id && instance_id_valid(id)) {
            b->instance_id = xstrdup(id);
            b->instance_source = xstrdup("SSM registration (/var/lib/amazon/ssm/registration)");
        }
        json_decref(reg);
        if (b->instance_id)
            return;
    }
    char *tag = NULL;
    if (!host_is_ec2(b, &tag)) {
        b->instance_source =
            xstrdup("none: not an EC2 instance (DMI, hypervisor uuid) and no SSM registration");
        return;
    }
    const char *disabled = getenv("AWS_EC2_METADATA_DISABLED");
    if (disabled && strcasecmp(disabled, "true") == 0) {
        if (tag) {
            b->instance_id = tag;
            b->instance_source = xstrdup("DMI board_asset_tag (IMDS disabled)");
        } else {
            b->instance_source = xstrdup("none: AWS_EC2_METADATA_DISABLED=true");
        }
        return;
    }
    char why[300] = "";
    b->instance_id = imds_instance_id(b, why, sizeof why);
    if (b->instance_id) {
        b->instance_source = xstrdup("IMDSv2");
        free(tag);
    } else if (tag) {
        b->instance_id = tag;
        b->instance_source = xasprintf("DMI board_asset_tag (%s)", why);
    } else {
        b->instance_source = xasprintf("none: %s", why);
    }
}

static int skip_fs(const char *type, const char *dev)
{
    static const char *const pseudo[] = {
        "proc",       "sysfs",      "devtmpfs", "devpts",    "cgroup",      "cgroup2",
        "securityfs", "debugfs",    "tracefs",  "pstore",    "bpf",         "mqueue",
        "hugetlbfs",  "configfs",   "fusectl",  "autofs",    "binfmt_misc", "nsfs",
        "rpc_pipefs", "squashfs",   "overlay",  "nfs",       "nfs4",        "cifs",
        "smb3",       "fuse.sshfs", "efivarfs", "selinuxfs", "ramfs",       NULL};
    for (const char *const *p = pseudo; *p; p++)
        if (strcmp(type, *p) == 0)
            return 1;
    return strncmp(dev, "/dev/loop", 9) == 0 || strncmp(type, "fuse", 4) == 0;
}

void host_disk_check(struct bundle *b, struct buf *out)
{
    char *mounts = bundle_host_path(b, "/proc/self/mounts");
    FILE *f = setmntent(mounts, "r");
    free(mounts);
    b->disk_max_pct = -1;
    if (!f) {
        buf_printf(out, "cannot read mounts: %s\n", strerror(errno));
        return;
    }
    struct mntent ent;
    char strbuf[4096];
    while (getmntent_r(f, &ent, strbuf, sizeof strbuf)) {
        if (skip_fs(ent.mnt_type, ent.mnt_fsname))
            continue;
        struct statvfs sv;
        if (statvfs(ent.mnt_dir, &sv) != 0 || sv.f_blocks == 0)
            continue;
        unsigned long long used = (unsigned long long)(sv.f_blocks - sv.f_bfree);
        unsigned long long avail = (unsigned long long)sv.f_bavail;
        int pct = used + avail ? (int)((used * 100 + used + avail - 1) / (used + avail)) : 0;
        int ipct = sv.f_files ? (int)(100 - (sv.f_ffree * 100 / sv.f_files)) : 0;
        buf_printf(out, "%-30s %-8s %3d%% used, %3d%% inodes used, %llu MiB free\n", ent.mnt_dir,
                   ent.mnt_type, pct, ipct, avail * sv.f_frsize >> 20);
        int worst = pct > ipct ? pct : ipct;
        if (worst > b->disk_max_pct) {
            b->disk_max_pct = worst;
            free(b->disk_worst);
            b->disk_worst = xstrdup(ent.mnt_dir);
        }
        if (worst > 70 && !b->o->quiet)
            fprintf(stderr, "warning: %s is %d%% full\n", ent.mnt_dir, worst);
    }
    endmntent(f);
}
