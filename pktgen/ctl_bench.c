/*
 * hadp's control thread sending BAs, without hacpd or a peer: N UEs' transport mode SAs in the
 * SA table, their BAs (IPv6, type 2 routing header, Binding Acknowledgement) put on the tx ring
 * in bursts as hacpd would, and dp_ctl_transmit() encrypting and sending them to a net_null
 * port (which frees what it is given). Prints the TSC per BA; under
 * `valgrind --tool=callgrind --toggle-collect=dp_ctl_transmit` the instructions per BA are
 * repeatable where the TSC is not (docs/performance.md).
 *
 * usage: ha-ctl-bench [UES [BURST [ROUNDS]]]   (defaults 2000, 32, 5)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_ctl.h"
#include "dp_ctx.h"
#include "dp_esp.h"
#include "dp_runtime_dir.h"
#include "dp_sa_table.h"
#include "ha_config.h"
#include "ha_pkt.h"

struct dp_ctx *dp_global;
static struct dp_ctx ctx;
static struct dp_ctl ctl;
static struct dp_stats st;
static struct dp_esp_ctx esp;

#define HA6 "2001:db8:ffff::1"
#define COA6 "2001:db8:aaaa::2"

static int port_up(const char *name, uint16_t *id)
{
	struct rte_eth_conf conf = { 0 };
	if (rte_eth_dev_get_port_by_name(name, id) != 0 ||
	    rte_eth_dev_configure(*id, 1, 2, &conf) != 0 ||
	    rte_eth_rx_queue_setup(*id, 0, 512, 0, NULL, ctx.pool) != 0)
		return -1;
	for (uint16_t q = 0; q < 2; q++)
		if (rte_eth_tx_queue_setup(*id, q, 512, 0, NULL) != 0)
			return -1;
	return rte_eth_dev_start(*id);
}

/* UE i's BA as hacpd hands it over: HA -> CoA, routing header type 2 with the HoA, the MH
 * (the codec's builder, as hacpd's cp_out.c makes it). */
static struct rte_mbuf *ba(unsigned i)
{
	struct ha_pkt_spec spec = { .rh2 = true };
	struct mh_msg msg = { .type = MH_TYPE_BA, .ba = { .seq = 1, .lifetime = 900 } };
	char hoa[64];
	uint8_t buf[256];
	inet_pton(AF_INET6, HA6, &spec.src6);
	inet_pton(AF_INET6, COA6, &spec.dst6);
	snprintf(hoa, sizeof(hoa), "2001:db8:100:%x::1", i);
	inet_pton(AF_INET6, hoa, &spec.rh2_hoa);
	int len = ha_pkt_build_mh(&spec, &msg, buf, sizeof(buf));
	struct rte_mbuf *m = len > 0 ? rte_pktmbuf_alloc(ctx.pool) : NULL;
	if (!m)
		return NULL;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (!p) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, buf, (size_t)len);
	struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
	memset(meta, 0, sizeof(*meta));
	meta->version = HA_RING_VERSION;
	meta->flags = HA_META_F_ESP;
	meta->port = ctx.ports[DP_PORT_ACCESS].port_id;
	meta->sa_spi = 0x200000 + i;
	return m;
}

int main(int argc, char **argv)
{
	unsigned ues = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
	unsigned burst = argc > 2 ? (unsigned)atoi(argv[2]) : 32;
	unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 5;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=ctl_bench_%d", getpid());
	char *eargv[] = { "ha-ctl-bench", "--no-huge", "--no-pci", "--no-telemetry", "-m", "512",
			  "--log-level=*:error", "--vdev=net_null0", "--vdev=net_null1", prefix,
			  NULL };
	if (ues == 0 || burst == 0 || burst > DP_BURST || rounds == 0) {
		fprintf(stderr, "usage: ha-ctl-bench [UES [BURST (1-%u) [ROUNDS]]]\n", DP_BURST);
		return 2;
	}
	if (rte_eal_init((int)RTE_DIM(eargv) - 1, eargv) < 0) {
		fprintf(stderr, "ha-ctl-bench: EAL initialisation failed\n");
		return 1;
	}
	int rc = 1;
	dp_global = &ctx;
	inet_pton(AF_INET6, HA6, ctx.ha6);
	ctx.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	ctx.pool = rte_pktmbuf_pool_create("ctl_bench", 8191, 256,
					   RTE_ALIGN(sizeof(struct ha_pkt_meta), RTE_MBUF_PRIV_ALIGN),
					   RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	ctx.tx = rte_ring_create("ctl_bench_tx", 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!ctx.qsbr || rte_rcu_qsbr_init(ctx.qsbr, 1) != 0 || !ctx.pool || !ctx.tx ||
	    !(ctx.sas = dp_sa_table_create(ues, 0, ctx.qsbr, 1, NULL)) ||
	    dp_esp_ctx_init(&esp, 0) != 0) {
		fprintf(stderr, "ha-ctl-bench: set-up failed\n");
		goto out;
	}
	ctx.ctl_esp = &esp;
	static const char *const names[DP_PORT__COUNT] = { "net_null0", "net_null1" };
	union dp_next_hop nh = { .mac = { { 0x02, 0, 0, 0, 0x0a, 0x01 } } };
	nh.octet[DP_NH_VALID_OCTET] = nh.octet[DP_NH_ROUTE_OCTET] = 1;
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		if (port_up(names[r], &ctx.ports[r].port_id) != 0) {
			fprintf(stderr, "ha-ctl-bench: %s\n", names[r]);
			goto out;
		}
		ctx.ports[r].n_txq = 2;
		ctx.ports[r].ctl_txq = (struct dp_txq){ .queue = 1 }; /* its own, no lock */
		ctx.ports[r].next_hop_word = nh.word;
	}
	for (unsigned i = 0; i < ues; i++) {
		struct ha_sa_spec s = { .spi = 0x200000 + i, .direction = HA_SA_OUT,
					.mode = HA_SA_TRANSPORT, .family = AF_INET6,
					.encryption = HA_CFG_ENC_AES_GCM_128,
					.integrity = HA_CFG_INTEG_NONE, .key_len = 20 };
		for (unsigned k = 0; k < 20; k++)
			s.key[k] = (uint8_t)(i + k);
		if (dp_sa_table_add(ctx.sas, &s, 0) != 0) {
			fprintf(stderr, "ha-ctl-bench: SA %u\n", i);
			goto out;
		}
	}
	/* every UE's BA once per round, put on the ring a burst at a time */
	uint64_t cycles = 0, sent = 0;
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < ues; i += burst) {
			struct rte_mbuf *m[DP_BURST];
			unsigned n = RTE_MIN(burst, ues - i);
			for (unsigned j = 0; j < n; j++)
				if (!(m[j] = ba(i + j)))
					goto out;
			if (rte_ring_sp_enqueue_bulk(ctx.tx, (void **)m, n, NULL) != n)
				goto out;
			uint64_t t0 = rte_rdtsc();
			unsigned k = dp_ctl_transmit(&ctx, &ctl, &st);
			cycles += rte_rdtsc() - t0;
			sent += k;
		}
	}
	printf("ha-ctl-bench: %u UEs, bursts of %u, %llu BAs sent (%llu encrypted, %llu dropped): "
	       "%.0f TSC cycles per BA\n", ues, burst, (unsigned long long)st.c[DP_C_CP_TX],
	       (unsigned long long)st.c[DP_C_ESP_ENCRYPTED],
	       (unsigned long long)(sent - st.c[DP_C_CP_TX]), (double)cycles / (double)sent);
	rc = st.c[DP_C_CP_TX] == (uint64_t)ues * rounds ? 0 : 1;
out:
	dp_ctl_release(&ctl, &st);
	dp_esp_ctx_free(&esp);
	dp_eal_cleanup();
	return rc;
}
