/* floor FILE [read|plain|gzip]...: the unavoidable work of shipping FILE's lines to CloudWatch
 * Logs, and nothing else, so the benchmarks can say how far the agent is
 * from it. One thread; prints CPU seconds per GB of FILE for three floors:
 *
 *   read      read the file, split it into lines (the tail -> null floor)
 *   plain     + JSON-escape the lines into PutLogEvents bodies (10,000
 *               events or 1 MiB), SHA-256 of each body (SigV4 signs its
 *               hash), AES-128-GCM of the body as TLS would
 *   gzip      the same with the body gzipped (the agent's encoder, level 1)
 *               before SHA-256 and AES-GCM
 *
 * Output: one line per floor, "floor NAME X.XX CPU-s/GB (Y MB/s)". */
#include "collector/core/gzip.h"
#include "collector/core/util.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX (1u << 20)
#define EVENTS_MAX 10000

enum floor_kind { FLOOR_READ, FLOOR_PLAIN, FLOOR_GZIP };

struct shipper {
    enum floor_kind kind;
    struct buf body, gz;
    int events;
    struct gzip_encoder *gzip;
    EVP_CIPHER_CTX *aes;
    unsigned char key[16], iv[12], out[BODY_MAX + 64 * 1024], digest[32], sink;
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Hash, (gzip,) encrypt the body as a TLS record layer would, start anew. */
static void ship(struct shipper *s)
{
    if (!s->events)
        return;
    buf_append_str(&s->body, "]}");
    const struct buf *wire = &s->body;
    if (s->kind == FLOOR_GZIP) {
        if (gzip_encode(s->gzip, s->body.data, s->body.len, &s->gz) < 0)
            exit(1);
        wire = &s->gz;
    }
    unsigned int dlen;
    EVP_Digest(wire->data, wire->len, s->digest, &dlen, EVP_sha256(), NULL);
    /* TLS 1.3 records carry at most 16 KiB each, every one with its own tag */
    for (size_t off = 0; off < wire->len; off += 16384) {
        size_t n = wire->len - off < 16384 ? wire->len - off : 16384;
        int outl;
        s->iv[11]++;
        EVP_EncryptInit_ex(s->aes, NULL, NULL, NULL, s->iv);
        EVP_EncryptUpdate(s->aes, s->out, &outl, (const unsigned char *)wire->data + off, (int)n);
        EVP_EncryptFinal_ex(s->aes, s->out + outl, &outl);
        unsigned char tag[16];
        EVP_CIPHER_CTX_ctrl(s->aes, EVP_CTRL_GCM_GET_TAG, 16, tag);
        s->sink ^= tag[0];
    }
    s->sink ^= s->digest[0];
    buf_reset(&s->body);
    s->events = 0;
}

static void add_line(struct shipper *s, const char *line, size_t len)
{
    if (s->kind == FLOOR_READ) {
        s->sink ^= (unsigned char)len;
        return;
    }
    if (s->events == EVENTS_MAX || s->body.len + len + 64 > BODY_MAX)
        ship(s);
    buf_append_str(&s->body, s->events ? ",{\"timestamp\":1700000000000,\"message\":\""
                                       : "{\"logGroupName\":\"/bench\",\"logStreamName\":\"big.log\","
                                         "\"logEvents\":[{\"timestamp\":1700000000000,\"message\":\"");
    buf_append_json_escaped(&s->body, line, len);
    buf_append_str(&s->body, "\"}");
    s->events++;
}

static double run(const char *path, enum floor_kind kind, size_t *total)
{
    struct shipper *s = xcalloc(1, sizeof *s);
    s->kind = kind;
    buf_init(&s->body);
    buf_init(&s->gz);
    s->gzip = gzip_encoder_new(1);
    s->aes = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(s->aes, EVP_aes_128_gcm(), NULL, s->key, s->iv);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 20, have = 0;
    char *block = xmalloc(cap);
    double t0 = cpu_now();
    *total = 0;
    ssize_t n;
    while ((n = read(fd, block + have, cap - have)) > 0) {
        *total += (size_t)n;
        have += (size_t)n;
        char *p = block, *end = block + have, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            add_line(s, p, (size_t)(nl - p));
            p = nl + 1;
        }
        have = (size_t)(end - p);
        memmove(block, p, have);
    }
    if (have)
        add_line(s, block, have);
    if (kind != FLOOR_READ)
        ship(s);
    double cpu = cpu_now() - t0;
    close(fd);
    free(block);
    buf_free(&s->body);
    buf_free(&s->gz);
    gzip_encoder_free(s->gzip);
    EVP_CIPHER_CTX_free(s->aes);
    if (s->sink == 0x5a)
        fputc('\n', stderr); /* keeps the work from being optimised away */
    free(s);
    return cpu;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: floor FILE [read|plain|gzip]...\n");
        return 2;
    }
    static const char *const names[] = {"read", "plain", "gzip"};
    for (int k = FLOOR_READ; k <= FLOOR_GZIP; k++) {
        int wanted = argc == 2;
        for (int i = 2; i < argc; i++)
            wanted |= strcmp(argv[i], names[k]) == 0;
        if (!wanted)
            continue;
        size_t total;
        double cpu = run(argv[1], (enum floor_kind)k, &total);
        double gb = (double)total / 1e9;
        printf("floor %s %.2f CPU-s/GB (%.0f MB/s)\n", names[k], cpu / gb,
               (double)total / 1e6 / cpu);
    }
    return 0;
}
