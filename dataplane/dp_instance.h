/*
 * This run of hadp among the runs before and after it (docs/restarts.md): it waits until the
 * processes attached to a previous run (a hacpd that has not yet let go of a killed hadp's
 * memory) have detached, then publishes its instance record for hacpd (shared/ha_ring.h).
 */
#ifndef DP_INSTANCE_H
#define DP_INSTANCE_H

#include <stdint.h>

/** Before rte_eal_init: wait up to timeout_ms until no process holds the memory of a previous
 *  hadp of this file prefix. 0, or -EBUSY (a line on stderr says who to stop). */
int dp_wait_previous_run(const char *file_prefix, unsigned timeout_ms);

/** After the shared objects: the instance record (HA_SHM_INSTANCE). 0 or -ENOMEM. */
int dp_instance_publish(uint64_t start_ns);

/** A clean stop, before the shared objects are freed: the record says this run is over, and
 *  hadp gives hacpd (which looks at every turn of its loop) a moment to let go of them. */
void dp_instance_retire(void);

#endif
