/* summary.txt: one line per question a support engineer asks first, each a
 * verdict (OK / WARN / FAIL, or INFO for plain facts) with its evidence
 * file. The judging functions are pure (text in, numbers out); summary_write
 * (summary_write.c) reads the staged files and writes the page. */
#ifndef COLLECTOR_BUNDLE_SUMMARY_H
#define COLLECTOR_BUNDLE_SUMMARY_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

enum verdict { V_OK, V_WARN, V_FAIL, V_INFO };

const char *verdict_name(enum verdict v);
/* "WARN disk             / is 83% full  [mounts.txt]" */
void verdict_line(struct buf *out, enum verdict v, const char *topic, const char *evidence,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* pct >= fail: FAIL, >= warn: WARN, else OK. */
enum verdict verdict_pct(int pct, int warn, int fail);

/* MemAvailable as a percentage of MemTotal; -1 if absent. */
int meminfo_available_pct(const char *text);
/* Kernel OOM kills in dmesg text ("Killed process"). */
int count_oom_kills(const char *text, size_t len);
/* Sum of "oom_kill N" lines (cgroupv2.events). */
long count_cgroup_oom_kills(const char *text);
/* Error lines of an ECS agent / ecs-init log (level=error|crit, [ERROR],
 * [CRITICAL]) whose timestamp is within window_s before now_s. */
int count_recent_errors(const char *text, size_t len, int64_t now_s, int64_t window_s);
/* The ECS agent's connection to ACS (its control plane) from its log: the
 * last relevant line wins. 1 connected, 0 not, -1 nothing said. */
int acs_connection_state(const char *text, size_t len);
/* "key value..." line of limits.txt: the first number after key; -1 if absent. */
long long limits_value(const char *text, const char *key, int field);

struct bundle;
/* Build summary.txt from the staged files and the entries. */
void summary_write(struct bundle *b);

#endif
