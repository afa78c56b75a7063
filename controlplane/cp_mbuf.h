/*
 * The mbufs hacpd holds, marked with its run's generation so the next hacpd can take back what
 * a killed one held.
 *
 * hadp's mempool outlives hacpd. A hacpd killed with SIGKILL dies holding the punted packets it
 * was reading and the BAs it had not handed to hadp yet; nothing else ever frees them. Every mbuf
 * hacpd takes (dequeued from the punt ring, allocated) carries the generation of the run that
 * holds it in an mbuf dynamic field, cleared just before it leaves (freed, onto the tx ring).
 * A new hacpd walks the pool once at start: a mark of another generation is an mbuf no ring,
 * cache or process has, so it frees it. Only the few instructions between a dequeue and its
 * marks (and between a clear and its enqueue) are not covered.
 */
#ifndef CP_MBUF_H
#define CP_MBUF_H

#include <stdint.h>

#include <rte_mbuf.h>

/** Find the holder field hadp registered. @return 0, or -rte_errno. */
int cp_mbuf_init(uint32_t generation);

/** Held by this hacpd from now on. */
void cp_mbuf_hold(struct rte_mbuf *m);

/** Leaves hacpd now (freed or onto hadp's tx ring). */
void cp_mbuf_release(struct rte_mbuf *m);

/** cp_mbuf_release, then rte_pktmbuf_free. NULL is fine. */
void cp_mbuf_free(struct rte_mbuf *m);

/** Free every mbuf of pool a previous hacpd died holding. @return how many. */
unsigned cp_mbuf_reclaim(struct rte_mempool *pool);

#endif
