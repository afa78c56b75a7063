/*
 * A hadp of another release, as far as hacpd can tell: a DPDK primary process that publishes an
 * instance record (shared/ha_ring.h) with another ring version, and the rings, then waits to be
 * stopped. hacpd must refuse to attach to it with a message naming both versions, never speak
 * a contract it does not know (docs/restarts.md, "Upgrades").
 *
 * usage: other-hadp FILE_PREFIX RING_VERSION   (runs until SIGINT or SIGTERM)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "ha_ring.h"

static volatile sig_atomic_t quit;

static void on_signal(int s)
{
	(void)s;
	quit = 1;
}

int main(int argc, char **argv)
{
	char prefix[128];
	if (argc != 3)
		return 2;
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", argv[1]);
	char *eargv[] = { "other-hadp", "--no-pci", "--no-telemetry", "--log-level=*:warning",
			  "-l", "0", prefix, NULL };
	if (rte_eal_init(7, eargv) < 0)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rte_ring_create_elem(HA_SHM_RING_CMD, sizeof(struct ha_cmd), 64, SOCKET_ID_ANY, 0);
	const struct rte_memzone *mz = rte_memzone_reserve(HA_SHM_INSTANCE,
							   sizeof(struct ha_instance),
							   SOCKET_ID_ANY, 0);
	if (!mz)
		return 1;
	struct ha_instance *in = mz->addr;
	*in = (struct ha_instance){ .ring_version = (uint16_t)atoi(argv[2]), .id = 42,
				    .pid = (uint32_t)getpid() };
	__atomic_store_n(&in->magic, HA_INSTANCE_MAGIC, __ATOMIC_RELEASE);
	printf("other-hadp: ring version %s\n", argv[2]);
	fflush(stdout);
	while (!quit)
		usleep(10000);
	rte_eal_cleanup();
	return 0;
}
