/*
 * Core-side routes (dataplane.routes): the next hop of what the core port sends, by the longest
 * prefix of its destination (rte_lpm, rte_lpm6). Built by main() from the YAML before the workers
 * start and read-only afterwards; without routes, the core port's next_hop_mac is used.
 */
#ifndef DP_ROUTE_H
#define DP_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include "ha_config.h"

struct dp_routes {
	unsigned n;                 /* 0: no routing, the port's next hop for everything */
	struct rte_lpm *v4;
	struct rte_lpm6 *v6;
	struct rte_ether_addr next_hop[HA_CFG_MAX_ROUTES];
};

/** 0 or -errno. */
int dp_routes_create(struct dp_routes *r, const struct ha_config_dataplane *dp, int socket_id);
void dp_routes_free(struct dp_routes *r);

/** Workers: the next hop's MAC for a destination, NULL when no route covers it. */
static inline const struct rte_ether_addr *dp_route6(const struct dp_routes *r, const uint8_t *dst)
{
	uint32_t nh;
	return r->v6 && rte_lpm6_lookup(r->v6, dst, &nh) == 0 ? &r->next_hop[nh] : NULL;
}

static inline const struct rte_ether_addr *dp_route4(const struct dp_routes *r, uint32_t dst_be)
{
	uint32_t nh;
	return r->v4 && rte_lpm_lookup(r->v4, rte_be_to_cpu_32(dst_be), &nh) == 0 ? &r->next_hop[nh]
										   : NULL;
}

#endif
