/* The mbufs hacpd holds (cp_mbuf.h). */
#include "cp_mbuf.h"
#include "ha_ring.h"

#include <rte_errno.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

static int holder_off = -1;
static uint32_t holder_gen;

static inline uint32_t *holder(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, holder_off, uint32_t *);
}

int cp_mbuf_init(uint32_t generation)
{
	/* hadp registered it (ha_ring.h); the offset is the same in every process of the group,
	 * and a new mbuf's dynamic fields are zero (rte_pktmbuf_init) */
	int off = rte_mbuf_dynfield_lookup(HA_MBUF_HOLDER_FIELD, NULL);
	if (off < 0)
		return -rte_errno;
	holder_off = off;
	holder_gen = generation;
	return 0;
}

void cp_mbuf_hold(struct rte_mbuf *m)
{
	*holder(m) = holder_gen;
}

void cp_mbuf_release(struct rte_mbuf *m)
{
	*holder(m) = 0;
}

void cp_mbuf_free(struct rte_mbuf *m)
{
	if (!m)
		return;
	cp_mbuf_release(m);
	rte_pktmbuf_free(m);
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
	if (*holder(m) != 0 && *holder(m) != holder_gen) {
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
