/*
 * Builds the signalling scenarios of the Home Agent with our codec into a pcap (raw IP link
 * type), and writes next to it what an independent decoder must read in each frame, as tshark
 * field names and values (one JSON object per line). tshark_check.py compares the two, so a bug
 * in our builder cannot hide behind the same bug in our parser.
 *
 * The same pcap is the sample capture set that ha-decode and the README's lab run decode.
 *
 * usage: crosscheck-gen OUT.pcap OUT.expect.jsonl
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_pkt.h"

#define HA6  "2001:db8:1::1"
#define HA6B "2001:db8:2::1"
#define HA6C "2001:db8:3::1"
#define HOA6 "2001:db8:1::200"
#define COA6 "2001:db8:ff::100"
#define HA4  "192.0.2.1"
#define COA4 "10.1.2.3"
#define NAT4 "203.0.113.9"
#define HOA4 "10.45.0.2"

static pcap_dumper_t *dumper;
static FILE *expect;
static unsigned frame;
static bool first_field;

static struct in6_addr a6(const char *s)
{
	struct in6_addr a;
	if (inet_pton(AF_INET6, s, &a) != 1)
		abort();
	return a;
}

static struct in_addr a4(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a;
}

/* one expected field: name and the value tshark -T fields prints */
static void want(const char *field, const char *fmt, ...)
{
	va_list ap;
	char v[256];

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	fprintf(expect, "%s\"%s\":\"%s\"", first_field ? "" : ",", field, v);
	first_field = false;
}

static void emit(const char *scenario, const struct ha_pkt_spec *s, const struct mh_msg *m)
{
	uint8_t buf[4096];
	int n = ha_pkt_build_mh(s, m, buf, sizeof(buf));
	struct pcap_pkthdr h = { .ts = { .tv_sec = 1700000000 + frame } };

	if (n < 0) {
		fprintf(stderr, "crosscheck-gen: %s does not build\n", scenario);
		exit(1);
	}
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)dumper, &h, buf);
	frame++;
	if (frame > 1)
		fputs("}}\n", expect);
	fprintf(expect, "{\"frame\":%u,\"scenario\":\"%s\",\"fields\":{", frame, scenario);
	first_field = true;
	/* what every frame shows: the header, the outer packet */
	want("mip6.proto", "59");
	want("mip6.mhtype", "%u", m->type);
	want("mip6.hlen", "%u", buf[(s->udp4 ? 28 : 0) + 40 + (s->hao ? 24 : 0) + (s->rh2 ? 24 : 0) + 1]);
	if (s->rh2)
		want("ipv6.routing.type", "2");
}

static void close_frames(void)
{
	if (frame)
		fputs("}}\n", expect);
}

static void want_bu(const struct mh_msg *m)
{
	want("mip6.bu.seqnr", "%u", m->bu.seq);
	want("mip6.bu.lifetime", "%u", m->bu.lifetime);
	want("mip6.bu.a_flag", "%u", !!(m->bu.flags & MH_BU_A));
	want("mip6.bu.h_flag", "%u", !!(m->bu.flags & MH_BU_H));
	want("mip6.bu.l_flag", "%u", !!(m->bu.flags & MH_BU_L));
	want("mip6.bu.k_flag", "%u", !!(m->bu.flags & MH_BU_K));
	want("mip6.nemo.bu.r_flag", "%u", !!(m->bu.flags & MH_BU_R));
	want("mip6.bu.f_flag", "%u", !!(m->bu.flags & MH_BU_F));
	want("mip6.bu.t_flag", "%u", !!(m->bu.flags & MH_BU_T));
}

static void want_ba(const struct mh_msg *m)
{
	want("mip6.ba.status", "%u", m->ba.status);
	want("mip6.ba.seqnr", "%u", m->ba.seq);
	want("mip6.ba.lifetime", "%u", m->ba.lifetime);
	want("mip6.ba.k_flag", "%u", !!(m->ba.flags & MH_BA_K));
	want("mip6.nemo.ba.r_flag", "%u", !!(m->ba.flags & MH_BA_R));
	want("mip6.ba.t_flag", "%u", !!(m->ba.flags & MH_BA_T));
}

static struct mh_msg bu(uint16_t seq, uint16_t flags, uint16_t lifetime)
{
	struct mh_msg m = { .type = MH_TYPE_BU };
	m.bu.seq = seq;
	m.bu.flags = flags;
	m.bu.lifetime = lifetime;
	return m;
}

static struct mh_msg ba(uint8_t status, uint8_t flags, uint16_t seq, uint16_t lifetime)
{
	struct mh_msg m = { .type = MH_TYPE_BA };
	m.ba.status = status;
	m.ba.flags = flags;
	m.ba.seq = seq;
	m.ba.lifetime = lifetime;
	return m;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: crosscheck-gen OUT.pcap OUT.expect.jsonl\n");
		return 2;
	}
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
	dumper = pcap_dump_open(dead, argv[1]);
	expect = fopen(argv[2], "w");
	if (!dumper || !expect) {
		fprintf(stderr, "crosscheck-gen: cannot write %s / %s\n", argv[1], argv[2]);
		return 2;
	}

	const struct ha_pkt_spec from_foreign6 = { .src6 = a6(COA6), .dst6 = a6(HA6), .hao = true,
						   .hoa = a6(HOA6) };
	const struct ha_pkt_spec to_coa6 = { .src6 = a6(HA6), .dst6 = a6(COA6), .rh2 = true,
					     .rh2_hoa = a6(HOA6) };
	const struct ha_pkt_spec udp_up = { .src6 = a6(HOA6), .dst6 = a6(HA6), .udp4 = true,
					    .src4 = a4(NAT4), .dst4 = a4(HA4), .sport = 40001,
					    .dport = HA_UDP_PORT_DSMIP };
	const struct ha_pkt_spec udp_down = { .src6 = a6(HA6), .dst6 = a6(HOA6), .udp4 = true,
					      .src4 = a4(HA4), .dst4 = a4(NAT4),
					      .sport = HA_UDP_PORT_DSMIP, .dport = 40001 };
	struct mh_msg m;

	/* 1. TS 24.303 5.1.3.2 / A.2.1: initial BU from an IPv6 care-of address */
	m = bu(1, MH_BU_A | MH_BU_H | MH_BU_K | MH_BU_R, 900);
	m.opts.alt_coa = a6(COA6);
	MH_SET_OPT(&m.opts, MH_OPT_ALTCOA);
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32 };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	emit("initial-bu-ipv6-coa", &from_foreign6, &m);
	want_bu(&m);
	want("ipv6.opt.mipv6.home_address", HOA6);
	want("mip6.acoa.acoa", COA6);
	want("mip6.ipv4ha.preflen", "32");
	want("mip6.ipv4ha.p_flag", "0");
	want("mip6.ipv4ha.ha", "0.0.0.0");

	/* 2. RFC 6275 6.1.8, RFC 5555 3.2.1: BA with IPv4 address ack and refresh advice */
	m = ba(0, MH_BA_K | MH_BA_R, 1, 900);
	m.opts.ipv4_ack = (struct mh_ipv4_ack){ .status = 0, .prefix_len = 24, .addr = a4(HOA4) };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_ACK);
	m.opts.refresh_advice = 750;
	MH_SET_OPT(&m.opts, MH_OPT_BRA);
	emit("ba-ipv4-ack-refresh-advice", &to_coa6, &m);
	want_ba(&m);
	want("ipv6.routing.mipv6.home_address", HOA6);
	want("mip6.ipv4aa.sts", "0");
	want("mip6.ipv4ha.preflen", "24");
	want("mip6.ipv4ha.ha", HOA4);
	want("mip6.bra.interval", "750");

	/* 3. RFC 5555 4.1: BU from an IPv4 care-of address behind a NAT */
	m = bu(2, MH_BU_A | MH_BU_H | MH_BU_K, 900);
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32, .addr = a4(HOA4) };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	m.opts.ipv4_coa = a4(COA4);
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_COA);
	emit("bu-udp4191-behind-nat", &udp_up, &m);
	want_bu(&m);
	want("ip.src", NAT4);
	want("udp.srcport", "40001");
	want("udp.dstport", "4191");
	want("ipv6.src", HOA6);
	want("mip6.ipv4ha.ha", HOA4);
	want("mip6.ipv4coa.addr", COA4);

	/* 4. RFC 5555 4.1: BA over UDP with NAT detected, refresh 110 s */
	m = ba(0, MH_BA_K, 2, 900);
	m.opts.ipv4_ack = (struct mh_ipv4_ack){ .status = 0, .prefix_len = 32, .addr = a4(HOA4) };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_ACK);
	m.opts.natd = (struct mh_natd){ .f = true, .refresh = 110 };
	MH_SET_OPT(&m.opts, MH_OPT_NATD);
	emit("ba-udp4191-nat-detected", &udp_down, &m);
	want_ba(&m);
	want("ip.dst", NAT4);
	want("udp.dstport", "40001");
	want("mip6.ipv4aa.sts", "0");
	want("mip6.natd.f_flag", "1");
	want("mip6.natd.refresh_t", "110");

	/* 5. TS 24.303 5.4.3.1 (004): network-initiated detach BRI, trigger 1 */
	m = (struct mh_msg){ .type = MH_TYPE_BR };
	m.br = (struct mh_br){ .br_type = MH_BR_BRI, .trigger_status = 1, .seq = 7 };
	emit("bri-network-detach", &to_coa6, &m);
	want("mip6.bri_br.type", "1");
	want("mip6.bri_r.trigger", "1");
	want("mip6.bri_seqnr", "7");
	want("mip6.bri_ip", "0");
	want("mip6.bri_iv", "0");
	want("mip6.bri_ig", "0");

	/* 6. The UE's BRA, status 0, from its care-of address with the HAO */
	m = (struct mh_msg){ .type = MH_TYPE_BR };
	m.br = (struct mh_br){ .br_type = MH_BR_BRA, .trigger_status = 0, .seq = 7 };
	emit("bra-from-ue", &from_foreign6, &m);
	want("mip6.bri_br.type", "2");
	want("mip6.bri_status", "0");
	want("mip6.bri_seqnr", "7");

	/* 7. TS 24.303 5.4.3 / RFC 5142: Home Agent Switch with two addresses */
	m = (struct mh_msg){ .type = MH_TYPE_HAS };
	m.has.n_addrs = 2;
	m.has.addrs[0] = a6(HA6B);
	m.has.addrs[1] = a6(HA6C);
	emit("home-agent-switch", &to_coa6, &m);
	want("mip6.has.num_addrs", "2");
	want("mip6.has.address", "%s,%s", HA6B, HA6C);

	/* 8. RFC 6275 6.1.9: Binding Error, unknown MH type, home address filled in */
	m = (struct mh_msg){ .type = MH_TYPE_BE };
	m.be.status = MH_BE_UNKNOWN_MH_TYPE;
	m.be.hoa = a6(HOA6);
	{
		struct ha_pkt_spec be = { .src6 = a6(HA6), .dst6 = a6(COA6) };
		emit("binding-error", &be, &m);
	}
	want("mip6.be.status", "2");
	want("mip6.be.haddr", HOA6);

	/* 9. RFC 6275 9.5.1: BA 135 carrying the last accepted sequence number */
	m = ba(MH_BA_SEQ_OUT_OF_WINDOW, 0, 41, 0);
	emit("ba-sequence-out-of-window", &to_coa6, &m);
	want_ba(&m);

	/* 10. TS 24.303 A.5.1: de-registration BU, lifetime 0, with AltCoA and a NEMO prefix */
	m = bu(3, MH_BU_A | MH_BU_H | MH_BU_K | MH_BU_R, 0);
	m.opts.alt_coa = a6(COA6);
	MH_SET_OPT(&m.opts, MH_OPT_ALTCOA);
	m.opts.n_mnp = 1;
	m.opts.mnp[0] = (struct mh_mnp){ 56, a6("2001:db8:500::") };
	MH_SET_OPT(&m.opts, MH_OPT_MNP);
	emit("deregistration-bu", &from_foreign6, &m);
	want_bu(&m);
	want("mip6.acoa.acoa", COA6);
	want("mip6.nemo.mnp.pfl", "56");
	want("mip6.nemo.mnp.mnp", "2001:db8:500::");

	/* 11. RFC 6275 6.1.2: Binding Refresh Request */
	m = (struct mh_msg){ .type = MH_TYPE_BRR };
	emit("binding-refresh-request", &to_coa6, &m);

	/* 12. RFC 5846: BRI for the IPv4 home address binding only (V set) */
	m = (struct mh_msg){ .type = MH_TYPE_BR };
	m.br = (struct mh_br){ .br_type = MH_BR_BRI, .trigger_status = 128, .seq = 8,
			       .flags = MH_BR_V };
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32, .addr = a4(HOA4) };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	emit("bri-ipv4-only", &to_coa6, &m);
	want("mip6.bri_r.trigger", "128");
	want("mip6.bri_iv", "1");
	want("mip6.bri_ip", "0");
	want("mip6.ipv4ha.ha", HOA4);

	/* 13. RFC 6275 6.2.6/6.2.7: nonce indices and authorization data (last option) */
	m = bu(4, MH_BU_A, 10);
	m.opts.home_nonce_index = 0x1234;
	m.opts.coa_nonce_index = 0x5678;
	MH_SET_OPT(&m.opts, MH_OPT_NONCE);
	memcpy(m.opts.auth, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12);
	MH_SET_OPT(&m.opts, MH_OPT_AUTH);
	emit("bu-nonce-auth-data", &from_foreign6, &m);
	want_bu(&m);
	want("mip6.ni.hni", "4660");
	want("mip6.ni.cni", "22136");
	want("mip6.bad.auth", "0102030405060708090a0b0c");

	/* 14. RFC 5555: forced UDP without NAT, no keepalives needed; IPv4 address refused */
	m = ba(0, 0, 5, 450);
	m.opts.ipv4_ack = (struct mh_ipv4_ack){ .status = 132 };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_ACK);
	m.opts.natd = (struct mh_natd){ .f = true, .refresh = MH_NATD_NO_KEEPALIVE };
	MH_SET_OPT(&m.opts, MH_OPT_NATD);
	emit("ba-forced-udp-ipv4-refused", &udp_down, &m);
	want_ba(&m);
	want("mip6.ipv4aa.sts", "132");
	want("mip6.natd.refresh_t", "4294967295");

	/* 15. RFC 4283: BU with the UE's NAI, F flag (RFC 5555 forced UDP) */
	m = bu(6, MH_BU_A | MH_BU_H | MH_BU_F, 300);
	m.opts.mnid_subtype = 1;
	m.opts.mnid_len = 29;
	memcpy(m.opts.mnid, "0123456789012345@nai.epc.test", 29);
	MH_SET_OPT(&m.opts, MH_OPT_MNID);
	emit("bu-with-nai", &udp_up, &m);
	want_bu(&m);
	want("mip6.mnid.subtype", "1");
	want("mip6.mnid.identifier", "0123456789012345@nai.epc.test");

	close_frames();
	pcap_dump_close(dumper);
	pcap_close(dead);
	if (fclose(expect) != 0)
		return 2;
	return 0;
}
