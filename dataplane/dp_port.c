/*
 * The ports' queues: the plan (how many), the assignment (who polls and who sends where) and
 * the device's configuration and start.
 *
 * Devices differ in ways a plan must respect, and virtual ones are how hadp runs in VMs and
 * labs: net_tap needs as many RX as TX queues; net_af_packet and net_pcap make their queues
 * when they are created (qpairs=N, one per rx stream) and the kernel spreads packets over all
 * of them, so each must be polled; a NIC spreads by RSS over as many as it is given.
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eth_bond.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "dp_ctx.h"
#include "dp_port.h"

#define RX_DESC 1024
#define TX_DESC 1024

/* Drivers whose RX queues were made with the device, each one fed by the kernel or a file. */
static const char *const rx_fixed_drivers[] = {
	"net_af_packet", "net_pcap", "net_af_xdp", "net_ring", "net_vhost",
};
/* Drivers that refuse unequal RX and TX queue counts (an unknown one is retried equal). */
static const char *const equal_drivers[] = { "net_tap" };

static bool named(const char *driver, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (driver && !strcmp(driver, list[i]))
			return true;
	return false;
}

static void caps_of(const struct rte_eth_dev_info *info, struct dp_port_caps *c)
{
	*c = (struct dp_port_caps){
		.max_rx = info->max_rx_queues,
		.max_tx = info->max_tx_queues,
		.rx_fixed = named(info->driver_name, rx_fixed_drivers, RTE_DIM(rx_fixed_drivers)),
		.equal = named(info->driver_name, equal_drivers, RTE_DIM(equal_drivers)),
	};
}

/* A bond configures its members with its own queue counts: what it may have is what every
 * member allows, and a member's needs are the bond's. */
static int port_caps(uint16_t port_id, const struct rte_eth_dev_info *info,
		     struct dp_port_caps *c)
{
	caps_of(info, c);
	if (!info->driver_name || strcmp(info->driver_name, "net_bonding"))
		return 0;
	uint16_t members[RTE_MAX_ETHPORTS];
	int n = rte_eth_bond_slaves_get(port_id, members, RTE_DIM(members));
	if (n == 0) {
		/* the members its devargs name join at its first configuration */
		struct rte_eth_conf conf = { 0 };
		if (rte_eth_dev_configure(port_id, 1, 1, &conf) == 0)
			n = rte_eth_bond_slaves_get(port_id, members, RTE_DIM(members));
	}
	if (n <= 0) {
		RTE_LOG(ERR, USER1, "hadp: bonded port %u has no member port\n", port_id);
		return -ENODEV;
	}
	for (int i = 0; i < n; i++) {
		struct rte_eth_dev_info mi;
		struct dp_port_caps m;
		int rc = rte_eth_dev_info_get(members[i], &mi);
		if (rc)
			return rc;
		caps_of(&mi, &m);
		c->max_rx = RTE_MIN(c->max_rx, m.max_rx);
		c->max_tx = RTE_MIN(c->max_tx, m.max_tx);
		c->rx_fixed |= m.rx_fixed;
		c->equal |= m.equal;
	}
	return 0;
}

int dp_port_plan(const struct dp_port_caps *c, unsigned workers, unsigned want_rx,
		 unsigned want_tx, struct dp_queue_plan *plan, char *err, size_t errsz)
{
	unsigned rx, tx;

	if (want_rx > c->max_rx) {
		snprintf(err, errsz, "rx_queues is %u, the device has at most %u", want_rx, c->max_rx);
		return -1;
	}
	if (want_tx > c->max_tx) {
		snprintf(err, errsz, "tx_queues is %u, the device has at most %u", want_tx, c->max_tx);
		return -1;
	}
	if (want_rx && c->rx_fixed && want_rx < c->max_rx) {
		snprintf(err, errsz, "rx_queues is %u, but the device was made with %u RX queues and "
			 "receives on every one: leave rx_queues out or make the device with fewer",
			 want_rx, c->max_rx);
		return -1;
	}
	rx = want_rx ? want_rx : c->rx_fixed ? c->max_rx : RTE_MIN(workers, (unsigned)c->max_rx);
	tx = want_tx ? want_tx : RTE_MIN(workers + 1, (unsigned)c->max_tx);
	if (c->equal && rx != tx) {
		if (want_rx && want_tx) {
			snprintf(err, errsz, "the device needs as many RX as TX queues, "
				 "rx_queues is %u and tx_queues %u", want_rx, want_tx);
			return -1;
		}
		/* the one given wins; otherwise the larger, so that every thread keeps its TX queue
		 * and the extra RX queues are polled too */
		unsigned both = want_rx ? rx : want_tx ? tx : RTE_MAX(rx, tx);
		both = RTE_MIN(both, (unsigned)RTE_MIN(c->max_rx, c->max_tx));
		if (c->rx_fixed && both < c->max_rx) {
			snprintf(err, errsz, "the device needs as many RX as TX queues and has %u RX "
				 "queues but at most %u TX queues", c->max_rx, c->max_tx);
			return -1;
		}
		rx = tx = both;
	}
	if (!rx || !tx) {
		snprintf(err, errsz, "the device has no %s queue", rx ? "TX" : "RX");
		return -1;
	}
	plan->n_rxq = (uint16_t)rx;
	plan->n_txq = (uint16_t)tx;
	return 0;
}

uint16_t dp_txq_of(unsigned t, unsigned workers, unsigned n_txq, bool *shared)
{
	if (n_txq > workers) {
		/* enough for everyone: worker i on queue i, the control thread on the last */
		*shared = false;
		return (uint16_t)(t < workers ? t : n_txq - 1);
	}
	/* too few: workers round robin, the control thread beside whoever has the last queue */
	uint16_t q = (uint16_t)(t < workers ? t % n_txq : n_txq - 1);
	unsigned users = t < workers ? 0 : 1;
	for (unsigned w = 0; w < workers; w++)
		users += w % n_txq == q;
	*shared = users + (q == n_txq - 1 && t < workers) > 1;
	return q;
}

static int configure(const struct dp_port *p, const struct dp_queue_plan *plan,
		     const struct rte_eth_dev_info *info)
{
	struct rte_eth_conf conf = { 0 };

	if (plan->n_rxq > 1 && info->flow_type_rss_offloads) {
		/* hashed on the IP addresses: the downlink spreads by (PDN host, home address),
		 * the tunnelled uplink by the outer (care-of address, HA address), so one UE's
		 * uplink stays on one queue and UEs behind one NAT share it */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info->flow_type_rss_offloads;
	}
	return rte_eth_dev_configure(p->port_id, plan->n_rxq, plan->n_txq, &conf);
}

int dp_port_init(struct dp_ctx *ctx, enum dp_port_role role, const struct ha_config_port *pc)
{
	struct dp_port *p = &ctx->ports[role];
	struct rte_eth_dev_info info;
	struct dp_queue_plan plan;
	char err[256];
	int rc;

	if (rte_eth_dev_get_port_by_name(pc->device, &p->port_id) != 0) {
		RTE_LOG(ERR, USER1, "hadp: port %s not found\n", pc->device);
		return -ENODEV;
	}
	if ((rc = rte_eth_dev_info_get(p->port_id, &info)) != 0)
		return rc;
	struct dp_port_caps caps;
	if ((rc = port_caps(p->port_id, &info, &caps)) != 0)
		return rc;
	if (dp_port_plan(&caps, ctx->n_workers, pc->rx_queues, pc->tx_queues, &plan, err,
			 sizeof(err)) < 0) {
		RTE_LOG(ERR, USER1, "hadp: dataplane.ports.%s (%s, %s): %s\n",
			role == DP_PORT_ACCESS ? "access" : "core", pc->device, info.driver_name, err);
		return -EINVAL;
	}
	rc = configure(p, &plan, &info);
	if (rc == -EINVAL && plan.n_rxq != plan.n_txq && !caps.equal) {
		/* a driver that wants the counts equal without our knowing it: try again so */
		caps.equal = true;
		if (dp_port_plan(&caps, ctx->n_workers, pc->rx_queues, pc->tx_queues, &plan, err,
				 sizeof(err)) == 0) {
			RTE_LOG(WARNING, USER1, "hadp: %s refused unequal queue counts; %u of each\n",
				pc->device, plan.n_rxq);
			rc = configure(p, &plan, &info);
		}
	}
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "hadp: %s: configuring %u RX and %u TX queues: %s\n", pc->device,
			plan.n_rxq, plan.n_txq, rte_strerror(-rc));
		return rc;
	}
	p->n_rxq = plan.n_rxq;
	p->n_txq = plan.n_txq;
	int socket = rte_eth_dev_socket_id(p->port_id);
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		/* some drivers (net_tap, NICs) fill a queue's descriptors with mbufs at once: say
		 * so before the driver fails (net_tap then crashed hadp in EAL's cleanup) */
		unsigned avail = rte_mempool_avail_count(ctx->pool);
		if (avail < RX_DESC) {
			RTE_LOG(ERR, USER1, "hadp: %s: RX queue %u needs %u mbufs, %u are left of "
				"dataplane.mempool.mbufs (%u): raise it (%u RX queues of %u "
				"descriptors on this port)\n", pc->device, q, RX_DESC, avail,
				ctx->cfg->dataplane.mbufs, p->n_rxq, RX_DESC);
			p->configured = true; /* its queues so far are sound: closed at exit */
			return -ENOBUFS;
		}
		if ((rc = rte_eth_rx_queue_setup(p->port_id, q, RX_DESC, socket, NULL, ctx->pool)))
			return rc;
	}
	for (uint16_t q = 0; q < p->n_txq; q++)
		if ((rc = rte_eth_tx_queue_setup(p->port_id, q, TX_DESC, socket, NULL)))
			return rc;
	p->configured = true;
	for (unsigned q = 0; q < RTE_DIM(p->txq_lock); q++)
		rte_spinlock_init(&p->txq_lock[q]);
	p->lacp = info.driver_name && !strcmp(info.driver_name, "net_bonding");
	if ((rc = rte_eth_macaddr_get(p->port_id, &p->mac)) != 0)
		return rc;
	/* hadp enforces the MTU itself (the downlink's Packet Too Big); the device is told when its
	 * driver takes it, so that it also receives frames that large */
	/* a driver without an MTU (virtual devices: -ENOTSUP) carries what the link does, the
	 * configured value; one that refuses it (beyond the NIC's maximum) keeps its own, which
	 * then is the limit */
	p->mtu = pc->mtu;
	uint16_t dev_mtu;
	if ((rc = rte_eth_dev_set_mtu(p->port_id, pc->mtu)) != 0 && rc != -ENOTSUP &&
	    rte_eth_dev_get_mtu(p->port_id, &dev_mtu) == 0 && dev_mtu < pc->mtu) {
		RTE_LOG(WARNING, USER1, "hadp: %s keeps its MTU of %u (%s), not %u: hadp sends at "
			"most %u\n", pc->device, dev_mtu, rte_strerror(-rc), pc->mtu, dev_mtu);
		p->mtu = dev_mtu;
	}
	union dp_next_hop nh = { .word = 0 };
	memcpy(nh.mac.addr_bytes, pc->next_hop_mac, 6);
	/* a router given by address has no MAC until dp_neigh resolves it */
	nh.octet[DP_NH_VALID_OCTET] = !pc->has_next_hop;
	nh.octet[DP_NH_ROUTE_OCTET] = 1;
	p->next_hop_word = nh.word;
	rte_eth_promiscuous_enable(p->port_id); /* not every device has it; not needed then */
	if ((rc = rte_eth_dev_start(p->port_id)) == 0)
		p->started = true;
	return rc;
}

static struct dp_txq txq_for(struct dp_port *p, unsigned t, unsigned workers)
{
	bool shared;
	uint16_t q = dp_txq_of(t, workers, p->n_txq, &shared);
	return (struct dp_txq){ .queue = q, .lock = shared ? &p->txq_lock[q] : NULL };
}

void dp_port_assign(struct dp_ctx *ctx)
{
	static const char *const role_name[] = { "access", "core" };
	unsigned next = 0;

	for (unsigned w = 0; w < ctx->n_workers; w++)
		ctx->workers[w].n_rxq = 0;
	/* both ports' queues dealt in turn, so that a worker has some of each where it can */
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		for (uint16_t q = 0; q < ctx->ports[r].n_rxq; q++) {
			struct dp_worker *w = &ctx->workers[next++ % ctx->n_workers];
			w->rxq[w->n_rxq++] = (struct dp_rxq){
				.port_id = ctx->ports[r].port_id, .queue = q, .role = (uint8_t)r,
			};
		}
	}
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		struct dp_port *p = &ctx->ports[r];
		for (unsigned w = 0; w < ctx->n_workers; w++)
			ctx->workers[w].txq[r] = txq_for(p, w, ctx->n_workers);
		p->ctl_txq = txq_for(p, ctx->n_workers, ctx->n_workers);
		/* with fewer queues than threads the control thread's is always one of the shared */
		RTE_LOG(INFO, USER1, "hadp: %s port %u: %u RX queue(s), %u TX queue(s)%s\n",
			role_name[r], p->port_id, p->n_rxq, p->n_txq,
			p->ctl_txq.lock ? " (fewer than the threads: shared ones are locked)" : "");
	}
	for (unsigned w = 0; w < ctx->n_workers; w++) {
		char list[512];
		int l = 0;
		for (unsigned i = 0; i < ctx->workers[w].n_rxq && l >= 0 && (size_t)l < sizeof(list); i++)
			l += snprintf(list + l, sizeof(list) - (size_t)l, " %s/%u",
				      role_name[ctx->workers[w].rxq[i].role], ctx->workers[w].rxq[i].queue);
		RTE_LOG(INFO, USER1, "hadp: worker %u polls%s\n", w,
			ctx->workers[w].n_rxq ? list : " no queue (it serves its SAs' handoffs)");
	}
}

void dp_port_tick(struct dp_ctx *ctx, uint64_t now)
{
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		struct dp_port *p = &ctx->ports[r];
		if (!p->lacp || now < p->lacp_next)
			continue;
		struct rte_mbuf *none[1];
		dp_tx(p->port_id, &p->ctl_txq, none, 0);
		p->lacp_next = now + rte_get_tsc_hz() / 100;
	}
}
