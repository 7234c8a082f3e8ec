/* Unit tests: the EMF encoder (spec §4): shape, <= 100 metrics per
 * directive, <= 30 keys per dimension set, dimension keys must be string
 * members, non-finite numbers left out, StorageResolution, escaping. */
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

#include "collector/metrics/emf.h"

static json_t *encode(const struct emf_doc *d, int *declared)
{
    struct buf b;
    buf_init(&b);
    *declared = emf_encode(&b, d);
    json_error_t err;
    json_t *j = json_loadb(b.data, b.len, 0, &err);
    if (!j)
        fail_msg("invalid JSON (%s): %s", err.text, b.data);
    buf_free(&b);
    return j;
}

static void test_shape(void **state)
{
    (void)state;
    struct emf_dimset sets[] = {{{"ClusterName"}, 1}, {{"ClusterName", "ServiceName"}, 2}};
    struct emf_num m[] = {{"CpuUtilized", "None", 12.5}, {"MemoryUtilized", "Megabytes", 256}};
    struct emf_num extra[] = {{"NetworkRxPackets", NULL, 3}};
    struct emf_str s[] = {{"Type", "Task"}, {"ClusterName", "c1"}, {"ServiceName", "web"},
                          {"Empty", ""}};
    struct emf_doc d = {.timestamp_ms = 1574109732004LL, .namespace_ = "ECS/ContainerInsights",
                        .storage_resolution = 60, .sets = sets, .nsets = 2, .metrics = m,
                        .nmetrics = 2, .extra = extra, .nextra = 1, .strs = s, .nstrs = 4};
    int declared;
    json_t *j = encode(&d, &declared);
    assert_int_equal(declared, 2);
    json_t *aws = json_object_get(j, "_aws");
    assert_int_equal(json_integer_value(json_object_get(aws, "Timestamp")), 1574109732004LL);
    json_t *dir = json_array_get(json_object_get(aws, "CloudWatchMetrics"), 0);
    assert_string_equal(json_string_value(json_object_get(dir, "Namespace")),
                        "ECS/ContainerInsights");
    json_t *dims = json_object_get(dir, "Dimensions");
    assert_int_equal(json_array_size(dims), 2);
    assert_string_equal(json_string_value(json_array_get(json_array_get(dims, 1), 1)),
                        "ServiceName");
    json_t *mets = json_object_get(dir, "Metrics");
    assert_int_equal(json_array_size(mets), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mets, 1), "Unit")),
                        "Megabytes");
    assert_null(json_object_get(json_array_get(mets, 1), "StorageResolution"));
    assert_true(json_number_value(json_object_get(j, "CpuUtilized")) == 12.5);
    assert_true(json_number_value(json_object_get(j, "MemoryUtilized")) == 256);
    assert_true(json_number_value(json_object_get(j, "NetworkRxPackets")) == 3);
    assert_string_equal(json_string_value(json_object_get(j, "ServiceName")), "web");
    assert_null(json_object_get(j, "Empty"));
    json_decref(j);
}

static void test_missing_dimension(void **state)
{
    (void)state;
    /* no ServiceName member: the {ClusterName, ServiceName} set is left out */
    struct emf_dimset sets[] = {{{"ClusterName"}, 1}, {{"ClusterName", "ServiceName"}, 2}};
    struct emf_num m[] = {{"CpuUtilized", "None", 1}};
    struct emf_str s[] = {{"ClusterName", "c1"}, {"ServiceName", ""}};
    struct emf_doc d = {.timestamp_ms = 1, .namespace_ = "N", .sets = sets, .nsets = 2,
                        .metrics = m, .nmetrics = 1, .strs = s, .nstrs = 2};
    int declared;
    json_t *j = encode(&d, &declared);
    json_t *dims = json_object_get(
        json_array_get(json_object_get(json_object_get(j, "_aws"), "CloudWatchMetrics"), 0),
        "Dimensions");
    assert_int_equal(json_array_size(dims), 1);
    json_decref(j);
    /* no usable set at all: nothing declared, a plain JSON log */
    struct emf_str s2[] = {{"Other", "x"}};
    d.strs = s2;
    d.nstrs = 1;
    j = encode(&d, &declared);
    assert_int_equal(declared, 0);
    assert_null(json_object_get(j, "_aws"));
    assert_true(json_number_value(json_object_get(j, "CpuUtilized")) == 1);
    json_decref(j);
}

static void test_limits(void **state)
{
    (void)state;
    /* 250 metrics: directives of 100, 100, 50 */
    static struct emf_num m[250];
    static char names[250][16];
    for (int i = 0; i < 250; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        m[i] = (struct emf_num){names[i], "Count", i};
    }
    m[7].value = NAN;     /* left out entirely */
    m[8].value = INFINITY;
    struct emf_dimset sets[2];
    static char keys[31][8];
    struct emf_str s[31];
    for (int i = 0; i < 31; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        s[i] = (struct emf_str){keys[i], "v"};
        if (i < 30)
            sets[0].keys[i] = keys[i];
    }
    sets[0].n = 30;
    sets[1].n = 31; /* over the limit: never written (the struct holds 30) */
    for (int i = 0; i < 30; i++)
        sets[1].keys[i] = keys[i];
    struct emf_doc d = {.timestamp_ms = 5, .namespace_ = "N", .storage_resolution = 1,
                        .sets = sets, .nsets = 2, .metrics = m, .nmetrics = 250, .strs = s,
                        .nstrs = 31};
    int declared;
    json_t *j = encode(&d, &declared);
    assert_int_equal(declared, 248);
    json_t *cwm = json_object_get(json_object_get(j, "_aws"), "CloudWatchMetrics");
    assert_int_equal(json_array_size(cwm), 3);
    size_t total = 0;
    for (size_t i = 0; i < 3; i++) {
        json_t *dir = json_array_get(cwm, i);
        json_t *mets = json_object_get(dir, "Metrics");
        assert_true(json_array_size(mets) <= EMF_MAX_METRICS);
        total += json_array_size(mets);
        assert_int_equal(json_array_size(json_object_get(dir, "Dimensions")), 1);
        assert_int_equal(json_array_size(json_array_get(json_object_get(dir, "Dimensions"), 0)),
                         30);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(mets, 0),
                                                            "StorageResolution")), 1);
    }
    assert_int_equal(total, 248);
    assert_null(json_object_get(j, "m7"));
    assert_null(json_object_get(j, "m8"));
    json_decref(j);
}

static void test_escaping_and_numbers(void **state)
{
    (void)state;
    struct emf_dimset sets[] = {{{"Name"}, 1}};
    struct emf_num m[] = {{"big", NULL, 1e20}, {"frac", NULL, 0.1}, {"neg", NULL, -3}};
    struct emf_str s[] = {{"Name", "a\"b\\c\n\xff"}};
    struct emf_doc d = {.timestamp_ms = 1, .namespace_ = "N", .sets = sets, .nsets = 1,
                        .metrics = m, .nmetrics = 3, .strs = s, .nstrs = 1};
    int declared;
    json_t *j = encode(&d, &declared);
    assert_string_equal(json_string_value(json_object_get(j, "Name")),
                        "a\"b\\c\n\xef\xbf\xbd");
    assert_true(json_number_value(json_object_get(j, "big")) == 1e20);
    assert_true(json_number_value(json_object_get(j, "frac")) == 0.1);
    assert_true(json_number_value(json_object_get(j, "neg")) == -3);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_missing_dimension),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_escaping_and_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
