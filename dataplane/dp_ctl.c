/*
 * The dataplane's control thread (main lcore): the only writer of the tables. It applies the
 * control plane's commands, answers each on the ack ring, sends what the control plane hands it
 * on the tx ring, and reclaims what the workers can no longer see.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_binding.h"
#include "dp_ctl.h"
#include "dp_esp.h"
#include "dp_sa_table.h"
#include "ha_bytes.h"
#include "ha_pkt.h"

/* A route change: the next table, with the routers' known MACs, then published. */
static int change_route(struct dp_ctx *ctx, struct dp_stats *st,
			const struct ha_route_spec *spec, bool add)
{
	uint64_t t0 = rte_get_tsc_cycles();
	struct ha_config_route rt = { .prefix = { .family = spec->family },
				      .prefix_len = spec->prefix_len };
	if (spec->family != AF_INET && spec->family != AF_INET6)
		return -EINVAL;
	size_t len = spec->family == AF_INET ? 4 : 16;
	memcpy(spec->family == AF_INET ? (void *)&rt.prefix.v4 : (void *)&rt.prefix.v6, spec->prefix,
	       len);
	if (spec->flags & HA_ROUTE_F_ROUTER) {
		rt.has_next_hop = true;
		rt.next_hop.family = spec->family;
		memcpy(spec->family == AF_INET ? (void *)&rt.next_hop.v4 : (void *)&rt.next_hop.v6,
		       spec->router, len);
	} else {
		memcpy(rt.next_hop_mac, spec->mac, 6);
	}
	struct dp_route_table *t;
	int rc = dp_routes_build(&ctx->routes, add ? &rt : NULL, add ? NULL : &rt, &t);
	if (rc)
		return rc;
	rc = dp_neigh_adopt(&ctx->neigh, t);
	if (rc) {
		dp_route_table_free(t);
		return rc;
	}
	dp_routes_publish(&ctx->routes, t);
	uint64_t spent = rte_get_tsc_cycles() - t0;
	st->c[DP_C_ROUTE_CHANGES]++;
	st->c[DP_C_ROUTE_CYCLES] += spent;
	RTE_LOG(INFO, USER1, "hadp: route %s: %u routes in force, table built in %.1f ms\n",
		add ? "added" : "deleted", t ? t->n : 0, (double)spent * 1e3 / (double)rte_get_tsc_hz());
	return 0;
}

static int apply(struct dp_ctx *ctx, struct dp_ctl *ctl, const struct ha_cmd *c,
		 struct ha_cmd_ack *ack, struct dp_stats *st)
{
	if (c->version != HA_RING_VERSION)
		return -EPROTO;
	switch (c->type) {
	case HA_CMD_BINDING_UPSERT: {
		struct dp_sa *out = NULL, *in = NULL;
		if (c->binding.flags & HA_BIND_F_SA) {
			out = dp_sa_table_find(ctx->sas, c->binding.sa_out, HA_SA_OUT);
			in = dp_sa_table_find(ctx->sas, c->binding.sa_in, HA_SA_IN);
			if (!out || !in)
				return -ENOENT;
		}
		return dp_binding_upsert(ctx->bindings, &c->binding, c->generation, out, in);
	}
	case HA_CMD_BINDING_DELETE:
		return dp_binding_delete(ctx->bindings, c->binding.home_prefix,
					 c->binding.home_prefix_len);
	case HA_CMD_SA_ADD: {
		int rc = dp_sa_table_add(ctx->sas, &c->sa, (int)rte_socket_id());
		if (rc == -EEXIST) {
			st->c[DP_C_SA_SPI_TAKEN]++;
			RTE_LOG(WARNING, USER1, "hadp: SA 0x%08x %s refused: an SA of another key holds "
				"its SPI (two peers chose one)\n", c->sa.spi,
				c->sa.direction == HA_SA_IN ? "in" : "out");
		}
		return rc;
	}
	case HA_CMD_SA_DELETE:
		return dp_sa_table_delete(ctx->sas, c->sa_del.spi, c->sa_del.direction);
	case HA_CMD_SA_ENCAP: {
		/* a NAT gave the UE a new mapping (charon's update_sa): the owner lcore reads the
		 * port per packet; one aligned 16-bit store, no grace period needed */
		struct dp_sa *sa = dp_sa_table_find(ctx->sas, c->sa_del.spi, c->sa_del.direction);
		if (!sa)
			return -ENOENT;
		if (sa->mode != HA_SA_TUNNEL || sa->conf.family != AF_INET)
			return -EINVAL; /* port 0: plain ESP again (the NAT went away) */
		__atomic_store_n(&sa->encap_port_be, rte_cpu_to_be_16(c->sa_del.encap_port),
				 __ATOMIC_RELAXED);
		return 0;
	}
	case HA_CMD_SA_QUERY: {
		/* the owner lcore writes these; a 64-bit load sees a whole value */
		const struct dp_sa *sa = dp_sa_table_find(ctx->sas, c->sa_del.spi, c->sa_del.direction);
		if (!sa)
			return -ENOENT;
		ack->packets = __atomic_load_n(&sa->pkts, __ATOMIC_RELAXED);
		ack->bytes = __atomic_load_n(&sa->bytes, __ATOMIC_RELAXED);
		return 0;
	}
	case HA_CMD_ROUTE_ADD:
	case HA_CMD_ROUTE_DELETE:
		return change_route(ctx, st, &c->route, c->type == HA_CMD_ROUTE_ADD);
	case HA_CMD_SYNC_BEGIN:
		ctl->sync_generation = c->generation;
		ctl->syncing = true;
		return 0;
	case HA_CMD_SYNC_END:
		if (!ctl->syncing || c->generation != ctl->sync_generation)
			return -EINVAL;
		ctl->syncing = false;
		ctl->swept += dp_binding_sweep(ctx->bindings, c->generation);
		return 0;
	default:
		return -EINVAL;
	}
}

unsigned dp_ctl_commands(struct dp_ctx *ctx, struct dp_ctl *ctl, struct dp_stats *st)
{
	struct ha_cmd cmds[32];
	unsigned n = rte_ring_sc_dequeue_burst_elem(ctx->cmd, cmds, sizeof(cmds[0]), RTE_DIM(cmds),
						    NULL);

	for (unsigned i = 0; i < n; i++) {
		struct ha_cmd_ack ack = {
			.version = HA_RING_VERSION,
			.type = cmds[i].type,
			.seq = cmds[i].seq,
			.generation = cmds[i].generation,
		};
		ack.result = apply(ctx, ctl, &cmds[i], &ack, st);
		ctl->commands++;
		if (ack.result)
			ctl->command_errors++;
		/* the control plane sizes the ack ring like the cmd ring; if it stops reading,
		 * acks are lost (counted) but tables keep being updated */
		if (rte_ring_sp_enqueue_elem(ctx->ack, &ack, sizeof(ack)) != 0)
			ctl->acks_lost++;
	}
	return n;
}

/* RFC 5555 4.1: the control plane's IPv6 packet inside IPv4/UDP to the UE's NAT mapping. */
static bool wrap_udp(struct dp_ctx *ctx, struct rte_mbuf *m, const struct ha_pkt_meta *meta)
{
	uint16_t inner = (uint16_t)m->data_len;
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, 28);

	if (!h || !(meta->flags & HA_META_F_OUTER4) || !ctx->ha4)
		return false;
	memset(h, 0, 28);
	h[0] = 0x45;
	ha_wr16(h + 2, (uint16_t)(28 + inner));
	ha_wr16(h + 6, 0x4000);
	h[8] = 64;
	h[9] = 17;
	memcpy(h + 12, &ctx->ha4, 4);
	memcpy(h + 16, meta->outer_dst, 4);
	ha_wr16(h + 10, ha_csum_fold(ha_csum_add(0, h, 20)));
	ha_wr16(h + 20, HA_UDP_PORT_DSMIP);
	ha_wr16(h + 22, meta->udp_dport);
	ha_wr16(h + 24, (uint16_t)(8 + inner));
	return true;
}

/* Send what a port holds; the rest stays, in order. @return packets sent. */
static unsigned send_held(const struct dp_port *p, struct dp_ctl_held *h, struct dp_stats *st,
			  uint64_t now)
{
	if (!h->n)
		return 0;
	uint16_t sent = 0;
	while (sent < h->n) {
		uint16_t want = (uint16_t)RTE_MIN(h->n - sent, 64u);
		uint16_t k = dp_tx(p->port_id, &p->ctl_txq, h->m + sent, want);
		sent = (uint16_t)(sent + k);
		if (k < want)
			break;
	}
	st->c[DP_C_CP_TX] += sent;
	if (sent) {
		memmove(h->m, h->m + sent, (h->n - sent) * sizeof(h->m[0]));
		h->n -= sent;
		h->stuck_since = now;
	}
	if (h->n && now - h->stuck_since > rte_get_tsc_hz() / 1000 * DP_CTL_TX_HOLD_MS) {
		/* nothing moved for that long: the peer is gone or wedged */
		for (unsigned i = 0; i < h->n; i++)
			dp_drop(st, DP_D_TX_FULL, h->m[i]);
		h->n = 0;
	}
	return sent;
}

void dp_ctl_release(struct dp_ctl *ctl, struct dp_stats *st)
{
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		for (unsigned i = 0; i < ctl->held[r].n; i++)
			dp_drop(st, DP_D_TX_FULL, ctl->held[r].m[i]);
		ctl->held[r].n = 0;
	}
}

unsigned dp_ctl_transmit(struct dp_ctx *ctx, struct dp_ctl *ctl, struct dp_stats *st)
{
	uint64_t now = rte_get_tsc_cycles();
	unsigned held_sent = 0;
	for (unsigned r = 0; r < DP_PORT__COUNT; r++)
		held_sent += send_held(&ctx->ports[r], &ctl->held[r], st, now);

	struct rte_mbuf *pkts[DP_BURST], *ok[DP_PORT__COUNT][DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(ctx->tx, (void **)pkts, DP_BURST, NULL);
	unsigned k[DP_PORT__COUNT] = { 0 };

	/* RFC 4877: BA, BRI and HA Switch leave under the UE's transport mode SA, which this
	 * thread owns */
	struct rte_mbuf *esp[DP_BURST];
	struct dp_sa *sas[DP_BURST];
	uint8_t reason[DP_BURST];
	unsigned ne = 0, nk = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
		struct dp_sa *sa = NULL;
		bool raw4 = (meta->flags & HA_META_F_RAW4) != 0;
		if (meta->version != HA_RING_VERSION || m->nb_segs != 1 ||
		    m->data_len < (raw4 ? 20 : 40) || (d[0] >> 4) != (raw4 ? 4 : 6) ||
		    ((meta->flags & HA_META_F_ESP) &&
		     (!(sa = dp_sa_table_find(ctx->sas, meta->sa_spi, HA_SA_OUT)) ||
		      sa->mode != HA_SA_TRANSPORT || sa->owner != DP_SA_OWNER_CONTROL))) {
			dp_drop(st, DP_D_CP_TX_BAD, m);
			continue;
		}
		if (sa) {
			esp[ne] = m;
			sas[ne++] = sa;
		} else {
			pkts[nk++] = m;
		}
	}
	if (ne) {
		dp_esp_encrypt_burst(ctx->ctl_esp, esp, sas, (uint16_t)ne, reason);
		for (unsigned i = 0; i < ne; i++) {
			if (reason[i]) {
				st->esp_err[reason[i] & 31]++;
				dp_drop(st, DP_D_ESP, esp[i]);
			} else {
				st->c[DP_C_ESP_ENCRYPTED]++;
				pkts[nk++] = esp[i];
			}
		}
	}
	for (unsigned i = 0; i < nk; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
		unsigned role = meta->port == ctx->ports[DP_PORT_CORE].port_id ? DP_PORT_CORE
									       : DP_PORT_ACCESS;
		if ((meta->flags & HA_META_F_UDP) && !wrap_udp(ctx, m, meta)) {
			dp_drop(st, DP_D_CP_TX_BAD, m);
			continue;
		}
		bool v4 = (meta->flags & (HA_META_F_UDP | HA_META_F_RAW4)) != 0;
		uint8_t *e = (uint8_t *)rte_pktmbuf_prepend(m, 14);
		if (!e) {
			dp_drop(st, DP_D_NO_ROOM, m);
			continue;
		}
		const struct dp_port *p = &ctx->ports[role];
		uint64_t nh = __atomic_load_n(&p->next_hop_word, __ATOMIC_RELAXED);
		if (!dp_nh_valid(nh)) {
			dp_drop(st, DP_D_NH_UNRESOLVED, m);
			continue;
		}
		memcpy(e, &nh, 6);
		rte_ether_addr_copy(&p->mac, (struct rte_ether_addr *)(e + 6));
		ha_wr16(e + 12, v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
		ok[role][k[role]++] = m;
	}
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		if (!k[r])
			continue;
		/* the control thread has its own tx queue on each port (dp_port.h). Signalling is
		 * rare and each BA is a UE waiting: what the queue does not take now waits its turn
		 * behind what already waits (send_held), without holding up this thread */
		const struct dp_port *p = &ctx->ports[r];
		struct dp_ctl_held *h = &ctl->held[r];
		uint16_t sent = 0;
		if (!h->n) {
			sent = dp_tx(p->port_id, &p->ctl_txq, ok[r], (uint16_t)k[r]);
			st->c[DP_C_CP_TX] += sent;
			if (sent < k[r])
				h->stuck_since = now;
		}
		for (unsigned i = sent; i < k[r]; i++) {
			if (h->n < DP_CTL_TX_HOLD_MAX)
				h->m[h->n++] = ok[r][i];
			else
				dp_drop(st, DP_D_TX_FULL, ok[r][i]);
		}
	}
	return n + held_sent;
}
