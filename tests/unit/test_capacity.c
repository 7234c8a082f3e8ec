/* Cluster capacity arithmetic: schedulable tasks, thresholds, sizes,
 * ECS_RESERVED_MEMORY. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "collector/metrics/capacity.h"

static void test_parse_sizes(void **state)
{
    (void)state;
    struct capacity_size z;
    char err[256];
    assert_int_equal(capacity_parse_size("web:512:1024", &z, err, sizeof err), 0);
    assert_string_equal(z.name, "web");
    assert_true(z.cpu_units == 512 && z.mem_mib == 1024 && z.nports == 0);
    assert_int_equal(capacity_parse_size("lb:256:512:80:443", &z, err, sizeof err), 0);
    assert_int_equal(z.nports, 2);
    assert_int_equal(z.ports[1], 443);
    assert_int_equal(capacity_parse_size("memonly:0:2048", &z, err, sizeof err), 0);
    assert_int_equal(capacity_parse_size("web:512", &z, err, sizeof err), -1);
    assert_non_null(strstr(err, "NAME:CPU_UNITS:MEMORY_MIB"));
    assert_int_equal(capacity_parse_size("web:x:1", &z, err, sizeof err), -1);
    assert_int_equal(capacity_parse_size("web:-1:1", &z, err, sizeof err), -1);
    assert_int_equal(capacity_parse_size("none:0:0", &z, err, sizeof err), -1);
    assert_int_equal(capacity_parse_size("p:1:1:70000", &z, err, sizeof err), -1);
    assert_int_equal(capacity_parse_size(":1:1", &z, err, sizeof err), -1);
}

/* A 2-CPU host with 3,800 MiB registered. */
static struct capacity_host host(double cpu_res, double mem_res)
{
    return (struct capacity_host){2048, 3800, cpu_res, mem_res, NULL, 0};
}

static void test_schedulable_cpu_and_memory_bound(void **state)
{
    (void)state;
    struct capacity_size small = {"small", 256, 512, {0}, 0};
    struct capacity_size big = {"big", 1024, 3000, {0}, 0};
    struct capacity_host h = host(0, 0);
    /* memory-bound: 2048/256 = 8 by CPU, 3800/512 = 7.42 by memory */
    assert_int_equal(capacity_schedulable(&h, &small), 7);
    assert_int_equal(capacity_schedulable(&h, &big), 1);
    /* CPU-bound: 1792 units reserved leave 256: one small task */
    h = host(1792, 100);
    assert_int_equal(capacity_schedulable(&h, &small), 1);
    assert_int_equal(capacity_schedulable(&h, &big), 0);
    /* over-reserved: nothing, never negative */
    h = host(4096, 9000);
    assert_true(capacity_free_cpu(&h) == 0 && capacity_free_mem_mib(&h) == 0);
    assert_int_equal(capacity_schedulable(&h, &small), 0);
    /* a size of 0 in one resource is not limited by it */
    struct capacity_size memonly = {"m", 0, 1000, {0}, 0};
    h = host(2048, 0);
    assert_int_equal(capacity_schedulable(&h, &memonly), 3);
}

static void test_schedulable_ports(void **state)
{
    (void)state;
    struct capacity_size lb = {"lb", 128, 128, {80}, 1};
    int used[] = {8080, 80};
    struct capacity_host h = host(0, 0);
    assert_int_equal(capacity_schedulable(&h, &lb), 1); /* a static port: one per host */
    h.ports_used = used;
    h.nports_used = 2;
    assert_int_equal(capacity_schedulable(&h, &lb), 0);
}

static void test_threshold_rule_of_thumb(void **state)
{
    (void)state;
    /* 512 MiB tasks on 2,048 MiB instances: 75 % */
    struct capacity_host h = {4096, 2048, 0, 0, NULL, 0};
    struct capacity_size z = {"t", 0, 512, {0}, 0};
    assert_true(fabs(capacity_threshold_percent(&h, &z) - 75.0) < 1e-9);
    /* the lower of CPU's and memory's */
    struct capacity_size both = {"b", 2048, 512, {0}, 0};
    assert_true(fabs(capacity_threshold_percent(&h, &both) - 50.0) < 1e-9);
}

static void test_reserved_memory(void **state)
{
    (void)state;
    int64_t mib = -1;
    const char *conf = "ECS_CLUSTER=prod\n# c\nECS_RESERVED_MEMORY=256\r\nECS_X=1\n";
    assert_int_equal(capacity_reserved_memory(conf, strlen(conf), &mib), 0);
    assert_int_equal(mib, 256);
    const char *quoted = "ECS_RESERVED_MEMORY=\"128\"";
    assert_int_equal(capacity_reserved_memory(quoted, strlen(quoted), &mib), 0);
    assert_int_equal(mib, 128);
    assert_int_equal(capacity_reserved_memory("ECS_CLUSTER=a\n", 14, &mib), 0);
    assert_int_equal(mib, 0);
    assert_int_equal(capacity_reserved_memory("ECS_RESERVED_MEMORY=lots\n", 25, &mib), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_sizes),
        cmocka_unit_test(test_schedulable_cpu_and_memory_bound),
        cmocka_unit_test(test_schedulable_ports),
        cmocka_unit_test(test_threshold_rule_of_thumb),
        cmocka_unit_test(test_reserved_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
