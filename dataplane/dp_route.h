/*
 * Core-side routes (dataplane.routes): the next hop of what the core port sends, by the longest
 * prefix of its destination (rte_lpm, rte_lpm6). Built by main() from the YAML before the workers
 * start; without routes, the core port's next_hop_mac is used. A route's next hop is a MAC from
 * the YAML, or the MAC the control thread resolves for a next-hop address (dp_neigh.h), which it
 * writes as one 64-bit word while the workers read it.
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

/* A next hop's MAC in octets 0-5 of word (memory order), octet 6 non-zero once the MAC is
 * known, octet 7 non-zero always (a route: the word is never 0, which means "no route"). */
union dp_next_hop {
	struct rte_ether_addr mac;
	uint8_t octet[8];
	uint64_t word;
};

#define DP_NH_VALID_OCTET 6
#define DP_NH_ROUTE_OCTET 7
static inline bool dp_nh_valid(uint64_t word)
{
	return ((const uint8_t *)&word)[DP_NH_VALID_OCTET] != 0;
}

struct dp_routes {
	unsigned n;                 /* 0: no routing, the port's next hop for everything */
	struct rte_lpm *v4;
	struct rte_lpm6 *v6;
	union dp_next_hop next_hop[HA_CFG_MAX_ROUTES];
};

/** 0 or -errno. */
int dp_routes_create(struct dp_routes *r, const struct ha_config_dataplane *dp, int socket_id);
void dp_routes_free(struct dp_routes *r);

/** Workers: the next hop of a destination (union dp_next_hop's word; see dp_nh_valid), 0 when
 *  no route covers it. */
static inline uint64_t dp_route6(const struct dp_routes *r, const uint8_t *dst)
{
	uint32_t nh;
	return r->v6 && rte_lpm6_lookup(r->v6, dst, &nh) == 0
		? __atomic_load_n(&r->next_hop[nh].word, __ATOMIC_RELAXED) : 0;
}

static inline uint64_t dp_route4(const struct dp_routes *r, uint32_t dst_be)
{
	uint32_t nh;
	return r->v4 && rte_lpm_lookup(r->v4, rte_be_to_cpu_32(dst_be), &nh) == 0
		? __atomic_load_n(&r->next_hop[nh].word, __ATOMIC_RELAXED) : 0;
}

#endif
