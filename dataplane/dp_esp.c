/*
 * ESP encrypt and decrypt bursts on Intel IPsec-MB (see dp_esp.h for the contract).
 *
 * Each burst is cut into rounds of DP_ESP_CHUNK packets. A round prepares every packet (checks,
 * headroom/tailroom, sequence number, ESP header and trailer). AES-GCM packets then go straight
 * through IPsec-MB's GCM functions (IMB_AES128_GCM_ENC and the like: single-buffer code either
 * way, without the job manager's bookkeeping); the others take one IPsec-MB job each from the
 * lcore's manager, submitted as one burst (IPsec-MB 1.3 burst API: IMB_GET_NEXT_BURST,
 * IMB_SUBMIT_BURST_NOCHECK, then IMB_FLUSH_BURST for the jobs still in multi-buffer lanes).
 * Each packet is finished as its cipher completes: ICV check, anti-replay, header removal. Jobs carry the packet's index in user_data, so the completion order does not
 * matter, and every round leaves the manager empty.
 *
 * IVs (never repeated under one key):
 * - AES-GCM: the explicit IV is the 64-bit sequence number (RFC 4106 3.1 allows a counter); the
 *   sequence counter never wraps, so neither does the IV.
 * - AES-CBC: IV = AES_K(seq64 || per-SA random 64 bits), the "encrypt a nonce under the same
 *   key" method of NIST SP 800-38A Appendix C. It costs no extra job: the nonce block is
 *   written where the IV goes and the CBC job runs over [nonce || payload] with a zero IV, so
 *   the first output block is E_K(nonce) -- the IV -- and the rest is CBC under that IV.
 *
 * ESN with HMAC (RFC 4303 2.2.1): the ICV covers the ESP packet followed by the high 32 bits of
 * the sequence number, which are not sent. They are written where the ICV goes, hashed with the
 * packet, and the ICV is computed into the scratch and copied over them afterwards (on decrypt
 * the received ICV is saved first).
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp_esp.h"

#define IPPROTO_ESP_ 50
#define NH_HOPOPTS 0
#define NH_IPV4 4
#define NH_IPV6 41
#define NH_ROUTING 43
#define NH_DSTOPTS 60
#define IPV6_HDR_LEN 40
#define IPV6_TLV_HAO 201
#define ESP_HDR_LEN 8

/* The jobs are built from SAs validated by dp_sa_create() and lengths checked here, so they go
 * to IPsec-MB unvalidated; with -DDP_ESP_CHECK_JOBS (the unit tests are built both ways) the
 * library validates every job. */
#ifdef DP_ESP_CHECK_JOBS
#define DP_ESP_SUBMIT_BURST IMB_SUBMIT_BURST
#else
#define DP_ESP_SUBMIT_BURST IMB_SUBMIT_BURST_NOCHECK
#endif

static const char *const error_names[] = {
	"ok",
#define X(e, s) s,
#include "dp_esp_errors.def"
#undef X
};
static_assert(RTE_DIM(error_names) == DP_ESP_E__COUNT, "dp_esp_errors.def and the enum differ");

const char *dp_esp_error_name(unsigned e)
{
	return e < DP_ESP_E__COUNT ? error_names[e] : "?";
}

static alignas(16) const uint8_t zero_iv[16];

int dp_esp_ctx_init(struct dp_esp_ctx *ctx, int socket_id)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->socket_id = socket_id;
	ctx->mgr = alloc_mb_mgr(0);
	if (ctx->mgr == NULL)
		return -ENOMEM;
	init_mb_mgr_auto(ctx->mgr, NULL);
	if (imb_get_errno(ctx->mgr) != 0) {
		free_mb_mgr(ctx->mgr);
		ctx->mgr = NULL;
		return -ENOTSUP;
	}
	return 0;
}

void dp_esp_ctx_free(struct dp_esp_ctx *ctx)
{
	if (ctx->mgr != NULL)
		free_mb_mgr(ctx->mgr);
	ctx->mgr = NULL;
}

/* ------------------------------------------------------------------ */
/* small helpers                                                        */

static inline void put_be32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, 4);
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	v = rte_cpu_to_be_64(v);
	memcpy(p, &v, 8);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Constant-time comparison of two ICVs of 12 or 16 octets (the length is the SA's, public). */
static inline int icv_equal(const uint8_t *a, const uint8_t *b, unsigned n)
{
	uint64_t a0, b0, a1 = 0, b1 = 0;

	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	if (n == 16) {
		memcpy(&a1, a + 8, 8);
		memcpy(&b1, b + 8, 8);
	} else {
		uint32_t x, y;

		memcpy(&x, a + 8, 4);
		memcpy(&y, b + 8, 4);
		a1 = x;
		b1 = y;
	}
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* Does the Destination Options header at h (hl octets, bounds checked) carry a Home Address
 * option? */
static int dstopt_has_hao(const uint8_t *h, uint32_t hl)
{
	uint32_t o = 2;

	while (o < hl) {
		if (h[o] == 0) { /* Pad1 */
			o++;
			continue;
		}
		if (o + 2 > hl)
			return 0;
		if (h[o] == IPV6_TLV_HAO)
			return 1;
		o += 2u + h[o + 1];
	}
	return 0;
}

/*
 * Walk an IPv6 packet's extension headers to the point where transport-mode ESP goes (Linux's
 * ip6_find_1stfragopt with CONFIG_IPV6_MIP6). *ins_off = that offset, *nh_off = offset of the
 * next-header octet that names what is there, *nh = its value. stop_at: if nonzero, walk
 * exactly to this offset (decrypt: the ESP header) instead. -1 if malformed.
 */
static int ipv6_esp_point(const uint8_t *p, uint32_t len, uint32_t stop_at, uint32_t *ins_off,
			  uint16_t *nh_off, uint8_t *nh)
{
	uint32_t off = IPV6_HDR_LEN, nho = 6;
	uint8_t h;
	int routing = 0;

	if (len < IPV6_HDR_LEN || (p[0] >> 4) != 6)
		return -1;
	h = p[6];
	for (;;) {
		if (stop_at != 0 && off >= stop_at)
			break;
		if (h != NH_HOPOPTS && h != NH_ROUTING && h != NH_DSTOPTS)
			break;
		if (h == NH_HOPOPTS && off != IPV6_HDR_LEN)
			return -1; /* Hop-by-Hop only right after the IPv6 header */
		if (off + 2 > len)
			return -1;
		const uint32_t hl = ((uint32_t)p[off + 1] + 1) * 8;
		if (off + hl > len)
			return -1;
		if (stop_at == 0 && h == NH_DSTOPTS && routing && !dstopt_has_hao(p + off, hl))
			break;
		if (h == NH_ROUTING)
			routing = 1;
		nho = off;
		h = p[off];
		off += hl;
	}
	if (stop_at != 0 && off != stop_at)
		return -1;
	*ins_off = off;
	*nh_off = (uint16_t)nho;
	*nh = h;
	return 0;
}

/* Fill the crypto part of a job common to both directions. src = the ESP header. */
static inline void job_fill(IMB_JOB *job, const struct dp_sa *sa, struct dp_esp_pkt_state *st,
			    uint8_t *esp, int encrypt)
{
	const uint32_t hdr = ESP_HDR_LEN + sa->iv_len;

	job->src = esp;
	job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;

	switch (sa->cipher) {
	case DP_SA_CIPHER_AES_GCM:
		job->cipher_mode = IMB_CIPHER_GCM;
		job->hash_alg = IMB_AUTH_AES_GMAC;
		job->enc_keys = &sa->k.gcm;
		job->dec_keys = &sa->k.gcm;
		job->key_len_in_bytes = sa->key_len;
		job->dst = esp + hdr;
		job->cipher_start_src_offset_in_bytes = hdr;
		job->msg_len_to_cipher_in_bytes = st->ct_len;
		job->hash_start_src_offset_in_bytes = hdr;
		job->msg_len_to_hash_in_bytes = st->ct_len;
		job->iv = st->iv;
		job->iv_len_in_bytes = 12;
		job->u.GCM.aad = st->aad;
		job->u.GCM.aad_len_in_bytes = sa->esn ? 12 : 8;
		job->auth_tag_output = encrypt ? esp + hdr + st->ct_len : st->icv;
		job->auth_tag_output_len_in_bytes = 16;
		return;
	case DP_SA_CIPHER_AES_CBC:
		job->cipher_mode = IMB_CIPHER_CBC;
		job->enc_keys = sa->k.aes.enc;
		job->dec_keys = sa->k.aes.dec;
		job->key_len_in_bytes = sa->key_len;
		if (encrypt) { /* [nonce block || payload] under a zero IV, see the top */
			job->dst = esp + ESP_HDR_LEN;
			job->cipher_start_src_offset_in_bytes = ESP_HDR_LEN;
			job->msg_len_to_cipher_in_bytes = 16u + st->ct_len;
			job->iv = zero_iv;
		} else {
			job->dst = esp + hdr;
			job->cipher_start_src_offset_in_bytes = hdr;
			job->msg_len_to_cipher_in_bytes = st->ct_len;
			job->iv = esp + ESP_HDR_LEN;
		}
		job->iv_len_in_bytes = 16;
		break;
	default: /* NULL */
		job->cipher_mode = IMB_CIPHER_NULL;
		job->enc_keys = NULL;
		job->dec_keys = NULL;
		job->key_len_in_bytes = 0;
		job->dst = esp + hdr;
		job->cipher_start_src_offset_in_bytes = hdr;
		job->msg_len_to_cipher_in_bytes = st->ct_len;
		job->iv = NULL;
		job->iv_len_in_bytes = 0;
		break;
	}
	job->hash_alg = sa->auth == DP_SA_AUTH_HMAC_SHA1_96 ? IMB_AUTH_HMAC_SHA_1
							     : IMB_AUTH_HMAC_SHA_256;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = hdr + st->ct_len + (sa->esn ? 4u : 0u);
	job->u.HMAC._hashed_auth_key_xor_ipad = sa->ipad;
	job->u.HMAC._hashed_auth_key_xor_opad = sa->opad;
	job->auth_tag_output = st->icv;
	job->auth_tag_output_len_in_bytes = sa->icv_len;
}

/* ------------------------------------------------------------------ */
/* encrypt                                                              */

/* Checks, room, sequence number, headers and trailer for one packet; st filled for its job. */
static uint8_t enc_prepare(struct rte_mbuf *m, struct dp_sa *sa, struct dp_esp_pkt_state *st)
{
	uint8_t *p;
	uint32_t len, ins_off = 0, ulp_len;
	uint16_t nh_off = 0;
	uint8_t nh;

	if (unlikely(sa == NULL || sa->dir != HA_SA_OUT))
		return DP_ESP_E_NO_SA;
	if (unlikely(m->nb_segs != 1))
		return DP_ESP_E_MULTISEG;
	p = rte_pktmbuf_mtod(m, uint8_t *);
	len = m->data_len;

	if (sa->mode == HA_SA_TUNNEL) {
		uint32_t ip_len;

		if (unlikely(len < 20))
			return DP_ESP_E_BAD_INNER;
		if ((p[0] >> 4) == 4) {
			ip_len = get_be16(p + 2);
			nh = NH_IPV4;
			if (unlikely(ip_len < 20))
				return DP_ESP_E_BAD_INNER;
		} else if ((p[0] >> 4) == 6 && len >= IPV6_HDR_LEN) {
			ip_len = IPV6_HDR_LEN + (uint32_t)get_be16(p + 4);
			nh = NH_IPV6;
			if (unlikely(ip_len == IPV6_HDR_LEN && len > ip_len))
				return DP_ESP_E_BAD_INNER; /* a jumbogram: not ours */
		} else
			return DP_ESP_E_BAD_INNER;
		if (unlikely(ip_len > len))
			return DP_ESP_E_BAD_INNER;
		if (ip_len < len) { /* link-layer padding */
			rte_pktmbuf_trim(m, (uint16_t)(len - ip_len));
			len = ip_len;
		}
		ulp_len = len;
	} else {
		if (unlikely(ipv6_esp_point(p, len, 0, &ins_off, &nh_off, &nh) != 0))
			return DP_ESP_E_BAD_INNER;
		const uint32_t ip_len = IPV6_HDR_LEN + (uint32_t)get_be16(p + 4);
		if (unlikely(ip_len > len || ip_len < ins_off))
			return DP_ESP_E_BAD_INNER;
		if (ip_len < len) {
			rte_pktmbuf_trim(m, (uint16_t)(len - ip_len));
			len = ip_len;
		}
		ulp_len = len - ins_off;
	}

	const uint32_t hdr = ESP_HDR_LEN + sa->iv_len;
	const uint32_t pad = (0u - (ulp_len + 2u)) & (sa->pad_align - 1u);
	const uint32_t tail = pad + 2u + sa->icv_len;

	if (unlikely(rte_pktmbuf_headroom(m) < hdr))
		return DP_ESP_E_NO_HEADROOM;
	if (unlikely(rte_pktmbuf_tailroom(m) < tail))
		return DP_ESP_E_NO_TAILROOM;
	if (sa->mode == HA_SA_TRANSPORT && unlikely(len - IPV6_HDR_LEN + hdr + tail > UINT16_MAX))
		return DP_ESP_E_TOO_BIG;
	/* the end of the reserved block (dp_seq_ledger.h) or of the sequence space */
	if (unlikely(sa->seq >= sa->seq_stop) && !dp_sa_seq_reserve(sa))
		return DP_ESP_E_SEQ_OVERFLOW;
	const uint64_t seq = ++sa->seq;

	/* The mbuf cannot fail from here on (one segment, room checked): grow it at both ends. */
	m->data_off = (uint16_t)(m->data_off - hdr);
	m->data_len = (uint16_t)(len + hdr + tail);
	m->pkt_len = m->data_len;
	uint8_t *start = rte_pktmbuf_mtod(m, uint8_t *);
	if (sa->mode == HA_SA_TRANSPORT) {
		memmove(start, start + hdr, ins_off);
		start[nh_off] = IPPROTO_ESP_;
		put_be16(start + 4, (uint16_t)(m->data_len - IPV6_HDR_LEN));
	}
	uint8_t *esp = start + ins_off;

	memcpy(esp, &sa->spi_be, 4);
	put_be32(esp + 4, (uint32_t)seq);
	uint8_t *t = esp + hdr + ulp_len;
	for (uint32_t i = 0; i < pad; i++)
		t[i] = (uint8_t)(i + 1);
	t[pad] = (uint8_t)pad;
	t[pad + 1] = nh;

	st->seq = seq;
	st->esp = esp;
	st->ct_len = (uint16_t)(ulp_len + pad + 2u);
	switch (sa->cipher) {
	case DP_SA_CIPHER_AES_GCM:
		put_be64(esp + ESP_HDR_LEN, seq);
		memcpy(st->iv, sa->salt, 4);
		memcpy(st->iv + 4, esp + ESP_HDR_LEN, 8);
		memcpy(st->aad, &sa->spi_be, 4);
		if (sa->esn) {
			put_be32(st->aad + 4, (uint32_t)(seq >> 32));
			put_be32(st->aad + 8, (uint32_t)seq);
		} else
			put_be32(st->aad + 4, (uint32_t)seq);
		break;
	case DP_SA_CIPHER_AES_CBC:
		put_be64(esp + ESP_HDR_LEN, seq);
		memcpy(esp + ESP_HDR_LEN + 8, &sa->iv_nonce, 8);
		break;
	default:
		break;
	}
	if (sa->auth != DP_SA_AUTH_NONE && sa->esn)
		put_be32(esp + hdr + st->ct_len, (uint32_t)(seq >> 32));
	return DP_ESP_OK;
}

static inline uint8_t enc_complete(struct dp_esp_ctx *ctx, bool completed, uint16_t i,
				   struct dp_sa *const *sas, struct rte_mbuf **pkts)
{
	struct dp_sa *sa = sas[i];
	const struct dp_esp_pkt_state *st = &ctx->st[i];

	if (unlikely(!completed))
		return DP_ESP_E_CRYPTO;
	if (sa->auth != DP_SA_AUTH_NONE)
		memcpy(st->esp + ESP_HDR_LEN + sa->iv_len + st->ct_len, st->icv, sa->icv_len);
	sa->pkts++;
	sa->bytes += pkts[i]->data_len;
	return DP_ESP_OK;
}

/* ------------------------------------------------------------------ */
/* decrypt                                                              */

static uint8_t dec_prepare(struct rte_mbuf *m, struct dp_sa *sa, uint16_t esp_off,
			   struct dp_esp_pkt_state *st)
{
	if (unlikely(sa == NULL || sa->dir != HA_SA_IN))
		return DP_ESP_E_NO_SA;
	if (unlikely(m->nb_segs != 1))
		return DP_ESP_E_MULTISEG;

	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	const uint32_t len = m->data_len;
	const uint32_t hdr = ESP_HDR_LEN + sa->iv_len;

	if (unlikely(esp_off > len || len - esp_off < hdr + 2u + sa->icv_len))
		return DP_ESP_E_TRUNCATED;
	const uint32_t ct_len = len - esp_off - hdr - sa->icv_len;
	if (sa->cipher == DP_SA_CIPHER_AES_CBC && unlikely(ct_len % 16 != 0))
		return DP_ESP_E_BAD_LENGTH;
	if (sa->mode == HA_SA_TRANSPORT) {
		uint32_t ins;
		uint8_t nh;

		if (unlikely(ipv6_esp_point(p, len, esp_off, &ins, &st->nh_off, &nh) != 0 ||
			     nh != IPPROTO_ESP_ || esp_off < IPV6_HDR_LEN))
			return DP_ESP_E_BAD_HEADER;
	}

	uint8_t *esp = p + esp_off;
	const uint64_t seq = dp_sa_seq_infer(sa, get_be32(esp + 4));
	switch (dp_sa_replay_check(sa, seq)) {
	case DP_SA_REPLAY_OK:
		break;
	case DP_SA_REPLAY_DUP:
		return DP_ESP_E_REPLAY_DUP;
	default:
		return DP_ESP_E_REPLAY_OLD;
	}

	st->seq = seq;
	st->esp = esp;
	st->esp_off = esp_off;
	st->ct_len = (uint16_t)ct_len;
	if (sa->cipher == DP_SA_CIPHER_AES_GCM) {
		memcpy(st->iv, sa->salt, 4);
		memcpy(st->iv + 4, esp + ESP_HDR_LEN, 8);
		memcpy(st->aad, esp, 4); /* the SPI as received: it is authenticated */
		if (sa->esn) {
			put_be32(st->aad + 4, (uint32_t)(seq >> 32));
			memcpy(st->aad + 8, esp + 4, 4);
		} else
			memcpy(st->aad + 4, esp + 4, 4);
	} else if (sa->esn) {
		uint8_t *icv = esp + hdr + ct_len;

		memcpy(st->rx_icv, icv, sa->icv_len);
		put_be32(icv, (uint32_t)(seq >> 32));
	}
	return DP_ESP_OK;
}

static inline uint8_t dec_complete(struct dp_esp_ctx *ctx, bool completed, uint16_t i,
				   struct dp_sa *const *sas, struct rte_mbuf **pkts)
{
	struct dp_sa *sa = sas[i];
	struct dp_esp_pkt_state *st = &ctx->st[i];
	struct rte_mbuf *m = pkts[i];
	const uint32_t hdr = ESP_HDR_LEN + sa->iv_len;
	const uint8_t *rx_icv = (sa->esn && sa->auth != DP_SA_AUTH_NONE)
					? st->rx_icv : st->esp + hdr + st->ct_len;

	if (unlikely(!completed))
		return DP_ESP_E_CRYPTO;
	if (unlikely(!icv_equal(st->icv, rx_icv, sa->icv_len)))
		return DP_ESP_E_ICV;
	/* Authentic: check the window again (a duplicate in this same burst) and slide it. */
	switch (dp_sa_replay_check(sa, st->seq)) {
	case DP_SA_REPLAY_OK:
		break;
	case DP_SA_REPLAY_DUP:
		return DP_ESP_E_REPLAY_DUP;
	default:
		return DP_ESP_E_REPLAY_OLD;
	}
	dp_sa_replay_update(sa, st->seq);

	const uint8_t *t = st->esp + hdr + st->ct_len - 2;
	const uint32_t padlen = t[0];
	const uint8_t nh = t[1];

	if (unlikely(padlen + 2u > st->ct_len))
		return DP_ESP_E_BAD_PAD;
	for (uint32_t k = 0; k < padlen; k++) {
		if (unlikely(t[-(int32_t)padlen + (int32_t)k] != (uint8_t)(k + 1)))
			return DP_ESP_E_BAD_PAD;
	}
	const uint16_t cut_tail = (uint16_t)(padlen + 2u + sa->icv_len);

	if (sa->mode == HA_SA_TUNNEL) {
		if (unlikely(nh != NH_IPV4 && nh != NH_IPV6))
			return DP_ESP_E_BAD_NEXT_HDR;
		rte_pktmbuf_adj(m, (uint16_t)(st->esp_off + hdr));
		rte_pktmbuf_trim(m, cut_tail);
	} else {
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		p[st->nh_off] = nh;
		memmove(p + hdr, p, st->esp_off);
		rte_pktmbuf_adj(m, (uint16_t)hdr);
		rte_pktmbuf_trim(m, cut_tail);
		p = rte_pktmbuf_mtod(m, uint8_t *);
		put_be16(p + 4, (uint16_t)(m->data_len - IPV6_HDR_LEN));
	}
	sa->pkts++;
	sa->bytes += st->ct_len;
	return DP_ESP_OK;
}

/* AES-GCM straight through IPsec-MB's GCM functions, in place: for a tunnel's small packets the
 * job manager's bookkeeping costs about as much as the cipher (docs/performance.md). The tag
 * goes after the ciphertext (encrypt) or into st->icv for the check (decrypt). */
static void gcm_direct(IMB_MGR *mgr, const struct dp_sa *sa, struct dp_esp_pkt_state *st,
		       int encrypt)
{
	struct gcm_context_data gctx;
	uint8_t *ct = st->esp + ESP_HDR_LEN + sa->iv_len;
	uint8_t *tag = encrypt ? ct + st->ct_len : st->icv;
	/* the manager's single-buffer GCM for this key size and direction (IMB_AES*_GCM_ENC/DEC) */
	aes_gcm_enc_dec_t gcm = sa->key_len == 16 ? (encrypt ? mgr->gcm128_enc : mgr->gcm128_dec)
						   : (encrypt ? mgr->gcm256_enc : mgr->gcm256_dec);

	gcm(&sa->k.gcm, &gctx, ct, ct, st->ct_len, st->iv, st->aad, sa->esn ? 12 : 8, tag, 16);
}

/*
 * One submission round of at most DP_ESP_CHUNK packets whose prepare step succeeded (idx[0..k)
 * are their positions): one IPsec-MB burst, then the flush of the jobs still in the
 * multi-buffer lanes. A packet whose job does not come back completed stays DP_ESP_E_CRYPTO.
 */
static uint16_t run_jobs(struct dp_esp_ctx *ctx, struct rte_mbuf **pkts, struct dp_sa *const *sas,
			 uint8_t *drop, const uint16_t *idx, uint16_t k, int encrypt)
{
	IMB_MGR *mgr = ctx->mgr;
	IMB_JOB *jobs[DP_ESP_CHUNK];
	uint16_t ok = 0;
	uint32_t n;

	if (k == 0)
		return 0;
	/* AES-GCM packets are done here; the others become jobs */
	uint16_t nj = 0, job_idx[DP_ESP_CHUNK];
	for (uint16_t j = 0; j < k; j++) {
		const uint16_t i = idx[j];
		if (sas[i]->cipher == DP_SA_CIPHER_AES_GCM) {
			gcm_direct(mgr, sas[i], &ctx->st[i], encrypt);
			drop[i] = encrypt ? enc_complete(ctx, true, i, sas, pkts)
					  : dec_complete(ctx, true, i, sas, pkts);
			ok += drop[i] == DP_ESP_OK;
		} else {
			drop[i] = DP_ESP_E_CRYPTO;
			job_idx[nj++] = i;
		}
	}
	if (nj == 0)
		return ok;
	/* Every round drains the manager, so its queue has room for a whole round. */
	if (unlikely(IMB_GET_NEXT_BURST(mgr, nj, jobs) < nj))
		return ok;
	for (uint16_t j = 0; j < nj; j++) {
		const uint16_t i = job_idx[j];

		job_fill(jobs[j], sas[i], &ctx->st[i], ctx->st[i].esp, encrypt);
		jobs[j]->user_data = (void *)(uintptr_t)i;
	}
	n = DP_ESP_SUBMIT_BURST(mgr, nj, jobs);
	for (;;) {
		for (uint32_t j = 0; j < n; j++) {
			const uint16_t i = (uint16_t)(uintptr_t)jobs[j]->user_data;
			const bool done = jobs[j]->status == IMB_STATUS_COMPLETED;

			drop[i] = encrypt ? enc_complete(ctx, done, i, sas, pkts)
					  : dec_complete(ctx, done, i, sas, pkts);
			ok += drop[i] == DP_ESP_OK;
		}
		n = IMB_FLUSH_BURST(mgr, nj, jobs);
		if (n == 0)
			break;
	}
	return ok;
}

/*
 * With many SAs their keys are cold: fetch what IPsec-MB reads for a short packet before the
 * burst's first cipher starts. The AES round keys lead the key data (4 lines); the GHASH powers
 * a packet of up to 8 blocks needs (H^1..H^8) follow them in the SSE/AVX2 layouts and end the
 * structure in the VAES one (intel-ipsec-mb.h, struct gcm_key_data). Inbound only: it took
 * the uplink ESP benchmark from ~345 to ~220 cycles per packet, the outbound one not at all.
 */
static inline void prefetch_keys(struct dp_sa *const *sas, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		if (!sas[i])
			continue;
		const uint8_t *k = (const uint8_t *)&sas[i]->k;
		for (unsigned off = 0; off < 256; off += 64)
			rte_prefetch0(k + off);
		if (sas[i]->cipher == DP_SA_CIPHER_AES_GCM) {
			rte_prefetch0(k + 256);
			rte_prefetch0(k + 320);
			rte_prefetch0(k + sizeof(struct gcm_key_data) - 128);
			rte_prefetch0(k + sizeof(struct gcm_key_data) - 64);
		}
	}
}

uint16_t dp_esp_encrypt_burst(struct dp_esp_ctx *ctx, struct rte_mbuf **pkts,
			      struct dp_sa *const *sas, uint16_t n, uint8_t *drop_reason)
{
	uint16_t ok = 0, idx[DP_ESP_CHUNK];

	for (uint16_t b = 0; b < n; b += DP_ESP_CHUNK) {
		const uint16_t c = (uint16_t)RTE_MIN(n - b, DP_ESP_CHUNK);
		uint16_t k = 0;

		for (uint16_t i = 0; i < c; i++) {
			drop_reason[b + i] = enc_prepare(pkts[b + i], sas[b + i], &ctx->st[i]);
			if (drop_reason[b + i] == DP_ESP_OK)
				idx[k++] = i;
		}
		ok += run_jobs(ctx, pkts + b, sas + b, drop_reason + b, idx, k, 1);
	}
	return ok;
}

uint16_t dp_esp_decrypt_burst(struct dp_esp_ctx *ctx, struct rte_mbuf **pkts,
			      struct dp_sa *const *sas, const uint16_t *esp_off, uint16_t n,
			      uint8_t *drop_reason)
{
	uint16_t ok = 0, idx[DP_ESP_CHUNK];

	prefetch_keys(sas, n);
	for (uint16_t b = 0; b < n; b += DP_ESP_CHUNK) {
		const uint16_t c = (uint16_t)RTE_MIN(n - b, DP_ESP_CHUNK);
		uint16_t k = 0;

		for (uint16_t i = 0; i < c; i++) {
			drop_reason[b + i] = dec_prepare(pkts[b + i], sas[b + i], esp_off[b + i],
							 &ctx->st[i]);
			if (drop_reason[b + i] == DP_ESP_OK)
				idx[k++] = i;
		}
		ok += run_jobs(ctx, pkts + b, sas + b, drop_reason + b, idx, k, 0);
	}
	return ok;
}
