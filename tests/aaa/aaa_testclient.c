/*
 * ha-aaa-testclient: the HA's side of S6b as a test plays it against ha-aaa-standin, on its own
 * freeDiameter, with a USIM on the project's MILENAGE. Driven on stdin, one command a line,
 * one JSON line on stdout each:
 *
 *   attach NAI APN [sqn_ms=N] [wrong_res=1] [omit=AVP-NAME] [identity=ID] [eap_start=1]
 *       DERs until a final DEA: {"cmd":"attach","session_id","rounds":[...],"result",
 *       "eap","msk","ck","ik","identity","msk_match","mac_ok","failed_avp":[...],
 *       "apn_configuration":{...},"mip_home_agent_address"}
 *   str SESSION-ID                 {"cmd":"str","result"}
 *   aar SESSION-ID NAI             {"cmd":"aar","result", authorisation as for attach}
 *   wait asr|rar SECONDS           the next ASR/RAR the stand-in sent (answered 2001 for a
 *                                  session this client authenticated, else 5002):
 *                                  {"cmd":"asr","session_id","user_name","answered"} or
 *                                  {"cmd":"wait","error":"timeout"}
 *   quit
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aaa_eap_aka.h"
#include "aaa_fd.h"
#include "aka_subscribers.h"

#define WAIT_S 15

static struct aka_subscribers subs;
static char server_realm[256];

/* ---- a request and its answer ---- */

struct pending {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct msg *ans;
};

static void on_answer(void *data, struct msg **ans)
{
	struct pending *p = data;

	pthread_mutex_lock(&p->lock);
	p->ans = *ans;
	*ans = NULL;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Send req and wait for its answer; NULL after WAIT_S. */
static struct msg *exchange(struct msg *req)
{
	struct pending p = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL };
	struct timespec until;

	aaa_add_str(req, aaa_d.dest_realm, server_realm);
	if (fd_msg_send(&req, on_answer, &p)) {
		fd_msg_free(req);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_S;
	pthread_mutex_lock(&p.lock);
	while (!p.ans)
		if (pthread_cond_timedwait(&p.cond, &p.lock, &until) == ETIMEDOUT)
			break;
	struct msg *a = p.ans;
	pthread_mutex_unlock(&p.lock);
	return a; /* on a timeout the answer, if it comes, is freed by nobody: a test failure anyway */
}

static void hex(FILE *f, const char *key, const uint8_t *p, size_t n)
{
	fprintf(f, ",\"%s\":\"", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	fputc('"', f);
}

static void json_str(const char *key, const char *s)
{
	printf(",\"%s\":\"", key);
	for (; *s; s++)
		printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
	putchar('"');
}

/* The authorisation an answer carries, and its Failed-AVP codes. */
static void print_answer_avps(struct msg *a)
{
	struct avp *g = NULL;
	char t[INET6_ADDRSTRLEN];

	if (fd_msg_search_avp(a, aaa_d.failed_avp, &g) == 0 && g) {
		struct avp *c = NULL;
		const char *sep = "";
		printf(",\"failed_avp\":[");
		fd_msg_browse(g, MSG_BRW_FIRST_CHILD, &c, NULL);
		for (; c; fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
			struct avp_hdr *h = NULL;
			fd_msg_avp_hdr(c, &h);
			printf("%s%u", sep, h->avp_code);
			sep = ",";
		}
		putchar(']');
	}
	g = NULL;
	if (fd_msg_search_avp(a, aaa_d.mip6_agent_info, &g) == 0 && g) {
		struct avp_hdr *h = aaa_find(g, aaa_d.mip_ha_addr);
		if (h && h->avp_value->os.len == 18 &&
		    inet_ntop(AF_INET6, h->avp_value->os.data + 2, t, sizeof(t)))
			json_str("mip_home_agent_address", t);
	}
	g = NULL;
	if (fd_msg_search_avp(a, aaa_d.apn_config, &g) == 0 && g) {
		uint32_t v;
		char apn[128];
		printf(",\"apn_configuration\":{\"context_identifier\":%d",
		       aaa_get_u32(g, aaa_d.context_id, &v) == 0 ? (int)v : -1);
		printf(",\"pdn_type\":%d", aaa_get_u32(g, aaa_d.pdn_type, &v) == 0 ? (int)v : -1);
		aaa_get_str(g, aaa_d.service_selection, apn, sizeof(apn));
		json_str("service_selection", apn);
		struct avp *c = NULL;
		fd_msg_browse(g, MSG_BRW_FIRST_CHILD, &c, NULL);
		for (; c; fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
			struct dict_object *m = NULL;
			struct avp_hdr *h = NULL;
			if (fd_msg_model(c, &m) || m != aaa_d.served_party_ip || fd_msg_avp_hdr(c, &h))
				continue;
			if (h->avp_value->os.len == 18 &&
			    inet_ntop(AF_INET6, h->avp_value->os.data + 2, t, sizeof(t)))
				json_str("served_party_ipv6", t);
			else if (h->avp_value->os.len == 6 &&
				 inet_ntop(AF_INET, h->avp_value->os.data + 2, t, sizeof(t)))
				json_str("served_party_ipv4", t);
		}
		putchar('}');
	}
}

/* ---- the sessions this client authenticated (for its ASA and RAA) ---- */

#define KNOWN_MAX 256
static char known[KNOWN_MAX][256];
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

static void known_set(const char *sid, int on)
{
	pthread_mutex_lock(&known_lock);
	for (int i = 0; i < KNOWN_MAX; i++) {
		if (on && !known[i][0]) {
			snprintf(known[i], sizeof(known[i]), "%s", sid);
			break;
		}
		if (!on && !strcmp(known[i], sid))
			known[i][0] = 0;
	}
	pthread_mutex_unlock(&known_lock);
}

static int known_has(const char *sid)
{
	int r = 0;
	pthread_mutex_lock(&known_lock);
	for (int i = 0; i < KNOWN_MAX && !r; i++)
		r = known[i][0] && !strcmp(known[i], sid);
	pthread_mutex_unlock(&known_lock);
	return r;
}

/* ---- attach: the USIM's side of EAP-AKA (RFC 4187 9, TS 33.102 6.3.3) ---- */

static struct msg *der(const char *sid, const char *nai, const char *apn, const uint8_t *eap,
		       size_t eap_len, const char *omit)
{
	static const uint8_t ha[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct msg *m = NULL;
	struct avp *g = NULL;

	if (aaa_new_request(aaa_d.der, sid, &m))
		return NULL;
#define KEEP(n) (!omit || strcmp(omit, n))
	if (KEEP("Auth-Request-Type"))
		aaa_add_u32(m, aaa_d.auth_req_type, AAA_AUTHORIZE_AUTHENTICATE);
	if (KEEP("User-Name"))
		aaa_add_str(m, aaa_d.user_name, nai);
	if (KEEP("EAP-Payload"))
		aaa_add_os(m, aaa_d.eap_payload, eap, eap_len);
	if (KEEP("Service-Selection"))
		aaa_add_str(m, aaa_d.service_selection, apn);
	if (KEEP("MIP6-Agent-Info") && aaa_add_group(m, aaa_d.mip6_agent_info, &g) == 0 &&
	    KEEP("MIP-Home-Agent-Address"))
		aaa_add_addr(g, aaa_d.mip_ha_addr, AF_INET6, ha);
#undef KEEP
	return exchange(m);
}

static void cmd_attach(char *args)
{
	char nai[256] = "", apn[104] = "", identity[256] = "", omit[64] = "", sid[256] = "";
	unsigned long long sqn_ms = 0;
	int wrong_res = 0, mac_ok = 1, resyncs = 0, eap_start = 0;
	uint8_t eap[EAP_AKA_MAX], res[AKA_RES_LEN], ck[AKA_CK_LEN], ik[AKA_IK_LEN];
	uint8_t auts[AKA_AUTS_LEN];
	struct eap_aka_keys keys = { 0 };
	int have_keys = 0;
	size_t eap_len;
	char rounds[128] = "";

	for (char *tok = strtok(args, " "); tok; tok = strtok(NULL, " ")) {
		if (!nai[0])
			snprintf(nai, sizeof(nai), "%s", tok);
		else if (!apn[0])
			snprintf(apn, sizeof(apn), "%s", tok);
		else if (!strncmp(tok, "sqn_ms=", 7))
			sqn_ms = strtoull(tok + 7, NULL, 0);
		else if (!strncmp(tok, "wrong_res=", 10))
			wrong_res = atoi(tok + 10);
		else if (!strncmp(tok, "eap_start=", 10))
			eap_start = atoi(tok + 10);
		else if (!strncmp(tok, "omit=", 5))
			snprintf(omit, sizeof(omit), "%s", tok + 5);
		else if (!strncmp(tok, "identity=", 9))
			snprintf(identity, sizeof(identity), "%s", tok + 9);
	}
	if (!identity[0])
		snprintf(identity, sizeof(identity), "%s", nai);
	/* the USIM's K and OPc: the subscriber file's, when the identity is in it */
	struct aka_subscriber *card = NULL;
	for (size_t i = 0; i < subs.n; i++)
		if (!strcmp(subs.v[i].identity, identity))
			card = &subs.v[i];
	uint64_t usim_sqn = sqn_ms;

	/* RFC 4072 3.1: an empty EAP-Payload first, or the UE's EAP-Response/Identity */
	eap_len = eap_start ? 0 : eap_build_identity(eap, 1, identity);
	struct msg *a = der(NULL, nai, apn, eap, eap_len, omit[0] ? omit : NULL);
	uint32_t result = 0;
	for (int round = 0; a && round < 6; round++) {
		struct eap_msg m;
		const char *err;
		struct avp_hdr *e = aaa_find(a, aaa_d.eap_payload);
		result = aaa_result(a);
		if (!sid[0])
			aaa_get_str(a, aaa_d.session_id, sid, sizeof(sid));
		snprintf(rounds + strlen(rounds), sizeof(rounds) - strlen(rounds), "%s%u",
			 round ? "," : "", result);
		if (result != AAA_MULTI_ROUND_AUTH || !e || !card)
			break;
		uint8_t *p = e->avp_value->os.data;
		size_t len = e->avp_value->os.len;
		if (eap_parse(p, len, &m, &err) < 0)
			break;
		if (m.code == EAP_REQUEST && m.type == EAP_TYPE_IDENTITY) {
			eap_len = eap_build_identity(eap, m.id, identity);
			fd_msg_free(a);
			a = der(sid, nai, apn, eap, eap_len, NULL);
			continue;
		}
		if (!m.rand || !m.autn)
			break;
		enum aka_check c = aka_usim_check(card->k, card->opc, m.rand, m.autn, &usim_sqn, res,
						  ck, ik, auts);
		if (c == AKA_SYNC_FAILED) {
			resyncs++;
			eap_len = eap_build_sync_failure(eap, m.id, auts);
		} else if (c == AKA_OK) {
			eap_aka_keys(identity, strlen(identity), ik, ck, &keys);
			have_keys = 1;
			mac_ok = mac_ok && eap_aka_mac_ok(keys.k_aut, p, len, &m);
			if (wrong_res)
				res[0] ^= 0xff;
			eap_len = eap_build_challenge_resp(eap, m.id, res, sizeof(res), keys.k_aut);
		} else {
			break;
		}
		fd_msg_free(a);
		a = der(sid, nai, apn, eap, eap_len, NULL);
	}
	printf("{\"cmd\":\"attach\",\"rounds\":[%s],\"result\":%u", rounds, a ? result : 0);
	json_str("session_id", sid);
	json_str("identity", identity);
	printf(",\"resyncs\":%d,\"mac_ok\":%s", resyncs, mac_ok ? "true" : "false");
	if (!a)
		printf(",\"error\":\"no answer\"");
	if (a) {
		char what[64];
		struct avp_hdr *e = aaa_find(a, aaa_d.eap_payload);
		struct avp_hdr *k = aaa_find(a, aaa_d.eap_msk);
		if (e)
			json_str("eap", eap_describe(e->avp_value->os.data, e->avp_value->os.len, what,
						     sizeof(what)));
		if (k)
			hex(stdout, "msk", k->avp_value->os.data, k->avp_value->os.len);
		if (have_keys) {
			hex(stdout, "ck", ck, sizeof(ck));
			hex(stdout, "ik", ik, sizeof(ik));
			printf(",\"msk_match\":%s", k && k->avp_value->os.len == EAP_AKA_MSK_LEN &&
			       !memcmp(k->avp_value->os.data, keys.msk, EAP_AKA_MSK_LEN) ? "true" : "false");
		}
		print_answer_avps(a);
		if (result == AAA_SUCCESS)
			known_set(sid, 1);
		fd_msg_free(a);
	}
	printf("}\n");
	fflush(stdout);
}

static void cmd_str(char *sid)
{
	struct msg *m = NULL, *a = NULL;

	if (aaa_new_request(aaa_d.str, sid, &m) == 0) {
		aaa_add_u32(m, aaa_d.termination_cause, 1); /* DIAMETER_LOGOUT */
		a = exchange(m);
	}
	printf("{\"cmd\":\"str\",\"result\":%u}\n", a ? aaa_result(a) : 0);
	fflush(stdout);
	known_set(sid, 0);
	if (a)
		fd_msg_free(a);
}

static void cmd_aar(char *args)
{
	char *sid = strtok(args, " "), *nai = strtok(NULL, " ");
	struct msg *m = NULL, *a = NULL;

	if (sid && nai && aaa_new_request(aaa_d.aar, sid, &m) == 0) {
		aaa_add_u32(m, aaa_d.auth_req_type, AAA_AUTHORIZE_ONLY);
		aaa_add_str(m, aaa_d.user_name, nai);
		a = exchange(m);
	}
	printf("{\"cmd\":\"aar\",\"result\":%u", a ? aaa_result(a) : 0);
	if (a) {
		print_answer_avps(a);
		fd_msg_free(a);
	}
	printf("}\n");
	fflush(stdout);
}

/* ---- the stand-in's ASR and RAR ---- */

#define INBOX_MAX 16
static struct { char line[768]; } inbox[INBOX_MAX];
static unsigned inbox_head, inbox_tail;
static pthread_mutex_t inbox_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inbox_cond = PTHREAD_COND_INITIALIZER;

static int on_server_request(struct msg **msg, struct avp *avp, struct session *sess,
			     void *opaque, enum disp_action *act)
{
	char sid[256], nai[256];
	struct msg_hdr *h = NULL;
	(void)avp;
	(void)sess;
	(void)opaque;

	*act = DISP_ACT_CONT;
	fd_msg_hdr(*msg, &h);
	const char *cmd = h->msg_code == 274 ? "asr" : "rar";
	aaa_get_str(*msg, aaa_d.session_id, sid, sizeof(sid));
	aaa_get_str(*msg, aaa_d.user_name, nai, sizeof(nai));
	uint32_t rc = known_has(sid) ? AAA_SUCCESS : AAA_UNKNOWN_SESSION_ID;
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, msg, 0))
		return ENOMEM;
	fd_msg_add_origin(*msg, 0);
	aaa_add_u32(*msg, aaa_d.result_code, rc);
	fd_msg_send(msg, NULL, NULL);
	pthread_mutex_lock(&inbox_lock);
	snprintf(inbox[inbox_tail % INBOX_MAX].line, sizeof(inbox[0].line),
		 "{\"cmd\":\"%s\",\"session_id\":\"%s\",\"user_name\":\"%s\",\"answered\":%u}", cmd,
		 sid, nai, rc);
	inbox_tail++;
	pthread_cond_signal(&inbox_cond);
	pthread_mutex_unlock(&inbox_lock);
	return 0;
}

static void cmd_wait(char *args)
{
	char *what = strtok(args, " "), *secs = strtok(NULL, " ");
	struct timespec until;
	int found = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs ? atoi(secs) : WAIT_S;
	pthread_mutex_lock(&inbox_lock);
	while (!found) {
		for (; inbox_head != inbox_tail && !found; inbox_head++) {
			const char *l = inbox[inbox_head % INBOX_MAX].line;
			if (what && !strncmp(l + 8, what, 3)) {
				printf("%s\n", l);
				found = 1;
			}
		}
		if (!found && pthread_cond_timedwait(&inbox_cond, &inbox_lock, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&inbox_lock);
	if (!found)
		printf("{\"cmd\":\"wait\",\"error\":\"timeout\"}\n");
	fflush(stdout);
}

/* ---- start-up ---- */

static int wait_open(const char *peer)
{
	for (int i = 0; i < 200; i++) {
		struct peer_hdr *p = NULL;
		if (fd_peer_getbyid((DiamId_t)peer, strlen(peer), 0, &p) == 0 && p &&
		    fd_peer_get_state(p) == STATE_OPEN)
			return 0;
		usleep(100000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	char err[512], line[1024];

	if (argc != 5) {
		fprintf(stderr, "usage: ha-aaa-testclient FD.CONF SUBSCRIBERS SERVER-IDENTITY "
				"SERVER-REALM\n");
		return 2;
	}
	if (aka_subscribers_load(argv[2], &subs, err, sizeof(err)) < 0) {
		fprintf(stderr, "ha-aaa-testclient: %s\n", err);
		return 1;
	}
	snprintf(server_realm, sizeof(server_realm), "%s", argv[4]);
	struct disp_when when = { 0 };
	aaa_log_to_stderr();
	if (fd_core_initialize() || (fd_g_debug_lvl = FD_LOG_NOTICE, 0) ||
	    fd_core_parseconf(argv[1]) || aaa_dict_init() ||
	    /* TS 29.273 9.2.2.1.2: a DEA has Result-Code or Experimental-Result */
	    aaa_rule_optional(aaa_d.dea, aaa_d.result_code))
		return 1;
	when.app = aaa_d.app;
	when.command = aaa_d.asr;
	if (fd_disp_register(on_server_request, DISP_HOW_CC, &when, NULL, NULL))
		return 1;
	when.command = aaa_d.rar;
	if (fd_disp_register(on_server_request, DISP_HOW_CC, &when, NULL, NULL) || fd_core_start())
		return 1;
	fd_core_waitstartcomplete();
	if (wait_open(argv[3]) < 0) {
		printf("{\"cmd\":\"start\",\"error\":\"no connection to %s\"}\n", argv[3]);
		fflush(stdout);
	} else {
		printf("{\"cmd\":\"start\",\"ok\":true}\n");
		fflush(stdout);
		while (fgets(line, sizeof(line), stdin)) {
			line[strcspn(line, "\r\n")] = 0;
			char *arg = strchr(line, ' ');
			if (arg)
				*arg++ = 0;
			if (!strcmp(line, "attach") && arg)
				cmd_attach(arg);
			else if (!strcmp(line, "str") && arg)
				cmd_str(arg);
			else if (!strcmp(line, "aar") && arg)
				cmd_aar(arg);
			else if (!strcmp(line, "wait") && arg)
				cmd_wait(arg);
			else if (!strcmp(line, "quit"))
				break;
			else {
				printf("{\"cmd\":\"%s\",\"error\":\"unknown command\"}\n", line);
				fflush(stdout);
			}
		}
	}
	fd_core_shutdown();
	fd_core_wait_shutdown_complete();
	aka_subscribers_free(&subs);
	return 0;
}
