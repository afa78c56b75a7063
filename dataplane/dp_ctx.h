/*
 * hadp's process-wide state. Owners:
 *   - main(): creates and frees everything here, before the workers start and after they stop;
 *   - the control thread (main lcore): the only writer of the tables (bindings, SAs), reader of
 *     the cmd and tx rings, writer of the ack ring, and of stats[n_workers];
 *   - worker i: stats[i], the RX queues of its list and its TX queue on each port (locked
 *     where the device has too few to give every thread its own: dp_port.h), its punt policer.
 */
#ifndef DP_CTX_H
#define DP_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_ether.h>

#include "dp_neigh.h"
#include "dp_port.h"
#include "dp_route.h"
#include "dp_seq_ledger.h"
#include "dp_stats.h"
#include "ha_config.h"

/* Packets a worker takes per receive and processes together. 64 (rte_hash's bulk maximum):
 * with 1M bindings the table's misses overlap twice as many lookups (interleaved runs: 1M
 * downlink 148 -> 123, uplink 161 -> 134 median cycles per packet), for 2-5 more at 1k. */
#define DP_BURST 64
#define DP_MAX_WORKERS HA_CFG_MAX_WORKERS

struct dp_port {
	uint16_t port_id;
	uint16_t n_rxq;
	uint16_t n_txq;              /* workers' queues, then the control thread's (dp_port.h) */
	bool started;
	bool configured;             /* its queues set up, but not started (a start-up failure) */
	bool lacp;                   /* a bond in 802.3ad mode: dp_port_tick keeps LACP going */
	uint64_t lacp_next;          /* TSC of its next empty transmit */
	struct dp_txq ctl_txq;       /* the control thread's TX queue */
	rte_spinlock_t txq_lock[HA_CFG_MAX_QUEUES]; /* used only for shared queues */
	uint16_t mtu;                /* the largest IP packet sent on it (ports.X.mtu) */
	struct rte_ether_addr mac;
	/* where the port sends: a union dp_next_hop word (dp_route.h), read whole; written by the
	 * control thread when the port's router is resolved (ports.X.next_hop, dp_neigh.h) */
	uint64_t next_hop_word;
};

/* Token bucket per punt reason, per worker: a flood of one kind cannot starve the others or
 * the control plane. Refilled from the TSC; no shared state. */
struct dp_policer {
	uint64_t last_tsc;
	uint32_t tokens[HA_PUNT__COUNT];
};

struct dp_worker {
	unsigned lcore_id;
	unsigned index;              /* 0..n_workers-1: its RCU, stats and SA-owner number */
	struct dp_stats *stats;
	struct dp_policer policer;
	struct dp_esp_ctx *esp;      /* this lcore's IPsec-MB manager */
	struct rte_ring *handoff;    /* packets of SAs this worker owns, from the other workers */
	struct dp_txq txq[DP_PORT__COUNT];  /* where it sends, per port */
	uint16_t n_rxq;
	struct dp_rxq rxq[DP_PORT__COUNT * HA_CFG_MAX_QUEUES]; /* what it polls, in turn */
} __rte_cache_aligned;

struct dp_ctx {
	const struct ha_config *cfg;
	struct dp_port ports[DP_PORT__COUNT];
	struct rte_mempool *pool;
	struct rte_ring *punt, *tx, *cmd, *ack;
	struct rte_ring *local;      /* workers -> control thread: ARP and ND for the HA itself */
	struct rte_rcu_qsbr *qsbr;
	struct dp_bindings *bindings;
	struct dp_sa_table *sas;
	struct dp_seq_ledger ledger; /* every SA's sequence numbers, in a file that outlives hadp */
	struct dp_routes routes;     /* core side: the YAML's, then the control plane's (dp_route.h) */
	struct dp_neigh neigh;       /* the routes' next-hop addresses (control thread) */
	struct dp_esp_ctx *ctl_esp;  /* the control thread's: signalling SAs */
	unsigned n_workers;
	struct dp_worker workers[DP_MAX_WORKERS];
	struct dp_stats *stats;      /* n_workers + 1 blocks; the last is the control thread's */
	uint32_t punt_rate_pps;      /* per reason per worker */
	uint32_t punt_burst;
	uint32_t ha4;                /* network order, 0 if none */
	uint8_t ha6[16];
	volatile bool quit;
};

/* The one place packets die: counts the reason and frees. */
static inline void dp_drop(struct dp_stats *st, enum dp_counter reason, struct rte_mbuf *m)
{
	st->c[reason]++;
	rte_pktmbuf_free(m);
}

/* The control thread's own packets (answers, requests) out of port p's TX queue for the
 * control thread; what the queue does not take is dropped as tx-full. @return sent. */
static inline uint16_t dp_ctl_send(const struct dp_port *p, struct rte_mbuf **m, unsigned n,
				   struct dp_stats *st)
{
	if (!n)
		return 0;
	uint16_t sent = dp_tx(p->port_id, &p->ctl_txq, m, (uint16_t)n);
	for (unsigned i = sent; i < n; i++)
		dp_drop(st, DP_D_TX_FULL, m[i]);
	return sent;
}

int dp_worker_main(void *arg);   /* lcore entry: struct dp_worker * */

#endif
