#include <errno.h>
#include <stdlib.h>

#include "cp_ike_guard.h"

int cp_ike_guard_init(struct cp_ike_guard *g, uint32_t capacity, uint32_t guard_s)
{
	*g = (struct cp_ike_guard){ .capacity = capacity, .guard_ms = (uint64_t)guard_s * 1000 };
	g->ring = capacity ? calloc(capacity, sizeof(*g->ring)) : NULL;
	return capacity && !g->ring ? -ENOMEM : 0;
}

void cp_ike_guard_free(struct cp_ike_guard *g)
{
	free(g->ring);
	g->ring = NULL;
	g->capacity = g->n = 0;
}

int cp_ike_guard_arm(struct cp_ike_guard *g, uint32_t ike_sa, uint64_t now_ms)
{
	if (g->n == g->capacity)
		return -ENOSPC;
	g->ring[(g->head + g->n++) % g->capacity] =
		(struct cp_ike_guard_entry){ .ike_sa = ike_sa, .due_ms = now_ms + g->guard_ms };
	return 0;
}

unsigned cp_ike_guard_due(struct cp_ike_guard *g, uint64_t now_ms, uint32_t *ike_sa,
			  unsigned max)
{
	unsigned k = 0;
	while (k < max && g->n && g->ring[g->head].due_ms <= now_ms) {
		ike_sa[k++] = g->ring[g->head].ike_sa;
		g->head = (g->head + 1) % g->capacity;
		g->n--;
	}
	return k;
}
