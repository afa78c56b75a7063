/*
 * freeDiameter for the AAA stand-in and its test client: the dictionary objects of S6b
 * (3GPP TS 29.273 9, application 16777272, which Debian's freeDiameter dictionaries lack and
 * which is defined here), and small AVP helpers over libfdproto.
 */
#ifndef AAA_FD_H
#define AAA_FD_H

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include <stddef.h>
#include <stdint.h>

#define AAA_S6B_APP_ID 16777272u
#define AAA_VENDOR_3GPP 10415u

/* Result-Code / Experimental-Result-Code values (RFC 6733 7.1, RFC 4072, TS 29.273 9.2.3) */
#define AAA_MULTI_ROUND_AUTH 1001u
#define AAA_SUCCESS 2001u
#define AAA_AUTHENTICATION_REJECTED 4001u
#define AAA_UNKNOWN_SESSION_ID 5002u
#define AAA_AUTHORIZATION_REJECTED 5003u
#define AAA_MISSING_AVP 5005u
#define AAA_UNABLE_TO_COMPLY 5012u
#define AAA_ERROR_USER_UNKNOWN 5001u  /* Experimental-Result, vendor 3GPP */

enum { AAA_AUTHORIZE_ONLY = 2, AAA_AUTHORIZE_AUTHENTICATE = 3 }; /* Auth-Request-Type */

#define AAA_DICT_CMDS(X) \
	X(der, "Diameter-EAP-Request") X(dea, "Diameter-EAP-Answer") \
	X(str, "Session-Termination-Request") X(sta, "Session-Termination-Answer") \
	X(asr, "Abort-Session-Request") X(asa, "Abort-Session-Answer") \
	X(rar, "Re-Auth-Request") X(raa, "Re-Auth-Answer") \
	X(aar, "AA-Request") X(aaa, "AA-Answer")

#define AAA_DICT_AVPS(X) \
	X(session_id, "Session-Id") X(auth_app_id, "Auth-Application-Id") \
	X(origin_host, "Origin-Host") X(origin_realm, "Origin-Realm") \
	X(dest_host, "Destination-Host") X(dest_realm, "Destination-Realm") \
	X(auth_req_type, "Auth-Request-Type") X(user_name, "User-Name") \
	X(eap_payload, "EAP-Payload") X(eap_msk, "EAP-Master-Session-Key") \
	X(service_selection, "Service-Selection") X(mip6_agent_info, "MIP6-Agent-Info") \
	X(mip_ha_addr, "MIP-Home-Agent-Address") X(result_code, "Result-Code") \
	X(exp_result, "Experimental-Result") X(exp_result_code, "Experimental-Result-Code") \
	X(vendor_id, "Vendor-Id") X(failed_avp, "Failed-AVP") \
	X(termination_cause, "Termination-Cause") X(reauth_type, "Re-Auth-Request-Type") \
	X(auth_session_state, "Auth-Session-State") X(apn_config, "APN-Configuration") \
	X(context_id, "Context-Identifier") X(pdn_type, "PDN-Type") \
	X(served_party_ip, "Served-Party-IP-Address") X(error_message, "Error-Message")

struct aaa_dict {
	struct dict_object *app, *vendor;
#define X(f, n) struct dict_object *f;
	AAA_DICT_CMDS(X)
	AAA_DICT_AVPS(X)
#undef X
};

extern struct aaa_dict aaa_d;

/* freeDiameter's log to stderr (stdout is the test client's answers). */
void aaa_log_to_stderr(void);

/* Look every object up (the dictionaries are loaded by the configuration's LoadExtension
 * lines), define S6b and advertise it (auth) in the capabilities exchange.
 * @return 0, or -1 after logging which object is missing. */
int aaa_dict_init(void);

/* Make avp optional in cmd's rules: freeDiameter drops an answer, and answers a request itself,
 * when a rule of the dictionary fails; S6b's ABNF is looser than the RFC's dictionaries here.
 * @return 0 or -1. */
int aaa_rule_optional(struct dict_object *cmd, struct dict_object *avp);

/* A new AVP of model added as the last child of parent (a message or a grouped AVP). Each
 * returns 0 or an errno; aaa_add_group hands back the new grouped AVP. */
int aaa_add_os(msg_or_avp *parent, struct dict_object *model, const void *data, size_t len);
int aaa_add_str(msg_or_avp *parent, struct dict_object *model, const char *s);
int aaa_add_u32(msg_or_avp *parent, struct dict_object *model, uint32_t v);
int aaa_add_addr(msg_or_avp *parent, struct dict_object *model, int family, const void *addr);
int aaa_add_group(msg_or_avp *parent, struct dict_object *model, struct avp **group);

/* The first AVP of model in parent, its header (value set), or NULL. */
struct avp_hdr *aaa_find(msg_or_avp *parent, struct dict_object *model);
/* A string AVP copied NUL-terminated into buf; "" when absent. @return its length, -1 absent. */
int aaa_get_str(msg_or_avp *parent, struct dict_object *model, char *buf, size_t sz);
/* @return 0 and *v, or -1 when absent. */
int aaa_get_u32(msg_or_avp *parent, struct dict_object *model, uint32_t *v);
/* Result-Code, else Experimental-Result's code; 0 when neither. */
uint32_t aaa_result(struct msg *m);

/* A request of cmd on S6b: header application id, a new or given Session-Id, Origin-*. */
int aaa_new_request(struct dict_object *cmd, const char *sid, struct msg **out);

#endif
