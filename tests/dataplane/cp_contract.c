/*
 * The ring contract of shared/ha_ring.h seen from the control plane's side: a DPDK secondary
 * process attached to a running hadp, doing what hacpd will do. It installs SAs and a binding
 * through the cmd ring and checks every ack (including the refusals), reads a punted Binding
 * Update with its metadata, and hands hadp two Binding Acknowledgements to send: one under an
 * ESP transport mode SA (RFC 4877), one wrapped in UDP 4191 to a NAT mapping (RFC 5555).
 *
 * usage: cp-contract FILE_PREFIX   (prints "N passed, M failed"; exit 1 on any failure)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "ha_pkt.h"
#include "ha_ring.h"

#define HA6 "2001:db8:ffff::1"
#define COA6 "2001:db8:aaaa::2"
#define HOA6 "2001:db8:100:1::55"
#define NAT4 "203.0.113.30"

static unsigned passed, failed;

#define CHECK(cond, ...)                                                                     \
	do {                                                                                 \
		if (cond) {                                                                  \
			passed++;                                                            \
		} else {                                                                     \
			failed++;                                                            \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                          \
			printf(__VA_ARGS__);                                                 \
			printf("\n");                                                        \
		}                                                                            \
	} while (0)

static struct rte_ring *cmd_ring, *ack_ring;
static uint32_t next_seq = 1;

/* Send one command and wait for its ack. @return the result, or 1 on a timeout. */
static int command(struct ha_cmd *c)
{
	struct ha_cmd_ack ack;
	uint64_t deadline = rte_get_tsc_cycles() + 2 * rte_get_tsc_hz();

	if (!c->version)
		c->version = HA_RING_VERSION;
	c->seq = next_seq++;
	if (rte_ring_sp_enqueue_elem(cmd_ring, c, sizeof(*c)) != 0)
		return 1;
	while (rte_get_tsc_cycles() < deadline)
		if (rte_ring_sc_dequeue_elem(ack_ring, &ack, sizeof(ack)) == 0) {
			if (ack.seq != c->seq || ack.type != c->type)
				return 2;
			return ack.result;
		}
	return 1;
}

static struct ha_sa_spec transport_sa(uint32_t spi, uint8_t dir, uint8_t key0)
{
	struct ha_sa_spec s = {
		.spi = spi, .direction = dir, .mode = HA_SA_TRANSPORT, .family = AF_INET6,
		.encryption = HA_CFG_ENC_AES_GCM_128, .integrity = HA_CFG_INTEG_NONE, .key_len = 20,
	};
	inet_pton(AF_INET6, HA6, s.local);
	inet_pton(AF_INET6, HOA6, s.peer);
	for (int i = 0; i < 20; i++)
		s.key[i] = (uint8_t)(key0 + i);
	return s;
}

/* A BA to the UE, as hacpd builds it (RFC 6275 6.1.8: to the care-of address with RH2). */
static struct rte_mbuf *ba(struct rte_mempool *pool, uint16_t seq, uint16_t port, bool via_udp)
{
	struct ha_pkt_spec s = { 0 };
	struct mh_msg m = { .type = MH_TYPE_BA };
	uint8_t buf[256];

	inet_pton(AF_INET6, HA6, &s.src6);
	m.ba.seq = seq;
	m.ba.lifetime = 900;
	if (via_udp) { /* RFC 5555: IPv6 to the home address, hadp adds IPv4/UDP */
		inet_pton(AF_INET6, HOA6, &s.dst6);
	} else {
		inet_pton(AF_INET6, COA6, &s.dst6);
		s.rh2 = true;
		inet_pton(AF_INET6, HOA6, &s.rh2_hoa);
	}
	int n = ha_pkt_build_mh(&s, &m, buf, sizeof(buf));
	struct rte_mbuf *mb = rte_pktmbuf_alloc(pool);
	if (n < 0 || !mb)
		return NULL;
	memcpy(rte_pktmbuf_append(mb, (uint16_t)n), buf, (size_t)n);
	struct ha_pkt_meta *meta = rte_mbuf_to_priv(mb);
	memset(meta, 0, sizeof(*meta));
	meta->version = HA_RING_VERSION;
	meta->port = port;
	if (via_udp) {
		meta->flags = HA_META_F_UDP | HA_META_F_OUTER4;
		inet_pton(AF_INET, NAT4, meta->outer_dst);
		meta->udp_sport = HA_UDP_PORT_DSMIP;
		meta->udp_dport = 40001;
	} else {
		meta->flags = HA_META_F_ESP;
		meta->sa_spi = 0x4001;
	}
	return mb;
}

int main(int argc, char **argv)
{
	char prefix[128];
	if (argc != 2)
		return 2;
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[1]);
	/* an lcore id of its own: DPDK's per-lcore mempool caches are shared by the processes of
	 * the group, and hadp's control thread is lcore 0 */
	char *eargv[] = { "cp-contract", "--proc-type=secondary", "--no-pci", "--no-telemetry",
			  "--log-level=*:error", "--lcores=100@0", prefix, NULL };
	if (rte_eal_init(7, eargv) < 0) {
		printf("FAIL: cannot attach to hadp\n0 passed, 1 failed\n");
		return 1;
	}
	struct rte_mempool *pool = rte_mempool_lookup(HA_SHM_MBUF_POOL);
	struct rte_ring *punt = rte_ring_lookup(HA_SHM_RING_PUNT);
	struct rte_ring *tx = rte_ring_lookup(HA_SHM_RING_TX);
	cmd_ring = rte_ring_lookup(HA_SHM_RING_CMD);
	ack_ring = rte_ring_lookup(HA_SHM_RING_ACK);
	CHECK(pool && punt && tx && cmd_ring && ack_ring, "shared objects by name");
	if (!pool || !punt || !tx || !cmd_ring || !ack_ring)
		goto out;

	/* SAs for the UE's signalling (RFC 4877 transport mode) */
	struct ha_cmd c = { .type = HA_CMD_SA_ADD };
	c.sa = transport_sa(0x4001, HA_SA_OUT, 0x60);
	CHECK(command(&c) == 0, "SA add (out)");
	c = (struct ha_cmd){ .type = HA_CMD_SA_ADD };
	c.sa = transport_sa(0x4002, HA_SA_IN, 0x80);
	CHECK(command(&c) == 0, "SA add (in)");
	c = (struct ha_cmd){ .type = HA_CMD_SA_ADD };
	c.sa = transport_sa(0x4003, HA_SA_IN, 0x80);
	c.sa.key_len = 7;
	CHECK(command(&c) == -EINVAL, "SA add with a bad key length is refused");

	/* a binding: upsert, then refusals */
	c = (struct ha_cmd){ .type = HA_CMD_BINDING_UPSERT, .generation = 1 };
	inet_pton(AF_INET6, "2001:db8:100:9::", c.binding.home_prefix);
	c.binding.home_prefix_len = 64;
	inet_pton(AF_INET6, "2001:db8:aaaa::9", c.binding.coa);
	CHECK(command(&c) == 0, "binding upsert");
	c.binding.home_prefix_len = 48;
	CHECK(command(&c) == -EINVAL, "binding with a prefix length no PDN uses");
	c = (struct ha_cmd){ .type = HA_CMD_BINDING_DELETE };
	inet_pton(AF_INET6, "2001:db8:100:77::", c.binding.home_prefix);
	c.binding.home_prefix_len = 64;
	CHECK(command(&c) == -ENOENT, "deleting an unknown binding");
	c = (struct ha_cmd){ .type = HA_CMD_SA_DELETE };
	c.sa_del.spi = 0x2008;
	c.sa_del.direction = HA_SA_OUT;
	CHECK(command(&c) == -EBUSY, "deleting an SA a binding uses");
	c = (struct ha_cmd){ .type = HA_CMD_SYNC_END, .generation = 9 };
	CHECK(command(&c) == -EINVAL, "sync end without a sync begin");
	c = (struct ha_cmd){ .type = HA_CMD_BINDING_UPSERT, .version = HA_RING_VERSION + 1 };
	CHECK(command(&c) == -EPROTO, "a message of another version");

	/* a restarted control plane re-asserts what it holds between sync begin and end; what it
	 * did not re-assert is swept, the YAML's static bindings (generation 0) stay */
	c = (struct ha_cmd){ .type = HA_CMD_BINDING_UPSERT, .generation = 1 };
	inet_pton(AF_INET6, "2001:db8:100:a::", c.binding.home_prefix);
	c.binding.home_prefix_len = 64;
	inet_pton(AF_INET6, "2001:db8:aaaa::a", c.binding.coa);
	CHECK(command(&c) == 0, "a second binding of generation 1");
	c = (struct ha_cmd){ .type = HA_CMD_SYNC_BEGIN, .generation = 2 };
	CHECK(command(&c) == 0, "sync begin");
	c = (struct ha_cmd){ .type = HA_CMD_BINDING_UPSERT, .generation = 2 };
	inet_pton(AF_INET6, "2001:db8:100:9::", c.binding.home_prefix);
	c.binding.home_prefix_len = 64;
	inet_pton(AF_INET6, "2001:db8:aaaa::9", c.binding.coa);
	CHECK(command(&c) == 0, "the first re-asserted during the sync");
	c = (struct ha_cmd){ .type = HA_CMD_SYNC_END, .generation = 2 };
	CHECK(command(&c) == 0, "sync end");
	c = (struct ha_cmd){ .type = HA_CMD_BINDING_DELETE };
	inet_pton(AF_INET6, "2001:db8:100:a::", c.binding.home_prefix);
	c.binding.home_prefix_len = 64;
	CHECK(command(&c) == -ENOENT, "the second, not re-asserted, was swept");

	/* the punted BU, with what the dataplane saw */
	void *pm = NULL;
	uint64_t deadline = rte_get_tsc_cycles() + 2 * rte_get_tsc_hz();
	while (rte_get_tsc_cycles() < deadline && rte_ring_sc_dequeue(punt, &pm) != 0)
		;
	CHECK(pm != NULL, "a punted packet");
	if (pm) {
		struct rte_mbuf *m = pm;
		const struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
		uint8_t coa[16];
		inet_pton(AF_INET6, COA6, coa);
		CHECK(meta->version == HA_RING_VERSION && meta->reason == HA_PUNT_MH,
		      "punt metadata: version %u reason %u", meta->version, meta->reason);
		CHECK(!memcmp(meta->outer_src, coa, 16), "punt metadata: the care-of address");
		struct ha_pkt p;
		struct mh_msg msg;
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
		CHECK(ha_pkt_classify_eth(d, m->data_len, &p) == HA_OK &&
			      ha_pkt_parse_mh(d, &p, &msg) == HA_OK && msg.type == MH_TYPE_BU &&
			      msg.bu.seq == 21,
		      "the punted packet is the BU");
		rte_pktmbuf_free(m);
	}

	/* two BAs for hadp to send on the access port */
	uint16_t access = 0;
	struct rte_mbuf *out[2] = { ba(pool, 21, access, false), ba(pool, 22, access, true) };
	CHECK(out[0] && out[1], "BA mbufs");
	if (out[0] && out[1])
		CHECK(rte_ring_sp_enqueue_burst(tx, (void **)out, 2, NULL) == 2, "tx ring");
out:
	printf("cp contract: %u passed, %u failed\n", passed, failed);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
