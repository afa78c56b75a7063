/*
 * MILENAGE, the 3GPP authentication and key generation functions f1, f1*, f2, f3, f4, f5, f5*
 * (3GPP TS 35.206), and the AKA procedures built on them (3GPP TS 33.102 6.3): the home
 * network's authentication vector, the USIM's check of AUTN, and re-synchronisation (AUTS).
 * AES-128 comes from OpenSSL's libcrypto. Every function returns 0, or -1 when the cipher
 * could not run.
 */
#ifndef AKA_MILENAGE_H
#define AKA_MILENAGE_H

#include <stdint.h>

#define AKA_K_LEN 16
#define AKA_RAND_LEN 16
#define AKA_SQN_LEN 6
#define AKA_AMF_LEN 2
#define AKA_MAC_LEN 8
#define AKA_RES_LEN 8      /* MILENAGE's f2 gives 64 bits */
#define AKA_CK_LEN 16
#define AKA_IK_LEN 16
#define AKA_AK_LEN 6
#define AKA_AUTN_LEN 16    /* SQN xor AK | AMF | MAC-A */
#define AKA_AUTS_LEN 14    /* SQN_MS xor AK* | MAC-S */

/* OPc = OP xor E_K(OP) (TS 35.206 4.1). */
int aka_opc(const uint8_t k[AKA_K_LEN], const uint8_t op[16], uint8_t opc[16]);

/* f1 and f1*: the network and re-synchronisation authentication codes. */
int aka_f1(const uint8_t k[AKA_K_LEN], const uint8_t opc[16], const uint8_t rand[AKA_RAND_LEN],
	   const uint8_t sqn[AKA_SQN_LEN], const uint8_t amf[AKA_AMF_LEN],
	   uint8_t mac_a[AKA_MAC_LEN], uint8_t mac_s[AKA_MAC_LEN]);

/* f2 (RES), f3 (CK), f4 (IK), f5 (AK) and f5* (AK for re-synchronisation); any output may be
 * NULL. */
int aka_f2345(const uint8_t k[AKA_K_LEN], const uint8_t opc[16], const uint8_t rand[AKA_RAND_LEN],
	      uint8_t res[AKA_RES_LEN], uint8_t ck[AKA_CK_LEN], uint8_t ik[AKA_IK_LEN],
	      uint8_t ak[AKA_AK_LEN], uint8_t ak_star[AKA_AK_LEN]);

/* The home network's authentication vector for SQN (TS 33.102 6.3.2). */
struct aka_vector {
	uint8_t rand[AKA_RAND_LEN];
	uint8_t xres[AKA_RES_LEN];
	uint8_t ck[AKA_CK_LEN];
	uint8_t ik[AKA_IK_LEN];
	uint8_t autn[AKA_AUTN_LEN];
};

int aka_make_vector(const uint8_t k[AKA_K_LEN], const uint8_t opc[16],
		    const uint8_t rand[AKA_RAND_LEN], uint64_t sqn, const uint8_t amf[AKA_AMF_LEN],
		    struct aka_vector *v);

/* The USIM's side (TS 33.102 6.3.3). */
enum aka_check {
	AKA_OK,          /* res, ck, ik filled; *sqn_ms updated to the accepted SQN */
	AKA_MAC_FAILED,  /* AUTN was not made with this K: the network is not authentic */
	AKA_SYNC_FAILED, /* SQN not fresh: auts filled for re-synchronisation */
	AKA_ERROR,
};

enum aka_check aka_usim_check(const uint8_t k[AKA_K_LEN], const uint8_t opc[16],
			      const uint8_t rand[AKA_RAND_LEN], const uint8_t autn[AKA_AUTN_LEN],
			      uint64_t *sqn_ms, uint8_t res[AKA_RES_LEN], uint8_t ck[AKA_CK_LEN],
			      uint8_t ik[AKA_IK_LEN], uint8_t auts[AKA_AUTS_LEN]);

/* The USIM's AUTS telling the network its highest accepted SQN, for RAND (TS 33.102 6.3.3). */
int aka_usim_auts(const uint8_t k[AKA_K_LEN], const uint8_t opc[16], const uint8_t rand[AKA_RAND_LEN],
		  uint64_t sqn_ms, uint8_t auts[AKA_AUTS_LEN]);

/* The home network's check of AUTS (TS 33.102 6.3.5): 0 and *sqn_ms when MAC-S verifies,
 * 1 when it does not, -1 on a cipher failure. */
int aka_resync(const uint8_t k[AKA_K_LEN], const uint8_t opc[16], const uint8_t rand[AKA_RAND_LEN],
	       const uint8_t auts[AKA_AUTS_LEN], uint64_t *sqn_ms);

/* SQN is 48 bits: SEQ (43) | IND (5), TS 33.102 Annex C.3.2. The home network steps SEQ. */
#define AKA_SQN_MAX ((UINT64_C(1) << 48) - 1)
#define AKA_SQN_STEP 32u

#endif
