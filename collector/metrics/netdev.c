/* /proc/net/dev parser: see netdev.h. */
#include "collector/metrics/netdev.h"

#include <stdlib.h>
#include <string.h>

int netdev_parse(const char *text, netdev_fn fn, void *arg, struct net_counters *total)
{
    if (total)
        memset(total, 0, sizeof *total);
    if (!strstr(text, "Inter-") && !strstr(text, "face"))
        return -1;
    int n = 0;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        const char *colon = strchr(p, ':');
        if (colon && (!nl || colon < nl)) {
            const char *s = p;
            while (*s == ' ')
                s++;
            char name[64];
            size_t len = (size_t)(colon - s);
            if (len >= sizeof name)
                len = sizeof name - 1;
            memcpy(name, s, len);
            name[len] = '\0';
            unsigned long long v[16] = {0};
            char *q = (char *)colon + 1;
            int k;
            for (k = 0; k < 16; k++) {
                char *end;
                v[k] = strtoull(q, &end, 10);
                if (end == q)
                    break;
                q = end;
            }
            if (k == 16) {
                struct net_counters c = {v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11]};
                n++;
                if (fn)
                    fn(name, &c, arg);
                if (total && strcmp(name, "lo") != 0) {
                    total->rx_bytes += c.rx_bytes;
                    total->rx_packets += c.rx_packets;
                    total->rx_errors += c.rx_errors;
                    total->rx_dropped += c.rx_dropped;
                    total->tx_bytes += c.tx_bytes;
                    total->tx_packets += c.tx_packets;
                    total->tx_errors += c.tx_errors;
                    total->tx_dropped += c.tx_dropped;
                }
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    return n;
}
