/* The dataplane's control thread work (dp_ctl.c): commands in, acks out, control-plane tx. */
#ifndef DP_CTL_H
#define DP_CTL_H

#include "dp_ctx.h"

struct dp_ctl {
	uint32_t sync_generation;
	bool syncing;
	uint64_t commands, command_errors, acks_lost, swept;
};

/** Apply the commands waiting on the cmd ring; one ack each. @return commands applied. */
unsigned dp_ctl_commands(struct dp_ctx *ctx, struct dp_ctl *ctl);

/** Send what the control plane put on the tx ring (IPv6 packets; RFC 5555 UDP wrapping when
 *  the metadata asks). Counted in st. @return packets taken from the ring. */
unsigned dp_ctl_transmit(struct dp_ctx *ctx, struct dp_stats *st);

#endif
