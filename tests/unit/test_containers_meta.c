/* collector/inputs/containers/containers_meta: inspect parsing, filters, meta keys,
 * ids from paths and cgroups, events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "collector/docker/events.h"
#include "collector/inputs/containers/containers_meta.h"
#include "collector/pipeline/record.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char inspect_json[] =
    "{\"Id\":\"" ID "\",\"Name\":\"/web-1\",\"State\":{\"Running\":true,\"Pid\":42,"
    "\"StartedAt\":\"2026-11-22T07:45:09.123456789Z\"},"
    "\"Config\":{\"Image\":\"nginx:1\",\"Labels\":{"
    "\"com.amazonaws.ecs.cluster\":\"arn:aws:ecs:us-east-1:1:cluster/prod\","
    "\"com.amazonaws.ecs.task-arn\":\"arn:aws:ecs:us-east-1:1:task/prod/abc123\","
    "\"com.amazonaws.ecs.task-definition-family\":\"fam\","
    "\"com.amazonaws.ecs.task-definition-version\":\"4\","
    "\"com.amazonaws.ecs.container-name\":\"web\",\"team\":\"blue\"}}}";

static void test_parse_and_meta(void **state)
{
    (void)state;
    struct ctr_info info;
    assert_int_equal(cm_parse(inspect_json, strlen(inspect_json), NULL, &info), 0);
    assert_string_equal(info.dk.id, ID);
    assert_string_equal(info.dk.name, "web-1");
    assert_int_equal(info.started_ns, 1795333509123456789LL);
    assert_string_equal(cm_label(&info, "team"), "blue");
    assert_null(cm_label(&info, "tea"));
    assert_true(cm_is_ecs(&info));
    char *allow_items[] = {"te*"};
    struct strlist allow = {allow_items, 1};
    struct meta *m = cm_meta(&info, "stderr", &allow);
    assert_string_equal(meta_get(m, "cluster"), "prod");
    assert_string_equal(meta_get(m, "task_id"), "abc123");
    assert_string_equal(meta_get(m, "task_family"), "fam");
    assert_string_equal(meta_get(m, "task_revision"), "4");
    assert_string_equal(meta_get(m, "ecs_container_name"), "web");
    assert_string_equal(meta_get(m, "container_name"), "web-1");
    assert_string_equal(meta_get(m, "image"), "nginx:1");
    assert_string_equal(meta_get(m, "stream"), "stderr");
    assert_string_equal(meta_get(m, "label.team"), "blue");
    assert_null(meta_get(m, "label.com.amazonaws.ecs.cluster"));
    meta_unref(m);
    /* config.v2.json says "ID" */
    const char *cfg = "{\"ID\":\"" ID "\",\"Name\":\"/x\",\"Config\":{\"Image\":\"i\"}}";
    assert_int_equal(cm_parse(cfg, strlen(cfg), NULL, &info), 0);
    assert_string_equal(info.dk.id, ID);
    assert_false(cm_is_ecs(&info));
    assert_int_equal(info.started_ns, 0);
    const char *never = "{\"Id\":\"" ID "\",\"State\":{\"StartedAt\":\"0001-01-01T00:00:00Z\"}}";
    assert_int_equal(cm_parse(never, strlen(never), NULL, &info), 0);
    assert_int_equal(info.started_ns, 0);
    assert_int_equal(cm_parse("nope", 4, NULL, &info), -1);
}

static void test_filters(void **state)
{
    (void)state;
    struct ctr_info info;
    assert_int_equal(cm_parse(inspect_json, strlen(inspect_json), NULL, &info), 0);
    struct cm_filter f = {0};
    const char *why;
    assert_int_equal(cm_wanted(&f, &info, &why), 1);
    char *inc[] = {"api-*"};
    struct strlist l = {inc, 1};
    f.include_name = &l;
    assert_int_equal(cm_wanted(&f, &info, &why), 0);
    f.include_name = NULL;
    char *lab[] = {"team=bl*"};
    struct strlist ll = {lab, 1};
    f.exclude_label = &ll;
    assert_int_equal(cm_wanted(&f, &info, &why), 0);
    f.exclude_label = NULL;
    f.self_id = ID;
    assert_int_equal(cm_wanted(&f, &info, &why), 0);
    f.self_id = NULL;
    const char *optout = "{\"Id\":\"" ID "\",\"Name\":\"/a\",\"Config\":{\"Labels\":"
                         "{\"collector.logs\":\"false\"}}}";
    assert_int_equal(cm_parse(optout, strlen(optout), NULL, &info), 0);
    assert_int_equal(cm_wanted(&f, &info, &why), 0);
    const char *pause = "{\"Id\":\"" ID "\",\"Name\":\"/ecs-x-internalecspause\",\"Config\":"
                        "{\"Labels\":{\"com.amazonaws.ecs.container-name\":"
                        "\"~internal~ecs~pause\"}}}";
    assert_int_equal(cm_parse(pause, strlen(pause), NULL, &info), 0);
    assert_int_equal(cm_wanted(&f, &info, &why), 0);
}

static void test_ids(void **state)
{
    (void)state;
    char id[72];
    assert_int_equal(cm_id_of_path("/var/lib/docker/containers/" ID "/" ID "-json.log.3", id), 3);
    assert_string_equal(id, ID);
    assert_int_equal(cm_id_of_path("/var/lib/docker/containers/" ID "/" ID "-json.log", id), 0);
    assert_int_equal(cm_id_of_path("/var/lib/docker/containers/" ID "/" ID "-json.log.12", id), 12);
    assert_int_equal(cm_id_of_path("/d/containers/" ID "/" ID "-json.log.2.gz", id), -1);
    assert_int_equal(cm_id_of_path("/d/containers/" ID "/" ID "-json.log.0", id), -1);
    assert_int_equal(cm_id_of_path("/d/containers/" ID "/" ID "-json.logx", id), -1);
    assert_int_equal(cm_id_of_path("/d/containers/" ID "/" ID "-json.log.", id), -1);
    assert_int_equal(cm_id_of_path("/d/containers/" ID "/" ID "-config.v2.json", id), -1);
    assert_int_equal(cm_id_of_path("/var/lib/docker/containers/abc/abc-json.log", id), -1);
    const char *cg = "0::/system.slice/docker-" ID ".scope\n";
    assert_int_equal(cm_self_id(cg, strlen(cg), id), 0);
    assert_string_equal(id, ID);
    const char *mi = "1 2 0:1 /var/lib/docker/containers/" ID "/hostname /etc/hostname rw\n";
    assert_int_equal(cm_self_id(mi, strlen(mi), id), 0);
    assert_int_equal(cm_self_id("0::/\n", 5, id), -1);
}

static int nev;
static void on_ev(void *arg, const char *action, const char *cid)
{
    (void)arg;
    assert_string_equal(cid, nev == 0 ? "a1" : "b2");
    assert_string_equal(action, nev == 0 ? "start" : "destroy");
    nev++;
}

static void test_events(void **state)
{
    (void)state;
    const char *ev = "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"a1\"}}\n"
                     "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"n\"}}\n"
                     "{\"Type\":\"container\",\"Action\":\"destroy\",\"Actor\":{\"ID\":\"b2\"}}\n";
    nev = 0;
    assert_int_equal(docker_events_parse(ev, strlen(ev), on_ev, NULL), 2);
    assert_int_equal(nev, 2);
    assert_int_equal(docker_events_parse("", 0, on_ev, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_meta),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
