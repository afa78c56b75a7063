/*
 * hacpd's counters for `hactl show stats`, in three forms from the same fields: lines for
 * people, one JSON object, and the OpenMetrics text exposition format (Prometheus; for
 * node_exporter's textfile collector: `ha_` names, counters as NAME_total under a "# TYPE NAME
 * counter" line, gauges, a `pdn` label on the per-PDN ones, "# EOF" at the end). hacpd's own
 * counters only: hadp's are in its DPDK telemetry (docs/dataplane.md).
 * Owner: hacpd's main thread.
 */
#ifndef CP_STATS_H
#define CP_STATS_H

#include <stdio.h>

#include "cp_cli.h"

enum cp_stats_format { CP_STATS_TEXT, CP_STATS_JSON, CP_STATS_OPENMETRICS };

/** The counters in that form, as plain lines (no protocol prefix) to out. */
void cp_stats_write(const struct cp_cli *cli, enum cp_stats_format fmt, FILE *out);

#endif
