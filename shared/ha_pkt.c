/* Packet classifier and signalling packet builder (see ha_pkt.h). */
#include <string.h>

#include "ha_bytes.h"
#include "ha_pkt.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_VLAN 0x8100
#define ETH_P_QINQ 0x88A8
#define ETH_P_IPV6 0x86DD

#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_DSTOPTS 60
#define IP_PROTO_IPIP  4
#define IP_PROTO_UDP   17
#define IP_PROTO_IPV6  41
#define IP_PROTO_ICMP6 58

const char *ha_pkt_class_name(enum ha_pkt_class c)
{
	switch (c) {
#define X(e, n) case e: return n;
		HA_PKT_CLASSES(X)
#undef X
	}
	return "invalid";
}

/* Walk a Destination Options header looking for the Home Address option (RFC 6275 6.3). */
static enum ha_err scan_dstopts(const uint8_t *pkt, uint32_t off, uint32_t hlen,
				struct ha_ip_hdr *ip, uint32_t *err_off)
{
	uint32_t o = off + 2, end = off + hlen;

	while (o < end) {
		uint8_t t = pkt[o];
		if (t == 0) { /* Pad1 */
			o++;
			continue;
		}
		if (o + 2 > end || o + 2u + pkt[o + 1] > end) {
			*err_off = o;
			return PKT_ERR_EXT_CHAIN;
		}
		if (t == HA_IP6OPT_HAO) {
			*err_off = o;
			if (pkt[o + 1] != 16)
				return PKT_ERR_HAO_LENGTH;
			if (ip->hao)
				return PKT_ERR_HAO_DUPLICATE;
			ip->hao = true;
			memcpy(&ip->hoa, pkt + o + 2, 16);
		}
		o += 2u + pkt[o + 1];
	}
	return HA_OK;
}

/* Parse one IP header and, for IPv6, its extension headers, bounded by len. */
static enum ha_err parse_ip(const uint8_t *pkt, uint32_t off, uint32_t len, struct ha_ip_hdr *ip,
			    uint32_t *err_off)
{
	const uint8_t *h = pkt + off;
	uint32_t avail = len - off;

	memset(ip, 0, sizeof(*ip));
	ip->off = off;
	*err_off = off;
	if (avail < 1)
		return PKT_ERR_TRUNCATED;
	ip->ver = h[0] >> 4;
	if (ip->ver == 4) {
		uint32_t ihl = (h[0] & 0x0F) * 4u, tot;
		if (avail < 20)
			return PKT_ERR_TRUNCATED;
		tot = ha_rd16(h + 2);
		if (ihl < 20 || tot < ihl) {
			*err_off = off + (ihl < 20 ? 0 : 2);
			return PKT_ERR_IP_LENGTH;
		}
		if (tot > avail) {
			*err_off = off + 2;
			return PKT_ERR_TRUNCATED;
		}
		if (ha_csum_fold(ha_csum_add(0, h, ihl)) != 0) {
			*err_off = off + 10;
			return PKT_ERR_IPV4_CHECKSUM;
		}
		if (ha_rd16(h + 6) & 0x3FFF) { /* MF set or a non-zero fragment offset */
			*err_off = off + 6;
			return PKT_ERR_FRAGMENT;
		}
		ip->hop_limit = h[8];
		ip->proto = h[9];
		memcpy(&ip->src4, h + 12, 4);
		memcpy(&ip->dst4, h + 16, 4);
		ip->l4_off = off + ihl;
		ip->end = off + tot;
		return HA_OK;
	}
	if (ip->ver != 6)
		return PKT_ERR_IP_VERSION;
	if (avail < 40)
		return PKT_ERR_TRUNCATED;
	uint32_t plen = ha_rd16(h + 4);
	if (40 + plen > avail) {
		*err_off = off + 4;
		return PKT_ERR_TRUNCATED;
	}
	ip->hop_limit = h[7];
	memcpy(&ip->src6, h + 8, 16);
	memcpy(&ip->dst6, h + 24, 16);
	ip->end = off + 40 + plen;

	uint8_t nh = h[6];
	uint32_t o = off + 40;
	for (unsigned n = 0;; n++) {
		if (nh != IP6_NH_HOPOPTS && nh != IP6_NH_ROUTING && nh != IP6_NH_DSTOPTS &&
		    nh != IP6_NH_FRAGMENT)
			break;
		*err_off = o;
		if (n == HA_MAX_EXT_HDRS)
			return PKT_ERR_EXT_CHAIN;
		if (nh == IP6_NH_FRAGMENT)
			return PKT_ERR_FRAGMENT;
		if (o + 8 > ip->end)
			return PKT_ERR_TRUNCATED;
		uint32_t hlen = (pkt[o + 1] + 1u) * 8;
		if (o + hlen > ip->end)
			return PKT_ERR_TRUNCATED;
		if (nh == IP6_NH_DSTOPTS || nh == IP6_NH_HOPOPTS) {
			/* HAO only in a Destination Options header, but the TLV walk checks both */
			struct ha_ip_hdr tmp = *ip;
			enum ha_err e = scan_dstopts(pkt, o, hlen, nh == IP6_NH_DSTOPTS ? ip : &tmp,
						     err_off);
			if (e != HA_OK)
				return e;
		} else if (pkt[o + 2] == 2) { /* type 2 routing header (RFC 6275 6.4) */
			if (ip->rh2 || pkt[o + 1] != 2 || pkt[o + 3] != 1) {
				*err_off = o + (pkt[o + 1] != 2 ? 1 : 3);
				return PKT_ERR_RH2_FORMAT;
			}
			ip->rh2 = true;
			ip->rh2_segleft = pkt[o + 3];
			memcpy(&ip->rh2_hoa, pkt + o + 8, 16);
		}
		nh = pkt[o];
		o += hlen;
	}
	ip->proto = nh;
	ip->l4_off = o;
	return HA_OK;
}

static bool udp_checksum_ok(const uint8_t *pkt, const struct ha_ip_hdr *ip, uint32_t uoff,
			    uint32_t ulen)
{
	uint8_t tail[4] = { 0, IP_PROTO_UDP, (uint8_t)(ulen >> 8), (uint8_t)ulen };
	uint32_t sum = 0;

	if (ip->ver == 4) {
		if (ha_rd16(pkt + uoff + 6) == 0)
			return true; /* IPv4 UDP checksum is optional */
		sum = ha_csum_add(sum, &ip->src4, 4);
		sum = ha_csum_add(sum, &ip->dst4, 4);
		sum = ha_csum_add(sum, tail, 4);
	} else {
		uint8_t t6[8] = { 0, 0, (uint8_t)(ulen >> 8), (uint8_t)ulen, 0, 0, 0, IP_PROTO_UDP };
		sum = ha_csum_add(sum, &ip->src6, 16);
		sum = ha_csum_add(sum, &ip->dst6, 16);
		sum = ha_csum_add(sum, t6, 8);
	}
	sum = ha_csum_add(sum, pkt + uoff, ulen);
	return ha_csum_fold(sum) == 0;
}

static void set_esp(struct ha_pkt *p, const uint8_t *pkt, uint32_t off)
{
	p->cls = HA_PKT_ESP;
	p->esp_off = off;
	p->esp_spi = ha_rd32(pkt + off);
	p->esp_seq = ha_rd32(pkt + off + 4);
}

/* Classify by the upper-layer protocol of the IP header that carries it. */
static enum ha_err classify_l4(const uint8_t *pkt, const struct ha_ip_hdr *ip, struct ha_pkt *p)
{
	uint32_t l4 = ip->l4_off, avail = ip->end - ip->l4_off;

	p->err_offset = l4;
	switch (ip->proto) {
	case MH_PROTO:
		p->cls = ip->ver == 6 ? HA_PKT_MH : HA_PKT_IP;
		return HA_OK;
	case HA_IPPROTO_ESP:
		if (avail < 8)
			return PKT_ERR_TRUNCATED;
		set_esp(p, pkt, l4);
		return HA_OK;
	case IP_PROTO_ICMP6:
		if (avail < 4)
			return PKT_ERR_TRUNCATED;
		/* RS, RA, NS, NA, Redirect: the HA answers for its own addresses */
		p->cls = pkt[l4] >= 133 && pkt[l4] <= 137 ? HA_PKT_ND : HA_PKT_IP;
		return HA_OK;
	default:
		p->cls = HA_PKT_IP;
		return HA_OK;
	}
}

static enum ha_err classify_inner(const uint8_t *pkt, uint32_t off, uint32_t end, struct ha_pkt *p)
{
	enum ha_err e = parse_ip(pkt, off, end, &p->inner, &p->err_offset);

	if (e != HA_OK)
		return e;
	if (p->inner.end != end) {
		p->err_offset = off + (p->inner.ver == 4 ? 2 : 4);
		return PKT_ERR_IP_LENGTH;
	}
	return HA_OK;
}

enum ha_err ha_pkt_classify(const uint8_t *pkt, size_t len, struct ha_pkt *p)
{
	struct ha_ip_hdr *ip = &p->outer;
	enum ha_err e;

	memset(p, 0, sizeof(*p));
	p->cls = HA_PKT_OTHER;
	if (len > UINT32_MAX / 2)
		return PKT_ERR_IP_LENGTH;
	e = parse_ip(pkt, 0, (uint32_t)len, ip, &p->err_offset);
	if (e != HA_OK)
		return e;

	if (ip->proto == IP_PROTO_IPIP || ip->proto == IP_PROTO_IPV6) {
		/* IPv4/IPv6 in IPv4/IPv6 (RFC 5555 tunnels, RFC 6275 reverse tunnel) */
		e = classify_inner(pkt, ip->l4_off, ip->end, p);
		if (e != HA_OK)
			return e;
		if ((ip->proto == IP_PROTO_IPIP) != (p->inner.ver == 4)) {
			p->err_offset = ip->l4_off;
			return PKT_ERR_IP_VERSION;
		}
		p->cls = HA_PKT_TUNNEL;
		return HA_OK;
	}
	if (ip->proto != IP_PROTO_UDP)
		return classify_l4(pkt, ip, p);

	uint32_t u = ip->l4_off, ulen;
	p->err_offset = u;
	if (ip->end - u < 8)
		return PKT_ERR_TRUNCATED;
	ulen = ha_rd16(pkt + u + 4);
	if (ulen < 8 || ulen > ip->end - u) {
		p->err_offset = u + 4;
		return PKT_ERR_UDP_LENGTH;
	}
	if (!udp_checksum_ok(pkt, ip, u, ulen)) {
		p->err_offset = u + 6;
		return PKT_ERR_UDP_CHECKSUM;
	}
	p->udp = true;
	p->udp_off = u;
	p->sport = ha_rd16(pkt + u);
	p->dport = ha_rd16(pkt + u + 2);
	uint32_t pl = u + 8, plen = ulen - 8;

	if (ip->ver == 4 && (p->dport == HA_UDP_PORT_DSMIP || p->sport == HA_UDP_PORT_DSMIP)) {
		/* RFC 5555 4.1: the UDP payload is an IPv6 or IPv4 packet */
		e = classify_inner(pkt, pl, pl + plen, p);
		if (e != HA_OK)
			return e;
		p->udp_encap = true;
		if (p->inner.proto == IP_PROTO_IPIP || p->inner.proto == IP_PROTO_IPV6) {
			p->err_offset = p->inner.l4_off;
			return PKT_ERR_NESTING;
		}
		if (p->inner.ver == 6 && p->inner.proto == MH_PROTO) {
			p->cls = HA_PKT_MH;
		} else if (p->inner.ver == 6 && p->inner.proto == HA_IPPROTO_ESP) {
			if (p->inner.end - p->inner.l4_off < 8) {
				p->err_offset = p->inner.l4_off;
				return PKT_ERR_TRUNCATED;
			}
			set_esp(p, pkt, p->inner.l4_off);
		} else {
			p->cls = HA_PKT_TUNNEL;
		}
		return HA_OK;
	}
	if (p->dport == HA_UDP_PORT_IKE || p->sport == HA_UDP_PORT_IKE) {
		p->cls = HA_PKT_IKE;
	} else if (p->dport == HA_UDP_PORT_IKE_NATT || p->sport == HA_UDP_PORT_IKE_NATT) {
		/* RFC 3948: a zero non-ESP marker means IKE, a lone 0xFF is a NAT keepalive */
		if (plen == 1 && pkt[pl] == 0xFF)
			p->cls = HA_PKT_IKE;
		else if (plen < 8)
			return PKT_ERR_TRUNCATED;
		else if (ha_rd32(pkt + pl) == 0)
			p->cls = HA_PKT_IKE;
		else
			set_esp(p, pkt, pl);
	} else {
		p->cls = HA_PKT_IP;
	}
	return HA_OK;
}

enum ha_err ha_pkt_classify_eth(const uint8_t *f, size_t len, struct ha_pkt *p)
{
	size_t off = 12;
	uint16_t et, vlan = 0;
	enum ha_err e;

	memset(p, 0, sizeof(*p));
	p->cls = HA_PKT_OTHER;
	if (len < 14)
		return PKT_ERR_TRUNCATED;
	et = ha_rd16(f + off);
	for (int tags = 0; (et == ETH_P_VLAN || et == ETH_P_QINQ) && tags < 2; tags++) {
		if (len < off + 6)
			return PKT_ERR_TRUNCATED;
		if (!tags)
			vlan = ha_rd16(f + off + 2) & 0x0FFF;
		off += 4;
		et = ha_rd16(f + off);
	}
	off += 2;
	if (et == ETH_P_ARP) {
		p->ethertype = et;
		p->vlan = vlan;
		p->cls = HA_PKT_ARP;
		return HA_OK;
	}
	if (et != ETH_P_IPV4 && et != ETH_P_IPV6) {
		p->ethertype = et;
		p->vlan = vlan;
		return HA_OK;
	}
	e = ha_pkt_classify(f + off, len - off, p);
	/* report offsets relative to the frame */
	p->ethertype = et;
	p->vlan = vlan;
	p->err_offset += (uint32_t)off;
	if (p->outer.ver) {
		p->outer.off += (uint32_t)off;
		p->outer.l4_off += (uint32_t)off;
		p->outer.end += (uint32_t)off;
	}
	if (p->inner.ver) {
		p->inner.off += (uint32_t)off;
		p->inner.l4_off += (uint32_t)off;
		p->inner.end += (uint32_t)off;
	}
	if (p->udp)
		p->udp_off += (uint32_t)off;
	if (p->cls == HA_PKT_ESP)
		p->esp_off += (uint32_t)off;
	if (e == HA_OK && p->outer.ver != (et == ETH_P_IPV4 ? 4 : 6)) {
		p->err_offset = p->outer.off;
		return PKT_ERR_IP_VERSION;
	}
	return e;
}

enum ha_err ha_pkt_parse_mh(const uint8_t *pkt, struct ha_pkt *p, struct mh_msg *m)
{
	const struct ha_ip_hdr *ip = ha_pkt_carrier(p);
	struct mh_pseudo ph;
	enum ha_err e;

	/* RFC 6275 6.1.1: the home address from the HAO is the source, the RH2 address the
	 * final destination */
	ph.src = ip->hao ? ip->hoa : ip->src6;
	ph.dst = ip->rh2 ? ip->rh2_hoa : ip->dst6;
	e = mh_parse(pkt + ip->l4_off, ip->end - ip->l4_off, &ph, m);
	p->err_offset = ip->l4_off + m->err_offset;
	if (e != HA_OK)
		return e;
	/* RFC 5555 4.2: the IPv4 Care-of Address option belongs in a BU sent in UDP over IPv4 */
	if (m->type == MH_TYPE_BU && MH_HAS_OPT(&m->opts, MH_OPT_IPV4_COA) && !p->udp_encap)
		return PKT_ERR_V4COA_NOT_UDP;
	return HA_OK;
}

/* ---- builder ---------------------------------------------------------------------------- */

int ha_pkt_build_mh(const struct ha_pkt_spec *s, const struct mh_msg *m, uint8_t *buf,
		    size_t cap)
{
	size_t ip6_off = s->udp4 ? 28 : 0, o = ip6_off + 40;
	uint8_t *nh = NULL; /* the Next Header octet to chain the next header into */
	struct mh_pseudo ph;
	int mhlen;

	if (cap < o + 24 + 24)
		return -1;
	memset(buf, 0, o);
	uint8_t *ip6 = buf + ip6_off;
	ip6[0] = 0x60;
	ip6[7] = s->hop_limit ? s->hop_limit : 64;
	memcpy(ip6 + 8, &s->src6, 16);
	memcpy(ip6 + 24, &s->dst6, 16);
	nh = ip6 + 6;
	if (s->rh2) { /* routing header before the destination options (RFC 8200 4.1) */
		uint8_t *r = buf + o;
		memset(r, 0, 24);
		*nh = IP6_NH_ROUTING;
		r[1] = 2;
		r[2] = 2;
		r[3] = 1;
		memcpy(r + 8, &s->rh2_hoa, 16);
		nh = r;
		o += 24;
	}
	if (s->hao) { /* PadN(2) then the HAO at offset 6, 8n+6 aligned (RFC 6275 6.3) */
		uint8_t *d = buf + o;
		memset(d, 0, 24);
		*nh = IP6_NH_DSTOPTS;
		d[1] = 2;
		d[2] = 1;
		d[3] = 2;
		d[6] = HA_IP6OPT_HAO;
		d[7] = 16;
		memcpy(d + 8, &s->hoa, 16);
		nh = d;
		o += 24;
	}
	*nh = MH_PROTO;
	ph.src = s->hao ? s->hoa : s->src6;
	ph.dst = s->rh2 ? s->rh2_hoa : s->dst6;
	mhlen = mh_build(m, &ph, buf + o, cap - o);
	if (mhlen < 0)
		return -1;
	o += (size_t)mhlen;
	if (o - ip6_off - 40 > 0xFFFF)
		return -1;
	ha_wr16(ip6 + 4, (uint16_t)(o - ip6_off - 40));
	if (!s->udp4)
		return (int)o;

	/* RFC 5555 4.1: IPv4 / UDP / IPv6 */
	uint8_t *v4 = buf, *u = buf + 20;
	v4[0] = 0x45;
	ha_wr16(v4 + 2, (uint16_t)o);
	v4[6] = 0x40; /* DF */
	v4[8] = 64;
	v4[9] = IP_PROTO_UDP;
	memcpy(v4 + 12, &s->src4, 4);
	memcpy(v4 + 16, &s->dst4, 4);
	ha_wr16(v4 + 10, ha_csum_fold(ha_csum_add(0, v4, 20)));
	ha_wr16(u, s->sport);
	ha_wr16(u + 2, s->dport);
	ha_wr16(u + 4, (uint16_t)(o - 20));
	uint8_t tail[4] = { 0, IP_PROTO_UDP, u[4], u[5] };
	uint32_t sum = ha_csum_add(0, &s->src4, 4);
	sum = ha_csum_add(sum, &s->dst4, 4);
	sum = ha_csum_add(sum, tail, 4);
	sum = ha_csum_add(sum, u, o - 20);
	uint16_t c = ha_csum_fold(sum);
	ha_wr16(u + 6, c ? c : 0xFFFF);
	return (int)o;
}
