/*
 * Mobility Header codec: every message and option in both directions, the protocol.md
 * section 12 vectors (checked there against tshark and scapy), every parser error and the
 * action the Home Agent takes for it.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mh_codec.h"

static struct in6_addr a6(const char *s)
{
	struct in6_addr a;
	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1, "bad test address %s", s);
	return a;
}

static struct in_addr a4(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad test address %s", s);
	return a;
}

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned v;
	while (*h) {
		if (*h == ' ') {
			h++;
			continue;
		}
		cr_assert(sscanf(h, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* protocol.md section 12: HA 2001:db8:1::1, home address 2001:db8:1::200, and the BE goes to
 * the care-of address 2001:db8:ff::100 (the checksum is symmetric in source and destination). */
static struct mh_pseudo ph_hoa(void)
{
	return (struct mh_pseudo){ a6("2001:db8:1::200"), a6("2001:db8:1::1") };
}

struct vector {
	const char *name, *hex;
	bool be_to_coa;
};

static const struct vector vectors[] = {
	{ "BU1", "3b 04 05 00 39 83 00 01 d4 00 03 84 01 00 03 10 20 01 0d b8 00 ff 00 00 00 00 00 00 00 00 01 00 1d 06 00 00 00 00 00 00", false },
	{ "BA2", "3b 02 06 00 2f 49 00 c0 00 01 03 84 1e 06 00 60 0a 00 00 05 02 02 02 ee", false },
	{ "BU3", "3b 03 05 00 b6 41 00 02 d4 00 03 84 1d 06 80 00 0a 00 00 05 20 06 00 00 0a 01 02 03 01 02 00 00", false },
	{ "BA4", "3b 03 06 00 93 98 00 c0 00 02 03 84 1e 06 00 80 0a 00 00 05 1f 06 80 00 00 00 00 6e 01 02 00 00", false },
	{ "BRI5", "3b 01 10 00 54 e8 01 01 00 07 00 00 01 02 00 00", false },
	{ "BRA6", "3b 01 10 00 53 e9 02 00 00 07 00 00 01 02 00 00", false },
	{ "HAS7", "3b 02 0c 00 2c 2d 01 00 20 01 0d b8 00 02 00 00 00 00 00 00 00 00 00 01", false },
	{ "BE8", "3b 02 07 00 2e 31 02 00 20 01 0d b8 00 01 00 00 00 00 00 00 00 00 02 00", true },
};

static struct mh_pseudo vector_ph(const struct vector *v)
{
	if (v->be_to_coa)
		return (struct mh_pseudo){ a6("2001:db8:1::1"), a6("2001:db8:ff::100") };
	return ph_hoa();
}

static void parse_vec(const char *name, struct mh_msg *m, uint8_t *buf, size_t *len)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		if (strcmp(vectors[i].name, name))
			continue;
		struct mh_pseudo ph = vector_ph(&vectors[i]);
		*len = unhex(vectors[i].hex, buf);
		cr_assert_eq(mh_parse(buf, *len, &ph, m), HA_OK, "%s does not parse", name);
		return;
	}
	cr_assert_fail("no vector %s", name);
}

Test(vectors, every_vector_parses_and_reencodes_byte_exact)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint8_t in[256], out[256];
		struct mh_msg m;
		struct mh_pseudo ph = vector_ph(&vectors[i]);
		size_t n = unhex(vectors[i].hex, in);

		cr_assert_eq(mh_parse(in, n, &ph, &m), HA_OK, "%s", vectors[i].name);
		cr_assert_eq(m.len, n);
		int len = mh_build(&m, &ph, out, sizeof(out));
		cr_assert_eq(len, (int)n, "%s: built %d octets, want %zu", vectors[i].name, len, n);
		cr_assert_arr_eq(out, in, n, "%s re-encodes differently", vectors[i].name);
	}
}

/* RFC 6275 6.1.7, RFC 5555 3.1.1: BU from a foreign IPv6 link with AltCoA and an IPv4 HoA
 * request for dynamic assignment. */
Test(vectors, bu1_fields)
{
	uint8_t b[256];
	size_t n;
	struct mh_msg m;
	struct in6_addr coa = a6("2001:db8:ff::100");

	parse_vec("BU1", &m, b, &n);
	cr_assert_eq(m.type, MH_TYPE_BU);
	cr_assert_eq(m.bu.seq, 1);
	cr_assert_eq(m.bu.flags, MH_BU_A | MH_BU_H | MH_BU_K | MH_BU_R);
	cr_assert_eq(m.bu.lifetime, 900);
	cr_assert(MH_HAS_OPT(&m.opts, MH_OPT_ALTCOA));
	cr_assert_arr_eq(&m.opts.alt_coa, &coa, 16);
	cr_assert(MH_HAS_OPT(&m.opts, MH_OPT_IPV4_HOA));
	cr_assert_eq(m.opts.ipv4_hoa.addr.s_addr, 0);
	cr_assert_eq(m.opts.n_order, 2);
}

/* RFC 5555 3.2.1, RFC 6275 6.2.4: BA with IPv4 Address Acknowledgement and Refresh Advice. */
Test(vectors, ba2_fields)
{
	uint8_t b[256];
	size_t n;
	struct mh_msg m;

	parse_vec("BA2", &m, b, &n);
	cr_assert_eq(m.type, MH_TYPE_BA);
	cr_assert_eq(m.ba.status, MH_BA_ACCEPTED);
	cr_assert_eq(m.ba.flags, MH_BA_K | MH_BA_R);
	cr_assert_eq(m.ba.seq, 1);
	cr_assert_eq(m.ba.lifetime, 900);
	cr_assert_eq(m.opts.ipv4_ack.status, 0);
	cr_assert_eq(m.opts.ipv4_ack.prefix_len, 24);
	cr_assert_eq(m.opts.ipv4_ack.addr.s_addr, a4("10.0.0.5").s_addr);
	cr_assert_eq(m.opts.refresh_advice, 750);
}

/* RFC 5555 4.1: BU in UDP with IPv4 HoA (prefix 32) and IPv4 CoA; BA with NAT detection. */
Test(vectors, bu3_ba4_fields)
{
	uint8_t b[256];
	size_t n;
	struct mh_msg m;

	parse_vec("BU3", &m, b, &n);
	cr_assert_eq(m.opts.ipv4_hoa.prefix_len, 32);
	cr_assert_not(m.opts.ipv4_hoa.p);
	cr_assert_eq(m.opts.ipv4_hoa.addr.s_addr, a4("10.0.0.5").s_addr);
	cr_assert_eq(m.opts.ipv4_coa.s_addr, a4("10.1.2.3").s_addr);
	parse_vec("BA4", &m, b, &n);
	cr_assert(m.opts.natd.f);
	cr_assert_eq(m.opts.natd.refresh, 110);
	cr_assert_eq(m.opts.ipv4_ack.prefix_len, 32);
}

/* RFC 5846 6.1/6.2 (layout), TS 24.303 5.4.3.1: BRI trigger 1, BRA status 0, sequence 7. */
Test(vectors, bri5_bra6_fields)
{
	uint8_t b[256];
	size_t n;
	struct mh_msg m;

	parse_vec("BRI5", &m, b, &n);
	cr_assert_eq(m.br.br_type, MH_BR_BRI);
	cr_assert_eq(m.br.trigger_status, 1);
	cr_assert_eq(m.br.seq, 7);
	cr_assert_eq(m.br.flags, 0);
	parse_vec("BRA6", &m, b, &n);
	cr_assert_eq(m.br.br_type, MH_BR_BRA);
	cr_assert_eq(m.br.trigger_status, 0);
	cr_assert_eq(m.br.seq, 7);
}

/* RFC 5142 3: one Home Agent address; RFC 6275 6.1.9: BE status 2 with the home address. */
Test(vectors, has7_be8_fields)
{
	uint8_t b[256];
	size_t n;
	struct mh_msg m;
	struct in6_addr ha = a6("2001:db8:2::1"), hoa = a6("2001:db8:1::200");

	parse_vec("HAS7", &m, b, &n);
	cr_assert_eq(m.has.n_addrs, 1);
	cr_assert_arr_eq(&m.has.addrs[0], &ha, 16);
	parse_vec("BE8", &m, b, &n);
	cr_assert_eq(m.be.status, MH_BE_UNKNOWN_MH_TYPE);
	cr_assert_arr_eq(&m.be.hoa, &hoa, 16);
}

/* ---- build then parse: every message, every option ------------------------------------ */

static void roundtrip(const struct mh_msg *in, struct mh_msg *out)
{
	uint8_t buf[MH_MAX_LEN];
	struct mh_pseudo ph = ph_hoa();
	int n = mh_build(in, &ph, buf, sizeof(buf));

	cr_assert_gt(n, 0, "build failed");
	cr_assert_eq(n % 8, 0, "MH not a multiple of 8 octets");
	cr_assert_eq(buf[1], n / 8 - 1, "Header Len");
	cr_assert_eq(mh_checksum(&ph, buf, (size_t)n), 0, "checksum does not verify");
	cr_assert_eq(mh_parse(buf, (size_t)n, &ph, out), HA_OK);
	cr_assert_eq(out->type, in->type);
}

Test(messages, brr)
{
	struct mh_msg m = { .type = MH_TYPE_BRR }, r;
	roundtrip(&m, &r);
	cr_assert_eq(r.len, 8);
}

Test(messages, bu_all_flags_and_lifetime)
{
	struct mh_msg m = { .type = MH_TYPE_BU }, r;
	m.bu.seq = 0xFFFE;
	m.bu.flags = 0xFFF0;
	m.bu.lifetime = 0xFFFF;
	roundtrip(&m, &r);
	cr_assert_eq(r.bu.seq, 0xFFFE);
	cr_assert_eq(r.bu.flags, 0xFFF0);
	cr_assert_eq(r.bu.lifetime, 0xFFFF);
	cr_assert_eq(r.len, 16);
}

Test(messages, ba_status_flags)
{
	struct mh_msg m = { .type = MH_TYPE_BA }, r;
	m.ba.status = MH_BA_SEQ_OUT_OF_WINDOW;
	m.ba.flags = MH_BA_K | MH_BA_R | MH_BA_D;
	m.ba.seq = 41;
	m.ba.lifetime = 0;
	roundtrip(&m, &r);
	cr_assert_eq(r.ba.status, 135);
	cr_assert_eq(r.ba.flags, MH_BA_K | MH_BA_R | MH_BA_D);
	cr_assert_eq(r.ba.seq, 41);
}

Test(messages, be)
{
	struct mh_msg m = { .type = MH_TYPE_BE }, r;
	m.be.status = MH_BE_UNKNOWN_BINDING_HAO;
	m.be.hoa = a6("2001:db8:1::abcd");
	roundtrip(&m, &r);
	cr_assert_eq(r.be.status, 1);
	cr_assert_arr_eq(&r.be.hoa, &m.be.hoa, 16);
	cr_assert_eq(r.len, 24);
}

Test(messages, return_routability_messages)
{
	static const uint8_t types[] = { MH_TYPE_HOTI, MH_TYPE_COTI, MH_TYPE_HOT, MH_TYPE_COT };
	for (size_t i = 0; i < sizeof(types); i++) {
		struct mh_msg m = { .type = types[i] }, r;
		memcpy(m.rr.cookie, "cookie!!", 8);
		if (types[i] >= MH_TYPE_HOT) {
			m.rr.nonce_index = 0x1234;
			memcpy(m.rr.keygen, "keygen!!", 8);
		}
		roundtrip(&m, &r);
		cr_assert_arr_eq(r.rr.cookie, "cookie!!", 8);
		if (types[i] >= MH_TYPE_HOT) {
			cr_assert_eq(r.rr.nonce_index, 0x1234);
			cr_assert_arr_eq(r.rr.keygen, "keygen!!", 8);
		}
	}
}

Test(messages, has_zero_one_and_many_addresses)
{
	static const unsigned counts[] = { 0, 1, 3, MH_MAX_HAS };
	for (size_t i = 0; i < 4; i++) {
		struct mh_msg m = { .type = MH_TYPE_HAS }, r;
		m.has.n_addrs = (uint8_t)counts[i];
		for (unsigned k = 0; k < counts[i]; k++) {
			m.has.addrs[k] = a6("2001:db8:2::1");
			m.has.addrs[k].s6_addr[15] = (uint8_t)k;
		}
		roundtrip(&m, &r);
		cr_assert_eq(r.has.n_addrs, counts[i]);
		cr_assert_arr_eq(r.has.addrs, m.has.addrs, 16 * counts[i]);
	}
}

Test(messages, bri_and_bra_flags)
{
	struct mh_msg m = { .type = MH_TYPE_BR }, r;
	m.br.br_type = MH_BR_BRI;
	m.br.trigger_status = 128;
	m.br.seq = 9;
	m.br.flags = MH_BR_V;
	m.opts.ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 32, .addr = a4("10.0.0.9") };
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	roundtrip(&m, &r);
	cr_assert_eq(r.br.br_type, MH_BR_BRI);
	cr_assert_eq(r.br.trigger_status, 128);
	cr_assert_eq(r.br.flags, MH_BR_V);
	cr_assert_eq(r.opts.ipv4_hoa.addr.s_addr, m.opts.ipv4_hoa.addr.s_addr);
	m.br.br_type = MH_BR_BRA;
	m.br.flags = MH_BR_P | MH_BR_G;
	roundtrip(&m, &r);
	cr_assert_eq(r.br.br_type, MH_BR_BRA);
	cr_assert_eq(r.br.flags, MH_BR_P | MH_BR_G);
}

/* A BU carrying every option the codec knows, in canonical order with alignment padding. */
Test(options, every_option_roundtrips_aligned)
{
	struct mh_msg m = { .type = MH_TYPE_BU }, r;
	struct mh_opts *o = &m.opts;
	uint8_t buf[MH_MAX_LEN];
	struct mh_pseudo ph = ph_hoa();

	o->refresh_advice = 300;
	o->alt_coa = a6("2001:db8:ff::100");
	o->home_nonce_index = 7;
	o->coa_nonce_index = 8;
	memcpy(o->auth, "0123456789ab", 12);
	o->n_mnp = 2;
	o->mnp[0] = (struct mh_mnp){ 56, a6("2001:db8:500::") };
	o->mnp[1] = (struct mh_mnp){ 64, a6("2001:db8:600::") };
	o->mnid_subtype = 1;
	o->mnid_len = 22;
	memcpy(o->mnid, "0123456789@example.com", 22);
	o->ipv4_hoa = (struct mh_ipv4_hoa){ .prefix_len = 24, .p = true, .addr = a4("10.0.0.0") };
	o->ipv4_ack = (struct mh_ipv4_ack){ .status = 132, .prefix_len = 0 };
	o->natd = (struct mh_natd){ .f = true, .refresh = MH_NATD_NO_KEEPALIVE };
	o->ipv4_coa = a4("198.51.100.7");
	static const uint8_t kinds[] = { MH_OPT_BRA, MH_OPT_ALTCOA, MH_OPT_NONCE, MH_OPT_AUTH,
		MH_OPT_MNP, MH_OPT_MNID, MH_OPT_IPV4_HOA, MH_OPT_IPV4_ACK, MH_OPT_NATD, MH_OPT_IPV4_COA };
	for (size_t i = 0; i < sizeof(kinds); i++)
		MH_SET_OPT(o, kinds[i]);

	int n = mh_build(&m, &ph, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(mh_parse(buf, (size_t)n, &ph, &r), HA_OK);
	cr_assert_eq(r.opts.present, o->present);
	cr_assert_eq(r.opts.refresh_advice, 300);
	cr_assert_arr_eq(&r.opts.alt_coa, &o->alt_coa, 16);
	cr_assert_eq(r.opts.home_nonce_index, 7);
	cr_assert_eq(r.opts.coa_nonce_index, 8);
	cr_assert_arr_eq(r.opts.auth, o->auth, 12);
	cr_assert_eq(r.opts.n_mnp, 2);
	cr_assert_eq(r.opts.mnp[1].prefix_len, 64);
	cr_assert_arr_eq(&r.opts.mnp[1].prefix, &o->mnp[1].prefix, 16);
	cr_assert_eq(r.opts.mnid_len, 22);
	cr_assert_arr_eq(r.opts.mnid, o->mnid, 22);
	cr_assert_eq(r.opts.ipv4_hoa.prefix_len, 24);
	cr_assert(r.opts.ipv4_hoa.p);
	cr_assert_eq(r.opts.ipv4_ack.status, 132);
	cr_assert(r.opts.natd.f);
	cr_assert_eq(r.opts.natd.refresh, MH_NATD_NO_KEEPALIVE);
	cr_assert_eq(r.opts.ipv4_coa.s_addr, o->ipv4_coa.s_addr);
	/* Authorization Data is last (RFC 6275 6.2.7) */
	cr_assert_eq(r.opts.order[r.opts.n_order - 1], MH_OPT_AUTH);
	/* re-encoding what was parsed gives the same octets */
	uint8_t again[MH_MAX_LEN];
	cr_assert_eq(mh_build(&r, &ph, again, sizeof(again)), n);
	cr_assert_arr_eq(again, buf, (size_t)n);
}

/* Alignment xn+y (RFC 6275 6.2, RFC 5555 3.1): each option alone after the 12-octet BU body. */
Test(options, each_option_alone_is_aligned)
{
	static const struct { uint8_t type, n, off; } al[] = {
		{ MH_OPT_BRA, 2, 0 }, { MH_OPT_ALTCOA, 8, 6 }, { MH_OPT_NONCE, 2, 0 },
		{ MH_OPT_AUTH, 8, 2 }, { MH_OPT_MNP, 8, 4 }, { MH_OPT_IPV4_HOA, 4, 0 },
		{ MH_OPT_IPV4_ACK, 4, 0 }, { MH_OPT_NATD, 4, 0 }, { MH_OPT_IPV4_COA, 4, 0 },
	};
	for (size_t i = 0; i < sizeof(al) / sizeof(al[0]); i++) {
		struct mh_msg m = { .type = MH_TYPE_BU }, r;
		uint8_t buf[256];
		MH_SET_OPT(&m.opts, al[i].type);
		if (al[i].type == MH_OPT_MNP)
			m.opts.n_mnp = 1;
		int n = mh_build(&m, NULL, buf, sizeof(buf));
		cr_assert_gt(n, 0);
		size_t off = 12;
		while (buf[off] == MH_OPT_PAD1 || buf[off] == MH_OPT_PADN)
			off += buf[off] == MH_OPT_PAD1 ? 1 : 2u + buf[off + 1];
		cr_assert_eq(buf[off], al[i].type);
		cr_assert_eq(off % al[i].n, al[i].off, "option %u at offset %zu", al[i].type, off);
		cr_assert_eq(mh_parse(buf, (size_t)n, NULL, &r), HA_OK);
	}
}

Test(options, unknown_options_are_skipped_by_length)
{
	/* BU, then unknown option 200 (len 3), unknown 201 (len 0), PadN; MH = 24 octets */
	uint8_t b[24] = { 59, 2, MH_TYPE_BU, 0, 0, 0, 0, 1, 0x80, 0, 0, 1,
			  200, 3, 1, 2, 3, 201, 0, MH_OPT_PADN, 3, 0, 0, 0 };
	struct mh_msg m;
	cr_assert_eq(mh_parse(b, sizeof(b), NULL, &m), HA_OK);
	cr_assert_eq(m.opts.n_unknown, 2);
	cr_assert_eq(m.opts.unknown_type[0], 200);
	cr_assert_eq(m.opts.unknown_type[1], 201);
	cr_assert_eq(m.opts.present, 0);
}

/* ---- parser errors and the Home Agent's action (RFC 6275 9.2) ------------------------- */

static enum ha_err parse_hex(const char *hex, struct mh_msg *m, bool with_ph)
{
	uint8_t b[512];
	size_t n = unhex(hex, b);
	struct mh_pseudo ph = ph_hoa();
	return mh_parse(b, n, with_ph ? &ph : NULL, m);
}

Test(errors, truncated)
{
	struct mh_msg m;
	cr_assert_eq(parse_hex("3b 01 05 00 00 00", &m, false), MH_ERR_TRUNCATED);
	/* Header Len says 16 octets, 8 present */
	cr_assert_eq(parse_hex("3b 01 05 00 00 00 00 01", &m, false), MH_ERR_TRUNCATED);
	cr_assert_eq(m.err_offset, 1);
	cr_assert_eq(ha_err_disposition(MH_ERR_TRUNCATED).action, HA_ACT_DROP);
}

Test(errors, payload_proto_not_59_is_icmp_parameter_problem)
{
	struct mh_msg m;
	cr_assert_eq(parse_hex("06 01 05 00 00 00 00 01 80 00 00 01 01 02 00 00", &m, false),
		     MH_ERR_PAYLOAD_PROTO);
	cr_assert_eq(m.err_offset, 0);
	cr_assert_eq(ha_err_disposition(MH_ERR_PAYLOAD_PROTO).action, HA_ACT_ICMP_PARAM);
}

Test(errors, header_len_below_minimum_is_icmp_parameter_problem)
{
	struct mh_msg m;
	/* BU needs Header Len >= 1 */
	cr_assert_eq(parse_hex("3b 00 05 00 00 00 00 01", &m, false), MH_ERR_HDR_LEN);
	cr_assert_eq(m.err_offset, 1);
	/* BE needs Header Len >= 2 */
	cr_assert_eq(parse_hex("3b 01 07 00 00 00 02 00 00 00 00 00 00 00 00 00", &m, false),
		     MH_ERR_HDR_LEN);
	cr_assert_eq(ha_err_disposition(MH_ERR_HDR_LEN).action, HA_ACT_ICMP_PARAM);
}

Test(errors, bad_checksum_is_dropped_silently)
{
	struct mh_msg m;
	/* BRI5 with one checksum bit flipped */
	cr_assert_eq(parse_hex("3b 01 10 00 54 e9 01 01 00 07 00 00 01 02 00 00", &m, true),
		     MH_ERR_CHECKSUM);
	cr_assert_eq(m.err_offset, 4);
	/* and a flipped payload bit */
	cr_assert_eq(parse_hex("3b 01 10 00 54 e8 01 01 00 06 00 00 01 02 00 00", &m, true),
		     MH_ERR_CHECKSUM);
	cr_assert_eq(ha_err_disposition(MH_ERR_CHECKSUM).action, HA_ACT_DROP);
}

Test(errors, unknown_type_gets_binding_error_status_2)
{
	struct mh_msg m;
	cr_assert_eq(parse_hex("3b 00 63 00 00 00 00 00", &m, false), MH_ERR_UNKNOWN_TYPE);
	cr_assert_eq(m.type, 99);
	struct ha_err_disposition d = ha_err_disposition(MH_ERR_UNKNOWN_TYPE);
	cr_assert_eq(d.action, HA_ACT_BE);
	cr_assert_eq(d.code, MH_BE_UNKNOWN_MH_TYPE);
}

Test(errors, has_address_count_beyond_length)
{
	struct mh_msg m;
	cr_assert_eq(parse_hex("3b 00 0c 00 00 00 02 00", &m, false), MH_ERR_BODY_LENGTH);
	cr_assert_eq(m.err_offset, 6);
}

Test(errors, revocation_type_not_bri_or_bra)
{
	struct mh_msg m;
	cr_assert_eq(parse_hex("3b 01 10 00 00 00 03 01 00 07 00 00 01 02 00 00", &m, false),
		     MH_ERR_BR_TYPE);
}

Test(errors, option_overrun)
{
	struct mh_msg m;
	/* PadN claims 9 octets where 4 remain */
	cr_assert_eq(parse_hex("3b 01 05 00 00 00 00 01 80 00 00 01 01 09 00 00", &m, false),
		     MH_ERR_OPT_OVERRUN);
	cr_assert_eq(m.err_offset, 12);
	/* option type in the last octet, no room for its length */
	cr_assert_eq(parse_hex("3b 01 05 00 00 00 00 01 80 00 00 01 00 00 00 1d", &m, false),
		     MH_ERR_OPT_OVERRUN);
	cr_assert_eq(m.err_offset, 15);
}

Test(errors, option_with_wrong_length)
{
	struct mh_msg m;
	/* IPv4 HoA option with length 5 instead of 6 */
	cr_assert_eq(parse_hex("3b 02 05 00 00 00 00 01 80 00 00 01 1d 05 80 00 0a 00 00 05 01 02 00 00",
			       &m, false), MH_ERR_OPT_LENGTH);
	/* Binding Refresh Advice with length 4 */
	cr_assert_eq(parse_hex("3b 02 06 00 00 00 00 00 00 01 00 10 02 04 00 00 00 00 01 04 00 00 00 00",
			       &m, false), MH_ERR_OPT_LENGTH);
}

Test(errors, duplicate_option)
{
	struct mh_msg m;
	cr_assert_eq(parse_hex("3b 02 06 00 00 00 00 00 00 01 00 10 02 02 00 10 02 02 00 10 01 02 00 00",
			       &m, false), MH_ERR_OPT_DUPLICATE);
	cr_assert_eq(m.err_offset, 16);
}

Test(errors, misaligned_option)
{
	struct mh_msg m;
	/* IPv4 CoA option (4n) at offset 14 */
	cr_assert_eq(parse_hex("3b 02 05 00 00 00 00 01 80 00 00 01 01 00 20 06 00 00 0a 01 02 03 00 00",
			       &m, false), MH_ERR_OPT_ALIGN);
	cr_assert_eq(m.err_offset, 14);
	/* Alternate CoA (8n+6) at offset 12 */
	cr_assert_eq(parse_hex("3b 03 05 00 00 00 00 01 80 00 00 01 03 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 00 00",
			       &m, false), MH_ERR_OPT_ALIGN);
}

Test(errors, option_after_authorization_data)
{
	struct mh_msg m;
	/* BAD at 18 (8n+2), then a Binding Refresh Advice at 32 */
	cr_assert_eq(parse_hex("3b 04 06 00 00 00 00 00 00 01 00 10 01 02 00 00 00 00 "
			       "05 0c 00 00 00 00 00 00 00 00 00 00 00 00 02 02 00 10 01 02 00 00",
			       &m, false), MH_ERR_OPT_NOT_LAST);
	/* padding after it is fine */
	cr_assert_eq(parse_hex("3b 03 06 00 00 00 00 00 00 01 00 10 01 02 00 00 00 00 "
			       "05 0c 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
			       &m, false), HA_OK);
}

Test(errors, too_many_mobile_network_prefixes)
{
	struct mh_msg m = { .type = MH_TYPE_BU };
	uint8_t buf[MH_MAX_LEN];
	m.opts.n_mnp = MH_MAX_MNP;
	MH_SET_OPT(&m.opts, MH_OPT_MNP);
	int n = mh_build(&m, NULL, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(mh_parse(buf, (size_t)n, NULL, &m), HA_OK);
	/* append one more MNP option (24 octets incl. 4 of padding) and grow Header Len */
	uint8_t extra[24] = { 1, 2, 0, 0, MH_OPT_MNP, 18, 0, 64 };
	memcpy(buf + n, extra, sizeof(extra));
	n += 24;
	buf[1] = (uint8_t)(n / 8 - 1);
	cr_assert_eq(mh_parse(buf, (size_t)n, NULL, &m), MH_ERR_OPT_TOO_MANY);
}

Test(errors, every_error_has_a_name_and_one_action)
{
	for (int e = 0; e < HA_ERR__COUNT; e++) {
		struct ha_err_disposition d = ha_err_disposition((enum ha_err)e);
		cr_assert_not_null(ha_err_name((enum ha_err)e));
		cr_assert_neq(strcmp(ha_err_name((enum ha_err)e), "invalid-error"), 0);
		cr_assert_eq(d.action == HA_ACT_NONE, e == HA_OK, "error %d", e);
		if (d.action == HA_ACT_BA)
			cr_assert_geq(d.code, 128, "a rejecting BA status is >= 128");
	}
}

/* ---- builder limits and helpers ------------------------------------------------------- */

Test(builder, refuses_small_buffers_and_bad_messages)
{
	struct mh_msg m = { .type = MH_TYPE_BU };
	uint8_t buf[64];
	for (size_t cap = 0; cap < 16; cap++)
		cr_assert_eq(mh_build(&m, NULL, buf, cap), -1, "cap %zu", cap);
	cr_assert_eq(mh_build(&m, NULL, buf, 16), 16);
	m.type = 99;
	cr_assert_eq(mh_build(&m, NULL, buf, sizeof(buf)), -1);
	m.type = MH_TYPE_BR;
	m.br.br_type = 0;
	cr_assert_eq(mh_build(&m, NULL, buf, sizeof(buf)), -1);
	/* an option order naming an option that is not present */
	m = (struct mh_msg){ .type = MH_TYPE_BA };
	m.opts.n_order = 1;
	m.opts.order[0] = MH_OPT_NATD;
	cr_assert_eq(mh_build(&m, NULL, buf, sizeof(buf)), -1);
}

/* RFC 6275 9.5.1: modulo 2^16 comparison. */
Test(builder, sequence_number_window)
{
	cr_assert(mh_seq_newer(16, 15));
	cr_assert(mh_seq_newer(0, 65535));
	cr_assert(mh_seq_newer(15 + 32767, 15));
	cr_assert_not(mh_seq_newer(15, 15));
	cr_assert_not(mh_seq_newer(14, 15));
	cr_assert_not(mh_seq_newer(32783, 15));
	cr_assert_not(mh_seq_newer(15 + 32768, 15));
}

Test(builder, names)
{
	cr_assert_str_eq(mh_type_name(MH_TYPE_BU), "binding-update");
	cr_assert_str_eq(mh_type_name(99), "unknown");
	cr_assert_str_eq(mh_opt_name(MH_OPT_NATD), "nat-detection");
	cr_assert_str_eq(mh_ba_status_name(135), "sequence-number-out-of-window");
	cr_assert_null(mh_ba_status_name(2));
}
