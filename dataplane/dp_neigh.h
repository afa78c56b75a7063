/*
 * Next-hop resolution for the core side's routes (dataplane.routes[].next_hop, and routes added
 * at run time) and for each port's own router (ports.X.next_hop): the control thread asks on
 * the router's port for its MAC address (ARP, RFC 826; IPv6 neighbour solicitation to the
 * solicited-node address, RFC 4861 7.2.2), every second until it answers and every minute after,
 * and learns it from the answer, or from the router's own requests (RFC 826's merge, RFC 4861
 * 7.2.3's source link-layer address). The MAC goes into the route's next-hop word (dp_route.h),
 * or the port's, which the workers read; until then the packets for it are dropped as
 * drop-next-hop-unresolved. A router's MAC that changes is followed. One entry per router,
 * whatever the number of routes through it; when the routes change, a new table gets the MACs
 * already known before it is published (dp_neigh_adopt). Owner: the control thread.
 */
#ifndef DP_NEIGH_H
#define DP_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "ha_config.h"

struct dp_ctx;
struct dp_stats;

struct dp_route_table;

struct dp_neigh_entry {
	struct ha_cfg_addr ip;      /* the router */
	uint8_t port;               /* enum dp_port_role: where it is asked and heard */
	bool for_port;              /* the port's own next hop (ports.X.next_hop) */
	bool known;
	uint8_t mac[6];             /* when known */
	uint64_t next_ask_tsc;
};

#define DP_NEIGH_MAX (HA_CFG_MAX_ROUTES + 2)

struct dp_neigh {
	unsigned n;
	struct dp_neigh_entry e[DP_NEIGH_MAX];
	bool port_has[2];           /* per enum dp_port_role: the YAML names the port's router */
	struct ha_cfg_addr port_router[2];
};

/** The ports' routers from the YAML; dp_neigh_adopt then makes the entries. */
void dp_neigh_init(struct dp_neigh *nb, const struct ha_config_dataplane *dp);

/** The ports' routers and those of table t's routes (NULL: none): the ones already known keep
 *  their MAC, which goes into t's next-hop words; new ones are asked at the next tick. Before t
 *  is published. @return 0, or -ENOSPC for more than HA_CFG_MAX_ROUTES routers of routes
 *  (nothing changed then). */
int dp_neigh_adopt(struct dp_neigh *nb, struct dp_route_table *t);
/** Ask for what is due. @return requests sent. */
unsigned dp_neigh_tick(struct dp_ctx *ctx, struct dp_stats *st);
/** An ARP packet or ICMPv6 neighbour discovery message from port role: learn from it.
 *  @return true when it was only an answer for us (the caller frees it). */
bool dp_neigh_learn(struct dp_ctx *ctx, struct dp_stats *st, const struct rte_mbuf *m,
		    unsigned role);

#endif
