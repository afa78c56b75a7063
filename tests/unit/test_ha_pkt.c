/*
 * Packet classifier and signalling packet builder: HAO and RH2 (RFC 6275 6.3, 6.4, 6.1.1
 * pseudo-header), the RFC 5555 UDP 4191 encapsulation (4.1) and the IPv4 CoA option rule (4.2),
 * tunnels, IKE/ESP demultiplexing (RFC 3948), and every packet-level error.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "ha_pkt.h"

static struct in6_addr a6(const char *s)
{
	struct in6_addr a;
	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static struct in_addr a4(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

#define HA6   "2001:db8:1::1"
#define HOA6  "2001:db8:1::200"
#define COA6  "2001:db8:ff::100"
#define HA4   "192.0.2.1"
#define COA4  "10.1.2.3"
#define NAT4  "203.0.113.9"

static struct mh_msg bu(uint16_t seq)
{
	struct mh_msg m = { .type = MH_TYPE_BU };
	m.bu.seq = seq;
	m.bu.flags = MH_BU_A | MH_BU_H | MH_BU_K;
	m.bu.lifetime = 900;
	return m;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* raw IPv6 header followed by plen octets of payload the caller writes */
static size_t ip6_hdr(uint8_t *b, uint8_t nh, const char *src, const char *dst, uint16_t plen)
{
	struct in6_addr s = a6(src), d = a6(dst);
	memset(b, 0, 40);
	b[0] = 0x60;
	wr16(b + 4, plen);
	b[6] = nh;
	b[7] = 64;
	memcpy(b + 8, &s, 16);
	memcpy(b + 24, &d, 16);
	return 40;
}

static size_t ip4_hdr(uint8_t *b, uint8_t proto, const char *src, const char *dst, uint16_t tot)
{
	struct in_addr s = a4(src), d = a4(dst);
	memset(b, 0, 20);
	b[0] = 0x45;
	wr16(b + 2, tot);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, &s, 4);
	memcpy(b + 16, &d, 4);
	wr16(b + 10, ha_csum_fold(ha_csum_add(0, b, 20)));
	return 20;
}

/* UDP header with a zero checksum (allowed over IPv4) */
static size_t udp_hdr(uint8_t *b, uint16_t sport, uint16_t dport, uint16_t len)
{
	memset(b, 0, 8);
	wr16(b, sport);
	wr16(b + 2, dport);
	wr16(b + 4, len);
	return 8;
}

/* RFC 6275 6.3 and 6.1.1: BU from a foreign link carries the HAO; its checksum uses the HoA. */
Test(signalling, bu_with_home_address_option)
{
	uint8_t b[512];
	struct ha_pkt_spec s = { .src6 = a6(COA6), .dst6 = a6(HA6), .hao = true, .hoa = a6(HOA6) };
	struct mh_msg m = bu(7), r;
	struct ha_pkt p;
	int n = ha_pkt_build_mh(&s, &m, b, sizeof(b));

	cr_assert_gt(n, 0);
	cr_assert_eq(ha_pkt_classify(b, (size_t)n, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_MH);
	cr_assert_eq(p.outer.ver, 6);
	cr_assert(p.outer.hao);
	cr_assert_arr_eq(&p.outer.hoa, &s.hoa, 16);
	cr_assert_arr_eq(&p.outer.src6, &s.src6, 16);
	cr_assert_eq(p.outer.l4_off, 40 + 24);
	cr_assert_eq(b[40 + 6], HA_IP6OPT_HAO);
	cr_assert_eq((40 + 6) % 8, 6, "HAO at 8n+6");
	cr_assert_eq(ha_pkt_parse_mh(b, &p, &r), HA_OK);
	cr_assert_eq(r.bu.seq, 7);

	/* the same MH checksummed over the care-of address fails */
	struct mh_pseudo wrong = { a6(COA6), a6(HA6) };
	cr_assert_eq(mh_parse(b + p.outer.l4_off, p.outer.end - p.outer.l4_off, &wrong, &r),
		     MH_ERR_CHECKSUM);
}

/* RFC 6275 6.4 and 6.1.1: BA to the care-of address with a type 2 routing header. */
Test(signalling, ba_with_type2_routing_header)
{
	uint8_t b[512];
	struct ha_pkt_spec s = { .src6 = a6(HA6), .dst6 = a6(COA6), .rh2 = true,
				 .rh2_hoa = a6(HOA6) };
	struct mh_msg m = { .type = MH_TYPE_BA }, r;
	struct ha_pkt p;

	m.ba.seq = 7;
	m.ba.lifetime = 900;
	m.ba.flags = MH_BA_K;
	int n = ha_pkt_build_mh(&s, &m, b, sizeof(b));
	cr_assert_gt(n, 0);
	cr_assert_eq(ha_pkt_classify(b, (size_t)n, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_MH);
	cr_assert(p.outer.rh2);
	cr_assert_eq(p.outer.rh2_segleft, 1);
	cr_assert_arr_eq(&p.outer.rh2_hoa, &s.rh2_hoa, 16);
	cr_assert_eq(ha_pkt_parse_mh(b, &p, &r), HA_OK);
	cr_assert_eq(r.ba.flags, MH_BA_K);
}

/* RFC 5555 4.1/4.2: BU over IPv4/UDP 4191 with the IPv4 CoA option (NAT on the path: outer
 * source differs from the option). */
Test(signalling, bu_in_udp_4191_over_ipv4)
{
	uint8_t b[512];
	struct ha_pkt_spec s = { .src6 = a6(HOA6), .dst6 = a6(HA6), .udp4 = true,
				 .src4 = a4(NAT4), .dst4 = a4(HA4), .sport = 40001,
				 .dport = HA_UDP_PORT_DSMIP };
	struct mh_msg m = bu(8), r;
	struct ha_pkt p;

	m.opts.ipv4_coa = a4(COA4);
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_COA);
	m.opts.ipv4_hoa.prefix_len = 32;
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	int n = ha_pkt_build_mh(&s, &m, b, sizeof(b));
	cr_assert_gt(n, 0);
	cr_assert_eq(ha_pkt_classify(b, (size_t)n, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_MH);
	cr_assert(p.udp && p.udp_encap);
	cr_assert_eq(p.sport, 40001);
	cr_assert_eq(p.dport, 4191);
	cr_assert_eq(p.outer.ver, 4);
	cr_assert_eq(p.outer.src4.s_addr, a4(NAT4).s_addr);
	cr_assert_eq(p.inner.ver, 6);
	cr_assert_eq(ha_pkt_carrier(&p), &p.inner);
	cr_assert_eq(ha_pkt_parse_mh(b, &p, &r), HA_OK);
	cr_assert_eq(r.opts.ipv4_coa.s_addr, a4(COA4).s_addr);

	/* a corrupted UDP checksum is caught */
	b[n - 1] ^= 0x40;
	cr_assert_eq(ha_pkt_classify(b, (size_t)n, &p), PKT_ERR_UDP_CHECKSUM);
	/* a zero UDP checksum is allowed over IPv4, then the MH checksum catches it */
	b[26] = b[27] = 0;
	cr_assert_eq(ha_pkt_classify(b, (size_t)n, &p), HA_OK);
	cr_assert_eq(ha_pkt_parse_mh(b, &p, &r), MH_ERR_CHECKSUM);
}

/* RFC 5555 4.2: the IPv4 Care-of Address option in a BU that did not come over IPv4/UDP. */
Test(signalling, ipv4_coa_option_outside_udp_is_refused)
{
	uint8_t b[512];
	struct ha_pkt_spec s = { .src6 = a6(COA6), .dst6 = a6(HA6), .hao = true, .hoa = a6(HOA6) };
	struct mh_msg m = bu(9), r;
	struct ha_pkt p;

	m.opts.ipv4_coa = a4(COA4);
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_COA);
	int n = ha_pkt_build_mh(&s, &m, b, sizeof(b));
	cr_assert_eq(ha_pkt_classify(b, (size_t)n, &p), HA_OK);
	cr_assert_eq(ha_pkt_parse_mh(b, &p, &r), PKT_ERR_V4COA_NOT_UDP);
	struct ha_err_disposition d = ha_err_disposition(PKT_ERR_V4COA_NOT_UDP);
	cr_assert_eq(d.action, HA_ACT_BA);
	cr_assert_eq(d.code, MH_BA_INVALID_COA);
	cr_assert_eq(r.bu.seq, 9, "the message is still decoded for the BA");
}

Test(signalling, error_offsets_are_relative_to_the_packet)
{
	uint8_t b[512];
	struct ha_pkt_spec s = { .src6 = a6(COA6), .dst6 = a6(HA6), .hao = true, .hoa = a6(HOA6) };
	struct mh_msg m = bu(1), r;
	struct ha_pkt p;
	int n = ha_pkt_build_mh(&s, &m, b, sizeof(b));

	b[64] = 6; /* Payload Proto of the MH */
	cr_assert_eq(ha_pkt_classify(b, (size_t)n, &p), HA_OK);
	/* no checksum fix-up: the checksum error comes first (RFC 6275 9.2) */
	cr_assert_eq(ha_pkt_parse_mh(b, &p, &r), MH_ERR_CHECKSUM);
	cr_assert_eq(p.err_offset, 64 + 4);
}

Test(signalling, builder_refuses_small_buffers)
{
	uint8_t b[512];
	struct ha_pkt_spec s = { .src6 = a6(COA6), .dst6 = a6(HA6), .hao = true, .hoa = a6(HOA6),
				 .udp4 = true };
	struct mh_msg m = bu(1);
	int n = ha_pkt_build_mh(&s, &m, b, sizeof(b));
	cr_assert_gt(n, 0);
	for (size_t cap = 0; cap < (size_t)n; cap++)
		cr_assert_eq(ha_pkt_build_mh(&s, &m, b, cap), -1, "cap %zu", cap);
}

/* Every prefix of a valid packet is refused cleanly (the lengths come from the headers). */
Test(errors, every_truncation_is_an_error)
{
	uint8_t b[512];
	struct ha_pkt_spec s = { .src6 = a6(HOA6), .dst6 = a6(HA6), .hao = true, .hoa = a6(HOA6),
				 .udp4 = true, .src4 = a4(COA4), .dst4 = a4(HA4), .sport = 4191,
				 .dport = 4191 };
	struct mh_msg m = bu(1);
	struct ha_pkt p;
	int n = ha_pkt_build_mh(&s, &m, b, sizeof(b));

	for (int len = 0; len < n; len++) {
		uint8_t *copy = malloc((size_t)len + 1);
		memcpy(copy, b, (size_t)len);
		enum ha_err e = ha_pkt_classify(copy, (size_t)len, &p);
		cr_assert_neq(e, HA_OK, "truncated to %d accepted", len);
		free(copy);
	}
}

Test(errors, ipv4_header_checksum_and_length)
{
	uint8_t b[64];
	size_t o = ip4_hdr(b, 17, COA4, HA4, 28);
	udp_hdr(b + o, 1, 2, 8);
	struct ha_pkt p;
	cr_assert_eq(ha_pkt_classify(b, 28, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_IP);
	b[12] ^= 1;
	cr_assert_eq(ha_pkt_classify(b, 28, &p), PKT_ERR_IPV4_CHECKSUM);
	cr_assert_eq(p.err_offset, 10);
	ip4_hdr(b, 17, COA4, HA4, 40);
	cr_assert_eq(ha_pkt_classify(b, 28, &p), PKT_ERR_TRUNCATED);
	ip4_hdr(b, 17, COA4, HA4, 28);
	wr16(b + 6, 0x2000); /* MF */
	wr16(b + 10, 0);
	wr16(b + 10, ha_csum_fold(ha_csum_add(0, b, 20)));
	cr_assert_eq(ha_pkt_classify(b, 28, &p), PKT_ERR_FRAGMENT);
	b[0] = 0x55;
	cr_assert_eq(ha_pkt_classify(b, 28, &p), PKT_ERR_IP_VERSION);
	/* IHL below 5 words, and a total length shorter than the header */
	ip4_hdr(b, 17, COA4, HA4, 28);
	b[0] = 0x44;
	cr_assert_eq(ha_pkt_classify(b, 28, &p), PKT_ERR_IP_LENGTH);
	cr_assert_eq(p.err_offset, 0);
	ip4_hdr(b, 17, COA4, HA4, 12);
	cr_assert_eq(ha_pkt_classify(b, 28, &p), PKT_ERR_IP_LENGTH);
	cr_assert_eq(p.err_offset, 2);
}

Test(errors, udp_length)
{
	uint8_t b[64];
	size_t o = ip4_hdr(b, 17, COA4, HA4, 28);
	struct ha_pkt p;
	udp_hdr(b + o, 1, 4191, 30);
	cr_assert_eq(ha_pkt_classify(b, 28, &p), PKT_ERR_UDP_LENGTH);
	udp_hdr(b + o, 1, 4191, 7);
	cr_assert_eq(ha_pkt_classify(b, 28, &p), PKT_ERR_UDP_LENGTH);
}

Test(errors, bad_home_address_options)
{
	uint8_t b[128];
	struct ha_pkt p;
	/* Destination Options with an HAO of length 8 */
	ip6_hdr(b, 60, COA6, HA6, 16);
	memset(b + 40, 0, 16);
	b[40] = 59;
	b[41] = 1;
	b[42] = HA_IP6OPT_HAO;
	b[43] = 8;
	b[52] = 1; /* PadN to fill 16 octets */
	b[53] = 2;
	cr_assert_eq(ha_pkt_classify(b, 56, &p), PKT_ERR_HAO_LENGTH);
	cr_assert_eq(p.err_offset, 42);
	/* two HAOs in one header */
	ip6_hdr(b, 60, COA6, HA6, 40);
	memset(b + 40, 0, 40);
	b[40] = 59;
	b[41] = 4;
	b[42] = 0; b[43] = 0; b[44] = 0; b[45] = 0; /* Pad1 x4 to reach 8n+6 */
	b[46] = HA_IP6OPT_HAO; b[47] = 16;
	b[62] = 0; b[63] = 0; b[64] = 0; b[65] = 0; b[66] = 0; b[67] = 0;
	b[68] = HA_IP6OPT_HAO; b[69] = 16;
	/* 68 + 18 = 86 > 80: shorten the second to fit by using a PadN instead, then duplicate */
	ip6_hdr(b, 60, COA6, HA6, 48);
	memset(b + 40, 0, 48);
	b[40] = 59;
	b[41] = 5;
	b[42] = 1; b[43] = 2; /* PadN(2) -> HAO at 46 */
	b[46] = HA_IP6OPT_HAO; b[47] = 16;
	b[64] = 1; b[65] = 2; /* PadN(2) -> HAO at 70 */
	b[68] = 0; b[69] = 0;
	b[70] = HA_IP6OPT_HAO; b[71] = 16;
	cr_assert_eq(ha_pkt_classify(b, 88, &p), PKT_ERR_HAO_DUPLICATE);
	/* an option running past the header */
	ip6_hdr(b, 60, COA6, HA6, 8);
	memset(b + 40, 0, 8);
	b[40] = 59;
	b[42] = 1;
	b[43] = 9;
	cr_assert_eq(ha_pkt_classify(b, 48, &p), PKT_ERR_EXT_CHAIN);
}

/* RFC 6275 6.4: Hdr Ext Len 2 and Segments Left 1, else ICMP Parameter Problem. */
Test(errors, bad_type2_routing_header)
{
	uint8_t b[128];
	struct ha_pkt p;
	ip6_hdr(b, 43, HA6, COA6, 24);
	memset(b + 40, 0, 24);
	b[40] = 59;
	b[41] = 2;
	b[42] = 2;
	b[43] = 0; /* segments left 0 */
	cr_assert_eq(ha_pkt_classify(b, 64, &p), PKT_ERR_RH2_FORMAT);
	cr_assert_eq(p.err_offset, 43);
	cr_assert_eq(ha_err_disposition(PKT_ERR_RH2_FORMAT).action, HA_ACT_ICMP_PARAM);
	b[43] = 1;
	cr_assert_eq(ha_pkt_classify(b, 64, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_IP);
	cr_assert(p.outer.rh2);
}

Test(errors, extension_header_chain_and_fragments)
{
	uint8_t b[256];
	struct ha_pkt p;
	/* nine empty Destination Options headers */
	ip6_hdr(b, 60, COA6, HA6, 72);
	for (int i = 0; i < 9; i++) {
		memset(b + 40 + 8 * i, 0, 8);
		b[40 + 8 * i] = i == 8 ? 59 : 60;
		b[40 + 8 * i + 2] = 1; /* PadN(4) */
		b[40 + 8 * i + 3] = 4;
	}
	cr_assert_eq(ha_pkt_classify(b, 112, &p), PKT_ERR_EXT_CHAIN);
	ip6_hdr(b, 44, COA6, HA6, 8);
	memset(b + 40, 0, 8);
	cr_assert_eq(ha_pkt_classify(b, 48, &p), PKT_ERR_FRAGMENT);
	/* IPv6 payload length beyond the buffer */
	ip6_hdr(b, 59, COA6, HA6, 100);
	cr_assert_eq(ha_pkt_classify(b, 48, &p), PKT_ERR_TRUNCATED);
	cr_assert_eq(p.err_offset, 4);
}

/* ---- classes ---------------------------------------------------------------------------- */

Test(classes, ike_and_esp)
{
	uint8_t b[128];
	struct ha_pkt p;
	size_t o = ip4_hdr(b, 17, COA4, HA4, 20 + 8 + 28);
	udp_hdr(b + o, 500, 500, 8 + 28);
	memset(b + 28, 0xAB, 28);
	cr_assert_eq(ha_pkt_classify(b, 56, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_IKE);
	/* 4500 with the non-ESP marker: IKE */
	udp_hdr(b + o, 4500, 4500, 36);
	memset(b + 28, 0, 4);
	cr_assert_eq(ha_pkt_classify(b, 56, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_IKE);
	/* 4500 with an SPI: ESP in UDP (RFC 3948) */
	wr16(b + 28, 0x0000);
	wr16(b + 30, 0x1001);
	wr16(b + 32, 0);
	wr16(b + 34, 5);
	cr_assert_eq(ha_pkt_classify(b, 56, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_ESP);
	cr_assert_eq(p.esp_spi, 0x1001);
	cr_assert_eq(p.esp_seq, 5);
	/* NAT keepalive */
	ip4_hdr(b, 17, COA4, HA4, 29);
	udp_hdr(b + o, 4500, 4500, 9);
	b[28] = 0xFF;
	cr_assert_eq(ha_pkt_classify(b, 29, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_IKE);
	/* ESP directly over IPv6 */
	ip6_hdr(b, 50, COA6, HA6, 24);
	memset(b + 40, 0, 24);
	b[43] = 0x42;
	b[47] = 1;
	cr_assert_eq(ha_pkt_classify(b, 64, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_ESP);
	cr_assert_eq(p.esp_spi, 0x42);
	cr_assert_eq(p.esp_off, 40);
}

/* RFC 5555 table of data-plane encapsulations (protocol.md section 5). */
Test(classes, tunnels)
{
	uint8_t b[256];
	struct ha_pkt p;
	/* IPv6-in-IPv6 */
	ip6_hdr(b, 41, COA6, HA6, 40);
	ip6_hdr(b + 40, 59, HOA6, "2001:db8:9::9", 0);
	cr_assert_eq(ha_pkt_classify(b, 80, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_TUNNEL);
	cr_assert_eq(p.inner.ver, 6);
	cr_assert_eq(p.inner.off, 40);
	/* IPv4-in-IPv6 */
	ip6_hdr(b, 4, COA6, HA6, 20);
	ip4_hdr(b + 40, 17, "10.45.0.2", "198.51.100.1", 20);
	cr_assert_eq(ha_pkt_classify(b, 60, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_TUNNEL);
	cr_assert_eq(p.inner.src4.s_addr, a4("10.45.0.2").s_addr);
	/* IPv6-in-IPv4 */
	ip4_hdr(b, 41, COA4, HA4, 60);
	ip6_hdr(b + 20, 59, HOA6, "2001:db8:9::9", 0);
	cr_assert_eq(ha_pkt_classify(b, 60, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_TUNNEL);
	/* IPv4-in-IPv4 */
	ip4_hdr(b, 4, COA4, HA4, 40);
	ip4_hdr(b + 20, 6, "10.45.0.2", "198.51.100.1", 20);
	cr_assert_eq(ha_pkt_classify(b, 40, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_TUNNEL);
	/* protocol 41 claiming an IPv4 inner packet */
	ip4_hdr(b, 41, COA4, HA4, 40);
	cr_assert_eq(ha_pkt_classify(b, 40, &p), PKT_ERR_IP_VERSION);
	/* IPv4 / UDP 4191 / IPv4 data (NAT on path) */
	ip4_hdr(b, 17, NAT4, HA4, 48);
	udp_hdr(b + 20, 40001, 4191, 28);
	ip4_hdr(b + 28, 17, "10.45.0.2", "198.51.100.1", 20);
	cr_assert_eq(ha_pkt_classify(b, 48, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_TUNNEL);
	cr_assert(p.udp_encap);
	/* inner length (20) disagreeing with the UDP payload (24) */
	ip4_hdr(b, 17, NAT4, HA4, 52);
	udp_hdr(b + 20, 40001, 4191, 32);
	ip4_hdr(b + 28, 17, "10.45.0.2", "198.51.100.1", 20);
	memset(b + 48, 0, 4);
	cr_assert_eq(ha_pkt_classify(b, 52, &p), PKT_ERR_IP_LENGTH);
	cr_assert_eq(p.err_offset, 28 + 2);
	/* a tunnel inside UDP 4191 is one level too deep */
	ip4_hdr(b, 17, NAT4, HA4, 68);
	udp_hdr(b + 20, 40001, 4191, 48);
	ip4_hdr(b + 28, 41, "10.45.0.2", "198.51.100.1", 40);
	cr_assert_eq(ha_pkt_classify(b, 68, &p), PKT_ERR_NESTING);
}

Test(classes, neighbour_discovery_and_ethernet)
{
	uint8_t f[128] = { 0 };
	struct ha_pkt p;
	/* untagged Ethernet, IPv6 Neighbour Solicitation */
	f[12] = 0x86;
	f[13] = 0xDD;
	ip6_hdr(f + 14, 58, COA6, HA6, 24);
	f[14 + 40] = 135;
	cr_assert_eq(ha_pkt_classify_eth(f, 14 + 64, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_ND);
	cr_assert_eq(p.outer.off, 14);
	/* VLAN-tagged ARP */
	memset(f, 0, sizeof(f));
	f[12] = 0x81;
	f[15] = 100;
	f[16] = 0x08;
	f[17] = 0x06;
	cr_assert_eq(ha_pkt_classify_eth(f, 60, &p), HA_OK);
	cr_assert_eq(p.cls, HA_PKT_ARP);
	cr_assert_eq(p.vlan, 100);
	/* ethertype IPv4 but an IPv6 header */
	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	ip6_hdr(f + 14, 59, COA6, HA6, 0);
	cr_assert_eq(ha_pkt_classify_eth(f, 54, &p), PKT_ERR_IP_VERSION);
	cr_assert_eq(ha_pkt_classify_eth(f, 10, &p), PKT_ERR_TRUNCATED);
	cr_assert_str_eq(ha_pkt_class_name(HA_PKT_ND), "neighbour-discovery");
}
