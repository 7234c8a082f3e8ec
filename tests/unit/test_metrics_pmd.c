/* Unit tests: PutMetricData validation against every limit of spec §3.2,
 * folding into StatisticValues and Values/Counts, splitting into calls of
 * <= 1,000 datums and <= 1 MiB, the JSON 1.0 and query encodings, and the
 * gzip threshold (§3.4). */
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

#include "collector/metrics/pmd.h"

#define NOW 1790000000000LL

static void test_namespace(void **state)
{
    (void)state;
    assert_true(pmd_namespace_valid("ECS/ContainerInsights"));
    assert_false(pmd_namespace_valid(""));
    assert_false(pmd_namespace_valid(":x"));
    assert_false(pmd_namespace_valid("AWS/EC2"));
    assert_false(pmd_namespace_valid("a\tb"));
    assert_false(pmd_namespace_valid("caf\xc3\xa9"));
    char ns[300];
    memset(ns, 'n', sizeof ns);
    ns[255] = '\0';
    assert_true(pmd_namespace_valid(ns));
    ns[255] = 'n';
    ns[256] = '\0';
    assert_false(pmd_namespace_valid(ns));
}

static void test_check_limits(void **state)
{
    (void)state;
    struct pmd_dim d[32];
    char names[32][8];
    for (int i = 0; i < 32; i++) {
        snprintf(names[i], sizeof names[i], "d%d", i);
        d[i].name = names[i];
        d[i].value = "v";
    }
    assert_int_equal(pmd_check("m", "Count", d, 30, 1.0, NOW, NOW), PMD_OK);
    assert_int_equal(pmd_check("m", "Count", d, 31, 1.0, NOW, NOW), PMD_BAD_DIM_COUNT);
    assert_int_equal(pmd_check("", "Count", d, 0, 1.0, NOW, NOW), PMD_BAD_NAME);
    char longname[300];
    memset(longname, 'm', sizeof longname);
    longname[256] = '\0';
    assert_int_equal(pmd_check(longname, NULL, d, 0, 1.0, NOW, NOW), PMD_BAD_NAME);
    longname[255] = '\0';
    assert_int_equal(pmd_check(longname, NULL, d, 0, 1.0, NOW, NOW), PMD_OK);
    /* values */
    assert_int_equal(pmd_check("m", NULL, d, 0, NAN, NOW, NOW), PMD_BAD_VALUE);
    assert_int_equal(pmd_check("m", NULL, d, 0, INFINITY, NOW, NOW), PMD_BAD_VALUE);
    assert_int_equal(pmd_check("m", NULL, d, 0, -INFINITY, NOW, NOW), PMD_BAD_VALUE);
    assert_int_equal(pmd_check("m", NULL, d, 0, 0x1p360, NOW, NOW), PMD_OK);
    assert_int_equal(pmd_check("m", NULL, d, 0, -0x1p360, NOW, NOW), PMD_OK);
    assert_int_equal(pmd_check("m", NULL, d, 0, 0x1p361, NOW, NOW), PMD_BAD_VALUE);
    /* units: all 27 and nothing else */
    static const char *const units[] = {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
        "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
        "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
        "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
        "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"};
    for (size_t i = 0; i < 27; i++)
        assert_int_equal(pmd_check("m", units[i], d, 0, 1, NOW, NOW), PMD_OK);
    assert_int_equal(pmd_check("m", "bytes", d, 0, 1, NOW, NOW), PMD_BAD_UNIT);
    assert_int_equal(pmd_check("m", "Mebibytes", d, 0, 1, NOW, NOW), PMD_BAD_UNIT);
    assert_int_equal(pmd_check("m", "", d, 0, 1, NOW, NOW), PMD_OK);
    /* time window: 14 days back, 2 hours ahead */
    assert_int_equal(pmd_check("m", NULL, d, 0, 1, NOW - PMD_MAX_AGE_MS, NOW), PMD_OK);
    assert_int_equal(pmd_check("m", NULL, d, 0, 1, NOW - PMD_MAX_AGE_MS - 1, NOW),
                     PMD_BAD_TOO_OLD);
    assert_int_equal(pmd_check("m", NULL, d, 0, 1, NOW + PMD_MAX_AHEAD_MS, NOW), PMD_OK);
    assert_int_equal(pmd_check("m", NULL, d, 0, 1, NOW + PMD_MAX_AHEAD_MS + 1, NOW),
                     PMD_BAD_TOO_NEW);
}

static void test_check_dimensions(void **state)
{
    (void)state;
    struct pmd_dim d[2] = {{"ClusterName", "c1"}, {"ServiceName", "web"}};
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_OK);
    d[1].name = "ClusterName";
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_DUP);
    d[1].name = ":x";
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_NAME);
    d[1].name = "   ";
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_NAME);
    d[1].name = "";
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_NAME);
    d[1].name = "a\nb";
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_NAME);
    d[1].name = "ServiceName";
    d[1].value = "";
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_VALUE);
    d[1].value = " ";
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_VALUE);
    d[1].value = "caf\xc3\xa9";
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_VALUE);
    char v[1100];
    memset(v, 'v', sizeof v);
    v[1024] = '\0';
    d[1].value = v;
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_OK);
    v[1024] = 'v';
    v[1025] = '\0';
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_VALUE);
    char n[300];
    memset(n, 'n', sizeof n);
    n[256] = '\0';
    d[1].value = "x";
    d[1].name = n;
    assert_int_equal(pmd_check("m", NULL, d, 2, 1, NOW, NOW), PMD_BAD_DIM_NAME);
}

static json_t *encode_json(struct pmd_folder *f, uint32_t pos, uint32_t *k)
{
    struct pmd_encoder e;
    pmd_encoder_init(&e, PMD_JSON, "NS");
    struct buf body;
    buf_init(&body);
    *k = pmd_encode_call(&e, f, pos, &body);
    json_error_t err;
    json_t *j = json_loadb(body.data, body.len, 0, &err);
    if (!j)
        fail_msg("invalid JSON: %s", err.text);
    buf_free(&body);
    pmd_encoder_free(&e);
    return j;
}

static void test_fold_statistics(void **state)
{
    (void)state;
    struct pmd_folder f;
    pmd_folder_init(&f, PMD_FOLD_STATS);
    struct pmd_dim d1[] = {{"ClusterName", "c1"}}, d2[] = {{"ClusterName", "c2"}};
    int64_t t0 = 1790000040000LL + 40000; /* 40 s into a minute */
    pmd_folder_add(&f, "CpuUtilized", "None", d1, 1, t0, 60, 10);
    pmd_folder_add(&f, "CpuUtilized", "None", d1, 1, t0 + 10000, 60, 30);
    pmd_folder_add(&f, "CpuUtilized", "None", d1, 1, t0 + 5000, 60, 20);
    pmd_folder_add(&f, "CpuUtilized", "None", d2, 1, t0, 60, 5);        /* other dims */
    pmd_folder_add(&f, "CpuUtilized", "Percent", d1, 1, t0, 60, 5);     /* other unit */
    pmd_folder_add(&f, "CpuUtilized", "None", d1, 1, t0 + 20000, 60, 1); /* next minute */
    assert_int_equal(f.n, 4);
    assert_true(f.d[0].count == 3 && f.d[0].sum == 60 && f.d[0].min == 10 && f.d[0].max == 30);
    assert_int_equal(f.d[0].bucket_ms, 1790000040000LL);
    uint32_t k;
    json_t *j = encode_json(&f, 0, &k);
    assert_int_equal(k, 4);
    assert_string_equal(json_string_value(json_object_get(j, "Namespace")), "NS");
    json_t *md = json_object_get(j, "MetricData");
    assert_int_equal(json_array_size(md), 4);
    json_t *sv = json_object_get(json_array_get(md, 0), "StatisticValues");
    assert_true(json_number_value(json_object_get(sv, "SampleCount")) == 3);
    assert_true(json_number_value(json_object_get(sv, "Sum")) == 60);
    assert_true(json_number_value(json_object_get(sv, "Minimum")) == 10);
    assert_true(json_number_value(json_object_get(sv, "Maximum")) == 30);
    assert_true(json_number_value(json_object_get(json_array_get(md, 0), "Timestamp")) ==
                1790000040.0);
    /* one sample: a plain Value */
    assert_true(json_number_value(json_object_get(json_array_get(md, 1), "Value")) == 5);
    assert_null(json_object_get(json_array_get(md, 1), "StorageResolution"));
    json_t *dims = json_object_get(json_array_get(md, 1), "Dimensions");
    assert_string_equal(json_string_value(json_object_get(json_array_get(dims, 0), "Value")),
                        "c2");
    json_decref(j);
    /* high resolution: per-second buckets and StorageResolution 1 */
    pmd_folder_reset(&f);
    pmd_folder_add(&f, "m", NULL, NULL, 0, t0, 1, 1);
    pmd_folder_add(&f, "m", NULL, NULL, 0, t0 + 999, 1, 2);
    pmd_folder_add(&f, "m", NULL, NULL, 0, t0 + 1000, 1, 3);
    assert_int_equal(f.n, 2);
    j = encode_json(&f, 0, &k);
    json_t *first = json_array_get(json_object_get(j, "MetricData"), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "StorageResolution")), 1);
    assert_null(json_object_get(first, "Unit"));
    json_decref(j);
    pmd_folder_free(&f);
}

static void test_fold_values(void **state)
{
    (void)state;
    struct pmd_folder f;
    pmd_folder_init(&f, PMD_FOLD_VALUES);
    for (int i = 0; i < 200; i++)
        pmd_folder_add(&f, "m", "Count", NULL, 0, NOW, 60, (double)(i % 160));
    /* 160 distinct values: 150 in the first datum, the rest (and what
     * follows) in a second one for the same key */
    assert_int_equal(f.n, 2);
    assert_int_equal(f.d[0].nvalues, 150);
    assert_int_equal(f.d[1].nvalues, 50);
    assert_true(f.d[0].count + f.d[1].count == 200);
    uint32_t k;
    json_t *j = encode_json(&f, 0, &k);
    json_t *d0 = json_array_get(json_object_get(j, "MetricData"), 0);
    json_t *vals = json_object_get(d0, "Values"), *cnts = json_object_get(d0, "Counts");
    assert_int_equal(json_array_size(vals), 150);
    assert_int_equal(json_array_size(cnts), 150);
    assert_true(json_number_value(json_array_get(vals, 7)) == 7);
    assert_true(json_number_value(json_array_get(cnts, 100)) == 1);
    pmd_folder_reset(&f);
    for (int i = 0; i < 10; i++)
        pmd_folder_add(&f, "m", "Count", NULL, 0, NOW, 60, (double)(i % 3));
    assert_int_equal(f.n, 1);
    assert_int_equal(f.d[0].nvalues, 3);
    assert_true(f.cnts[f.d[0].values_off] == 4); /* 0 seen 4 times */
    assert_null(json_object_get(d0, "Value"));
    json_decref(j);
    pmd_folder_free(&f);
}

static void fill_many(struct pmd_folder *f, int n, const char *value)
{
    static char names[3000][16];
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "metric%d", i);
        struct pmd_dim d[] = {{"ClusterName", value}};
        pmd_folder_add(f, names[i], "Count", d, 1, NOW, 60, i);
    }
}

static void test_split_datums(void **state)
{
    (void)state;
    struct pmd_folder f;
    pmd_folder_init(&f, PMD_FOLD_STATS);
    fill_many(&f, 2500, "c1");
    assert_int_equal(f.n, 2500);
    uint32_t k, pos = 0, calls = 0;
    uint32_t sizes[4];
    while (pos < f.n) {
        json_t *j = encode_json(&f, pos, &k);
        assert_int_equal(json_array_size(json_object_get(j, "MetricData")), k);
        json_decref(j);
        sizes[calls++] = k;
        pos += k;
    }
    assert_int_equal(calls, 3);
    assert_int_equal(sizes[0], 1000);
    assert_int_equal(sizes[1], 1000);
    assert_int_equal(sizes[2], 500);
    /* a smaller configured cap */
    struct pmd_encoder e;
    pmd_encoder_init(&e, PMD_JSON, "NS");
    e.max_datums = 7;
    struct buf b;
    buf_init(&b);
    assert_int_equal(pmd_encode_call(&e, &f, 0, &b), 7);
    buf_free(&b);
    pmd_encoder_free(&e);
    pmd_folder_free(&f);
}

static void test_split_bytes(void **state)
{
    (void)state;
    /* datums with 1,000-byte dimension values: 1 MiB holds fewer than 1,000 */
    static char big[1001];
    memset(big, 'v', 1000);
    struct pmd_folder f;
    pmd_folder_init(&f, PMD_FOLD_STATS);
    fill_many(&f, 2500, big);
    int protos[] = {PMD_JSON, PMD_QUERY};
    for (int p = 0; p < 2; p++) {
        struct pmd_encoder e;
        pmd_encoder_init(&e, (enum pmd_protocol)protos[p], "NS");
        struct buf b;
        buf_init(&b);
        uint32_t pos = 0, total = 0, calls = 0;
        while (pos < f.n) {
            uint32_t k = pmd_encode_call(&e, &f, pos, &b);
            assert_true(k >= 1 && k < 1000);
            assert_true(b.len <= PMD_MAX_BYTES);
            /* and not much room wasted: the next datum would not fit */
            if (pos + k < f.n)
                assert_true(b.len + 1300 > PMD_MAX_BYTES);
            if (protos[p] == PMD_JSON) {
                json_t *j = json_loadb(b.data, b.len, 0, NULL);
                assert_non_null(j);
                json_decref(j);
            }
            pos += k;
            total += k;
            calls++;
        }
        assert_int_equal(total, 2500);
        assert_true(calls >= 3);
        buf_free(&b);
        pmd_encoder_free(&e);
    }
    pmd_folder_free(&f);
}

static void test_query_encoding(void **state)
{
    (void)state;
    struct pmd_folder f;
    pmd_folder_init(&f, PMD_FOLD_STATS);
    struct pmd_dim d[] = {{"ClusterName", "a b/c"}};
    pmd_folder_add(&f, "m", "Bytes/Second", d, 1, 1704067200000LL, 60, 1.5);
    pmd_folder_add(&f, "n", NULL, NULL, 0, 1704067200000LL, 1, 1);
    pmd_folder_add(&f, "n", NULL, NULL, 0, 1704067200000LL, 1, 3);
    struct pmd_encoder e;
    pmd_encoder_init(&e, PMD_QUERY, "My NS");
    struct buf b;
    buf_init(&b);
    assert_int_equal(pmd_encode_call(&e, &f, 0, &b), 2);
    assert_string_equal(
        b.data,
        "Action=PutMetricData&Version=2010-08-01&Namespace=My%20NS"
        "&MetricData.member.1.MetricName=m"
        "&MetricData.member.1.Dimensions.member.1.Name=ClusterName"
        "&MetricData.member.1.Dimensions.member.1.Value=a%20b%2Fc"
        "&MetricData.member.1.Timestamp=2024-01-01T00%3A00%3A00Z"
        "&MetricData.member.1.Unit=Bytes%2FSecond"
        "&MetricData.member.1.Value=1.5"
        "&MetricData.member.2.MetricName=n"
        "&MetricData.member.2.Timestamp=2024-01-01T00%3A00%3A00Z"
        "&MetricData.member.2.StorageResolution=1"
        "&MetricData.member.2.StatisticValues.SampleCount=2"
        "&MetricData.member.2.StatisticValues.Sum=4"
        "&MetricData.member.2.StatisticValues.Minimum=1"
        "&MetricData.member.2.StatisticValues.Maximum=3");
    buf_free(&b);
    pmd_encoder_free(&e);
    pmd_folder_free(&f);
}

static void test_gzip_threshold(void **state)
{
    (void)state;
    assert_false(pmd_should_gzip(10239, PMD_GZIP_MIN));
    assert_true(pmd_should_gzip(10240, PMD_GZIP_MIN));
    assert_true(pmd_should_gzip(1000000, PMD_GZIP_MIN));
    assert_false(pmd_should_gzip(1000000, 0));
    /* 50 small datums stay under 10 KiB, 400 do not */
    struct pmd_folder f;
    pmd_folder_init(&f, PMD_FOLD_STATS);
    fill_many(&f, 400, "c1");
    struct pmd_encoder e;
    pmd_encoder_init(&e, PMD_JSON, "NS");
    e.max_datums = 50;
    struct buf b;
    buf_init(&b);
    pmd_encode_call(&e, &f, 0, &b);
    assert_false(pmd_should_gzip(b.len, PMD_GZIP_MIN));
    e.max_datums = 400;
    pmd_encode_call(&e, &f, 0, &b);
    assert_true(pmd_should_gzip(b.len, PMD_GZIP_MIN));
    buf_free(&b);
    pmd_encoder_free(&e);
    pmd_folder_free(&f);
}

static void test_escaping(void **state)
{
    (void)state;
    struct pmd_folder f;
    pmd_folder_init(&f, PMD_FOLD_STATS);
    struct pmd_dim d[] = {{"Name\"q", "va\\lue"}};
    pmd_folder_add(&f, "m\"x", NULL, d, 1, NOW, 60, 2);
    uint32_t k;
    json_t *j = encode_json(&f, 0, &k);
    json_t *d0 = json_array_get(json_object_get(j, "MetricData"), 0);
    assert_string_equal(json_string_value(json_object_get(d0, "MetricName")), "m\"x");
    json_t *dim = json_array_get(json_object_get(d0, "Dimensions"), 0);
    assert_string_equal(json_string_value(json_object_get(dim, "Name")), "Name\"q");
    assert_string_equal(json_string_value(json_object_get(dim, "Value")), "va\\lue");
    json_decref(j);
    pmd_folder_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_namespace),
        cmocka_unit_test(test_check_limits),
        cmocka_unit_test(test_check_dimensions),
        cmocka_unit_test(test_fold_statistics),
        cmocka_unit_test(test_fold_values),
        cmocka_unit_test(test_split_datums),
        cmocka_unit_test(test_split_bytes),
        cmocka_unit_test(test_query_encoding),
        cmocka_unit_test(test_gzip_threshold),
        cmocka_unit_test(test_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
