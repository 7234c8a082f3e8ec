/* SigV4 against AWS's test suite (tests/data/sigv4, Apache-2.0, see LICENSE
 * and NOTICE there) and the two CloudWatch vectors of spec §6.2.
 *
 * Every case folder holding <name>.req is a test: the request is parsed,
 * signed with AKIDEXAMPLE / us-east-1 / service, and the canonical request,
 * string to sign and Authorization header must equal .creq, .sts and .authz
 * byte for byte. A case listed in `skipped` is reported with its reason. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/aws/sigv4.h"
#include "collector/core/util.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SESSION_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"

/* None needed today: every case of the suite passes. Kept as the place to
 * name a case and why, should a future suite revision disagree with AWS. */
static const struct { const char *name, *reason; } skipped[] = {
    { NULL, NULL },
};

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct buf b;
    buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) buf_append(&b, tmp, n);
    fclose(f);
    if (!b.data) buf_append(&b, "", 0);
    if (len) *len = b.len;
    return b.data;
}

/* Expected files may or may not end with a newline; compare without it. */
static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
}

struct parsed_req {
    char *method, *path, *query;
    struct aws_header h[33];
    char *names[33], *values[33];
    int nh;
    const char *body;
    size_t body_len;
    char *text;
};

static void free_req(struct parsed_req *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    for (int i = 0; i < r->nh; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->text);
}

/* "METHOD URI HTTP/1.1\nName:value\n[ folded]\n...\n\nbody" */
static int parse_req(char *text, size_t len, struct parsed_req *r)
{
    memset(r, 0, sizeof *r);
    r->text = text;
    char *end = text + len;
    char *nl = memchr(text, '\n', len);
    char *line_end = nl ? nl : end;
    char *sp = memchr(text, ' ', (size_t)(line_end - text));
    if (!sp) return -1;
    r->method = xstrndup(text, (size_t)(sp - text));
    char *uri = sp + 1, *uri_end = line_end;
    for (char *p = line_end - 1; p > uri; p--) {
        if (*p == ' ') { uri_end = p; break; }
    }
    char *q = memchr(uri, '?', (size_t)(uri_end - uri));
    r->path = xstrndup(uri, (size_t)((q ? q : uri_end) - uri));
    if (q) r->query = xstrndup(q + 1, (size_t)(uri_end - q - 1));
    char *p = nl ? nl + 1 : end;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        line_end = nl ? nl : end;
        if (line_end == p) {       /* blank line: body follows */
            r->body = p + 1 < end ? p + 1 : "";
            r->body_len = p + 1 < end ? (size_t)(end - p - 1) : 0;
            break;
        }
        if ((*p == ' ' || *p == '\t') && r->nh > 0) {   /* folded continuation */
            char *prev = r->values[r->nh - 1];
            char *joined = xasprintf("%s %.*s", prev, (int)(line_end - p), p);
            free(prev);
            r->values[r->nh - 1] = joined;
        } else {
            char *colon = memchr(p, ':', (size_t)(line_end - p));
            if (!colon || r->nh >= 32) return -1;
            r->names[r->nh] = xstrndup(p, (size_t)(colon - p));
            r->values[r->nh] = xstrndup(colon + 1, (size_t)(line_end - colon - 1));
            r->nh++;
        }
        p = nl ? nl + 1 : end;
    }
    for (int i = 0; i < r->nh; i++) {
        r->h[i].name = r->names[i];
        r->h[i].value = r->values[i];
    }
    return 0;
}

static const char *find_header(const struct parsed_req *r, const char *name)
{
    for (int i = 0; i < r->nh; i++)
        if (strcasecmp(r->names[i], name) == 0) return r->values[i];
    return NULL;
}

struct suite_case {
    char dir[512];
    char name[128];
};

static void check_file(const struct suite_case *c, const char *ext, const struct buf *got)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.%s", c->dir, c->name, ext);
    char *want = read_file(path, NULL);
    if (!want) fail_msg("%s: cannot read %s", c->name, path);
    chomp(want);
    const char *g = got->data ? got->data : "";
    if (strcmp(want, g) != 0) {
        print_error("case %s: .%s differs\n--- want\n%s\n--- got\n%s\n", c->name, ext, want, g);
        free(want);
        fail();
    }
    free(want);
}

static void run_case(void **state)
{
    const struct suite_case *c = *state;
    char path[700];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s.req", c->dir, c->name);
    char *text = read_file(path, &len);
    assert_non_null(text);
    struct parsed_req r;
    assert_int_equal(parse_req(text, len, &r), 0);

    /* As in botocore's runner: this case signs with temporary credentials,
     * so the signer adds X-Amz-Security-Token (aws_call does the same). */
    if (strcmp(c->name, "get-vanilla-with-session-token") == 0) {
        r.names[r.nh] = xstrdup("X-Amz-Security-Token");
        r.values[r.nh] = xstrdup(SESSION_TOKEN);
        r.h[r.nh].name = r.names[r.nh];
        r.h[r.nh].value = r.values[r.nh];
        r.nh++;
    }
    const char *date = find_header(&r, "X-Amz-Date");
    assert_non_null(date);
    struct sigv4_request sr = {
        .method = r.method, .path = r.path, .query = r.query,
        .headers = r.h, .nheaders = r.nh,
        .payload = r.body ? r.body : "", .payload_len = r.body_len,
        .amz_date = date, .region = "us-east-1", .service = "service",
    };
    unsigned char key[SIGV4_KEY_LEN];
    sigv4_signing_key(SECRET, "20150830", "us-east-1", "service", key);
    struct sigv4_out out;
    sigv4_out_init(&out);
    assert_int_equal(sigv4_sign(&sr, AKID, key, &out), 0);
    check_file(c, "creq", &out.creq);
    check_file(c, "sts", &out.sts);
    check_file(c, "authz", &out.authz);
    sigv4_out_free(&out);
    free_req(&r);
}

static const char *skip_reason(const char *name)
{
    for (size_t i = 0; skipped[i].name; i++)
        if (strcmp(skipped[i].name, name) == 0) return skipped[i].reason;
    return NULL;
}

static struct suite_case cases[128];
static int ncases;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char *names[256];
    int n = 0;
    while ((e = readdir(d)) && n < 256)
        if (e->d_name[0] != '.') names[n++] = xstrdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);   /* stable order */
    for (int i = 0; i < n; i++) {
        char sub[512], req[800];
        struct stat st;
        snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(req, sizeof req, "%s/%s.req", sub, names[i]);
            if (access(req, R_OK) == 0 && ncases < 128) {
                const char *why = skip_reason(names[i]);
                if (why) {
                    printf("[ SKIPPED  ] sigv4 suite case %s: %s\n", names[i], why);
                } else {
                    snprintf(cases[ncases].dir, sizeof cases[ncases].dir, "%s", sub);
                    snprintf(cases[ncases].name, sizeof cases[ncases].name, "%s", names[i]);
                    ncases++;
                }
            }
            collect(sub);
        }
        free(names[i]);
    }
}

/* spec §6.2: PutLogEvents as botocore 1.43.11 signs it. */
static void test_putlogevents_vector(void **state)
{
    (void)state;
    const char *body = "{\"logGroupName\":\"g\",\"logStreamName\":\"s\",\"logEvents\":"
                       "[{\"timestamp\":1440938160000,\"message\":\"hello\"}]}";
    struct aws_header h[] = {
        { "Content-Type", "application/x-amz-json-1.1" },
        { "Host", "logs.us-east-1.amazonaws.com" },
        { "X-Amz-Date", "20150830T123600Z" },
        { "X-Amz-Target", "Logs_20140328.PutLogEvents" },
    };
    struct sigv4_request sr = {
        .method = "POST", .path = "/", .headers = h, .nheaders = 4,
        .payload = body, .payload_len = strlen(body), .amz_date = "20150830T123600Z",
        .region = "us-east-1", .service = "logs",
    };
    char hash[65];
    sigv4_sha256_hex(body, strlen(body), hash);
    assert_string_equal(hash, "95ef2e8b6df07e8b2e91a27adef24ceb3c5c16696a0a2056a748ac37815b72a5");
    struct sigv4_key_cache cache = { 0 };
    const unsigned char *key = sigv4_key_cached(&cache, SECRET, "20150830", "us-east-1", "logs");
    struct sigv4_out out;
    sigv4_out_init(&out);
    assert_int_equal(sigv4_sign(&sr, AKID, key, &out), 0);
    sigv4_sha256_hex(out.creq.data, out.creq.len, hash);
    assert_string_equal(hash, "d4c14a841394aeceaf5419bc82c432e994804c9983ae3d69ca602d9faf71272b");
    assert_non_null(strstr(out.sts.data, "\n20150830/us-east-1/logs/aws4_request\n"));
    assert_string_equal(out.signature,
                        "c1ef666d77656a61414cb171d565874f660fa07607c6bdb33e6d5565daf743b5");
    assert_string_equal(out.signed_headers.data, "content-type;host;x-amz-date;x-amz-target");
    /* The cache hands back the same key for the same day/region/service. */
    assert_ptr_equal(sigv4_key_cached(&cache, SECRET, "20150830", "us-east-1", "logs"), key);
    assert_int_equal(cache.valid, 1);
    sigv4_out_free(&out);
}

/* spec §6.2: PutMetricData, query protocol. */
static void test_putmetricdata_vector(void **state)
{
    (void)state;
    const char *body = "Action=PutMetricData&Version=2010-08-01&Namespace=NS&"
                       "MetricData.member.1.MetricName=m&MetricData.member.1.Value=1";
    struct aws_header h[] = {
        { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
        { "Host", "monitoring.us-east-1.amazonaws.com" },
        { "X-Amz-Date", "20150830T123600Z" },
    };
    struct sigv4_request sr = {
        .method = "POST", .path = "/", .headers = h, .nheaders = 3,
        .payload = body, .payload_len = strlen(body), .amz_date = "20150830T123600Z",
        .region = "us-east-1", .service = "monitoring",
    };
    char hash[65];
    sigv4_sha256_hex(body, strlen(body), hash);
    assert_string_equal(hash, "c2d6dccb42ab4c87f8bd821499d7a242f66657d24b79eff9c33a7cfc7e221ca8");
    unsigned char key[SIGV4_KEY_LEN];
    sigv4_signing_key(SECRET, "20150830", "us-east-1", "monitoring", key);
    struct sigv4_out out;
    sigv4_out_init(&out);
    assert_int_equal(sigv4_sign(&sr, AKID, key, &out), 0);
    sigv4_sha256_hex(out.creq.data, out.creq.len, hash);
    assert_string_equal(hash, "3ba3ca56def5f58145b2bd010879946215176c764319709b7f3ef33dc8340b07");
    assert_string_equal(out.signature,
                        "02dc6da9b358463773d23c2cc84ee73e2692b7c2feb04204ef73a11b94961ecd");
    assert_string_equal(out.signed_headers.data, "content-type;host;x-amz-date");
    sigv4_out_free(&out);
}

static void test_key_cache_invalidation(void **state)
{
    (void)state;
    struct sigv4_key_cache c = { 0 };
    unsigned char k1[SIGV4_KEY_LEN], k2[SIGV4_KEY_LEN];
    memcpy(k1, sigv4_key_cached(&c, SECRET, "20150830", "us-east-1", "logs"), SIGV4_KEY_LEN);
    memcpy(k2, sigv4_key_cached(&c, SECRET, "20150831", "us-east-1", "logs"), SIGV4_KEY_LEN);
    assert_memory_not_equal(k1, k2, SIGV4_KEY_LEN);
    memcpy(k2, sigv4_key_cached(&c, "other", "20150831", "us-east-1", "logs"), SIGV4_KEY_LEN);
    unsigned char want[SIGV4_KEY_LEN];
    sigv4_signing_key("other", "20150831", "us-east-1", "logs", want);
    assert_memory_equal(k2, want, SIGV4_KEY_LEN);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct aws_header h[] = { { "Host", "x" } };
    struct sigv4_request sr = { .method = "GET", .headers = h, .nheaders = 1,
                                .amz_date = "2015-08-30", .region = "r", .service = "s" };
    unsigned char key[SIGV4_KEY_LEN] = { 0 };
    struct sigv4_out out;
    sigv4_out_init(&out);
    assert_int_equal(sigv4_sign(&sr, AKID, key, &out), -1);
    char d[17];
    sigv4_amz_date(1440938160LL, d);
    assert_string_equal(d, "20150830T123600Z");
    sigv4_out_free(&out);
}

int main(void)
{
    const char *root = getenv("COLLECTOR_SRC");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/data/sigv4", root && *root ? root : ".");
    collect(dir);
    if (ncases < 30) {
        fprintf(stderr, "sigv4 suite: only %d cases found under %s\n", ncases, dir);
        return 1;
    }
    int nskipped = 0;
    for (size_t i = 0; skipped[i].name; i++) nskipped++;
    printf("sigv4 suite: %d cases from %s, %d skipped\n", ncases, dir, nskipped);
    struct CMUnitTest *tests = xcalloc((size_t)ncases + 4, sizeof *tests);
    int n = 0;
    for (int i = 0; i < ncases; i++) {
        tests[n].name = cases[i].name;
        tests[n].test_func = run_case;
        tests[n].initial_state = &cases[i];
        n++;
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_putlogevents_vector);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_putmetricdata_vector);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_key_cache_invalidation);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bad_input);
    int rc = _cmocka_run_group_tests("sigv4", tests, (size_t)n, NULL, NULL);
    free(tests);
    return rc;
}
