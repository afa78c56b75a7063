/*
 * Per-lcore counters (dp_counters.def), decode errors by ha_err and punts by reason. Each lcore
 * writes only its own block (no atomics); readers sum all blocks and may see a value a burst old.
 */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>

#include "ha_errors.h"
#include "ha_ring.h"

enum dp_counter {
#define X(e, n) e,
#include "dp_counters.def"
#undef X
	DP_C__COUNT
};

#define DP_CPP_HIST 4096

struct dp_stats {
	uint64_t c[DP_C__COUNT];
	uint64_t decode_err[HA_ERR__COUNT]; /* why DP_D_MALFORMED packets were malformed */
	uint64_t punt[HA_PUNT__COUNT];
	uint64_t esp_err[32];               /* why DP_D_ESP packets were dropped (dp_esp_errors) */
	/* full bursts by work cycles per packet: the median is hadp's own cost, robust to the
	 * bursts a hypervisor or another process interrupted (the mean is work-cycles over
	 * work-packets) */
	uint32_t burst_cpp[DP_CPP_HIST];
	/* the control thread's BAs (and other signalling it sends) by the cycles per packet of each
	 * turn that handled them (took them from the tx ring, or sent them from the hold),
	 * DP_CTL_CPP_STEP cycles a bucket: the median BA's cost, robust to the turns in which the
	 * thread was preempted (the mean is control-tx-cycles over control-plane-sent) */
	uint32_t ctl_cpp[DP_CPP_HIST];
} __rte_cache_aligned;

#define DP_CTL_CPP_STEP 8

/* Count one burst's work: cycles spent on n packets. */
static inline void dp_stats_burst(struct dp_stats *s, uint64_t cycles, unsigned n, unsigned full)
{
	s->c[DP_C_WORK_CYCLES] += cycles;
	s->c[DP_C_WORK_PACKETS] += n;
	if (n == full)
		s->burst_cpp[RTE_MIN(cycles / n, (uint64_t)DP_CPP_HIST - 1)]++;
}

/* Count one control thread turn's transmit work: cycles spent to send n packets (n > 0). */
static inline void dp_stats_ctl_turn(struct dp_stats *s, uint64_t cycles, unsigned n)
{
	s->c[DP_C_CTL_TX_CYCLES] += cycles;
	s->ctl_cpp[RTE_MIN(cycles / n / DP_CTL_CPP_STEP, (uint64_t)DP_CPP_HIST - 1)] += n;
}

const char *dp_counter_name(enum dp_counter c);

/* Sum of every lcore's block (the main lcore's included). */
void dp_stats_sum(const struct dp_stats *blocks, unsigned n, struct dp_stats *out);

/* What a run reports beside the counters. */
struct dp_run_info {
	uint64_t mbufs_in_use;   /* after shutdown: anything but 0 is a leak */
	uint32_t bindings;
	uint32_t max_bindings;
	uint64_t table_bytes;    /* hugepage memory the binding table took, sized for max_bindings */
	uint64_t tsc_hz;
	double seconds;          /* from the workers' launch to their stop */
};

/* Write the sums as one JSON object (the --stats-file; tests and benchmarks read it). */
void dp_stats_write_json(FILE *f, const struct dp_stats *sum, const struct dp_run_info *run);

#endif
