#include <errno.h>
#include <string.h>
#include <strings.h>

#include "s6b_msg.h"

#include <freeDiameter/libfdcore.h>

/* ---- the dictionary ---- */

static int find_avp(struct dictionary *dict, const char *name, struct dict_object **o)
{
	return fd_dict_search(dict, DICT_AVP, AVP_BY_NAME_ALL_VENDORS, name, o, ENOENT);
}

static int find_cmd(struct dictionary *dict, const char *name, struct dict_object **o)
{
	return fd_dict_search(dict, DICT_COMMAND, CMD_BY_NAME, name, o, ENOENT);
}

int s6b_dict_load(struct dictionary *dict, struct s6b_dict *d, const char **missing)
{
	static const struct { const char *name; size_t off; } avps[] = {
#define A(n, f) { n, offsetof(struct s6b_dict, f) }
		A("Session-Id", session_id), A("Auth-Application-Id", auth_app_id),
		A("Auth-Request-Type", auth_req_type), A("User-Name", user_name),
		A("Destination-Realm", dest_realm), A("Destination-Host", dest_host),
		A("Origin-Host", origin_host), A("Result-Code", result_code),
		A("Experimental-Result", exp_result), A("Experimental-Result-Code", exp_result_code),
		A("Vendor-Id", vendor_id), A("Termination-Cause", termination_cause),
		A("EAP-Payload", eap_payload), A("EAP-Master-Session-Key", eap_msk),
		A("Service-Selection", service_selection), A("MIP6-Agent-Info", mip6_agent_info),
		A("MIP-Home-Agent-Address", mip_ha_address), A("APN-Configuration", apn_config),
		A("Served-Party-IP-Address", served_party_ip), A("PDN-Type", pdn_type),
		A("Re-Auth-Request-Type", re_auth_req_type),
#undef A
	};
	static const struct { const char *name; size_t off; } cmds[] = {
		{ "Diameter-EAP-Request", offsetof(struct s6b_dict, cmd_der) },
		{ "AA-Request", offsetof(struct s6b_dict, cmd_aar) },
		{ "Session-Termination-Request", offsetof(struct s6b_dict, cmd_str) },
		{ "Abort-Session-Request", offsetof(struct s6b_dict, cmd_asr) },
		{ "Re-Auth-Request", offsetof(struct s6b_dict, cmd_rar) },
	};
	*missing = NULL;
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < sizeof(avps) / sizeof(avps[0]); i++)
		if (find_avp(dict, avps[i].name, (struct dict_object **)((char *)d + avps[i].off))) {
			*missing = avps[i].name;
			return -ENOENT;
		}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (find_cmd(dict, cmds[i].name, (struct dict_object **)((char *)d + cmds[i].off))) {
			*missing = cmds[i].name;
			return -ENOENT;
		}
	vendor_id_t v = S6B_VENDOR_3GPP;
	if (fd_dict_search(dict, DICT_VENDOR, VENDOR_BY_ID, &v, &d->vendor, ENOENT)) {
		*missing = "vendor 10415 (3GPP)";
		return -ENOENT;
	}
	/* TS 29.273 9.1.2.2: an S6b answer carries Result-Code or Experimental-Result (an unknown
	 * user's DEA has only the latter); dict_eap and dict_nasreq require Result-Code after RFC
	 * 4072/7155, and freeDiameter drops an answer that breaks a rule before anyone sees it */
	static const char *const answers[] = { "Diameter-EAP-Answer", "AA-Answer" };
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct dict_object *cmd, *rule = NULL;
		if (find_cmd(dict, answers[i], &cmd)) {
			*missing = answers[i];
			return -ENOENT;
		}
		struct dict_rule_request q = { cmd, d->result_code };
		if (fd_dict_search(dict, DICT_RULE, RULE_BY_AVP_AND_PARENT, &q, &rule, ENOENT))
			continue; /* no rule: nothing to relax */
		struct dict_rule_data optional = { d->result_code, RULE_OPTIONAL, 0, -1, 1 };
		struct dict_rule_data cur;
		if (fd_dict_getval(rule, &cur) || cur.rule_position == RULE_OPTIONAL)
			continue;
		if (fd_dict_delete(rule) || fd_dict_new(dict, DICT_RULE, &optional, cmd, NULL)) {
			*missing = "an optional Result-Code rule";
			return -ENOENT;
		}
	}
	application_id_t id = S6B_APP_ID;
	if (fd_dict_search(dict, DICT_APPLICATION, APPLICATION_BY_ID, &id, &d->app, ENOENT)) {
		struct dict_application_data app = { S6B_APP_ID, "3GPP S6b" };
		if (fd_dict_new(dict, DICT_APPLICATION, &app, d->vendor, &d->app)) {
			*missing = "application 16777272 (S6b)";
			return -ENOENT;
		}
	}
	return 0;
}

/* ---- building ---- */

static int add_avp(msg_or_avp *to, struct dict_object *model, union avp_value *v)
{
	struct avp *a;
	if (fd_msg_avp_new(model, 0, &a))
		return -ENOMEM;
	if (fd_msg_avp_setvalue(a, v) || fd_msg_avp_add(to, MSG_BRW_LAST_CHILD, a)) {
		fd_msg_free(a);
		return -EINVAL;
	}
	return 0;
}

static int add_u32(msg_or_avp *to, struct dict_object *model, uint32_t x)
{
	union avp_value v = { .u32 = x };
	return add_avp(to, model, &v);
}

static int add_i32(msg_or_avp *to, struct dict_object *model, int32_t x)
{
	union avp_value v = { .i32 = x };
	return add_avp(to, model, &v);
}

static int add_os(msg_or_avp *to, struct dict_object *model, const void *p, size_t len)
{
	union avp_value v = { .os = { .data = (uint8_t *)p, .len = len } };
	return add_avp(to, model, &v); /* freeDiameter copies it */
}

static int add_str(msg_or_avp *to, struct dict_object *model, const char *s)
{
	return add_os(to, model, s, strlen(s));
}

/* An Address AVP (RFC 6733 4.3.1): the IANA address family, then the address. */
static int add_address(msg_or_avp *to, struct dict_object *model, int family, const uint8_t *addr)
{
	uint8_t b[18] = { 0, family == 4 ? 1 : 2 };
	size_t n = family == 4 ? 4 : 16;
	memcpy(b + 2, addr, n);
	return add_os(to, model, b, 2 + n);
}

static int add_agent_info(struct msg *m, const struct s6b_dict *d, const struct s6b_request *r)
{
	struct avp *g;
	int rc = 0;
	if (fd_msg_avp_new(d->mip6_agent_info, 0, &g))
		return -ENOMEM;
	if (r->has_ha6)
		rc = add_address(g, d->mip_ha_address, 6, r->ha6);
	if (!rc && r->has_ha4)
		rc = add_address(g, d->mip_ha_address, 4, r->ha4);
	if (!rc && fd_msg_avp_add(m, MSG_BRW_LAST_CHILD, g))
		rc = -EINVAL;
	if (rc)
		fd_msg_free(g);
	return rc;
}

int s6b_build_request(const struct s6b_dict *d, struct dict_object *cmd,
		      const struct s6b_request *r, struct msg **out)
{
	struct msg *m;
	struct msg_hdr *h;
	int rc;

	*out = NULL;
	if (!r->dest_realm || (cmd != d->cmd_str && !r->nai))
		return -EINVAL;
	if (fd_msg_new(cmd, MSGFL_ALLOC_ETEID, &m))
		return -ENOMEM;
	fd_msg_hdr(m, &h);
	h->msg_appl = S6B_APP_ID;
	if (r->sid) {
		union avp_value v = { .os = { .data = (uint8_t *)r->sid, .len = strlen(r->sid) } };
		struct avp *a;
		rc = fd_msg_avp_new(d->session_id, 0, &a) ? -ENOMEM : 0;
		if (!rc && (fd_msg_avp_setvalue(a, &v) || fd_msg_avp_add(m, MSG_BRW_FIRST_CHILD, a))) {
			fd_msg_free(a);
			rc = -EINVAL;
		}
	} else {
		rc = fd_msg_new_session(m, (os0_t)"s6b", 3) ? -ENOMEM : 0;
	}
	if (!rc)
		rc = add_u32(m, d->auth_app_id, S6B_APP_ID);
	if (!rc && fd_msg_add_origin(m, 0))
		rc = -EINVAL;
	if (!rc)
		rc = add_str(m, d->dest_realm, r->dest_realm);
	if (!rc && r->dest_host && r->dest_host[0])
		rc = add_str(m, d->dest_host, r->dest_host);
	if (cmd == d->cmd_str) {
		if (!rc)
			rc = add_i32(m, d->termination_cause, (int32_t)r->cause);
		if (!rc && r->nai && r->nai[0])
			rc = add_str(m, d->user_name, r->nai);
	} else {
		if (!rc)
			rc = add_i32(m, d->auth_req_type, cmd == d->cmd_der ? S6B_AUTHORIZE_AUTHENTICATE
									: S6B_AUTHORIZE_ONLY);
		if (!rc)
			rc = add_str(m, d->user_name, r->nai);
		if (!rc && cmd == d->cmd_der)
			rc = r->eap && r->eap_len ? add_os(m, d->eap_payload, r->eap, r->eap_len) : -EINVAL;
		if (!rc && r->apn && r->apn[0])
			rc = add_str(m, d->service_selection, r->apn);
		if (!rc && (r->has_ha6 || r->has_ha4))
			rc = add_agent_info(m, d, r);
	}
	if (rc) {
		fd_msg_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int s6b_build_answer(const struct s6b_dict *d, struct msg **req, uint32_t result)
{
	(void)d;
	char *name;
	switch (result) {
	case S6B_SUCCESS: name = "DIAMETER_SUCCESS"; break;
	case S6B_UNKNOWN_SESSION_ID: name = "DIAMETER_UNKNOWN_SESSION_ID"; break;
	case S6B_UNABLE_TO_COMPLY: name = "DIAMETER_UNABLE_TO_COMPLY"; break;
	default: return -EINVAL;
	}
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, req, 0))
		return -ENOMEM;
	return fd_msg_rescode_set(*req, name, NULL, NULL, 1) ? -EINVAL : 0;
}

/* ---- reading ---- */

static struct dict_object *model_of(struct avp *a)
{
	struct dict_object *o = NULL;
	fd_msg_model(a, &o);
	return o;
}

static struct avp *first_child(msg_or_avp *p)
{
	struct avp *c = NULL;
	fd_msg_browse(p, MSG_BRW_FIRST_CHILD, &c, NULL);
	return c;
}

static struct avp *next_avp(struct avp *a)
{
	struct avp *n = NULL;
	fd_msg_browse(a, MSG_BRW_NEXT, &n, NULL);
	return n;
}

/* The AVP's value, or NULL (not parsed: unknown to the dictionary, or grouped). */
static union avp_value *value_of(struct avp *a)
{
	struct avp_hdr *h;
	return fd_msg_avp_hdr(a, &h) ? NULL : h->avp_value;
}

static int read_address(struct avp *a, int *family, uint8_t out[16])
{
	union avp_value *v = value_of(a);
	if (!v)
		return -EBADMSG;
	if (v->os.len == 6 && v->os.data[0] == 0 && v->os.data[1] == 1) {
		*family = 4;
		memcpy(out, v->os.data + 2, 4);
		return 0;
	}
	if (v->os.len == 18 && v->os.data[0] == 0 && v->os.data[1] == 2) {
		*family = 6;
		memcpy(out, v->os.data + 2, 16);
		return 0;
	}
	return -EBADMSG;
}

static int read_os(struct avp *a, uint8_t *out, size_t max, size_t *len)
{
	union avp_value *v = value_of(a);
	if (!v)
		return -EBADMSG;
	if (v->os.len > max)
		return -E2BIG;
	memcpy(out, v->os.data, v->os.len);
	*len = v->os.len;
	return 0;
}

static bool same_apn(struct avp *ss, const char *apn)
{
	union avp_value *v = ss ? value_of(ss) : NULL;
	return v && apn && strlen(apn) == v->os.len &&
	       !strncasecmp((const char *)v->os.data, apn, v->os.len);
}

/* An APN-Configuration (TS 29.272 7.3.35): its PDN type and static addresses. */
static int read_apn_config(const struct s6b_dict *d, struct avp *g, struct s6b_auth *auth)
{
	for (struct avp *c = first_child(g); c; c = next_avp(c)) {
		struct dict_object *m = model_of(c);
		union avp_value *v = value_of(c);
		if (m == d->pdn_type && v) {
			if (v->i32 == 1) /* IPv6 (TS 29.272 7.3.62) */
				auth->flags |= HA_IKE_AUTH_F_NO_IP4;
		} else if (m == d->served_party_ip) {
			uint8_t addr[16];
			int fam;
			if (read_address(c, &fam, addr))
				return -EBADMSG;
			if (fam == 6) {
				memcpy(auth->static_prefix, addr, 16);
				auth->flags |= HA_IKE_AUTH_F_PREFIX;
			} else {
				memcpy(auth->static_ip4, addr, 4);
				auth->flags |= HA_IKE_AUTH_F_IP4;
			}
		}
	}
	return 0;
}

static struct avp *child_of_model(struct avp *g, struct dict_object *model)
{
	for (struct avp *c = first_child(g); c; c = next_avp(c))
		if (model_of(c) == model)
			return c;
	return NULL;
}

int s6b_session_id(const struct s6b_dict *d, struct msg *m, char *sid, size_t len)
{
	struct avp *a = NULL;
	if (fd_msg_search_avp(m, d->session_id, &a) || !a)
		return -ENOENT;
	union avp_value *v = value_of(a);
	if (!v)
		return -ENOENT;
	if (v->os.len >= len || memchr(v->os.data, 0, v->os.len))
		return -E2BIG;
	memcpy(sid, v->os.data, v->os.len);
	sid[v->os.len] = '\0';
	return 0;
}

int s6b_read_answer(const struct s6b_dict *d, struct msg *m, const char *apn,
		    const uint8_t own_ha6[16], struct s6b_answer *a)
{
	struct avp *only = NULL, *of_apn = NULL; /* APN-Configurations: the last seen, this APN's */
	unsigned n_configs = 0;
	int rc = 0;

	memset(a, 0, offsetof(struct s6b_answer, eap));
	a->msk_len = 0;
	memset(&a->auth, 0, sizeof(a->auth));
	if (s6b_session_id(d, m, a->sid, sizeof(a->sid)) == -E2BIG)
		return -E2BIG;
	size_t olen;
	struct avp *origin = NULL;
	if (!fd_msg_search_avp(m, d->origin_host, &origin) && origin) {
		int orc = read_os(origin, (uint8_t *)a->origin, sizeof(a->origin) - 1, &olen);
		if (orc)
			return orc;
		a->origin[olen] = '\0';
	}
	for (struct avp *c = first_child(m); c && !rc; c = next_avp(c)) {
		struct dict_object *model = model_of(c);
		union avp_value *v = value_of(c);
		if (model == d->result_code && v) {
			a->result = v->u32;
		} else if (model == d->exp_result) {
			struct avp *code = child_of_model(c, d->exp_result_code);
			struct avp *vid = child_of_model(c, d->vendor_id);
			if (!code || !value_of(code))
				return -EBADMSG;
			a->result = value_of(code)->u32;
			a->experimental = true;
			a->vendor = vid && value_of(vid) ? value_of(vid)->u32 : 0;
		} else if (model == d->eap_payload) {
			rc = read_os(c, a->eap, sizeof(a->eap), &a->eap_len);
		} else if (model == d->eap_msk) {
			rc = read_os(c, a->msk, sizeof(a->msk), &a->msk_len);
		} else if (model == d->apn_config) {
			n_configs++;
			only = c;
			if (!of_apn && same_apn(child_of_model(c, d->service_selection), apn))
				of_apn = c;
		} else if (model == d->mip6_agent_info) {
			/* another HA named: a reallocation indication (002 5.4.3) */
			for (struct avp *h = first_child(c); h && !rc; h = next_avp(h)) {
				uint8_t addr[16];
				int fam;
				if (model_of(h) != d->mip_ha_address)
					continue;
				rc = read_address(h, &fam, addr);
				if (!rc && fam == 6 && (!own_ha6 || memcmp(addr, own_ha6, 16))) {
					memcpy(a->auth.realloc_ha, addr, 16);
					a->auth.flags |= HA_IKE_AUTH_F_REALLOC;
				}
			}
		}
	}
	if (rc)
		return rc;
	/* this APN's configuration, or the only one; of several, none for this APN: none applies */
	struct avp *chosen = of_apn ? of_apn : n_configs == 1 ? only : NULL;
	if (chosen)
		rc = read_apn_config(d, chosen, &a->auth);
	return rc;
}
