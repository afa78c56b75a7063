#include <errno.h>
#include <string.h>

#include "cp_pool6.h"

typedef unsigned __int128 u128;

static u128 get128(const struct in6_addr *a)
{
	u128 v = 0;
	for (int i = 0; i < 16; i++)
		v = v << 8 | a->s6_addr[i];
	return v;
}

static void put128(struct in6_addr *a, u128 v)
{
	for (int i = 15; i >= 0; i--, v >>= 8)
		a->s6_addr[i] = (uint8_t)v;
}

int cp_pool6_init(struct cp_pool6 *p, const struct in6_addr *pool, uint8_t pool_len,
		  uint8_t prefix_len)
{
	memset(p, 0, sizeof(*p));
	if (prefix_len < pool_len || prefix_len > 128)
		return -EINVAL;
	p->base = *pool;
	p->prefix_len = prefix_len;
	unsigned bits = prefix_len - pool_len;
	uint32_t size = bits >= 26 ? CP_POOL6_MAX : 1u << bits;
	return cp_idpool_init(&p->ids, size);
}

void cp_pool6_free(struct cp_pool6 *p)
{
	cp_idpool_free(&p->ids);
}

/* the index of a's prefix, or UINT32_MAX when a is outside the pool's usable part */
static uint32_t index_of(const struct cp_pool6 *p, const struct in6_addr *a)
{
	unsigned shift = 128u - p->prefix_len;
	u128 d = get128(a) - get128(&p->base);
	if (get128(a) < get128(&p->base))
		return UINT32_MAX;
	u128 i = shift >= 128 ? 0 : d >> shift;
	return i < p->ids.size ? (uint32_t)i : UINT32_MAX;
}

bool cp_pool6_contains(const struct cp_pool6 *p, const struct in6_addr *a)
{
	return p->ids.bits && index_of(p, a) != UINT32_MAX;
}

int cp_pool6_alloc(struct cp_pool6 *p, struct in6_addr *out)
{
	uint32_t i;
	if (cp_idpool_alloc(&p->ids, &i) < 0)
		return -ENOSPC;
	unsigned shift = 128u - p->prefix_len;
	put128(out, get128(&p->base) + (shift >= 128 ? 0 : (u128)i << shift));
	return 0;
}

int cp_pool6_take(struct cp_pool6 *p, const struct in6_addr *a)
{
	uint32_t i = p->ids.bits ? index_of(p, a) : UINT32_MAX;
	return i == UINT32_MAX ? -EINVAL : cp_idpool_take(&p->ids, i);
}

void cp_pool6_release(struct cp_pool6 *p, const struct in6_addr *a)
{
	uint32_t i = p->ids.bits ? index_of(p, a) : UINT32_MAX;
	if (i != UINT32_MAX)
		cp_idpool_release(&p->ids, i);
}
