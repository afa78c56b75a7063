/*
 * hacpd's attachment to hadp, across runs of hadp (docs/restarts.md): wait for a hadp of the
 * configuration's file prefix, attach as its DPDK secondary process, check the contract it
 * speaks (HA_RING_VERSION in its instance record, shared/ha_ring.h) and find its rings; notice
 * within milliseconds when it dies, and start over by executing hacpd again, from the path
 * its binary is installed at (an upgraded one, if it was replaced): DPDK cannot detach a
 * secondary and attach it anew in one process, and the state files carry everything over.
 */
#ifndef CP_ATTACH_H
#define CP_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "ha_config.h"
#include "ha_ring.h"

struct rte_mempool;
struct rte_ring;

struct cp_attach {
	struct rte_mempool *pool;
	struct rte_ring *punt, *tx, *cmd, *ack;
	struct ha_instance instance;  /* hadp's record, as read at attach */
	const struct ha_instance *live; /* the record itself: its magic goes when hadp stops */
	int config_fd;                /* hadp's EAL configuration, locked while it lives */
	bool waited;                  /* hadp was not there at first */
};

/** Keep argv for cp_attach_restart (before anything changes it). */
void cp_attach_save_args(int argc, char **argv);

/**
 * Wait for hadp and attach (EAL as a secondary on hacpd's own lcore). Returns 0 once attached.
 * A hadp of another contract: a line saying so and -EPROTO (the caller exits: running this
 * hacpd against it would misread every message). Other failures restart hacpd after a pause,
 * up to a minute's worth, then -ENODEV.
 */
int cp_attach(const struct ha_config *cfg, struct cp_attach *a);

/** hadp still runs: one fcntl (a hadp killed); cheap enough for every few milliseconds. */
bool cp_attach_alive(const struct cp_attach *a);

/** hadp is stopping cleanly (its record retired): one load, for every turn. */
static inline bool cp_attach_stopping(const struct cp_attach *a)
{
	return __atomic_load_n(&a->live->magic, __ATOMIC_ACQUIRE) != HA_INSTANCE_MAGIC;
}

/** Execute hacpd again with the same arguments (every descriptor closed). */
noreturn void cp_attach_restart(void);

#endif
