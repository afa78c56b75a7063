/*
 * ha-pktgen live: the other end of hadp's two ports, over net_memif (hadp's ports are memif
 * servers, this process connects as the client). It sends the packets of two captures (one
 * per port) at once, a packet of each in turn, reading both ports meanwhile; receives for a while, and writes what came back to two captures for the sink
 * (`ha-pktgen verify`) or any decoder. A DPDK primary process of its own (own file prefix,
 * one lcore): on this 2-CPU machine it shares the CPUs with hadp, so this is for behaviour,
 * not for throughput.
 *
 *   ha-pktgen-live --access-sock S --core-sock S --to-access IN.pcap --to-core IN.pcap
 *                  --from-access OUT.pcap --from-core OUT.pcap [--seconds N] [--lcore L]
 *                  [--then-to-access IN.pcap] [--then-to-core IN.pcap] [--pause-ms MS]
 *                  [--rx-queues N]   (hadp's workers + 1; default 2)
 *                  [--sent-log FILE] (when each packet of --to-access left, for latencies)
 *
 * The "then" captures go after a pause (receiving meanwhile): a UE's Binding Update first,
 * its traffic once the HA has answered.
 */
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define BURST 32

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* hadp sends on one queue per worker plus the control thread's (BAs, BRIs): listen on as
 * many (memif pairs each of our rx queues with one of hadp's tx queues) */
static uint16_t RXQ = 2;

struct port {
	const char *sock, *in, *out, *then;
	FILE *sent_log;              /* send time (CLOCK_MONOTONIC, ns) of each packet of in */
	uint16_t id;
	pcap_dumper_t *dump;
	pcap_t *dead;
	uint64_t sent, received;
};

static int port_up(struct port *p, const char *name, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = { 0 };
	if (rte_eth_dev_get_port_by_name(name, &p->id) != 0 ||
	    rte_eth_dev_configure(p->id, RXQ, 1, &conf) != 0 ||
	    rte_eth_tx_queue_setup(p->id, 0, 1024, (unsigned)rte_socket_id(), NULL) != 0)
		return -1;
	for (uint16_t q = 0; q < RXQ; q++)
		if (rte_eth_rx_queue_setup(p->id, q, 1024, (unsigned)rte_socket_id(), NULL, pool) != 0)
			return -1;
	if (rte_eth_dev_start(p->id) != 0)
		return -1;
	p->dead = pcap_open_dead(DLT_EN10MB, 65535);
	p->dump = pcap_dump_open(p->dead, p->out);
	return p->dump ? 0 : -1;
}

static void receive(struct port *p)
{
	struct rte_mbuf *m[BURST];
	struct rte_eth_link link;
	/* once hadp has gone, stop polling: DPDK 22.11's memif unmaps a departed peer's rings
	 * under a thread still in rx_burst */
	if (rte_eth_link_get_nowait(p->id, &link) != 0 || link.link_status == RTE_ETH_LINK_DOWN)
		return;
	for (uint16_t q = 0; q < RXQ; q++) {
		uint16_t n = rte_eth_rx_burst(p->id, q, m, BURST);
		uint64_t now = n ? mono_ns() : 0;
		for (uint16_t i = 0; i < n; i++) {
			/* the receive time on the monotonic clock, as the sent log has it */
			struct pcap_pkthdr h = { .caplen = m[i]->data_len, .len = m[i]->pkt_len };
			h.ts.tv_sec = (time_t)(now / 1000000000ull);
			h.ts.tv_usec = (suseconds_t)(now % 1000000000ull / 1000);
			pcap_dump((u_char *)p->dump, &h, rte_pktmbuf_mtod(m[i], const u_char *));
			rte_pktmbuf_free(m[i]);
		}
		p->received += n;
	}
}

/* One packet to port p as soon as the link takes it (at most a second), both ports read while
 * it waits: a peer that sends while it cannot receive would make hadp drop its answers. */
static int send_one(struct port *p, struct port *both[2], const struct pcap_pkthdr *h,
		    const u_char *d, struct rte_mempool *pool, bool logged)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *dst;
	if (!m || !(dst = rte_pktmbuf_append(m, (uint16_t)h->caplen))) {
		rte_pktmbuf_free(m);
		return -1;
	}
	memcpy(dst, d, h->caplen);
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz();
	while (rte_eth_tx_burst(p->id, 0, &m, 1) == 0) {
		if (rte_get_tsc_cycles() > deadline) {
			rte_pktmbuf_free(m);
			return -1;
		}
		receive(both[0]);
		receive(both[1]);
	}
	if (p->sent_log && logged)
		fprintf(p->sent_log, "%llu %llu\n", (unsigned long long)p->sent,
			(unsigned long long)mono_ns());
	p->sent++;
	return 0;
}

/* Send a capture to each port (either may be NULL), a packet of each in turn, reading both
 * ports every BURST packets: signalling on one port and data on the other leave at once. */
static int send_files(struct port *both[2], const char *files[2], struct rte_mempool *pool)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc[2] = { NULL, NULL };
	int rc = 0, left = 0;
	unsigned n = 0;

	for (int i = 0; i < 2 && rc == 0; i++) {
		if (files[i] && !(pc[i] = pcap_open_offline(files[i], err))) {
			fprintf(stderr, "ha-pktgen-live: %s: %s\n", files[i], err);
			rc = -1;
		}
		left += pc[i] != NULL;
	}
	while (rc == 0 && left > 0) {
		for (int i = 0; i < 2 && rc == 0; i++) {
			struct pcap_pkthdr *h;
			const u_char *d;
			if (!pc[i])
				continue;
			if (pcap_next_ex(pc[i], &h, &d) != 1) {
				pcap_close(pc[i]);
				pc[i] = NULL;
				left--;
				continue;
			}
			rc = send_one(both[i], both, h, d, pool, files[i] == both[i]->in);
		}
		if (++n % BURST == 0) {
			receive(both[0]);
			receive(both[1]);
		}
	}
	for (int i = 0; i < 2; i++)
		if (pc[i])
			pcap_close(pc[i]);
	return rc;
}

/* SIGINT/SIGTERM end the capture early, the captures written as at the deadline: a test keeps
 * the memif link up while hadp runs (a peer that disconnects under a polling DPDK 22.11 memif
 * server can crash it) and stops us after hadp. SIGUSR1 first ends the polling and keeps the
 * link: hadp may then close its ports while we are not inside rte_eth_rx_burst (whose rings a
 * departing server unmaps under it). */
static volatile sig_atomic_t stop, hold;

static void on_stop(int sig)
{
	if (sig == SIGUSR1)
		hold = 1;
	else
		stop = 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "access-sock", required_argument, NULL, 'a' }, { "core-sock", required_argument, NULL, 'c' },
		{ "to-access", required_argument, NULL, 'A' }, { "to-core", required_argument, NULL, 'C' },
		{ "from-access", required_argument, NULL, 'x' }, { "from-core", required_argument, NULL, 'y' },
		{ "seconds", required_argument, NULL, 's' }, { "lcore", required_argument, NULL, 'l' },
		{ "then-to-access", required_argument, NULL, 'T' },
		{ "then-to-core", required_argument, NULL, 'U' },
		{ "pause-ms", required_argument, NULL, 'p' },
		{ "rx-queues", required_argument, NULL, 'r' },
		{ "sent-log", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct port acc = { 0 }, core = { 0 };
	unsigned seconds = 3, lcore = 1, pause_ms = 1000;
	uint16_t pid;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': acc.sock = optarg; break;
		case 'c': core.sock = optarg; break;
		case 'A': acc.in = optarg; break;
		case 'C': core.in = optarg; break;
		case 'x': acc.out = optarg; break;
		case 'y': core.out = optarg; break;
		case 's': seconds = (unsigned)atoi(optarg); break;
		case 'l': lcore = (unsigned)atoi(optarg); break;
		case 'T': acc.then = optarg; break;
		case 'U': core.then = optarg; break;
		case 'p': pause_ms = (unsigned)atoi(optarg); break;
		case 'r': RXQ = (uint16_t)atoi(optarg); break;
		case 'L':
			if (!(acc.sent_log = fopen(optarg, "w"))) {
				perror(optarg);
				return 2;
			}
			break;
		default: return 2;
		}
	}
	if (!acc.sock || !core.sock || !acc.in || !core.in || !acc.out || !core.out) {
		fprintf(stderr, "usage: ha-pktgen-live --access-sock S --core-sock S --to-access IN "
				"--to-core IN --from-access OUT --from-core OUT [--seconds N]\n");
		return 2;
	}
	char l[32], prefix[64], va[512], vc[512];
	snprintf(l, sizeof(l), "%u", lcore);
	snprintf(prefix, sizeof(prefix), "--file-prefix=ha-pktgen-%d", getpid());
	snprintf(va, sizeof(va), "--vdev=net_memif0,role=client,id=0,rsize=12,socket=%s", acc.sock);
	snprintf(vc, sizeof(vc), "--vdev=net_memif1,role=client,id=0,rsize=12,socket=%s", core.sock);
	char *eargv[] = { "ha-pktgen-live", "-l", l, "--no-pci", "--no-telemetry", "--in-memory",
			  "--log-level=*:warning", prefix, va, vc, NULL };
	if (rte_eal_init(10, eargv) < 0) {
		fprintf(stderr, "ha-pktgen-live: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	struct rte_mempool *pool = rte_pktmbuf_pool_create("pg_live", 8191, 256, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	int rc = 1;
	if (!pool || port_up(&acc, "net_memif0", pool) < 0 || port_up(&core, "net_memif1", pool) < 0) {
		fprintf(stderr, "ha-pktgen-live: ports: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	/* wait for hadp to accept both connections */
	uint64_t hz = rte_get_tsc_hz(), deadline = rte_get_tsc_cycles() + 5 * hz;
	struct rte_eth_link la, lc;
	do {
		rte_eth_link_get_nowait(acc.id, &la);
		rte_eth_link_get_nowait(core.id, &lc);
		rte_delay_ms(10);
	} while ((!la.link_status || !lc.link_status) && rte_get_tsc_cycles() < deadline);
	if (!la.link_status || !lc.link_status) {
		fprintf(stderr, "ha-pktgen-live: memif links not up (is hadp running?)\n");
		goto out;
	}
	struct port *both[2] = { &acc, &core };
	if (send_files(both, (const char *[2]){ acc.in, core.in }, pool) < 0) {
		fprintf(stderr, "ha-pktgen-live: sending failed\n");
		goto out;
	}
	if (acc.then || core.then) {
		deadline = rte_get_tsc_cycles() + pause_ms * hz / 1000;
		while (rte_get_tsc_cycles() < deadline) {
			receive(&acc);
			receive(&core);
		}
		if (send_files(both, (const char *[2]){ acc.then, core.then }, pool) < 0) {
			fprintf(stderr, "ha-pktgen-live: sending failed\n");
			goto out;
		}
	}
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_stop);
	deadline = rte_get_tsc_cycles() + seconds * hz;
	while (rte_get_tsc_cycles() < deadline && !stop && !hold) {
		receive(&acc);
		receive(&core);
	}
	while (hold && !stop && rte_get_tsc_cycles() < deadline)
		rte_delay_us_sleep(1000); /* the link stays up until hadp has gone */
	printf("ha-pktgen-live: sent %llu to access, %llu to core; received %llu from access, "
	       "%llu from core\n", (unsigned long long)acc.sent, (unsigned long long)core.sent,
	       (unsigned long long)acc.received, (unsigned long long)core.received);
	rc = 0;
out:
	RTE_ETH_FOREACH_DEV(pid) {
		rte_eth_dev_stop(pid);
		rte_eth_dev_close(pid);
	}
	if (acc.sent_log)
		fclose(acc.sent_log);
	if (acc.dump)
		pcap_dump_close(acc.dump);
	if (core.dump)
		pcap_dump_close(core.dump);
	if (acc.dead)
		pcap_close(acc.dead);
	if (core.dead)
		pcap_close(core.dead);
	char run_dir[PATH_MAX];
	snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(run_dir); /* --in-memory leaves it empty */
	return rc;
}
