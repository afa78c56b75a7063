#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>

#include "cp_pool4.h"

int cp_pool4_init(struct cp_pool4 *p, struct in_addr net, uint8_t len)
{
	*p = (struct cp_pool4){ 0 };
	if (len > 30)
		return -EINVAL; /* no host address besides network and broadcast */
	p->base = ntohl(net.s_addr);
	uint32_t size = len ? (uint32_t)(1ull << (32 - len)) : UINT32_MAX;
	if (cp_idpool_init(&p->ids, size) < 0)
		return -ENOMEM;
	cp_idpool_take(&p->ids, 0);        /* the network address */
	cp_idpool_take(&p->ids, size - 1); /* broadcast */
	return 0;
}

void cp_pool4_free(struct cp_pool4 *p)
{
	cp_idpool_free(&p->ids);
}

bool cp_pool4_ready(const struct cp_pool4 *p)
{
	return p->ids.bits != NULL;
}

bool cp_pool4_contains(const struct cp_pool4 *p, struct in_addr a)
{
	return p->ids.bits && ntohl(a.s_addr) - p->base < p->ids.size;
}

uint32_t cp_pool4_used(const struct cp_pool4 *p)
{
	return p->ids.bits ? p->ids.used - 2 : 0;
}

int cp_pool4_alloc(struct cp_pool4 *p, struct in_addr *out)
{
	uint32_t i;
	if (cp_idpool_alloc(&p->ids, &i) < 0)
		return -ENOSPC;
	out->s_addr = htonl(p->base + i);
	return 0;
}

int cp_pool4_take(struct cp_pool4 *p, struct in_addr a)
{
	if (!cp_pool4_contains(p, a))
		return -EINVAL;
	return cp_idpool_take(&p->ids, ntohl(a.s_addr) - p->base);
}

void cp_pool4_release(struct cp_pool4 *p, struct in_addr a)
{
	if (!cp_pool4_contains(p, a))
		return;
	uint32_t i = ntohl(a.s_addr) - p->base;
	if (i == 0 || i == p->ids.size - 1)
		return;
	cp_idpool_release(&p->ids, i);
}
