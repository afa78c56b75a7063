/* The workers' packet processing (dp_fastpath.c). */
#ifndef DP_FASTPATH_H
#define DP_FASTPATH_H

#include <stdbool.h>

#include "dp_ctx.h"

/* What one burst may send on a port: a packet each, and the fragments of the downlink's IPv4
 * packets that their tunnel cannot carry whole. */
#define DP_OUT_MAX (2 * DP_BURST)

struct txq {
	uint16_t n;
	struct rte_mbuf *pkts[DP_OUT_MAX];
};

/* Packets a burst sends, per egress port; the caller transmits them. */
struct dp_tx_out {
	struct txq q[DP_PORT__COUNT];
};

/**
 * Process one received burst (n <= DP_BURST) from the access (uplink) or core (downlink) port.
 * Ownership: every packet is consumed: queued in out for transmission, enqueued on the punt
 * ring, or freed by dp_drop() with its reason counted.
 */
void dp_process_burst(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf **pkts,
		      uint16_t n, bool from_access, struct dp_tx_out *out);

#endif
