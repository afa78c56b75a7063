/*
 * The dataplane's stages on synthetic mbufs, without ports: the binding table (upsert, replace
 * with reclamation, delete, sync sweep, conflicts) and dp_process_burst() (encapsulation,
 * decapsulation, anti-spoofing, punts) with every packet's fate checked.
 * EAL runs in memory (--no-huge), one fresh process per test.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_binding.h"
#include "dp_ctx.h"
#include "dp_fastpath.h"
#include "ha_pkt.h"
#include "dp_runtime_dir.h"

struct dp_ctx *dp_global;
static struct dp_ctx ctx;
static struct dp_worker worker;
static struct dp_stats stats;

static void eal_up(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=ut_dp_%d", getpid());
	char *argv[] = { "test", "--no-huge", "--no-pci", "--no-telemetry", "-m", "256",
			 "--log-level=*:error", prefix, NULL };
	cr_assert_geq(rte_eal_init(8, argv), 0, "EAL");
}

static void setup(void)
{
	eal_up();
	memset(&ctx, 0, sizeof(ctx));
	inet_pton(AF_INET6, "2001:db8:ffff::1", ctx.ha6);
	inet_pton(AF_INET, "192.0.2.1", &ctx.ha4);
	ctx.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	cr_assert_eq(rte_rcu_qsbr_init(ctx.qsbr, 1), 0);
	struct dp_bindings_params bp = { .max_bindings = 64, .socket_id = 0, .ha4 = ctx.ha4,
					 .n_prefix_lens = 3, .prefix_lens = { 64, 56, 96 },
					 .qsbr = ctx.qsbr };
	memcpy(bp.ha6, ctx.ha6, 16);
	ctx.bindings = dp_bindings_create(&bp);
	cr_assert_not_null(ctx.bindings);
	ctx.pool = rte_pktmbuf_pool_create("ut_pool", 1023, 0,
					   RTE_ALIGN(sizeof(struct ha_pkt_meta), RTE_MBUF_PRIV_ALIGN),
					   RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	ctx.punt = rte_ring_create("ut_punt", 64, 0, RING_F_SC_DEQ);
	cr_assert(ctx.pool && ctx.punt);
	ctx.punt_rate_pps = 1000;
	ctx.punt_burst = 2;
	ctx.ports[DP_PORT_ACCESS].port_id = 0;
	ctx.ports[DP_PORT_CORE].port_id = 1;
	ctx.ports[DP_PORT_ACCESS].mtu = ctx.ports[DP_PORT_CORE].mtu = 1500;
	/* the routers' MACs, as hadp's start-up writes them (dp_route.h's next-hop words) */
	union dp_next_hop nh = { .mac = { { 0x02, 0, 0, 0, 0x0c, 0x01 } } };
	nh.octet[DP_NH_VALID_OCTET] = nh.octet[DP_NH_ROUTE_OCTET] = 1;
	ctx.ports[DP_PORT_CORE].next_hop_word = nh.word;
	nh.mac.addr_bytes[4] = 0x0a;
	ctx.ports[DP_PORT_ACCESS].next_hop_word = nh.word;
	memset(&stats, 0, sizeof(stats));
	worker = (struct dp_worker){ .stats = &stats };
	for (unsigned r = 0; r < HA_PUNT__COUNT; r++)
		worker.policer.tokens[r] = ctx.punt_burst;
	dp_global = &ctx;
}

static void teardown(void)
{
	dp_eal_cleanup();
}

TestSuite(bindings, .init = setup, .fini = teardown);
TestSuite(burst, .init = setup, .fini = teardown);

static struct ha_binding_spec spec(const char *prefix, int len, const char *coa, const char *hoa4,
				   uint16_t udp)
{
	struct ha_binding_spec s = { .home_prefix_len = (uint8_t)len };
	inet_pton(AF_INET6, prefix, s.home_prefix);
	if (strchr(coa, ':')) {
		inet_pton(AF_INET6, coa, s.coa);
	} else {
		inet_pton(AF_INET, coa, s.coa);
		s.flags |= HA_BIND_F_COA4;
	}
	if (hoa4) {
		inet_pton(AF_INET, hoa4, s.hoa4);
		s.flags |= HA_BIND_F_IPV4_HOA;
	}
	if (udp) {
		s.flags |= HA_BIND_F_UDP;
		s.udp_port = udp;
	}
	return s;
}

static const struct dp_binding *find6(const char *addr)
{
	uint8_t a[16];
	const uint8_t *k[1] = { a };
	const struct dp_binding *b[1];
	inet_pton(AF_INET6, addr, a);
	dp_binding_lookup6(ctx.bindings, k, 1, b);
	return b[0];
}

static const struct dp_binding *find4(const char *addr)
{
	uint32_t a;
	const struct dp_binding *b[1];
	inet_pton(AF_INET, addr, &a);
	dp_binding_lookup4(ctx.bindings, &a, 1, b);
	return b[0];
}

Test(bindings, lookup_by_prefix_of_any_pdn_length_and_by_ipv4)
{
	struct ha_binding_spec a = spec("2001:db8:100:1::", 64, "2001:db8:aaaa::2", "10.45.0.2", 0);
	struct ha_binding_spec b = spec("2001:db8:200:100::", 56, "203.0.113.5", NULL, 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &a, 1, NULL, NULL), 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &b, 1, NULL, NULL), 0);
	cr_assert_eq(dp_binding_count(ctx.bindings), 2);
	const struct dp_binding *x = find6("2001:db8:100:1:abcd::1");
	cr_assert_not_null(x);
	cr_assert_eq(x->tunnel, DP_TUN_IP6);
	cr_assert_eq(find4("10.45.0.2"), x);
	x = find6("2001:db8:200:1ff::9");
	cr_assert_not_null(x, "inside the /56");
	cr_assert_eq(x->tunnel, DP_TUN_IP4);
	cr_assert_null(find6("2001:db8:200:200::9"));
	cr_assert_null(find6("2001:db8:100:2::1"));
	cr_assert_null(find4("10.45.0.3"));
}

/* Keys are 8 octets up to /64 and 16 beyond (dp_binding.c): a /96 must tell apart addresses
 * that differ only after their 64th bit, a /64 must not. */
Test(bindings, prefixes_longer_than_64_bits_compare_the_whole_prefix)
{
	struct ha_binding_spec a = spec("2001:db8:300:1:aaaa:bbbb::", 96, "2001:db8:aaaa::3", NULL, 0);
	struct ha_binding_spec b = spec("2001:db8:100:7::", 64, "2001:db8:aaaa::4", NULL, 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &a, 1, NULL, NULL), 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &b, 1, NULL, NULL), 0);
	const struct dp_binding *x = find6("2001:db8:300:1:aaaa:bbbb:0:5");
	cr_assert_not_null(x, "inside the /96");
	cr_assert_null(find6("2001:db8:300:1:aaaa:cccc:0:5"), "same first 64 bits, outside the /96");
	cr_assert_null(find6("2001:db8:300:1::5"), "same first 64 bits, outside the /96");
	const struct dp_binding *y = find6("2001:db8:100:7:ffff:ffff:ffff:ffff");
	cr_assert_not_null(y, "anywhere in the /64");
	cr_assert_neq(x, y);
	cr_assert_null(find6("2001:db8:100:6:ffff::1"), "the /64 next door");
	cr_assert_eq(dp_binding_delete(ctx.bindings, a.home_prefix, 96), 0);
	cr_assert_null(find6("2001:db8:300:1:aaaa:bbbb:0:5"));
	cr_assert_not_null(find6("2001:db8:100:7::1"));
}

/* A changed binding is a new entry; the old one is freed only after a grace period. */
Test(bindings, handover_replaces_the_entry_and_the_ipv4_key)
{
	struct ha_binding_spec a = spec("2001:db8:100:1::", 64, "2001:db8:aaaa::2", "10.45.0.2", 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &a, 1, NULL, NULL), 0);
	const struct dp_binding *old = find6("2001:db8:100:1::1");
	/* foreign to foreign with a NAT: IPv4 care-of address, new IPv4 home address */
	struct ha_binding_spec b = spec("2001:db8:100:1::", 64, "203.0.113.9", "10.45.0.7", 40001);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &b, 1, NULL, NULL), 0);
	const struct dp_binding *nb = find6("2001:db8:100:1::1");
	cr_assert_neq(nb, old);
	cr_assert_eq(nb->tunnel, DP_TUN_UDP4);
	cr_assert_eq(nb->udp_port_be, htons(40001));
	cr_assert_eq(nb->hdr_len, 28);
	cr_assert_eq(dp_binding_count(ctx.bindings), 1);
	cr_assert_null(find4("10.45.0.2"), "the old IPv4 home address is gone");
	cr_assert_eq(find4("10.45.0.7"), nb);
	dp_binding_reclaim(ctx.bindings); /* no reader registered: the grace period is over */
}

Test(bindings, delete_sweep_and_errors)
{
	struct ha_binding_spec a = spec("2001:db8:100:1::", 64, "2001:db8:aaaa::2", "10.45.0.2", 0);
	struct ha_binding_spec b = spec("2001:db8:100:2::", 64, "2001:db8:aaaa::3", "10.45.0.3", 0);
	struct ha_binding_spec c = spec("2001:db8:100:3::", 64, "2001:db8:aaaa::4", "10.45.0.2", 0);
	struct ha_binding_spec bad = spec("2001:db8:100::", 48, "2001:db8:aaaa::4", NULL, 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &a, 1, NULL, NULL), 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &b, 1, NULL, NULL), 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &c, 1, NULL, NULL), -EEXIST,
		     "10.45.0.2 belongs to another binding");
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &bad, 1, NULL, NULL), -EINVAL,
		     "no PDN uses /48 home prefixes");
	cr_assert_eq(dp_binding_delete(ctx.bindings, a.home_prefix, 64), 0);
	cr_assert_eq(dp_binding_delete(ctx.bindings, a.home_prefix, 64), -ENOENT);
	cr_assert_null(find4("10.45.0.2"));
	/* a restarted control plane re-asserts b in generation 2; the rest is swept */
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &a, 1, NULL, NULL), 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &b, 2, NULL, NULL), 0);
	cr_assert_eq(dp_binding_sweep(ctx.bindings, 2), 1);
	cr_assert_null(find6("2001:db8:100:1::1"));
	cr_assert_not_null(find6("2001:db8:100:2::1"));
	cr_assert_eq(dp_binding_count(ctx.bindings), 1);
}

Test(bindings, capacity)
{
	char p[64];
	for (int i = 0; i < 64; i++) {
		snprintf(p, sizeof(p), "2001:db8:100:%x::", i);
		struct ha_binding_spec s = spec(p, 64, "2001:db8:aaaa::2", NULL, 0);
		cr_assert_eq(dp_binding_upsert(ctx.bindings, &s, 1, NULL, NULL), 0, "%d", i);
	}
	struct ha_binding_spec s = spec("2001:db8:100:ffff::", 64, "2001:db8:aaaa::2", NULL, 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &s, 1, NULL, NULL), -ENOSPC);
	/* replacing at capacity still works (the spare entries cover it) */
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 64; i++) {
			snprintf(p, sizeof(p), "2001:db8:100:%x::", i);
			struct ha_binding_spec r = spec(p, 64, round % 2 ? "203.0.113.1" : "2001:db8:aaaa::9",
							NULL, 0);
			cr_assert_eq(dp_binding_upsert(ctx.bindings, &r, 1, NULL, NULL), 0);
		}
}

/* ---- bursts ----------------------------------------------------------------------------- */

static struct rte_mbuf *frame(const uint8_t *ip, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	cr_assert_not_null(m);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + len));
	memset(d, 0, 12);
	d[12] = (ip[0] >> 4) == 6 ? 0x86 : 0x08;
	d[13] = (ip[0] >> 4) == 6 ? 0xDD : 0x00;
	memcpy(d + 14, ip, len);
	return m;
}

static size_t ip6(uint8_t *b, uint8_t nh, const char *src, const char *dst, uint16_t plen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	b[4] = (uint8_t)(plen >> 8);
	b[5] = (uint8_t)plen;
	b[6] = nh;
	b[7] = 64;
	inet_pton(AF_INET6, src, b + 8);
	inet_pton(AF_INET6, dst, b + 24);
	return 40;
}

Test(burst, downlink_encapsulates_and_counts_misses)
{
	struct ha_binding_spec a = spec("2001:db8:100:1::", 64, "2001:db8:aaaa::2", NULL, 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &a, 1, NULL, NULL), 0);
	uint8_t p[80];
	ip6(p, 59, "2001:db8:9::1", "2001:db8:100:1::55", 8);
	struct rte_mbuf *in[3];
	in[0] = frame(p, 48);
	ip6(p, 59, "2001:db8:9::1", "2001:db8:100:2::55", 8);
	in[1] = frame(p, 48);
	ip6(p, 59, "2001:db8:9::1", "2001:db8:100:1::56", 8);
	p[7] = 1; /* hop limit 1: must not be forwarded */
	in[2] = frame(p, 48);
	struct dp_tx_out out = { 0 };
	dp_process_burst(&worker, &ctx, in, 3, false, &out);
	cr_assert_eq(out.q[DP_PORT_ACCESS].n, 1);
	cr_assert_eq(stats.c[DP_C_DOWNLINK], 1);
	cr_assert_eq(stats.c[DP_D_NO_BINDING], 1);
	cr_assert_eq(stats.c[DP_D_TTL], 1);
	struct rte_mbuf *m = out.q[DP_PORT_ACCESS].pkts[0];
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	cr_assert_eq(m->data_len, 14 + 40 + 48);
	cr_assert_eq(d[14 + 6], 41, "IPv6-in-IPv6");
	cr_assert_eq(d[14 + 5], 48, "outer payload length");
	cr_assert_eq(d[14 + 40 + 7], 63, "inner hop limit decremented");
	rte_pktmbuf_free(m);
	cr_assert_eq(rte_mempool_in_use_count(ctx.pool), 0, "dropped packets were freed");
}

Test(burst, uplink_checks_outer_source_and_punts_are_policed)
{
	struct ha_binding_spec a = spec("2001:db8:100:1::", 64, "2001:db8:aaaa::2", NULL, 0);
	cr_assert_eq(dp_binding_upsert(ctx.bindings, &a, 1, NULL, NULL), 0);
	uint8_t p[128];
	struct rte_mbuf *in[6];
	size_t o = ip6(p, 41, "2001:db8:aaaa::2", "2001:db8:ffff::1", 48);
	ip6(p + o, 59, "2001:db8:100:1::55", "2001:db8:9::1", 8);
	in[0] = frame(p, 88);
	ip6(p, 41, "2001:db8:aaaa::66", "2001:db8:ffff::1", 48); /* not the care-of address */
	in[1] = frame(p, 88);
	/* three Mobility Header packets: the policer lets punt_burst (2) through */
	struct ha_pkt_spec s = { .hao = true };
	inet_pton(AF_INET6, "2001:db8:aaaa::2", &s.src6);
	inet_pton(AF_INET6, "2001:db8:ffff::1", &s.dst6);
	inet_pton(AF_INET6, "2001:db8:100:1::55", &s.hoa);
	struct mh_msg bu = { .type = MH_TYPE_BU };
	int n = ha_pkt_build_mh(&s, &bu, p, sizeof(p));
	cr_assert_gt(n, 0);
	for (int i = 2; i < 5; i++)
		in[i] = frame(p, (size_t)n);
	ip6(p, 59, "2001:db8:100:1::55", "2001:db8:9::1", 0); /* plain IP on the access side */
	in[5] = frame(p, 40);
	struct dp_tx_out out = { 0 };
	dp_process_burst(&worker, &ctx, in, 6, true, &out);
	cr_assert_eq(out.q[DP_PORT_CORE].n, 1);
	cr_assert_eq(stats.c[DP_C_UPLINK], 1);
	cr_assert_eq(stats.c[DP_D_SPOOF_OUTER], 1);
	cr_assert_eq(stats.c[DP_D_PUNT_POLICED], 1);
	cr_assert_eq(stats.c[DP_D_NOT_TUNNELLED], 1);
	cr_assert_eq(stats.c[DP_C_PUNTED], 2);
	cr_assert_eq(stats.punt[HA_PUNT_MH], 2);
	struct rte_mbuf *m = out.q[DP_PORT_CORE].pkts[0];
	cr_assert_eq(m->data_len, 14 + 48, "outer header removed");
	rte_pktmbuf_free(m);
	/* the punted packets carry what the dataplane saw */
	void *pm[2];
	cr_assert_eq(rte_ring_dequeue_burst(ctx.punt, pm, 2, NULL), 2);
	const struct ha_pkt_meta *meta = rte_mbuf_to_priv((struct rte_mbuf *)pm[0]);
	uint8_t coa[16];
	inet_pton(AF_INET6, "2001:db8:aaaa::2", coa);
	cr_assert_eq(meta->version, HA_RING_VERSION);
	cr_assert_eq(meta->reason, HA_PUNT_MH);
	cr_assert_eq(meta->l3_off, 14);
	cr_assert_arr_eq(meta->outer_src, coa, 16);
	rte_pktmbuf_free(pm[0]);
	rte_pktmbuf_free(pm[1]);
	cr_assert_eq(rte_mempool_in_use_count(ctx.pool), 0);
}
