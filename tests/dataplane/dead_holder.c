/*
 * A control plane that dies holding mbufs: attaches to a running hadp as a DPDK secondary
 * process, takes COUNT mbufs from hadp's pool, marks them as a hacpd of run GENERATION does
 * (controlplane/cp_mbuf.h) and exits without giving them back, as a hacpd killed with SIGKILL
 * in the middle of its work would. The next hacpd must take them back. With IN_RING, as many
 * more marked mbufs are left in the punt ring, as a hacpd killed between reading the ring (its
 * peek) and letting go of what it read leaves them: the next hacpd must serve those, not free
 * them.
 *
 * usage: dead-holder FILE_PREFIX COUNT GENERATION [IN_RING]   (exit 1 on failure)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "cp_mbuf.h"
#include "ha_ring.h"

int main(int argc, char **argv)
{
	char prefix[128];
	if (argc != 4 && argc != 5)
		return 2;
	unsigned in_ring = argc == 5 ? (unsigned)atoi(argv[4]) : 0;
	unsigned count = (unsigned)atoi(argv[2]);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[1]);
	/* an lcore id of its own, as hacpd's: never share a per-lcore mempool cache with hadp */
	char *eargv[] = { "dead-holder", "--proc-type=secondary", "--no-pci", "--no-telemetry",
			  "--log-level=*:error", "--lcores=100@0", prefix, NULL };
	if (rte_eal_init(7, eargv) < 0) {
		printf("dead-holder: cannot attach to hadp\n");
		return 1;
	}
	struct rte_mempool *pool = rte_mempool_lookup(HA_SHM_MBUF_POOL);
	if (!pool || cp_mbuf_init((uint32_t)strtoul(argv[3], NULL, 0)) < 0) {
		printf("dead-holder: no pool or no mbuf field\n");
		return 1;
	}
	unsigned took = 0;
	for (; took < count; took++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (!m)
			break;
		cp_mbuf_hold(m);
	}
	struct rte_ring *punt = rte_ring_lookup(HA_SHM_RING_PUNT);
	unsigned left = 0;
	for (; punt && left < in_ring; left++) {
		/* a punt of no known kind: hacpd counts it and frees it */
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (!m || !rte_pktmbuf_append(m, 60))
			break;
		memset(rte_mbuf_to_priv(m), 0, sizeof(struct ha_pkt_meta));
		cp_mbuf_hold(m);
		if (rte_ring_mp_enqueue(punt, m) != 0)
			break;
	}
	printf("dead-holder: holding %u mbufs, %u left marked in the punt ring\n", took, left);
	fflush(stdout);
	_exit(took == count && left == in_ring ? 0 : 1); /* no cleanup: the mbufs stay taken */
}
