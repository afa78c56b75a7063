/* The UE's end of a payload SA for ha-pktgen (pg_esp.h), on Intel IPsec-MB's AES-GCM. */
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "ha_bytes.h"
#include "pg_esp.h"

struct pg_esp_sa {
	bool ready;
	uint64_t seq;                   /* the last one sent */
	struct gcm_key_data key;        /* IPsec-MB wants it 16-octet aligned */
};

struct pg_esp {
	const struct ha_config *cfg;
	IMB_MGR *mgr;
	struct pg_esp_sa *sa;           /* one per static SA, n_static_sas */
};

struct pg_esp *pg_esp_create(const struct ha_config *cfg)
{
	struct pg_esp *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->cfg = cfg;
	e->mgr = alloc_mb_mgr(0);
	/* aligned_alloc: the size must be a multiple of the alignment */
	size_t bytes = (cfg->n_static_sas ? cfg->n_static_sas : 1) * sizeof(struct pg_esp_sa);
	e->sa = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	if (!e->mgr || !e->sa) {
		pg_esp_free(e);
		return NULL;
	}
	memset(e->sa, 0, bytes);
	init_mb_mgr_auto(e->mgr, NULL);
	return e;
}

void pg_esp_free(struct pg_esp *e)
{
	if (!e)
		return;
	if (e->mgr)
		free_mb_mgr(e->mgr);
	if (e->sa)
		memset(e->sa, 0, e->cfg->n_static_sas * sizeof(*e->sa)); /* key schedules */
	free(e->sa);
	free(e);
}

static bool is_gcm(const struct ha_config_sa *c)
{
	return c->encryption == HA_CFG_ENC_AES_GCM_128 || c->encryption == HA_CFG_ENC_AES_GCM_256;
}

bool pg_esp_usable(struct pg_esp *e, uint32_t sa_index, char *err, size_t err_len)
{
	if (sa_index >= e->cfg->n_static_sas) {
		snprintf(err, err_len, "no static SA at index %u", sa_index);
		return false;
	}
	const struct ha_config_sa *c = &e->cfg->static_sas[sa_index];
	if (!is_gcm(c)) {
		snprintf(err, err_len, "SA 0x%x is %s: ha-pktgen seals AES-GCM only", c->spi,
			 ha_cfg_enc_name(c->encryption));
		return false;
	}
	struct pg_esp_sa *s = &e->sa[sa_index];
	if (!s->ready) {
		if (c->encryption == HA_CFG_ENC_AES_GCM_128)
			IMB_AES128_GCM_PRE(e->mgr, c->key, &s->key);
		else
			IMB_AES256_GCM_PRE(e->mgr, c->key, &s->key);
		s->ready = true;
	}
	return true;
}

/* RFC 4106: nonce = salt (the key material's last 4 octets) | IV; AAD = SPI | [ESN high] | seq. */
static void nonce_aad(const struct ha_config_sa *c, const uint8_t *iv, uint64_t seq,
		      uint8_t nonce[12], uint8_t aad[12], uint64_t *aad_len)
{
	memcpy(nonce, c->key + c->key_len - 4, 4);
	memcpy(nonce + 4, iv, 8);
	ha_wr32(aad, c->spi);
	if (c->esn) {
		ha_wr32(aad + 4, (uint32_t)(seq >> 32));
		ha_wr32(aad + 8, (uint32_t)seq);
		*aad_len = 12;
	} else {
		ha_wr32(aad + 4, (uint32_t)seq);
		*aad_len = 8;
	}
}

static void gcm(struct pg_esp *e, const struct ha_config_sa *c, struct pg_esp_sa *s, bool enc,
		uint8_t *text, uint64_t len, const uint8_t *nonce, const uint8_t *aad,
		uint64_t aad_len, uint8_t *tag)
{
	struct gcm_context_data ctx;
	/* the manager's single-buffer GCM for this key size and direction (IMB_AES*_GCM_ENC/DEC) */
	aes_gcm_enc_dec_t fn = c->encryption == HA_CFG_ENC_AES_GCM_128
				       ? (enc ? e->mgr->gcm128_enc : e->mgr->gcm128_dec)
				       : (enc ? e->mgr->gcm256_enc : e->mgr->gcm256_dec);

	fn(&s->key, &ctx, text, text, len, nonce, aad, aad_len, tag, 16);
}

size_t pg_esp_seal(struct pg_esp *e, uint32_t sa_index, uint8_t nh, const uint8_t *plain,
		   size_t plain_len, uint8_t *out)
{
	const struct ha_config_sa *c = &e->cfg->static_sas[sa_index];
	struct pg_esp_sa *s = &e->sa[sa_index];
	uint64_t seq = ++s->seq;
	uint8_t nonce[12], aad[12], *text = out + 16;
	uint64_t aad_len;
	size_t pad = (4 - (plain_len + 2) % 4) % 4, len = plain_len + pad + 2;

	ha_wr32(out, c->spi);
	ha_wr32(out + 4, (uint32_t)seq);
	ha_wr32(out + 8, (uint32_t)(seq >> 32)); /* the IV: unique per packet under the key */
	ha_wr32(out + 12, (uint32_t)seq);
	memmove(text, plain, plain_len);
	for (size_t i = 0; i < pad; i++)
		text[plain_len + i] = (uint8_t)(i + 1);
	text[plain_len + pad] = (uint8_t)pad;
	text[plain_len + pad + 1] = nh;
	nonce_aad(c, out + 8, seq, nonce, aad, &aad_len);
	gcm(e, c, s, true, text, len, nonce, aad, aad_len, text + len);
	return 16 + len + 16;
}

long pg_esp_open(struct pg_esp *e, uint32_t sa_index, const uint8_t *esp, size_t esp_len,
		 uint8_t *out, uint8_t *nh)
{
	const struct ha_config_sa *c = &e->cfg->static_sas[sa_index];
	struct pg_esp_sa *s = &e->sa[sa_index];
	uint8_t nonce[12], aad[12], tag[16];
	uint64_t aad_len;

	if (esp_len < 16 + 2 + 16 || (esp_len - 32) % 4 || ha_rd32(esp) != c->spi)
		return -1;
	size_t len = esp_len - 32;
	/* the sink reads one pcap: the high half of an extended sequence number is still 0 */
	nonce_aad(c, esp + 8, ha_rd32(esp + 4), nonce, aad, &aad_len);
	memcpy(out, esp + 16, len);
	gcm(e, c, s, false, out, len, nonce, aad, aad_len, tag);
	if (memcmp(tag, esp + 16 + len, 16))
		return -1;
	size_t pad = out[len - 2];
	if (pad + 2 > len)
		return -1;
	for (size_t i = 0; i < pad; i++)
		if (out[len - 2 - pad + i] != (uint8_t)(i + 1))
			return -1;
	*nh = out[len - 1];
	return (long)(len - 2 - pad);
}
