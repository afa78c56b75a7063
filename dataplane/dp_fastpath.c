/*
 * The workers' run-to-completion loop: downlink (core -> access) encapsulation toward the care-of
 * address, uplink (access -> core) decapsulation with the anti-spoofing checks, and the side exit
 * that punts signalling to the control plane.
 *
 * Each burst is parsed once into per-packet descriptors (the common shapes by a few loads, any
 * other shape by the shared classifier, shared/ha_pkt.h), looked up in bulk, then every packet
 * gets a verdict: forward, punt, or one drop reason. Only dp_drop() frees.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_binding.h"
#include "dp_esp.h"
#include "dp_sa_table.h"
#include "dp_ctx.h"
#include "dp_fastpath.h"
#include "dp_icmp.h"
#include "ha_bytes.h"
#include "ha_pkt.h"

#define ETH_HLEN 14

/* What the parse established about one packet. */
struct desc {
	uint8_t verdict;        /* enum verdict */
	uint8_t inner_ver;      /* 4 or 6: the user packet's IP version */
	uint8_t outer_ver;
	uint8_t tunnel;         /* uplink: enum dp_tunnel the packet arrived in */
	uint8_t punt_reason;
	uint16_t inner_off;     /* offset of the user packet in the mbuf data */
	uint16_t inner_len;     /* its length from its own header */
	uint16_t udp_sport_be;
	uint32_t outer_src4;
	const uint8_t *outer_src6;
	const uint8_t *key6;    /* address looked up: dst (downlink) or src (uplink) */
	uint32_t key4;
	uint8_t drop;           /* enum dp_counter when verdict is V_DROP */
	uint8_t esp_udp;        /* V_ESP: RFC 3948 ESP-in-UDP, from udp_sport_be */
	uint16_t esp_off;       /* V_ESP: the ESP header */
	uint16_t l3_off;        /* V_ESP: the IPv6 header in front of it (transport mode) */
	uint32_t spi;
};

enum verdict { V_LOOKUP, V_PUNT, V_DROP, V_ESP };

static inline struct desc drop_desc(enum dp_counter why)
{
	return (struct desc){ .verdict = V_DROP, .drop = (uint8_t)why };
}

/* ---- parsing ---------------------------------------------------------------------------- */

/* The user packet at off: its version and its length, which must fill the rest exactly
 * (a trailer is trimmed by the caller, never forwarded). */
static inline bool inner_ok(const uint8_t *d, uint32_t off, uint32_t end, struct desc *x)
{
	if (end < off + 20)
		return false;
	uint8_t v = d[off] >> 4;
	uint32_t len;
	if (v == 6) {
		if (end < off + 40)
			return false;
		len = 40u + rte_be_to_cpu_16(*(const uint16_t *)(d + off + 4));
	} else if (v == 4) {
		len = rte_be_to_cpu_16(*(const uint16_t *)(d + off + 2));
		if ((d[off] & 0x0F) < 5 || len < (d[off] & 0x0Fu) * 4)
			return false;
	} else {
		return false;
	}
	if (off + len != end)
		return false;
	x->inner_ver = v;
	x->inner_off = (uint16_t)off;
	x->inner_len = (uint16_t)len;
	return true;
}

/* An ICMP or ICMPv6 echo request to one of the HA's own addresses, right after the IP header
 * (RFC 1122 3.2.2.6, RFC 4443 4.1: every node answers them; dp_local.c does). */
static bool is_echo_to_ha(const struct dp_ctx *ctx, const uint8_t *d, const struct ha_pkt *p)
{
	if (p->outer.end < p->outer.l4_off + 8)
		return false;
	if (p->outer.ver == 6)
		return p->outer.proto == 58 && d[p->outer.l4_off] == 128 &&
		       p->outer.l4_off == p->outer.off + 40 && !memcmp(&p->outer.dst6, ctx->ha6, 16);
	return p->outer.proto == 1 && d[p->outer.l4_off] == 8 && ctx->ha4 &&
	       p->outer.l4_off == p->outer.off + 20 && p->outer.dst4.s_addr == ctx->ha4;
}

/* Everything the quick paths do not recognise: the full classifier decides. */
static struct desc classify_slow_value(struct dp_worker *w, const struct dp_ctx *ctx,
				       struct rte_mbuf *m, bool access)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	struct ha_pkt p;
	struct desc x = { 0 };
	enum ha_err e = ha_pkt_classify_eth(d, m->data_len, &p);

	if (e != HA_OK) {
		w->stats->decode_err[e]++;
		return drop_desc(DP_D_MALFORMED);
	}
	switch (p.cls) {
	case HA_PKT_MH:
		x.verdict = V_PUNT;
		x.punt_reason = p.udp_encap ? HA_PUNT_MH_UDP : HA_PUNT_MH;
		return x;
	case HA_PKT_IKE:
		x.verdict = V_PUNT;
		x.punt_reason = HA_PUNT_IKE;
		return x;
	case HA_PKT_ND:
		x.verdict = V_PUNT;
		x.punt_reason = HA_PUNT_ND;
		return x;
	case HA_PKT_ARP:
		x.verdict = V_PUNT;
		x.punt_reason = HA_PUNT_ARP;
		return x;
	case HA_PKT_ESP: {
		const struct ha_ip_hdr *c = ha_pkt_carrier(&p);
		/* 001 5.2.3.3: a UE at home (3GPP access, behind the core port) signals under its
		 * SA to the HA itself; on the core port only ESP to the HA's own addresses is
		 * taken, and only transport (signalling) SAs (esp_uplink) */
		if (!access && !(c->ver == 6 ? !memcmp(&c->dst6, ctx->ha6, 16)
					     : ctx->ha4 && c->dst4.s_addr == ctx->ha4))
			return drop_desc(DP_D_NOT_FOR_US);
		x.verdict = V_ESP;
		if (p.udp && !p.udp_encap) { /* RFC 3948: UDP 4500, a NAT between UE and HA */
			x.esp_udp = 1;
			x.udp_sport_be = rte_cpu_to_be_16(p.sport);
		}
		x.esp_off = (uint16_t)p.esp_off;
		x.l3_off = (uint16_t)c->off;
		x.spi = p.esp_spi;
		x.outer_ver = p.outer.ver;
		x.outer_src4 = p.outer.src4.s_addr;
		x.outer_src6 = d + p.outer.off + 8;
		return x;
	}
	case HA_PKT_TUNNEL:
		if (!access)
			return drop_desc(DP_D_NOT_FOR_US);
		x.outer_ver = p.outer.ver;
		if (p.outer.ver == 6) {
			x.tunnel = DP_TUN_IP6;
			x.outer_src6 = d + p.outer.off + 8;
		} else {
			x.tunnel = p.udp_encap ? DP_TUN_UDP4 : DP_TUN_IP4;
			x.outer_src4 = p.outer.src4.s_addr;
			x.udp_sport_be = rte_cpu_to_be_16(p.sport);
		}
		x.inner_ver = p.inner.ver;
		x.inner_off = (uint16_t)p.inner.off;
		x.inner_len = (uint16_t)(p.inner.end - p.inner.off);
		x.verdict = V_LOOKUP;
		return x;
	case HA_PKT_IP:
		if (is_echo_to_ha(ctx, d, &p)) {
			x.verdict = V_PUNT;
			x.punt_reason = HA_PUNT_ECHO;
			return x;
		}
		if (access)
			return drop_desc(DP_D_NOT_TUNNELLED);
		if (p.outer.ver == 6 && p.outer.proto == MH_PROTO) {
			x.verdict = V_PUNT;
			x.punt_reason = HA_PUNT_MH;
			return x;
		}
		x.inner_ver = p.outer.ver;
		x.inner_off = (uint16_t)p.outer.off;
		x.inner_len = (uint16_t)(p.outer.end - p.outer.off);
		x.verdict = V_LOOKUP;
		return x;
	default:
		return drop_desc(DP_D_UNSUPPORTED);
	}
}

static inline bool is_ha6(const uint8_t *a, const uint8_t *ha)
{
	uint64_t x[2], y[2];
	memcpy(x, a, 16); /* two loads, no library call */
	memcpy(y, ha, 16);
	return x[0] == y[0] && x[1] == y[1];
}

static void classify_slow(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf *m,
			  bool access, struct desc *x)
{
	*x = classify_slow_value(w, ctx, m, access);
}

/* An IPv4 header (20 octets) the quick paths may trust: not a fragment, and a checksum that is
 * good or that the NIC vouched for. */
static inline bool ip4_quick_ok(const struct rte_mbuf *m, const uint8_t *ip)
{
	uint64_t cs = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	return !(rte_be_to_cpu_16(*(const uint16_t *)(ip + 6)) & 0x3FFF) &&
	       cs != RTE_MBUF_F_RX_IP_CKSUM_BAD &&
	       (cs != RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN || rte_raw_cksum(ip, 20) == 0xFFFF);
}

/* Downlink: a plain IPv6 or IPv4 packet from the PDN, looked up by its destination. */
static void parse_core(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf *m,
		       struct desc *x)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len;

	if (len < ETH_HLEN + 20 || m->nb_segs != 1) {
		classify_slow(w, ctx, m, false, x);
		return;
	}
	uint16_t et = *(const uint16_t *)(d + 12);
	if (et == RTE_BE16(RTE_ETHER_TYPE_IPV6) && len >= ETH_HLEN + 40 && (d[ETH_HLEN] >> 4) == 6) {
		uint8_t nh = d[ETH_HLEN + 6];
		uint32_t end = ETH_HLEN + 40u + rte_be_to_cpu_16(*(const uint16_t *)(d + ETH_HLEN + 4));
		if (end > len || nh == MH_PROTO || nh == 58 /* ICMPv6: ND for the HA */ ||
		    is_ha6(d + ETH_HLEN + 24, ctx->ha6)) {
			classify_slow(w, ctx, m, false, x);
			return;
		}
		x->inner_ver = 6;
		x->inner_off = ETH_HLEN;
		x->inner_len = (uint16_t)(end - ETH_HLEN);
		x->key6 = d + ETH_HLEN + 24;
		x->verdict = V_LOOKUP;
		return;
	}
	if (et == RTE_BE16(RTE_ETHER_TYPE_IPV4) && d[ETH_HLEN] == 0x45) {
		uint32_t end = ETH_HLEN + (uint32_t)rte_be_to_cpu_16(*(const uint16_t *)(d + ETH_HLEN + 2));
		uint32_t dst = ha_ld32(d + ETH_HLEN + 16);
		if (end > len || end < ETH_HLEN + 20 || dst == ctx->ha4 ||
		    !ip4_quick_ok(m, d + ETH_HLEN)) {
			classify_slow(w, ctx, m, false, x);
			return;
		}
		x->inner_ver = 4;
		x->inner_off = ETH_HLEN;
		x->inner_len = (uint16_t)(end - ETH_HLEN);
		x->key4 = dst;
		x->verdict = V_LOOKUP;
		return;
	}
	classify_slow(w, ctx, m, false, x);
}

/* Uplink ESP straight after the outer header (what the slow path's HA_PKT_ESP gives). */
static inline void esp_quick(struct desc *x, const uint8_t *d, uint8_t ver, uint16_t l3_off,
			     uint16_t esp_off)
{
	x->verdict = V_ESP;
	x->esp_udp = 0;
	x->outer_ver = ver;
	x->outer_src4 = ver == 4 ? ha_ld32(d + l3_off + 12) : 0;
	x->outer_src6 = ver == 6 ? d + l3_off + 8 : NULL;
	x->esp_off = esp_off;
	x->l3_off = l3_off;
	x->spi = rte_be_to_cpu_32(ha_ld32(d + esp_off));
}

/* Uplink: a user packet tunnelled from a care-of address, looked up by its inner source. */
static void parse_access(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf *m,
			 struct desc *x)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len;

	if (len < ETH_HLEN + 20 || m->nb_segs != 1) {
		classify_slow(w, ctx, m, true, x);
		return;
	}
	uint16_t et = *(const uint16_t *)(d + 12);
	if (et == RTE_BE16(RTE_ETHER_TYPE_IPV6) && len >= ETH_HLEN + 40 && (d[ETH_HLEN] >> 4) == 6) {
		uint8_t nh = d[ETH_HLEN + 6];
		uint32_t end = ETH_HLEN + 40u + rte_be_to_cpu_16(*(const uint16_t *)(d + ETH_HLEN + 4));
		if (nh == HA_IPPROTO_ESP && end <= len && end >= ETH_HLEN + 40 + 8) {
			esp_quick(x, d, 6, ETH_HLEN, ETH_HLEN + 40);
			return;
		}
		if ((nh != IPPROTO_IPV6 && nh != IPPROTO_IPIP) || end > len ||
		    !inner_ok(d, ETH_HLEN + 40, end, x) || (nh == IPPROTO_IPV6) != (x->inner_ver == 6)) {
			classify_slow(w, ctx, m, true, x);
			return;
		}
		x->outer_ver = 6;
		x->tunnel = DP_TUN_IP6;
		x->outer_src6 = d + ETH_HLEN + 8;
	} else if (et == RTE_BE16(RTE_ETHER_TYPE_IPV4) && d[ETH_HLEN] == 0x45) {
		uint8_t proto = d[ETH_HLEN + 9];
		uint32_t end = ETH_HLEN + (uint32_t)rte_be_to_cpu_16(*(const uint16_t *)(d + ETH_HLEN + 2));
		if (end > len || end < ETH_HLEN + 28 || !ip4_quick_ok(m, d + ETH_HLEN)) {
			classify_slow(w, ctx, m, true, x);
			return;
		}
		x->outer_ver = 4;
		x->outer_src4 = ha_ld32(d + ETH_HLEN + 12);
		if (proto == HA_IPPROTO_ESP) {
			esp_quick(x, d, 4, ETH_HLEN, ETH_HLEN + 20);
			return;
		}
		uint16_t sport_be = *(const uint16_t *)(d + ETH_HLEN + 20);
		if (proto == IPPROTO_UDP &&
		    *(const uint16_t *)(d + ETH_HLEN + 22) == RTE_BE16(HA_UDP_PORT_IKE_NATT) &&
		    /* from 500 or 4191 the classifier reads IKE or RFC 5555 first */
		    sport_be != RTE_BE16(HA_UDP_PORT_IKE) && sport_be != RTE_BE16(HA_UDP_PORT_DSMIP) &&
		    *(const uint16_t *)(d + ETH_HLEN + 26) == 0 && /* else the slow path checks it */
		    ETH_HLEN + 20u + rte_be_to_cpu_16(*(const uint16_t *)(d + ETH_HLEN + 24)) == end &&
		    end >= ETH_HLEN + 28 + 8 && ha_ld32(d + ETH_HLEN + 28) != 0) {
			/* RFC 3948: ESP in UDP, not IKE's zero non-ESP marker */
			esp_quick(x, d, 4, ETH_HLEN, ETH_HLEN + 28);
			x->esp_udp = 1;
			x->udp_sport_be = sport_be;
			return;
		}
		if (proto == IPPROTO_IPV6 || proto == IPPROTO_IPIP) {
			if (!inner_ok(d, ETH_HLEN + 20, end, x) ||
			    (proto == IPPROTO_IPV6) != (x->inner_ver == 6)) {
				classify_slow(w, ctx, m, true, x);
				return;
			}
			x->tunnel = DP_TUN_IP4;
		} else if (proto == IPPROTO_UDP &&
			   *(const uint16_t *)(d + ETH_HLEN + 22) == RTE_BE16(HA_UDP_PORT_DSMIP) &&
			   *(const uint16_t *)(d + ETH_HLEN + 26) == 0 && /* else the slow path checks it */
			   ETH_HLEN + 20u + rte_be_to_cpu_16(*(const uint16_t *)(d + ETH_HLEN + 24)) == end &&
			   inner_ok(d, ETH_HLEN + 28, end, x) &&
			   !(x->inner_ver == 6 && (d[ETH_HLEN + 28 + 6] == MH_PROTO ||
						  d[ETH_HLEN + 28 + 6] == HA_IPPROTO_ESP))) {
			x->tunnel = DP_TUN_UDP4;
			x->udp_sport_be = *(const uint16_t *)(d + ETH_HLEN + 20);
		} else {
			classify_slow(w, ctx, m, true, x);
			return;
		}
	} else {
		classify_slow(w, ctx, m, true, x);
		return;
	}
	x->verdict = V_LOOKUP;
}

/* ---- actions ---------------------------------------------------------------------------- */

/* Forwarding decrements the user packet's hop limit (RFC 8200) or TTL (RFC 791, with the
 * checksum updated as RFC 1624 says). */
static inline bool hop(uint8_t *ip, uint8_t ver)
{
	if (ver == 6) {
		if (ip[7] <= 1)
			return false;
		ip[7]--;
		return true;
	}
	if (ip[8] <= 1)
		return false;
	ip[8]--;
	uint32_t sum = (uint32_t)rte_be_to_cpu_16(*(uint16_t *)(ip + 10)) + 0x0100;
	sum = (sum & 0xFFFF) + (sum >> 16);
	*(uint16_t *)(ip + 10) = rte_cpu_to_be_16((uint16_t)sum);
	return true;
}

/* Ethernet to next hop nh (a union dp_next_hop word) from the port. */
static inline void put_eth(uint8_t *e, const struct dp_port *port, uint64_t nh, uint16_t type_be)
{
	memcpy(e, &nh, 6);
	rte_ether_addr_copy(&port->mac, (struct rte_ether_addr *)(e + 6));
	*(uint16_t *)(e + 12) = type_be;
}

/* Downlink, first half: the user packet alone at the start of the mbuf, hop limit spent. */
static int user_packet(struct rte_mbuf *m, const struct desc *x)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, x->inner_off);

	if (!hop(ip, x->inner_ver))
		return DP_D_TTL;
	rte_pktmbuf_adj(m, x->inner_off);
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - x->inner_len));
	return -1;
}

/* Downlink, second half: the binding's outer header (and Ethernet) in front of the len octets
 * the mbuf holds, whose protocol is proto (41, 4, or 50 after ESP). @return a drop reason or -1. */
static int outer_header(const struct dp_binding *b, const struct dp_port *port, struct rte_mbuf *m,
			uint8_t proto)
{
	uint16_t len = (uint16_t)m->data_len;
	uint64_t nh = __atomic_load_n(&port->next_hop_word, __ATOMIC_RELAXED);
	if (!dp_nh_valid(nh))
		return DP_D_NH_UNRESOLVED; /* the access router, asked for (dp_neigh.h) */
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(ETH_HLEN + b->hdr_len));

	if (!h)
		return DP_D_NO_ROOM;
	uint8_t *o = h + ETH_HLEN;
	if (b->tunnel == DP_TUN_IP6) {
		memcpy(o, b->hdr, 40); /* constant sizes: the compiler copies in registers */
		put_eth(h, port, nh, RTE_BE16(RTE_ETHER_TYPE_IPV6));
		*(uint16_t *)(o + 4) = rte_cpu_to_be_16(len);
		o[6] = proto;
		return -1;
	}
	if (b->tunnel == DP_TUN_UDP4)
		memcpy(o, b->hdr, 28);
	else
		memcpy(o, b->hdr, 20);
	put_eth(h, port, nh, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	uint16_t tot = (uint16_t)(b->hdr_len + len);
	if (b->tunnel == DP_TUN_UDP4)
		proto = IPPROTO_UDP;
	*(uint16_t *)(o + 2) = rte_cpu_to_be_16(tot);
	o[9] = proto;
	uint32_t sum = (uint32_t)b->ip4_csum_base + tot + ((uint32_t)o[8] << 8 | proto);
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	*(uint16_t *)(o + 10) = rte_cpu_to_be_16((uint16_t)~sum);
	if (b->tunnel == DP_TUN_UDP4)
		*(uint16_t *)(o + 24) = rte_cpu_to_be_16((uint16_t)(8 + len));
	return -1;
}

/* Downlink ESP of an SA that IKE set up across a NAT (RFC 3948 2.1): IPv4 to the binding's
 * care-of address (the NAT's), UDP from 4500 to the port IKE saw, checksum zero. */
static int outer_header_natt(const struct dp_binding *b, const struct dp_port *port,
			     struct rte_mbuf *m, uint16_t dport_be)
{
	if (b->tunnel != DP_TUN_IP4 && b->tunnel != DP_TUN_UDP4)
		return DP_D_ESP_ENCAP; /* the UE moved to IPv6 access; IKE has not caught up */
	uint16_t len = (uint16_t)m->data_len;
	uint64_t nh = __atomic_load_n(&port->next_hop_word, __ATOMIC_RELAXED);
	if (!dp_nh_valid(nh))
		return DP_D_NH_UNRESOLVED;
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, ETH_HLEN + 28);

	if (!h)
		return DP_D_NO_ROOM;
	uint8_t *o = h + ETH_HLEN;
	memcpy(o, b->hdr, 20);
	put_eth(h, port, nh, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	uint16_t tot = (uint16_t)(28 + len);
	*(uint16_t *)(o + 2) = rte_cpu_to_be_16(tot);
	o[9] = IPPROTO_UDP;
	uint32_t sum = (uint32_t)b->ip4_csum_base + tot + ((uint32_t)o[8] << 8 | IPPROTO_UDP);
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	*(uint16_t *)(o + 10) = rte_cpu_to_be_16((uint16_t)~sum);
	*(uint16_t *)(o + 20) = RTE_BE16(HA_UDP_PORT_IKE_NATT);
	*(uint16_t *)(o + 22) = dport_be;
	*(uint16_t *)(o + 24) = rte_cpu_to_be_16((uint16_t)(8 + len));
	*(uint16_t *)(o + 26) = 0;
	return -1;
}

/* Downlink in the clear: wrap the user packet in the binding's tunnel. */
static int encapsulate(const struct dp_binding *b, const struct dp_port *port, struct rte_mbuf *m,
		       const struct desc *x)
{
	int why = user_packet(m, x);
	if (why >= 0)
		return why;
	return outer_header(b, port, m, x->inner_ver == 6 ? IPPROTO_IPV6 : IPPROTO_IPIP);
}

/* The core side's next hop for a user packet: by route when there are routes (longest prefix
 * of its destination), else the port's. A union dp_next_hop word: 0 when no route covers it,
 * not dp_nh_valid() while its MAC is being resolved (dp_neigh.h). */
static inline uint64_t core_next_hop(const struct dp_ctx *ctx, const struct dp_port *core,
				     const uint8_t *ip, uint8_t ver)
{
	const struct dp_route_table *t = dp_routes_current(&ctx->routes);
	if (!t)
		return __atomic_load_n(&core->next_hop_word, __ATOMIC_RELAXED);
	return ver == 6 ? dp_route6(t, ip + 24) : dp_route4(t, ha_ld32(ip + 16));
}

/* Uplink: the packet must come from the binding's care-of address through the binding's tunnel
 * (RFC 5555 4.1, and TS 24.303 5.1.3.2), then loses its outer headers. */
static int decapsulate(const struct dp_ctx *ctx, const struct dp_binding *b,
		       const struct dp_port *core, struct rte_mbuf *m, const struct desc *x)
{
	if (b->sa_in)
		return DP_D_CLEAR_FOR_ESP; /* this binding's payload is protected: ESP only */
	if (x->tunnel != b->uplink_tunnel)
		return DP_D_SPOOF_TUNNEL;
	if (x->tunnel == DP_TUN_IP6 ? memcmp(x->outer_src6, b->coa6, 16) != 0
				    : x->outer_src4 != b->coa4)
		return DP_D_SPOOF_OUTER;
	if (x->tunnel == DP_TUN_UDP4 && x->udp_sport_be != b->udp_port_be)
		return DP_D_SPOOF_PORT;
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, x->inner_off);
	if (!hop(ip, x->inner_ver))
		return DP_D_TTL;
	uint64_t nh = core_next_hop(ctx, core, ip, x->inner_ver);
	if (!nh)
		return DP_D_NO_ROUTE;
	if (!dp_nh_valid(nh))
		return DP_D_NH_UNRESOLVED;
	rte_pktmbuf_adj(m, (uint16_t)(x->inner_off - ETH_HLEN));
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - ETH_HLEN - x->inner_len));
	uint8_t *e = rte_pktmbuf_mtod(m, uint8_t *);
	put_eth(e, core, nh,
		x->inner_ver == 6 ? RTE_BE16(RTE_ETHER_TYPE_IPV6) : RTE_BE16(RTE_ETHER_TYPE_IPV4));
	return -1;
}

/* A downlink packet's size on the access link once in its tunnel (and ESP: header, IV,
 * padding to the SA's alignment, trailer, ICV; RFC 3948 UDP instead of the binding's header
 * when IKE found a NAT). */
static inline uint32_t tunnelled_len(const struct dp_binding *b, uint32_t inner_len)
{
	const struct dp_sa *sa = b->sa_out;
	if (!sa)
		return b->hdr_len + inner_len;
	uint32_t outer = __atomic_load_n(&sa->encap_port_be, __ATOMIC_RELAXED) ? 28 : b->hdr_len;
	return outer + 8 + sa->iv_len + RTE_ALIGN_CEIL(inner_len + 2, sa->pad_align) +
	       sa->icv_len;
}

/* The largest user packet the binding's tunnel carries on a link of this MTU (RFC 2473 7.1):
 * with ESP, what the padding to the SA's alignment and the trailer leave. */
static inline uint32_t tunnel_room(const struct dp_binding *b, uint32_t mtu)
{
	const struct dp_sa *sa = b->sa_out;
	if (!sa)
		return mtu - b->hdr_len;
	uint32_t outer = __atomic_load_n(&sa->encap_port_be, __ATOMIC_RELAXED) ? 28 : b->hdr_len;
	return RTE_ALIGN_FLOOR(mtu - (outer + 8u + sa->iv_len + sa->icv_len), sa->pad_align) - 2u;
}

/* Per-worker token bucket per punt reason. */
static bool police(struct dp_worker *w, const struct dp_ctx *ctx, uint8_t reason)
{
	struct dp_policer *p = &w->policer;
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	uint64_t elapsed = now - p->last_tsc;

	if (elapsed > hz / 1000) { /* refill at most every millisecond */
		/* a second or more refills the bucket whole; less cannot overflow the product */
		uint64_t add = elapsed >= hz ? ctx->punt_burst : elapsed * ctx->punt_rate_pps / hz;
		if (add) {
			for (unsigned r = 0; r < HA_PUNT__COUNT; r++)
				p->tokens[r] = (uint32_t)RTE_MIN(p->tokens[r] + add, ctx->punt_burst);
			p->last_tsc = now;
		}
	}
	if (!p->tokens[reason])
		return false;
	p->tokens[reason]--;
	return true;
}

static void set_punt_meta(struct rte_mbuf *m, uint16_t port, uint8_t reason, uint64_t tsc)
{
	struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	struct ha_pkt p;

	memset(meta, 0, sizeof(*meta));
	meta->version = HA_RING_VERSION;
	meta->reason = reason;
	meta->port = port;
	meta->rx_tsc = tsc;
	/* the control plane gets the outer addresses and UDP port the dataplane saw (RFC 5555) */
	if (ha_pkt_classify_eth(d, m->data_len, &p) == HA_OK && p.outer.ver) {
		meta->l3_off = (uint16_t)p.outer.off;
		if (p.outer.ver == 4) {
			meta->flags |= HA_META_F_OUTER4;
			memcpy(meta->outer_src, &p.outer.src4, 4);
			memcpy(meta->outer_dst, &p.outer.dst4, 4);
		} else {
			memcpy(meta->outer_src, &p.outer.src6, 16);
			memcpy(meta->outer_dst, &p.outer.dst6, 16);
		}
		if (p.udp_encap)
			meta->flags |= HA_META_F_UDP;
		meta->udp_sport = p.sport;
		meta->udp_dport = p.dport;
	}
}

#define DP_FRAGS_MAX 8 /* a 9,000-octet packet into a 1,280-octet tunnel */

/* RFC 791 2.3: a router cuts an IPv4 packet without DF that the next link cannot carry; a
 * packet with options is not cut (each fragment would need the options with the copy flag). */
static inline bool may_fragment(const struct rte_mbuf *m, const struct desc *x)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, x->inner_off);
	return x->inner_ver == 4 && ip[0] == 0x45 && !(ip[6] & 0x40);
}

/* The IPv4 packet starting m (user_packet() done) cut into fragments of at most room octets,
 * each a whole IPv4 packet (RFC 791 3.2: offsets in 8-octet units, MF on all but the last,
 * which keeps the packet's own), m the first. @return how many are in out; 0 when it was
 * dropped (more than max fragments, no mbufs), the reason counted. */
static unsigned fragment4(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf *m,
			  uint32_t room, struct rte_mbuf **out, unsigned max)
{
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t data = rte_be_to_cpu_16(*(uint16_t *)(ip + 2)) - 20u;
	uint32_t chunk = room >= 28 ? (room - 20u) / 8u * 8u : 0;
	unsigned nf = chunk ? (data + chunk - 1u) / chunk : UINT32_MAX;

	if (nf > max) {
		dp_drop(w->stats, DP_D_TOO_BIG, m);
		return 0;
	}
	if (nf > 1 && rte_pktmbuf_alloc_bulk(ctx->pool, out + 1, nf - 1) != 0) {
		dp_drop(w->stats, DP_D_NO_ROOM, m);
		return 0;
	}
	uint16_t frag = rte_be_to_cpu_16(*(uint16_t *)(ip + 6));
	uint16_t off0 = frag & 0x1FFF, mf0 = frag & 0x2000;
	out[0] = m;
	for (unsigned k = nf; k-- > 0;) { /* the first last: its data moves from under the others */
		uint32_t len = RTE_MIN(chunk, data - k * chunk);
		uint8_t *f = k ? (uint8_t *)rte_pktmbuf_append(out[k], (uint16_t)(20 + len)) : ip;
		if (k) {
			memcpy(f, ip, 20);
			memcpy(f + 20, ip + 20 + k * chunk, len);
		} else {
			rte_pktmbuf_trim(m, (uint16_t)(m->data_len - 20 - len));
		}
		*(uint16_t *)(f + 2) = rte_cpu_to_be_16((uint16_t)(20 + len));
		uint16_t mf = k + 1 < nf ? 0x2000 : mf0;
		*(uint16_t *)(f + 6) = rte_cpu_to_be_16((uint16_t)(mf | (off0 + k * chunk / 8)));
		*(uint16_t *)(f + 10) = 0;
		*(uint16_t *)(f + 10) = (uint16_t)~rte_raw_cksum(f, 20);
	}
	w->stats->c[DP_C_FRAGMENTED]++;
	return nf;
}

/* A downlink packet the access link cannot carry becomes the ICMP error about it, for the
 * control thread to send on the core port (policed like a punt). @return true if so. */
static bool too_big(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf *m,
		    const struct desc *x, uint32_t room)
{
	const struct dp_port *core = &ctx->ports[DP_PORT_CORE];

	/* what may not be answered does not spend the bucket meant for what may */
	if (!dp_icmp_may_report(m, x->inner_off, ctx->ha4)) {
		dp_drop(w->stats, DP_D_TOO_BIG, m);
		return false;
	}
	if (!police(w, ctx, HA_PUNT_TOO_BIG)) {
		dp_drop(w->stats, DP_D_PUNT_POLICED, m);
		return false;
	}
	if (!dp_icmp_too_big(m, x->inner_off, (uint16_t)RTE_MIN(room, (uint32_t)UINT16_MAX), ctx->ha6,
			     ctx->ha4, core->mac.addr_bytes)) {
		dp_drop(w->stats, DP_D_NO_ROOM, m);
		return false;
	}
	/* routed like the uplink: the next hop towards the source */
	uint8_t *e = rte_pktmbuf_mtod(m, uint8_t *);
	uint64_t nh = core_next_hop(ctx, core, e + ETH_HLEN, e[ETH_HLEN] >> 4);
	if (!nh || !dp_nh_valid(nh)) {
		dp_drop(w->stats, nh ? DP_D_NH_UNRESOLVED : DP_D_NO_ROUTE, m);
		return false;
	}
	memcpy(e, &nh, 6);
	set_punt_meta(m, core->port_id, HA_PUNT_TOO_BIG, rte_rdtsc());
	w->stats->punt[HA_PUNT_TOO_BIG]++;
	return true;
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void flush(struct dp_worker *w, uint16_t port, const struct dp_txq *q, struct txq *t,
		  enum dp_counter sent)
{
	if (!t->n)
		return;
	uint16_t k = dp_tx(port, q, t->pkts, t->n);
	w->stats->c[sent] += k;
	for (uint16_t i = k; i < t->n; i++)
		dp_drop(w->stats, DP_D_TX_FULL, t->pkts[i]);
	t->n = 0;
}

static void punt_burst(struct dp_worker *w, struct rte_ring *r, struct rte_mbuf **p, unsigned n)
{
	if (!n)
		return;
	unsigned k = rte_ring_mp_enqueue_burst(r, (void **)p, n, NULL);
	w->stats->c[DP_C_PUNTED] += k;
	for (unsigned i = k; i < n; i++)
		dp_drop(w->stats, DP_D_PUNT_RING_FULL, p[i]);
}

/* A packet of an SA another worker owns goes to that worker (one owner per SA: sequence
 * numbers and the replay window are never shared). */
static void handoff(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf *m,
		    uint8_t owner, uint16_t in_port)
{
	/* the owner tells the side by m->port; a bond's packets carry their member's id */
	m->port = in_port;
	if (owner < ctx->n_workers && rte_ring_mp_enqueue(ctx->workers[owner].handoff, m) == 0)
		w->stats->c[DP_C_HANDED_OFF]++;
	else
		dp_drop(w->stats, DP_D_HANDOFF_FULL, m);
}

/* The outer source of a payload ESP packet must be the binding's care-of address (RFC 5555
 * 4.1, TS 24.303 5.1.3.2): the tunnel endpoint comes from the binding cache, never from the SA,
 * so a K-bit handover that moved the binding moves it for ESP too. */
static inline bool from_care_of(const struct dp_binding *b, uint8_t ver, const uint8_t *src6,
				uint32_t src4, bool esp_udp)
{
	if (ver == 6)
		return b->uplink_tunnel == DP_TUN_IP6 && !memcmp(src6, b->coa6, 16);
	/* ESP-in-UDP comes from the address the NAT shows (the binding's observed care-of
	 * address), from the port IKE saw (the SA's, checked before decryption) */
	return (b->uplink_tunnel == DP_TUN_IP4 || (esp_udp && b->uplink_tunnel == DP_TUN_UDP4)) &&
	       src4 == b->coa4;
}

/* RFC 3948: an SA that IKE set up across a NAT takes ESP in UDP from the NAT's port for it,
 * any other SA plain ESP only. */
static inline bool esp_encap_ok(const struct dp_sa *sa, const struct desc *d)
{
	uint16_t port = __atomic_load_n(&sa->encap_port_be, __ATOMIC_RELAXED);
	return d->esp_udp ? port && port == d->udp_sport_be && sa->mode == HA_SA_TUNNEL : !port;
}

/* Uplink ESP: tunnel mode carries a UE's user packets (the binding's payload SA), transport
 * mode its Binding Updates (RFC 4877), punted once verified with the SPI that verified them. */
static void esp_uplink(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf **pkts,
		       const struct desc *x, const uint8_t *idx, unsigned ne, bool from_access,
		       struct txq *t, struct rte_mbuf **punt, unsigned *np)
{
	uint32_t spi[DP_BURST];
	struct dp_sa *sa[DP_BURST], *ds[DP_BURST];
	struct rte_mbuf *dm[DP_BURST];
	uint16_t doff[DP_BURST];
	uint8_t reason[DP_BURST];
	uint8_t o_ver[DP_BURST], o_src6[DP_BURST][16], o_udp[DP_BURST];
	uint32_t o_src4[DP_BURST];
	unsigned nd = 0;
	uint16_t in_id = ctx->ports[from_access ? DP_PORT_ACCESS : DP_PORT_CORE].port_id;

	for (unsigned j = 0; j < ne; j++)
		spi[j] = x[idx[j]].spi;
	dp_sa_table_lookup_in(ctx->sas, spi, ne, sa);
	for (unsigned j = 0; j < ne; j++)
		if (sa[j])
			rte_prefetch0(sa[j]); /* owner, mode, NAT port: one line, cold among many SAs */
	for (unsigned j = 0; j < ne; j++) {
		struct rte_mbuf *m = pkts[idx[j]];
		const struct desc *d = &x[idx[j]];
		if (!sa[j]) {
			dp_drop(w->stats, DP_D_ESP_NO_SA, m);
			continue;
		}
		if (sa[j]->owner != w->index) {
			handoff(w, ctx, m, sa[j]->owner, in_id);
			continue;
		}
		if (!esp_encap_ok(sa[j], d)) {
			dp_drop(w->stats, DP_D_ESP_ENCAP, m);
			continue;
		}
		if (sa[j]->mode == HA_SA_TUNNEL && !from_access) {
			dp_drop(w->stats, DP_D_ESP_CORE_PAYLOAD, m);
			continue;
		}
		if (sa[j]->mode == HA_SA_TUNNEL) {
			/* the outer source, checked against the binding once the inner one names it */
			o_udp[nd] = d->esp_udp;
			o_ver[nd] = d->outer_ver;
			if (d->outer_ver == 6)
				memcpy(o_src6[nd], d->outer_src6, 16);
			o_src4[nd] = d->outer_src4;
			doff[nd] = d->esp_off;
		} else {
			set_punt_meta(m, in_id, HA_PUNT_MH_ESP, rte_rdtsc());
			rte_pktmbuf_adj(m, d->l3_off); /* the engine wants the IPv6 header first */
			doff[nd] = (uint16_t)(d->esp_off - d->l3_off);
		}
		dm[nd] = m;
		ds[nd++] = sa[j];
	}
	if (!nd)
		return;
	dp_esp_decrypt_burst(w->esp, dm, ds, doff, (uint16_t)nd, reason);

	const uint8_t *k6[DP_BURST];
	uint32_t k4[DP_BURST];
	uint8_t i6[DP_BURST], i4[DP_BURST];
	const struct dp_binding *b6[DP_BURST], *b4[DP_BURST], *bind[DP_BURST] = { NULL };
	struct desc y[DP_BURST];
	unsigned n6 = 0, n4 = 0;
	for (unsigned k = 0; k < nd; k++) {
		struct rte_mbuf *m = dm[k];
		if (reason[k]) {
			w->stats->esp_err[reason[k] & 31]++;
			dp_drop(w->stats, DP_D_ESP, m);
			dm[k] = NULL;
			continue;
		}
		w->stats->c[DP_C_ESP_DECRYPTED]++;
		if (ds[k]->mode == HA_SA_TRANSPORT) {
			struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
			meta->flags |= HA_META_F_ESP;
			meta->sa_spi = ds[k]->spi;
			meta->l3_off = 0;
			dm[k] = NULL;
			if (!police(w, ctx, HA_PUNT_MH_ESP)) {
				dp_drop(w->stats, DP_D_PUNT_POLICED, m);
				continue;
			}
			w->stats->punt[HA_PUNT_MH_ESP]++;
			punt[(*np)++] = m;
			continue;
		}
		const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
		if (!inner_ok(ip, 0, m->data_len, &y[k])) {
			w->stats->decode_err[PKT_ERR_IP_LENGTH]++;
			dp_drop(w->stats, DP_D_MALFORMED, m);
			dm[k] = NULL;
			continue;
		}
		if (y[k].inner_ver == 6) {
			k6[n6] = ip + 8;
			i6[n6++] = (uint8_t)k;
		} else {
			k4[n4] = ha_ld32(ip + 12);
			i4[n4++] = (uint8_t)k;
		}
	}
	dp_binding_lookup6(ctx->bindings, k6, n6, b6);
	dp_binding_lookup4(ctx->bindings, k4, n4, b4);
	for (unsigned j = 0; j < n6; j++)
		if ((bind[i6[j]] = b6[j]))
			rte_prefetch0(DP_BINDING_UPLINK_LINE(b6[j]));
	for (unsigned j = 0; j < n4; j++)
		if ((bind[i4[j]] = b4[j]))
			rte_prefetch0(DP_BINDING_UPLINK_LINE(b4[j]));
	const struct dp_port *core = &ctx->ports[DP_PORT_CORE];
	for (unsigned k = 0; k < nd; k++) {
		struct rte_mbuf *m = dm[k];
		if (!m)
			continue;
		if (!bind[k]) {
			dp_drop(w->stats, DP_D_SPOOF_INNER, m);
			continue;
		}
		if (bind[k]->sa_in != ds[k]) { /* a UE may only send under its own SA */
			dp_drop(w->stats, DP_D_SA_NOT_BINDING, m);
			continue;
		}
		if (!from_care_of(bind[k], o_ver[k], o_src6[k], o_src4[k], o_udp[k])) {
			dp_drop(w->stats, DP_D_SPOOF_OUTER, m);
			continue;
		}
		uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
		if (!hop(ip, y[k].inner_ver)) {
			dp_drop(w->stats, DP_D_TTL, m);
			continue;
		}
		uint64_t nh = core_next_hop(ctx, core, ip, y[k].inner_ver);
		if (!nh || !dp_nh_valid(nh)) {
			dp_drop(w->stats, nh ? DP_D_NH_UNRESOLVED : DP_D_NO_ROUTE, m);
			continue;
		}
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - y[k].inner_len));
		uint8_t *e = (uint8_t *)rte_pktmbuf_prepend(m, ETH_HLEN);
		if (!e) {
			dp_drop(w->stats, DP_D_NO_ROOM, m);
			continue;
		}
		put_eth(e, core, nh, y[k].inner_ver == 6 ? RTE_BE16(RTE_ETHER_TYPE_IPV6)
							 : RTE_BE16(RTE_ETHER_TYPE_IPV4));
		w->stats->c[DP_C_UPLINK]++;
		t->pkts[t->n++] = m;
	}
}

/* Downlink through a payload SA: ESP tunnel mode, then the binding's outer header (or RFC 3948
 * UDP when IKE found a NAT). */
static void esp_downlink(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf **m,
			 const struct dp_binding *const *b, struct dp_sa **sa, unsigned n,
			 struct txq *t)
{
	uint8_t reason[DP_OUT_MAX];

	if (!n)
		return;
	dp_esp_encrypt_burst(w->esp, m, sa, (uint16_t)n, reason);
	for (unsigned k = 0; k < n; k++) {
		int why;
		if (reason[k]) {
			w->stats->esp_err[reason[k] & 31]++;
			dp_drop(w->stats, DP_D_ESP, m[k]);
			continue;
		}
		uint16_t natt = __atomic_load_n(&sa[k]->encap_port_be, __ATOMIC_RELAXED);
		why = natt ? outer_header_natt(b[k], &ctx->ports[DP_PORT_ACCESS], m[k], natt)
			   : outer_header(b[k], &ctx->ports[DP_PORT_ACCESS], m[k], IPPROTO_ESP);
		if (why >= 0) {
			dp_drop(w->stats, (enum dp_counter)why, m[k]);
			continue;
		}
		w->stats->c[DP_C_ESP_ENCRYPTED]++;
		w->stats->c[DP_C_DOWNLINK]++;
		t->pkts[t->n++] = m[k];
	}
}

/* One burst from one port: parse, look up, act. */
void dp_process_burst(struct dp_worker *w, const struct dp_ctx *ctx, struct rte_mbuf **pkts,
		      uint16_t n, bool from_access, struct dp_tx_out *out)
{
	struct desc x[DP_BURST];
	const uint8_t *k6[DP_BURST] = { NULL };
	uint32_t k4[DP_BURST];
	uint8_t i6[DP_BURST], i4[DP_BURST], ie[DP_BURST];
	const struct dp_binding *b6[DP_BURST], *b4[DP_BURST], *bind[DP_BURST];
	struct rte_mbuf *punt[DP_BURST], *local[DP_BURST], *enc[DP_OUT_MAX];
	const struct dp_binding *enc_b[DP_OUT_MAX];
	struct dp_sa *enc_sa[DP_OUT_MAX];
	unsigned n6 = 0, n4 = 0, np = 0, nl = 0, ne = 0, nenc = 0;
	uint64_t tsc = 0;

	/* the headers of the next packets load while this one is parsed */
	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		x[i].verdict = V_LOOKUP;
		if (from_access)
			parse_access(w, ctx, pkts[i], &x[i]);
		else
			parse_core(w, ctx, pkts[i], &x[i]);
		if (x[i].verdict == V_ESP)
			ie[ne++] = (uint8_t)i;
		if (x[i].verdict != V_LOOKUP)
			continue;
		const uint8_t *ip = rte_pktmbuf_mtod_offset(pkts[i], const uint8_t *, x[i].inner_off);
		if (x[i].inner_ver == 6) {
			/* downlink: the destination; uplink: the source (a home address) */
			k6[n6] = from_access ? ip + 8 : ip + 24;
			i6[n6++] = (uint8_t)i;
		} else {
			k4[n4] = ha_ld32(ip + (from_access ? 12 : 16));
			i4[n4++] = (uint8_t)i;
		}
	}
	dp_binding_lookup6(ctx->bindings, k6, n6, b6);
	dp_binding_lookup4(ctx->bindings, k4, n4, b4);
	for (unsigned j = 0; j < n6; j++)
		bind[i6[j]] = b6[j];
	for (unsigned j = 0; j < n4; j++)
		bind[i4[j]] = b4[j];
	/* the entries of a big table are cold: fetch them all (the direction's line) before the
	 * first is used */
	for (unsigned j = 0; j < n6; j++)
		if (b6[j])
			rte_prefetch0(from_access ? DP_BINDING_UPLINK_LINE(b6[j])
						  : DP_BINDING_DOWNLINK_LINE(b6[j]));
	for (unsigned j = 0; j < n4; j++)
		if (b4[j])
			rte_prefetch0(from_access ? DP_BINDING_UPLINK_LINE(b4[j])
						  : DP_BINDING_DOWNLINK_LINE(b4[j]));

	const struct dp_port *dst = &ctx->ports[from_access ? DP_PORT_CORE : DP_PORT_ACCESS];
	struct txq *t = &out->q[from_access ? DP_PORT_CORE : DP_PORT_ACCESS];
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int why;
		switch (x[i].verdict) {
		case V_DROP:
			dp_drop(w->stats, (enum dp_counter)x[i].drop, m);
			continue;
		case V_ESP:
			continue; /* esp_uplink() below */
		case V_PUNT:
			if (!police(w, ctx, x[i].punt_reason)) {
				dp_drop(w->stats, DP_D_PUNT_POLICED, m);
				continue;
			}
			if (!tsc)
				tsc = rte_rdtsc();
			set_punt_meta(m, from_access ? ctx->ports[DP_PORT_ACCESS].port_id
						     : ctx->ports[DP_PORT_CORE].port_id,
				      x[i].punt_reason, tsc);
			w->stats->punt[x[i].punt_reason]++;
			/* ARP, neighbour discovery and echo requests the dataplane answers itself */
			if (x[i].punt_reason == HA_PUNT_ARP || x[i].punt_reason == HA_PUNT_ND ||
			    x[i].punt_reason == HA_PUNT_ECHO)
				local[nl++] = m;
			else
				punt[np++] = m;
			continue;
		}
		const struct dp_binding *b = bind[i];
		if (!b) {
			dp_drop(w->stats, from_access ? DP_D_SPOOF_INNER : DP_D_NO_BINDING, m);
			continue;
		}
		if (!from_access && unlikely(tunnelled_len(b, x[i].inner_len) > dst->mtu)) {
			uint32_t room = tunnel_room(b, dst->mtu);
			if (!may_fragment(m, &x[i])) {
				if (too_big(w, ctx, m, &x[i], room))
					local[nl++] = m;
				continue;
			}
			if (b->sa_out && b->sa_out->owner != w->index) {
				handoff(w, ctx, m, b->sa_out->owner, /* its owner cuts it */
					ctx->ports[DP_PORT_CORE].port_id);
				continue;
			}
			if ((why = user_packet(m, &x[i])) >= 0) {
				dp_drop(w->stats, (enum dp_counter)why, m);
				continue;
			}
			/* room for the fragments and a packet for each one still to come */
			unsigned used = t->n + nenc + (n - i - 1u);
			struct rte_mbuf *f[DP_FRAGS_MAX];
			unsigned nf = fragment4(w, ctx, m, room, f,
						RTE_MIN((unsigned)DP_FRAGS_MAX, DP_OUT_MAX - used));
			for (unsigned k = 0; k < nf; k++) {
				if (b->sa_out) {
					enc[nenc] = f[k];
					enc_b[nenc] = b;
					enc_sa[nenc++] = b->sa_out;
				} else if ((why = outer_header(b, dst, f[k], IPPROTO_IPIP)) >= 0) {
					dp_drop(w->stats, (enum dp_counter)why, f[k]);
				} else {
					w->stats->c[DP_C_DOWNLINK]++;
					t->pkts[t->n++] = f[k];
				}
			}
			continue;
		}
		if (!from_access && b->sa_out) {
			if (b->sa_out->owner != w->index) {
				handoff(w, ctx, m, b->sa_out->owner, ctx->ports[DP_PORT_CORE].port_id);
			} else if ((why = user_packet(m, &x[i])) >= 0) {
				dp_drop(w->stats, (enum dp_counter)why, m);
			} else {
				enc[nenc] = m;
				enc_b[nenc] = b;
				enc_sa[nenc++] = b->sa_out;
			}
			continue;
		}
		why = from_access ? decapsulate(ctx, b, dst, m, &x[i]) : encapsulate(b, dst, m, &x[i]);
		if (why >= 0) {
			dp_drop(w->stats, (enum dp_counter)why, m);
			continue;
		}
		w->stats->c[from_access ? DP_C_UPLINK : DP_C_DOWNLINK]++;
		t->pkts[t->n++] = m;
	}
	if (ne)
		esp_uplink(w, ctx, pkts, x, ie, ne, from_access, t, punt, &np);
	esp_downlink(w, ctx, enc, enc_b, enc_sa, nenc, t);
	punt_burst(w, ctx->punt, punt, np);
	punt_burst(w, ctx->local, local, nl);
}


extern struct dp_ctx *dp_global;

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	const struct dp_ctx *ctx = dp_global;
	struct rte_mbuf *pkts[DP_BURST];
	struct dp_tx_out out = { 0 };
	const struct dp_port *acc = &ctx->ports[DP_PORT_ACCESS], *core = &ctx->ports[DP_PORT_CORE];

	rte_rcu_qsbr_thread_register(ctx->qsbr, w->index);
	rte_rcu_qsbr_thread_online(ctx->qsbr, w->index);
	while (!ctx->quit) {
		uint16_t n;
		/* the (port, queue) pairs dp_port_assign gave this worker, in turn */
		for (unsigned i = 0; i < w->n_rxq; i++) {
			const struct dp_rxq *r = &w->rxq[i];
			if (!(n = rte_eth_rx_burst(r->port_id, r->queue, pkts, DP_BURST)))
				continue;
			bool from_access = r->role == DP_PORT_ACCESS;
			w->stats->c[from_access ? DP_C_RX_ACCESS : DP_C_RX_CORE] += n;
			uint64_t t0 = rte_rdtsc();
			dp_process_burst(w, ctx, pkts, n, from_access, &out);
			dp_stats_burst(w->stats, rte_rdtsc() - t0, n, DP_BURST);
			if (from_access)
				flush(w, core->port_id, &w->txq[DP_PORT_CORE], &out.q[DP_PORT_CORE],
				      DP_C_TX_CORE);
			else
				flush(w, acc->port_id, &w->txq[DP_PORT_ACCESS], &out.q[DP_PORT_ACCESS],
				      DP_C_TX_ACCESS);
		}
		/* packets of this worker's SAs that arrived on another worker's queues */
		if (w->handoff && (n = (uint16_t)rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts,
									   DP_BURST, NULL))) {
			struct rte_mbuf *a[DP_BURST], *c[DP_BURST];
			uint16_t na = 0, nc = 0;
			for (uint16_t i = 0; i < n; i++) {
				if (pkts[i]->port == acc->port_id)
					a[na++] = pkts[i];
				else
					c[nc++] = pkts[i];
			}
			if (na)
				dp_process_burst(w, ctx, a, na, true, &out);
			if (nc)
				dp_process_burst(w, ctx, c, nc, false, &out);
		}
		/* what a burst queued for its own side (rare) goes out once per turn */
		flush(w, acc->port_id, &w->txq[DP_PORT_ACCESS], &out.q[DP_PORT_ACCESS], DP_C_TX_ACCESS);
		flush(w, core->port_id, &w->txq[DP_PORT_CORE], &out.q[DP_PORT_CORE], DP_C_TX_CORE);
		/* no binding entry is held across this point */
		rte_rcu_qsbr_quiescent(ctx->qsbr, w->index);
	}
	rte_rcu_qsbr_thread_offline(ctx->qsbr, w->index);
	rte_rcu_qsbr_thread_unregister(ctx->qsbr, w->index);
	return 0;
}
