/*
 * hadp's two ports: how many RX and TX queues each gets, which worker polls which RX queue,
 * which TX queue each thread sends on (locked only where threads share one), and the
 * device's start.
 *
 * Owner: main() plans and starts the ports before the workers run; afterwards the plan is read
 * only. A worker polls the (port, queue) pairs of its list and sends on its own TX queue of
 * each port; the control thread sends on its own (dp_port.ctl_txq).
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_spinlock.h>

#include "ha_config.h"

enum dp_port_role { DP_PORT_ACCESS, DP_PORT_CORE, DP_PORT__COUNT };

/* What a device allows and how it receives, as far as the plan needs it. */
struct dp_port_caps {
	uint16_t max_rx, max_tx;
	bool rx_fixed;   /* its RX queues were made with it (af_packet's qpairs, pcap's streams)
			  * and packets arrive on every one: all must be polled */
	bool equal;      /* it needs as many RX as TX queues (net_tap) */
};

struct dp_queue_plan {
	uint16_t n_rxq, n_txq;
};

/**
 * The queue counts for a port: rx_queues and tx_queues from the configuration (0: choose),
 * within what the device has. Chosen: one RX queue per worker (every one a fixed device has),
 * one TX queue per worker and one for the control thread, as many as the device has; equal
 * counts where the device needs them. @return 0, or -1 with a message in err (the
 * configuration asks for what the device cannot do).
 */
int dp_port_plan(const struct dp_port_caps *caps, unsigned workers, unsigned want_rx,
		 unsigned want_tx, struct dp_queue_plan *plan, char *err, size_t errsz);

/* A TX queue and, where threads share it, its lock. */
struct dp_txq {
	uint16_t queue;
	rte_spinlock_t *lock;        /* NULL: this thread's own */
};

/* One RX queue a worker polls. */
struct dp_rxq {
	uint16_t port_id;
	uint16_t queue;
	uint8_t role;                /* enum dp_port_role */
};

/* Which TX queue of n_txq thread t uses: workers 0..workers-1, then the control thread
 * (t == workers), which takes the last queue. @return the queue; *shared whether another
 * thread sends on it too. */
uint16_t dp_txq_of(unsigned t, unsigned workers, unsigned n_txq, bool *shared);

/* Send on a TX queue, under its lock if it is shared. */
static inline uint16_t dp_tx(uint16_t port_id, const struct dp_txq *t, struct rte_mbuf **m,
			     uint16_t n)
{
	if (!t->lock)
		return rte_eth_tx_burst(port_id, t->queue, m, n);
	rte_spinlock_lock(t->lock);
	uint16_t k = rte_eth_tx_burst(port_id, t->queue, m, n);
	rte_spinlock_unlock(t->lock);
	return k;
}

struct dp_ctx;

/* Plan, configure and start one port from its configuration. @return 0 or a negative errno. */
int dp_port_init(struct dp_ctx *ctx, enum dp_port_role role, const struct ha_config_port *pc);

/* Give every worker its RX queues (round robin over both ports' queues) and every thread its
 * TX queue on each port; logs the layout. After both ports are initialised and the workers
 * numbered. */
void dp_port_assign(struct dp_ctx *ctx);

/* The control thread's periodic duty for the ports: a bonded port in LACP mode (802.3ad)
 * sends its LACPDUs only from inside a transmit call, so one is made every 10 ms even when
 * there is nothing to send. */
void dp_port_tick(struct dp_ctx *ctx, uint64_t now);

#endif
