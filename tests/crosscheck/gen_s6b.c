/*
 * The S6b messages the HA sends (controlplane/s6b/s6b_msg.c), written into a pcap as Diameter
 * over TCP (port 3868) for tshark to decode (tshark_s6b_check.py): the first and a later DER
 * (TS 29.273 9.2.2.1), an AAR (9.2.2.5), an STR (9.2.2.3), and the ASA and RAA answering the
 * AAA's ASR and RAR (RFC 6733 8.5, 8.3). Beside it, per frame, what tshark must read.
 *
 * A DEA as an AAA would send it closes the file; with CORPUS_DIR every message is also written
 * there raw, as the fuzz harness's seeds (tests/fuzz/corpus/s6b).
 *
 * usage: s6b-crosscheck-gen OUT.pcap OUT.expect.jsonl [CORPUS_DIR]
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s6b_offline.h"

#include <freeDiameter/libfdcore.h>

static pcap_dumper_t *dump;
static FILE *expect;
static uint32_t tcp_seq = 1;
static const char *corpus;
static unsigned n_frames;

/* IPv4 and TCP around one Diameter message, HA 192.0.2.1:40000 -> AAA 192.0.2.9:3868 (or back
 * for answers). Checksums are left 0: tshark does not check them by default. */
static void frame(struct msg *m, bool to_aaa, const char *fields_json)
{
	uint8_t *buf;
	size_t len;
	if (fd_msg_bufferize(m, &buf, &len)) {
		fprintf(stderr, "bufferize failed\n");
		exit(1);
	}
	uint8_t pkt[14 + 20 + 20 + 8192] = { 0 };
	size_t n = 14 + 20 + 20 + len;
	if (len > 8192)
		exit(1);
	pkt[12] = 0x08; /* Ethernet, IPv4 */
	uint8_t *ip = pkt + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 20 + len) >> 8);
	ip[3] = (uint8_t)(20 + 20 + len);
	ip[8] = 64;
	ip[9] = 6;
	uint8_t ha[4] = { 192, 0, 2, 1 }, aaa[4] = { 192, 0, 2, 9 };
	memcpy(ip + 12, to_aaa ? ha : aaa, 4);
	memcpy(ip + 16, to_aaa ? aaa : ha, 4);
	uint16_t sport = to_aaa ? 40000 : 3868, dport = to_aaa ? 3868 : 40000;
	tcp[0] = sport >> 8; tcp[1] = sport & 0xff;
	tcp[2] = dport >> 8; tcp[3] = dport & 0xff;
	tcp[4] = tcp_seq >> 24; tcp[5] = tcp_seq >> 16; tcp[6] = tcp_seq >> 8; tcp[7] = tcp_seq;
	tcp_seq += (uint32_t)len;
	tcp[12] = 0x50;
	tcp[13] = 0x18; /* PSH, ACK */
	tcp[14] = 0xff;
	memcpy(tcp + 20, buf, len);
	free(buf);
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)n, .len = (bpf_u_int32)n };
	pcap_dump((u_char *)dump, &h, pkt);
	if (corpus) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/seed-%02u", corpus, n_frames);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(tcp + 20, 1, len, f) != len)
			exit(1);
		fclose(f);
	}
	n_frames++;
	fprintf(expect, "%s\n", fields_json);
}

static struct s6b_request base(void)
{
	struct s6b_request r = {
		.dest_realm = "aaa.lab.example.com",
		.nai = "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org",
		.apn = "internet", .has_ha6 = true, .has_ha4 = true, .ha4 = { 192, 0, 2, 1 },
	};
	inet_pton(AF_INET6, "2001:db8:ffff::1", r.ha6);
	return r;
}

/* A request as the AAA would send it (ASR, RAR), to answer. */
static struct msg *aaa_request(const struct s6b_dict *d, struct dict_object *cmd, const char *sid)
{
	struct msg *m;
	struct msg_hdr *h;
	struct avp *a;
	union avp_value v = { .os = { .data = (uint8_t *)sid, .len = strlen(sid) } };
	if (fd_msg_new(cmd, MSGFL_ALLOC_ETEID, &m) || fd_msg_avp_new(d->session_id, 0, &a) ||
	    fd_msg_avp_setvalue(a, &v) || fd_msg_avp_add(m, MSG_BRW_FIRST_CHILD, a) ||
	    fd_msg_add_origin(m, 0))
		exit(1);
	fd_msg_hdr(m, &h);
	h->msg_appl = S6B_APP_ID;
	return m;
}

static void add(msg_or_avp *to, struct dict_object *model, union avp_value v)
{
	struct avp *a;
	if (fd_msg_avp_new(model, 0, &a) || fd_msg_avp_setvalue(a, &v) ||
	    fd_msg_avp_add(to, MSG_BRW_LAST_CHILD, a))
		exit(1);
}

static void add_os(msg_or_avp *to, struct dict_object *model, const void *p, size_t n)
{
	add(to, model, (union avp_value){ .os = { .data = (uint8_t *)p, .len = n } });
}

static struct avp *group(struct dict_object *model)
{
	struct avp *g;
	if (fd_msg_avp_new(model, 0, &g))
		exit(1);
	return g;
}

static void dea_body(const struct s6b_dict *d, struct msg *m)
{
	static const uint8_t success[] = { 3, 2, 0, 4 };
	static const uint8_t v6[] = { 0, 2, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, [17] = 0 };
	static const uint8_t v4[] = { 0, 1, 10, 9, 9, 9 };
	static const uint8_t other_ha[] = { 0, 2, 0x20, 0x01, 0x0d, 0xb8, 0xee, 0xee, [17] = 1 };
	uint8_t msk[64] = { 1, 2, 3 };
	add(m, d->result_code, (union avp_value){ .u32 = S6B_SUCCESS });
	add_os(m, d->eap_payload, success, sizeof(success));
	add_os(m, d->eap_msk, msk, sizeof(msk));
	struct avp *apn = group(d->apn_config);
	add_os(apn, d->service_selection, "internet", 8);
	add(apn, d->pdn_type, (union avp_value){ .i32 = 2 });
	add_os(apn, d->served_party_ip, v6, sizeof(v6));
	add_os(apn, d->served_party_ip, v4, sizeof(v4));
	struct avp *agent = group(d->mip6_agent_info);
	add_os(agent, d->mip_ha_address, other_ha, sizeof(other_ha));
	if (fd_msg_avp_add(m, MSG_BRW_LAST_CHILD, apn) || fd_msg_avp_add(m, MSG_BRW_LAST_CHILD, agent) ||
	    fd_msg_add_origin(m, 0))
		exit(1);
}

int main(int argc, char **argv)
{
	struct s6b_dict d;
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s OUT.pcap OUT.expect.jsonl [CORPUS_DIR]\n", argv[0]);
		return 2;
	}
	corpus = argc == 4 ? argv[3] : NULL;
	if (s6b_offline_init("ha.lab.example.com", &d))
		return 1;
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	dump = pcap_dump_open(p, argv[1]);
	expect = fopen(argv[2], "w");
	if (!dump || !expect)
		return 1;

	static const uint8_t identity[] = { 2, 0, 0, 9, 1, 'u', '@', 'x', '.' };
	static const uint8_t challenge_resp[] = { 2, 1, 0, 8, 23, 1, 0, 0 };
	struct s6b_request r = base();
	struct msg *m;
	char sid[HA_IKE_SID_MAX];

	r.eap = identity;
	r.eap_len = sizeof(identity);
	if (s6b_build_request(&d, d.cmd_der, &r, &m) || s6b_session_id(&d, m, sid, sizeof(sid)))
		return 1;
	char json[2048];
	snprintf(json, sizeof(json),
		 "{\"what\":\"DER, first\",\"fields\":{\"diameter.cmd.code\":\"268\","
		 "\"diameter.flags.request\":\"1\",\"diameter.applicationId\":\"16777272\","
		 "\"diameter.Auth-Application-Id\":\"16777272\",\"diameter.Auth-Request-Type\":\"3\","
		 "\"diameter.Session-Id\":\"%s\",\"diameter.User-Name\":\"%s\","
		 "\"diameter.Service-Selection\":\"internet\",\"diameter.EAP-Payload\":\"02000009017540782e\","
		 "\"diameter.MIP-Home-Agent-Address.IPv6\":\"2001:db8:ffff::1\","
		 "\"diameter.MIP-Home-Agent-Address.IPv4\":\"192.0.2.1\"}}", sid, r.nai);
	frame(m, true, json);
	fd_msg_free(m);

	r.sid = sid;
	r.eap = challenge_resp;
	r.eap_len = sizeof(challenge_resp);
	if (s6b_build_request(&d, d.cmd_der, &r, &m))
		return 1;
	snprintf(json, sizeof(json),
		 "{\"what\":\"DER, next round\",\"fields\":{\"diameter.cmd.code\":\"268\","
		 "\"diameter.Session-Id\":\"%s\",\"diameter.EAP-Payload\":\"0201000817010000\"}}", sid);
	frame(m, true, json);
	fd_msg_free(m);

	r.eap = NULL;
	r.eap_len = 0;
	r.dest_host = "aaa1.lab.example.com";
	if (s6b_build_request(&d, d.cmd_aar, &r, &m))
		return 1;
	snprintf(json, sizeof(json),
		 "{\"what\":\"AAR\",\"fields\":{\"diameter.cmd.code\":\"265\",\"diameter.Auth-Request-Type\":\"2\","
		 "\"diameter.Session-Id\":\"%s\",\"diameter.Destination-Host\":\"aaa1.lab.example.com\","
		 "\"diameter.Service-Selection\":\"internet\"}}", sid);
	frame(m, true, json);
	fd_msg_free(m);

	r.cause = 4; /* DIAMETER_ADMINISTRATIVE */
	if (s6b_build_request(&d, d.cmd_str, &r, &m))
		return 1;
	snprintf(json, sizeof(json),
		 "{\"what\":\"STR\",\"fields\":{\"diameter.cmd.code\":\"275\",\"diameter.flags.request\":\"1\","
		 "\"diameter.Session-Id\":\"%s\",\"diameter.Termination-Cause\":\"4\","
		 "\"diameter.Auth-Application-Id\":\"16777272\"}}", sid);
	frame(m, true, json);
	fd_msg_free(m);

	m = aaa_request(&d, d.cmd_asr, sid);
	if (s6b_build_answer(&d, &m, S6B_SUCCESS))
		return 1;
	snprintf(json, sizeof(json),
		 "{\"what\":\"ASA\",\"fields\":{\"diameter.cmd.code\":\"274\",\"diameter.flags.request\":\"0\","
		 "\"diameter.Session-Id\":\"%s\",\"diameter.Result-Code\":\"2001\"}}", sid);
	frame(m, false, json);
	fd_msg_free(m);

	m = aaa_request(&d, d.cmd_rar, sid);
	if (s6b_build_answer(&d, &m, S6B_UNKNOWN_SESSION_ID))
		return 1;
	snprintf(json, sizeof(json),
		 "{\"what\":\"RAA, unknown session\",\"fields\":{\"diameter.cmd.code\":\"258\","
		 "\"diameter.flags.request\":\"0\",\"diameter.Result-Code\":\"5002\"}}");
	frame(m, false, json);
	fd_msg_free(m);

	/* the DEA of TS 29.273 9.2.2.1.1 with the authorisation the HA reads */
	r = base();
	r.eap = identity;
	r.eap_len = sizeof(identity);
	if (s6b_build_request(&d, d.cmd_der, &r, &m) || fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &m, 0))
		return 1;
	dea_body(&d, m);
	snprintf(json, sizeof(json),
		 "{\"what\":\"DEA (the AAA's)\",\"fields\":{\"diameter.cmd.code\":\"268\","
		 "\"diameter.flags.request\":\"0\",\"diameter.Result-Code\":\"2001\","
		 "\"diameter.Service-Selection\":\"internet\","
		 "\"diameter.MIP-Home-Agent-Address.IPv6\":\"2001:db8:eeee::1\"}}");
	frame(m, false, json);
	fd_msg_free(m);

	pcap_dump_close(dump);
	pcap_close(p);
	fclose(expect);
	return 0;
}
