/* Unit tests: container -> task -> service / family / cluster aggregation,
 * per-interval derivation (rates, CPU units, docker's CPU %), and the pure
 * parsers of the samplers: Docker inspect/stats/list, ECS introspection,
 * /proc/stat, meminfo, loadavg, diskstats, mounts, net/dev. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/docker/ecs_agent.h"
#include "collector/docker/engine.h"
#include "collector/metrics/aggregate.h"
#include "collector/metrics/container_sample.h"
#include "collector/metrics/dockerstats.h"
#include "collector/metrics/host.h"
#include "collector/metrics/netdev.h"

static void ctr(struct agg_container *c, const char *task, const char *family,
                const char *service, double cpu, double cpu_res, double mem, double mem_res)
{
    memset(c, 0, sizeof *c);
    snprintf(c->task_arn, sizeof c->task_arn, "%s", task);
    snprintf(c->family, sizeof c->family, "%s", family);
    snprintf(c->service, sizeof c->service, "%s", service);
    c->fig.cpu_utilized = cpu;
    c->fig.cpu_reserved = cpu_res;
    c->fig.mem_utilized = mem;
    c->fig.mem_reserved = mem_res;
    c->fig.net_rx_bps = 10;
    c->fig.storage_read = 100;
}

static void test_aggregate(void **state)
{
    (void)state;
    struct agg_container c[6];
    ctr(&c[0], "arn:t1", "web", "websvc", 100, 256, 50, 128);
    ctr(&c[1], "arn:t1", "web", "websvc", 20, 256, 10, 128);   /* same task */
    ctr(&c[2], "arn:t2", "web", "websvc", 30, 512, 5, 64);
    ctr(&c[3], "arn:t3", "batch", "", 400, 1024, 300, 512);   /* no service */
    ctr(&c[4], "", "", "", 7, 0, 1, 0);                       /* not ECS */
    ctr(&c[5], "arn:t4", "api", "apisvc", 1, 10, 1, 10);
    c[5].task_cpu_units = 2048; /* task-level limits win over the container sums */
    c[5].task_mem_mib = 4096;
    struct agg_out o;
    agg_out_init(&o);
    agg_build(c, 6, &o);
    assert_int_equal(o.ntasks, 4);
    assert_true(o.tasks[0].fig.cpu_utilized == 120);
    assert_true(o.tasks[0].fig.cpu_reserved == 512);
    assert_true(o.tasks[0].fig.mem_utilized == 60);
    assert_int_equal(o.tasks[0].fig.containers, 2);
    assert_int_equal(o.tasks[0].fig.tasks, 1);
    assert_true(o.tasks[3].fig.cpu_reserved == 2048);
    assert_true(o.tasks[3].fig.mem_reserved == 4096);
    assert_int_equal(o.nservices, 2);
    assert_string_equal(o.services[0].name, "websvc");
    assert_int_equal(o.services[0].fig.tasks, 2);
    assert_true(o.services[0].fig.cpu_utilized == 150);
    assert_true(o.services[0].fig.cpu_reserved == 1024);
    assert_true(o.services[0].fig.net_rx_bps == 30);
    assert_int_equal(o.nfamilies, 3);
    assert_string_equal(o.families[1].name, "batch");
    assert_true(o.families[1].fig.mem_reserved == 512);
    /* the cluster: every task, plus the container outside ECS */
    assert_int_equal(o.cluster.tasks, 4);
    assert_int_equal(o.cluster.containers, 6);
    assert_true(o.cluster.cpu_utilized == 100 + 20 + 30 + 400 + 7 + 1);
    assert_true(o.cluster.cpu_reserved == 512 + 512 + 1024 + 0 + 2048);
    assert_true(o.cluster.storage_read == 600);
    /* again, reusing the arrays */
    agg_build(c, 2, &o);
    assert_int_equal(o.ntasks, 1);
    assert_int_equal(o.nservices, 1);
    assert_int_equal(o.cluster.tasks, 1);
    agg_build(c, 0, &o);
    assert_int_equal(o.ntasks, 0);
    assert_int_equal(o.cluster.containers, 0);
    agg_out_free(&o);
}

static void test_derive(void **state)
{
    (void)state;
    struct cc_entry prev;
    memset(&prev, 0, sizeof prev);
    prev.prev_cpu_ns = 1000000000;
    prev.prev_net.rx_bytes = 1000;
    prev.prev_net.tx_bytes = 500;
    prev.prev_read_bytes = 4096;
    prev.c.cpu_shares = 256;
    prev.c.memory = 512LL << 20;
    prev.c.memory_reservation = 256LL << 20;
    struct cg_stats st;
    memset(&st, 0, sizeof st);
    st.cpu_usage_ns = 1500000000;     /* +0.5 s of CPU */
    st.mem_usage = 200u << 20;
    st.mem_inactive_file = 50u << 20;
    st.mem_limit = 512u << 20;
    st.blk_read_bytes = 4096 + 8192;
    struct net_counters net = {.rx_bytes = 3000, .tx_bytes = 500};
    struct agg_container a;
    /* over 2 s of wall time; the host counted 4 CPUs x 2 s */
    cs_derive(&prev, &st, &net, 2000000000, 8000000000ull, 4, 0, &a);
    assert_true(fabs(a.fig.cpu_utilized - 256.0) < 1e-9);   /* 0.25 vCPU = 256 units */
    assert_true(fabs(a.cpu_percent - 25.0) < 1e-9);         /* docker: 0.5/8 x 4 x 100 */
    assert_true(a.fig.cpu_reserved == 256);
    assert_true(fabs(a.fig.mem_utilized - 150.0) < 1e-9);   /* MiB */
    assert_true(a.fig.mem_reserved == 256);                 /* the soft reservation */
    assert_true(fabs(a.mem_percent - 150.0 / 512.0 * 100.0) < 1e-9);
    assert_true(a.fig.net_rx_bps == 1000);
    assert_true(a.fig.net_tx_bps == 0);
    assert_true(a.fig.storage_read == 8192);
    /* counters that went backwards (a restart) give 0, not huge numbers */
    st.cpu_usage_ns = 10;
    net.rx_bytes = 1;
    cs_derive(&prev, &st, &net, 2000000000, 8000000000ull, 4, 0, &a);
    assert_true(a.fig.cpu_utilized == 0 && a.fig.net_rx_bps == 0);
    /* NanoCpus (--cpus) when no shares */
    prev.c.cpu_shares = 0;
    prev.c.nano_cpus = 500000000;
    cs_derive(&prev, &st, &net, 2000000000, 8000000000ull, 4, 0, &a);
    assert_true(a.fig.cpu_reserved == 512);
}

static void test_docker_parsers(void **state)
{
    (void)state;
    const char *inspect =
        "{\"Id\":\"abc123\",\"Name\":\"/ecs-web-3-app-88\",\"State\":{\"Running\":true,"
        "\"Pid\":4242},\"Config\":{\"Image\":\"nginx:1\",\"Labels\":{"
        "\"com.amazonaws.ecs.cluster\":\"arn:aws:ecs:us-east-1:1:cluster/prod\","
        "\"com.amazonaws.ecs.task-arn\":\"arn:aws:ecs:us-east-1:1:task/prod/0f1e2d\","
        "\"com.amazonaws.ecs.container-name\":\"app\","
        "\"com.amazonaws.ecs.task-definition-family\":\"web\","
        "\"com.amazonaws.ecs.task-definition-version\":\"3\"}},"
        "\"HostConfig\":{\"CpuShares\":256,\"NanoCpus\":0,\"CpuQuota\":0,\"CpuPeriod\":0,"
        "\"Memory\":536870912,\"MemoryReservation\":268435456}}";
    struct docker_container c;
    assert_int_equal(docker_parse_inspect(inspect, strlen(inspect), &c), 0);
    assert_string_equal(c.name, "ecs-web-3-app-88");
    assert_int_equal(c.pid, 4242);
    assert_true(c.running);
    assert_string_equal(c.ecs_name, "app");
    assert_string_equal(c.family, "web");
    assert_string_equal(c.revision, "3");
    assert_string_equal(docker_task_id(c.task_arn), "0f1e2d");
    assert_int_equal(c.cpu_shares, 256);
    assert_int_equal(c.memory_reservation, 268435456);
    char name[64];
    ecs_cluster_name(c.cluster, name, sizeof name);
    assert_string_equal(name, "prod");
    assert_int_equal(docker_parse_inspect("[]", 2, &c), -1);
    const char *pause = "{\"Id\":\"p\",\"Config\":{\"Labels\":{"
                        "\"com.amazonaws.ecs.container-name\":\"~internal~ecs~pause\"}}}";
    assert_int_equal(docker_parse_inspect(pause, strlen(pause), &c), 0);
    assert_true(docker_is_ecs_internal(&c));

    /* v2 stats (no total_inactive_file), two interfaces, blkio ops */
    const char *stats =
        "{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":900,\"usage_in_usermode\":600,"
        "\"usage_in_kernelmode\":300},\"system_cpu_usage\":100000,\"online_cpus\":2,"
        "\"throttling_data\":{\"periods\":10,\"throttled_periods\":2,\"throttled_time\":5}},"
        "\"precpu_stats\":{},\"memory_stats\":{\"usage\":1000,\"limit\":4000,\"stats\":{"
        "\"inactive_file\":200,\"file\":300,\"anon\":600,\"oom_kill\":1}},"
        "\"blkio_stats\":{\"io_service_bytes_recursive\":[{\"major\":8,\"minor\":0,"
        "\"op\":\"read\",\"value\":10},{\"major\":8,\"minor\":0,\"op\":\"write\",\"value\":20}],"
        "\"io_serviced_recursive\":[{\"op\":\"Read\",\"value\":1},{\"op\":\"Write\",\"value\":2}]},"
        "\"pids_stats\":{\"current\":3},\"networks\":{\"eth0\":{\"rx_bytes\":5,\"tx_bytes\":6,"
        "\"rx_packets\":1,\"tx_packets\":1},\"eth1\":{\"rx_bytes\":7,\"tx_bytes\":8}}}";
    struct cg_stats st;
    struct net_counters net;
    uint64_t sys;
    unsigned cpus;
    assert_int_equal(ds_parse_api_stats(stats, strlen(stats), &st, &net, &sys, &cpus), 0);
    assert_int_equal(st.cpu_usage_ns, 900);
    assert_int_equal(sys, 100000);
    assert_int_equal(cpus, 2);
    assert_int_equal(st.nr_throttled, 2);
    assert_int_equal(st.mem_usage, 1000);
    assert_false(st.has_total_inactive_file);
    assert_int_equal(st.mem_inactive_file, 200);
    assert_int_equal(st.mem_cache, 300);
    assert_int_equal(st.oom_events, 1);
    assert_int_equal(st.blk_read_bytes, 10);
    assert_int_equal(st.blk_write_bytes, 20);
    assert_int_equal(st.blk_read_ops, 1);
    assert_int_equal(st.blk_write_ops, 2);
    assert_int_equal(st.pids_current, 3);
    assert_int_equal(net.rx_bytes, 12);
    assert_int_equal(net.tx_bytes, 14);
}

static void count_id(const char *id, void *arg)
{
    (void)id;
    (*(int *)arg)++;
}

static void test_docker_list(void **state)
{
    (void)state;
    int n = 0;
    const char *list = "[{\"Id\":\"a\"},{\"Id\":\"b\"},{\"Names\":[\"x\"]}]";
    assert_int_equal(docker_parse_list(list, strlen(list), count_id, &n), 2);
    assert_int_equal(n, 2);
    assert_int_equal(docker_parse_list("{}", 2, count_id, &n), -1);
}

static void test_ecs_parsers(void **state)
{
    (void)state;
    struct ecs_info e;
    memset(&e, 0, sizeof e);
    const char *md = "{\"Cluster\":\"prod\",\"ContainerInstanceArn\":"
                     "\"arn:aws:ecs:us-east-1:1:container-instance/prod/ci-123\","
                     "\"Version\":\"Amazon ECS Agent - v1.30.0\"}";
    assert_int_equal(ecs_parse_metadata(md, strlen(md), &e), 0);
    assert_string_equal(e.cluster, "prod");
    assert_string_equal(e.container_instance_id, "ci-123");
    const char *tasks =
        "{\"Tasks\":[{\"Arn\":\"arn:t1\",\"Family\":\"web\",\"Version\":\"3\","
        "\"ServiceName\":\"websvc\",\"Limits\":{\"CPU\":0.5,\"Memory\":1024}},"
        "{\"Arn\":\"arn:t2\",\"Family\":\"api\",\"Version\":\"1\",\"Group\":\"service:apisvc\"},"
        "{\"Arn\":\"arn:t3\",\"Family\":\"job\",\"Version\":\"1\",\"Group\":\"family:job\"}]}";
    assert_int_equal(ecs_parse_tasks(tasks, strlen(tasks), &e), 0);
    assert_int_equal(e.ntasks, 3);
    const struct ecs_task_info *t = ecs_find_task(&e, "arn:t1");
    assert_non_null(t);
    assert_string_equal(t->service, "websvc");
    assert_true(t->cpu_units == 512);
    assert_true(t->mem_mib == 1024);
    assert_string_equal(ecs_find_task(&e, "arn:t2")->service, "apisvc");
    assert_string_equal(ecs_find_task(&e, "arn:t3")->service, "");
    assert_null(ecs_find_task(&e, "arn:t9"));
    assert_int_equal(ecs_parse_tasks("{}", 2, &e), -1);
    ecs_info_free(&e);
}

static void on_disk(const struct host_disk *d, void *arg)
{
    char *out = arg;
    strcat(out, d->name);
    strcat(out, ",");
}

static void on_mount(const char *dev, const char *dir, const char *type, void *arg)
{
    char *out = arg;
    (void)dev;
    strcat(out, dir);
    strcat(out, "|");
    strcat(out, type);
    strcat(out, ";");
}

static void test_introspection_url_check(void **state)
{
    (void)state;
    char why[600];
    assert_int_equal(ecs_introspection_url_check("", why, sizeof why), 0);
    assert_int_equal(ecs_introspection_url_check(NULL, why, sizeof why), 0);
    assert_int_equal(ecs_introspection_url_check("http://127.0.0.1:51678", why, sizeof why), 0);
    assert_int_equal(ecs_introspection_url_check("http://127.0.0.1:51678/", why, sizeof why), 0);
    assert_int_equal(ecs_introspection_url_check("http://[::1]:51678", why, sizeof why), 0);
    assert_int_equal(ecs_introspection_url_check("127.0.0.1:51678", why, sizeof why), -1);
    assert_non_null(strstr(why, "not an http:// URL"));
    assert_int_equal(ecs_introspection_url_check("unix:///run/ecs.sock", why, sizeof why), -1);
    assert_int_equal(ecs_introspection_url_check("http://", why, sizeof why), -1);
    assert_int_equal(ecs_introspection_url_check("http://h:1/v1", why, sizeof why), -1);
    assert_non_null(strstr(why, "has a path"));
    char longer[600];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer, "http://", 7);
    assert_int_equal(ecs_introspection_url_check(longer, why, sizeof why), -1);
}

static void test_host_parsers(void **state)
{
    (void)state;
    struct host_cpu a, b;
    assert_int_equal(host_parse_cpu("cpu  100 0 100 700 50 0 0 50\ncpu0 1\ncpu1 1\n", &a), 0);
    assert_int_equal(a.ncpu, 2);
    assert_int_equal(host_parse_cpu("cpu  200 0 150 800 100 0 0 100\n", &b), 0);
    struct host_cpu_pct p;
    host_cpu_percent(&a, &b, &p); /* +100 user +50 sys +100 idle +50 iowait +50 steal = 350 */
    assert_true(fabs(p.user - 100.0 / 350 * 100) < 1e-9);
    assert_true(fabs(p.system - 50.0 / 350 * 100) < 1e-9);
    assert_true(fabs(p.iowait - 50.0 / 350 * 100) < 1e-9);
    assert_true(fabs(p.steal - 50.0 / 350 * 100) < 1e-9);
    assert_true(fabs(p.busy - 200.0 / 350 * 100) < 1e-9);
    assert_int_equal(host_parse_cpu("intr 1\n", &a), -1);

    struct host_mem m;
    assert_int_equal(host_parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: "
                                        "600 kB\nSwapTotal: 50 kB\nSwapFree: 20 kB\n", &m), 0);
    assert_int_equal(m.total, 1024000);
    assert_int_equal(m.available, 614400);
    assert_int_equal(m.swap_total - m.swap_free, 30 * 1024);
    /* old kernels without MemAvailable */
    assert_int_equal(host_parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\n"
                                        "Cached: 90 kB\n", &m), 0);
    assert_int_equal(m.available, 200 * 1024);

    double load[3];
    assert_int_equal(host_parse_loadavg("0.50 1.25 2.00 1/100 5\n", load), 0);
    assert_true(load[1] == 1.25);

    char disks[256] = "";
    const char *ds = "   8       0 sda 100 0 800 0 200 0 1600 0 0 50 0\n"
                     "   8       1 sda1 100 0 800 0 200 0 1600 0 0 50 0\n"
                     " 259       0 nvme0n1 1 0 8 0 2 0 16 0 0 5 0\n"
                     " 259       1 nvme0n1p1 1 0 8 0 2 0 16 0 0 5 0\n"
                     "   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0\n"
                     " 253       0 dm-0 1 0 8 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    assert_int_equal(host_parse_diskstats(ds, on_disk, disks), 3);
    assert_string_equal(disks, "sda,nvme0n1,dm-0,");

    char mounts[512] = "";
    host_parse_mounts("/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n"
                      "/dev/sdb /mnt/my\\040disk xfs rw 0 0\n", on_mount, mounts);
    assert_string_equal(mounts, "/|ext4;/proc|proc;/mnt/my disk|xfs;");

    struct net_counters tot;
    assert_int_equal(netdev_parse("garbage", NULL, NULL, &tot), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_docker_parsers),
        cmocka_unit_test(test_docker_list),
        cmocka_unit_test(test_ecs_parsers),
        cmocka_unit_test(test_host_parsers),
        cmocka_unit_test(test_introspection_url_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
