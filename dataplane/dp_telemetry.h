/* DPDK telemetry commands under /hadp/ (dpdk-telemetry.py works against hadp). */
#ifndef DP_TELEMETRY_H
#define DP_TELEMETRY_H

#include "dp_ctx.h"

/** Register the commands; they read ctx (sums of per-lcore counters, table and ring fill). */
int dp_telemetry_init(struct dp_ctx *ctx);

#endif
