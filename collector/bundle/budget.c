#include "collector/bundle/budget.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t budget_threshold(const uint64_t *sizes, size_t n, uint64_t budget)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += sizes[i];
    if (total <= budget || n == 0)
        return UINT64_MAX;
    uint64_t *s = malloc(n * sizeof *s);
    if (!s)
        return 0;
    for (size_t i = 0; i < n; i++)
        s[i] = sizes[i];
    qsort(s, n, sizeof *s, cmp_u64);
    /* Walk up the sorted sizes: the first k files whole, the rest cut at T. */
    uint64_t whole = 0, t = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t rest = n - k;
        /* all files from k on are cut at T: whole + rest*T <= budget */
        uint64_t cap = (budget - whole) / rest;
        if (cap < s[k]) {
            t = cap;
            break;
        }
        whole += s[k];
        t = s[k];
    }
    free(s);
    return t;
}
