/*
 * The dataplane's ESP engine (dataplane/dp_sa.c, dataplane/dp_esp.c): round trips for every
 * algorithm and mode, integrity failures, anti-replay (RFC 4303 3.4.3, Appendix A for ESN),
 * padding, room in the mbuf, sequence number exhaustion, and the ESP known-answer vectors of
 * draft-mcgrew-gcm-test-01. Interoperability with another implementation is
 * tests/esp/scapy_esp.py.
 *
 * Each test runs DPDK's EAL in memory (no hugepages, no PCI) in its own process.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_esp.h"
#include "dp_runtime_dir.h"

static struct rte_mempool *mp;
static struct dp_esp_ctx *ctx;

static void setup(void)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=test_esp_%d", (int)getpid());
	char *argv[] = {"test_esp", "--no-huge", "--no-pci", "--no-telemetry", "-m", "256", prefix,
			"--log-level=*:error", NULL};
	cr_assert(rte_eal_init((int)RTE_DIM(argv) - 1, argv) >= 0, "rte_eal_init: %s",
		  rte_strerror(rte_errno));
	mp = rte_pktmbuf_pool_create("test_esp", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cr_assert_not_null(mp);
	ctx = rte_zmalloc("esp_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE);
	cr_assert_not_null(ctx);
	cr_assert_eq(dp_esp_ctx_init(ctx, SOCKET_ID_ANY), 0);
}

static void teardown(void)
{
	dp_esp_ctx_free(ctx);
	rte_free(ctx);
	rte_mempool_free(mp);
	dp_sa_key_mgr_release();
	dp_eal_cleanup();
}

TestSuite(esp, .init = setup, .fini = teardown, .timeout = 60);

/* ------------------------------------------------------------------ */
/* helpers                                                              */

struct algo {
	uint8_t enc, integ;
	const char *name;
};

static const struct algo algos[] = {
	{HA_CFG_ENC_AES_GCM_128, HA_CFG_INTEG_NONE, "aes-gcm-128"},
	{HA_CFG_ENC_AES_GCM_256, HA_CFG_INTEG_NONE, "aes-gcm-256"},
	{HA_CFG_ENC_AES_CBC_128, HA_CFG_INTEG_HMAC_SHA1_96, "aes-cbc-128/hmac-sha1-96"},
	{HA_CFG_ENC_AES_CBC_256, HA_CFG_INTEG_HMAC_SHA256_128, "aes-cbc-256/hmac-sha256-128"},
	{HA_CFG_ENC_AES_CBC_128, HA_CFG_INTEG_HMAC_SHA256_128, "aes-cbc-128/hmac-sha256-128"},
	{HA_CFG_ENC_NULL, HA_CFG_INTEG_HMAC_SHA256_128, "null/hmac-sha256-128"},
	{HA_CFG_ENC_NULL, HA_CFG_INTEG_HMAC_SHA1_96, "null/hmac-sha1-96"},
};

static const uint8_t key_len_of[] = {
	[HA_CFG_ENC_AES_GCM_128] = 20, [HA_CFG_ENC_AES_GCM_256] = 36, [HA_CFG_ENC_AES_CBC_128] = 16,
	[HA_CFG_ENC_AES_CBC_256] = 32, [HA_CFG_ENC_NULL] = 0};
static const uint8_t akey_len_of[] = {
	[HA_CFG_INTEG_NONE] = 0, [HA_CFG_INTEG_HMAC_SHA1_96] = 20, [HA_CFG_INTEG_HMAC_SHA256_128] = 32};

static struct ha_sa_spec spec_of(const struct algo *a, uint8_t dir, uint8_t mode, int esn,
				 uint16_t win, uint64_t seq_start)
{
	struct ha_sa_spec s;

	memset(&s, 0, sizeof(s));
	s.spi = 0x11223344;
	s.direction = dir;
	s.mode = mode;
	s.family = 10;
	s.encryption = a->enc;
	s.integrity = a->integ;
	s.key_len = key_len_of[a->enc];
	s.auth_key_len = akey_len_of[a->integ];
	for (unsigned i = 0; i < s.key_len; i++)
		s.key[i] = (uint8_t)(0xa0 + i);
	for (unsigned i = 0; i < s.auth_key_len; i++)
		s.auth_key[i] = (uint8_t)(0x30 + 3 * i);
	s.flags = esn ? HA_SA_F_ESN : 0;
	s.replay_window = win;
	s.seq_start = seq_start;
	return s;
}

/* An outbound and an inbound SA with the same keys. */
static void sa_pair(const struct algo *a, uint8_t mode, int esn, uint16_t win, struct dp_sa **out,
		    struct dp_sa **in)
{
	struct ha_sa_spec s = spec_of(a, HA_SA_OUT, mode, esn, win, 0);

	*out = dp_sa_create(&s, SOCKET_ID_ANY);
	s.direction = HA_SA_IN;
	*in = dp_sa_create(&s, SOCKET_ID_ANY);
	cr_assert(*out != NULL && *in != NULL, "%s: dp_sa_create: %s", a->name, rte_strerror(rte_errno));
}

static struct rte_mbuf *mbuf_of(const uint8_t *b, unsigned len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	cr_assert_not_null(m);
	char *d = rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert_not_null(d);
	memcpy(d, b, len);
	return m;
}

static uint8_t *data(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *);
}

/* IPv6 + UDP with `payload` octets: a tunnel-mode inner packet. */
static unsigned inner_v6(uint8_t *b, unsigned payload)
{
	const unsigned len = 40 + 8 + payload;

	memset(b, 0, len);
	b[0] = 0x60;
	b[4] = (uint8_t)((len - 40) >> 8);
	b[5] = (uint8_t)(len - 40);
	b[6] = 17;
	b[7] = 64;
	b[8] = 0x20, b[9] = 0x01, b[23] = 1;
	b[24] = 0x20, b[25] = 0x01, b[39] = 2;
	b[41] = 53, b[43] = 53;
	b[44] = (uint8_t)((8 + payload) >> 8), b[45] = (uint8_t)(8 + payload);
	for (unsigned i = 0; i < payload; i++)
		b[48 + i] = (uint8_t)(i * 7 + 1);
	return len;
}

/* IPv4 + ICMP-ish body: a tunnel-mode inner packet. */
static unsigned inner_v4(uint8_t *b, unsigned payload)
{
	const unsigned len = 20 + payload;

	memset(b, 0, len);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[8] = 64;
	b[9] = 1;
	b[12] = 10, b[15] = 5;
	b[16] = 192, b[17] = 0, b[18] = 2, b[19] = 7;
	for (unsigned i = 0; i < payload; i++)
		b[20 + i] = (uint8_t)(i + 3);
	return len;
}

enum { T_PLAIN, T_HAO, T_RT2, T_RT2_HAO, T_RT2_DST };

/* IPv6 + [extension headers] + Mobility Header (a BU-like body of `mh_len` octets, a multiple
 * of 8). Returns the length; *esp_at = where ESP must be inserted. */
static unsigned transport_pkt(uint8_t *b, int kind, unsigned mh_len, unsigned *esp_at)
{
	unsigned off = 40;
	uint8_t *nh = &b[6];

	memset(b, 0, 40);
	b[0] = 0x60;
	b[7] = 64;
	b[8] = 0x20, b[9] = 0x01, b[23] = 0x10;  /* CoA */
	b[24] = 0x20, b[25] = 0x01, b[39] = 0x01; /* HA */
	if (kind == T_RT2 || kind == T_RT2_HAO || kind == T_RT2_DST) {
		*nh = 43;
		memset(b + off, 0, 24);
		b[off + 1] = 2; /* 24 octets */
		b[off + 2] = 2; /* type 2 */
		b[off + 3] = 1; /* segments left */
		b[off + 8] = 0x20, b[off + 9] = 0x01, b[off + 23] = 0x99;
		nh = &b[off];
		off += 24;
	}
	if (kind == T_HAO || kind == T_RT2_HAO) {
		*nh = 60;
		memset(b + off, 0, 24);
		b[off + 1] = 2;
		b[off + 2] = 1, b[off + 3] = 2;     /* PadN(2) */
		b[off + 4] = 0, b[off + 5] = 0;     /* ...    */
		b[off + 6] = 201, b[off + 7] = 16;  /* Home Address option */
		b[off + 8] = 0x20, b[off + 9] = 0x01, b[off + 23] = 0x77;
		nh = &b[off];
		off += 24;
	}
	*esp_at = off;
	if (kind == T_RT2_DST) { /* destination options after a routing header, no HAO: protected */
		*nh = 60;
		memset(b + off, 0, 8);
		b[off + 1] = 0;
		b[off + 2] = 1, b[off + 3] = 4; /* PadN(4) */
		nh = &b[off];
		off += 8;
	}
	*nh = 135;
	memset(b + off, 0, mh_len);
	b[off] = 59;
	b[off + 1] = (uint8_t)(mh_len / 8 - 1);
	b[off + 2] = 5; /* BU */
	for (unsigned i = 6; i < mh_len; i++)
		b[off + i] = (uint8_t)(i * 13);
	off += mh_len;
	b[4] = (uint8_t)((off - 40) >> 8);
	b[5] = (uint8_t)(off - 40);
	return off;
}

static uint8_t enc1(struct dp_sa *sa, struct rte_mbuf *m)
{
	uint8_t drop = 0xff;
	uint16_t ok = dp_esp_encrypt_burst(ctx, &m, &sa, 1, &drop);

	cr_assert_eq(ok, drop == 0 ? 1 : 0);
	return drop;
}

static uint8_t dec1(struct dp_sa *sa, struct rte_mbuf *m, uint16_t off)
{
	uint8_t drop = 0xff;
	uint16_t ok = dp_esp_decrypt_burst(ctx, &m, &sa, &off, 1, &drop);

	cr_assert_eq(ok, drop == 0 ? 1 : 0);
	return drop;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Encrypt a tunnel packet with `out`, return a copy of the ESP bytes. */
static struct rte_mbuf *tunnel_esp(struct dp_sa *out, const uint8_t *pkt, unsigned len)
{
	struct rte_mbuf *m = mbuf_of(pkt, len);

	cr_assert_eq(enc1(out, m), 0);
	return m;
}

static struct rte_mbuf *copy_of(struct rte_mbuf *m)
{
	return mbuf_of(data(m), m->data_len);
}

/* ------------------------------------------------------------------ */
/* round trips                                                          */

Test(esp, roundtrip_tunnel_every_algorithm)
{
	static const unsigned sizes[] = {0, 1, 2, 3, 13, 14, 15, 16, 17, 100, 1400};
	uint8_t pkt[1600];

	for (unsigned a = 0; a < RTE_DIM(algos); a++)
		for (int esn = 0; esn <= 1; esn++)
			for (int v4 = 0; v4 <= 1; v4++) {
				struct dp_sa *out, *in;

				sa_pair(&algos[a], HA_SA_TUNNEL, esn, 64, &out, &in);
				for (unsigned s = 0; s < RTE_DIM(sizes); s++) {
					const unsigned len = v4 ? inner_v4(pkt, sizes[s] + 8)
								: inner_v6(pkt, sizes[s]);
					struct rte_mbuf *m = mbuf_of(pkt, len);

					cr_assert_eq(enc1(out, m), 0, "%s", algos[a].name);
					const uint8_t *e = data(m);
					const unsigned iv = out->iv_len, icv = out->icv_len;
					cr_assert_eq(be32(e), 0x11223344u);
					cr_assert_eq(be32(e + 4), s + 1);
					const unsigned ct = m->data_len - 8 - iv - icv;
					cr_assert_eq(ct % (out->cipher == DP_SA_CIPHER_AES_CBC ? 16 : 4), 0);
					cr_assert(ct >= len + 2 && ct - len - 2 < out->pad_align,
						  "minimal padding");
					if (out->cipher == DP_SA_CIPHER_NULL) {
						/* visible: inner, pad 1,2,3.., pad length, next header */
						cr_assert_eq(memcmp(e + 8, pkt, len), 0);
						const uint8_t padlen = e[8 + ct - 2];
						for (unsigned k = 0; k < padlen; k++)
							cr_assert_eq(e[8 + len + k], k + 1);
						cr_assert_eq(e[8 + ct - 1], v4 ? 4 : 41);
					} else
						cr_assert_neq(memcmp(e + 8 + iv, pkt, 16), 0, "encrypted");
					if (out->cipher == DP_SA_CIPHER_AES_GCM) /* IV = 64-bit seq */
						cr_assert_eq(be32(e + 8) == 0 && be32(e + 12) == s + 1, 1);
					cr_assert_eq(dec1(in, m, 0), 0, "%s esn=%d v4=%d size=%u",
						     algos[a].name, esn, v4, sizes[s]);
					cr_assert_eq(m->data_len, len);
					cr_assert_eq(memcmp(data(m), pkt, len), 0);
					rte_pktmbuf_free(m);
				}
				cr_assert_eq(out->seq, RTE_DIM(sizes));
				cr_assert_eq(in->seq, RTE_DIM(sizes));
				cr_assert_eq(in->pkts, RTE_DIM(sizes));
				dp_sa_free(out);
				dp_sa_free(in);
			}
}

Test(esp, roundtrip_transport_every_algorithm)
{
	static const int kinds[] = {T_PLAIN, T_HAO, T_RT2, T_RT2_HAO, T_RT2_DST};
	uint8_t pkt[512];

	for (unsigned a = 0; a < RTE_DIM(algos); a++)
		for (int esn = 0; esn <= 1; esn++) {
			struct dp_sa *out, *in;

			sa_pair(&algos[a], HA_SA_TRANSPORT, esn, 64, &out, &in);
			for (unsigned k = 0; k < RTE_DIM(kinds); k++)
				for (unsigned mh = 8; mh <= 48; mh += 8) {
					unsigned at;
					const unsigned len = transport_pkt(pkt, kinds[k], mh, &at);
					struct rte_mbuf *m = mbuf_of(pkt, len);

					cr_assert_eq(enc1(out, m), 0);
					const uint8_t *e = data(m);
					/* the headers before ESP are unchanged but for the next header */
					cr_assert_eq(memcmp(e, pkt, 4), 0);
					cr_assert_eq((e[4] << 8 | e[5]) + 40, m->data_len, "payload length");
					cr_assert_eq(memcmp(e + 8, pkt + 8, 32), 0);
					cr_assert_eq(be32(e + at), 0x11223344u, "ESP at %u (kind %d)", at,
						     kinds[k]);
					const uint8_t *nhp = at == 40 ? &e[6] : &e[at - 24];
					if (kinds[k] == T_RT2_HAO)
						nhp = &e[at - 24]; /* the HAO header names ESP */
					cr_assert_eq(*nhp, 50);
					if (out->cipher == DP_SA_CIPHER_NULL) {
						const unsigned ct = m->data_len - at - 8 - out->icv_len;
						cr_assert_eq(e[at + 8 + ct - 1],
							     kinds[k] == T_RT2_DST ? 60 : 135);
					}
					cr_assert_eq(dec1(in, m, (uint16_t)at), 0, "%s kind %d",
						     algos[a].name, kinds[k]);
					cr_assert_eq(m->data_len, len);
					cr_assert_eq(memcmp(data(m), pkt, len), 0, "%s kind %d mh %u",
						     algos[a].name, kinds[k], mh);
					rte_pktmbuf_free(m);
				}
			dp_sa_free(out);
			dp_sa_free(in);
		}
}

Test(esp, burst_of_mixed_sas_crosses_rounds)
{
	enum { N = 150 }; /* more than two submission rounds */
	struct dp_sa *out[RTE_DIM(algos)], *in[RTE_DIM(algos)];
	struct rte_mbuf *m[N];
	struct dp_sa *so[N], *si[N];
	uint8_t drop[N], pkt[N][400];
	unsigned len[N];
	uint16_t off[N];

	for (unsigned a = 0; a < RTE_DIM(algos); a++)
		sa_pair(&algos[a], HA_SA_TUNNEL, (int)(a & 1), 128, &out[a], &in[a]);
	for (unsigned i = 0; i < N; i++) {
		len[i] = i % 3 ? inner_v6(pkt[i], (i * 37) % 300) : inner_v4(pkt[i], (i * 11) % 300 + 8);
		m[i] = mbuf_of(pkt[i], len[i]);
		so[i] = out[i % RTE_DIM(algos)];
		si[i] = in[i % RTE_DIM(algos)];
		off[i] = 0;
	}
	cr_assert_eq(dp_esp_encrypt_burst(ctx, m, so, N, drop), N);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(drop[i], 0);
	cr_assert_eq(dp_esp_decrypt_burst(ctx, m, si, off, N, drop), N);
	for (unsigned i = 0; i < N; i++) {
		cr_assert_eq(drop[i], 0, "packet %u: %s", i, dp_esp_error_name(drop[i]));
		cr_assert_eq(m[i]->data_len, len[i]);
		cr_assert_eq(memcmp(data(m[i]), pkt[i], len[i]), 0, "packet %u", i);
		rte_pktmbuf_free(m[i]);
	}
	for (unsigned a = 0; a < RTE_DIM(algos); a++) {
		dp_sa_free(out[a]);
		dp_sa_free(in[a]);
	}
}

Test(esp, cbc_ivs_are_unpredictable_and_distinct)
{
	struct dp_sa *out, *in;
	uint8_t pkt[200], iv[8][16];
	const unsigned len = inner_v6(pkt, 100);

	sa_pair(&algos[3], HA_SA_TUNNEL, 0, 64, &out, &in);
	for (unsigned i = 0; i < 8; i++) {
		struct rte_mbuf *m = tunnel_esp(out, pkt, len);

		memcpy(iv[i], data(m) + 8, 16);
		for (unsigned j = 0; j < i; j++)
			cr_assert_neq(memcmp(iv[i], iv[j], 16), 0);
		/* not the plain counter */
		cr_assert_neq(be32(iv[i] + 4), i + 1);
		rte_pktmbuf_free(m);
	}
	dp_sa_free(out);
	dp_sa_free(in);
}

/* ------------------------------------------------------------------ */
/* integrity                                                            */

Test(esp, tampering_is_an_icv_failure_and_leaves_the_window)
{
	uint8_t pkt[300];
	const unsigned len = inner_v6(pkt, 77);

	for (unsigned a = 0; a < RTE_DIM(algos); a++)
		for (int esn = 0; esn <= 1; esn++) {
			struct dp_sa *out, *in;

			sa_pair(&algos[a], HA_SA_TUNNEL, esn, 64, &out, &in);
			struct rte_mbuf *good = tunnel_esp(out, pkt, len);
			const unsigned n = good->data_len, icv = out->icv_len, iv = out->iv_len;
			/* offsets to flip: SPI, sequence number, IV (if any), ciphertext, trailer, ICV */
			const unsigned at[] = {0, 3, 4, 7, 8 + (iv ? iv - 1 : 0), 8 + iv + 5, n - icv - 1,
					       n - icv, n - 1};
			for (unsigned t = 0; t < RTE_DIM(at); t++) {
				struct rte_mbuf *m = copy_of(good);

				data(m)[at[t]] ^= 0x20;
				uint8_t r = dec1(in, m, 0);
				/* a flipped sequence number can also land left of the window */
				cr_assert(r == DP_ESP_E_ICV || ((at[t] == 4) && r == DP_ESP_E_REPLAY_OLD),
					  "%s esn=%d flip at %u: %s", algos[a].name, esn, at[t],
					  dp_esp_error_name(r));
				rte_pktmbuf_free(m);
			}
			cr_assert_eq(in->seq, 0, "window untouched by failures");
			cr_assert_eq(in->pkts, 0);
			/* the authentic packet still passes */
			cr_assert_eq(dec1(in, good, 0), 0);
			rte_pktmbuf_free(good);
			dp_sa_free(out);
			dp_sa_free(in);
		}
}

Test(esp, wrong_key_is_an_icv_failure)
{
	uint8_t pkt[300];
	const unsigned len = inner_v4(pkt, 40);

	for (unsigned a = 0; a < RTE_DIM(algos); a++) {
		struct ha_sa_spec s = spec_of(&algos[a], HA_SA_OUT, HA_SA_TUNNEL, 0, 64, 0);
		struct dp_sa *out = dp_sa_create(&s, SOCKET_ID_ANY);
		s.direction = HA_SA_IN;
		if (s.auth_key_len)
			s.auth_key[0] ^= 1;
		else
			s.key[s.key_len - 1] ^= 1; /* GCM: the salt */
		struct dp_sa *in = dp_sa_create(&s, SOCKET_ID_ANY);
		struct rte_mbuf *m = tunnel_esp(out, pkt, len);

		cr_assert_eq(dec1(in, m, 0), DP_ESP_E_ICV, "%s", algos[a].name);
		rte_pktmbuf_free(m);
		dp_sa_free(out);
		dp_sa_free(in);
	}
}

/* ------------------------------------------------------------------ */
/* anti-replay                                                          */

Test(esp, replay_duplicate_and_old)
{
	struct dp_sa *out, *in;
	struct rte_mbuf *esp[200];
	uint8_t pkt[200];
	const unsigned len = inner_v6(pkt, 20);

	sa_pair(&algos[0], HA_SA_TUNNEL, 0, 64, &out, &in);
	for (unsigned i = 0; i < 200; i++)
		esp[i] = tunnel_esp(out, pkt, len); /* seq i + 1 */

	struct rte_mbuf *m = copy_of(esp[0]);
	cr_assert_eq(dec1(in, m, 0), 0);
	rte_pktmbuf_free(m);
	m = copy_of(esp[0]);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_REPLAY_DUP, "duplicate");
	rte_pktmbuf_free(m);

	/* seq 100 slides the window to [37, 100] */
	m = copy_of(esp[99]);
	cr_assert_eq(dec1(in, m, 0), 0);
	rte_pktmbuf_free(m);
	cr_assert_eq(in->seq, 100);
	m = copy_of(esp[35]); /* seq 36: left of the window */
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_REPLAY_OLD);
	rte_pktmbuf_free(m);
	m = copy_of(esp[36]); /* seq 37: the window's left edge, not seen: accepted */
	cr_assert_eq(dec1(in, m, 0), 0);
	rte_pktmbuf_free(m);
	m = copy_of(esp[36]);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_REPLAY_DUP);
	rte_pktmbuf_free(m);
	m = copy_of(esp[79]); /* seq 80, out of order inside the window */
	cr_assert_eq(dec1(in, m, 0), 0);
	rte_pktmbuf_free(m);
	m = copy_of(esp[99]);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_REPLAY_DUP);
	rte_pktmbuf_free(m);
	cr_assert_eq(in->seq, 100, "right edge unchanged by old packets");

	/* a jump far to the right clears the window: everything before is old, what is new
	 * inside it is accepted once */
	m = copy_of(esp[199]);
	cr_assert_eq(dec1(in, m, 0), 0);
	rte_pktmbuf_free(m);
	for (unsigned s = 137; s < 200; s++) {
		m = copy_of(esp[s - 1]);
		cr_assert_eq(dec1(in, m, 0), 0, "seq %u", s);
		rte_pktmbuf_free(m);
	}
	for (unsigned s = 100; s <= 200; s++) {
		m = copy_of(esp[s - 1]);
		cr_assert_eq(dec1(in, m, 0), s < 137 ? DP_ESP_E_REPLAY_OLD : DP_ESP_E_REPLAY_DUP,
			     "seq %u", s);
		rte_pktmbuf_free(m);
	}
	for (unsigned i = 0; i < 200; i++)
		rte_pktmbuf_free(esp[i]);
	dp_sa_free(out);
	dp_sa_free(in);
}

Test(esp, replay_duplicate_inside_one_burst)
{
	struct dp_sa *out, *in;
	uint8_t pkt[200], drop[4];
	const unsigned len = inner_v6(pkt, 20);

	sa_pair(&algos[2], HA_SA_TUNNEL, 0, 64, &out, &in);
	struct rte_mbuf *a = tunnel_esp(out, pkt, len), *b = tunnel_esp(out, pkt, len);
	struct rte_mbuf *m[4] = {a, copy_of(a), b, copy_of(a)};
	struct dp_sa *sas[4] = {in, in, in, in};
	const uint16_t off[4] = {0};

	cr_assert_eq(dp_esp_decrypt_burst(ctx, m, sas, off, 4, drop), 2);
	cr_assert_eq(drop[0], 0);
	cr_assert_eq(drop[1], DP_ESP_E_REPLAY_DUP);
	cr_assert_eq(drop[2], 0);
	cr_assert_eq(drop[3], DP_ESP_E_REPLAY_DUP);
	for (int i = 0; i < 4; i++)
		rte_pktmbuf_free(m[i]);
	dp_sa_free(out);
	dp_sa_free(in);
}

Test(esp, replay_window_4096_and_off)
{
	struct dp_sa *out, *in, *in0;
	uint8_t pkt[200];
	const unsigned len = inner_v6(pkt, 20);
	struct ha_sa_spec s = spec_of(&algos[0], HA_SA_IN, HA_SA_TUNNEL, 0, 0, 0);

	sa_pair(&algos[0], HA_SA_TUNNEL, 0, 4096, &out, &in);
	in0 = dp_sa_create(&s, SOCKET_ID_ANY); /* window 0: anti-replay off */
	cr_assert_not_null(in0);
	struct rte_mbuf *first = tunnel_esp(out, pkt, len); /* seq 1 */
	out->seq = 4096;                                    /* skip ahead */
	struct rte_mbuf *edge = tunnel_esp(out, pkt, len);  /* seq 4097 */
	struct rte_mbuf *m;

	m = copy_of(edge);
	cr_assert_eq(dec1(in, m, 0), 0);
	rte_pktmbuf_free(m);
	m = copy_of(first); /* 4097 - 1 = 4096 >= window: old */
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_REPLAY_OLD);
	rte_pktmbuf_free(m);
	in->seq = 4096; /* white box: as if the edge were 4096, seq 1 is inside (4096 - 1 < 4096) */
	m = copy_of(first);
	cr_assert_eq(dec1(in, m, 0), 0);
	rte_pktmbuf_free(m);

	for (int i = 0; i < 3; i++) {
		m = copy_of(first);
		cr_assert_eq(dec1(in0, m, 0), 0, "no anti-replay: duplicates pass");
		rte_pktmbuf_free(m);
	}
	rte_pktmbuf_free(first);
	rte_pktmbuf_free(edge);
	dp_sa_free(out);
	dp_sa_free(in);
	dp_sa_free(in0);
}

Test(esp, esn_rollover_of_the_low_32_bits)
{
	for (unsigned a = 0; a < RTE_DIM(algos); a++) {
		struct dp_sa *out, *in;
		struct rte_mbuf *esp[20];
		uint8_t pkt[200];
		const unsigned len = inner_v6(pkt, 33);

		sa_pair(&algos[a], HA_SA_TUNNEL, 1, 64, &out, &in);
		out->seq = 0xFFFFFFF5; /* white box: as if that many had been sent */
		in->seq = 0xFFFFFFF5;  /* and received */
		for (unsigned i = 0; i < 20; i++) {
			esp[i] = tunnel_esp(out, pkt, len); /* 0xFFFFFFF6 ... 0x1_00000009 */
			cr_assert_eq(be32(data(esp[i]) + 4), (uint32_t)(0xFFFFFFF6u + i), "low bits on the wire");
		}
		cr_assert_eq(out->seq, 0x100000009ull);
		/* deliver out of order across the boundary: 0x1_00000002 first */
		struct rte_mbuf *m = copy_of(esp[12]);
		cr_assert_eq(dec1(in, m, 0), 0, "%s", algos[a].name);
		rte_pktmbuf_free(m);
		cr_assert_eq(in->seq, 0x100000002ull);
		for (unsigned i = 0; i < 20; i++) {
			m = copy_of(esp[i]);
			cr_assert_eq(dec1(in, m, 0), i == 12 ? DP_ESP_E_REPLAY_DUP : 0, "%s packet %u",
				     algos[a].name, i);
			cr_assert(i == 12 || memcmp(data(m), pkt, len) == 0);
			rte_pktmbuf_free(m);
		}
		cr_assert_eq(in->seq, 0x100000009ull);
		/* replays of the previous epoch are duplicates, not new packets of the next one */
		m = copy_of(esp[5]);
		cr_assert_eq(dec1(in, m, 0), DP_ESP_E_REPLAY_DUP);
		rte_pktmbuf_free(m);
		for (unsigned i = 0; i < 20; i++)
			rte_pktmbuf_free(esp[i]);
		dp_sa_free(out);
		dp_sa_free(in);
	}
}

Test(esp, esn_inference_appendix_a)
{
	struct ha_sa_spec s = spec_of(&algos[0], HA_SA_IN, HA_SA_TUNNEL, 1, 64, 0);
	struct dp_sa *sa = dp_sa_create(&s, SOCKET_ID_ANY);

	cr_assert_not_null(sa);
	sa->seq = 0x500000100ull; /* case A */
	cr_assert_eq(dp_sa_seq_infer(sa, 0x101), 0x500000101ull);
	cr_assert_eq(dp_sa_seq_infer(sa, 0xC1), 0x5000000C1ull);      /* left edge */
	cr_assert_eq(dp_sa_seq_infer(sa, 0xC0), 0x6000000C0ull);      /* below: next epoch */
	sa->seq = 0x500000010ull; /* case B: the window reaches into epoch 4 */
	cr_assert_eq(dp_sa_seq_infer(sa, 0xFFFFFFF0), 0x4FFFFFFF0ull);
	cr_assert_eq(dp_sa_seq_infer(sa, 0x20), 0x500000020ull);
	sa->seq = 0x10; /* case B in epoch 0: nothing below 0 */
	cr_assert_eq(dp_sa_seq_infer(sa, 0xFFFFFFF0), 0);
	dp_sa_free(sa);
}

/* ------------------------------------------------------------------ */
/* padding and next header: packets with a valid ICV built directly with IPsec-MB          */

/* An AES-GCM-128 ESP packet (SPI, seq 1, IV, AAD as in RFC 4106) around `pt`. */
static struct rte_mbuf *gcm_craft(const struct ha_sa_spec *s, uint32_t seq, const uint8_t *pt,
				  unsigned len)
{
	struct gcm_key_data kd __rte_aligned(64);
	struct gcm_context_data gctx;
	uint8_t b[512], iv[12], aad[8];

	IMB_AES128_GCM_PRE(ctx->mgr, s->key, &kd);
	b[0] = (uint8_t)(s->spi >> 24), b[1] = (uint8_t)(s->spi >> 16);
	b[2] = (uint8_t)(s->spi >> 8), b[3] = (uint8_t)s->spi;
	b[4] = (uint8_t)(seq >> 24), b[5] = (uint8_t)(seq >> 16), b[6] = (uint8_t)(seq >> 8), b[7] = (uint8_t)seq;
	memset(b + 8, 0, 8);
	b[15] = (uint8_t)seq;
	memcpy(iv, s->key + 16, 4);
	memcpy(iv + 4, b + 8, 8);
	memcpy(aad, b, 8);
	IMB_AES128_GCM_ENC(ctx->mgr, &kd, &gctx, b + 16, pt, len, iv, aad, 8, b + 16 + len, 16);
	return mbuf_of(b, 16 + len + 16);
}

Test(esp, bad_padding_and_next_header)
{
	struct ha_sa_spec s = spec_of(&algos[0], HA_SA_IN, HA_SA_TUNNEL, 0, 64, 0);
	struct dp_sa *in = dp_sa_create(&s, SOCKET_ID_ANY);
	uint8_t pt[64];
	unsigned len = inner_v4(pt, 10); /* 30 octets */
	struct rte_mbuf *m;

	cr_assert_not_null(in);
	/* correct: pad 1 2, pad length 2, next header 4 */
	memcpy(pt + len, (const uint8_t[]){1, 2, 2, 4}, 4);
	m = gcm_craft(&s, 1, pt, len + 4);
	cr_assert_eq(dec1(in, m, 0), 0);
	cr_assert_eq(m->data_len, len);
	rte_pktmbuf_free(m);
	/* pad bytes not 1, 2 */
	memcpy(pt + len, (const uint8_t[]){1, 3, 2, 4}, 4);
	m = gcm_craft(&s, 2, pt, len + 4);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_BAD_PAD);
	rte_pktmbuf_free(m);
	memcpy(pt + len, (const uint8_t[]){0, 0, 2, 4}, 4);
	m = gcm_craft(&s, 3, pt, len + 4);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_BAD_PAD);
	rte_pktmbuf_free(m);
	/* pad length beyond the payload */
	memcpy(pt + len, (const uint8_t[]){1, 2, 33, 4}, 4);
	m = gcm_craft(&s, 4, pt, len + 4);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_BAD_PAD);
	rte_pktmbuf_free(m);
	/* pad length = the whole payload: allowed by the check, an empty inner packet... */
	memcpy(pt + len, (const uint8_t[]){1, 2, 32, 4}, 4);
	m = gcm_craft(&s, 5, pt, len + 4);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_BAD_PAD, "pad bytes are not 1..32");
	rte_pktmbuf_free(m);
	/* next header: TCP, and 59 (a dummy packet) are not tunnel mode */
	memcpy(pt + len, (const uint8_t[]){1, 2, 2, 6}, 4);
	m = gcm_craft(&s, 6, pt, len + 4);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_BAD_NEXT_HDR);
	rte_pktmbuf_free(m);
	memcpy(pt + len, (const uint8_t[]){1, 2, 2, 59}, 4);
	m = gcm_craft(&s, 7, pt, len + 4);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_BAD_NEXT_HDR);
	rte_pktmbuf_free(m);
	dp_sa_free(in);
}

/* ------------------------------------------------------------------ */
/* lengths, room, segments, SA misuse                                   */

Test(esp, truncated_and_bad_lengths)
{
	struct dp_sa *out, *in, *cout, *cin;
	uint8_t pkt[200];
	const unsigned len = inner_v6(pkt, 30);

	sa_pair(&algos[0], HA_SA_TUNNEL, 0, 64, &out, &in);
	sa_pair(&algos[3], HA_SA_TUNNEL, 0, 64, &cout, &cin);
	struct rte_mbuf *good = tunnel_esp(out, pkt, len), *m;

	for (unsigned cut = 1; cut < good->data_len; cut += 7) {
		m = copy_of(good);
		rte_pktmbuf_trim(m, (uint16_t)cut);
		uint8_t r = dec1(in, m, 0);
		cr_assert(r == DP_ESP_E_TRUNCATED || r == DP_ESP_E_ICV, "cut %u: %s", cut,
			  dp_esp_error_name(r));
		cr_assert(good->data_len - cut >= 8 + 8 + 2 + 16 || r == DP_ESP_E_TRUNCATED);
		rte_pktmbuf_free(m);
	}
	m = copy_of(good);
	cr_assert_eq(dec1(in, m, (uint16_t)(good->data_len + 1)), DP_ESP_E_TRUNCATED, "offset beyond");
	rte_pktmbuf_free(m);
	m = copy_of(good);
	cr_assert_eq(dec1(in, m, (uint16_t)(good->data_len - 20)), DP_ESP_E_TRUNCATED);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(good);

	good = tunnel_esp(cout, pkt, len);
	m = copy_of(good);
	rte_pktmbuf_trim(m, 4); /* CBC ciphertext no longer a multiple of 16 */
	cr_assert_eq(dec1(cin, m, 0), DP_ESP_E_BAD_LENGTH);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(good);
	dp_sa_free(out);
	dp_sa_free(in);
	dp_sa_free(cout);
	dp_sa_free(cin);
}

Test(esp, transport_bad_esp_offset)
{
	struct dp_sa *out, *in;
	uint8_t pkt[300];
	unsigned at;
	const unsigned len = transport_pkt(pkt, T_HAO, 24, &at);

	sa_pair(&algos[0], HA_SA_TRANSPORT, 0, 64, &out, &in);
	struct rte_mbuf *good = mbuf_of(pkt, len), *m;
	cr_assert_eq(enc1(out, good), 0);
	const uint16_t bad[] = {0, 8, 40, (uint16_t)(at - 8), (uint16_t)(at + 8)};
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		m = copy_of(good);
		cr_assert_eq(dec1(in, m, bad[i]), DP_ESP_E_BAD_HEADER, "esp_off %u", bad[i]);
		rte_pktmbuf_free(m);
	}
	cr_assert_eq(dec1(in, good, (uint16_t)at), 0);
	rte_pktmbuf_free(good);
	dp_sa_free(out);
	dp_sa_free(in);
}

Test(esp, no_room_multiseg_and_bad_inner_fail_without_using_a_sequence_number)
{
	struct dp_sa *out, *in;
	uint8_t pkt[RTE_MBUF_DEFAULT_BUF_SIZE];
	struct rte_mbuf *m;

	sa_pair(&algos[0], HA_SA_TUNNEL, 0, 64, &out, &in);
	/* no tailroom: the packet fills the buffer */
	const uint16_t room = (uint16_t)(RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM);
	unsigned len = inner_v6(pkt, room - 48 - 10);
	m = mbuf_of(pkt, len);
	cr_assert_eq(enc1(out, m), DP_ESP_E_NO_TAILROOM);
	cr_assert_eq(m->data_len, len, "untouched");
	cr_assert_eq(memcmp(data(m), pkt, len), 0);
	rte_pktmbuf_free(m);
	/* no headroom */
	len = inner_v6(pkt, 100);
	m = rte_pktmbuf_alloc(mp);
	m->data_off = 4;
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), pkt, len);
	cr_assert_eq(enc1(out, m), DP_ESP_E_NO_HEADROOM);
	rte_pktmbuf_free(m);
	/* two segments */
	m = mbuf_of(pkt, 60);
	struct rte_mbuf *tail = mbuf_of(pkt + 60, len - 60);
	cr_assert_eq(rte_pktmbuf_chain(m, tail), 0);
	cr_assert_eq(enc1(out, m), DP_ESP_E_MULTISEG);
	cr_assert_eq(dec1(in, m, 0), DP_ESP_E_MULTISEG);
	rte_pktmbuf_free(m);
	/* not IP; IPv4 total length beyond the data */
	pkt[0] = 0x50;
	m = mbuf_of(pkt, 100);
	cr_assert_eq(enc1(out, m), DP_ESP_E_BAD_INNER);
	rte_pktmbuf_free(m);
	len = inner_v4(pkt, 100);
	m = mbuf_of(pkt, len - 1);
	cr_assert_eq(enc1(out, m), DP_ESP_E_BAD_INNER);
	rte_pktmbuf_free(m);
	/* link-layer padding after an IPv4 packet is trimmed, not encrypted */
	len = inner_v4(pkt, 8);
	memset(pkt + len, 0xee, 18);
	m = mbuf_of(pkt, len + 18);
	cr_assert_eq(enc1(out, m), 0);
	cr_assert_eq(be32(data(m) + 4), 1, "the first good packet has sequence number 1");
	cr_assert_eq(dec1(in, m, 0), 0);
	cr_assert_eq(m->data_len, len);
	rte_pktmbuf_free(m);
	/* transport mode wants IPv6 */
	struct ha_sa_spec s = spec_of(&algos[0], HA_SA_OUT, HA_SA_TRANSPORT, 0, 0, 0);
	struct dp_sa *tout = dp_sa_create(&s, SOCKET_ID_ANY);
	len = inner_v4(pkt, 40);
	m = mbuf_of(pkt, len);
	cr_assert_eq(enc1(tout, m), DP_ESP_E_BAD_INNER);
	rte_pktmbuf_free(m);
	dp_sa_free(tout);
	dp_sa_free(out);
	dp_sa_free(in);
}

Test(esp, wrong_direction_or_no_sa)
{
	struct dp_sa *out, *in;
	uint8_t pkt[200];
	const unsigned len = inner_v6(pkt, 30);

	sa_pair(&algos[0], HA_SA_TUNNEL, 0, 64, &out, &in);
	struct rte_mbuf *m = mbuf_of(pkt, len);
	cr_assert_eq(enc1(in, m), DP_ESP_E_NO_SA);
	cr_assert_eq(enc1(NULL, m), DP_ESP_E_NO_SA);
	cr_assert_eq(enc1(out, m), 0);
	cr_assert_eq(dec1(out, m, 0), DP_ESP_E_NO_SA);
	cr_assert_eq(dec1(NULL, m, 0), DP_ESP_E_NO_SA);
	cr_assert_eq(dec1(in, m, 0), 0);
	rte_pktmbuf_free(m);
	dp_sa_free(out);
	dp_sa_free(in);
}

/* ------------------------------------------------------------------ */
/* sequence number exhaustion                                           */

Test(esp, non_esn_sequence_number_does_not_wrap)
{
	uint8_t pkt[200];
	const unsigned len = inner_v6(pkt, 30);
	struct ha_sa_spec s = spec_of(&algos[0], HA_SA_OUT, HA_SA_TUNNEL, 0, 0, 0xFFFFFFFEull);
	struct dp_sa *out = dp_sa_create(&s, SOCKET_ID_ANY);
	struct rte_mbuf *m;

	cr_assert_not_null(out);
	m = mbuf_of(pkt, len);
	cr_assert_eq(enc1(out, m), 0);
	cr_assert_eq(be32(data(m) + 4), 0xFFFFFFFFu);
	rte_pktmbuf_free(m);
	for (int i = 0; i < 3; i++) {
		m = mbuf_of(pkt, len);
		cr_assert_eq(enc1(out, m), DP_ESP_E_SEQ_OVERFLOW);
		cr_assert_eq(m->data_len, len);
		rte_pktmbuf_free(m);
	}
	cr_assert_eq(out->seq, 0xFFFFFFFFull);
	dp_sa_free(out);

	s.seq_start = 0x100000000ull; /* refused for a non-ESN SA */
	cr_assert_null(dp_sa_create(&s, SOCKET_ID_ANY));
	cr_assert_eq(rte_errno, EINVAL);

	/* ESN carries on past 2^32 and stops at 2^64 - 1 */
	s.flags = HA_SA_F_ESN;
	s.seq_start = 0xFFFFFFFFull;
	out = dp_sa_create(&s, SOCKET_ID_ANY);
	m = mbuf_of(pkt, len);
	cr_assert_eq(enc1(out, m), 0);
	cr_assert_eq(be32(data(m) + 4), 0);
	cr_assert_eq(be32(data(m) + 8), 1, "GCM IV = the 64-bit sequence number");
	rte_pktmbuf_free(m);
	out->seq = UINT64_MAX - 1;
	m = mbuf_of(pkt, len);
	cr_assert_eq(enc1(out, m), 0);
	rte_pktmbuf_free(m);
	m = mbuf_of(pkt, len);
	cr_assert_eq(enc1(out, m), DP_ESP_E_SEQ_OVERFLOW);
	rte_pktmbuf_free(m);
	dp_sa_free(out);
}

/* ------------------------------------------------------------------ */
/* known answers: the ESP vectors of draft-mcgrew-gcm-test-01 (decrypted in transport mode
 * behind an IPv6 header: their next header is 1, which tunnel mode would refuse)            */

static void hex(const char *s, uint8_t *out, unsigned *len)
{
	unsigned n = 0;

	for (; s[0] && s[1]; s += 2) {
		unsigned v;
		cr_assert_eq(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	*len = n;
}

struct kat {
	uint8_t enc;
	const char *key;    /* key || salt */
	uint32_t spi;
	uint64_t seq;       /* 64-bit; ESN if above 2^32 */
	int esn;
	const char *iv, *pt, *ct, *tag;
};

static const struct kat kats[] = {
	{HA_CFG_ENC_AES_GCM_128, "4c80cdefbb5d10da906ac73c3613a634" "2e443b68", 0x4321,
	 0x8765432100000000ull, 1, "4956ed7e3b244cfe",
	 "45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f7369"
	 "70045f756470037369700963796265726369747902646b000021000101020201",
	 "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf"
	 "65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732",
	 "459018148f6cbe722fd04796562dfdb4"},
	{HA_CFG_ENC_AES_GCM_256,
	 "abbccddef00112233445566778899aababbccddef00112233445566778899aab" "11223344", 0x4a2cbfe3,
	 2, 0, "0102030405060708",
	 "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000"
	 "020405b40101040201020201",
	 "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d34"
	 "7f0545659f14e99def842d8e",
	 "b335f4eecfdbf831824b4c4915956c96"},
	{HA_CFG_ENC_AES_GCM_128, "3de09874b388e6491988d0c3607eae1f" "57690e43", 0x42f67e3f,
	 0x1010101010101010ull, 1, "4e280000a2fca1a3",
	 "4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c"
	 "6d6e6f707172737475767761626364656667686901020201",
	 "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c35791765acbd8701ad7984"
	 "5bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a",
	 "e0d731cc978ecafaeae88f00e80d6e48"},
};

Test(esp, known_answer_draft_mcgrew_gcm_test)
{
	for (unsigned k = 0; k < RTE_DIM(kats); k++) {
		const struct kat *v = &kats[k];
		struct algo a = {v->enc, HA_CFG_INTEG_NONE, "kat"};
		struct ha_sa_spec s = spec_of(&a, HA_SA_IN, HA_SA_TRANSPORT, v->esn, 64, 0);
		uint8_t b[512], pt[256];
		unsigned n, ptn;

		hex(v->key, s.key, &n);
		cr_assert_eq(n, s.key_len);
		s.spi = v->spi;
		struct dp_sa *in = dp_sa_create(&s, SOCKET_ID_ANY);
		cr_assert_not_null(in);
		in->seq = v->seq - 1; /* white box: the window's edge just below (selects ESN high) */

		memset(b, 0, 40);
		b[0] = 0x60, b[6] = 50, b[7] = 64, b[8] = 0x20, b[24] = 0x20;
		b[40] = (uint8_t)(v->spi >> 24), b[41] = (uint8_t)(v->spi >> 16);
		b[42] = (uint8_t)(v->spi >> 8), b[43] = (uint8_t)v->spi;
		const uint32_t lo = (uint32_t)v->seq;
		b[44] = (uint8_t)(lo >> 24), b[45] = (uint8_t)(lo >> 16), b[46] = (uint8_t)(lo >> 8), b[47] = (uint8_t)lo;
		unsigned len = 48, l;
		hex(v->iv, b + len, &l), len += l;
		hex(v->ct, b + len, &l), len += l;
		hex(v->tag, b + len, &l), len += l;
		b[4] = (uint8_t)((len - 40) >> 8), b[5] = (uint8_t)(len - 40);
		hex(v->pt, pt, &ptn);

		struct rte_mbuf *m = mbuf_of(b, len);
		cr_assert_eq(dec1(in, m, 40), 0, "vector %u", k);
		const unsigned inner = ptn - 2 - pt[ptn - 2];
		cr_assert_eq(m->data_len, 40 + inner);
		cr_assert_eq(data(m)[6], pt[ptn - 1], "next header from the trailer");
		cr_assert_eq(memcmp(data(m) + 40, pt, inner), 0, "vector %u plaintext", k);
		cr_assert_eq(in->seq, v->seq);
		rte_pktmbuf_free(m);

		/* the same with one ICV bit off */
		in->seq = v->seq - 1;
		b[len - 1] ^= 0x80;
		m = mbuf_of(b, len);
		cr_assert_eq(dec1(in, m, 40), DP_ESP_E_ICV);
		rte_pktmbuf_free(m);
		dp_sa_free(in);
	}
}

/* ------------------------------------------------------------------ */
/* SA compilation and the catalog                                       */

Test(esp, sa_create_refuses_bad_specs)
{
	struct ha_sa_spec ok = spec_of(&algos[2], HA_SA_IN, HA_SA_TUNNEL, 0, 64, 0), s;
	struct dp_sa *sa = dp_sa_create(&ok, SOCKET_ID_ANY);

	cr_assert_not_null(sa);
	cr_assert_eq(sa->spi_be, rte_cpu_to_be_32(0x11223344));
	cr_assert_eq(sa->conf.replay_window, 64);
	cr_assert_eq(sa->replay_mask + 1, 2, "64-packet window: two words");
	dp_sa_free(sa);

#define REFUSED(stmt)                                                          \
	do {                                                                   \
		s = ok;                                                        \
		stmt;                                                          \
		rte_errno = 0;                                                 \
		cr_assert_null(dp_sa_create(&s, SOCKET_ID_ANY), #stmt);        \
		cr_assert_eq(rte_errno, EINVAL, #stmt);                        \
	} while (0)
	REFUSED(s.direction = 2);
	REFUSED(s.mode = 7);
	REFUSED(s.encryption = HA_CFG_ENC__COUNT);
	REFUSED(s.key_len = 20);
	REFUSED(s.auth_key_len = 32);
	REFUSED(s.integrity = HA_CFG_INTEG_NONE);                      /* CBC without integrity */
	REFUSED((s.encryption = HA_CFG_ENC_NULL, s.key_len = 0, s.integrity = HA_CFG_INTEG_NONE));
	REFUSED((s.encryption = HA_CFG_ENC_AES_GCM_128, s.key_len = 20)); /* GCM plus HMAC */
	REFUSED((s.encryption = HA_CFG_ENC_AES_GCM_256, s.key_len = 32, s.integrity = 0,
		 s.auth_key_len = 0)); /* no salt */
	REFUSED(s.replay_window = DP_SA_REPLAY_MAX + 1);
	REFUSED(s.flags = 0x80);
#undef REFUSED
	s = ok;
	s.replay_window = DP_SA_REPLAY_MAX;
	sa = dp_sa_create(&s, SOCKET_ID_ANY);
	cr_assert_not_null(sa);
	cr_assert_geq((sa->replay_mask + 1 - 1) * 64, DP_SA_REPLAY_MAX);
	dp_sa_free(sa);
}

Test(esp, error_catalog)
{
	cr_assert_str_eq(dp_esp_error_name(DP_ESP_OK), "ok");
	cr_assert_str_eq(dp_esp_error_name(DP_ESP_E_ICV), "esp-icv-mismatch");
	cr_assert_str_eq(dp_esp_error_name(DP_ESP_E__COUNT), "?");
	for (unsigned i = 1; i < DP_ESP_E__COUNT; i++) {
		cr_assert(strncmp(dp_esp_error_name(i), "esp-", 4) == 0);
		for (unsigned j = 1; j < i; j++)
			cr_assert_str_neq(dp_esp_error_name(i), dp_esp_error_name(j));
	}
	cr_assert_leq(DP_ESP_E__COUNT, 255, "fits the uint8_t drop_reason");
}
