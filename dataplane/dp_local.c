/*
 * What the dataplane answers itself, on the control thread: ARP requests (RFC 826) and IPv6
 * Neighbour Solicitations (RFC 4861 7.2.3/7.2.4) for the Home Agent's own addresses, so the
 * routers beside it can reach it without the control plane, and echo requests to those
 * addresses (RFC 1122 3.2.2.6, RFC 4443 4.2), so operators can ping it. Workers hand these
 * packets over on the local ring, policed per reason; anything else that arrives there is
 * dropped and counted.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_local.h"
#include "ha_bytes.h"
#include "mh_codec.h"

#define ETH_HLEN 14

/* RFC 826: answer a request for our IPv4 address in place. */
static bool answer_arp(const struct dp_ctx *ctx, const struct dp_port *p, struct rte_mbuf *m)
{
	uint8_t *e = rte_pktmbuf_mtod(m, uint8_t *), *a = e + ETH_HLEN;

	if (m->data_len < ETH_HLEN + 28 || !ctx->ha4 || ha_rd16(a) != 1 || ha_rd16(a + 2) != 0x0800 ||
	    a[4] != 6 || a[5] != 4 || ha_rd16(a + 6) != 1 || memcmp(a + 24, &ctx->ha4, 4) != 0)
		return false;
	uint8_t sha[6], spa[4];
	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	ha_wr16(a + 6, 2);
	memcpy(a + 8, p->mac.addr_bytes, 6);
	memcpy(a + 14, &ctx->ha4, 4);
	memcpy(a + 18, sha, 6);
	memcpy(a + 24, spa, 4);
	memcpy(e, sha, 6);
	memcpy(e + 6, p->mac.addr_bytes, 6);
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - ETH_HLEN - 28));
	return true;
}

/* RFC 4861 7.2.4: a solicited Neighbour Advertisement for our IPv6 address, built in place. */
static bool answer_ns(const struct dp_ctx *ctx, const struct dp_port *p, struct rte_mbuf *m)
{
	uint8_t *e = rte_pktmbuf_mtod(m, uint8_t *), *ip = e + ETH_HLEN, *icmp = ip + 40;
	static const uint8_t unspecified[16];

	/* 7.1.1: hop limit 255, code 0, ICMP length >= 24, target not multicast; no ext headers */
	if (m->data_len < ETH_HLEN + 40 + 24 || ha_rd16(e + 12) != 0x86DD || ip[6] != 58 ||
	    ip[7] != 255 || icmp[0] != 135 || icmp[1] != 0 || ha_rd16(ip + 4) < 24 ||
	    memcmp(icmp + 8, ctx->ha6, 16) != 0)
		return false;
	bool dad = !memcmp(ip + 8, unspecified, 16);
	uint8_t src[16];
	memcpy(src, ip + 8, 16);
	/* the advertisement is 32 octets of ICMPv6 (with the target link-layer address option),
	 * the solicitation 24 or more */
	uint16_t want = ETH_HLEN + 40 + 32;
	if (m->data_len > want)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - want));
	else if (m->data_len < want && !rte_pktmbuf_append(m, (uint16_t)(want - m->data_len)))
		return false;
	ha_wr16(ip + 4, 32);
	if (dad) { /* to all nodes, not solicited (7.2.4) */
		static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
		memcpy(ip + 24, all_nodes, 16);
		static const uint8_t mac33[6] = { 0x33, 0x33, 0, 0, 0, 1 };
		memcpy(e, mac33, 6);
	} else {
		memcpy(ip + 24, src, 16);
		memcpy(e, e + 6, 6);
	}
	memcpy(ip + 8, ctx->ha6, 16);
	memcpy(e + 6, p->mac.addr_bytes, 6);
	icmp[0] = 136;
	icmp[2] = icmp[3] = 0;
	icmp[4] = dad ? 0x20 : 0x60; /* S (unless DAD) and O */
	icmp[5] = icmp[6] = icmp[7] = 0;
	/* target is already ours; option: target link-layer address */
	icmp[24] = 2;
	icmp[25] = 1;
	memcpy(icmp + 26, p->mac.addr_bytes, 6);
	dp_nd_checksum(ip);
	return true;
}

/* RFC 4443 4.2 / RFC 1122 3.2.2.6: the echo reply carries the request's identifier, sequence
 * number and data back, from the address it was sent to, to the link-layer address it came
 * from. A request whose checksum fails is not answered (RFC 4443 2.4). */
static bool answer_echo(const struct dp_ctx *ctx, const struct dp_port *p, struct rte_mbuf *m)
{
	uint8_t *e = rte_pktmbuf_mtod(m, uint8_t *), *ip = e + ETH_HLEN;
	uint32_t len = m->data_len, sum;
	uint8_t *icmp;
	size_t icmp_len;

	if (len < ETH_HLEN + 20)
		return false;
	if (ha_rd16(e + 12) == 0x86DD) {
		if (len < ETH_HLEN + 40 + 8 || ip[6] != 58 || memcmp(ip + 24, ctx->ha6, 16) != 0)
			return false;
		icmp = ip + 40;
		icmp_len = ha_rd16(ip + 4);
		if (icmp_len < 8 || ETH_HLEN + 40 + icmp_len > len || icmp[0] != 128 || icmp[1] != 0)
			return false;
		uint8_t tail[8] = { 0, 0, (uint8_t)(icmp_len >> 8), (uint8_t)icmp_len, 0, 0, 0, 58 };
		sum = ha_csum_add(ha_csum_add(0, ip + 8, 32), tail, 8);
		if (ha_csum_fold(ha_csum_add(sum, icmp, icmp_len)) != 0)
			return false;
		memcpy(ip + 24, ip + 8, 16);
		memcpy(ip + 8, ctx->ha6, 16);
		ip[7] = 64;
		icmp[0] = 129;
		ha_wr16(icmp + 2, 0);
		ha_wr16(icmp + 2, ha_csum_fold(ha_csum_add(sum, icmp, icmp_len)));
		rte_pktmbuf_trim(m, (uint16_t)(len - ETH_HLEN - 40 - icmp_len));
	} else {
		size_t ihl = (ip[0] & 0x0F) * 4u, tot = ha_rd16(ip + 2);
		if (ha_rd16(e + 12) != 0x0800 || (ip[0] >> 4) != 4 || ihl != 20 || ip[9] != 1 ||
		    tot < ihl + 8 || ETH_HLEN + tot > len || !ctx->ha4 ||
		    memcmp(ip + 16, &ctx->ha4, 4) != 0 || (ha_rd16(ip + 6) & 0x3FFF) != 0)
			return false;
		icmp = ip + ihl;
		icmp_len = tot - ihl;
		if (icmp[0] != 8 || icmp[1] != 0 || ha_csum_fold(ha_csum_add(0, icmp, icmp_len)) != 0)
			return false;
		memcpy(ip + 16, ip + 12, 4);
		memcpy(ip + 12, &ctx->ha4, 4);
		ip[8] = 64;
		ha_wr16(ip + 10, 0);
		ha_wr16(ip + 10, ha_csum_fold(ha_csum_add(0, ip, 20)));
		icmp[0] = 0;
		ha_wr16(icmp + 2, 0);
		ha_wr16(icmp + 2, ha_csum_fold(ha_csum_add(0, icmp, icmp_len)));
		rte_pktmbuf_trim(m, (uint16_t)(len - ETH_HLEN - tot));
	}
	memcpy(e, e + 6, 6);
	memcpy(e + 6, p->mac.addr_bytes, 6);
	return true;
}

void dp_nd_checksum(uint8_t *ip)
{
	uint8_t *icmp = ip + 40;
	uint8_t tail[8] = { 0, 0, 0, 32, 0, 0, 0, 58 }; /* upper-layer length 32, next header 58 */
	icmp[2] = icmp[3] = 0;
	uint32_t sum = ha_csum_add(0, ip + 8, 32);
	sum = ha_csum_add(sum, tail, 8);
	ha_wr16(icmp + 2, ha_csum_fold(ha_csum_add(sum, icmp, 32)));
}

unsigned dp_local_answer(struct dp_ctx *ctx, struct dp_stats *st)
{
	struct rte_mbuf *pkts[DP_BURST], *out[DP_PORT__COUNT][DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(ctx->local, (void **)pkts, DP_BURST, NULL);
	unsigned k[DP_PORT__COUNT] = { 0 };

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
		unsigned role = meta->port == ctx->ports[DP_PORT_CORE].port_id ? DP_PORT_CORE
									       : DP_PORT_ACCESS;
		const struct dp_port *p = &ctx->ports[role];
		/* a worker's ICMP error about a downlink packet too big for its tunnel (dp_icmp.h) */
		if (meta->reason == HA_PUNT_TOO_BIG) {
			st->c[DP_C_TOO_BIG_SENT]++;
			out[role][k[role]++] = m;
			continue;
		}
		/* the routers' answers (and requests) tell the next hops' MACs (dp_neigh.h) */
		if (dp_neigh_learn(ctx, st, m, role)) {
			dp_drop(st, DP_D_NEIGH_ANSWER, m);
			continue;
		}
		if (meta->reason == HA_PUNT_ARP && answer_arp(ctx, p, m)) {
			st->c[DP_C_ARP_REPLIES]++;
		} else if (meta->reason == HA_PUNT_ND && answer_ns(ctx, p, m)) {
			st->c[DP_C_NA_SENT]++;
		} else if (meta->reason == HA_PUNT_ECHO && answer_echo(ctx, p, m)) {
			st->c[DP_C_ECHO_REPLIES]++;
		} else {
			dp_drop(st, DP_D_NOT_FOR_US, m);
			continue;
		}
		out[role][k[role]++] = m;
	}
	for (unsigned r = 0; r < DP_PORT__COUNT; r++)
		dp_ctl_send(&ctx->ports[r], out[r], k[r], st);
	return n;
}
