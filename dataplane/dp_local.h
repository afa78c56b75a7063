/* The dataplane's own answers (dp_local.c): ARP and Neighbour Advertisements for the HA. */
#ifndef DP_LOCAL_H
#define DP_LOCAL_H

#include "dp_ctx.h"

/** Control thread: answer what the workers put on the local ring. @return packets taken. */
unsigned dp_local_answer(struct dp_ctx *ctx, struct dp_stats *st);

/** The checksum of a 32-octet neighbour discovery message (RFC 4861 with one link-layer
 *  address option) after the IPv6 header ip: RFC 4443 2.3's pseudo-header. */
void dp_nd_checksum(uint8_t *ip);

#endif
