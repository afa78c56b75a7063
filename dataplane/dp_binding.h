/*
 * The binding table: home prefix (IPv6) and IPv4 home address -> an immutable entry that says
 * how to reach the UE's care-of address.
 *
 * Ownership: the dataplane's control thread (main lcore) is the only writer (dp_binding_upsert,
 * dp_binding_delete, dp_binding_reclaim). Workers only look up, lock-free (rte_hash with
 * RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF), and report quiescent states on the table's RCU QSBR
 * variable after each burst. A changed binding is a new entry swapped in; the old entry and the
 * freed key slots are reclaimed only after every worker has passed a quiescent state.
 */
#ifndef DP_BINDING_H
#define DP_BINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "ha_ring.h"

struct rte_rcu_qsbr;

enum dp_tunnel {
	DP_TUN_IP6 = 1, /* IPv6 care-of address: IPv6-in-IPv6 / IPv4-in-IPv6 */
	DP_TUN_IP4,     /* IPv4 care-of address, no NAT: IPv6/IPv4-in-IPv4 (RFC 5555) */
	DP_TUN_UDP4,    /* IPv4 care-of address behind a NAT or F agreed: IPv4/UDP 4191 (RFC 5555) */
};

#define DP_BIND_HDR_MAX 48

/* What a worker reads, never written after it is published: one cache line per direction, so
 * a cold entry costs one miss (each line is prefetched on its own, DP_BINDING_*_LINE). */
struct dp_binding {
	/* line 0, the downlink: the outer header, lengths and checksums filled per packet */
	uint8_t tunnel;          /* enum dp_tunnel */
	uint8_t hdr_len;         /* octets of hdr[] */
	uint16_t ip4_csum_base;  /* DP_TUN_IP4/UDP4: one's-complement sum of hdr's IPv4 header
				  * without its total length, so the checksum is one add per packet */
	uint32_t reserved;
	struct dp_sa *sa_out;    /* payload ESP (tunnel mode), NULL if none */
	uint8_t hdr[DP_BIND_HDR_MAX];
	/* line 1, the uplink's checks, then what only the control thread reads */
	uint8_t uplink_tunnel;   /* = tunnel, so that the uplink reads this line alone */
	uint8_t home_prefix_len;
	uint8_t has_hoa4;
	uint8_t reserved2;
	uint16_t udp_port_be;    /* the UE's UDP port (DP_TUN_UDP4), network order */
	uint16_t reserved3;
	uint32_t coa4;           /* network order */
	uint32_t hoa4;           /* network order */
	struct dp_sa *sa_in;
	uint8_t coa6[16];
	uint32_t generation;     /* sync generation that last asserted it */
	uint32_t id;
	uint8_t home_prefix[16];
} __rte_cache_aligned;

#define DP_BINDING_DOWNLINK_LINE(b) ((const void *)(b))
#define DP_BINDING_UPLINK_LINE(b) ((const void *)&(b)->uplink_tunnel)

static_assert(offsetof(struct dp_binding, hdr) + DP_BIND_HDR_MAX == RTE_CACHE_LINE_SIZE,
	      "the downlink's fields fill line 0");
static_assert(offsetof(struct dp_binding, uplink_tunnel) == RTE_CACHE_LINE_SIZE,
	      "the uplink's fields start line 1");
static_assert(sizeof(struct dp_binding) == 2 * RTE_CACHE_LINE_SIZE, "two cache lines");

struct dp_bindings;

struct dp_bindings_params {
	uint32_t max_bindings;
	int socket_id;
	uint8_t ha6[16];         /* outer source towards IPv6 care-of addresses */
	uint32_t ha4;            /* outer source towards IPv4 care-of addresses (network order) */
	unsigned n_prefix_lens;  /* distinct home prefix lengths of the PDNs (lookup masks) */
	uint8_t prefix_lens[8];
	struct rte_rcu_qsbr *qsbr;
};

struct dp_bindings *dp_bindings_create(const struct dp_bindings_params *p);
void dp_bindings_free(struct dp_bindings *t);

/** Control thread: insert or replace (new entry, old one reclaimed after a grace period).
 *  sa_out/sa_in are the resolved payload SAs (or NULL). @return 0 or -errno. */
int dp_binding_upsert(struct dp_bindings *t, const struct ha_binding_spec *s, uint32_t generation,
		      struct dp_sa *sa_out, struct dp_sa *sa_in);
/** Control thread: remove by home prefix. @return 0 or -ENOENT. */
int dp_binding_delete(struct dp_bindings *t, const uint8_t prefix[16], uint8_t prefix_len);
/** Control thread: delete every binding whose generation is neither gen nor 0 (the YAML's
 *  static bindings) at the end of a sync. */
unsigned dp_binding_sweep(struct dp_bindings *t, uint32_t gen);
/** Control thread: free what the workers can no longer see. */
void dp_binding_reclaim(struct dp_bindings *t);
uint32_t dp_binding_count(const struct dp_bindings *t);
uint32_t dp_binding_capacity(const struct dp_bindings *t);

/** Workers: look up n IPv6 addresses (home addresses inside a home prefix). out[i] = NULL on a
 *  miss. n <= 64. */
void dp_binding_lookup6(const struct dp_bindings *t, const uint8_t *const addrs[], unsigned n,
			const struct dp_binding *out[]);
/** Workers: look up n IPv4 home addresses (network order). n <= 64. */
void dp_binding_lookup4(const struct dp_bindings *t, const uint32_t addrs[], unsigned n,
			const struct dp_binding *out[]);

#endif
