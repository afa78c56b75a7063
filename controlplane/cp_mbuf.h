/*
 * The mbufs hacpd holds, marked with its run's generation so the next hacpd can take back what
 * a killed one held.
 *
 * hadp's mempool outlives hacpd. A hacpd killed with SIGKILL dies holding the punted packets it
 * was reading and the BAs it had not handed to hadp yet; nothing else ever frees them. Every mbuf
 * hacpd takes carries the generation of the run that holds it in an mbuf dynamic field (hadp
 * registers it, ha_ring.h), cleared just before the mbuf leaves (freed, onto the tx ring):
 * - punted packets are marked before they leave the punt ring: hacpd reads the ring with the
 *   peek API (rte_ring_dequeue_burst_start), marks, then moves the ring's tail. A hacpd killed
 *   in between left them in the ring, marked; the next one re-marks them as its own at start
 *   (cp_mbuf_adopt_ring) and serves them;
 * - an mbuf hacpd allocates is marked at once.
 * A new hacpd then walks the pool once: a mark of another generation is an mbuf no ring, cache
 * or process has, so it frees it. Left uncovered: the few instructions between an allocation and
 * its mark, and between a mark's clearing and the pool or the tx ring taking the mbuf. hacpd does
 * one thing at a time, so a kill there loses at most that one mbuf.
 */
#ifndef CP_MBUF_H
#define CP_MBUF_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <rte_ring_peek.h>

extern int cp_mbuf_holder_off;      /* the field's offset (cp_mbuf_init) */
extern uint32_t cp_mbuf_holder_gen; /* this run's generation */

/** Find the holder field hadp registered. @return 0, or -rte_errno. */
int cp_mbuf_init(uint32_t generation);

/** Held by this hacpd from now on. */
static inline void cp_mbuf_hold(struct rte_mbuf *m)
{
	*RTE_MBUF_DYNFIELD(m, cp_mbuf_holder_off, uint32_t *) = cp_mbuf_holder_gen;
}

/** Leaves hacpd now (freed or onto hadp's tx ring). */
static inline void cp_mbuf_release(struct rte_mbuf *m)
{
	*RTE_MBUF_DYNFIELD(m, cp_mbuf_holder_off, uint32_t *) = 0;
}

/** cp_mbuf_release, then rte_pktmbuf_free. NULL is fine. */
static inline void cp_mbuf_free(struct rte_mbuf *m)
{
	if (!m)
		return;
	cp_mbuf_release(m);
	rte_pktmbuf_free(m);
}

/** Up to max mbufs from ring r (hacpd its only consumer), each marked before the ring lets go
 *  of it. @return how many. */
static inline unsigned cp_mbuf_dequeue(struct rte_ring *r, void **objs, unsigned max)
{
	unsigned n = rte_ring_dequeue_burst_start(r, objs, max, NULL);
	for (unsigned i = 0; i < n; i++)
		cp_mbuf_hold(objs[i]);
	rte_ring_dequeue_finish(r, n);
	return n;
}

/** At start, before cp_mbuf_reclaim: the mbufs a killed hacpd had marked but left in ring r
 *  become this run's (served as the rest). @return how many, or -ENOMEM: then nothing may be
 *  reclaimed (it would free what the ring still holds). */
int cp_mbuf_adopt_ring(struct rte_ring *r);

/** Free every mbuf of pool a previous hacpd died holding. @return how many. */
unsigned cp_mbuf_reclaim(struct rte_mempool *pool);

#endif
