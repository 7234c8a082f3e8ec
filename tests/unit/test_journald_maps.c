/* Unit tests: which mappings are journal files, and giving up their pages
 * (journald_maps.h): a real file mapping, its Rss read from smaps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collector/inputs/journald/journald_maps.h"
#include "temp_dir.h"

static void test_journal_lines_are_recognised(void **state)
{
    (void)state;
    uintptr_t a = 0, b = 0;
    assert_int_equal(jd_maps_journal_range("7f0000000000-7f0000800000 r--s 00000000 fe:01 1234      "
                                           "/var/log/journal/abc/system.journal\n", &a, &b), 1);
    assert_true(a == 0x7f0000000000u && b == 0x7f0000800000u);
    static const struct {
        const char *line;
        int journal;
    } cases[] = {
        {"7f0000000000-7f0000001000 r--s 00000000 fe:01 1 /var/log/journal/a/s@01-02.journal~", 1},
        {"7f0000000000-7f0000001000 r--s 00000000 fe:01 1 /run/log/journal/a/u.journal~ (deleted)\n", 1},
        /* not journal files */
        {"7f0000000000-7f0000001000 r-xp 00000000 fe:01 9 /usr/lib/x86_64-linux-gnu/libsystemd.so.0\n", 0},
        {"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n", 0},
        {"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n", 0},
        {"7f0000000000-7f0000001000 r--s 00000000 fe:01 1 /tmp/x.journal.bak\n", 0},
        /* private or writable mappings are never given up */
        {"7f0000000000-7f0000001000 rw-p 00000000 fe:01 1 /var/log/journal/a/system.journal\n", 0},
        {"7f0000000000-7f0000001000 r--p 00000000 fe:01 1 /var/log/journal/a/system.journal\n", 0},
        {"7f0000000000-7f0000001000 rw-s 00000000 fe:01 1 /var/log/journal/a/system.journal\n", 0},
        {"garbage", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (jd_maps_journal_range(cases[i].line, &a, &b) != cases[i].journal)
            fail_msg("case %zu: %s", i, cases[i].line);
}

/* Rss in KiB of the mapping that starts at addr, from /proc/self/smaps. */
static long rss_kib_at(const void *addr)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    assert_non_null(f);
    char line[4352];
    long rss = -1;
    int in = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long from, to;
        if (sscanf(line, "%lx-%lx ", &from, &to) == 2)
            in = from == (unsigned long)(uintptr_t)addr; /* a mapping's first line */
        else if (in && strncmp(line, "Rss:", 4) == 0) {
            rss = atol(line + 4);
            break;
        }
    }
    fclose(f);
    return rss;
}

static void *map_file(const char *dir, const char *name, size_t len, int *fd)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(*fd >= 0);
    char *block = malloc(len);
    memset(block, 'j', len);
    assert_int_equal(write(*fd, block, len), (ssize_t)len);
    free(block);
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, *fd, 0);
    assert_true(p != MAP_FAILED);
    volatile const char *c = p;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i += 4096)
        sum += (unsigned)c[i]; /* resident now */
    assert_int_equal(sum, (unsigned)'j' * (unsigned)(len / 4096));
    return p;
}

static void test_release_gives_up_journal_pages_only(void **state)
{
    (void)state;
    char dir[128];
    assert_int_equal(temp_dir_make(dir, sizeof dir, "test_journald_maps"), 0);
    enum { LEN = 1 << 20 };
    int jfd, ofd;
    const char *journal = map_file(dir, "system.journal", LEN, &jfd);
    const char *other = map_file(dir, "other.log", LEN, &ofd);
    assert_int_equal(rss_kib_at(journal), LEN / 1024);
    assert_int_equal(rss_kib_at(other), LEN / 1024);
    assert_true(jd_maps_release() >= LEN);
    assert_int_equal(rss_kib_at(journal), 0);
    assert_int_equal(rss_kib_at(other), LEN / 1024);
    /* still mapped, and read again from the file */
    assert_int_equal(journal[LEN - 1], 'j');
    long back = rss_kib_at(journal);
    assert_true(back > 0 && back < LEN / 1024 / 4); /* the page read (and the kernel's fault-around) */
    munmap((void *)journal, LEN);
    munmap((void *)other, LEN);
    close(jfd);
    close(ofd);
    assert_int_equal(temp_dir_remove(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_lines_are_recognised),
        cmocka_unit_test(test_release_gives_up_journal_pages_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
