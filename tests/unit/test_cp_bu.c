/*
 * The Home Agent's Binding Update procedures (controlplane/cp_bu.c), each test a scenario of
 * the specification texts in ../shared/seeds (subclauses cited) and the RFCs behind them.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "cp_bu.h"

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static const char *yaml =
	"dataplane:\n"
	"  lcores: { main: 0, workers: [1] }\n"
	"  ports: { access: { device: net_null0 }, core: { device: net_null1 } }\n"
	"home_agent:\n"
	"  ipv6_address: 2001:db8:ffff::1\n"
	"  ipv4_address: 192.0.2.1\n"
	"  binding_lifetime: { max: 3600 }\n"
	"  refresh_advice_percent: 80\n"
	"%s" /* insecure_lab_mode */
	"  nat: { keepalive_refresh: 110 }\n"
	"pdns:\n"
	"  - { name: internet, home_prefix_pool: 2001:db8:100::/48, home_prefix_length: 64,\n"
	"      ipv4_pool: 10.45.0.0/30 }\n"
	"  - { name: ims, home_prefix_pool: 2001:db8:200::/48, home_prefix_length: 64 }\n"
	"ike: { enabled: false }\n"
	"static_sas:\n"
	"  - { spi: 0x5001, direction: in, mode: transport, local: 2001:db8:ffff::1,\n"
	"      peer: 2001:db8:100:1::55, encryption: aes-gcm-128, integrity: none,\n"
	"      key: \"0001020304050607080910111213141516171819\" }\n"
	"  - { spi: 0x6001, direction: out, mode: transport, local: 2001:db8:ffff::1,\n"
	"      peer: 2001:db8:100:1::55, encryption: aes-gcm-128, integrity: none,\n"
	"      key: \"2001020304050607080910111213141516171819\" }\n"
	"  - { spi: 0x5002, direction: in, mode: transport, local: 2001:db8:ffff::1,\n"
	"      peer: 2001:db8:200:1::55, encryption: aes-gcm-128, integrity: none,\n"
	"      key: \"3001020304050607080910111213141516171819\" }\n";

static struct ha_config cfg;
static struct cp_ctx ctx;
static bool loaded;

static void load(bool insecure)
{
	struct ha_config_error err;
	if (loaded) {
		cp_ctx_free(&ctx);
		ha_config_free(&cfg);
	}
	loaded = true;
	char buf[4096];
	snprintf(buf, sizeof(buf), yaml, insecure ? "  insecure_lab_mode: true\n" : "");
	cr_assert_eq(ha_config_load_buffer("t.yaml", buf, strlen(buf), &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(cp_ctx_init(&ctx, &cfg), 0);
}

static void setup(void)
{
	load(false);
}

static void teardown(void)
{
	cp_ctx_free(&ctx);
	ha_config_free(&cfg);
}

TestSuite(bu, .init = setup, .fini = teardown);

#define HOA "2001:db8:100:1::55"
#define COA "2001:db8:aaaa::2"

static struct in6_addr a6(const char *s)
{
	struct in6_addr a;
	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static struct in_addr a4(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct mh_msg bu_msg(uint16_t seq, uint16_t lifetime)
{
	struct mh_msg m = { .type = MH_TYPE_BU };
	m.bu.seq = seq;
	m.bu.flags = MH_BU_A | MH_BU_H | MH_BU_K | MH_BU_R; /* TS 24.303 A.2.1 */
	m.bu.lifetime = lifetime;
	return m;
}

/* A BU from an IPv6 care-of address with the HAO, under the UE's SA. */
static struct cp_bu_in from6(const struct mh_msg *m, const char *hoa, const char *coa,
			     uint32_t spi)
{
	return (struct cp_bu_in){ .bu = m, .src6 = a6(coa), .has_hao = true, .hoa = a6(hoa),
				  .esp = spi != 0, .sa_spi = spi, .now = 1000 };
}

/* 002 5.1.3.2: initial binding registration from an IPv6 care-of address. */
Test(bu, initial_registration)
{
	struct mh_msg m = bu_msg(7, 450);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	struct cp_bu_out out;

	cp_bu_process(&ctx, &in, &out);
	cr_assert_not(out.drop);
	cr_assert(out.send_ba);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(out.ba.ba.seq, 7);
	cr_assert_eq(out.ba.ba.lifetime, 450, "1800 s asked, within the 3600 s policy");
	cr_assert_eq(out.ba.ba.flags, MH_BA_R,
		     "R echoed; not K: a static SA has no key management to move (RFC 6275 10.3.1)");
	/* RFC 6275 6.1.8: to the care-of address, with RH2 to the home address, under the SA */
	struct in6_addr coa = a6(COA), hoa = a6(HOA);
	cr_assert_arr_eq(&out.dst6, &coa, 16);
	cr_assert(out.rh2);
	cr_assert_arr_eq(&out.rh2_hoa, &hoa, 16);
	cr_assert_eq(out.spi_out, 0x6001);
	cr_assert_eq(out.action, CP_ACT_UPSERT);
	cr_assert_eq(out.spec.home_prefix_len, 64);
	cr_assert_arr_eq(out.spec.coa, &coa, 16);
	cr_assert_eq(ctx.cache.count, 1);
	/* Binding Refresh Advice: 80 % of 1800 s in 4 s units */
	cr_assert(MH_HAS_OPT(&out.ba.opts, MH_OPT_BRA));
	cr_assert_eq(out.ba.opts.refresh_advice, 360);
}

/* Operator policy bounds the lifetime (5.1.3.2). */
Test(bu, lifetime_is_bounded_by_policy)
{
	struct mh_msg m = bu_msg(1, 0xFFFF);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	struct cp_bu_out out;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.lifetime, 3600 / 4);
	m = bu_msg(2, 1);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.lifetime, 1, "4 s asked, 4 s granted: never lengthened (RFC 6275 10.3.1)");
}

/* 002 5.1.3.2 / RFC 5555 3.1.1: IPv4 Home Address option with 0.0.0.0: one is assigned. */
Test(bu, ipv4_home_address_assignment)
{
	struct mh_msg m = bu_msg(1, 100);
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32 };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	struct cp_bu_out out;

	cp_bu_process(&ctx, &in, &out);
	cr_assert(MH_HAS_OPT(&out.ba.opts, MH_OPT_IPV4_ACK));
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 0);
	cr_assert_eq(out.ba.opts.ipv4_ack.prefix_len, 32);
	cr_assert_eq(out.ba.opts.ipv4_ack.addr.s_addr, a4("10.45.0.1").s_addr);
	cr_assert(out.spec.flags & HA_BIND_F_IPV4_HOA);
	/* a refresh asking again keeps the same address */
	m.bu.seq = 2;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.opts.ipv4_ack.addr.s_addr, a4("10.45.0.1").s_addr);
	/* 001 5.2.3.2: the assigned address named explicitly is kept */
	m.bu.seq = 3;
	m.opts.ipv4_hoa.addr = a4("10.45.0.1");
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 0);
	cr_assert_eq(ctx.ctr[CP_C_IPV4_ASSIGNED], 1);
}

Test(bu, ipv4_home_address_refusals)
{
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	/* outside the pool: invalid IPv4 address (131); the IPv6 binding is still accepted */
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32, .addr = a4("10.99.0.1") };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 131);
	cr_assert_eq(out.ba.opts.ipv4_ack.prefix_len, 0);
	cr_assert_not(out.spec.flags & HA_BIND_F_IPV4_HOA);
	/* the /30 has two host addresses: this UE takes .2, then asks for dynamic: .1 */
	m.bu.seq = 2;
	m.opts.ipv4_hoa.addr = a4("10.45.0.2");
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 0);
	/* another UE takes the last one (through the pool directly) */
	struct in_addr got;
	cr_assert_eq(cp_pool4_alloc(&ctx.pool4[0], &got), 0);
	cr_assert_eq(got.s_addr, a4("10.45.0.1").s_addr);
	cr_assert_eq(cp_pool4_alloc(&ctx.pool4[0], &got), -ENOSPC);
	/* the address of another UE: incorrect IPv4 home address (130) */
	m.bu.seq = 3;
	m.opts.ipv4_hoa.addr = a4("10.45.0.1");
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 130);
	/* prefix length 0 is invalid */
	m.bu.seq = 4;
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 0 };
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 131);
}

Test(bu, dynamic_assignment_not_available)
{
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	struct in_addr got;
	cr_assert_eq(cp_pool4_alloc(&ctx.pool4[0], &got), 0);
	cr_assert_eq(cp_pool4_alloc(&ctx.pool4[0], &got), 0);
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32 };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 132, "pool exhausted");
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
}

/* RFC 6275 9.5.1: a sequence number not newer than the last accepted gets 135 carrying it. */
Test(bu, sequence_number_out_of_window)
{
	struct mh_msg m = bu_msg(41, 100);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	struct cp_bu_out out;
	cp_bu_process(&ctx, &in, &out);
	m.bu.seq = 41;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_SEQ_OUT_OF_WINDOW);
	cr_assert_eq(out.ba.ba.seq, 41);
	m.bu.seq = 40;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_SEQ_OUT_OF_WINDOW);
	cr_assert_eq(out.action, CP_ACT_NONE);
	m.bu.seq = (uint16_t)(41 + 32767);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED, "newest modulo 2^16");
}

/* 001 5.2.3.3 and 004 5.4.3.2: lifetime 0 removes the binding, status 0; without one, 133. */
Test(bu, deregistration)
{
	struct mh_msg m = bu_msg(1, 0);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	struct cp_bu_out out;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_NOT_HOME_AGENT);
	m = bu_msg(2, 100);
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32 };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(ctx.cache.count, 1);
	m = bu_msg(3, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(out.ba.ba.lifetime, 0);
	cr_assert_eq(out.action, CP_ACT_DELETE);
	cr_assert_eq(ctx.cache.count, 0);
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 0, "the IPv4 home address went back to the pool");
}

/* RFC 6275 10.3.1: not a home registration (131), not a home subnet (132); R changes (139). */
Test(bu, rejections)
{
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	m.bu.flags &= (uint16_t)~MH_BU_H;
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_HOME_REG_NOT_SUPPORTED);
	load(true);
	m = bu_msg(1, 100);
	in = from6(&m, "2001:db8:999::55", COA, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_NOT_HOME_SUBNET);
	in = from6(&m, HOA, COA, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	m.bu.seq = 2;
	m.bu.flags &= (uint16_t)~MH_BU_R;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_REG_TYPE_CHANGE);
}

/* RFC 4877: a BU not under the SA of the home address it registers is dropped silently. */
Test(bu, security)
{
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	struct cp_bu_in in = from6(&m, HOA, COA, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.drop);
	cr_assert_not(out.send_ba);
	cr_assert_eq(ctx.ctr[CP_C_BU_INSECURE], 1);
	in = from6(&m, HOA, COA, 0x5002); /* the ims UE's SA */
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.drop);
	cr_assert_eq(ctx.ctr[CP_C_BU_WRONG_SA], 1);
	in = from6(&m, HOA, COA, 0x9999); /* unknown SPI */
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.drop);
	cr_assert_eq(ctx.cache.count, 0);
}

/* 002 5.1.3.2 and RFC 5555 4.1: IPv4 care-of address behind a NAT. */
Test(bu, ipv4_care_of_address_behind_a_nat)
{
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	m.opts.ipv4_coa = a4("10.1.2.3");
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_COA);
	struct cp_bu_in in = { .bu = &m, .src6 = a6(HOA), .hoa = a6(HOA), .via_udp = true,
			       .outer_src4 = a4("203.0.113.9"), .outer_sport = 40001, .esp = true,
			       .sa_spi = 0x5001, .now = 10 };
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert(MH_HAS_OPT(&out.ba.opts, MH_OPT_NATD));
	cr_assert(out.ba.opts.natd.f);
	cr_assert_eq(out.ba.opts.natd.refresh, 110);
	/* BA and data to the mapping the HA saw */
	cr_assert(out.udp);
	cr_assert_eq(out.udp_dst.s_addr, a4("203.0.113.9").s_addr);
	cr_assert_eq(out.udp_port, 40001);
	cr_assert_not(out.rh2);
	cr_assert(out.spec.flags & HA_BIND_F_UDP);
	cr_assert(out.spec.flags & HA_BIND_F_COA4);
	cr_assert_eq(out.spec.udp_port, 40001);
	cr_assert_eq(memcmp(out.spec.coa, &in.outer_src4, 4), 0);
	cr_assert_eq(ctx.ctr[CP_C_NAT_DETECTED], 1);
	/* keepalive: a later BU from a new NAT port moves the mapping */
	m.bu.seq = 2;
	in.outer_sport = 40999;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.spec.udp_port, 40999);
}

/* RFC 5555 4.1: no NAT, no F: IP-in-IPv4; F set: UDP, no keepalives needed. */
Test(bu, ipv4_care_of_address_without_nat)
{
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	m.opts.ipv4_coa = a4("198.51.100.7");
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_COA);
	struct cp_bu_in in = { .bu = &m, .src6 = a6(HOA), .hoa = a6(HOA), .via_udp = true,
			       .outer_src4 = a4("198.51.100.7"), .outer_sport = 4191, .esp = true,
			       .sa_spi = 0x5001 };
	cp_bu_process(&ctx, &in, &out);
	cr_assert_not(out.spec.flags & HA_BIND_F_UDP);
	cr_assert(out.spec.flags & HA_BIND_F_COA4);
	cr_assert_not(MH_HAS_OPT(&out.ba.opts, MH_OPT_NATD));
	cr_assert(out.udp, "the BA still goes over UDP (5.1.3.2)");
	m.bu.seq = 2;
	m.bu.flags |= MH_BU_F;
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.spec.flags & HA_BIND_F_UDP);
	cr_assert_eq(out.ba.opts.natd.refresh, MH_NATD_NO_KEEPALIVE);
}

/* RFC 5555 4.2: the IPv4 CoA option only in UDP over IPv4; 001 5.2.3.2: Alternate CoA check. */
Test(bu, care_of_address_options)
{
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	m.opts.ipv4_coa = a4("10.1.2.3");
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_COA);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_INVALID_COA);
	m = bu_msg(1, 100);
	m.opts.alt_coa = a6("2001:db8:aaaa::99");
	MH_SET_OPT(&m.opts, MH_OPT_ALTCOA);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_INVALID_COA);
	m.opts.alt_coa = a6(COA);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
}

/* An SA pair IKEv2 made for HOA's signalling (charon's IKE SA 42): key management exists. */
static void ike_sigsa(void)
{
	struct in6_addr hoa = a6(HOA);
	cr_assert_eq(cp_sigsa_add(&ctx.sigsa, 42, 1, &hoa, 0x7001, true), 0);
	cr_assert_eq(cp_sigsa_add(&ctx.sigsa, 42, 1, &hoa, 0x7002, false), 0);
}

/* 001 5.2.3.2: foreign link to another foreign link: the binding moves, K echoed (the BU came
 * under an IKE SA's child SA) and the IKE SA follows. */
Test(bu, handover_foreign_to_foreign)
{
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	ike_sigsa();
	struct cp_bu_in in = from6(&m, HOA, COA, 0x7001);
	cp_bu_process(&ctx, &in, &out);
	m.bu.seq = 2;
	in = from6(&m, HOA, "2001:db8:bbbb::7", 0x7001);
	cp_bu_process(&ctx, &in, &out);
	struct in6_addr coa2 = a6("2001:db8:bbbb::7");
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert(out.ba.ba.flags & MH_BA_K);
	cr_assert(out.moved);
	cr_assert_eq(out.coa.family, AF_INET6);
	cr_assert_arr_eq(&out.coa.v6, &coa2, 16);
	cr_assert_eq(out.spi_out, 0x7002);
	cr_assert_arr_eq(out.spec.coa, &coa2, 16);
	cr_assert_arr_eq(&out.dst6, &coa2, 16, "the BA goes to the new care-of address");
	cr_assert_eq(ctx.cache.count, 1);
}

/* 002 4.3: one session per PDN; operations on one never touch another. */
Test(bu, multiple_pdn_connectivity)
{
	load(true);
	struct mh_msg m = bu_msg(1, 100);
	struct cp_bu_out out;
	struct cp_bu_in in = from6(&m, HOA, COA, 0);
	cp_bu_process(&ctx, &in, &out);
	in = from6(&m, "2001:db8:200:1::55", COA, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(ctx.cache.count, 2);
	m = bu_msg(2, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.action, CP_ACT_DELETE);
	cr_assert_eq(ctx.cache.count, 1);
	struct in6_addr h = a6(HOA);
	cr_assert_not_null(cp_bcache_find(&ctx.cache, &h, 64), "the internet PDN's binding stays");
}

/* Lifetime expiry removes the binding and gives the dataplane's delete. */
Test(bu, expiry)
{
	struct mh_msg m = bu_msg(1, 25); /* 100 s */
	struct cp_bu_out out;
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	struct ha_binding_spec del[4];
	cr_assert_eq(cp_expire(&ctx, 1099, del, 4), 0);
	cr_assert_eq(cp_expire(&ctx, 1100, del, 4), 1);
	cr_assert_eq(del[0].home_prefix_len, 64);
	cr_assert_eq(ctx.cache.count, 0);
	cr_assert_eq(ctx.ctr[CP_C_EXPIRED], 1);
}

/* ---- 004 5.4.3.1 network-initiated detach ------------------------------------------------ */

static void register_ue(void)
{
	struct mh_msg m = bu_msg(1, 450);
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32 };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	struct cp_bu_out out;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
}

/* The BRI: RFC 5846 layout, trigger 1, P V G clear, no options, to the care-of address with
 * RH2 to the home address, under the UE's SA; the binding stays until the BRA. */
Test(bu, detach_sends_a_bri_and_keeps_the_binding_until_the_bra)
{
	struct cp_msg_out bri;
	struct in6_addr hoa = a6(HOA), coa = a6(COA);
	struct ha_binding_spec gone;

	register_ue();
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 10000, &bri), 0);
	cr_assert_eq(bri.msg.type, MH_TYPE_BR);
	cr_assert_eq(bri.msg.br.br_type, MH_BR_BRI);
	cr_assert_eq(bri.msg.br.trigger_status, 1);
	cr_assert_eq(bri.msg.br.flags, 0);
	cr_assert_eq(bri.msg.opts.present, 0, "no mobility option");
	cr_assert_arr_eq(&bri.dst6, &coa, 16);
	cr_assert(bri.rh2, "RH2 to the home address, as a BA (RFC 5846, RFC 6275 6.4)");
	cr_assert_arr_eq(&bri.rh2_hoa, &hoa, 16);
	cr_assert_eq(bri.spi_out, 0x6001);
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 10000, &bri), -EALREADY);
	cr_assert_eq(ctx.cache.count, 1, "kept until the BRA");
	/* a BRA with another sequence number, and one not under the UE's SA, change nothing */
	struct mh_msg bra = { .type = MH_TYPE_BR };
	bra.br = (struct mh_br){ .br_type = MH_BR_BRA, .seq = (uint16_t)(bri.msg.br.seq + 1) };
	cr_assert_eq(cp_bra_process(&ctx, &bra, &hoa, true, 0x5001, &gone), 0);
	bra.br.seq = bri.msg.br.seq;
	cr_assert_eq(cp_bra_process(&ctx, &bra, &hoa, false, 0, &gone), 0);
	cr_assert_eq(ctx.cache.count, 1);
	cr_assert_eq(cp_bra_process(&ctx, &bra, &hoa, true, 0x5001, &gone), 1);
	cr_assert_eq(gone.home_prefix_len, 64);
	cr_assert_eq(ctx.cache.count, 0);
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 0);
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 10000, &bri), -ENOENT);
}

/* MINDelayBRIs (1000 ms by default) between retransmissions, BRIMaxRetransmitNumber (1) of
 * them. 004 5.4.3.1: "shall not remove the entry from its binding cache before receiving the
 * BRA": after the last BRI the binding stays until the BRA, a lifetime-0 BU or its expiry
 * (it was removed after the last retransmission). */
Test(bu, detach_retransmits_then_keeps_the_binding)
{
	struct cp_msg_out bri, again[4];
	struct ha_binding_spec gone;
	struct in6_addr hoa = a6(HOA);

	register_ue();
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 10000, &bri), 0);
	cr_assert_eq(cp_detach_tick(&ctx, 10999, again, 4), 0);
	cr_assert_eq(cp_detach_tick(&ctx, 11000, again, 4), 1);
	cr_assert_eq(again[0].msg.br.seq, bri.msg.br.seq, "the same BRI again");
	cr_assert_eq(cp_detach_tick(&ctx, 11500, again, 4), 0);
	cr_assert_eq(cp_detach_tick(&ctx, 12000, again, 4), 0, "no third BRI");
	cr_assert_eq(ctx.cache.count, 1, "kept without a BRA");
	cr_assert_eq(ctx.ctr[CP_C_BRI_UNANSWERED], 1);
	cr_assert_eq(cp_detach_tick(&ctx, 60000, again, 4), 0, "its timer is over");
	cr_assert_eq(ctx.ctr[CP_C_BRI_UNANSWERED], 1);
	/* a late BRA still completes the detach */
	struct mh_msg bra = { .type = MH_TYPE_BR };
	bra.br = (struct mh_br){ .br_type = MH_BR_BRA, .seq = bri.msg.br.seq };
	cr_assert_eq(cp_bra_process(&ctx, &bra, &hoa, true, 0x5001, &gone), 1);
	cr_assert_eq(ctx.cache.count, 0);
}

/* The same UE never answering: its binding's lifetime ends it (register_ue: 1800 s at 1000). */
Test(bu, unanswered_revocation_ends_with_the_lifetime)
{
	struct cp_msg_out bri, again[4];
	struct ha_binding_spec del[4];
	struct in6_addr hoa = a6(HOA);

	register_ue();
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 10000, &bri), 0);
	cp_detach_tick(&ctx, 11000, again, 4);
	cp_detach_tick(&ctx, 12000, again, 4);
	cr_assert_eq(cp_expire(&ctx, 2799, del, 4), 0);
	cr_assert_eq(ctx.cache.count, 1);
	cr_assert_eq(cp_expire(&ctx, 2800, del, 4), 1);
	cr_assert_eq(ctx.cache.count, 0);
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 0);
}

/* 004 5.4.3.1: a lifetime-0 BU crossing the BRI counts as the BRA and is acknowledged. */
Test(bu, deregistration_crossing_the_bri)
{
	struct cp_msg_out bri, again[4];
	struct in6_addr hoa = a6(HOA);

	register_ue();
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 10000, &bri), 0);
	struct mh_msg m = bu_msg(2, 0);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	struct cp_bu_out out;
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.send_ba);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(out.action, CP_ACT_DELETE);
	cr_assert_eq(ctx.ctr[CP_C_BU_CROSSED_BRI], 1);
	cr_assert(out.ended_revocation, "hacpd then waits for the UE's IKE DELETE");
	cr_assert_eq(cp_detach_tick(&ctx, 20000, again, 4), 0, "no timer left");
}

/* 002 5.4.3: with a reallocation indication, the BU is answered, then a Home Agent Switch
 * with the target HA and no Binding Refresh Advice; the de-registration is acknowledged. */
Test(bu, home_agent_reallocation)
{
	struct in6_addr hoa = a6(HOA), target = a6("2001:db8:2::1");
	struct cp_bu_out out;

	cr_assert_eq(cp_reallocate(&ctx, &hoa, &target), 0);
	struct mh_msg m = bu_msg(1, 450);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert(out.send_ba);
	cr_assert(out.send_has);
	cr_assert_eq(out.has.type, MH_TYPE_HAS);
	cr_assert_eq(out.has.has.n_addrs, 1);
	cr_assert_arr_eq(&out.has.has.addrs[0], &target, 16);
	cr_assert_eq(out.has.opts.present, 0, "no Binding Refresh Advice in the HA Switch");
	cr_assert_eq(ctx.ctr[CP_C_HAS_SENT], 0, "counted when it has left");
	cp_realloc_sent(&ctx, &hoa); /* hacpd sent it */
	cr_assert_eq(ctx.ctr[CP_C_HAS_SENT], 1);
	m = bu_msg(2, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_not(out.send_has, "the indication was used");
	cr_assert_eq(ctx.cache.count, 0);
}

/* A restarted hacpd adopts the slots of the run before: bindings, sequence numbers, lifetimes
 * and IPv4 home addresses continue (issue 4, resilience). */
Test(bu, restart_adopts_the_binding_cache)
{
	static struct cp_binding slots[1024];
	struct cp_bu_out out;
	struct in6_addr hoa = a6(HOA);

	cp_ctx_free(&ctx);
	memset(slots, 0, sizeof(slots));
	cfg.dataplane.max_bindings = 1024;
	cr_assert_eq(cp_ctx_init_store(&ctx, &cfg, slots, false), 0);
	register_ue();
	struct cp_binding *b = cp_bcache_find(&ctx.cache, &hoa, 64);
	cr_assert_not_null(b);
	uint64_t expires = b->expires;
	cp_ctx_free(&ctx); /* the process dies; its slots stay */
	cr_assert_eq(cp_ctx_init_store(&ctx, &cfg, slots, true), 0);
	cr_assert_eq(ctx.cache.count, 1);
	b = cp_bcache_find(&ctx.cache, &hoa, 64);
	cr_assert_not_null(b);
	cr_assert_eq(b->seq, 1);
	cr_assert_eq(b->expires, expires);
	cr_assert_not_null(cp_bcache_find4(&ctx.cache, a4("10.45.0.1")));
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 1, "the IPv4 home address stays taken");
	/* the sequence number continues: 1 again is stale, 2 is accepted */
	struct mh_msg m = bu_msg(1, 450);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_SEQ_OUT_OF_WINDOW);
	m.bu.seq = 2;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(ctx.cache.count, 1);
}

/* 002 5.4.3 before the UE's first BU: the indication names the home prefix IKEv2 gave (the home
 * address is the UE's choice, known from its BU); a BU from any address in it finds it. */
Test(bu, home_agent_reallocation_by_prefix_before_the_first_bu)
{
	struct in6_addr hoa = a6(HOA), target = a6("2001:db8:2::1");
	struct cp_bu_out out;

	cr_assert_eq(cp_reallocate_prefix(&ctx, &hoa, 64, &target), 0);
	cr_assert_eq(cp_reallocate_prefix(&ctx, &hoa, 64, &target), 0, "said twice: one indication");
	cr_assert_eq(HASH_COUNT(ctx.realloc), 1);
	struct mh_msg m = bu_msg(1, 450);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert(out.send_has, "the HA Switch follows the BA");
	cr_assert_arr_eq(&out.has.has.addrs[0], &target, 16);
	cp_realloc_sent(&ctx, &hoa);
	m = bu_msg(2, 450);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_not(out.send_has, "the indication was used");
	cr_assert_eq(HASH_COUNT(ctx.realloc), 0);
}

/* hacpd's loop asks for BRI timers at every turn; the binding cache (millions of entries) is
 * walked only when the earliest revocation timer is due (it was walked at every turn: 31 % of
 * hacpd's CPU in a 5,000-UE BU storm). */
Test(bu, bri_timers_walk_the_cache_only_when_due)
{
	struct cp_msg_out again[4];
	struct cp_bu_out out;
	struct mh_msg m = bu_msg(1, 450);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(cp_detach_tick(&ctx, 1000, again, 4), 0);
	cr_assert_eq(ctx.bri_due_ms, UINT64_MAX, "nothing revoking: no walk until a detach");
	struct in6_addr hoa = a6(HOA);
	struct cp_msg_out bri;
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 2000, &bri), 0);
	uint64_t due = 2000 + cfg.home_agent.bri_min_delay_ms;
	cr_assert_eq(ctx.bri_due_ms, due);
	cr_assert_eq(cp_detach_tick(&ctx, due - 1, again, 4), 0, "not yet");
	cr_assert_eq(cp_detach_tick(&ctx, due, again, 4), 1, "due: the retransmission happens");
	cr_assert_geq(ctx.bri_due_ms, due);
}

/* The expiry wheel (cp_bcache.h): each second looks at its own bucket, lifetimes longer than
 * the wheel wait their lap, an expiry already past is found at the next look, a refresh moves
 * the binding, and a restarted hacpd's adopted bindings expire on time. */
static struct cp_binding *wheel_add(struct cp_bcache *c, unsigned i, uint64_t expires)
{
	struct cp_binding *b = cp_bcache_alloc(c);
	struct in6_addr a = a6("2001:db8:100::");
	a.s6_addr[7] = (uint8_t)i;
	cp_bkey_make(&b->key, &a, 64);
	cp_bcache_insert(c, b);
	cp_bcache_set_expiry(c, b, expires);
	return b;
}

Test(bu, expiry_wheel)
{
	static struct cp_binding slots[8];
	struct cp_bcache c;
	struct cp_binding *due[8];
	cr_assert_eq(cp_bcache_init(&c, slots, 8, false), 0);
	cr_assert_eq(cp_bcache_expired(&c, 100, due, 8), 0, "the first look: every bucket, none due");
	struct cp_binding *b105 = wheel_add(&c, 1, 105);
	wheel_add(&c, 2, 105 + CP_WHEEL_SIZE);   /* the same bucket, a lap later */
	wheel_add(&c, 3, 50);                    /* already past */
	struct cp_binding *b200 = wheel_add(&c, 4, 200);
	cr_assert_eq(cp_bcache_expired(&c, 101, due, 8), 1, "the past one at the next look");
	cr_assert_eq(due[0]->expires, 50);
	cp_bcache_remove(&c, due[0]);
	cr_assert_eq(cp_bcache_expired(&c, 104, due, 8), 0);
	cr_assert_eq(cp_bcache_expired(&c, 105, due, 8), 1, "its second, not the next lap's");
	cr_assert_eq(due[0], b105);
	cp_bcache_remove(&c, b105);
	cp_bcache_set_expiry(&c, b200, 300);     /* a refresh */
	cr_assert_eq(cp_bcache_expired(&c, 299, due, 8), 0, "moved by the refresh");
	cr_assert_eq(c.count, 2);

	/* hacpd restarts: the slots stay, the wheel is built again */
	cp_bcache_free(&c);
	struct cp_bcache again;
	cr_assert_eq(cp_bcache_init(&again, slots, 8, true), 0);
	cr_assert_eq(again.count, 2);
	cr_assert_eq(cp_bcache_expired(&again, 300, due, 8), 1);
	cr_assert_eq(due[0]->expires, 300);
	cr_assert_eq(cp_bcache_expired(&again, 104 + CP_WHEEL_SIZE, due, 8), 0);
	cr_assert_eq(cp_bcache_expired(&again, 105 + CP_WHEEL_SIZE, due, 8), 1, "the long one, a lap on");
	cp_bcache_free(&again);
}

/* ---- the edges (issue: conformance at the edges) ------------------------------------------- */

/* RFC 6275 9.5.1: "If the Lifetime ... is zero or the Care-of Address is equal to the home
 * address, the receiving node MUST delete the binding": a BU from the home link (001 5.2.3.3:
 * source = home address, no HAO) with a non-zero lifetime de-registers; it used to create a
 * binding that tunnelled the prefix to the home address itself. The BA goes to the home address
 * without a routing header, out of the port the BU came in on (the core side, at home). */
Test(bu, care_of_address_equal_to_home_address_deregisters)
{
	struct in6_addr hoa = a6(HOA);
	struct cp_bu_out out;
	register_ue();
	struct mh_msg m = bu_msg(2, 450);
	struct cp_bu_in in = { .bu = &m, .src6 = hoa, .hoa = hoa, .esp = true, .sa_spi = 0x5001,
			       .port = 1, .now = 1001 };
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.send_ba);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(out.ba.ba.lifetime, 0);
	cr_assert_eq(out.action, CP_ACT_DELETE);
	cr_assert_eq(ctx.cache.count, 0);
	cr_assert_eq(ctx.ctr[CP_C_BU_DEREG], 1);
	cr_assert_arr_eq(&out.dst6, &hoa, 16);
	cr_assert_not(out.rh2);
	cr_assert_not(out.udp);
	cr_assert_eq(out.spi_out, 0x6001);
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 0);
	/* the same with the Alternate Care-of Address option naming the home address */
	struct mh_msg r = bu_msg(3, 450);
	struct cp_bu_in rin = from6(&r, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &rin, &out);
	cr_assert_eq(ctx.cache.count, 1);
	m = bu_msg(4, 450);
	m.opts.alt_coa = hoa;
	MH_SET_OPT(&m.opts, MH_OPT_ALTCOA);
	in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(out.action, CP_ACT_DELETE);
	cr_assert_eq(ctx.cache.count, 0);
	/* from home without a binding: 133 (RFC 6275 10.3.2) */
	m = bu_msg(5, 450);
	in = (struct cp_bu_in){ .bu = &m, .src6 = hoa, .hoa = hoa, .esp = true, .sa_spi = 0x5001 };
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_NOT_HOME_AGENT);
	cr_assert_eq(out.action, CP_ACT_NONE);
}

/* 000 (the UE sets K in the de-registration BU too) and RFC 6275 10.3.2 / 11.7.1: with K, the
 * HA moves the IKE SA to the home address so the UE keeps its IKE session at home, and says so
 * with K in the BA (it used to echo K without moving anything). */
Test(bu, deregistration_with_k_moves_the_ike_sa_home)
{
	struct in6_addr hoa = a6(HOA);
	struct cp_bu_out out;
	ike_sigsa();
	struct mh_msg m = bu_msg(1, 450);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x7001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.moved);
	/* from a foreign link, lifetime 0 */
	m = bu_msg(2, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.action, CP_ACT_DELETE);
	cr_assert(out.ba.ba.flags & MH_BA_K);
	cr_assert(out.moved);
	cr_assert_eq(out.coa.family, AF_INET6);
	cr_assert_arr_eq(&out.coa.v6, &hoa, 16);
	cr_assert_eq(out.coa_port, 0);
	/* from home (001 5.2.3.3) */
	m = bu_msg(3, 450);
	cp_bu_process(&ctx, &in, &out);
	m = bu_msg(4, 0);
	in = (struct cp_bu_in){ .bu = &m, .src6 = hoa, .hoa = hoa, .esp = true, .sa_spi = 0x7001,
				.port = 1 };
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.action, CP_ACT_DELETE);
	cr_assert(out.moved);
	cr_assert_arr_eq(&out.coa.v6, &hoa, 16);
	/* without K: nothing moves */
	m = bu_msg(5, 450);
	in = from6(&m, HOA, COA, 0x7001);
	cp_bu_process(&ctx, &in, &out);
	m = bu_msg(6, 0);
	m.bu.flags &= (uint16_t)~MH_BU_K;
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.action, CP_ACT_DELETE);
	cr_assert_not(out.moved);
	cr_assert_not(out.ba.ba.flags & MH_BA_K);
}

/* RFC 6275 10.3.1: K in the BA only when the IKE SA can follow the care-of address. Under a
 * static SA there is no key management: K is not echoed and nothing is to move (it was echoed). */
Test(bu, k_only_with_key_management)
{
	struct cp_bu_out out;
	struct mh_msg m = bu_msg(1, 450);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_not(out.ba.ba.flags & MH_BA_K);
	cr_assert_not(out.moved);
	m = bu_msg(2, 450);
	in = from6(&m, HOA, "2001:db8:bbbb::7", 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_not(out.ba.ba.flags & MH_BA_K, "a move under a static SA: still no K");
	cr_assert_not(out.moved);
	/* lab mode, a BU in the clear: no key management either */
	load(true);
	m = bu_msg(1, 450);
	in = from6(&m, HOA, COA, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_not(out.ba.ba.flags & MH_BA_K);
	cr_assert_not(out.moved);
}

static uint32_t test_prefix_life;
static bool prefix_life_for(void *arg, const uint8_t prefix[16], uint32_t *secs)
{
	(void)arg;
	struct in6_addr p = a6("2001:db8:100:1::");
	if (memcmp(prefix, &p, 16))
		return false;
	*secs = test_prefix_life;
	return true;
}

/* RFC 6275 10.3.1: the HA may shorten the lifetime, never lengthen it (it used to raise a short
 * one to binding_lifetime.min); and no binding of a prefix outlives the prefix lifetime IKEv2
 * gave with it in MIP6_HOME_PREFIX (RFC 5026 4.2.1; it was not bounded by it). */
Test(bu, lifetime_never_lengthened_and_bounded_by_the_prefix_lifetime)
{
	struct cp_bu_out out;
	struct mh_msg m = bu_msg(1, 2); /* 8 s */
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.lifetime, 2);
	cr_assert_eq(cp_bcache_find(&ctx.cache, &in.hoa, 64)->lifetime, 8);
	cr_assert_not(MH_HAS_OPT(&out.ba.opts, MH_OPT_BRA), "no refresh advice under 4 s units");
	ctx.ike_prefix_lifetime_for = prefix_life_for;
	test_prefix_life = 1002; /* not a multiple of 4: 1000 */
	m = bu_msg(2, 900);      /* 3600 s asked, the policy's maximum */
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.lifetime, 250, "bounded by the prefix lifetime, in 4 s units");
	cr_assert(MH_HAS_OPT(&out.ba.opts, MH_OPT_BRA));
	cr_assert_lt(out.ba.opts.refresh_advice, 250);
	m = bu_msg(3, 100);      /* 400 s asked: below both */
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.lifetime, 100);
	test_prefix_life = 3;    /* nothing left to grant */
	m = bu_msg(4, 100);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_UNSPECIFIED);
	/* another PDN's prefix is not the session's */
	load(true);
	ctx.ike_prefix_lifetime_for = prefix_life_for;
	test_prefix_life = 8;
	m = bu_msg(1, 900);
	in = from6(&m, "2001:db8:200:1::55", COA, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.lifetime, 900);
}

/* 002 5.4.3: the reallocation indication stays until a Home Agent Switch has left. A BU without
 * A gets no BA, so no Switch; and when hadp refuses the binding hacpd drops the Switch: neither
 * may use the indication up (both did). */
Test(bu, reallocation_kept_until_the_switch_is_sent)
{
	struct in6_addr hoa = a6(HOA), target = a6("2001:db8:2::1");
	struct cp_bu_out out;
	cr_assert_eq(cp_reallocate(&ctx, &hoa, &target), 0);
	struct mh_msg m = bu_msg(1, 450);
	m.bu.flags &= (uint16_t)~MH_BU_A;
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_not(out.send_ba);
	cr_assert_not(out.send_has, "no BA, no Switch");
	cr_assert_eq(HASH_COUNT(ctx.realloc), 1, "kept");
	m = bu_msg(2, 450);
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.send_has);
	cr_assert_arr_eq(&out.hoa, &hoa, 16);
	/* hadp refused the binding: hacpd sends the BA with 130 and no Switch */
	cr_assert_eq(HASH_COUNT(ctx.realloc), 1, "kept until it has left");
	m = bu_msg(3, 450);
	cp_bu_process(&ctx, &in, &out);
	cr_assert(out.send_has, "the next BA brings it");
	cp_realloc_sent(&ctx, &out.hoa);
	cr_assert_eq(HASH_COUNT(ctx.realloc), 0);
	cr_assert_eq(ctx.ctr[CP_C_HAS_SENT], 1);
}

/* 004 5.4.3.1 ("tunnelled in UDP ... as for Binding Update messages") and RFC 5555 4.1: a BRI to
 * a UE with an IPv4 care-of address and no NAT goes to the UDP port its BUs come from (it went
 * to 4191); behind a NAT to the mapping. */
Test(bu, bri_to_an_ipv4_care_of_address_goes_to_the_bus_port)
{
	struct cp_bu_out out;
	struct cp_msg_out bri;
	struct in6_addr hoa = a6(HOA);
	struct mh_msg m = bu_msg(1, 450);
	m.opts.ipv4_coa = a4("198.51.100.7");
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_COA);
	struct cp_bu_in in = { .bu = &m, .src6 = hoa, .hoa = hoa, .via_udp = true,
			       .outer_src4 = a4("198.51.100.7"), .outer_sport = 50123, .esp = true,
			       .sa_spi = 0x5001, .now = 10 };
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_not(out.spec.flags & HA_BIND_F_UDP, "no NAT: IP in IPv4 for data");
	cr_assert_eq(out.udp_port, 50123);
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 10000, &bri), 0);
	cr_assert(bri.udp);
	cr_assert_eq(bri.udp_dst.s_addr, a4("198.51.100.7").s_addr);
	cr_assert_eq(bri.udp_port, 50123, "the port of the UE's BUs, not 4191");
}

/* RFC 5555 3.2.1: 129 (administratively prohibited) for a PDN the operator gave no IPv4 service
 * (it said 132, "dynamic assignment not available", as for a pool run dry); 133 (prefix
 * allocation unauthorized) for a mobile network prefix (P set): the HA serves UEs, not mobile
 * routers (it assigned a /32 as if P were clear). */
Test(bu, ipv4_home_address_prohibited_and_prefix_refused)
{
	load(true);
	struct cp_bu_out out;
	struct mh_msg m = bu_msg(1, 100);
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32 };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	struct cp_bu_in in = from6(&m, "2001:db8:200:1::55", COA, 0); /* ims: no IPv4 pool */
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 129);
	cr_assert_eq(out.ba.opts.ipv4_ack.prefix_len, 0);
	m = bu_msg(1, 100);
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 24, .p = true };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	in = from6(&m, HOA, COA, 0);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(out.ba.opts.ipv4_ack.status, 133);
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 0, "nothing taken from the pool");
}

/* ---- what the operator is told (cp_events.c) and the per-PDN counters ------------------- */

static enum cp_bev told[16];
static unsigned n_told;

static void record(void *arg, enum cp_bev e, const struct cp_binding *b)
{
	(void)arg;
	cr_assert(b->in_use, "told before the binding goes");
	if (n_told < 16)
		told[n_told++] = e;
}

/* A UE's life in one PDN: each BU's outcome names what it did; what the HA does on its own
 * (detach, expiry) is told through binding_event; each lands in its PDN's counters. */
Test(bu, events_and_per_pdn_counters)
{
	struct cp_bu_out out;
	struct mh_msg m = bu_msg(1, 25);
	struct cp_bu_in in = from6(&m, HOA, COA, 0x5001);
	struct in6_addr hoa = a6(HOA);
	n_told = 0;
	ctx.binding_event = record;

	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.event, CP_BEV_REGISTERED);
	cr_assert_eq(out.pdn, 0);
	m = bu_msg(2, 25);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.event, CP_BEV_REFRESHED);
	m = bu_msg(3, 25);
	in = from6(&m, HOA, "2001:db8:bbbb::3", 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.event, CP_BEV_MOVED, "a new care-of address (002 5.2.3.2)");
	struct in6_addr old = a6(COA);
	cr_assert_arr_eq(&out.prev_coa.v6, &old, 16, "the care-of address it had");
	m = bu_msg(3, 25); /* the same sequence number: 135, rejected in its PDN */
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.ba.ba.status, MH_BA_SEQ_OUT_OF_WINDOW);
	cr_assert_eq(out.event, CP_BEV_NONE);
	cr_assert_eq(ctx.pdn_bindings[0], 1);

	struct cp_msg_out bri, again[4];
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 10000, &bri), 0);
	cp_detach_tick(&ctx, 11000, again, 4);
	cp_detach_tick(&ctx, 12000, again, 4);
	struct ha_binding_spec del[4];
	cr_assert_eq(cp_expire(&ctx, 1100, del, 4), 1);
	cr_assert_eq(n_told, 3);
	cr_assert_eq(told[0], CP_BEV_REVOKING);
	cr_assert_eq(told[1], CP_BEV_UNANSWERED);
	cr_assert_eq(told[2], CP_BEV_EXPIRED);
	cr_assert_str_eq(cp_bev_name(told[2]), "expired");
	cr_assert_str_eq(cp_bev_reason(told[1]), "bri-unanswered");

	/* registered again, then de-registered from home (care-of = home address) */
	m = bu_msg(4, 25);
	in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.event, CP_BEV_REGISTERED);
	m = bu_msg(5, 25);
	in = (struct cp_bu_in){ .bu = &m, .src6 = hoa, .hoa = hoa, .esp = true, .sa_spi = 0x5001,
				.now = 1000 };
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(out.event, CP_BEV_DEREG_HOME);
	/* and again, ended by the BRA of a detach */
	m = bu_msg(6, 25);
	in = from6(&m, HOA, COA, 0x5001);
	cp_bu_process(&ctx, &in, &out);
	cr_assert_eq(cp_detach_start(&ctx, &hoa, 20000, &bri), 0);
	struct mh_msg bra = { .type = MH_TYPE_BR };
	bra.br = (struct mh_br){ .br_type = MH_BR_BRA, .seq = bri.msg.br.seq };
	struct ha_binding_spec gone;
	cr_assert_eq(cp_bra_process(&ctx, &bra, &hoa, true, 0x5001, &gone), 1);
	cr_assert_eq(told[n_told - 1], CP_BEV_REVOKED);

	const uint64_t *p = ctx.pdn_ctr[0];
	cr_assert_eq(p[CP_PC_BU_ACCEPTED], 5);
	cr_assert_eq(p[CP_PC_BU_REJECTED], 1);
	cr_assert_eq(p[CP_PC_REGISTERED], 3);
	cr_assert_eq(p[CP_PC_MOVED], 1);
	cr_assert_eq(p[CP_PC_DEREG], 1);
	cr_assert_eq(p[CP_PC_EXPIRED], 1);
	cr_assert_eq(p[CP_PC_REVOKED], 1);
	cr_assert_eq(ctx.pdn_bindings[0], 0);
	cr_assert_eq(ctx.pdn_ctr[1][CP_PC_BU_ACCEPTED], 0, "the other PDN saw nothing");
	ctx.binding_event = NULL;
}
