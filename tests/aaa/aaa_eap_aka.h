/*
 * EAP-AKA (RFC 4187) as the AAA stand-in plays it, and as its test client's USIM answers it:
 * the packets (RFC 3748 4, RFC 4187 8 and 9), the attributes (10), AT_MAC (10.15) and the keys
 * (7: MK = SHA1(Identity|IK|CK), the FIPS 186-2 change notice 1 PRF -> K_encr, K_aut, MSK,
 * EMSK). Pure functions over bytes; MILENAGE itself is the project's AKA module.
 */
#ifndef AAA_EAP_AKA_H
#define AAA_EAP_AKA_H

#include <stddef.h>
#include <stdint.h>

#include "aka_milenage.h"

enum { EAP_REQUEST = 1, EAP_RESPONSE = 2, EAP_SUCCESS = 3, EAP_FAILURE = 4 };
enum { EAP_TYPE_IDENTITY = 1, EAP_TYPE_AKA = 23 };
enum {
	AKA_SUB_CHALLENGE = 1,
	AKA_SUB_AUTH_REJECT = 2,
	AKA_SUB_SYNC_FAILURE = 4,
	AKA_SUB_IDENTITY = 5,
	AKA_SUB_NOTIFICATION = 12,
	AKA_SUB_CLIENT_ERROR = 14,
};
enum { AT_RAND = 1, AT_AUTN = 2, AT_RES = 3, AT_AUTS = 4, AT_PADDING = 6, AT_MAC = 11,
       AT_IDENTITY = 14 };

#define EAP_AKA_MAX 1020
#define EAP_AKA_MAC_LEN 16
#define EAP_AKA_KAUT_LEN 16
#define EAP_AKA_KENCR_LEN 16
#define EAP_AKA_MSK_LEN 64
#define EAP_AKA_EMSK_LEN 64

struct eap_aka_keys {
	uint8_t k_encr[EAP_AKA_KENCR_LEN];
	uint8_t k_aut[EAP_AKA_KAUT_LEN];
	uint8_t msk[EAP_AKA_MSK_LEN];
	uint8_t emsk[EAP_AKA_EMSK_LEN];
};

/* What an EAP packet holds; pointers into the packet. */
struct eap_msg {
	uint8_t code, id, type, subtype;   /* type, subtype 0 when absent */
	const uint8_t *data;               /* Identity: the identity; AKA: the attributes */
	size_t data_len;
	const uint8_t *rand, *autn, *auts, *mac, *identity;
	const uint8_t *res;                /* AT_RES's RES, res_bits long */
	size_t res_bits, identity_len;
	size_t mac_off;                    /* AT_MAC's value from the packet's start */
};

/* Parse an EAP packet: header, and for EAP-AKA every attribute's bounds.
 * @return 0, or -1 with why in *err (a static string). */
int eap_parse(const uint8_t *p, size_t len, struct eap_msg *m, const char **err);

/* FIPS 186-2 change notice 1 PRF of RFC 4187 7 (XKEY = mk, no XSEED); out_len <= 160. */
void eap_aka_prf(const uint8_t mk[20], uint8_t *out, size_t out_len);

/* MK = SHA1(identity | IK | CK), then the PRF's K_encr | K_aut | MSK | EMSK. */
void eap_aka_keys(const char *identity, size_t id_len, const uint8_t ik[AKA_IK_LEN],
		  const uint8_t ck[AKA_CK_LEN], struct eap_aka_keys *k);

/* HMAC-SHA1-128 over the packet with AT_MAC's value zeroed (RFC 4187 10.15). */
void eap_aka_mac(const uint8_t k_aut[EAP_AKA_KAUT_LEN], const uint8_t *p, size_t len,
		 size_t mac_off, uint8_t mac[EAP_AKA_MAC_LEN]);
/* The packet's AT_MAC verifies under k_aut: 1, else 0. */
int eap_aka_mac_ok(const uint8_t k_aut[EAP_AKA_KAUT_LEN], const uint8_t *p, size_t len,
		   const struct eap_msg *m);

/* Builders: each writes the packet into out (EAP_AKA_MAX) and returns its length. */
size_t eap_build_simple(uint8_t *out, uint8_t code, uint8_t id);   /* Success, Failure */
size_t eap_build_identity(uint8_t *out, uint8_t id, const char *identity); /* Response */
size_t eap_build_identity_req(uint8_t *out, uint8_t id);
/* EAP-Request/AKA-Challenge with AT_RAND, AT_AUTN, AT_MAC. */
size_t eap_build_challenge(uint8_t *out, uint8_t id, const uint8_t rand[AKA_RAND_LEN],
			   const uint8_t autn[AKA_AUTN_LEN], const uint8_t k_aut[EAP_AKA_KAUT_LEN]);
/* EAP-Response/AKA-Challenge with AT_RES (res_len octets), AT_MAC. */
size_t eap_build_challenge_resp(uint8_t *out, uint8_t id, const uint8_t *res, size_t res_len,
				const uint8_t k_aut[EAP_AKA_KAUT_LEN]);
/* EAP-Response/AKA-Synchronization-Failure with AT_AUTS. */
size_t eap_build_sync_failure(uint8_t *out, uint8_t id, const uint8_t auts[AKA_AUTS_LEN]);

/* A short name for an EAP packet ("response/identity", "request/aka-challenge"...). */
const char *eap_describe(const uint8_t *p, size_t len, char *buf, size_t sz);

#endif
