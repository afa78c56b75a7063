/*
 * Compiling an SA spec into the runtime object (see dp_sa.h): validation, key expansion with
 * Intel IPsec-MB (once, here, never per packet), the replay window's size.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "dp_sa.h"

/* The key-setup manager of the calling thread (the control thread in hadp). Workers never
 * touch it: they have their own in struct dp_esp_ctx. */
static __thread IMB_MGR *key_mgr;

static IMB_MGR *get_key_mgr(void)
{
	if (key_mgr == NULL) {
		IMB_MGR *m = alloc_mb_mgr(0);

		if (m == NULL)
			return NULL;
		init_mb_mgr_auto(m, NULL);
		if (imb_get_errno(m) != 0) {
			free_mb_mgr(m);
			return NULL;
		}
		key_mgr = m;
	}
	return key_mgr;
}

void dp_sa_key_mgr_release(void)
{
	if (key_mgr != NULL) {
		free_mb_mgr(key_mgr);
		key_mgr = NULL;
	}
}

/* Explicit wipe the compiler may not drop. */
static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--)
		*v++ = 0;
}

/* HMAC inner and outer states after one block of (key ^ 0x36..) and (key ^ 0x5c..), the form
 * IPsec-MB's HMAC jobs take (as DPDK's ipsec_mb PMD computes them). Keys are at most 32 octets,
 * shorter than the 64-octet block, so no pre-hashing. */
static void hmac_precompute(IMB_MGR *m, enum dp_sa_auth a, const uint8_t *key, unsigned len,
			    uint8_t ipad[32], uint8_t opad[32])
{
	alignas(16) uint8_t ib[64], ob[64];

	memset(ib, 0x36, sizeof(ib));
	memset(ob, 0x5c, sizeof(ob));
	for (unsigned i = 0; i < len; i++) {
		ib[i] ^= key[i];
		ob[i] ^= key[i];
	}
	if (a == DP_SA_AUTH_HMAC_SHA1_96) {
		IMB_SHA1_ONE_BLOCK(m, ib, ipad);
		IMB_SHA1_ONE_BLOCK(m, ob, opad);
	} else {
		IMB_SHA256_ONE_BLOCK(m, ib, ipad);
		IMB_SHA256_ONE_BLOCK(m, ob, opad);
	}
	wipe(ib, sizeof(ib));
	wipe(ob, sizeof(ob));
}

/* Shape of the SA from the spec's algorithms; -1 if the combination is refused. */
static int sa_shape(const struct ha_sa_spec *s, struct dp_sa *sa)
{
	switch ((enum ha_cfg_enc)s->encryption) {
	case HA_CFG_ENC_AES_GCM_128:
	case HA_CFG_ENC_AES_GCM_256:
		sa->cipher = DP_SA_CIPHER_AES_GCM;
		sa->key_len = s->encryption == HA_CFG_ENC_AES_GCM_128 ? 16 : 32;
		if (s->key_len != sa->key_len + 4 || s->integrity != HA_CFG_INTEG_NONE)
			return -1;
		sa->iv_len = 8;
		sa->icv_len = 16;
		sa->pad_align = 4;
		sa->auth = DP_SA_AUTH_NONE;
		return 0;
	case HA_CFG_ENC_AES_CBC_128:
	case HA_CFG_ENC_AES_CBC_256:
		sa->cipher = DP_SA_CIPHER_AES_CBC;
		sa->key_len = s->encryption == HA_CFG_ENC_AES_CBC_128 ? 16 : 32;
		if (s->key_len != sa->key_len)
			return -1;
		sa->iv_len = 16;
		sa->pad_align = 16;
		break;
	case HA_CFG_ENC_NULL:
		sa->cipher = DP_SA_CIPHER_NULL;
		sa->key_len = 0;
		if (s->key_len != 0)
			return -1;
		sa->iv_len = 0;
		sa->pad_align = 4;
		break;
	default:
		return -1;
	}
	/* CBC and NULL need an integrity algorithm (RFC 8221: no encryption-only ESP). */
	switch ((enum ha_cfg_integ)s->integrity) {
	case HA_CFG_INTEG_HMAC_SHA1_96:
		sa->auth = DP_SA_AUTH_HMAC_SHA1_96;
		sa->icv_len = 12;
		return s->auth_key_len == 20 ? 0 : -1;
	case HA_CFG_INTEG_HMAC_SHA256_128:
		sa->auth = DP_SA_AUTH_HMAC_SHA256_128;
		sa->icv_len = 16;
		return s->auth_key_len == 32 ? 0 : -1;
	default:
		return -1;
	}
}

static uint64_t seq_max(const struct dp_sa *sa);

struct dp_sa *dp_sa_create(const struct ha_sa_spec *spec, int socket_id)
{
	struct dp_sa shape;
	uint32_t words = 0;

	memset(&shape, 0, sizeof(shape));
	if (spec == NULL || (spec->direction != HA_SA_IN && spec->direction != HA_SA_OUT) ||
	    (spec->mode != HA_SA_TRANSPORT && spec->mode != HA_SA_TUNNEL) ||
	    spec->key_len > HA_CFG_KEY_MAX || spec->auth_key_len > HA_CFG_AUTH_KEY_MAX ||
	    (spec->flags & ~HA_SA_F_ESN) != 0 || sa_shape(spec, &shape) != 0 ||
	    (spec->encap_port && (spec->mode != HA_SA_TUNNEL || spec->family != AF_INET)))
		goto bad;
	if (spec->direction == HA_SA_IN) {
		if (spec->replay_window > DP_SA_REPLAY_MAX)
			goto bad;
		/* RFC 6479: a power-of-two ring of 64-bit words, one more word than the window
		 * needs, so sliding clears whole words and never a bit still inside the window. */
		if (spec->replay_window)
			words = rte_align32pow2((spec->replay_window + 63u) / 64u + 1u);
	} else if (!(spec->flags & HA_SA_F_ESN) && spec->seq_start > UINT32_MAX)
		goto bad;

	IMB_MGR *m = get_key_mgr();
	if (m == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	struct dp_sa *sa = rte_zmalloc_socket("dp_sa", sizeof(*sa) + (size_t)words * sizeof(uint64_t),
					      RTE_CACHE_LINE_SIZE, socket_id);
	if (sa == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}

	sa->spi = spec->spi;
	sa->spi_be = rte_cpu_to_be_32(spec->spi);
	sa->dir = spec->direction;
	sa->mode = spec->mode;
	sa->cipher = shape.cipher;
	sa->auth = shape.auth;
	sa->iv_len = shape.iv_len;
	sa->icv_len = shape.icv_len;
	sa->pad_align = shape.pad_align;
	sa->key_len = shape.key_len;
	sa->esn = (spec->flags & HA_SA_F_ESN) ? 1 : 0;
	sa->encap_port_be = rte_cpu_to_be_16(spec->encap_port);
	if (spec->direction == HA_SA_IN) {
		sa->replay_win = spec->replay_window;
		sa->replay_mask = words ? words - 1 : 0;
		sa->seq = 0;
	} else {
		sa->seq = spec->seq_start;
		sa->seq_stop = seq_max(sa); /* no ledger: only the sequence space's end */
		sa->iv_nonce = rte_rand();
	}

	switch (sa->cipher) {
	case DP_SA_CIPHER_AES_GCM:
		memcpy(sa->salt, spec->key + sa->key_len, 4);
		if (sa->key_len == 16)
			IMB_AES128_GCM_PRE(m, spec->key, &sa->k.gcm);
		else
			IMB_AES256_GCM_PRE(m, spec->key, &sa->k.gcm);
		break;
	case DP_SA_CIPHER_AES_CBC:
		if (sa->key_len == 16)
			IMB_AES_KEYEXP_128(m, spec->key, sa->k.aes.enc, sa->k.aes.dec);
		else
			IMB_AES_KEYEXP_256(m, spec->key, sa->k.aes.enc, sa->k.aes.dec);
		break;
	default:
		break;
	}
	if (sa->auth != DP_SA_AUTH_NONE)
		hmac_precompute(m, sa->auth, spec->auth_key, spec->auth_key_len, sa->ipad, sa->opad);

	sa->conf.spi = spec->spi;
	sa->conf.direction = spec->direction;
	sa->conf.mode = spec->mode;
	sa->conf.family = spec->family;
	sa->conf.encryption = spec->encryption;
	sa->conf.integrity = spec->integrity;
	sa->conf.flags = spec->flags;
	sa->conf.replay_window = spec->replay_window;
	memcpy(sa->conf.local, spec->local, sizeof(sa->conf.local));
	memcpy(sa->conf.peer, spec->peer, sizeof(sa->conf.peer));
	sa->conf.seq_start = spec->seq_start;
	return sa;
bad:
	rte_errno = EINVAL;
	return NULL;
}

static uint64_t seq_max(const struct dp_sa *sa)
{
	return sa->esn ? UINT64_MAX : UINT32_MAX;
}

void dp_sa_attach_ledger(struct dp_sa *sa, struct dp_seq_rec *rec)
{
	sa->conf.ledger = rec;
	if (!rec)
		return;
	if (sa->dir == HA_SA_OUT) {
		sa->seq_stop = 0; /* the first packet reserves */
		return;
	}
	sa->seen = rec;
	uint64_t edge = rec->in_seen;
	if (edge <= sa->seq)
		return;
	sa->seq = edge;
	/* every number at or below the edge counts as seen: what the window's bitmap cannot say
	 * is old anyway */
	if (sa->replay_win)
		for (uint32_t w = 0; w <= sa->replay_mask; w++)
			sa->replay_bits[w] = UINT64_MAX;
}

bool dp_sa_seq_reserve(struct dp_sa *sa)
{
	const uint64_t max = seq_max(sa);
	struct dp_seq_rec *rec = sa->conf.ledger;

	if (sa->seq >= max)
		return false;
	if (!rec) {
		sa->seq_stop = max;
		return true;
	}
	uint64_t base = rec->out_reserved > sa->seq ? rec->out_reserved : sa->seq;
	if (base >= max)
		return false;
	uint64_t stop = max - base > DP_SEQ_BLOCK ? base + DP_SEQ_BLOCK : max;
	rec->out_reserved = stop;
	/* the record holds the block's end before any of its numbers leaves */
	rte_compiler_barrier();
	sa->seq = base;
	sa->seq_stop = stop;
	return true;
}

void dp_sa_free(struct dp_sa *sa)
{
	if (sa == NULL)
		return;
	wipe(&sa->k, sizeof(sa->k));
	wipe(sa->ipad, sizeof(sa->ipad));
	wipe(sa->opad, sizeof(sa->opad));
	wipe(sa->salt, sizeof(sa->salt));
	rte_free(sa);
}
