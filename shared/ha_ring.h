/*
 * The contract between hadp (DPDK primary) and hacpd (DPDK secondary): the names of the objects
 * hadp creates in hugepage memory, and the fixed-size, versioned messages that cross them. Defined
 * here and nowhere else (architecture.md, "Shared hugepage rings").
 *
 *   punt    hadp -> hacpd  mbufs: signalling and packets the HA itself answers; the mbuf's private
 *                          area holds struct ha_pkt_meta (what the dataplane established)
 *   tx      hacpd -> hadp  mbufs: packets to send; struct ha_pkt_meta says how (SA, UDP, port)
 *   cmd     hacpd -> hadp  struct ha_cmd by value (rte_ring_*_elem): table updates
 *   ack     hadp -> hacpd  struct ha_cmd_ack by value: one per command, same seq
 *
 * punt is multi-producer (every worker) single-consumer (hacpd); tx, cmd and ack are single-
 * producer single-consumer: hadp's control thread (main lcore) alone reads tx and cmd and writes
 * ack, and one hacpd thread owns the other ends.
 */
#ifndef HA_RING_H
#define HA_RING_H

#include <assert.h>
#include <stdint.h>

#include "ha_sa.h"

#define HA_RING_VERSION 5 /* 5: the instance record (HA_SHM_INSTANCE) */

#define HA_SHM_MBUF_POOL "hadp_mbufs"
#define HA_SHM_RING_PUNT "hadp_punt"
#define HA_SHM_RING_TX   "hadp_tx"
#define HA_SHM_RING_CMD  "hadp_cmd"
#define HA_SHM_RING_ACK  "hadp_ack"
/* struct ha_instance: which run of hadp this is and which contract it speaks. hacpd reads it
 * before anything else: a hadp of another ring version is refused, and a new run (another id)
 * gets every binding, route and SA again (docs/restarts.md). */
#define HA_SHM_INSTANCE  "hadp_instance"
/* A uint32_t mbuf dynamic field: the generation of the hacpd run holding the mbuf, 0 when no
 * hacpd holds it (controlplane/cp_mbuf.h). hadp registers it at start and never writes it. */
#define HA_MBUF_HOLDER_FIELD "hacpd_holder_generation"

#define HA_INSTANCE_MAGIC 0x48414450u /* "HADP" */

struct ha_instance {
	uint32_t magic;          /* HA_INSTANCE_MAGIC, written last */
	uint16_t ring_version;   /* HA_RING_VERSION of the hadp that made it */
	uint16_t reserved;
	uint64_t id;             /* random, one per run of hadp */
	uint32_t pid;
	uint32_t reserved2;
	uint64_t start_ns;       /* CLOCK_REALTIME at its start, for the logs and the benchmark */
};

/* Why a packet was punted to the control plane. X(ENUM, "name") */
#define HA_PUNT_REASONS(X) \
	X(HA_PUNT_MH,       "mobility-header") \
	X(HA_PUNT_MH_UDP,   "mobility-header-udp") \
	X(HA_PUNT_MH_ESP,   "mobility-header-esp") \
	X(HA_PUNT_IKE,      "ike") \
	X(HA_PUNT_ND,       "neighbour-discovery") \
	X(HA_PUNT_ARP,      "arp") \
	X(HA_PUNT_ECHO,     "echo")   /* ICMP/ICMPv6 echo requests to the HA: hadp answers */ \
	X(HA_PUNT_TOO_BIG,  "too-big") /* hadp's ICMP errors for downlink too big for the tunnel */

enum ha_punt_reason {
#define X(e, n) e,
	HA_PUNT_REASONS(X)
#undef X
	HA_PUNT__COUNT
};

#define HA_META_F_ESP   0x01 /* punt: arrived in ESP and verified by sa_spi; tx: protect with sa_spi */
#define HA_META_F_UDP   0x02 /* punt: arrived in UDP 4191; tx: wrap in IPv4/UDP to outer_dst:udp_dport */
#define HA_META_F_OUTER4 0x04 /* outer addresses are IPv4 (first 4 octets) */
#define HA_META_F_RAW4  0x08 /* tx: an IPv4 packet, sent as it is (IKE over IPv4) */

/* In the private area of every mbuf of HA_SHM_MBUF_POOL. l3_off: the IP packet the metadata
 * speaks of starts this many octets into the mbuf data (after the Ethernet header on punt; 0 on
 * tx, where the control plane hands an IPv6 packet and hadp adds the rest). */
struct ha_pkt_meta {
	uint16_t version;       /* HA_RING_VERSION */
	uint8_t reason;         /* enum ha_punt_reason (punt) */
	uint8_t flags;          /* HA_META_F_* */
	uint16_t port;          /* punt: ingress port id; tx: egress port id */
	uint16_t l3_off;
	uint32_t sa_spi;        /* SA that verified (punt) or must protect (tx) the packet */
	uint16_t udp_sport;     /* RFC 5555: the UE's observed source port (punt) */
	uint16_t udp_dport;
	uint8_t outer_src[16];  /* outermost IP source as received (punt) / to send from (tx) */
	uint8_t outer_dst[16];
	uint64_t rx_tsc;        /* punt: TSC at receive, for signalling latency */
};

static_assert(sizeof(struct ha_pkt_meta) == 56, "ring layout changed: bump HA_RING_VERSION");

/* ---- command ring -------------------------------------------------------------------------- */

#define HA_CMDS(X) \
	X(HA_CMD_BINDING_UPSERT, "binding-upsert") \
	X(HA_CMD_BINDING_DELETE, "binding-delete") \
	X(HA_CMD_SA_ADD,         "sa-add") \
	X(HA_CMD_SA_DELETE,      "sa-delete") \
	X(HA_CMD_SYNC_BEGIN,     "sync-begin") \
	X(HA_CMD_SYNC_END,       "sync-end") \
	X(HA_CMD_SA_QUERY,       "sa-query") \
	X(HA_CMD_SA_ENCAP,       "sa-encap") \
	X(HA_CMD_ROUTE_ADD,      "route-add") \
	X(HA_CMD_ROUTE_DELETE,   "route-delete")

enum ha_cmd_type {
	HA_CMD__NONE = 0,
#define X(e, n) e,
	HA_CMDS(X)
#undef X
	HA_CMD__COUNT
};

#define HA_BIND_F_IPV4_HOA 0x01 /* hoa4 is valid */
#define HA_BIND_F_UDP      0x02 /* RFC 5555 UDP encapsulation to coa:udp_port (NAT, or F agreed) */
#define HA_BIND_F_COA4     0x04 /* the care-of address is IPv4 (first 4 octets of coa) */
#define HA_BIND_F_SA       0x08 /* payload ESP tunnel mode with sa_out / sa_in */

/* A binding as the forwarding tables need it: keys and the tunnel to the care-of address. */
struct ha_binding_spec {
	uint8_t home_prefix[16];
	uint8_t home_prefix_len;
	uint8_t flags;           /* HA_BIND_F_* */
	uint16_t udp_port;       /* the UE's (NAT-observed) UDP port, host order */
	uint8_t coa[16];
	uint8_t hoa4[4];
	uint32_t sa_out;         /* SPIs of the payload SAs */
	uint32_t sa_in;
	uint32_t reserved;
};

static_assert(sizeof(struct ha_binding_spec) == 52, "ring layout changed: bump HA_RING_VERSION");

#define HA_ROUTE_F_ROUTER 0x01 /* next hop by the router's address (hadp resolves its MAC) */

/* A core-side route: add (replaces a route to the same prefix) or delete (prefix only). */
struct ha_route_spec {
	uint8_t family;          /* AF_INET or AF_INET6 */
	uint8_t prefix_len;
	uint8_t flags;           /* HA_ROUTE_F_* */
	uint8_t reserved;
	uint8_t prefix[16];      /* IPv4: the first 4 octets */
	uint8_t router[16];      /* HA_ROUTE_F_ROUTER: the router's address, the prefix's family */
	uint8_t mac[6];          /* else: the next hop's MAC */
	uint8_t reserved2[2];
};

static_assert(sizeof(struct ha_route_spec) == 44, "ring layout changed: bump HA_RING_VERSION");

struct ha_cmd {
	uint16_t version;        /* HA_RING_VERSION */
	uint16_t type;           /* enum ha_cmd_type */
	uint32_t seq;            /* echoed in the ack */
	uint32_t generation;     /* sync generation the entry belongs to */
	uint32_t reserved;
	union {
		struct ha_binding_spec binding;   /* upsert; delete uses home_prefix(_len) */
		struct ha_sa_spec sa;             /* add (replaces an SA with the same SPI) */
		struct {
			uint32_t spi;
			uint8_t direction;
			uint8_t reserved;
			uint16_t encap_port;      /* SA_ENCAP: the peer's new RFC 3948 port */
		} sa_del;                         /* also SA_QUERY and SA_ENCAP */
		struct ha_route_spec route;       /* ROUTE_ADD, ROUTE_DELETE */
	};
};

static_assert(sizeof(struct ha_cmd) == 144, "ring layout changed: bump HA_RING_VERSION");

struct ha_cmd_ack {
	uint16_t version;
	uint16_t type;
	uint32_t seq;
	int32_t result;          /* 0 or a negative errno */
	uint32_t generation;
	uint64_t packets;        /* SA_QUERY: what passed the SA (charon's query_sa) */
	uint64_t bytes;
};

static_assert(sizeof(struct ha_cmd_ack) == 32, "ring layout changed: bump HA_RING_VERSION");

const char *ha_punt_reason_name(unsigned reason);
const char *ha_cmd_name(unsigned type);

#endif
