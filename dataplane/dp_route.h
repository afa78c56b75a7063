/*
 * Core-side routes: the next hop of what the core port sends, by the longest prefix of its
 * destination (rte_lpm, rte_lpm6). The YAML's routes (dataplane.routes) are the first table;
 * the control plane adds, replaces and deletes routes at run time (HA_CMD_ROUTE_ADD/DELETE).
 * Without routes, the core port's next_hop_mac is used.
 *
 * A table is never changed in place: the control thread builds the next one beside it, publishes
 * it with one pointer store and frees the old one once every worker has passed a quiescent state
 * (RCU QSBR). Route changes are operator actions, rare next to packets; building a family's lpm
 * table anew clears its 64 MiB first level (tens of milliseconds). The one thing written in a
 * published table is a next hop's MAC, which the control thread resolves for a router's address
 * (dp_neigh.h) and writes as one 64-bit word while the workers read it. Owner: the control
 * thread.
 */
#ifndef DP_ROUTE_H
#define DP_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

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

#define DP_ROUTE_TEXT 128

/* One version of the routes. A route keeps its slot from table to table: slot i's next hop is
 * next_hop[i] (the lpm tables' next-hop id), so a change of one family's routes leaves the other
 * family's lpm table as it is (shared with the next table), and a new next hop for a prefix
 * changes no lpm table at all. */
struct dp_route_table {
	unsigned n;                    /* routes */
	unsigned end;                  /* slots in use are below it */
	struct rte_lpm *v4;
	struct rte_lpm6 *v6;
	bool owns_v4, owns_v6;         /* else the lpm table is the previous table's, shared */
	struct ha_config_route *rule;  /* tables.max_routes slots, prefixes masked to their
	                                  length; family 0: a free slot */
	union dp_next_hop *next_hop;   /* tables.max_routes slots */
};

struct dp_routes {
	struct dp_route_table *cur;    /* what the workers read; NULL: no routes */
	uint32_t max;                  /* tables.max_routes */
	uint32_t built;                /* tables built so far (their lpm names) */
	int socket_id;
	struct rte_rcu_qsbr *qsbr;     /* the workers' */
	rte_spinlock_t show_lock;      /* the telemetry thread's reads against the swap */
};

/** The YAML's routes as the first table. 0 or -errno. */
int dp_routes_create(struct dp_routes *r, const struct ha_config_dataplane *dp, int socket_id,
		     struct rte_rcu_qsbr *qsbr);
void dp_routes_free(struct dp_routes *r);

/** Control thread: the next table, the current one with add put in (replacing a route to the
 *  same prefix) or del taken out (one of them non-NULL). Not published yet; freed with
 *  dp_route_table_free if it is not published.
 *  @return 0, -ENOENT (del: no such route), -ENOSPC (tables.max_routes), -EINVAL, -ENOMEM. */
int dp_routes_build(struct dp_routes *r, const struct ha_config_route *add,
		    const struct ha_config_route *del, struct dp_route_table **out);
/** Control thread: t (NULL when it has no routes) replaces the current table, which is freed
 *  once no worker can be reading it. */
void dp_routes_publish(struct dp_routes *r, struct dp_route_table *t);
void dp_route_table_free(struct dp_route_table *t);

/** Any thread but the workers (telemetry): each route as "PREFIX/LEN via [ROUTER] MAC" (MAC
 *  "unresolved" while a router is asked), at most max. @return the number of routes. */
unsigned dp_routes_show(struct dp_routes *r, char (*text)[DP_ROUTE_TEXT], unsigned max);

/** Workers: the next hop of a destination (union dp_next_hop's word; see dp_nh_valid), 0 when
 *  no route covers it. t is the table read once (dp_routes_current) for the burst or packet. */
static inline const struct dp_route_table *dp_routes_current(const struct dp_routes *r)
{
	return __atomic_load_n(&r->cur, __ATOMIC_ACQUIRE);
}

static inline uint64_t dp_route6(const struct dp_route_table *t, const uint8_t *dst)
{
	uint32_t nh;
	return rte_lpm6_lookup(t->v6, dst, &nh) == 0
		? __atomic_load_n(&t->next_hop[nh].word, __ATOMIC_RELAXED) : 0;
}

static inline uint64_t dp_route4(const struct dp_route_table *t, uint32_t dst_be)
{
	uint32_t nh;
	return rte_lpm_lookup(t->v4, rte_be_to_cpu_32(dst_be), &nh) == 0
		? __atomic_load_n(&t->next_hop[nh].word, __ATOMIC_RELAXED) : 0;
}

#endif
