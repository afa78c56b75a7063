/*
 * The binding cache: the control plane's authoritative record of every UE's registration, one
 * entry per home prefix (one per UE per PDN, TS 24.303 4.3), also found by IPv4 home address.
 * Owner: hacpd's main thread (no locking). The dataplane's tables are derived from it.
 *
 * The entries live in an array of slots the caller may place in shared memory (hacpd puts it in
 * a hugepage memzone that outlives it while hadp runs): a restarted hacpd adopts the slots in
 * use and rebuilds its indexes, so no binding, sequence number or lifetime is lost. An entry
 * counts once in_use is set, which is written last.
 */
#ifndef CP_BCACHE_H
#define CP_BCACHE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "ha_config.h"

/* The layout of struct cp_binding in its state file (shared/ha_state_file.h): one more at
 * every change of it. 2: expires_bucket; 3: sig_port. */
#define CP_BCACHE_VERSION 3

struct cp_bkey {
	uint8_t prefix[16];
	uint32_t len;
};

struct cp_binding {
	uint8_t in_use;
	struct cp_bkey key;            /* home prefix */
	struct in6_addr hoa;           /* the home address registered */
	uint32_t pdn;
	struct ha_cfg_addr coa;        /* IPv6 or IPv4 care-of address */
	bool udp;                      /* RFC 5555 UDP encapsulation (NAT, or F agreed) */
	bool nat;
	uint16_t udp_port;             /* the UE's observed (NAT) port, when udp */
	uint16_t sig_port;             /* the UDP source port of the UE's BUs from an IPv4 care-of
	                                  address (RFC 5555 4.1): the BRI goes there too */
	bool has_hoa4;
	struct in_addr hoa4;
	uint16_t seq;                  /* last accepted sequence number */
	uint16_t flags;                /* the accepted BU's flags (H, R, K) */
	uint32_t lifetime;             /* granted, seconds */
	uint64_t expires;              /* seconds on the caller's clock (cp_bcache_set_expiry) */
	uint32_t expires_bucket;       /* the wheel bucket it is filed in (process-local use) */
	uint32_t sa_in;                /* the signalling SA the BUs arrive under (0: none) */
	uint16_t port;                 /* hadp's port the BUs arrive on: where to send to the UE */
	/* network-initiated detach in progress (004 5.4.3.1): the BRI's sequence number, when
	 * to send it again, and how many more times */
	bool revoking;
	uint16_t bri_seq;
	uint8_t bri_left;
	uint64_t bri_next_ms;
	UT_hash_handle hh;             /* by key */
	UT_hash_handle hh4;            /* by hoa4 */
};

struct cp_bcache {
	struct cp_binding *by_prefix;
	struct cp_binding *by_hoa4;
	uint32_t count;
	struct cp_binding *slots;      /* capacity entries */
	uint32_t capacity;
	bool own_slots;                /* allocated here (else the caller's shared memory) */
	uint32_t *free_idx;            /* process-local, rebuilt on adoption */
	uint32_t n_free;
	/* the expiry wheel (process-local, rebuilt on adoption): one bucket per second modulo
	 * CP_WHEEL_SIZE, a doubly linked list of slot indices each, so the once-a-second expiry
	 * looks at the bindings of that second, not at all of them */
	uint32_t *w_next, *w_prev;     /* per slot; CP_WHEEL_NIL ends a list */
	uint8_t *w_filed;              /* per slot: in a bucket */
	uint32_t w_head[4096];
	uint64_t w_done;               /* every second up to this one has been looked at */
};

#define CP_WHEEL_SIZE 4096u
#define CP_WHEEL_NIL UINT32_MAX

/** slots NULL: allocate capacity slots here. adopt: the slots hold a previous run's entries;
 *  take those in use. 0 or -ENOMEM. */
int cp_bcache_init(struct cp_bcache *c, struct cp_binding *slots, uint32_t capacity, bool adopt);
void cp_bcache_free(struct cp_bcache *c);
/** A free, zeroed slot for a new entry (NULL when full): fill it, then cp_bcache_insert(). */
struct cp_binding *cp_bcache_alloc(struct cp_bcache *c);

void cp_bkey_make(struct cp_bkey *k, const struct in6_addr *addr, uint8_t len);
struct cp_binding *cp_bcache_find(struct cp_bcache *c, const struct in6_addr *addr, uint8_t len);
struct cp_binding *cp_bcache_find4(struct cp_bcache *c, struct in_addr a);
/** Insert b (from cp_bcache_alloc, key set). */
void cp_bcache_insert(struct cp_bcache *c, struct cp_binding *b);
/** Set, change or clear b's IPv4 home address, keeping the IPv4 index right. */
void cp_bcache_set_hoa4(struct cp_bcache *c, struct cp_binding *b, bool has, struct in_addr a);
/** Remove; the slot is free again. */
void cp_bcache_remove(struct cp_bcache *c, struct cp_binding *b);
void cp_bcache_clear(struct cp_bcache *c);
/** Set b's expiry (seconds on the caller's clock) and file it on the wheel. b is inserted. */
void cp_bcache_set_expiry(struct cp_bcache *c, struct cp_binding *b, uint64_t expires);
/** Up to max bindings whose expiry is <= now (the caller removes them). Looks at the buckets of
 *  the seconds since the last call (all of them, once, after a start or a long pause). */
unsigned cp_bcache_expired(struct cp_bcache *c, uint64_t now, struct cp_binding **out, unsigned max);

#endif
