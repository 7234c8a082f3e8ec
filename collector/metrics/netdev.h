/* Interface counters from /proc/<pid>/net/dev: the counters of the network
 * namespace that process lives in (so a container's own interfaces, without
 * entering its namespace). Pure parser. */
#ifndef COLLECTOR_METRICS_NETDEV_H
#define COLLECTOR_METRICS_NETDEV_H

#include <stdint.h>

struct net_counters {
    uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
    uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
};

/* Called for every interface line (name NUL-terminated). */
typedef void (*netdev_fn)(const char *ifname, const struct net_counters *c, void *arg);

/* Parse the file; fn (may be NULL) sees each interface, and total (may be
 * NULL) receives the sum over every interface but `lo`. Returns the number
 * of interfaces, or -1 if the text is not /proc/net/dev. */
int netdev_parse(const char *text, netdev_fn fn, void *arg, struct net_counters *total);

#endif
