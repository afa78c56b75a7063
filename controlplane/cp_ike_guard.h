/*
 * The detach guard (003 8.4.3.1, 004 5.4.2.1): after a network-initiated detach the UE closes
 * its IKE SA itself (INFORMATIONAL with DELETE, protocol 1): the HA waits for that DELETE, and
 * deletes the IKE SA on its own only when the UE has not done so within ike.detach_guard_s.
 *
 * Every guard lasts the same time, so they fall due in the order they were armed: a FIFO ring,
 * whose head alone is looked at. Pure (no I/O): the caller asks what is due and deletes what
 * is still there. Guards live in hacpd's memory only: a restarted hacpd has none (the IKE SA
 * then ends at the UE's DELETE or its lifetime). Owner: hacpd's main thread.
 */
#ifndef CP_IKE_GUARD_H
#define CP_IKE_GUARD_H

#include <stdint.h>

struct cp_ike_guard {
	struct cp_ike_guard_entry {
		uint32_t ike_sa;
		uint64_t due_ms;
	} *ring;
	uint32_t capacity, head, n;
	uint64_t guard_ms;
};

/** A ring of capacity guards, each lasting guard_s seconds. 0 or -ENOMEM. */
int cp_ike_guard_init(struct cp_ike_guard *g, uint32_t capacity, uint32_t guard_s);
void cp_ike_guard_free(struct cp_ike_guard *g);

/** Start waiting for the UE of ike_sa to delete it. @return 0, or -ENOSPC when the ring is
 *  full (the caller deletes at once then). */
int cp_ike_guard_arm(struct cp_ike_guard *g, uint32_t ike_sa, uint64_t now_ms);

/** The guards due at now_ms, taken off the ring into ike_sa[] (at most max). @return how many. */
unsigned cp_ike_guard_due(struct cp_ike_guard *g, uint64_t now_ms, uint32_t *ike_sa,
			  unsigned max);

#endif
