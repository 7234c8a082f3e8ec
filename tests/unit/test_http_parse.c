/* Unit tests: the status server's request-head parser and listen address
 * parser, including hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "collector/status/http_parse.h"

static int parse(const char *text, struct http_request *req)
{
    return http_parse_request(text, strlen(text), req);
}

static void test_simple_get(void **state)
{
    (void)state;
    struct http_request r;
    const char *t = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\n\r\nBODY";
    int n = parse(t, &r);
    assert_int_equal(n, (int)(strstr(t, "BODY") - t));
    assert_true(http_method_is(&r, "GET"));
    assert_false(http_method_is(&r, "GE"));
    assert_true(http_path_is(&r, "/metrics"));
    assert_int_equal(r.query_len, 3);
    assert_memory_equal(r.query, "x=1", 3);
    assert_int_equal(r.minor_version, 1);
    /* bare LF, HTTP/1.0, no headers */
    assert_true(parse("HEAD /health HTTP/1.0\n\n", &r) > 0);
    assert_true(http_method_is(&r, "HEAD"));
    assert_int_equal(r.minor_version, 0);
    /* a leading empty line is tolerated */
    assert_true(parse("\r\nGET / HTTP/1.1\r\n\r\n", &r) > 0);
}

static void test_incomplete(void **state)
{
    (void)state;
    struct http_request r;
    const char *t = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t len = strlen(t);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(http_parse_request(t, i, &r), HTTP_PARSE_INCOMPLETE);
    assert_int_equal(http_parse_request(t, len, &r), (int)len);
    assert_int_equal(parse("", &r), HTTP_PARSE_INCOMPLETE);
}

static void test_malformed(void **state)
{
    (void)state;
    struct http_request r;
    const char *bad[] = {
        "GET /\r\n\r\n",                       /* HTTP/0.9 */
        "GET\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 extra\r\n\r\n",
        "GET http://x/ HTTP/1.1\r\n\r\n",      /* absolute form */
        "GET / HTTX/1.1\r\n\r\n",
        "GET / HTTP/1.10\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n",
        "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n",  /* a TLS hello */
        NULL,
    };
    for (int i = 0; bad[i]; i++)
        assert_int_equal(parse(bad[i], &r), HTTP_PARSE_BAD);
    /* NUL inside the buffer, with or without a newline yet */
    const char nul[] = "GET /\0 HTTP/1.1\r\n\r\n";
    assert_int_equal(http_parse_request(nul, sizeof nul - 1, &r), HTTP_PARSE_BAD);
    assert_int_equal(http_parse_request(nul, 6, &r), HTTP_PARSE_BAD);
    assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &r), HTTP_PARSE_VERSION);
    assert_int_equal(parse("GET / HTTP/0.9\r\n\r\n", &r), HTTP_PARSE_VERSION);
}

static void test_random_bytes_never_crash(void **state)
{
    (void)state;
    struct http_request r;
    char data[512];
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rand_r(&seed) % sizeof data);
        for (size_t i = 0; i < len; i++) {
            int k = rand_r(&seed) % 8;
            data[i] = k == 0 ? '\n' : k == 1 ? '\r' : k == 2 ? ' ' : k == 3 ? ':'
                    : (char)(rand_r(&seed) % 256);
        }
        int n = http_parse_request(data, len, &r);
        assert_true(n <= (int)len);
        if (n > 0)
            assert_true(r.method_len > 0 && r.path_len > 0);
    }
}

static void test_addr(void **state)
{
    (void)state;
    struct http_addr a;
    char err[200];
    assert_int_equal(http_addr_parse("127.0.0.1:2020", &a, err, sizeof err), 0);
    assert_int_equal(a.kind, HTTP_ADDR_TCP);
    assert_string_equal(a.host, "127.0.0.1");
    assert_string_equal(a.port, "2020");
    assert_int_equal(http_addr_parse("[::1]:9", &a, err, sizeof err), 0);
    assert_string_equal(a.host, "::1");
    assert_string_equal(a.port, "9");
    assert_int_equal(http_addr_parse(":2020", &a, err, sizeof err), 0);
    assert_string_equal(a.host, "");
    assert_int_equal(http_addr_parse("localhost:80", &a, err, sizeof err), 0);
    assert_int_equal(http_addr_parse("off", &a, err, sizeof err), 0);
    assert_int_equal(a.kind, HTTP_ADDR_OFF);
    assert_int_equal(http_addr_parse("/run/collector.sock", &a, err, sizeof err), 0);
    assert_int_equal(a.kind, HTTP_ADDR_UNIX);
    assert_string_equal(a.path, "/run/collector.sock");
    assert_int_equal(http_addr_parse("unix:/tmp/x.sock", &a, err, sizeof err), 0);
    assert_string_equal(a.path, "/tmp/x.sock");
    const char *bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                         "host:12ab", "::1:2020", "[::1]2020", "[::1", "unix:", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        assert_int_equal(http_addr_parse(bad[i], &a, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(http_addr_parse(longpath, &a, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get), cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_malformed),  cmocka_unit_test(test_random_bytes_never_crash),
        cmocka_unit_test(test_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
