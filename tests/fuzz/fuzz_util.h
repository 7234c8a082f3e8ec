/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c): a
 * NUL-terminated copy of the input, splitting the input into a few
 * parameters, and a private temporary file for parsers that only read
 * files. Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined). */
#ifndef COLLECTOR_TESTS_FUZZ_UTIL_H
#define COLLECTOR_TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of [p, p+n): ASan then checks the parser's result
 * points at memory it may point at. */
static volatile unsigned char fuzz_sink;
static inline void fuzz_touch(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fuzz_sink ^= (unsigned char)p[i];
}

/* data as a C string (owned; an embedded NUL ends it early, as for C callers). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* Splits off the part before the first '\n' (a parameter such as a format
 * or a regex) as a C string (owned); *data / *size move past it. */
static inline char *fuzz_take_line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    char *s = fuzz_cstr(*data, n);
    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
    return s;
}

/* A private directory for this process, created once (owned by the target). */
static inline const char *fuzz_tmpdir(void)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/collector-fuzz-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    return dir;
}

/* Writes data to path (replacing it). 0 or -1. */
static inline int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = size ? fwrite(data, 1, size, f) : 0;
    return fclose(f) == 0 && n == size ? 0 : -1;
}

#endif
