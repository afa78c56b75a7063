/* The dataplane's control thread work (dp_ctl.c): commands in, acks out, control-plane tx. */
#ifndef DP_CTL_H
#define DP_CTL_H

#include "dp_ctx.h"

/* Signalling waiting for room in a port's control tx queue (a peer or NIC that does not drain
 * for a moment): sent first, in order, before anything newer; dropped as drop-tx-full when the
 * queue has not moved for DP_CTL_TX_HOLD_MS or the holding area is full. */
#define DP_CTL_TX_HOLD_MAX 8192
#define DP_CTL_TX_HOLD_MS 500

struct dp_ctl_held {
	struct rte_mbuf *m[DP_CTL_TX_HOLD_MAX];
	unsigned n;
	uint64_t stuck_since;   /* TSC of the last send that left packets behind */
};

struct dp_ctl {
	uint32_t sync_generation;
	bool syncing;
	uint64_t commands, command_errors, acks_lost, swept;
	struct dp_ctl_held held[DP_PORT__COUNT];
};

/** Apply the commands waiting on the cmd ring; one ack each. @return commands applied. */
unsigned dp_ctl_commands(struct dp_ctx *ctx, struct dp_ctl *ctl, struct dp_stats *st);

/** Send what the control plane put on the tx ring (IPv6 packets; RFC 5555 UDP wrapping when
 *  the metadata asks), after what is held from before. Never waits. Counted in st.
 *  @return packets taken from the ring plus held ones sent (0: nothing was to do). */
unsigned dp_ctl_transmit(struct dp_ctx *ctx, struct dp_ctl *ctl, struct dp_stats *st);
/** At shutdown: what is still held is dropped (drop-tx-full). */
void dp_ctl_release(struct dp_ctl *ctl, struct dp_stats *st);

#endif
