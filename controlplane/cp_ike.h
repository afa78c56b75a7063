/*
 * hacpd's side of IKEv2 (TS 24.303 5.1.3.1, RFC 5026, RFC 4877): the sessions charon's plugin
 * tells it about over the IKE socket (shared/ha_ike_msg.h). A session is one IKE SA of one UE
 * for one PDN (002 4.3): the NAI, the PDN and the home prefix allocated to it. The child SAs of
 * the session are checked against that prefix before hadp gets them, so a UE can only ever
 * signal for its own home address; when the IKE SA goes (DELETE, 003 / 004 5.4.3.2), its SAs
 * and its binding go with it.
 *
 * Pure: messages in, decisions and hadp's table changes out. Owner: hacpd's main thread.
 */
#ifndef CP_IKE_H
#define CP_IKE_H

#include <stdint.h>

#include "cp_aaa.h"
#include "cp_bu.h"
#include "cp_pool6.h"
#include "ha_ike_msg.h"
#include "uthash.h"

/* One UE on one PDN. Lives in a slot of an array that hacpd keeps in hugepage memory (the
 * "hacpd_ike_sessions" memzone), so a restarted hacpd adopts it: flat data only, the hash
 * handles are rebuilt on adoption. */
/* The layout of struct cp_ike_session in its state file: one more at every change of it. */
#define CP_IKE_SESSION_VERSION 5 /* 5: the S6b Session-Id and the cause of the session's end */

struct cp_ike_session {
	bool used;                      /* the slot holds a session */
	uint32_t ike_sa;
	uint64_t instance;              /* the run of charon whose IKE SA it is (its HELLO) */
	uint32_t pdn;
	struct in6_addr prefix;
	char nai[HA_IKE_NAI_MAX];
	char user[HA_IKE_NAI_MAX + 16]; /* "pdn|nai": one session per UE and PDN */
	uint32_t pay_reqid;             /* the payload child SA (tunnel mode): its halves */
	uint32_t pay_in, pay_out;
	unsigned n_sa;                  /* the SAs hadp holds for it */
	/* natt: tunnel mode between IPv4 addresses, so its ESP may travel in UDP (RFC 3948);
	 * sig: it protects the UE's signalling for home address hoa (cp_sigsa, rebuilt from here
	 * when a restarted hacpd adopts the session) */
	struct {
		uint32_t spi;
		uint8_t dir;
		bool natt;
		bool sig;
		uint32_t reqid;
		struct in6_addr hoa;
	} sa[16];
	UT_hash_handle hh;              /* by ike_sa */
	UT_hash_handle hh_user;         /* by user */
	UT_hash_handle hh_prefix;       /* by prefix */
	bool has_ip4;                   /* INTERNAL_IP4_ADDRESS given (TS 24.303 5.1.2.2) */
	struct in_addr ip4;
	UT_hash_handle hh_ip4;          /* by ip4 */
	/* charon restarted (a HELLO of another run): the IKE SA is gone, ike_sa is then hacpd's
	 * own id for it (CP_IKE_ORPHAN_ID); its prefix, binding and SAs stay until the UE comes
	 * back (cp_ike_prefix) or cp_ike_orphans_due ends it */
	bool orphaned;
	bool orphan_bound;              /* its prefix had a binding then */
	uint64_t orphaned_s;            /* when (CLOCK_MONOTONIC seconds) */
	/* S6b (docs/aaa.md): the UE's Diameter Session-Id from PREFIX_REQ, "" when the AAA is not
	 * S6b or once the session's end (AAA_END) has been queued: no session ends twice */
	char aaa_session[HA_IKE_SID_MAX];
	/* the cause its end will carry whatever ends it (enum ha_ike_aaa_end_cause): ADMINISTRATIVE
	 * once the network started detaching it (an ASR, hactl detach); 0: the way it ends says */
	uint32_t end_cause;
	UT_hash_handle hh_sid;          /* by aaa_session (only when not "") */
};

/* An orphaned session's id, from its slot: charon numbers its IKE SAs from 1 up in each run,
 * so a run would need more than 4e9 - ike.max_sessions IKE SAs to meet one. */
#define CP_IKE_ORPHAN_ID(slot) (UINT32_MAX - (uint32_t)(slot))

#define CP_IKE_COUNTERS(X) \
	X(CP_IKE_PREFIX_GIVEN,    "ike-prefix-allocated") \
	X(CP_IKE_PREFIX_KEPT,     "ike-prefix-kept-new-ike-sa") \
	X(CP_IKE_PREFIX_NO_APN,   "ike-prefix-unknown-apn") \
	X(CP_IKE_PREFIX_NO_SPACE, "ike-prefix-pool-exhausted") \
	X(CP_IKE_SESSIONS_FULL,   "ike-sessions-full") \
	X(CP_IKE_IP4_GIVEN,       "ike-ipv4-home-address-allocated") \
	X(CP_IKE_IP4_NONE,        "ike-ipv4-home-address-unavailable") \
	X(CP_IKE_SA_ADDED,        "ike-sa-added") \
	X(CP_IKE_SA_NO_SESSION,   "ike-sa-refused-no-session") \
	X(CP_IKE_SA_NOT_HOA,      "ike-sa-refused-not-home-prefix") \
	X(CP_IKE_SA_BAD,          "ike-sa-refused-invalid") \
	X(CP_IKE_SA_DELETED,      "ike-sa-deleted") \
	X(CP_IKE_SA_ENCAP,        "ike-sa-nat-port-changed") \
	X(CP_IKE_DOWN,            "ike-sa-down") \
	X(CP_IKE_ORPHANED,        "ike-sessions-orphaned") \
	X(CP_IKE_ORPHAN_BACK,     "ike-orphan-re-authenticated") \
	X(CP_IKE_ORPHAN_ENDED,    "ike-orphan-ended") \
	X(CP_IKE_DETACH_WAIT,     "ike-detach-waiting-for-ue-delete") \
	X(CP_IKE_DETACH_UE_DONE,  "ike-detach-closed-by-ue") \
	X(CP_IKE_DETACH_GUARD,    "ike-detach-deleted-by-guard") \
	X(CP_IKE_STATIC_PREFIX,   "s6b-static-prefix-given") \
	X(CP_IKE_STATIC_PREFIX_REFUSED, "s6b-static-prefix-refused") \
	X(CP_IKE_STATIC_IP4,      "s6b-static-ipv4-given") \
	X(CP_IKE_STATIC_IP4_REFUSED, "s6b-static-ipv4-refused") \
	X(CP_IKE_NO_IP4,          "s6b-ipv4-not-authorised") \
	X(CP_IKE_REALLOC,         "s6b-reallocation-recorded") \
	X(CP_IKE_SID_REPLACED,    "s6b-session-replaced") \
	X(CP_IKE_AAA_ABORT,       "s6b-abort-ordered") \
	X(CP_IKE_AAA_REALLOCATE,  "s6b-reallocate-ordered") \
	X(CP_IKE_AAA_KNOWN,       "s6b-known-asked") \
	X(CP_IKE_AAA_UNKNOWN,     "s6b-order-unknown-session") \
	X(CP_IKE_AAA_BAD,         "s6b-message-invalid") \
	X(CP_IKE_AAA_END_SENT,    "s6b-end-sent") \
	X(CP_IKE_AAA_END_DROPPED, "s6b-end-dropped")

enum cp_ike_counter {
#define X(e, s) e,
	CP_IKE_COUNTERS(X)
#undef X
	CP_IKE__COUNT
};

struct cp_ike {
	struct cp_ctx *cp;
	struct cp_pool6 pool6[HA_CFG_MAX_PDNS];
	struct cp_ike_session *by_id, *by_user, *by_prefix, *by_ip4, *by_sid;
	struct cp_ike_session *slots;   /* capacity of them: the caller's memory, or ours */
	bool own_slots;
	uint32_t capacity;
	uint32_t *free_slots, n_free;   /* a stack of unused slot indices */
	unsigned count;
	unsigned adopted;               /* sessions taken over from a previous hacpd */
	unsigned orphans;               /* sessions whose IKE SA died with a run of charon */
	uint64_t instance;              /* the run of charon connected now */
	uint64_t ctr[CP_IKE__COUNT];
	uint64_t aaa_ev[HA_IKE_AAA_EV__COUNT]; /* the plugin's AAA_EVENTs, by event */
	struct cp_aaa_ends ends;        /* AAA_ENDs for the plugin (cp_ike_srv sends them) */
	const char *refused;            /* why the last PREFIX_REQ was refused, for the log */
};

/* Every counter of the IKE sessions: CP_IKE_COUNTERS, then the AAA_EVENTs by their names. */
#define CP_IKE_N_COUNTERS (CP_IKE__COUNT + HA_IKE_AAA_EV__COUNT - 1)

/** Sessions in memory of our own (ike.max_sessions of them). */
int cp_ike_init(struct cp_ike *k, struct cp_ctx *cp);
/** Sessions in the caller's slots (capacity of them). adopt: they hold a previous hacpd's
 *  sessions: each is indexed again, its prefix and IPv4 address taken from the pools, its
 *  signalling SAs registered again (cp_sigsa); a session whose PDN or prefix the configuration
 *  no longer has is dropped. Otherwise the slots are cleared. After cp_ctx_init_store. */
int cp_ike_init_store(struct cp_ike *k, struct cp_ctx *cp, struct cp_ike_session *slots,
		      uint32_t capacity, bool adopt);
void cp_ike_free(struct cp_ike *k);
/** Counter c (< CP_IKE_N_COUNTERS): its name and its value. */
const char *cp_ike_counter_name(unsigned c);
uint64_t cp_ike_counter(const struct cp_ike *k, unsigned c);

/* What an IKE SA going down takes out of hadp; for a UE back after charon restarted
 * (cp_ike_prefix), what its dead IKE SA leaves: the binding to upsert without the old payload
 * pair (first: hadp keeps an SA a binding uses), then the SAs to delete. */
struct cp_ike_gone {
	struct ha_binding_spec binding;
	bool has_binding;
	unsigned n_sa;
	struct { uint32_t spi; uint8_t dir; } sa[16];
};

/** PREFIX_REQ: the session's home prefix. A UE that comes back for the same PDN under a new
 *  IKE SA keeps its prefix (and its binding). When its session was orphaned (charon
 *  restarted), the old IKE SA's child SAs are forgotten and listed in *left for hadp.
 *  What the AAA authorised (auth_flags, docs/aaa.md) is applied: its static home prefix or
 *  IPv4 home address is taken from the PDN's pool, or the request refused (-EADDRNOTAVAIL
 *  outside the pool, -EADDRINUSE another's; k->refused says why); NO_IP4 withholds a new IPv4
 *  address; REALLOC records a reallocation indication for the prefix (002 5.4.3). The request's
 *  Session-Id is kept; one that replaces another ends the other's session (AAA_END LOGOUT). */
void cp_ike_prefix(struct cp_ike *k, const struct ha_ike_prefix_req *rq, struct ha_ike_prefix_rep *rep,
		   struct cp_ike_gone *left);

/** SA_ADD: @return 0 with the SA hadp must install in *install, or -ENOENT (no session),
 *  -EPERM (selectors outside the session's prefix), -EINVAL, -EEXIST. When the SA completes
 *  the session's payload pair and the UE has a binding, *rebind is set: the binding again, now
 *  with the pair (after the SA). */
int cp_ike_sa_add(struct cp_ike *k, const struct ha_ike_sa_add *m, struct ha_sa_spec *install,
		  struct ha_binding_spec *rebind, bool *has_rebind);
/** SA_DEL: forget the SA (hadp deletes it by SPI and direction). When it was half of the payload
 *  pair of a UE with a binding, *rebind is the binding without it (before the SA goes). */
void cp_ike_sa_del(struct cp_ike *k, const struct ha_ike_sa_del *m, struct ha_binding_spec *rebind,
		   bool *has_rebind);

/** SA_ENCAP: the SA (of this IKE SA, tunnel mode, IPv4) takes a new RFC 3948 port.
 *  @return 0 (hadp is told), -ENOENT (not this IKE SA's), -EINVAL (not an ESP-in-UDP SA). */
int cp_ike_sa_encap(struct cp_ike *k, const struct ha_ike_sa_del *m);

/** HELLO from a run of charon at now (CLOCK_MONOTONIC seconds): the IKE SAs of sessions
 *  another run made are gone (charon restarted, hacpd with it or not). Those sessions are
 *  orphaned, not ended: the UEs' bindings and child SAs carry on in hadp. @return how many. */
unsigned cp_ike_hello(struct cp_ike *k, uint64_t instance, uint64_t now);

/** The orphaned sessions to end now (each with cp_ike_down): the binding their prefix had is
 *  gone (expired, de-registered), or ike.ike_lifetime has passed since charon restarted.
 *  @return how many ids went into ids (at most max; call again while it fills it). */
unsigned cp_ike_orphans_due(struct cp_ike *k, uint64_t now, uint32_t *ids, unsigned max);

/** IKE_DOWN: the session, its signalling SAs and its binding are removed; its S6b session ends
 *  with cause (or the session's end_cause when the network ended it). @return 0, or -ENOENT
 *  for an IKE SA without a session. */
int cp_ike_down(struct cp_ike *k, uint32_t ike_sa, enum ha_ike_aaa_end_cause cause,
		struct cp_ike_gone *gone);

/** The binding of this home prefix expired (cp_expire): its session's S6b session ends
 *  (SESSION_TIMEOUT, TS 29.273 9.2.2.3); the IKE SA and the prefix stay. */
void cp_ike_binding_expired(struct cp_ike *k, const uint8_t prefix[16]);

/** The network started detaching the UE of home address hoa (004 5.4.3.1: hactl detach, an
 *  ASR): its session ends ADMINISTRATIVE, whatever ends it. */
void cp_ike_detaching(struct cp_ike *k, const struct in6_addr *hoa);

/* What an AAA_ORDER abort takes (004 5.4.3.1, TS 29.273 9.2.2.4): the BRI to the UE's home
 * address when it has a binding, else the IKE SA's deletion by charon, or for an orphaned
 * session (no IKE SA in charon) its end at once. */
struct cp_ike_abort {
	enum { CP_IKE_ABORT_BRI = 1, CP_IKE_ABORT_DELETE, CP_IKE_ABORT_END } what;
	struct in6_addr hoa;
	uint32_t ike_sa;
};

/** AAA_ORDER: ABORT (the session is marked ADMINISTRATIVE, *abort says what to do),
 *  REALLOCATE (an indication for the session's prefix), KNOWN. @return 0, -ENOENT (no session
 *  has the Session-Id), -EINVAL (an unknown order, a Session-Id not terminated, an unusable
 *  target), -ENOMEM. */
int cp_ike_aaa_order(struct cp_ike *k, const struct ha_ike_aaa_order *o, struct cp_ike_abort *abort);

/** AAA_EVENT: counted. @return 0, or -EINVAL for an unknown event. */
int cp_ike_aaa_event(struct cp_ike *k, unsigned event);

/** The session with this S6b Session-Id, or NULL. */
const struct cp_ike_session *cp_ike_session_by_aaa(const struct cp_ike *k, const char *sid);

const struct cp_ike_session *cp_ike_session_of(const struct cp_ike *k, uint32_t ike_sa);
/** The sessions of a UE (one per PDN, 002 4.3), at most max of them. @return how many. */
unsigned cp_ike_sessions_of_nai(const struct cp_ike *k, const char *nai,
				const struct cp_ike_session **out, unsigned max);
/** The session that was given this home prefix, or NULL. */
const struct cp_ike_session *cp_ike_session_by_prefix(const struct cp_ike *k, const uint8_t prefix[16]);

#endif
