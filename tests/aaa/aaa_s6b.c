#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aaa_events.h"
#include "aaa_fd.h"
#include "aaa_s6b.h"
#include "aaa_sessions.h"

#define AAA_ORDER_TIMEOUT_S 10
#define AAA_MAX_RESYNCS 2   /* per session: a USIM that keeps refusing is not looped on */

static struct aka_subscribers *subs;
static const struct aaa_profiles *profiles;

/* What a DER, STR or AAR carries. */
struct req_info {
	char sid[256], nai[256], apn[104], host[256], realm[256];
	uint32_t auth_req_type;
	const uint8_t *eap;
	size_t eap_len;
	int has_eap, has_auth_req_type, has_nai, has_apn, has_ha_addr, has_agent_info;
	uint32_t auth_app_id;
	int has_auth_app_id;
};

static void read_req(struct msg *m, struct req_info *r)
{
	struct avp *g = NULL;

	memset(r, 0, sizeof(*r));
	aaa_get_str(m, aaa_d.session_id, r->sid, sizeof(r->sid));
	aaa_get_str(m, aaa_d.origin_host, r->host, sizeof(r->host));
	aaa_get_str(m, aaa_d.origin_realm, r->realm, sizeof(r->realm));
	r->has_nai = aaa_get_str(m, aaa_d.user_name, r->nai, sizeof(r->nai)) > 0;
	r->has_apn = aaa_get_str(m, aaa_d.service_selection, r->apn, sizeof(r->apn)) > 0;
	r->has_auth_req_type = aaa_get_u32(m, aaa_d.auth_req_type, &r->auth_req_type) == 0;
	r->has_auth_app_id = aaa_get_u32(m, aaa_d.auth_app_id, &r->auth_app_id) == 0;
	struct avp_hdr *e = aaa_find(m, aaa_d.eap_payload);
	if (e) {
		r->has_eap = 1;
		r->eap = e->avp_value->os.data;
		r->eap_len = e->avp_value->os.len;
	}
	if (fd_msg_search_avp(m, aaa_d.mip6_agent_info, &g) == 0 && g) {
		r->has_agent_info = 1;
		r->has_ha_addr = aaa_find(g, aaa_d.mip_ha_addr) != NULL;
	}
}

/* The answer to *msg, with Origin-* (and Auth-Application-Id, but in an STA: RFC 6733 8.5);
 * *msg becomes the answer. */
static struct msg *new_answer(struct msg **msg, int with_app_id)
{
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, msg, 0))
		return NULL;
	struct msg *a = *msg;
	if (with_app_id)
		aaa_add_u32(a, aaa_d.auth_app_id, AAA_S6B_APP_ID);
	fd_msg_add_origin(a, 0);
	return a;
}

static void set_result(struct msg *a, uint32_t code)
{
	aaa_add_u32(a, aaa_d.result_code, code);
}

/* TS 29.273 9.2.3: the 3GPP codes travel in Experimental-Result. */
static void set_experimental(struct msg *a, uint32_t code)
{
	struct avp *g = NULL;

	if (aaa_add_group(a, aaa_d.exp_result, &g) == 0) {
		aaa_add_u32(g, aaa_d.vendor_id, AAA_VENDOR_3GPP);
		aaa_add_u32(g, aaa_d.exp_result_code, code);
	}
}

/* RFC 6733 7.5: Failed-AVP holds an example of the missing AVP, of minimum length. */
static void set_missing(struct msg *a, struct dict_object *outer, struct dict_object *missing)
{
	static const uint8_t zero_addr[16];
	/* an empty EAP-Response/Identity: the shortest EAP-Payload (RFC 3748 5.1) */
	static const uint8_t eap_example[5] = { EAP_RESPONSE, 0, 0, 5, EAP_TYPE_IDENTITY };
	struct avp *f = NULL, *g = NULL;
	struct dict_avp_data d;

	set_result(a, AAA_MISSING_AVP);
	if (aaa_add_group(a, aaa_d.failed_avp, &f))
		return;
	msg_or_avp *parent = f;
	if (outer && aaa_add_group(f, outer, &g) == 0)
		parent = g;
	fd_dict_getval(missing, &d);
	if (missing == aaa_d.mip_ha_addr)
		aaa_add_addr(parent, missing, AF_INET6, zero_addr);
	else if (missing == aaa_d.eap_payload)
		aaa_add_os(parent, missing, eap_example, sizeof(eap_example));
	else if (d.avp_basetype == AVP_TYPE_GROUPED)
		aaa_add_group(parent, missing, NULL);
	else if (d.avp_basetype == AVP_TYPE_OCTETSTRING)
		aaa_add_os(parent, missing, "", 0);
	else
		aaa_add_u32(parent, missing, 0);
}

static void add_eap(struct msg *a, const uint8_t *p, size_t len)
{
	aaa_add_os(a, aaa_d.eap_payload, p, len);
}

static void add_eap_simple(struct msg *a, uint8_t code, uint8_t id)
{
	uint8_t p[4];
	add_eap(a, p, eap_build_simple(p, code, id));
}

static void send_answer(struct msg **a)
{
	if (*a && fd_msg_send(a, NULL, NULL)) {
		fd_log_error("ha-aaa-standin: cannot send an answer");
		fd_msg_free(*a);
	}
	*a = NULL;
}

/* The authorisation of nai's profile (docs/aaa.md): APN-Configuration of the APN asked for,
 * and MIP6-Agent-Info naming another HA for a reallocation. */
static void add_authorisation(struct msg *a, const char *nai, const char *apn)
{
	const struct aaa_profile *p = aaa_profile_find(profiles, nai);
	struct avp *g = NULL;

	if (!p)
		return;
	if (aaa_add_group(a, aaa_d.apn_config, &g) == 0) {
		aaa_add_u32(g, aaa_d.context_id, 1);
		aaa_add_str(g, aaa_d.service_selection, p->apn[0] ? p->apn : apn);
		aaa_add_u32(g, aaa_d.pdn_type, (uint32_t)p->pdn_type);
		if (p->has_prefix)
			aaa_add_addr(g, aaa_d.served_party_ip, AF_INET6, &p->prefix);
		if (p->has_ipv4)
			aaa_add_addr(g, aaa_d.served_party_ip, AF_INET, &p->ipv4);
	}
	if (p->has_realloc && aaa_add_group(a, aaa_d.mip6_agent_info, &g) == 0)
		aaa_add_addr(g, aaa_d.mip_ha_addr, AF_INET6, &p->realloc_to);
}

/* A fresh vector and the AKA-Challenge for s (RFC 4187 9.3); 0, or -ENOENT for an unknown
 * subscriber, -EIO. */
static int challenge(struct aaa_session *s, struct msg *a, uint8_t id)
{
	uint8_t p[EAP_AKA_MAX];

	if (RAND_bytes(s->rand, sizeof(s->rand)) != 1)
		return -EIO;
	int rc = aka_subscribers_vector(subs, s->identity, s->rand, &s->v);
	if (rc)
		return rc;
	eap_aka_keys(s->identity, strlen(s->identity), s->v.ik, s->v.ck, &s->keys);
	s->eap_id = id;
	s->state = AAA_S_CHALLENGED;
	add_eap(a, p, eap_build_challenge(p, id, s->rand, s->v.autn, s->keys.k_aut));
	set_result(a, AAA_MULTI_ROUND_AUTH);
	return 0;
}

/* The DER's mandatory AVPs for DSMIPv6 (TS 29.273 9.2.2.1.1); 0 when all are there. */
static int check_der(struct msg *a, const struct req_info *r)
{
	struct dict_object *missing = NULL, *outer = NULL;

	if (!r->has_auth_app_id)
		missing = aaa_d.auth_app_id;
	else if (!r->has_auth_req_type)
		missing = aaa_d.auth_req_type;
	else if (!r->has_nai)
		missing = aaa_d.user_name;
	else if (!r->has_eap)
		missing = aaa_d.eap_payload;
	else if (!r->has_apn)
		missing = aaa_d.service_selection;
	else if (!r->has_agent_info)
		missing = aaa_d.mip6_agent_info;
	else if (!r->has_ha_addr) {
		outer = aaa_d.mip6_agent_info;
		missing = aaa_d.mip_ha_addr;
	}
	if (missing) {
		struct dict_avp_data d;
		fd_dict_getval(missing, &d);
		aaa_note(r->sid, r->nai, "DER from %s without %s: DIAMETER_MISSING_AVP", r->host,
			 d.avp_name);
		set_missing(a, outer, missing);
		return -1;
	}
	if (r->auth_app_id != AAA_S6B_APP_ID || r->auth_req_type != AAA_AUTHORIZE_AUTHENTICATE) {
		aaa_note(r->sid, r->nai, "DER from %s with Auth-Application-Id %u, Auth-Request-Type %u: "
			 "DIAMETER_INVALID_AVP_VALUE", r->host, r->auth_app_id, r->auth_req_type);
		set_result(a, 5004);
		return -1;
	}
	return 0;
}

static void reject(struct msg *a, struct aaa_session *s, uint8_t id, const char *why)
{
	aaa_note(s->sid, s->nai, "%s: DIAMETER_AUTHENTICATION_REJECTED", why);
	set_result(a, AAA_AUTHENTICATION_REJECTED);
	add_eap_simple(a, EAP_FAILURE, id);
	aaa_session_del(s);
}

/* One EAP-Response of the UE in session s (RFC 4187 9). */
static void eap_round(struct msg *a, struct aaa_session *s, const struct req_info *r,
		      const struct eap_msg *m)
{
	int rc;

	if (m->type == EAP_TYPE_AKA && m->subtype == AKA_SUB_CHALLENGE &&
	    s->state == AAA_S_CHALLENGED) {
		if (m->id != s->eap_id)
			{
			reject(a, s, m->id, "AKA-Challenge response to another EAP Identifier");
			return;
		}
		if (!eap_aka_mac_ok(s->keys.k_aut, r->eap, r->eap_len, m))
			{
			reject(a, s, m->id, "AKA-Challenge response with a wrong AT_MAC");
			return;
		}
		if (!m->res || m->res_bits != 8 * AKA_RES_LEN ||
		    CRYPTO_memcmp(m->res, s->v.xres, AKA_RES_LEN))
			{
			reject(a, s, m->id, "AKA-Challenge response with a wrong AT_RES");
			return;
		}
		s->state = AAA_S_AUTHENTICATED;
		set_result(a, AAA_SUCCESS);
		add_eap_simple(a, EAP_SUCCESS, m->id);
		aaa_add_os(a, aaa_d.eap_msk, s->keys.msk, EAP_AKA_MSK_LEN);
		add_authorisation(a, s->nai, s->apn);
		aaa_note(s->sid, s->nai, "EAP-AKA authenticated %s", s->identity);
		return;
	}
	if (m->type == EAP_TYPE_AKA && m->subtype == AKA_SUB_SYNC_FAILURE &&
	    s->state == AAA_S_CHALLENGED) {
		if (!m->auts)
			{
			reject(a, s, m->id, "AKA-Synchronization-Failure without AT_AUTS");
			return;
		}
		if (++s->resyncs > AAA_MAX_RESYNCS)
			{
			reject(a, s, m->id, "too many AKA-Synchronization-Failures");
			return;
		}
		rc = aka_subscribers_resync(subs, s->identity, s->rand, m->auts);
		if (rc)
			{
			reject(a, s, m->id, "AT_AUTS's MAC-S does not verify");
			return;
		}
		aaa_note(s->sid, s->nai, "SQN re-synchronised (TS 33.102 6.3.5): a new challenge");
		if (challenge(s, a, (uint8_t)(m->id + 1)))
			{
			reject(a, s, m->id, "no vector after re-synchronisation");
			return;
		}
		return;
	}
	if (m->type == EAP_TYPE_AKA && m->subtype == AKA_SUB_AUTH_REJECT)
		{
			reject(a, s, m->id, "the UE sent AKA-Authentication-Reject");
			return;
		}
	if (m->type == EAP_TYPE_AKA && m->subtype == AKA_SUB_CLIENT_ERROR)
		{
			reject(a, s, m->id, "the UE sent AKA-Client-Error");
			return;
		}
	reject(a, s, m->id, "unexpected EAP message for the session's state");
}

/* DER: one EAP round (RFC 4072 3.1); a is the DEA. */
static void on_der(struct msg *a, const struct req_info *rp)
{
	const struct req_info r = *rp;
	struct eap_msg m;
	const char *err = NULL;

	aaa_add_u32(a, aaa_d.auth_req_type, r.has_auth_req_type ? r.auth_req_type : 3);
	if (check_der(a, &r) < 0)
		return;
	if (!r.eap_len) {
		/* RFC 4072 3.1: an empty EAP-Payload starts the conversation; ask who it is */
		uint8_t p[EAP_AKA_MAX];
		add_eap(a, p, eap_build_identity_req(p, 1));
		set_result(a, AAA_MULTI_ROUND_AUTH);
		return;
	}
	if (eap_parse(r.eap, r.eap_len, &m, &err) < 0 || m.code != EAP_RESPONSE) {
		aaa_note(r.sid, r.nai, "EAP-Payload refused: %s", err ? err : "not an EAP-Response");
		set_result(a, AAA_AUTHENTICATION_REJECTED);
		add_eap_simple(a, EAP_FAILURE, r.eap_len > 1 ? r.eap[1] : 0);
		return;
	}
	pthread_mutex_lock(&aaa_sessions_lock);
	struct aaa_session *s = aaa_session_get(r.sid);
	if (m.type == EAP_TYPE_IDENTITY) {
		if (s)
			aaa_session_del(s);   /* the UE starts again on this Session-Id */
		s = aaa_session_add(r.sid);
		if (!s) {
			pthread_mutex_unlock(&aaa_sessions_lock);
			aaa_note(r.sid, r.nai, "session table full: DIAMETER_UNABLE_TO_COMPLY");
			set_result(a, AAA_UNABLE_TO_COMPLY);
			return;
		}
		snprintf(s->nai, sizeof(s->nai), "%s", r.nai);
		snprintf(s->apn, sizeof(s->apn), "%s", r.apn);
		snprintf(s->ha_host, sizeof(s->ha_host), "%s", r.host);
		snprintf(s->ha_realm, sizeof(s->ha_realm), "%s", r.realm);
		size_t il = m.data_len < sizeof(s->identity) - 1 ? m.data_len : sizeof(s->identity) - 1;
		memcpy(s->identity, m.data, il);
		s->identity[il] = 0;
		int rc = challenge(s, a, (uint8_t)(m.id + 1));
		if (rc == -ENOENT) {
			/* TS 29.273 9.2.3.2.1: DIAMETER_ERROR_USER_UNKNOWN */
			aaa_note(r.sid, r.nai, "unknown subscriber %s: DIAMETER_ERROR_USER_UNKNOWN",
				 s->identity);
			set_experimental(a, AAA_ERROR_USER_UNKNOWN);
			add_eap_simple(a, EAP_FAILURE, m.id);
			aaa_session_del(s);
		} else if (rc) {
			aaa_note(r.sid, r.nai, "no authentication vector: DIAMETER_UNABLE_TO_COMPLY");
			set_result(a, AAA_UNABLE_TO_COMPLY);
			aaa_session_del(s);
		}
	} else if (!s) {
		aaa_note(r.sid, r.nai, "EAP response on an unknown session: DIAMETER_UNKNOWN_SESSION_ID");
		set_result(a, AAA_UNKNOWN_SESSION_ID);
	} else {
		eap_round(a, s, &r, &m);
	}
	pthread_mutex_unlock(&aaa_sessions_lock);
}

/* STR (RFC 6733 8.4): the session ends; a is the STA. */
static void on_str(struct msg *a, const struct req_info *r)
{
	pthread_mutex_lock(&aaa_sessions_lock);
	struct aaa_session *s = aaa_session_get(r->sid);
	if (s)
		aaa_session_del(s);
	pthread_mutex_unlock(&aaa_sessions_lock);
	set_result(a, s ? AAA_SUCCESS : AAA_UNKNOWN_SESSION_ID);
	if (!s)
		aaa_note(r->sid, r->nai, "STR for an unknown session: DIAMETER_UNKNOWN_SESSION_ID");
}

/* AA-Request, AUTHORIZE_ONLY, on an authenticated session (TS 29.273 9.2.2.5: after a RAR). */
static void on_aar(struct msg *a, const struct req_info *rp)
{
	const struct req_info r = *rp;

	aaa_add_u32(a, aaa_d.auth_req_type, AAA_AUTHORIZE_ONLY);
	if (!r.has_auth_req_type || r.auth_req_type != AAA_AUTHORIZE_ONLY) {
		aaa_note(r.sid, r.nai, "AAR without Auth-Request-Type AUTHORIZE_ONLY");
		if (r.has_auth_req_type)
			set_result(a, 5004);
		else
			set_missing(a, NULL, aaa_d.auth_req_type);
		return;
	}
	pthread_mutex_lock(&aaa_sessions_lock);
	struct aaa_session *s = aaa_session_get(r.sid);
	if (!s || s->state != AAA_S_AUTHENTICATED) {
		aaa_note(r.sid, r.nai, "AAR on an unknown session: DIAMETER_UNKNOWN_SESSION_ID");
		set_result(a, AAA_UNKNOWN_SESSION_ID);
	} else if (aaa_reauth_refused(s->nai)) {
		aaa_note(r.sid, s->nai, "re-authorisation refused: DIAMETER_AUTHORIZATION_REJECTED");
		set_result(a, AAA_AUTHORIZATION_REJECTED);
	} else {
		set_result(a, AAA_SUCCESS);
		add_authorisation(a, s->nai, r.has_apn ? r.apn : s->apn);
	}
	pthread_mutex_unlock(&aaa_sessions_lock);
}

struct handler {
	struct dict_object **cmd;
	void (*handle)(struct msg *, const struct req_info *);
};

/* freeDiameter's dispatch thread: the request read, the answer made, handled, sent. */
static int on_request(struct msg **msg, struct avp *avp, struct session *sess, void *opaque,
		      enum disp_action *act)
{
	const struct handler *h = opaque;
	struct req_info r;
	(void)avp;
	(void)sess;

	*act = DISP_ACT_CONT;
	read_req(*msg, &r);
	struct msg *a = new_answer(msg, h->handle != on_str);
	if (!a)
		return ENOMEM;
	h->handle(a, &r);
	send_answer(msg);
	return 0;
}

int aaa_s6b_start(struct aka_subscribers *s, const struct aaa_profiles *p)
{
	struct disp_when when = { .app = aaa_d.app };
	static const struct handler handlers[] = {
		{ &aaa_d.der, on_der }, { &aaa_d.str, on_str }, { &aaa_d.aar, on_aar },
	};

	subs = s;
	profiles = p;
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		when.command = *handlers[i].cmd;
		int rc = fd_disp_register(on_request, DISP_HOW_CC, &when, (void *)&handlers[i], NULL);
		if (rc) {
			fd_log_error("ha-aaa-standin: cannot register a handler: %s", strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* An ASR or RAR under way: the control thread waits on it; whoever comes last frees it. */
struct order {
	pthread_mutex_t lock;
	pthread_cond_t done;
	int answered, abandoned;
	uint32_t result;
};

static void order_put(struct order *o)
{
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->done);
	free(o);
}

static void on_order_answer(void *data, struct msg **ans)
{
	struct order *o = data;
	uint32_t rc = aaa_result(*ans);

	fd_msg_free(*ans);
	*ans = NULL;
	pthread_mutex_lock(&o->lock);
	o->result = rc;
	o->answered = 1;
	int gone = o->abandoned;
	pthread_cond_signal(&o->done);
	pthread_mutex_unlock(&o->lock);
	if (gone)
		order_put(o);
}

void aaa_s6b_order(int abort, const char *key, char *reply, size_t sz)
{
	char sid[256], nai[256], host[256], realm[256];
	struct msg *req = NULL;

	pthread_mutex_lock(&aaa_sessions_lock);
	struct aaa_session *s = aaa_session_find(key);
	if (s) {
		snprintf(sid, sizeof(sid), "%s", s->sid);
		snprintf(nai, sizeof(nai), "%s", s->nai);
		snprintf(host, sizeof(host), "%s", s->ha_host);
		snprintf(realm, sizeof(realm), "%s", s->ha_realm);
	}
	pthread_mutex_unlock(&aaa_sessions_lock);
	/* a Session-Id the stand-in does not hold (a test of the HA's 5002): RFC 6733 8.8 starts
	 * it with its maker's identity, whose realm follows the first dot */
	const char *semi = s ? NULL : strchr(key, ';');
	const char *dot = semi ? memchr(key, '.', (size_t)(semi - key)) : NULL;
	if (!s && dot) {
		snprintf(sid, sizeof(sid), "%s", key);
		snprintf(host, sizeof(host), "%.*s", (int)(semi - key), key);
		snprintf(realm, sizeof(realm), "%.*s", (int)(semi - dot - 1), dot + 1);
		nai[0] = '\0';
	} else if (!s) {
		snprintf(reply, sz, "error no session for %s", key);
		return;
	}
	struct order *o = calloc(1, sizeof(*o));
	if (!o || aaa_new_request(abort ? aaa_d.asr : aaa_d.rar, sid, &req)) {
		free(o);
		snprintf(reply, sz, "error cannot build the request");
		return;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->done, NULL);
	aaa_add_str(req, aaa_d.dest_realm, realm);
	aaa_add_str(req, aaa_d.dest_host, host);
	if (nai[0])
		aaa_add_str(req, aaa_d.user_name, nai);
	if (!abort)
		aaa_add_u32(req, aaa_d.reauth_type, 0); /* AUTHORIZE_ONLY (RFC 6733 8.12) */
	else
		aaa_add_u32(req, aaa_d.auth_session_state, 0); /* STATE_MAINTAINED */
	if (fd_msg_send(&req, on_order_answer, o)) {
		fd_msg_free(req);
		order_put(o);
		snprintf(reply, sz, "error cannot send the %s to %s", abort ? "ASR" : "RAR", host);
		return;
	}
	aaa_note(sid, nai, "%s sent to %s", abort ? "ASR" : "RAR", host);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += AAA_ORDER_TIMEOUT_S;
	pthread_mutex_lock(&o->lock);
	while (!o->answered)
		if (pthread_cond_timedwait(&o->done, &o->lock, &until) == ETIMEDOUT)
			break;
	int answered = o->answered;
	uint32_t result = o->result;
	o->abandoned = !answered;
	pthread_mutex_unlock(&o->lock);
	if (answered) {
		order_put(o);
		snprintf(reply, sz, "ok %s %u", sid, result);
	} else {
		snprintf(reply, sz, "error no %s within %d s for %s", abort ? "ASA" : "RAA",
			 AAA_ORDER_TIMEOUT_S, sid);
	}
}
