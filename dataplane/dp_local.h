/* The dataplane's own answers (dp_local.c): ARP and Neighbour Advertisements for the HA. */
#ifndef DP_LOCAL_H
#define DP_LOCAL_H

#include "dp_ctx.h"

/** Control thread: answer what the workers put on the local ring. @return packets taken. */
unsigned dp_local_answer(struct dp_ctx *ctx, struct dp_stats *st);

#endif
