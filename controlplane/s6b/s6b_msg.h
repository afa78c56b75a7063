/*
 * The S6b messages of the appliance (3GPP TS 29.273 9.2.2, DSMIPv6 on S6b), on freeDiameter's
 * message objects: which AVPs go into the requests and answers the HA sends (DER, AAR, STR, ASA,
 * RAA) and what it takes out of what it receives (DEA, AAA, STA, ASR, RAR). The wire codec and
 * the dictionaries are freeDiameter's (dict_nasreq, dict_eap, dict_rfc5777, dict_mip6i,
 * dict_dcca, dict_dcca_3gpp); the S6b application object is defined here, since none of them
 * has it.
 *
 * Pure: no I/O and no threads of its own; used by the charon plugin's Diameter client, the
 * cross-check generator and the fuzz harness.
 */
#ifndef S6B_MSG_H
#define S6B_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdproto.h>

#include "ha_ike_msg.h"

#define S6B_APP_ID 16777272u     /* TS 29.273 9.2.1 / IANA */
#define S6B_VENDOR_3GPP 10415u
#define S6B_EAP_MAX 4096         /* an EAP message relayed (EAP-AKA's are some 100 octets) */
#define S6B_MSK_MAX 128          /* RFC 5247: the MSK is at least 64 octets */

/* Result codes the HA reads or sends (RFC 6733 7.1, RFC 4072, TS 29.273 9.1.2.2) */
enum {
	S6B_MULTI_ROUND_AUTH = 1001,
	S6B_SUCCESS = 2001,
	S6B_UNABLE_TO_DELIVER = 3002,
	S6B_REALM_NOT_SERVED = 3003,
	S6B_TOO_BUSY = 3004,
	S6B_AUTHENTICATION_REJECTED = 4001,
	S6B_AUTHORIZATION_REJECTED = 5003,
	S6B_UNKNOWN_SESSION_ID = 5002,
	S6B_UNABLE_TO_COMPLY = 5012,
	S6B_ERROR_USER_UNKNOWN = 5001, /* experimental, vendor 3GPP (TS 29.273 9.1.2.2.1) */
};

/* Auth-Request-Type (RFC 6733 8.7) */
enum { S6B_AUTHORIZE_ONLY = 2, S6B_AUTHORIZE_AUTHENTICATE = 3 };

/* The dictionary objects the messages are made of, looked up once. */
struct s6b_dict {
	struct dict_object *app, *vendor;
	struct dict_object *cmd_der, *cmd_aar, *cmd_str, *cmd_asr, *cmd_rar;
	struct dict_object *session_id, *auth_app_id, *auth_req_type, *user_name, *dest_realm,
		*dest_host, *origin_host, *result_code, *exp_result, *exp_result_code, *vendor_id,
		*termination_cause, *eap_payload, *eap_msk, *service_selection, *mip6_agent_info,
		*mip_ha_address, *apn_config, *served_party_ip, *pdn_type, *re_auth_req_type;
};

/** Look every object up in dict (the S6b application is added when missing). 0, or -ENOENT
 *  with the missing object's name in *missing (a dictionary extension not loaded). */
int s6b_dict_load(struct dictionary *dict, struct s6b_dict *d, const char **missing);

/* What a request names. Strings NUL-terminated. */
struct s6b_request {
	const char *sid;            /* the Session-Id; NULL: a new one is made (DER's first) */
	const char *dest_realm;
	const char *dest_host;      /* NULL: routed by realm */
	const char *nai;            /* User-Name */
	const char *apn;            /* Service-Selection; NULL or "": left out */
	const uint8_t *eap;         /* EAP-Payload (DER) */
	size_t eap_len;
	bool has_ha6, has_ha4;      /* MIP6-Agent-Info: the HA's own addresses */
	uint8_t ha6[16], ha4[4];
	uint32_t cause;             /* STR's Termination-Cause */
};

/** A request of command cmd (d->cmd_der, cmd_aar or cmd_str) on the S6b application: the AVPs
 *  of TS 29.273 9.2.2 for it, Origin-Host/Realm from freeDiameter's configuration. The
 *  Session-Id is the first AVP (RFC 6733 8.8). 0 or -errno. */
int s6b_build_request(const struct s6b_dict *d, struct dict_object *cmd,
		      const struct s6b_request *r, struct msg **out);

/** Turn a received request (ASR, RAR) into its answer with result (Result-Code) and the
 *  HA's Origin-Host/Realm (RFC 6733 8.3.2, 8.5.2). 0 or -errno. */
int s6b_build_answer(const struct s6b_dict *d, struct msg **req, uint32_t result);

/* What the HA takes out of an answer (DEA, AAA, STA). */
struct s6b_auth {
	uint8_t flags;              /* HA_IKE_AUTH_F_* */
	uint8_t static_prefix[16];  /* the Served-Party-IP-Address (IPv6) as given */
	uint8_t static_ip4[4];
	uint8_t realloc_ha[16];
};

struct s6b_answer {
	uint32_t result;            /* Result-Code, or Experimental-Result-Code; 0: none */
	bool experimental;          /* result is an Experimental-Result-Code of vendor */
	uint32_t vendor;
	char sid[HA_IKE_SID_MAX];
	char origin[256];           /* Origin-Host: the AAA server that answered */
	size_t eap_len;             /* EAP-Payload */
	uint8_t eap[S6B_EAP_MAX];
	size_t msk_len;             /* EAP-Master-Session-Key */
	uint8_t msk[S6B_MSK_MAX];
	struct s6b_auth auth;
};

/** Read an answer (parsed against the dictionary: fd_msg_parse_dict) into *a: the result, the
 *  EAP payload and MSK, and the authorisation for apn (the APN-Configuration whose
 *  Service-Selection is apn, or the only one; a MIP6-Agent-Info naming another HA than own_ha6
 *  is a reallocation indication). Oversized or malformed AVPs are refused: -EBADMSG, -E2BIG. */
int s6b_read_answer(const struct s6b_dict *d, struct msg *m, const char *apn,
		    const uint8_t own_ha6[16], struct s6b_answer *a);

/** The Session-Id of a message into sid (NUL-terminated). 0, -ENOENT, -E2BIG. */
int s6b_session_id(const struct s6b_dict *d, struct msg *m, char *sid, size_t len);

#endif
