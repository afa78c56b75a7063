/* The mbufs hacpd holds (cp_mbuf.h). */
#include <errno.h>
#include <stdlib.h>

#include "cp_mbuf.h"
#include "ha_ring.h"

#include <rte_errno.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

int cp_mbuf_holder_off = -1;
uint32_t cp_mbuf_holder_gen;

static inline uint32_t *holder(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, cp_mbuf_holder_off, uint32_t *);
}

int cp_mbuf_init(uint32_t generation)
{
	/* hadp registered it (ha_ring.h); the offset is the same in every process of the group,
	 * and a new mbuf's dynamic fields are zero (rte_pktmbuf_init) */
	int off = rte_mbuf_dynfield_lookup(HA_MBUF_HOLDER_FIELD, NULL);
	if (off < 0)
		return -rte_errno;
	cp_mbuf_holder_off = off;
	cp_mbuf_holder_gen = generation;
	return 0;
}

int cp_mbuf_adopt_ring(struct rte_ring *r)
{
	unsigned size = rte_ring_get_capacity(r);
	int adopted = 0;
	void **objs = malloc(size * sizeof(*objs));
	if (!objs)
		return -ENOMEM;
	/* look without taking: hadp may add more behind, unmarked */
	unsigned n = rte_ring_dequeue_burst_start(r, objs, size, NULL);
	for (unsigned i = 0; i < n; i++) {
		uint32_t *h = holder(objs[i]);
		if (*h != 0 && *h != cp_mbuf_holder_gen) {
			*h = cp_mbuf_holder_gen;
			adopted++;
		}
	}
	rte_ring_dequeue_finish(r, 0);
	free(objs);
	return adopted;
}

struct reclaim {
	unsigned n;
};

static void reclaim_one(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct reclaim *r = arg;
	struct rte_mbuf *m = obj;
	(void)mp;
	(void)idx;
	/* hadp never writes this field and hacpd clears it before an mbuf leaves, so another
	 * run's mark is on an mbuf that run died holding (a chain is marked on its head) */
	if (*holder(m) != 0 && *holder(m) != cp_mbuf_holder_gen) {
		cp_mbuf_free(m);
		r->n++;
	}
}

unsigned cp_mbuf_reclaim(struct rte_mempool *pool)
{
	struct reclaim r = { 0 };
	rte_mempool_obj_iter(pool, reclaim_one, &r);
	return r.n;
}
