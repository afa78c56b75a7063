/* The PRF needs SHA1's raw compression function G (FIPS 186-2 3.3), which OpenSSL 3 still
 * ships as the deprecated SHA1_Transform. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "aaa_eap_aka.h"

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int eap_parse(const uint8_t *p, size_t len, struct eap_msg *m, const char **err)
{
	memset(m, 0, sizeof(*m));
	if (len < 4) {
		*err = "EAP packet shorter than its header";
		return -1;
	}
	size_t elen = (size_t)p[2] << 8 | p[3];
	if (elen != len) {
		*err = "EAP Length differs from the EAP-Payload's length";
		return -1;
	}
	m->code = p[0];
	m->id = p[1];
	if (m->code == EAP_SUCCESS || m->code == EAP_FAILURE)
		return len == 4 ? 0 : (*err = "EAP Success/Failure with data", -1);
	if (m->code != EAP_REQUEST && m->code != EAP_RESPONSE) {
		*err = "unknown EAP code";
		return -1;
	}
	if (len < 5) {
		*err = "EAP request/response without a type";
		return -1;
	}
	m->type = p[4];
	m->data = p + 5;
	m->data_len = len - 5;
	if (m->type != EAP_TYPE_AKA)
		return 0;
	if (len < 8) {
		*err = "EAP-AKA packet shorter than its subtype and reserved octets";
		return -1;
	}
	m->subtype = p[5];
	m->data = p + 8;
	m->data_len = len - 8;
	for (size_t off = 8; off < len;) {
		if (len - off < 2 || !p[off + 1] || (size_t)p[off + 1] * 4 > len - off) {
			*err = "EAP-AKA attribute overruns the packet";
			return -1;
		}
		const uint8_t *a = p + off;
		size_t alen = (size_t)a[1] * 4;
		switch (a[0]) {
		case AT_RAND:
		case AT_AUTN:
		case AT_MAC:
			if (alen != 20) {
				*err = "AT_RAND, AT_AUTN or AT_MAC of the wrong length";
				return -1;
			}
			if (a[0] == AT_RAND)
				m->rand = a + 4;
			else if (a[0] == AT_AUTN)
				m->autn = a + 4;
			else {
				m->mac = a + 4;
				m->mac_off = off + 4;
			}
			break;
		case AT_AUTS:
			if (alen != 16) {
				*err = "AT_AUTS of the wrong length";
				return -1;
			}
			m->auts = a + 2;
			break;
		case AT_RES:
			m->res_bits = (size_t)a[2] << 8 | a[3];
			if (alen < 4 || m->res_bits % 8 || m->res_bits / 8 > alen - 4) {
				*err = "AT_RES's RES Length does not fit the attribute";
				return -1;
			}
			m->res = a + 4;
			break;
		case AT_IDENTITY: {
			size_t il = (size_t)a[2] << 8 | a[3];
			if (alen < 4 || il > alen - 4) {
				*err = "AT_IDENTITY's Actual Identity Length does not fit";
				return -1;
			}
			m->identity = a + 4;
			m->identity_len = il;
			break;
		}
		case AT_PADDING:
			break;
		default:
			/* RFC 4187 8.1: a non-skippable attribute (type < 128) not understood */
			if (a[0] < 128) {
				*err = "unknown non-skippable EAP-AKA attribute";
				return -1;
			}
		}
		off += alen;
	}
	return 0;
}

void eap_aka_prf(const uint8_t mk[20], uint8_t *out, size_t out_len)
{
	uint8_t xkey[64] = { 0 }, w[40];
	size_t done = 0;

	memcpy(xkey, mk, 20);
	while (done < out_len) {
		for (int i = 0; i < 2; i++) {
			SHA_CTX g;
			SHA1_Init(&g);              /* t: SHA1's initial state */
			SHA1_Transform(&g, xkey);   /* G(t, XKEY), XVAL = XKEY padded with zeros */
			uint32_t h[5] = { g.h0, g.h1, g.h2, g.h3, g.h4 };
			uint8_t *wi = w + 20 * i;
			for (int j = 0; j < 5; j++) {
				wi[4 * j] = (uint8_t)(h[j] >> 24);
				wi[4 * j + 1] = (uint8_t)(h[j] >> 16);
				wi[4 * j + 2] = (uint8_t)(h[j] >> 8);
				wi[4 * j + 3] = (uint8_t)h[j];
			}
			/* XKEY = (1 + XKEY + w_i) mod 2^160 */
			unsigned carry = 1;
			for (int k = 19; k >= 0; k--) {
				carry += xkey[k] + wi[k];
				xkey[k] = (uint8_t)carry;
				carry >>= 8;
			}
		}
		size_t n = out_len - done < 40 ? out_len - done : 40;
		memcpy(out + done, w, n);
		done += n;
	}
}

void eap_aka_keys(const char *identity, size_t id_len, const uint8_t ik[AKA_IK_LEN],
		  const uint8_t ck[AKA_CK_LEN], struct eap_aka_keys *k)
{
	uint8_t mk[SHA_DIGEST_LENGTH], out[160];
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	EVP_DigestInit_ex(c, EVP_sha1(), NULL);
	EVP_DigestUpdate(c, identity, id_len);
	EVP_DigestUpdate(c, ik, AKA_IK_LEN);
	EVP_DigestUpdate(c, ck, AKA_CK_LEN);
	EVP_DigestFinal_ex(c, mk, NULL);
	EVP_MD_CTX_free(c);
	eap_aka_prf(mk, out, sizeof(out));
	memcpy(k->k_encr, out, 16);
	memcpy(k->k_aut, out + 16, 16);
	memcpy(k->msk, out + 32, 64);
	memcpy(k->emsk, out + 96, 64);
}

void eap_aka_mac(const uint8_t k_aut[EAP_AKA_KAUT_LEN], const uint8_t *p, size_t len,
		 size_t mac_off, uint8_t mac[EAP_AKA_MAC_LEN])
{
	uint8_t copy[EAP_AKA_MAX], full[EVP_MAX_MD_SIZE];
	unsigned flen = 0;

	if (len > sizeof(copy) || mac_off + EAP_AKA_MAC_LEN > len) {
		memset(mac, 0, EAP_AKA_MAC_LEN);
		return;
	}
	memcpy(copy, p, len);
	memset(copy + mac_off, 0, EAP_AKA_MAC_LEN);
	HMAC(EVP_sha1(), k_aut, EAP_AKA_KAUT_LEN, copy, len, full, &flen);
	memcpy(mac, full, EAP_AKA_MAC_LEN);
}

int eap_aka_mac_ok(const uint8_t k_aut[EAP_AKA_KAUT_LEN], const uint8_t *p, size_t len,
		   const struct eap_msg *m)
{
	uint8_t mac[EAP_AKA_MAC_LEN];

	if (!m->mac)
		return 0;
	eap_aka_mac(k_aut, p, len, m->mac_off, mac);
	return CRYPTO_memcmp(mac, m->mac, sizeof(mac)) == 0;
}

/* Header of an EAP-AKA packet; the caller appends attributes and sets the length. */
static size_t aka_head(uint8_t *out, uint8_t code, uint8_t id, uint8_t subtype)
{
	out[0] = code;
	out[1] = id;
	out[4] = EAP_TYPE_AKA;
	out[5] = subtype;
	out[6] = out[7] = 0;
	return 8;
}

/* An attribute of 4 + vlen octets (vlen a multiple of 4 after the two reserved octets). */
static size_t put_attr(uint8_t *out, size_t off, uint8_t type, const uint8_t *v, size_t vlen,
		       uint16_t reserved)
{
	out[off] = type;
	out[off + 1] = (uint8_t)((4 + vlen) / 4);
	put16(out + off + 2, reserved);
	if (v)
		memcpy(out + off + 4, v, vlen);
	else
		memset(out + off + 4, 0, vlen);
	return off + 4 + vlen;
}

/* AT_MAC last, computed over the finished packet. */
static size_t finish_with_mac(uint8_t *out, size_t off, const uint8_t k_aut[EAP_AKA_KAUT_LEN])
{
	size_t mac_off = off + 4;

	off = put_attr(out, off, AT_MAC, NULL, EAP_AKA_MAC_LEN, 0);
	put16(out + 2, off);
	eap_aka_mac(k_aut, out, off, mac_off, out + mac_off);
	return off;
}

size_t eap_build_simple(uint8_t *out, uint8_t code, uint8_t id)
{
	out[0] = code;
	out[1] = id;
	put16(out + 2, 4);
	return 4;
}

size_t eap_build_identity(uint8_t *out, uint8_t id, const char *identity)
{
	size_t n = strnlen(identity, EAP_AKA_MAX - 5);

	out[0] = EAP_RESPONSE;
	out[1] = id;
	out[4] = EAP_TYPE_IDENTITY;
	memcpy(out + 5, identity, n);
	put16(out + 2, 5 + n);
	return 5 + n;
}

size_t eap_build_identity_req(uint8_t *out, uint8_t id)
{
	out[0] = EAP_REQUEST;
	out[1] = id;
	out[4] = EAP_TYPE_IDENTITY;
	put16(out + 2, 5);
	return 5;
}

size_t eap_build_challenge(uint8_t *out, uint8_t id, const uint8_t rand[AKA_RAND_LEN],
			   const uint8_t autn[AKA_AUTN_LEN], const uint8_t k_aut[EAP_AKA_KAUT_LEN])
{
	size_t off = aka_head(out, EAP_REQUEST, id, AKA_SUB_CHALLENGE);

	off = put_attr(out, off, AT_RAND, rand, AKA_RAND_LEN, 0);
	off = put_attr(out, off, AT_AUTN, autn, AKA_AUTN_LEN, 0);
	return finish_with_mac(out, off, k_aut);
}

size_t eap_build_challenge_resp(uint8_t *out, uint8_t id, const uint8_t *res, size_t res_len,
				const uint8_t k_aut[EAP_AKA_KAUT_LEN])
{
	uint8_t padded[16] = { 0 };
	size_t off = aka_head(out, EAP_RESPONSE, id, AKA_SUB_CHALLENGE);

	if (res_len > sizeof(padded))
		res_len = sizeof(padded);
	memcpy(padded, res, res_len);
	off = put_attr(out, off, AT_RES, padded, (res_len + 3) / 4 * 4, (uint16_t)(res_len * 8));
	return finish_with_mac(out, off, k_aut);
}

size_t eap_build_sync_failure(uint8_t *out, uint8_t id, const uint8_t auts[AKA_AUTS_LEN])
{
	size_t off = aka_head(out, EAP_RESPONSE, id, AKA_SUB_SYNC_FAILURE);

	/* AT_AUTS has no reserved octets: its 14 octets follow type and length */
	out[off] = AT_AUTS;
	out[off + 1] = 4;
	memcpy(out + off + 2, auts, AKA_AUTS_LEN);
	off += 16;
	put16(out + 2, off);
	return off;
}

const char *eap_describe(const uint8_t *p, size_t len, char *buf, size_t sz)
{
	static const char *const codes[] = { "?", "request", "response", "success", "failure" };
	struct eap_msg m;
	const char *err, *what = "";

	if (eap_parse(p, len, &m, &err) < 0) {
		snprintf(buf, sz, "malformed");
		return buf;
	}
	if (m.type == EAP_TYPE_IDENTITY)
		what = "/identity";
	else if (m.type == EAP_TYPE_AKA)
		switch (m.subtype) {
		case AKA_SUB_CHALLENGE: what = "/aka-challenge"; break;
		case AKA_SUB_AUTH_REJECT: what = "/aka-authentication-reject"; break;
		case AKA_SUB_SYNC_FAILURE: what = "/aka-synchronization-failure"; break;
		case AKA_SUB_IDENTITY: what = "/aka-identity"; break;
		case AKA_SUB_NOTIFICATION: what = "/aka-notification"; break;
		case AKA_SUB_CLIENT_ERROR: what = "/aka-client-error"; break;
		default: what = "/aka-other";
		}
	else if (m.type)
		what = "/other";
	snprintf(buf, sz, "%s%s", codes[m.code <= 4 ? m.code : 0], what);
	return buf;
}
