/*
 * Binding Update processing at the Home Agent: TS 24.303 5.1.3.2 (initial registration and IPv4
 * home address assignment), 5.2.3.2/5.2.3.3 (handover, return home), RFC 6275 10.3.1 (the
 * checks, in UMIP's order), RFC 5555 (IPv4 care-of address, NAT detection), RFC 4877 (the SA that
 * protected the BU must belong to the home address it registers).
 *
 * Pure: a decoded BU and what the dataplane saw in, the decision out (the binding cache is
 * updated, the dataplane change and the BA to send are described). No I/O, no DPDK, so every
 * procedure is unit-tested directly. Owner: hacpd's main thread.
 */
#ifndef CP_BU_H
#define CP_BU_H

#include <stdbool.h>
#include <stdint.h>

#include "cp_bcache.h"
#include "cp_pool4.h"
#include "cp_sigsa.h"
#include "ha_config.h"
#include "ha_pkt.h"
#include "ha_ring.h"

/* 002 5.4.3: a reallocation indication (from the AAA; hactl stands in): the UE's next accepted
 * BU is answered, then a Home Agent Switch names the target HA. Keyed by a home address (len
 * 128), or by the home prefix IKEv2 gave the UE (its PDN's prefix length) when the indication
 * comes before its first BU, which alone tells the home address. */
struct cp_realloc_key {
	struct in6_addr addr;   /* masked to len */
	uint8_t len;
	uint8_t pad[3];
};

struct cp_realloc {
	struct cp_realloc_key key;
	struct in6_addr target;
	UT_hash_handle hh;
};

/* an X-macro list's first column as an enum */
#define CP_X_ENUM(e, ...) e,

#define CP_COUNTERS(X) \
	X(CP_C_BU,               "bu-received", "Binding Updates received") \
	X(CP_C_BU_ACCEPTED,      "bu-accepted", "Binding Updates accepted (registrations and refreshes)") \
	X(CP_C_BU_REJECTED,      "bu-rejected", "Binding Updates answered with a BA status of 128 or more") \
	X(CP_C_BU_DEREG,         "bu-deregistration", "de-registrations accepted (lifetime 0, or back home)") \
	X(CP_C_BU_INSECURE,      "bu-dropped-not-protected", "Binding Updates dropped: not under ESP (RFC 4877)") \
	X(CP_C_BU_WRONG_SA,      "bu-dropped-sa-not-home-address", "Binding Updates dropped: the SA is another home address's") \
	X(CP_C_BA_SENT,          "ba-sent", "Binding Acknowledgements sent") \
	X(CP_C_IPV4_ASSIGNED,    "ipv4-home-address-assigned", "IPv4 home addresses assigned from a pool") \
	X(CP_C_IPV4_REFUSED,     "ipv4-home-address-refused", "IPv4 home address requests refused") \
	X(CP_C_NAT_DETECTED,     "nat-detected", "Binding Updates that came through a NAT") \
	X(CP_C_EXPIRED,          "binding-expired", "bindings whose lifetime ran out") \
	X(CP_C_BRI_SENT,         "bri-sent", "Binding Revocation Indications sent (detaches started)") \
	X(CP_C_BRI_RETRANSMIT,   "bri-retransmitted", "Binding Revocation Indications sent again") \
	X(CP_C_BRA,              "bra-received", "Binding Revocation Acknowledgements received") \
	X(CP_C_BRA_UNMATCHED,    "bra-unmatched", "BRAs matching no detach in progress") \
	X(CP_C_BRA_INSECURE,     "bra-dropped-not-protected", "BRAs dropped: not under the UE's SA") \
	X(CP_C_BRI_UNANSWERED,   "bri-unanswered", "detaches whose last BRI went unanswered") \
	X(CP_C_BU_CROSSED_BRI,   "deregistration-crossed-bri", "de-registrations that ended a detach as its BRA would") \
	X(CP_C_HAS_SENT,         "home-agent-switch-sent", "Home Agent Switch messages sent") \
	X(CP_C_SIG_NO_SA,        "signalling-dropped-no-outbound-sa", "BAs, BRIs or errors dropped: no outbound SA") \
	X(CP_C_PARAM_PROBLEM,    "parameter-problem-sent", "ICMPv6 Parameter Problems sent") \
	X(CP_C_PARAM_PROBLEM_RL, "parameter-problem-rate-limited", "ICMPv6 Parameter Problems not sent: rate limit") \
	X(CP_C_BE_SENT,          "binding-error-sent", "Binding Errors sent") \
	X(CP_C_BE_RATE_LIMITED,  "binding-error-rate-limited", "Binding Errors not sent: rate limit") \
	X(CP_C_MBUF_RECLAIMED,   "mbufs-reclaimed", "mbufs a killed hacpd held, taken back at start")

enum cp_counter { CP_COUNTERS(CP_X_ENUM) CP_C__COUNT };

/* The same per PDN (the PDN whose home prefix pool holds the home address); a BU for a home
 * address in no PDN's pool is counted only above. */
#define CP_PDN_COUNTERS(X) \
	X(CP_PC_BU_ACCEPTED,  "bu-accepted", "Binding Updates accepted (registrations and refreshes)") \
	X(CP_PC_BU_REJECTED,  "bu-rejected", "Binding Updates answered with a BA status of 128 or more") \
	X(CP_PC_REGISTERED,   "registrations", "bindings created") \
	X(CP_PC_MOVED,        "moves", "care-of address changes") \
	X(CP_PC_DEREG,        "deregistrations", "bindings a UE's de-registration ended") \
	X(CP_PC_EXPIRED,      "expiries", "bindings whose lifetime ran out") \
	X(CP_PC_REVOKED,      "revocations", "bindings a network-initiated detach ended (BRA, or a crossing de-registration)")

enum cp_pdn_counter { CP_PDN_COUNTERS(CP_X_ENUM) CP_PC__COUNT };

/* What happened to a binding, for the operator (cp_events.c: hactl monitor, the log): the
 * event's name and its reason. A BU's outcome is in cp_bu_out.event; what the HA does on its
 * own (expiry, detach, the end of an IKE session) goes to cp_ctx.binding_event. */
#define CP_BINDING_EVENTS(X) \
	X(CP_BEV_NONE,          "none",                  "none") \
	X(CP_BEV_REGISTERED,    "registered",            "binding-update") \
	X(CP_BEV_MOVED,         "moved",                 "care-of-address-changed") \
	X(CP_BEV_REFRESHED,     "refreshed",             "binding-update") \
	X(CP_BEV_DEREG,         "deregistered",          "lifetime-zero") \
	X(CP_BEV_DEREG_HOME,    "deregistered",          "returned-home") \
	X(CP_BEV_DEREG_IKE,     "deregistered",          "ike-session-ended") \
	X(CP_BEV_REVOKING,      "revocation-started",    "network-initiated-detach") \
	X(CP_BEV_REVOKED,       "revoked",               "bra") \
	X(CP_BEV_REVOKED_DEREG, "revoked",               "deregistration-crossed-bri") \
	X(CP_BEV_UNANSWERED,    "revocation-unanswered", "bri-unanswered") \
	X(CP_BEV_EXPIRED,       "expired",               "lifetime-expired")

enum cp_bev { CP_BINDING_EVENTS(CP_X_ENUM) CP_BEV__COUNT };

struct cp_ctx {
	const struct ha_config *cfg;
	struct cp_bcache cache;
	struct cp_pool4 pool4[HA_CFG_MAX_PDNS];
	struct cp_sigsas sigsa;      /* RFC 4877: the YAML's transport SAs and IKE's */
	uint64_t ctr[64];            /* enum cp_counter */
	uint64_t ba_status[256];     /* BAs sent, by status */
	uint64_t mh_rx[256];         /* Mobility Headers received, by type */
	uint64_t mh_err[HA_ERR__COUNT]; /* and those that did not decode, by error */
	uint64_t pdn_ctr[HA_CFG_MAX_PDNS][CP_PC__COUNT]; /* enum cp_pdn_counter, per PDN */
	uint32_t pdn_bindings[HA_CFG_MAX_PDNS]; /* bindings in the cache, per PDN */
	uint16_t bri_seq;            /* the last BRI sequence number used */
	uint64_t bri_due_ms;         /* the earliest BRI timer of a revoking binding: the cache is
	                                scanned only then (0: at the next tick, as after adoption) */
	struct cp_realloc *realloc;  /* by home address or home prefix */
	/* IPv4 home addresses IKEv2 assigned (cp_ike.c): the session's address for a home prefix,
	 * and whether an address is a session's (then a binding never gives it back) */
	bool (*ike_ip4_for)(void *arg, const uint8_t prefix[16], struct in_addr *out);
	bool (*ike_ip4_owned)(void *arg, struct in_addr a);
	/* the payload SA pair IKEv2 made for a home prefix (tunnel mode child SA), if any */
	bool (*ike_payload_for)(void *arg, const uint8_t prefix[16], uint32_t *sa_in,
				uint32_t *sa_out);
	/* the prefix lifetime IKEv2 gave with that home prefix (RFC 5026 4.2.1), in seconds: no
	 * binding of the prefix is granted longer */
	bool (*ike_prefix_lifetime_for)(void *arg, const uint8_t prefix[16], uint32_t *secs);
	void *ike_arg;
	/* what happens to a binding without a BU of its UE (expired, detach started, revoked by
	 * the BRA, unanswered, removed with its IKE session), told before the binding goes; NULL:
	 * nobody listens (cp_events.c sets it) */
	void (*binding_event)(void *arg, enum cp_bev e, const struct cp_binding *b);
	void *event_arg;
};

const char *cp_counter_name(unsigned c);
const char *cp_counter_help(unsigned c);
const char *cp_pdn_counter_name(unsigned c);
const char *cp_pdn_counter_help(unsigned c);
/** The event's name ("registered", ...) and its reason. */
const char *cp_bev_name(enum cp_bev e);
const char *cp_bev_reason(enum cp_bev e);

/* A received BU and what the dataplane established about it. */
struct cp_bu_in {
	const struct mh_msg *bu;
	struct in6_addr src6;        /* the IPv6 source: the care-of address when a HAO is present */
	bool has_hao;
	struct in6_addr hoa;         /* from the HAO, else the IPv6 source */
	bool via_udp;                /* RFC 5555: arrived in IPv4/UDP 4191 */
	struct in_addr outer_src4;   /* ... from this address and port (the NAT mapping) */
	uint16_t outer_sport;
	bool esp;                    /* verified by the dataplane under sa_spi */
	uint32_t sa_spi;
	uint16_t port;               /* hadp's ingress port */
	uint64_t now;                /* seconds */
};

enum cp_action { CP_ACT_NONE, CP_ACT_UPSERT, CP_ACT_DELETE };

struct cp_bu_out {
	bool drop;                   /* silently discarded (RFC 4877 / RFC 6275 10.3.1) */
	bool send_ba;
	struct mh_msg ba;
	struct in6_addr hoa;         /* the home address the BU was about */
	enum cp_action action;       /* the dataplane change */
	struct ha_binding_spec spec;
	/* where the BA goes: IPv6 to dst6 (with RH2 to the home address when rh2), or inside
	 * IPv4/UDP to udp_dst:udp_port when udp (RFC 5555); under spi_out when non-zero */
	struct in6_addr dst6;
	bool rh2;
	struct in6_addr rh2_hoa;
	bool udp;
	struct in_addr udp_dst;
	uint16_t udp_port;
	uint32_t spi_out;
	/* 002 5.4.3: right after the BA, a Home Agent Switch (same destination); the indication
	 * stays until the caller has sent it (cp_realloc_sent) */
	bool send_has;
	struct mh_msg has;
	/* RFC 4877 4.4 / RFC 6275 10.3.1: K set, the BU came under an IKE SA's child SA, and the
	 * care-of address changed: that IKE SA must move to coa (and the UE's UDP port behind a
	 * NAT). A de-registration moves it to the home address (RFC 6275 10.3.2, 11.7.1; 000). */
	bool moved;
	struct ha_cfg_addr coa;
	uint16_t coa_port;
	/* 004 5.4.3.1: this de-registration crossed the HA's BRI and ends its revocation, as a BRA
	 * would (the UE's IKE SA is then the UE's to close) */
	bool ended_revocation;
	/* for the operator (cp_events.c): what the BU did to the binding, the PDN of its home
	 * address (-1: none), and for a move the care-of address (and UDP port) it had */
	enum cp_bev event;
	int pdn;
	struct ha_cfg_addr prev_coa;
	uint16_t prev_port;
};

int cp_ctx_init(struct cp_ctx *c, const struct ha_config *cfg);
/** The same with the binding cache's slots in the caller's memory; adopt: they hold a previous
 *  run's bindings (see cp_bcache.h). */
int cp_ctx_init_store(struct cp_ctx *c, const struct ha_config *cfg, struct cp_binding *slots,
		      bool adopt);
void cp_ctx_free(struct cp_ctx *c);

/** Process one BU; updates the binding cache and fills out. */
void cp_bu_process(struct cp_ctx *c, const struct cp_bu_in *in, struct cp_bu_out *out);

/** Remove the bindings whose lifetime ran out at now; for each, spec gets the delete to send.
 *  @return how many were put in specs (at most max). */
unsigned cp_expire(struct cp_ctx *c, uint64_t now, struct ha_binding_spec *specs, unsigned max);

/* A message the HA sends on its own (BRI), and where (as cp_bu_out's BA). */
struct cp_msg_out {
	struct mh_msg msg;
	uint16_t port;
	struct in6_addr dst6;
	bool rh2;                    /* to a care-of address, with RH2 to the home address, as a BA */
	struct in6_addr rh2_hoa;
	bool udp;
	struct in_addr udp_dst;
	uint16_t udp_port;
	uint32_t spi_out;
};

/**
 * Network-initiated detach (004 5.4.3.1, RFC 5846 layout): start revoking the binding of hoa;
 * out gets the BRI (trigger 1, Administrative Reason; P V G clear, no options), addressed as a
 * BA is (RFC 5846 / RFC 6275 6.4: RH2 to the home address; docs/controlplane.md). The binding
 * stays until the BRA, a lifetime-0 BU or its lifetime's end, never removed for want of a BRA.
 * @return 0, -ENOENT (no binding), -EALREADY.
 */
int cp_detach_start(struct cp_ctx *c, const struct in6_addr *hoa, uint64_t now_ms,
		    struct cp_msg_out *out);

/**
 * Timers of the detaches in progress: BRIs to send again every MINDelayBRIs, up to the
 * configured count (fills resend[], up to max). After the last one the binding stays (004
 * 5.4.3.1: not removed before the BRA) until a BRA, a lifetime-0 BU or its expiry.
 * @return the number of BRIs in resend.
 */
unsigned cp_detach_tick(struct cp_ctx *c, uint64_t now_ms, struct cp_msg_out *resend,
			unsigned max);

/** A BRA from the UE (its home address from the HAO or the source), verified under sa_spi
 *  when esp (RFC 4877, as a BU). @return 1 and the delete in *gone when it completes a detach,
 *  0 when it matches none or is not protected (counted). */
int cp_bra_process(struct cp_ctx *c, const struct mh_msg *bra, const struct in6_addr *hoa,
		   bool esp, uint32_t sa_spi, struct ha_binding_spec *gone);

/** Is there a binding for this home address? (RFC 6275 9.3.1: a HAO without one gets BE 1) */
bool cp_has_binding(struct cp_ctx *c, const struct in6_addr *hoa);

/** The Home Agent Switch that cp_bu_process asked for (send_has) has left: its reallocation
 *  indication is used (002 5.4.3). Until then it stays, for the UE's next BU. */
void cp_realloc_sent(struct cp_ctx *c, const struct in6_addr *hoa);

/** Record a reallocation indication for a UE (002 5.4.3). 0 or -ENOMEM. */
int cp_reallocate(struct cp_ctx *c, const struct in6_addr *hoa, const struct in6_addr *target);
/** The same for any home address in prefix/len (the UE's IKEv2 prefix, before its first BU). */
int cp_reallocate_prefix(struct cp_ctx *c, const struct in6_addr *prefix, uint8_t len,
			 const struct in6_addr *target);

/** The binding spec the dataplane needs for a cache entry. */
void cp_binding_spec(const struct cp_binding *b, struct ha_binding_spec *s);
/** The same, with the payload SAs IKEv2 made for the binding's prefix (HA_BIND_F_SA). */
void cp_binding_spec_ctx(const struct cp_ctx *c, const struct cp_binding *b,
			 struct ha_binding_spec *s);
/** Remove the binding of that home prefix, if any (its IPv4 home address goes back to the
 *  pool): 1 and what hadp must delete in gone, or 0. */
int cp_remove_prefix(struct cp_ctx *c, const struct in6_addr *prefix, uint8_t len,
		     struct ha_binding_spec *gone);

#endif
