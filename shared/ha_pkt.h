/*
 * Packet classifier and signalling packet builder: the outer headers around a Mobility Header.
 *
 * Classifies a frame or an IP packet into what the Home Agent does with it (Mobility Header,
 * ESP, IKE, tunnelled user packet, neighbour discovery, ARP, plain IP) and locates every header
 * on the way: IPv4 (checksum checked), UDP (checksum checked when not zero), the RFC 5555
 * UDP 4191 encapsulation, IPv6 extension headers with the Home Address option (RFC 6275 6.3) and
 * the type 2 routing header (RFC 6275 6.4), IPv4/IPv6-in-IPv4/IPv6 tunnels.
 * Pure: bytes and a length in, offsets and addresses out; every length is checked here, nothing
 * downstream may assume more than this code verified.
 */
#ifndef HA_PKT_H
#define HA_PKT_H

#include "mh_codec.h"

#define HA_UDP_PORT_DSMIP  4191 /* RFC 5555 */
#define HA_UDP_PORT_IKE    500
#define HA_UDP_PORT_IKE_NATT 4500
#define HA_IPPROTO_ESP     50
#define HA_IP6OPT_HAO      0xC9
#define HA_MAX_EXT_HDRS    8

#define HA_PKT_CLASSES(X) \
	X(HA_PKT_MH,     "mobility-header") \
	X(HA_PKT_ESP,    "esp") \
	X(HA_PKT_IKE,    "ike") \
	X(HA_PKT_TUNNEL, "tunnel") \
	X(HA_PKT_ND,     "neighbour-discovery") \
	X(HA_PKT_ARP,    "arp") \
	X(HA_PKT_IP,     "ip") \
	X(HA_PKT_OTHER,  "other")

enum ha_pkt_class {
#define X(e, n) e,
	HA_PKT_CLASSES(X)
#undef X
};

/* One IP header and what follows it up to the upper-layer protocol. Offsets are from the start
 * of the classifier's input. */
struct ha_ip_hdr {
	uint8_t ver;           /* 0 = absent, 4 or 6 */
	uint8_t proto;         /* upper-layer protocol after the extension headers */
	uint8_t hop_limit;
	uint32_t off;          /* the IP header */
	uint32_t l4_off;       /* the upper-layer header */
	uint32_t end;          /* end of this packet, from its own length field */
	struct in_addr src4, dst4;
	struct in6_addr src6, dst6;
	bool hao;              /* Home Address destination option present */
	struct in6_addr hoa;
	bool rh2;              /* type 2 routing header present */
	uint8_t rh2_segleft;
	struct in6_addr rh2_hoa;
};

struct ha_pkt {
	enum ha_pkt_class cls;
	uint16_t ethertype;     /* 0 when the input began at the IP header */
	uint16_t vlan;          /* outermost VLAN id, 0 if untagged */
	struct ha_ip_hdr outer;
	bool udp;               /* the outer packet carries UDP */
	uint16_t sport, dport;
	uint32_t udp_off;
	bool udp_encap;         /* RFC 5555 UDP 4191 encapsulation: inner holds the packet */
	struct ha_ip_hdr inner; /* inside UDP 4191 or an IP-in-IP tunnel */
	uint32_t esp_off;       /* ESP header (HA_PKT_ESP) */
	uint32_t esp_spi, esp_seq;
	uint32_t err_offset;    /* on error: offset of the offending octet in the input */
};

/** The IPv6 header that carries the Mobility Header or ESP: the inner one after UDP 4191. */
static inline const struct ha_ip_hdr *ha_pkt_carrier(const struct ha_pkt *p)
{
	return p->udp_encap ? &p->inner : &p->outer;
}

/** Classify an IP packet (first octet = version nibble). */
enum ha_err ha_pkt_classify(const uint8_t *pkt, size_t len, struct ha_pkt *p);

/** Classify an Ethernet frame (up to two VLAN tags). */
enum ha_err ha_pkt_classify_eth(const uint8_t *frame, size_t len, struct ha_pkt *p);

/**
 * Parse the Mobility Header of a packet classified HA_PKT_MH, with the checksum computed over
 * the RFC 6275 pseudo-header (HAO home address as source, RH2 home address as destination),
 * and the transport rules that need the outer headers (an IPv4 Care-of Address option only in
 * UDP 4191 over IPv4, RFC 5555). err_offset in both structures is then relative to pkt.
 */
enum ha_err ha_pkt_parse_mh(const uint8_t *pkt, struct ha_pkt *p, struct mh_msg *m);

/** What to wrap around a Mobility Header. */
struct ha_pkt_spec {
	struct in6_addr src6, dst6;  /* IPv6 header carrying the MH (dst6 = CoA when rh2 is set) */
	bool hao;                    /* Home Address option (BU from a foreign link) */
	struct in6_addr hoa;
	bool rh2;                    /* type 2 routing header (BA/BRI/HAS sent to a care-of address) */
	struct in6_addr rh2_hoa;
	uint8_t hop_limit;           /* 0 means 64 */
	bool udp4;                   /* RFC 5555: IPv4 / UDP / IPv6 */
	struct in_addr src4, dst4;
	uint16_t sport, dport;
};

/**
 * Build IPv6 [+ Destination Options with HAO] [+ RH2] + MH, optionally inside IPv4/UDP, with
 * every length and checksum filled in. @return the packet length, or -1 if it does not fit.
 */
int ha_pkt_build_mh(const struct ha_pkt_spec *s, const struct mh_msg *m, uint8_t *buf,
		    size_t cap);

const char *ha_pkt_class_name(enum ha_pkt_class c);

#endif
