/*
 * The ESP engine (RFC 4303) on Intel IPsec-MB: burst encrypt and decrypt for tunnel mode (user
 * traffic, inner IPv4 or IPv6) and IPv6 transport mode (RFC 4877 protection of Binding Updates
 * and Acknowledgements).
 *
 * Algorithms: AES-GCM-128/256 (RFC 4106: 8-octet explicit IV = the 64-bit sequence number, 16-
 * octet ICV), AES-CBC-128/256 (RFC 3602) with HMAC-SHA1-96 (RFC 2404) or HMAC-SHA256-128
 * (RFC 4868), NULL (RFC 2410) with either HMAC. ESN (RFC 4303 2.2.1, RFC 4106 5).
 *
 * Threads: each worker lcore has its own struct dp_esp_ctx (its own IMB_MGR); a context is used
 * by one lcore only. The SAs passed in are owned by that lcore (see dp_sa.h).
 *
 * Mbufs: the engine works in place on single-segment mbufs, using headroom for the ESP header
 * and tailroom for the trailer and ICV. It never frees an mbuf: after a burst call the caller
 * owns every packet, and hands those with drop_reason[i] != 0 to its one counting drop
 * function. A failed packet's contents are unspecified (it may be half-transformed).
 */
#ifndef DP_ESP_H
#define DP_ESP_H

#include <stdalign.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>
#include <rte_mbuf.h>

#include "dp_sa.h"

/** Drop reasons of the engine; 0 is success. The list is dp_esp_errors.def. */
enum dp_esp_error {
	DP_ESP_OK = 0,
#define X(e, s) DP_ESP_E_##e,
#include "dp_esp_errors.def"
#undef X
	DP_ESP_E__COUNT
};

/** The counter name of a drop reason ("ok" for 0, "?" if out of range). */
const char *dp_esp_error_name(unsigned e);

/** Packets per IPsec-MB submission round; the burst functions take any n and loop. */
#define DP_ESP_CHUNK 64

/** Per-packet scratch of one submission round (IVs, AAD and ICVs the jobs point to). */
struct dp_esp_pkt_state {
	alignas(16) uint8_t iv[16];  /**< GCM: salt || explicit IV */
	uint8_t aad[16];             /**< GCM: SPI || [ESN high] || seq low */
	uint8_t icv[32];             /**< the ICV IPsec-MB computed */
	uint8_t rx_icv[16];          /**< decrypt with ESN + HMAC: the received ICV */
	uint64_t seq;                /**< the packet's 64-bit sequence number */
	uint8_t *esp;                /**< the ESP header in the mbuf */
	uint16_t ct_len;             /**< encrypted part: payload + padding + 2 */
	uint16_t nh_off;             /**< transport: offset of the next-header octet to patch */
	uint16_t esp_off;            /**< offset of the ESP header in the mbuf data */
};

/** One worker's ESP context. Lives in the lcore's own (cache-aligned) state. */
struct dp_esp_ctx {
	IMB_MGR *mgr;                /**< this lcore's IPsec-MB manager */
	int socket_id;
	alignas(64) struct dp_esp_pkt_state st[DP_ESP_CHUNK];
};

/**
 * Allocate and initialise the lcore's IPsec-MB manager (best architecture at run time).
 * Call on the main thread at start (it allocates), before the worker runs.
 * @return 0, or -ENOMEM / -ENOTSUP.
 */
int dp_esp_ctx_init(struct dp_esp_ctx *ctx, int socket_id);

/** Free the context's manager. Safe on a zeroed or already freed context. */
void dp_esp_ctx_free(struct dp_esp_ctx *ctx);

/**
 * Encrypt a burst with outbound SAs (sas[i] for pkts[i]; SAs may differ per packet).
 *
 * Tunnel mode: pkts[i] data starts at the inner IPv4 or IPv6 packet (the version nibble
 * decides; link-layer padding beyond the IP length is trimmed). On success the data starts at
 * the ESP header: SPI, sequence number, IV, the encrypted inner packet, padding, pad length,
 * next header (4 or 41), ICV. The caller prepends its outer header (protocol 50) and sets its
 * lengths.
 * Transport mode: data starts at an IPv6 header, possibly followed by Hop-by-Hop, Routing and
 * Destination Options headers. ESP is inserted where Linux inserts it (ip6_find_1stfragopt):
 * after Hop-by-Hop, Routing and any Destination Options header carrying a Home Address option,
 * before a Destination Options header that follows a Routing header without one, and before
 * the upper layer (the Mobility Header). The preceding next-header field becomes 50 and the
 * payload length grows.
 *
 * Each packet takes the SA's next sequence number (a non-ESN SA refuses to go past 2^32-1:
 * DP_ESP_E_SEQ_OVERFLOW). Runs on the SAs' owner lcore.
 *
 * @param drop_reason  out: per packet, 0 or an enum dp_esp_error.
 * @return the number of packets encrypted (those with drop_reason[i] == 0).
 */
uint16_t dp_esp_encrypt_burst(struct dp_esp_ctx *ctx, struct rte_mbuf **pkts,
			      struct dp_sa *const *sas, uint16_t n, uint8_t *drop_reason);

/**
 * Decrypt and verify a burst with inbound SAs.
 *
 * Tunnel mode: esp_off[i] is the offset of the ESP header in pkts[i]'s data (the caller parsed
 * the outer header and found the SA by SPI); the ESP packet runs to the end of the data. On
 * success the data starts at the inner IP packet (outer header, ESP header, IV, padding,
 * trailer and ICV removed); the next header must be 4 or 41.
 * Transport mode: data starts at the IPv6 header and esp_off[i] is the offset of the ESP header
 * after its extension headers; on success the packet is the same IPv6 packet without ESP (the
 * preceding next-header field restored from the trailer, the payload length fixed).
 *
 * Checks, in order: lengths, the anti-replay window (before the crypto, and again before the
 * window is updated, which happens only after the ICV verified), the ICV (constant-time),
 * padding (pad length within the payload, pad bytes 1, 2, 3...), the next header.
 * Runs on the SAs' owner lcore.
 *
 * @return the number of packets that passed (drop_reason[i] == 0).
 */
uint16_t dp_esp_decrypt_burst(struct dp_esp_ctx *ctx, struct rte_mbuf **pkts,
			      struct dp_sa *const *sas, const uint16_t *esp_off, uint16_t n,
			      uint8_t *drop_reason);

#endif
