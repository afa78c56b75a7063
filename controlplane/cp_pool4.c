#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "cp_pool4.h"

int cp_pool4_init(struct cp_pool4 *p, struct in_addr net, uint8_t len)
{
	*p = (struct cp_pool4){ 0 };
	if (len > 30)
		return -EINVAL; /* no host address besides network and broadcast */
	p->base = ntohl(net.s_addr);
	p->size = len ? (uint32_t)(1ull << (32 - len)) : UINT32_MAX;
	p->bits = calloc((p->size + 63) / 64, sizeof(uint64_t));
	if (!p->bits)
		return -ENOMEM;
	p->bits[0] |= 1;                                     /* the network address */
	p->bits[(p->size - 1) / 64] |= 1ull << ((p->size - 1) % 64); /* broadcast */
	p->next = 1;
	return 0;
}

void cp_pool4_free(struct cp_pool4 *p)
{
	free(p->bits);
	p->bits = NULL;
}

bool cp_pool4_contains(const struct cp_pool4 *p, struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);
	return p->bits && h - p->base < p->size;
}

static bool used(const struct cp_pool4 *p, uint32_t i)
{
	return p->bits[i / 64] >> (i % 64) & 1;
}

int cp_pool4_alloc(struct cp_pool4 *p, struct in_addr *out)
{
	if (!p->bits || p->used + 2 >= p->size)
		return -ENOSPC;
	for (uint32_t n = 0; n < p->size; n++) {
		uint32_t i = (p->next + n) % p->size;
		if (!used(p, i)) {
			p->bits[i / 64] |= 1ull << (i % 64);
			p->used++;
			p->next = i + 1;
			out->s_addr = htonl(p->base + i);
			return 0;
		}
	}
	return -ENOSPC;
}

int cp_pool4_take(struct cp_pool4 *p, struct in_addr a)
{
	if (!cp_pool4_contains(p, a))
		return -EINVAL;
	uint32_t i = ntohl(a.s_addr) - p->base;
	if (used(p, i))
		return -EBUSY;
	p->bits[i / 64] |= 1ull << (i % 64);
	p->used++;
	return 0;
}

void cp_pool4_release(struct cp_pool4 *p, struct in_addr a)
{
	if (!cp_pool4_contains(p, a))
		return;
	uint32_t i = ntohl(a.s_addr) - p->base;
	if (i == 0 || i == p->size - 1 || !used(p, i))
		return;
	p->bits[i / 64] &= ~(1ull << (i % 64));
	p->used--;
}
