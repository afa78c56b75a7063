/* ICMP errors the dataplane sends itself (dp_icmp.h). */
#include <string.h>

#include <rte_mbuf.h>

#include "dp_icmp.h"
#include "ha_bytes.h"
#include "mh_codec.h"

#define ETH_HLEN 14
#define IP6_ICMP_MAX 1280 /* RFC 4443 2.4(c): the error fits the minimum IPv6 MTU */
#define IP4_ICMP_MAX 576  /* RFC 1812 4.3.2.3 */

/* Ethernet from port_mac; the destination is the caller's (the route's next hop). */
static void put_eth(uint8_t *e, const uint8_t mac[6], uint16_t type)
{
	memset(e, 0, 6);
	memcpy(e + 6, mac, 6);
	ha_wr16(e + 12, type);
}

/* Drop what is outside the user packet, keep at most keep octets of it, and put room for the
 * new headers (hdr octets after Ethernet) in front. @return the new frame, or NULL. */
static uint8_t *reframe(struct rte_mbuf *m, uint16_t inner_off, uint32_t keep, uint16_t hdr)
{
	rte_pktmbuf_adj(m, inner_off);
	if (m->data_len > keep)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - keep));
	return (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(ETH_HLEN + hdr));
}

static bool too_big6(struct rte_mbuf *m, uint16_t inner_off, uint16_t mtu, const uint8_t ha6[16],
		     const uint8_t mac[6])
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, inner_off);
	uint8_t src[16];

	memcpy(src, ip + 8, 16);
	uint8_t *e = reframe(m, inner_off, IP6_ICMP_MAX - 48, 48);
	if (!e)
		return false;
	uint8_t *o = e + ETH_HLEN, *icmp = o + 40;
	uint16_t len = (uint16_t)(m->data_len - ETH_HLEN - 40);
	put_eth(e, mac, 0x86DD);
	memset(o, 0, 8);
	o[0] = 0x60;
	ha_wr16(o + 4, len);
	o[6] = 58;
	o[7] = 64;
	memcpy(o + 8, ha6, 16);
	memcpy(o + 24, src, 16);
	icmp[0] = 2; /* Packet Too Big */
	icmp[1] = 0;
	ha_wr16(icmp + 2, 0);
	ha_wr32(icmp + 4, mtu);
	uint8_t tail[8] = { 0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, 58 };
	uint32_t sum = ha_csum_add(ha_csum_add(0, o + 8, 32), tail, 8);
	ha_wr16(icmp + 2, ha_csum_fold(ha_csum_add(sum, icmp, len)));
	return true;
}

static bool too_big4(struct rte_mbuf *m, uint16_t inner_off, uint16_t mtu, uint32_t ha4,
		     const uint8_t mac[6])
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, inner_off);
	uint32_t src;

	memcpy(&src, ip + 12, 4);
	uint8_t *e = reframe(m, inner_off, IP4_ICMP_MAX - 28, 28);
	if (!e)
		return false;
	uint8_t *o = e + ETH_HLEN, *icmp = o + 20;
	uint16_t tot = (uint16_t)(m->data_len - ETH_HLEN);
	put_eth(e, mac, 0x0800);
	memset(o, 0, 20);
	o[0] = 0x45;
	ha_wr16(o + 2, tot);
	o[8] = 64;
	o[9] = 1;
	memcpy(o + 12, &ha4, 4);
	memcpy(o + 16, &src, 4);
	ha_wr16(o + 10, ha_csum_fold(ha_csum_add(0, o, 20)));
	icmp[0] = 3; /* Destination Unreachable */
	icmp[1] = 4; /* fragmentation needed and DF set */
	ha_wr16(icmp + 2, 0);
	ha_wr16(icmp + 4, 0);
	ha_wr16(icmp + 6, mtu); /* RFC 1191 4: the next-hop MTU */
	ha_wr16(icmp + 2, ha_csum_fold(ha_csum_add(0, icmp, (size_t)(tot - 20))));
	return true;
}

bool dp_icmp_may_report(const struct rte_mbuf *m, uint16_t inner_off, uint32_t ha4)
{
	static const uint8_t unspecified[16];

	if (m->nb_segs != 1 || m->data_len < inner_off + 28u)
		return false;
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, inner_off);
	if (ip[0] >> 4 == 6)
		/* never about an ICMPv6 error; the source must name one node */
		return m->data_len >= inner_off + 41u && ip[8] != 0xff &&
		       memcmp(ip + 8, unspecified, 16) != 0 && !(ip[6] == 58 && ip[40] < 128);
	if (ip[0] >> 4 != 4 || !ha4)
		return false;
	uint32_t ihl = (ip[0] & 0x0Fu) * 4u, s = ha_rd32(ip + 12);
	/* DF set, the first fragment; not from this network, loopback, multicast, class E or
	 * broadcast */
	if (!(ha_rd16(ip + 6) & 0x4000) || (ha_rd16(ip + 6) & 0x1FFF) || (s >> 24) == 0 ||
	    (s >> 24) == 127 || (s >> 28) >= 0xE)
		return false;
	if (ip[9] == 1 && m->data_len > inner_off + ihl) {
		uint8_t t = ip[ihl]; /* not about an ICMP error */
		if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
			return false;
	}
	return true;
}

bool dp_icmp_too_big(struct rte_mbuf *m, uint16_t inner_off, uint16_t mtu, const uint8_t ha6[16],
		     uint32_t ha4, const uint8_t port_mac[6])
{
	if (rte_pktmbuf_mtod_offset(m, const uint8_t *, inner_off)[0] >> 4 == 6)
		return too_big6(m, inner_off, mtu, ha6, port_mac);
	return too_big4(m, inner_off, mtu, ha4, port_mac);
}
