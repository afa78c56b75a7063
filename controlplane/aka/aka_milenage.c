#include <string.h>

#include <openssl/evp.h>

#include "aka_milenage.h"

/* One AES-128 block under K. */
static int aes(const uint8_t k[16], const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k, NULL) &&
			EVP_CIPHER_CTX_set_padding(c, 0) && EVP_EncryptUpdate(c, out, &n, in, 16) &&
			n == 16;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static void xor16(uint8_t *d, const uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 16; i++)
		d[i] = a[i] ^ b[i];
}

int aka_opc(const uint8_t k[AKA_K_LEN], const uint8_t op[16], uint8_t opc[16])
{
	uint8_t e[16];
	if (aes(k, op, e) < 0)
		return -1;
	xor16(opc, e, op);
	return 0;
}

/* TEMP = E_K(RAND xor OPc) */
static int temp_of(const uint8_t *k, const uint8_t *opc, const uint8_t *rand, uint8_t temp[16])
{
	uint8_t x[16];
	xor16(x, rand, opc);
	return aes(k, x, temp);
}

/* OUTn = E_K(rot(TEMP xor OPc, r) xor c) xor OPc, r in octets, c the last octet of cn
 * (TS 35.206 4.1: r2..r5 = 0, 32, 64, 96 bits; c2..c5 = 1, 2, 4, 8). */
static int out_n(const uint8_t *k, const uint8_t *opc, const uint8_t *temp, unsigned r, uint8_t c,
		 uint8_t out[16])
{
	uint8_t x[16], y[16];
	xor16(x, temp, opc);
	for (unsigned i = 0; i < 16; i++)
		y[i] = x[(i + r) % 16];
	y[15] ^= c;
	if (aes(k, y, out) < 0)
		return -1;
	xor16(out, out, opc);
	return 0;
}

int aka_f1(const uint8_t k[AKA_K_LEN], const uint8_t opc[16], const uint8_t rand[AKA_RAND_LEN],
	   const uint8_t sqn[AKA_SQN_LEN], const uint8_t amf[AKA_AMF_LEN],
	   uint8_t mac_a[AKA_MAC_LEN], uint8_t mac_s[AKA_MAC_LEN])
{
	uint8_t temp[16], in1[16], x[16], y[16], out[16];

	if (temp_of(k, opc, rand, temp) < 0)
		return -1;
	memcpy(in1, sqn, 6);
	memcpy(in1 + 6, amf, 2);
	memcpy(in1 + 8, in1, 8);
	/* OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1 = 64 bits) xor c1 = 0) xor OPc */
	xor16(x, in1, opc);
	for (unsigned i = 0; i < 16; i++)
		y[i] = x[(i + 8) % 16] ^ temp[i];
	if (aes(k, y, out) < 0)
		return -1;
	xor16(out, out, opc);
	if (mac_a)
		memcpy(mac_a, out, 8);
	if (mac_s)
		memcpy(mac_s, out + 8, 8);
	return 0;
}

int aka_f2345(const uint8_t k[AKA_K_LEN], const uint8_t opc[16], const uint8_t rand[AKA_RAND_LEN],
	      uint8_t res[AKA_RES_LEN], uint8_t ck[AKA_CK_LEN], uint8_t ik[AKA_IK_LEN],
	      uint8_t ak[AKA_AK_LEN], uint8_t ak_star[AKA_AK_LEN])
{
	uint8_t temp[16], out[16];

	if (temp_of(k, opc, rand, temp) < 0 || out_n(k, opc, temp, 0, 1, out) < 0)
		return -1;
	if (res)
		memcpy(res, out + 8, 8);
	if (ak)
		memcpy(ak, out, 6);
	if (ck && out_n(k, opc, temp, 4, 2, ck) < 0)
		return -1;
	if (ik && out_n(k, opc, temp, 8, 4, ik) < 0)
		return -1;
	if (ak_star) {
		if (out_n(k, opc, temp, 12, 8, out) < 0)
			return -1;
		memcpy(ak_star, out, 6);
	}
	return 0;
}

static void put48(uint8_t *p, uint64_t v)
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get48(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = v << 8 | p[i];
	return v;
}

int aka_make_vector(const uint8_t k[AKA_K_LEN], const uint8_t opc[16],
		    const uint8_t rand[AKA_RAND_LEN], uint64_t sqn, const uint8_t amf[AKA_AMF_LEN],
		    struct aka_vector *v)
{
	uint8_t s[6], ak[6];

	put48(s, sqn);
	memcpy(v->rand, rand, 16);
	if (aka_f2345(k, opc, rand, v->xres, v->ck, v->ik, ak, NULL) < 0 ||
	    aka_f1(k, opc, rand, s, amf, v->autn + 8, NULL) < 0)
		return -1;
	for (int i = 0; i < 6; i++)
		v->autn[i] = s[i] ^ ak[i];
	memcpy(v->autn + 6, amf, 2);
	return 0;
}

/* TS 33.102 Annex C.2.1: a SQN is fresh when it is above the highest accepted one and not too
 * far above it (delta = 2^28). */
#define AKA_SQN_DELTA (UINT64_C(1) << 28)

int aka_usim_auts(const uint8_t k[AKA_K_LEN], const uint8_t opc[16], const uint8_t rand[AKA_RAND_LEN],
		  uint64_t sqn_ms, uint8_t auts[AKA_AUTS_LEN])
{
	static const uint8_t amf_resync[2] = { 0, 0 }; /* TS 33.102 6.3.3: AMF* is dummy zeros */
	uint8_t ak_star[6], s[6];

	put48(s, sqn_ms);
	if (aka_f2345(k, opc, rand, NULL, NULL, NULL, NULL, ak_star) < 0 ||
	    aka_f1(k, opc, rand, s, amf_resync, NULL, auts + 6) < 0)
		return -1;
	for (int i = 0; i < 6; i++)
		auts[i] = s[i] ^ ak_star[i];
	return 0;
}

enum aka_check aka_usim_check(const uint8_t k[AKA_K_LEN], const uint8_t opc[16],
			      const uint8_t rand[AKA_RAND_LEN], const uint8_t autn[AKA_AUTN_LEN],
			      uint64_t *sqn_ms, uint8_t res[AKA_RES_LEN], uint8_t ck[AKA_CK_LEN],
			      uint8_t ik[AKA_IK_LEN], uint8_t auts[AKA_AUTS_LEN])
{
	uint8_t ak[6], s[6], xmac[8];

	if (aka_f2345(k, opc, rand, res, ck, ik, ak, NULL) < 0)
		return AKA_ERROR;
	for (int i = 0; i < 6; i++)
		s[i] = autn[i] ^ ak[i];
	if (aka_f1(k, opc, rand, s, autn + 6, xmac, NULL) < 0)
		return AKA_ERROR;
	if (memcmp(xmac, autn + 8, 8) != 0)
		return AKA_MAC_FAILED;
	uint64_t sqn = get48(s);
	if (sqn > *sqn_ms && sqn - *sqn_ms <= AKA_SQN_DELTA) {
		*sqn_ms = sqn;
		return AKA_OK;
	}
	return aka_usim_auts(k, opc, rand, *sqn_ms, auts) < 0 ? AKA_ERROR : AKA_SYNC_FAILED;
}

int aka_resync(const uint8_t k[AKA_K_LEN], const uint8_t opc[16], const uint8_t rand[AKA_RAND_LEN],
	       const uint8_t auts[AKA_AUTS_LEN], uint64_t *sqn_ms)
{
	uint8_t ak_star[6], s[6], mac_s[8];
	static const uint8_t amf_resync[2] = { 0, 0 };

	if (aka_f2345(k, opc, rand, NULL, NULL, NULL, NULL, ak_star) < 0)
		return -1;
	for (int i = 0; i < 6; i++)
		s[i] = auts[i] ^ ak_star[i];
	if (aka_f1(k, opc, rand, s, amf_resync, NULL, mac_s) < 0)
		return -1;
	if (memcmp(mac_s, auts + 6, 8) != 0)
		return 1;
	*sqn_ms = get48(s);
	return 0;
}
