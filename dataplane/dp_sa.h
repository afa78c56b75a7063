/*
 * The dataplane's runtime ESP security association: what a worker reads per packet, compiled
 * once from a struct ha_sa_spec (shared/ha_sa.h) by the dataplane's control thread.
 *
 * Layout (VPP's ipsec_sa_t / runtime split): the first cache line holds everything the burst
 * functions read or write per packet (SPI, algorithm shape, sequence state, counters); the
 * expanded keys follow, each block cache-aligned; then the non-secret configuration copy that
 * only the control thread and `show` read; then, for an inbound SA with anti-replay, the window
 * bitmap. Raw keys are not kept: only the expanded schedules and the HMAC ipad/opad states.
 *
 * Ownership and concurrency:
 * - dp_sa_create()/dp_sa_free() run on the dataplane's control thread (not on a worker: they
 *   allocate). An SA is immutable apart from its sequence state and counters once published;
 *   a rekey or update is a new SA swapped in, the old one freed after an RCU grace period.
 * - Each SA has ONE owner lcore, the only one that passes it to dp_esp_encrypt_burst() (outbound:
 *   the sequence counter) or dp_esp_decrypt_burst() (inbound: the anti-replay window). Neither
 *   uses atomics or locks. Packets for an SA that land on another lcore must be handed off to
 *   the owner (VPP's handoff); processing one SA on two lcores breaks sequence numbers and the
 *   replay window.
 */
#ifndef DP_SA_H
#define DP_SA_H

#include <assert.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "dp_seq_ledger.h"
#include "ha_sa.h"

#define DP_SA_OWNER_CONTROL 0xFF /**< owner: the control thread (signalling SAs) */
#define DP_SA_REPLAY_MAX 4096u /**< largest anti-replay window (packets) */

/** The cipher the fast path runs (from enum ha_cfg_enc). */
enum dp_sa_cipher { DP_SA_CIPHER_NULL = 0, DP_SA_CIPHER_AES_GCM, DP_SA_CIPHER_AES_CBC };
/** The integrity algorithm (GCM's is built in: DP_SA_AUTH_NONE). */
enum dp_sa_auth { DP_SA_AUTH_NONE = 0, DP_SA_AUTH_HMAC_SHA1_96, DP_SA_AUTH_HMAC_SHA256_128 };

/** Non-secret configuration of an SA, for `show` and the control thread; never read per packet. */
struct dp_sa_conf {
	uint32_t spi;           /**< host order */
	uint8_t direction;      /**< enum ha_sa_dir */
	uint8_t mode;           /**< enum ha_sa_mode */
	uint8_t family;         /**< tunnel endpoints' family */
	uint8_t encryption;     /**< enum ha_cfg_enc */
	uint8_t integrity;      /**< enum ha_cfg_integ */
	uint8_t flags;          /**< HA_SA_F_* */
	uint16_t replay_window; /**< as configured; 0 = anti-replay off */
	uint8_t local[16];
	uint8_t peer[16];
	uint64_t seq_start;
	uint32_t refs;          /**< bindings that point at it (control thread) */
	struct dp_seq_rec *ledger; /**< its record in the ESP sequence ledger (NULL: none) */
};

struct dp_sa {
	/* ---- cache line 0: read and written per packet by the owner lcore ---- */
	uint32_t spi_be;        /**< SPI in network order, as on the wire */
	uint32_t spi;           /**< host order */
	uint8_t dir;            /**< enum ha_sa_dir */
	uint8_t mode;           /**< enum ha_sa_mode */
	uint8_t cipher;         /**< enum dp_sa_cipher */
	uint8_t auth;           /**< enum dp_sa_auth */
	uint8_t iv_len;         /**< on the wire: 8 GCM, 16 CBC, 0 NULL */
	uint8_t icv_len;        /**< 16 GCM, 12 HMAC-SHA1-96, 16 HMAC-SHA256-128 */
	uint8_t pad_align;      /**< payload + trailer aligned to this: 16 CBC, 4 otherwise */
	uint8_t esn;            /**< 1: 64-bit extended sequence numbers */
	uint8_t key_len;        /**< AES key octets (16 or 32), 0 for NULL */
	uint8_t salt[4];        /**< GCM: the RFC 4106 salt (last 4 octets of the key material) */
	uint8_t owner;          /**< index of the one lcore that may process it: a worker's
	                             index, or DP_SA_OWNER_CONTROL (set by the SA table) */
	uint16_t encap_port_be; /**< RFC 3948 ESP-in-UDP: the peer's UDP port (network order),
	                             0 = plain ESP; tunnel mode only. The control thread may
	                             change it (a NAT's new mapping): one aligned 16-bit store */
	union {
		struct {
			uint32_t replay_win;  /**< inbound: window in packets, 0 = off */
			uint32_t replay_mask; /**< inbound: bitmap words - 1 (a power of two - 1) */
		};
		uint64_t seq_stop;      /**< outbound: numbers up to this one are reserved in the
		                             ledger; the packet past it reserves the next block */
	};
	uint64_t seq;           /**< outbound: last sequence number sent; inbound: highest
	                             authenticated (the window's right edge, T) */
	union {
		uint64_t iv_nonce;      /**< outbound CBC: second half of the IV nonce block */
		struct dp_seq_rec *seen; /**< inbound: its ledger record, the right edge written
		                              there as it moves (NULL: no ledger) */
	};
	uint64_t pkts;          /**< packets that passed this SA (owner lcore writes) */
	uint64_t bytes;         /**< their octets (outbound: the ESP packets; inbound: the
	                             encrypted part, payload + padding + trailer) */

	/* ---- expanded keys: read by IPsec-MB only ---- */
	alignas(64) union {
		struct gcm_key_data gcm;               /**< AES-GCM: round keys + GHASH table */
		struct {
			alignas(16) uint8_t enc[16 * 15]; /**< AES-CBC encryption round keys */
			alignas(16) uint8_t dec[16 * 15]; /**< AES-CBC decryption round keys */
		} aes;
	} k;
	alignas(64) uint8_t ipad[32]; /**< HMAC: hash state after (key ^ ipad) */
	uint8_t opad[32];             /**< HMAC: hash state after (key ^ opad) */

	/* ---- configuration (control thread, show) ---- */
	alignas(64) struct dp_sa_conf conf;

	/* ---- inbound anti-replay window (RFC 6479 style bitmap, replay_mask + 1 words) ---- */
	alignas(64) uint64_t replay_bits[];
};

static_assert(offsetof(struct dp_sa, bytes) + sizeof(uint64_t) <= 64,
	      "struct dp_sa: the per-packet fields must fit the first cache line");
static_assert(offsetof(struct dp_sa, k) == 64, "struct dp_sa: keys start on the second line");
static_assert(offsetof(struct dp_sa, k) % 64 == 0 && offsetof(struct dp_sa, replay_bits) % 64 == 0,
	      "struct dp_sa: key and window blocks are cache-aligned");

/**
 * Compile a spec into a runtime SA: validate it, expand the keys once (AES key schedules,
 * AES-GCM GHASH precomputation, HMAC ipad/opad states) and size the replay window.
 * Control thread only (allocates; uses a key-setup IPsec-MB manager private to the calling
 * thread, see dp_sa_key_mgr_release()).
 *
 * Accepted combinations: AES-GCM-128/256 with integrity none; AES-CBC-128/256 with
 * HMAC-SHA1-96 or HMAC-SHA256-128; NULL with HMAC-SHA1-96 or HMAC-SHA256-128. Key lengths must
 * match the algorithms (GCM: key plus 4-octet salt), replay_window <= DP_SA_REPLAY_MAX, and a
 * non-ESN outbound seq_start < 2^32.
 *
 * @param spec       the SA description (not kept; keys are copied in expanded form only).
 * @param socket_id  NUMA socket for the allocation (the owner lcore's), or SOCKET_ID_ANY.
 * @return the SA, or NULL with rte_errno EINVAL (bad spec) or ENOMEM.
 */
struct dp_sa *dp_sa_create(const struct ha_sa_spec *spec, int socket_id);

/** Wipe the key material and free the SA. NULL is allowed. Control thread, after a grace period. */
void dp_sa_free(struct dp_sa *sa);

/** Free the calling thread's key-setup IPsec-MB manager (at shutdown). Safe to call twice. */
void dp_sa_key_mgr_release(void);

/**
 * Attach an SA just created to its ledger record (control thread, before it is published):
 * an inbound SA starts at the record's right edge with every number at or below it marked as
 * seen; an outbound one reserves its first block on its first packet (dp_sa_seq_reserve).
 */
void dp_sa_attach_ledger(struct dp_sa *sa, struct dp_seq_rec *rec);

/**
 * Outbound, the owner lcore, when sa->seq reached sa->seq_stop: the next block of numbers,
 * above both the SA's and its record's, written to the record before any is used. false when
 * the sequence space is used up (RFC 4303 3.3.3: the SA must not send more).
 */
bool dp_sa_seq_reserve(struct dp_sa *sa);

/* ---- sequence numbers and the anti-replay window (the owner lcore only) ---- */

enum dp_sa_replay { DP_SA_REPLAY_OK = 0, DP_SA_REPLAY_DUP, DP_SA_REPLAY_OLD };

/**
 * The full 64-bit sequence number of an inbound packet whose low 32 bits are @p seql
 * (RFC 4303 Appendix A2.2, with the SA's window; with anti-replay off the window used for
 * the inference is 2^31). Non-ESN SAs return seql. 0 means "cannot be valid" (left of the
 * window across the 2^32 boundary below 0).
 */
static inline uint64_t dp_sa_seq_infer(const struct dp_sa *sa, uint32_t seql)
{
	if (!sa->esn)
		return seql;
	const uint32_t w = sa->replay_win ? sa->replay_win : UINT32_C(1) << 31;
	const uint32_t tl = (uint32_t)sa->seq, th = (uint32_t)(sa->seq >> 32);
	const uint32_t bottom = tl - (w - 1); /* modulo 2^32 */
	uint32_t seqh;

	if (tl >= w - 1) /* case A: the window does not span the 2^32 boundary */
		seqh = seql >= bottom ? th : th + 1;
	else {           /* case B: the window's left part is in the previous epoch */
		if (seql >= bottom) {
			if (th == 0)
				return 0;
			seqh = th - 1;
		} else
			seqh = th;
	}
	return ((uint64_t)seqh << 32) | seql;
}

/** Check @p seq (64-bit) against the window without changing it. */
static inline enum dp_sa_replay dp_sa_replay_check(const struct dp_sa *sa, uint64_t seq)
{
	if (seq == 0)
		return DP_SA_REPLAY_OLD;
	if (sa->replay_win == 0 || seq > sa->seq)
		return DP_SA_REPLAY_OK;
	if (sa->seq - seq >= sa->replay_win)
		return DP_SA_REPLAY_OLD;
	const uint64_t w = (seq >> 6) & sa->replay_mask;
	return (sa->replay_bits[w] >> (seq & 63)) & 1 ? DP_SA_REPLAY_DUP : DP_SA_REPLAY_OK;
}

/**
 * Record an authenticated @p seq: slide the window right if it is new, mark it received.
 * Call only after the ICV verified and dp_sa_replay_check() returned OK.
 */
static inline void dp_sa_replay_update(struct dp_sa *sa, uint64_t seq)
{
	if (seq > sa->seq) {
		if (sa->replay_win) {
			uint64_t words = (seq >> 6) - (sa->seq >> 6);
			const uint64_t top_word = sa->seq >> 6;

			if (words > (uint64_t)sa->replay_mask + 1)
				words = (uint64_t)sa->replay_mask + 1;
			for (uint64_t k = 1; k <= words; k++)
				sa->replay_bits[(top_word + k) & sa->replay_mask] = 0;
		}
		sa->seq = seq;
		if (sa->seen)
			sa->seen->in_seen = seq; /* before the packet goes on (dp_seq_ledger.h) */
	}
	if (sa->replay_win)
		sa->replay_bits[(seq >> 6) & sa->replay_mask] |= UINT64_C(1) << (seq & 63);
}

#endif
