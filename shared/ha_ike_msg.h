/*
 * The messages between hacpd and the appliance's charon plugin (controlplane/charon/), over
 * hacpd's IKE socket: a Unix stream socket (ike.socket in the YAML), one connection, charon's.
 *
 * Every message is a header and a fixed-size body of its type; the receiver checks the version,
 * the type and that len is exactly the size of that type's message, and drops the connection
 * otherwise (a peer of another build must not be half understood). Requests carry a seq the
 * answer echoes; notifications carry seq 0.
 *
 *   plugin -> hacpd                         hacpd -> plugin
 *   HELLO (once, first)                     RESULT (to every request)
 *   PREFIX_REQ: a UE's home prefix          PREFIX_REP: the prefix (RFC 5026), IPv4 address
 *   SA_ADD: one direction of a child SA     PEER_MOVE: the K bit moved the UE (RFC 4877 4.4):
 *                                           both ends of its IKE SA follow
 *   SA_DEL: one direction gone              IKE_DELETE: hacpd detached the UE (004 5.4.3.1)
 *   IKE_DOWN: the IKE SA and its children are gone (DELETE, expiry: 003, 004 5.4.3.2)
 *   SEND: an IKE message to send                 PACKET: an IKE message hadp received
 *   SA_QUERY: an SA's counters (query_sa)        SA_COUNTERS: hadp's packets and bytes
 *   AAA_ORDER: the AAA (S6b) asked for       AAA_END: a UE's session with the AAA is over:
 *     something of a session: abort it         the plugin sends the Session-Termination-Request
 *     (ASR), reallocate it, or say whether
 *     it is known (RAR); RESULT 0 / -ENOENT
 *   AAA_EVENT: an S6b outcome, for hacpd's counters
 *
 * With ike.aaa: s6b the plugin is the Diameter client (docs/aaa.md): PREFIX_REQ then carries the
 * Diameter Session-Id and what the AAA's answer authorised, and hacpd, which owns the sessions,
 * keeps the Session-Id with the session (its state file) and decides when it ends.
 *
 * IKE through the dataplane (PACKET, SEND): hadp punts UDP 500 and UDP 4500 with the non-ESP
 * marker; hacpd hands the UDP payload to charon's socket in the plugin (charon itself removes and
 * adds the marker), and sends charon's messages out of hadp's port the UE is on. No kernel
 * socket is involved.
 */
#ifndef HA_IKE_MSG_H
#define HA_IKE_MSG_H

#include <assert.h>
#include <stdint.h>

#include "ha_sa.h"

#define HA_IKE_VERSION 4 /* 4: S6b: PREFIX_REQ's authorisation, AAA_ORDER/EVENT/END */
#define HA_IKE_NAI_MAX 256
#define HA_IKE_APN_MAX 104
#define HA_IKE_SID_MAX 128 /* a Diameter Session-Id (RFC 6733 8.8), NUL-terminated */

#define HA_IKE_TYPES(X) \
	X(HA_IKE_HELLO,      "hello") \
	X(HA_IKE_RESULT,     "result") \
	X(HA_IKE_PREFIX_REQ, "prefix-request") \
	X(HA_IKE_PREFIX_REP, "prefix-reply") \
	X(HA_IKE_SA_ADD,     "sa-add") \
	X(HA_IKE_SA_DEL,     "sa-delete") \
	X(HA_IKE_IKE_DOWN,   "ike-down") \
	X(HA_IKE_PEER_MOVE,  "peer-move") \
	X(HA_IKE_IKE_DELETE, "ike-delete") \
	X(HA_IKE_PACKET,     "packet") \
	X(HA_IKE_SEND,       "send") \
	X(HA_IKE_SA_QUERY,   "sa-query") \
	X(HA_IKE_SA_COUNTERS, "sa-counters") \
	X(HA_IKE_SA_ENCAP,   "sa-encap") \
	X(HA_IKE_AAA_ORDER,  "aaa-order") \
	X(HA_IKE_AAA_EVENT,  "aaa-event") \
	X(HA_IKE_AAA_END,    "aaa-end")

enum ha_ike_type {
	HA_IKE__NONE = 0,
#define X(e, n) e,
	HA_IKE_TYPES(X)
#undef X
	HA_IKE__COUNT
};

struct ha_ike_hdr {
	uint16_t version;        /* HA_IKE_VERSION */
	uint16_t type;           /* enum ha_ike_type */
	uint32_t len;            /* the whole message, header included */
	uint32_t seq;            /* request: chosen by the sender; RESULT/PREFIX_REP: echoed */
	uint32_t ike_sa;         /* charon's unique id of the IKE SA concerned (0: none) */
};

static_assert(sizeof(struct ha_ike_hdr) == 16, "IKE socket layout changed: bump HA_IKE_VERSION");

struct ha_ike_hello {
	struct ha_ike_hdr h;
	uint32_t pid;            /* charon's, for the logs */
	uint32_t reserved;
	uint64_t instance;       /* this run of charon (the same on every reconnect): hacpd ends the
	                            sessions another run made, whose IKE SAs died with it */
};

struct ha_ike_result {
	struct ha_ike_hdr h;
	int32_t result;          /* 0 or a negative errno */
	uint32_t reserved;
};

/* IKE_AUTH with the UE authenticated: the home prefix for (NAI, APN), TS 24.303 5.1.3.1 and
 * RFC 5026 4.2; an IPv4 home address too when the UE asked (INTERNAL_IP4_ADDRESS). */
#define HA_IKE_AUTH_F_PREFIX   0x01 /* the AAA gave the UE's home prefix (static_prefix) */
#define HA_IKE_AUTH_F_IP4      0x02 /* the AAA gave the UE's IPv4 home address (static_ip4) */
#define HA_IKE_AUTH_F_NO_IP4   0x04 /* the APN's PDN type is IPv6 only: no IPv4 home address */
#define HA_IKE_AUTH_F_REALLOC  0x08 /* a reallocation indication (002 5.4.3) to realloc_ha */
struct ha_ike_prefix_req {
	struct ha_ike_hdr h;
	char nai[HA_IKE_NAI_MAX];   /* NUL-terminated */
	char apn[HA_IKE_APN_MAX];   /* the PDN the UE asked for (its IDr), NUL-terminated */
	uint8_t want_ip4;
	uint8_t auth_flags;         /* HA_IKE_AUTH_F_*: what the AAA's answer (DEA) authorised */
	uint8_t static_prefix_len;
	uint8_t reserved[5];
	char aaa_session[HA_IKE_SID_MAX]; /* the S6b Session-Id, "" when the AAA is not S6b */
	uint8_t static_prefix[16];
	uint8_t static_ip4[4];
	uint8_t reserved2[4];
	uint8_t realloc_ha[16];     /* the target HA's IPv6 address (HA_IKE_AUTH_F_REALLOC) */
};

struct ha_ike_prefix_rep {
	struct ha_ike_hdr h;
	int32_t result;             /* 0, -ENOENT (no such APN), -ENOSPC (pool exhausted), the
	                               AAA's static prefix or IPv4 address -EADDRNOTAVAIL (outside
	                               the pool) or -EADDRINUSE (another's), -EEXIST, -EINVAL */
	uint32_t lifetime;          /* seconds, RFC 5026's prefix lifetime */
	uint8_t prefix[16];
	uint8_t prefix_len;
	uint8_t has_ip4;
	uint8_t reserved[2];
	uint8_t ip4[4];
};

/* One direction of a child SA as charon installs it (kernel_ipsec_t.add_sa): the SA itself as
 * hadp takes it, and its traffic selectors. A transport SA whose selectors are the UE's home
 * address and protocol 135 protects BU/BA (RFC 4877 4.1); a tunnel SA carries payload. */
struct ha_ike_sa_add {
	struct ha_ike_hdr h;
	struct ha_sa_spec sa;
	uint32_t reqid;             /* pairs the inbound and outbound halves of a child SA */
	uint8_t ts_remote[16];      /* the UE's side: its home address (transport) or prefix */
	uint8_t ts_remote_len;      /* prefix length of ts_remote */
	uint8_t ts_proto;           /* 0 any, 135 Mobility Header */
	uint8_t update;             /* replaces an SA of the same SPI (rekey, address update) */
	uint8_t reserved[5];
};

struct ha_ike_sa_del {
	struct ha_ike_hdr h;
	uint32_t spi;
	uint8_t direction;          /* enum ha_sa_dir */
	uint8_t reserved;
	uint16_t encap_port;        /* SA_ENCAP: the UE's RFC 3948 port as the NAT now shows it
	                               (charon's update_sa), 0 = plain ESP again */
};

/* SA_QUERY and SA_ENCAP have the layout of SA_DEL; SA_QUERY's answer: */
struct ha_ike_sa_counters {
	struct ha_ike_hdr h;
	int32_t result;             /* 0, -ENOENT (no such SA in hadp), -EBUSY, -ETIMEDOUT */
	uint32_t reserved;
	uint64_t packets;
	uint64_t bytes;
};

/* The plugin's IKE SA is gone (IKE_DOWN), or hacpd wants it gone (IKE_DELETE). */
struct ha_ike_down {
	struct ha_ike_hdr h;
};

/* An accepted BU with K set moved the UE: the IKE SA's peer becomes the new care-of address
 * (RFC 4877 4.4) and the HA's end its own address of the same family (001 5.2.3.2: "independent
 * of an IPv6 or IPv4 access"), so an IKE SA can move between IPv6 and IPv4. */
#define HA_IKE_MOVE_F_NATT 0x01     /* the BU came in UDP (RFC 5555, a NAT on the path): IKE
                                       moves to UDP 4500 on both ends (RFC 7296 2.23) and takes
                                       the UE's port from its next IKE message */
struct ha_ike_peer_move {
	struct ha_ike_hdr h;
	uint8_t family;             /* AF_INET or AF_INET6: of addr and local */
	uint8_t flags;              /* HA_IKE_MOVE_F_* */
	uint16_t port;              /* the UE's IKE port if known, else 0 (the plugin decides) */
	uint8_t addr[16];           /* the UE's new address: care-of, or home (RFC 6275 11.7.1) */
	uint8_t local[16];          /* the HA's own address of that family (home_agent.*_address) */
};

/* AAA_ORDER (plugin -> hacpd, a request): what the AAA asked of the session with this
 * Session-Id; hacpd answers RESULT 0, or -ENOENT when no session has it. */
enum ha_ike_aaa_order_kind {
	HA_IKE_AAA_ABORT = 1,       /* Abort-Session-Request: network-initiated detach (004 5.4.3.1) */
	HA_IKE_AAA_REALLOCATE = 2,  /* a reallocation indication to target (002 5.4.3) */
	HA_IKE_AAA_KNOWN = 3,       /* Re-Auth-Request: is the session there (nothing changes) */
};
struct ha_ike_aaa_order {
	struct ha_ike_hdr h;
	uint8_t order;              /* enum ha_ike_aaa_order_kind */
	uint8_t reserved[7];
	char aaa_session[HA_IKE_SID_MAX];
	uint8_t target[16];         /* REALLOCATE: the target HA's IPv6 address */
};

/* AAA_EVENT (plugin -> hacpd, a request answered with RESULT): one S6b outcome, counted by
 * hacpd (hactl show counters) since charon has no counters of the appliance's. */
#define HA_IKE_AAA_EVENTS(X) \
	X(HA_IKE_AAA_EV_AUTH_OK,        "s6b-auth-success") \
	X(HA_IKE_AAA_EV_AUTH_REJECTED,  "s6b-auth-rejected") \
	X(HA_IKE_AAA_EV_USER_UNKNOWN,   "s6b-user-unknown") \
	X(HA_IKE_AAA_EV_TIMEOUT,        "s6b-aaa-timeout") \
	X(HA_IKE_AAA_EV_UNAVAILABLE,    "s6b-aaa-unavailable") \
	X(HA_IKE_AAA_EV_ERROR,          "s6b-aaa-error") \
	X(HA_IKE_AAA_EV_ASR,            "s6b-asr-received") \
	X(HA_IKE_AAA_EV_RAR,            "s6b-rar-received") \
	X(HA_IKE_AAA_EV_REAUTH_OK,      "s6b-reauth-success") \
	X(HA_IKE_AAA_EV_REAUTH_FAILED,  "s6b-reauth-failed") \
	X(HA_IKE_AAA_EV_STR_SENT,       "s6b-str-sent") \
	X(HA_IKE_AAA_EV_STR_ANSWERED,   "s6b-str-answered")
enum ha_ike_aaa_event {
	HA_IKE_AAA_EV__NONE = 0,
#define X(e, n) e,
	HA_IKE_AAA_EVENTS(X)
#undef X
	HA_IKE_AAA_EV__COUNT
};
struct ha_ike_aaa_event_msg {
	struct ha_ike_hdr h;
	uint16_t event;             /* enum ha_ike_aaa_event */
	uint8_t reserved[6];
};

/* AAA_END (hacpd -> plugin, a notice): the session with this Session-Id ended (the IKE SA gone:
 * the UE's detach, an expiry, a network-initiated detach; or its binding expired): the plugin
 * sends the Session-Termination-Request with this cause (RFC 6733 8.15 Termination-Cause). */
enum ha_ike_aaa_end_cause {
	HA_IKE_AAA_END_LOGOUT = 1,          /* DIAMETER_LOGOUT: the UE detached */
	HA_IKE_AAA_END_SERVICE_NOT_PROVIDED = 2, /* the attach failed after the AAA's answer
	                                            (sent by the plugin alone: hacpd never had it) */
	HA_IKE_AAA_END_ADMINISTRATIVE = 4,  /* DIAMETER_ADMINISTRATIVE: the network detached it */
	HA_IKE_AAA_END_AUTH_EXPIRED = 6,    /* DIAMETER_AUTH_EXPIRED: the IKE SA expired */
	HA_IKE_AAA_END_SESSION_TIMEOUT = 8, /* DIAMETER_SESSION_TIMEOUT: the binding expired */
};
struct ha_ike_aaa_end {
	struct ha_ike_hdr h;
	uint32_t cause;             /* enum ha_ike_aaa_end_cause */
	uint32_t reserved;
	char aaa_session[HA_IKE_SID_MAX];
};

/* An IKE message between the UE and charon (PACKET in, SEND out). */
#define HA_IKE_PACKET_MAX 2048
struct ha_ike_packet {
	struct ha_ike_hdr h;
	uint8_t family;             /* AF_INET or AF_INET6 */
	uint8_t reserved;
	uint16_t len;               /* octets of data: the UDP payload */
	uint16_t src_port;
	uint16_t dst_port;          /* 500, or 4500 (data then starts with the non-ESP marker) */
	uint16_t port;              /* hadp's port: where it came in / where to send it */
	uint8_t reserved2[6];
	uint8_t src[16];
	uint8_t dst[16];
	uint8_t data[HA_IKE_PACKET_MAX];
};

static_assert(sizeof(struct ha_ike_packet) == 16 + 48 + HA_IKE_PACKET_MAX, "IKE socket layout changed");
static_assert(sizeof(struct ha_ike_prefix_req) == 552, "IKE socket layout changed");
static_assert(sizeof(struct ha_ike_aaa_order) == 168, "IKE socket layout changed");
static_assert(sizeof(struct ha_ike_aaa_event_msg) == 24, "IKE socket layout changed");
static_assert(sizeof(struct ha_ike_aaa_end) == 152, "IKE socket layout changed");
static_assert(sizeof(struct ha_ike_prefix_rep) == 48, "IKE socket layout changed");
static_assert(sizeof(struct ha_ike_sa_add) == 176, "IKE socket layout changed");
static_assert(sizeof(struct ha_ike_peer_move) == 52, "IKE socket layout changed");

/* The size a message of this type must have; 0 for an unknown type. */
uint32_t ha_ike_msg_size(unsigned type);
const char *ha_ike_type_name(unsigned type);
/* An AAA_EVENT's counter name ("s6b-..."), or "invalid". */
const char *ha_ike_aaa_event_name(unsigned event);

/* A header as the receiver must see it: 0, or -EPROTO (version), -EBADMSG (type or length). */
int ha_ike_check_hdr(const struct ha_ike_hdr *h);

#endif
