/* Unit tests: cgroup v1/v2 discovery and parsing from fixture trees
 * (tests/data/cgroup, made by gen_fixtures.py: cgroupfs and systemd
 * drivers, the ECS task hierarchies, a bind-mounted sub-hierarchy) and the
 * docker stats formulas against numbers recorded from a real dockerd
 * (tests/data/cgroup/recorded-v1, made by record.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/core/util.h"
#include "collector/docker/engine.h"
#include "collector/metrics/cgroup.h"
#include "collector/metrics/dockerstats.h"
#include "collector/metrics/netdev.h"

#define MiB (1024ull * 1024ull)

static char src[1024];

static void path_of(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/tests/data/cgroup/%s", src, rel);
}

/* Discover and read container 0 of a layout (pid 1000). */
static int read_layout(const char *layout, struct cg_stats *st, struct net_counters *net,
                       int *version)
{
    char root[1200], cgroot[1300], file[1400];
    path_of(root, sizeof root, layout);
    snprintf(cgroot, sizeof cgroot, "%s/sys/fs/cgroup", root);
    struct cg_reader r;
    cg_reader_init(&r, cgroot);
    snprintf(file, sizeof file, "%s/proc/1000/cgroup", root);
    assert_true(cg_read_file(&r, file) > 0);
    struct cg_paths p;
    assert_int_equal(cg_parse_proc_cgroup(r.buf, &p), 0);
    *version = p.version;
    static char dirs[CG_CTRL_COUNT][CG_PATH_MAX * 2];
    int rc = cg_resolve(&r, &p, NULL, dirs);
    if (rc == 0) {
        char *d[CG_CTRL_COUNT];
        for (int i = 0; i < CG_CTRL_COUNT; i++)
            d[i] = dirs[i];
        rc = cg_read(&r, p.version, d, st);
        snprintf(file, sizeof file, "%s/proc/1000/net/dev", root);
        assert_true(cg_read_file(&r, file) > 0);
        assert_int_equal(netdev_parse(r.buf, NULL, NULL, net), 2);
    }
    cg_reader_free(&r);
    return rc;
}

static void check_fixture(const struct cg_stats *st, const struct net_counters *net, int v2)
{
    assert_int_equal(st->mem_usage, 100 * MiB);
    assert_int_equal(st->mem_limit, 256 * MiB);
    assert_int_equal(st->mem_cache, 20 * MiB);
    assert_int_equal(st->mem_rss, 70 * MiB);
    assert_int_equal(st->mem_inactive_file, 10 * MiB);
    assert_int_equal(st->mem_reservation, 128 * MiB);
    assert_int_equal(st->oom_events, 2);
    assert_int_equal(st->cpu_usage_ns, 5000000000ull);
    assert_int_equal(st->nr_throttled, 7);
    assert_int_equal(st->nr_periods, 100);
    assert_int_equal(st->blk_read_bytes, 5096);
    assert_int_equal(st->blk_write_bytes, 8192);
    assert_int_equal(st->blk_read_ops, 2);
    assert_int_equal(st->blk_write_ops, 2);
    assert_int_equal(st->pids_current, 5);
    assert_int_equal(st->pids_max, UINT64_MAX);
    assert_int_equal(st->cpu_quota_us, 50000);
    assert_int_equal(st->cpu_period_us, 100000);
    if (v2) /* cpu.weight 20 is what runc writes for 512 shares; the inverse is lossy */
        assert_int_equal(1 + ((st->cpu_shares - 2) * 9999) / 262142, 20);
    else
        assert_int_equal(st->cpu_shares, 512);
    assert_int_equal(st->has_total_inactive_file, !v2);
    if (v2) {
        assert_int_equal(st->cpu_user_ns, 3000000000ull);
        assert_int_equal(st->throttled_ns, 123456000ull);
    } else {
        assert_int_equal(st->cpu_user_ns, 3000000000ull); /* 300 ticks */
        assert_int_equal(st->throttled_ns, 123456789ull);
    }
    /* working set = usage - inactive file: 90 MiB of 256 */
    assert_int_equal(ds_mem_used(st), 90 * MiB);
    assert_true(fabs(ds_mem_percent(ds_mem_used(st), ds_mem_limit(st, 0)) - 35.15625) < 1e-9);
    assert_int_equal(net->rx_bytes, 1000);   /* lo left out */
    assert_int_equal(net->tx_bytes, 2000);
    assert_int_equal(net->rx_errors, 1);
    assert_int_equal(net->rx_dropped, 2);
    assert_int_equal(net->tx_errors, 3);
    assert_int_equal(net->tx_dropped, 4);
    assert_int_equal(net->rx_packets, 10);
}

static void layout_test(const char *layout, int want_version)
{
    struct cg_stats st;
    struct net_counters net;
    int version = 0;
    assert_int_equal(read_layout(layout, &st, &net, &version), 0);
    assert_int_equal(version, want_version);
    check_fixture(&st, &net, want_version == 2);
}

static void test_v1_cgroupfs(void **state)
{
    (void)state;
    layout_test("v1-cgroupfs", 1);
}

static void test_v1_systemd(void **state)
{
    (void)state;
    layout_test("v1-systemd", 1);
}

static void test_v1_bindmount(void **state)
{
    (void)state;
    layout_test("v1-bindmount", 1);
}

static void test_v2_systemd(void **state)
{
    (void)state;
    layout_test("v2-systemd", 2);
}

static void test_v2_cgroupfs(void **state)
{
    (void)state;
    layout_test("v2-cgroupfs", 2);
}

static void test_ecs_v1(void **state)
{
    (void)state;
    layout_test("ecs-v1", 1);
}

static void test_ecs_v2(void **state)
{
    (void)state;
    layout_test("ecs-v2", 2);
}

static void test_proc_cgroup_parse(void **state)
{
    (void)state;
    struct cg_paths p;
    /* hybrid: v1 controllers and a unified line: v1 wins */
    assert_int_equal(cg_parse_proc_cgroup("12:pids:/docker/a\n4:memory:/docker/a\n"
                                          "2:cpu,cpuacct:/docker/a\n0::/docker/a\n", &p), 0);
    assert_int_equal(p.version, 1);
    assert_string_equal(p.v1[CG_MEMORY], "/docker/a");
    assert_string_equal(p.v1[CG_CPU], "/docker/a");
    assert_string_equal(p.v1[CG_CPUACCT], "/docker/a");
    assert_string_equal(p.v1[CG_BLKIO], "");
    assert_int_equal(cg_parse_proc_cgroup("0::/system.slice/docker-x.scope\n", &p), 0);
    assert_int_equal(p.version, 2);
    assert_string_equal(p.v2, "/system.slice/docker-x.scope");
    /* cpuacct must not match "cpu" alone, nor "cpuset" */
    assert_int_equal(cg_parse_proc_cgroup("3:cpuset:/x\n4:memory:/m\n", &p), 0);
    assert_string_equal(p.v1[CG_CPU], "");
    assert_int_equal(cg_parse_proc_cgroup("garbage", &p), -1);
    assert_int_equal(cg_parse_proc_cgroup("", &p), -1);
}

static void test_small_parsers(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(cg_parse_u64("max\n", &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(cg_parse_u64("  42\n", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(cg_parse_u64("x", &v), -1);
    assert_int_equal(cg_kv_get("total_rss 5\nrss 7\n", "rss", &v), 0);
    assert_int_equal(v, 7); /* a key is not matched as the suffix of another */
    assert_int_equal(cg_kv_get("rss 7\n", "cache", &v), -1);
    int64_t q;
    uint64_t per;
    cg_parse_cpu_max("max 100000\n", &q, &per);
    assert_int_equal(q, -1);
    assert_int_equal(per, 100000);
    cg_parse_cpu_max("150000 50000\n", &q, &per);
    assert_int_equal(q, 150000);
    assert_int_equal(per, 50000);
    /* runc: weight = 1 + ((shares - 2) * 9999) / 262142 */
    assert_int_equal(cg_weight_to_shares(100), 2 + (99 * 262142 + 9998) / 9999);
    for (uint64_t shares = 2; shares <= 262144; shares += 97) {
        uint64_t w = 1 + ((shares - 2) * 9999) / 262142;
        uint64_t back = cg_weight_to_shares(w);
        assert_int_equal(1 + ((back - 2) * 9999) / 262142, w);
    }
    uint64_t r, w2;
    cg_parse_blkio_v1("8:0 read 10\n8:0 WRITE 20\n8:0 Total 30\nTotal 30\n", &r, &w2);
    assert_int_equal(r, 10);
    assert_int_equal(w2, 20);
}

/* ------------------------------------------------------------ formulas */

static void test_cpu_formula(void **state)
{
    (void)state;
    /* 0.5 s of CPU while the system counted 4 CPUs x 1 s: 50 % of one CPU */
    assert_true(fabs(ds_cpu_percent(1000000000, 1500000000, 0, 4000000000ull, 4) - 50.0) < 1e-9);
    assert_true(ds_cpu_percent(10, 10, 0, 100, 4) == 0.0);   /* no CPU delta */
    assert_true(ds_cpu_percent(10, 20, 100, 100, 4) == 0.0); /* no system delta */
    uint64_t sys;
    unsigned cpus;
    assert_int_equal(ds_system_cpu("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1\ncpu1 1\ncpu2 1\n", &sys,
                                   &cpus), 0);
    assert_int_equal(sys, 28ull * 10000000ull); /* first 7 fields x 1e9 / 100 */
    assert_int_equal(cpus, 3);
}

static void test_mem_formula(void **state)
{
    (void)state;
    struct cg_stats s = {0};
    s.mem_usage = 1000;
    s.has_total_inactive_file = 1;
    s.mem_total_inactive_file = 300;
    s.mem_inactive_file = 100;
    assert_int_equal(ds_mem_used(&s), 700);
    s.mem_total_inactive_file = 2000; /* not < usage: v2 key is tried */
    assert_int_equal(ds_mem_used(&s), 900);
    s.has_total_inactive_file = 0;
    s.mem_inactive_file = 5000;
    assert_int_equal(ds_mem_used(&s), 1000);
    s.mem_limit = UINT64_MAX;
    assert_int_equal(ds_mem_limit(&s, 8000), 8000); /* clamped to the host */
    assert_true(ds_mem_percent(5, 0) == 0.0);
}

/* The recorded containers: our reading of the cgroup files taken right after
 * the Engine API's stats must give docker's figures. */
static json_t *recorded(void)
{
    char file[1200];
    path_of(file, sizeof file, "recorded-v1/docker_stats.json");
    json_t *j = json_load_file(file, 0, NULL);
    assert_non_null(j);
    return j;
}

static void read_recorded(json_t *c, struct cg_stats *st)
{
    char root[1200], cgroot[1300], file[1400];
    path_of(root, sizeof root, "recorded-v1");
    snprintf(cgroot, sizeof cgroot, "%s/sys/fs/cgroup", root);
    struct cg_reader r;
    cg_reader_init(&r, cgroot);
    snprintf(file, sizeof file, "%s/proc/%lld/cgroup", root,
             (long long)json_integer_value(json_object_get(c, "pid")));
    assert_true(cg_read_file(&r, file) > 0);
    struct cg_paths p;
    assert_int_equal(cg_parse_proc_cgroup(r.buf, &p), 0);
    static char dirs[CG_CTRL_COUNT][CG_PATH_MAX * 2];
    assert_int_equal(cg_resolve(&r, &p, NULL, dirs), 0);
    char *d[CG_CTRL_COUNT];
    for (int i = 0; i < CG_CTRL_COUNT; i++)
        d[i] = dirs[i];
    assert_int_equal(cg_read(&r, p.version, d, st), 0);
    cg_reader_free(&r);
}

/* "40.71MiB" -> bytes (docker's units.BytesSize: binary prefixes). */
static double cli_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (strncmp(end, "KiB", 3) == 0)
        v *= 1024.0;
    else if (strncmp(end, "MiB", 3) == 0)
        v *= 1024.0 * 1024.0;
    else if (strncmp(end, "GiB", 3) == 0)
        v *= 1024.0 * 1024.0 * 1024.0;
    return v;
}

static void test_recorded_docker_stats(void **state)
{
    (void)state;
    json_t *all = recorded();
    const char *name;
    json_t *c;
    json_object_foreach(all, name, c) {
        json_t *api = json_object_get(c, "api");
        char *text = json_dumps(api, 0);
        struct cg_stats apist, ours;
        struct net_counters net;
        uint64_t sys;
        unsigned cpus;
        assert_int_equal(ds_parse_api_stats(text, strlen(text), &apist, &net, &sys, &cpus), 0);
        read_recorded(c, &ours);
        /* memory: our cgroup reading vs the API's, same moment (within 64 KiB) */
        uint64_t used_api = ds_mem_used(&apist), used_ours = ds_mem_used(&ours);
        assert_true(llabs((long long)used_api - (long long)used_ours) <= 64 * 1024);
        /* the CLI's MEM USAGE column is the same formula, rounded to 2 decimals */
        const char *usage = json_string_value(json_object_get(json_object_get(c, "cli"),
                                                              "MemUsage"));
        double cli_used = cli_size(usage);
        assert_true(fabs(cli_used - (double)used_api) / cli_used < 0.01);
        /* MEM %: with the API's limit (clamped to host memory like the daemon) */
        const char *memperc = json_string_value(json_object_get(json_object_get(c, "cli"),
                                                                "MemPerc"));
        double pct = ds_mem_percent(used_api, apist.mem_limit);
        assert_true(fabs(pct - strtod(memperc, NULL)) < 0.5);
        /* CPU %: the CLI formula over the API's cpu/precpu of one response */
        json_t *pre = json_object_get(api, "precpu_stats");
        uint64_t pre_total = (uint64_t)json_integer_value(
            json_object_get(json_object_get(pre, "cpu_usage"), "total_usage"));
        uint64_t pre_sys = (uint64_t)json_integer_value(json_object_get(pre, "system_cpu_usage"));
        double cpu = ds_cpu_percent(pre_total, apist.cpu_usage_ns, pre_sys, sys, cpus);
        double cli_cpu = strtod(json_string_value(json_object_get(json_object_get(c, "cli"),
                                                                  "CPUPerc")), NULL);
        /* separate samples of a steady load: burn is capped at --cpus 0.5 */
        if (strcmp(name, "burn") == 0) {
            assert_true(cpu > 40.0 && cpu < 60.0);
            assert_true(cli_cpu > 40.0 && cli_cpu < 60.0);
        } else {
            assert_true(cpu < 5.0 && cli_cpu < 5.0);
        }
        free(text);
    }
    json_decref(all);
}

int main(void)
{
    const char *root = getenv("COLLECTOR_SRC");
    snprintf(src, sizeof src, "%s", root && *root ? root : ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proc_cgroup_parse),
        cmocka_unit_test(test_small_parsers),
        cmocka_unit_test(test_v1_cgroupfs),
        cmocka_unit_test(test_v1_systemd),
        cmocka_unit_test(test_v1_bindmount),
        cmocka_unit_test(test_v2_systemd),
        cmocka_unit_test(test_v2_cgroupfs),
        cmocka_unit_test(test_ecs_v1),
        cmocka_unit_test(test_ecs_v2),
        cmocka_unit_test(test_cpu_formula),
        cmocka_unit_test(test_mem_formula),
        cmocka_unit_test(test_recorded_docker_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
