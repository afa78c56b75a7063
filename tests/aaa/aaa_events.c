#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aaa_eap_aka.h"
#include "aaa_events.h"
#include "aaa_fd.h"

static FILE *events;
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fd_hook_hdl *hook;

void aaa_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *cmd_name(unsigned code, int request)
{
	static const struct { unsigned code; const char *r, *a; } names[] = {
		{ 257, "CER", "CEA" }, { 258, "RAR", "RAA" }, { 265, "AAR", "AAA" },
		{ 268, "DER", "DEA" }, { 274, "ASR", "ASA" }, { 275, "STR", "STA" },
		{ 280, "DWR", "DWA" }, { 282, "DPR", "DPA" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return request ? names[i].r : names[i].a;
	return request ? "request" : "answer";
}

static void field_str(FILE *f, struct msg *m, struct dict_object *model, const char *key)
{
	char buf[512];

	if (aaa_get_str(m, model, buf, sizeof(buf)) < 0)
		return;
	fprintf(f, ",\"%s\":", key);
	aaa_json_str(f, buf);
}

static void field_u32(FILE *f, msg_or_avp *m, struct dict_object *model, const char *key)
{
	uint32_t v;

	if (aaa_get_u32(m, model, &v) == 0)
		fprintf(f, ",\"%s\":%u", key, v);
}

/* An Address AVP's value (RFC 6733 4.3.1) as text. */
static void field_addr(FILE *f, msg_or_avp *parent, struct dict_object *model, const char *key)
{
	struct avp_hdr *h = aaa_find(parent, model);
	char t[INET6_ADDRSTRLEN] = "?";

	if (!h)
		return;
	const uint8_t *d = h->avp_value->os.data;
	size_t n = h->avp_value->os.len;
	if (n == 18 && d[1] == 2)
		inet_ntop(AF_INET6, d + 2, t, sizeof(t));
	else if (n == 6 && d[1] == 1)
		inet_ntop(AF_INET, d + 2, t, sizeof(t));
	fprintf(f, ",\"%s\":", key);
	aaa_json_str(f, t);
}

static void describe(FILE *f, struct msg *m)
{
	struct msg_hdr *h = NULL;
	struct avp *g = NULL;
	char eap[64];

	fd_msg_hdr(m, &h);
	int req = !!(h->msg_flags & CMD_FLAG_REQUEST);
	fprintf(f, ",\"cmd\":\"%s\",\"code\":%u,\"request\":%s,\"error_bit\":%s,\"app\":%u",
		cmd_name(h->msg_code, req), h->msg_code, req ? "true" : "false",
		h->msg_flags & CMD_FLAG_ERROR ? "true" : "false", h->msg_appl);
	field_str(f, m, aaa_d.session_id, "session_id");
	field_str(f, m, aaa_d.origin_host, "origin_host");
	field_str(f, m, aaa_d.dest_host, "destination_host");
	field_str(f, m, aaa_d.user_name, "user_name");
	field_str(f, m, aaa_d.service_selection, "service_selection");
	field_u32(f, m, aaa_d.auth_app_id, "auth_application_id");
	field_u32(f, m, aaa_d.auth_req_type, "auth_request_type");
	field_u32(f, m, aaa_d.result_code, "result_code");
	field_u32(f, m, aaa_d.termination_cause, "termination_cause");
	field_u32(f, m, aaa_d.reauth_type, "reauth_request_type");
	if (fd_msg_search_avp(m, aaa_d.exp_result, &g) == 0 && g) {
		field_u32(f, g, aaa_d.vendor_id, "experimental_vendor_id");
		field_u32(f, g, aaa_d.exp_result_code, "experimental_result_code");
	}
	struct avp_hdr *e = aaa_find(m, aaa_d.eap_payload);
	if (e)
		fprintf(f, ",\"eap\":\"%s\"", eap_describe(e->avp_value->os.data,
							  e->avp_value->os.len, eap, sizeof(eap)));
	struct avp_hdr *k = aaa_find(m, aaa_d.eap_msk);
	if (k) {
		fprintf(f, ",\"msk\":\"");
		for (size_t i = 0; i < k->avp_value->os.len; i++)
			fprintf(f, "%02x", k->avp_value->os.data[i]);
		fputc('"', f);
	}
	g = NULL;
	if (fd_msg_search_avp(m, aaa_d.mip6_agent_info, &g) == 0 && g)
		field_addr(f, g, aaa_d.mip_ha_addr, "mip_home_agent_address");
	g = NULL;
	if (fd_msg_search_avp(m, aaa_d.apn_config, &g) == 0 && g) {
		char apn[128];
		fprintf(f, ",\"apn_configuration\":{\"present\":true");
		field_u32(f, g, aaa_d.context_id, "context_identifier");
		field_u32(f, g, aaa_d.pdn_type, "pdn_type");
		if (aaa_get_str(g, aaa_d.service_selection, apn, sizeof(apn)) >= 0) {
			fprintf(f, ",\"service_selection\":");
			aaa_json_str(f, apn);
		}
		/* both Served-Party-IP-Address AVPs, each family under its own key */
		struct avp *a = NULL;
		fd_msg_browse(g, MSG_BRW_FIRST_CHILD, &a, NULL);
		for (; a; fd_msg_browse(a, MSG_BRW_NEXT, &a, NULL)) {
			struct dict_object *model = NULL;
			struct avp_hdr *ah = NULL;
			char t[INET6_ADDRSTRLEN];
			if (fd_msg_model(a, &model) || model != aaa_d.served_party_ip ||
			    fd_msg_avp_hdr(a, &ah) || !ah->avp_value)
				continue;
			const uint8_t *d = ah->avp_value->os.data;
			if (ah->avp_value->os.len == 18 && inet_ntop(AF_INET6, d + 2, t, sizeof(t)))
				fprintf(f, ",\"served_party_ipv6\":\"%s\"", t);
			else if (ah->avp_value->os.len == 6 && inet_ntop(AF_INET, d + 2, t, sizeof(t)))
				fprintf(f, ",\"served_party_ipv4\":\"%s\"", t);
		}
		fputc('}', f);
	}
	/* Failed-AVP: the codes of the AVPs inside */
	g = NULL;
	if (fd_msg_search_avp(m, aaa_d.failed_avp, &g) == 0 && g) {
		struct avp *a = NULL;
		const char *sep = "";
		fprintf(f, ",\"failed_avp\":[");
		fd_msg_browse(g, MSG_BRW_FIRST_CHILD, &a, NULL);
		for (; a; fd_msg_browse(a, MSG_BRW_NEXT, &a, NULL)) {
			struct avp_hdr *ah = NULL;
			if (!fd_msg_avp_hdr(a, &ah)) {
				fprintf(f, "%s%u", sep, ah->avp_code);
				sep = ",";
			}
		}
		fputc(']', f);
	}
}

/* A dictionary-resolved copy: the hooks' message may be unresolved and must stay untouched. */
static struct msg *resolved_copy(struct msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct msg *copy = NULL;

	if (fd_msg_bufferize(m, &buf, &len))
		return NULL;
	if (fd_msg_parse_buffer(&buf, len, &copy)) {
		free(buf);
		return NULL;
	}
	fd_msg_parse_dict(copy, fd_g_config->cnf_dict, NULL);
	return copy;
}

static void on_hook(enum fd_hook_type type, struct msg *msg, struct peer_hdr *peer, void *other,
		    struct fd_hook_permsgdata *pmd, void *regdata)
{
	(void)pmd;
	(void)regdata;
	if (type == HOOK_MESSAGE_PARSING_ERROR || type == HOOK_MESSAGE_DROPPED) {
		aaa_note(NULL, NULL, "%s: %s", type == HOOK_MESSAGE_DROPPED ? "dropped" : "parsing error",
			 other ? (const char *)other : "");
		return;
	}
	if (!events || !msg)
		return;
	struct msg *copy = resolved_copy(msg);
	if (!copy)
		return;
	pthread_mutex_lock(&events_lock);
	fprintf(events, "{\"ts\":%.6f,\"dir\":\"%s\",\"peer\":", now(),
		type == HOOK_MESSAGE_RECEIVED ? "in" : "out");
	aaa_json_str(events, peer && peer->info.pi_diamid ? peer->info.pi_diamid : "");
	describe(events, copy);
	fputs("}\n", events);
	fflush(events);
	pthread_mutex_unlock(&events_lock);
	fd_msg_free(copy);
}

int aaa_events_open(const char *path)
{
	if (path) {
		events = fopen(path, "w");
		if (!events) {
			fd_log_error("cannot open the events file %s", path);
			return -1;
		}
	}
	uint32_t mask = HOOK_MASK(HOOK_MESSAGE_RECEIVED, HOOK_MESSAGE_SENT,
				  HOOK_MESSAGE_PARSING_ERROR, HOOK_MESSAGE_DROPPED);
	return fd_hook_register(mask, on_hook, NULL, NULL, &hook) ? -1 : 0;
}

void aaa_events_close(void)
{
	if (hook)
		fd_hook_unregister(hook);
	hook = NULL;
	pthread_mutex_lock(&events_lock);
	if (events)
		fclose(events);
	events = NULL;
	pthread_mutex_unlock(&events_lock);
}

void aaa_note(const char *sid, const char *nai, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fd_log_notice("ha-aaa-standin: %s%s%s", what, sid ? " session " : "", sid ? sid : "");
	pthread_mutex_lock(&events_lock);
	if (events) {
		fprintf(events, "{\"ts\":%.6f,\"note\":", now());
		aaa_json_str(events, what);
		if (sid) {
			fputs(",\"session_id\":", events);
			aaa_json_str(events, sid);
		}
		if (nai) {
			fputs(",\"nai\":", events);
			aaa_json_str(events, nai);
		}
		fputs("}\n", events);
		fflush(events);
	}
	pthread_mutex_unlock(&events_lock);
}
