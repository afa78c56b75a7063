/*
 * The S6b messages (controlplane/s6b/s6b_msg.c) against freeDiameter's own parser: what the HA
 * sends (TS 29.273 9.2.2.1 DER, 9.2.2.5 AAR, 9.2.2.3 STR, RFC 6733 8.5 ASA) carries the AVPs the
 * procedure names, and what it reads from a DEA (TS 29.273 9.2.2.1.1: EAP-Payload, MSK,
 * APN-Configuration, MIP6-Agent-Info) is taken as the AAA meant it; malformed input is refused.
 */
#include <arpa/inet.h>
#include <string.h>

#include <criterion/criterion.h>

#include "s6b_offline.h"

#include <freeDiameter/libfdcore.h>

static struct s6b_dict d;

static void boot(void)
{
	cr_assert_eq(s6b_offline_init("ha.lab.example.com", &d), 0);
}

TestSuite(s6b_msg, .init = boot);

/* Through the wire and back: what a peer would parse. */
static struct msg *reparse(struct msg *m)
{
	uint8_t *buf;
	size_t len;
	struct msg *out = NULL;
	cr_assert_eq(fd_msg_bufferize(m, &buf, &len), 0);
	fd_msg_free(m);
	cr_assert_eq(fd_msg_parse_buffer(&buf, len, &out), 0);
	struct fd_pei pei;
	cr_assert_eq(fd_msg_parse_dict(out, fd_g_config->cnf_dict, &pei), 0);
	return out;
}

static union avp_value *find(struct msg *m, struct dict_object *model)
{
	struct avp *a = NULL;
	struct avp_hdr *h;
	if (fd_msg_search_avp(m, model, &a) || !a)
		return NULL;
	fd_msg_avp_hdr(a, &h);
	return h->avp_value;
}

static bool os_is(union avp_value *v, const char *s)
{
	return v && v->os.len == strlen(s) && !memcmp(v->os.data, s, v->os.len);
}

static const uint8_t eap_identity[] = { 2, 0, 0, 10, 1, 'a', 'b', 'c', 'd', 'e' };

static struct s6b_request der_request(void)
{
	struct s6b_request r = {
		.dest_realm = "aaa.lab.example.com",
		.nai = "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org",
		.apn = "internet", .eap = eap_identity, .eap_len = sizeof(eap_identity),
		.has_ha6 = true, .has_ha4 = true, .ha4 = { 192, 0, 2, 1 },
	};
	inet_pton(AF_INET6, "2001:db8:ffff::1", r.ha6);
	return r;
}

/* TS 29.273 9.2.2.1.1: the DER for DSMIPv6 */
Test(s6b_msg, der_carries_the_s6b_avps)
{
	struct s6b_request r = der_request();
	struct msg *m;
	cr_assert_eq(s6b_build_request(&d, d.cmd_der, &r, &m), 0);
	m = reparse(m);
	struct msg_hdr *h;
	fd_msg_hdr(m, &h);
	cr_assert_eq(h->msg_appl, S6B_APP_ID);
	cr_assert_eq(h->msg_code, 268);
	cr_assert(h->msg_flags & CMD_FLAG_REQUEST);
	/* RFC 6733 8.8: the Session-Id first, made of the HA's identity */
	struct avp *first;
	struct avp_hdr *ah;
	fd_msg_browse(m, MSG_BRW_FIRST_CHILD, &first, NULL);
	fd_msg_avp_hdr(first, &ah);
	cr_assert_eq(ah->avp_code, 263);
	cr_assert(!strncmp((char *)ah->avp_value->os.data, "ha.lab.example.com;", 19));
	cr_assert_eq(find(m, d.auth_app_id)->u32, S6B_APP_ID);
	cr_assert_eq(find(m, d.auth_req_type)->i32, S6B_AUTHORIZE_AUTHENTICATE);
	cr_assert(os_is(find(m, d.user_name), r.nai));
	cr_assert(os_is(find(m, d.service_selection), "internet"));
	cr_assert(os_is(find(m, d.dest_realm), "aaa.lab.example.com"));
	cr_assert(os_is(find(m, d.origin_host), "ha.lab.example.com"));
	union avp_value *eap = find(m, d.eap_payload);
	cr_assert(eap && eap->os.len == sizeof(eap_identity) &&
		  !memcmp(eap->os.data, eap_identity, sizeof(eap_identity)));
	/* MIP6-Agent-Info: both of the HA's addresses, as Address AVPs (RFC 6733 4.3.1) */
	struct avp *g = NULL, *c;
	cr_assert_eq(fd_msg_search_avp(m, d.mip6_agent_info, &g), 0);
	unsigned n = 0;
	for (fd_msg_browse(g, MSG_BRW_FIRST_CHILD, &c, NULL); c; fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
		fd_msg_avp_hdr(c, &ah);
		cr_assert_eq(ah->avp_code, 334);
		n++;
		if (ah->avp_value->os.len == 18)
			cr_assert(!memcmp(ah->avp_value->os.data + 2, r.ha6, 16));
		else
			cr_assert(ah->avp_value->os.len == 6 && !memcmp(ah->avp_value->os.data + 2, r.ha4, 4));
	}
	cr_assert_eq(n, 2);
	fd_msg_free(m);
}

/* A second round of the same exchange keeps its Session-Id; STR ends it (RFC 6733 8.4) */
Test(s6b_msg, str_and_aar_on_an_existing_session)
{
	const char *sid = "ha.lab.example.com;1;2;s6b";
	struct s6b_request r = { .sid = sid, .dest_realm = "aaa.lab.example.com",
				 .dest_host = "aaa1.lab.example.com", .nai = "ue@x", .cause = 1 };
	struct msg *m;
	cr_assert_eq(s6b_build_request(&d, d.cmd_str, &r, &m), 0);
	m = reparse(m);
	char got[HA_IKE_SID_MAX];
	cr_assert_eq(s6b_session_id(&d, m, got, sizeof(got)), 0);
	cr_assert_str_eq(got, sid);
	cr_assert_eq(find(m, d.termination_cause)->i32, 1);
	cr_assert(os_is(find(m, d.dest_host), "aaa1.lab.example.com"));
	cr_assert_null(find(m, d.auth_req_type));
	fd_msg_free(m);

	r.apn = "ims";
	cr_assert_eq(s6b_build_request(&d, d.cmd_aar, &r, &m), 0);
	m = reparse(m);
	struct msg_hdr *h;
	fd_msg_hdr(m, &h);
	cr_assert_eq(h->msg_code, 265);
	cr_assert_eq(find(m, d.auth_req_type)->i32, S6B_AUTHORIZE_ONLY);
	cr_assert(os_is(find(m, d.service_selection), "ims"));
	cr_assert_null(find(m, d.eap_payload));
	fd_msg_free(m);

	/* a DER needs its EAP payload, every request its realm */
	struct s6b_request bad = der_request();
	bad.eap_len = 0;
	cr_assert_eq(s6b_build_request(&d, d.cmd_der, &bad, &m), -EINVAL);
	bad = der_request();
	bad.dest_realm = NULL;
	cr_assert_eq(s6b_build_request(&d, d.cmd_der, &bad, &m), -EINVAL);
}

static void add(msg_or_avp *to, struct dict_object *model, union avp_value v)
{
	struct avp *a;
	cr_assert_eq(fd_msg_avp_new(model, 0, &a), 0);
	cr_assert_eq(fd_msg_avp_setvalue(a, &v), 0);
	cr_assert_eq(fd_msg_avp_add(to, MSG_BRW_LAST_CHILD, a), 0);
}

static union avp_value os(const void *p, size_t n)
{
	return (union avp_value){ .os = { .data = (uint8_t *)p, .len = n } };
}

static struct avp *group(struct dict_object *model)
{
	struct avp *g;
	cr_assert_eq(fd_msg_avp_new(model, 0, &g), 0);
	return g;
}

static void addr(msg_or_avp *to, struct dict_object *model, int fam, const char *text)
{
	uint8_t b[18] = { 0, fam == 4 ? 1 : 2 };
	inet_pton(fam == 4 ? AF_INET : AF_INET6, text, b + 2);
	add(to, model, os(b, fam == 4 ? 6 : 18));
}

static struct avp *apn_config(const char *apn, int pdn_type, const char *v6, const char *v4)
{
	struct avp *g = group(d.apn_config);
	add(g, d.service_selection, os(apn, strlen(apn)));
	add(g, d.pdn_type, (union avp_value){ .i32 = pdn_type });
	if (v6)
		addr(g, d.served_party_ip, 6, v6);
	if (v4)
		addr(g, d.served_party_ip, 4, v4);
	return g;
}

/* The answer to a DER, made as the AAA would (freeDiameter's answer from the request). */
static struct msg *dea(void)
{
	struct s6b_request r = der_request();
	struct msg *m;
	cr_assert_eq(s6b_build_request(&d, d.cmd_der, &r, &m), 0);
	m = reparse(m);
	cr_assert_eq(fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &m, 0), 0);
	add(m, d.auth_app_id, (union avp_value){ .u32 = S6B_APP_ID });
	add(m, d.auth_req_type, (union avp_value){ .i32 = S6B_AUTHORIZE_AUTHENTICATE });
	cr_assert_eq(fd_msg_add_origin(m, 0), 0);
	return m;
}

/* TS 29.273 9.2.2.1.1: a DEA with the MSK and the APN's authorisation */
Test(s6b_msg, dea_success_with_authorisation)
{
	struct msg *m = dea();
	add(m, d.result_code, (union avp_value){ .u32 = S6B_SUCCESS });
	const uint8_t success[] = { 3, 7, 0, 4 };
	add(m, d.eap_payload, os(success, sizeof(success)));
	uint8_t msk[64];
	for (unsigned i = 0; i < 64; i++)
		msk[i] = (uint8_t)i;
	add(m, d.eap_msk, os(msk, 64));
	cr_assert_eq(fd_msg_avp_add(m, MSG_BRW_LAST_CHILD, apn_config("ims", 0, NULL, "10.9.9.9")), 0);
	cr_assert_eq(fd_msg_avp_add(m, MSG_BRW_LAST_CHILD,
				    apn_config("INTERNET", 1, "2001:db8:1:2::", NULL)), 0);
	struct avp *agent = group(d.mip6_agent_info);
	addr(agent, d.mip_ha_address, 6, "2001:db8:eeee::1");
	cr_assert_eq(fd_msg_avp_add(m, MSG_BRW_LAST_CHILD, agent), 0);
	m = reparse(m);

	uint8_t own[16];
	inet_pton(AF_INET6, "2001:db8:ffff::1", own);
	static struct s6b_answer a;
	cr_assert_eq(s6b_read_answer(&d, m, "internet", own, &a), 0);
	cr_assert_eq(a.result, S6B_SUCCESS);
	cr_assert_not(a.experimental);
	cr_assert(!strncmp(a.sid, "ha.lab.example.com;", 19));
	cr_assert(a.eap_len == 4 && !memcmp(a.eap, success, 4));
	cr_assert(a.msk_len == 64 && !memcmp(a.msk, msk, 64));
	/* the configuration of this APN (case-insensitive), not the other one */
	cr_assert_eq(a.auth.flags, HA_IKE_AUTH_F_PREFIX | HA_IKE_AUTH_F_NO_IP4 | HA_IKE_AUTH_F_REALLOC);
	uint8_t want[16];
	inet_pton(AF_INET6, "2001:db8:1:2::", want);
	cr_assert(!memcmp(a.auth.static_prefix, want, 16));
	inet_pton(AF_INET6, "2001:db8:eeee::1", want);
	cr_assert(!memcmp(a.auth.realloc_ha, want, 16));

	/* for the other APN: its IPv4 address; the HA's own address is no reallocation */
	cr_assert_eq(s6b_read_answer(&d, m, "ims", want, &a), 0);
	cr_assert_eq(a.auth.flags, HA_IKE_AUTH_F_IP4);
	cr_assert(!memcmp(a.auth.static_ip4, (uint8_t[]){ 10, 9, 9, 9 }, 4));
	/* an APN with no configuration of its own among several: nothing applies */
	cr_assert_eq(s6b_read_answer(&d, m, "other", want, &a), 0);
	cr_assert_eq(a.auth.flags, 0);
	fd_msg_free(m);
}

/* TS 29.273 9.1.2.2.1: an unknown user is an Experimental-Result of 3GPP */
Test(s6b_msg, dea_user_unknown)
{
	struct msg *m = dea();
	struct avp *er = group(d.exp_result);
	add(er, d.vendor_id, (union avp_value){ .u32 = S6B_VENDOR_3GPP });
	add(er, d.exp_result_code, (union avp_value){ .u32 = S6B_ERROR_USER_UNKNOWN });
	cr_assert_eq(fd_msg_avp_add(m, MSG_BRW_LAST_CHILD, er), 0);
	m = reparse(m);
	/* freeDiameter checks an answer's rules before delivering it: without Result-Code this
	 * DEA must pass them (dict_eap requires it; s6b_dict_load relaxes that for S6b) */
	struct fd_pei pei;
	cr_assert_eq(fd_msg_parse_rules(m, fd_g_config->cnf_dict, &pei), 0);
	static struct s6b_answer a;
	cr_assert_eq(s6b_read_answer(&d, m, "internet", NULL, &a), 0);
	cr_assert(a.experimental);
	cr_assert_eq(a.vendor, S6B_VENDOR_3GPP);
	cr_assert_eq(a.result, S6B_ERROR_USER_UNKNOWN);
	cr_assert_eq(a.eap_len, 0);
	cr_assert_eq(a.msk_len, 0);
	fd_msg_free(m);
}

/* Refused, not misread: an Address of no known family, an MSK larger than any */
Test(s6b_msg, dea_malformed_refused)
{
	struct msg *m = dea();
	struct avp *g = group(d.apn_config);
	const uint8_t odd[] = { 0, 9, 1, 2, 3 };
	add(g, d.served_party_ip, os(odd, sizeof(odd)));
	cr_assert_eq(fd_msg_avp_add(m, MSG_BRW_LAST_CHILD, g), 0);
	m = reparse(m);
	static struct s6b_answer a;
	cr_assert_eq(s6b_read_answer(&d, m, "internet", NULL, &a), -EBADMSG);
	fd_msg_free(m);

	m = dea();
	static uint8_t big[S6B_MSK_MAX + 1];
	add(m, d.eap_msk, os(big, sizeof(big)));
	m = reparse(m);
	cr_assert_eq(s6b_read_answer(&d, m, "internet", NULL, &a), -E2BIG);
	fd_msg_free(m);
}
