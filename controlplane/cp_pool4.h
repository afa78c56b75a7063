/*
 * IPv4 home address pools, one per PDN (RFC 5555 dynamic IPv4 home address assignment):
 * every host address of the PDN's ipv4_pool but the network and broadcast addresses.
 * Owner: hacpd's main thread.
 */
#ifndef CP_POOL4_H
#define CP_POOL4_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct cp_pool4 {
	uint32_t base;      /* host order: the network address */
	uint32_t size;      /* addresses in the prefix */
	uint32_t used;
	uint32_t next;      /* where the next search starts */
	uint64_t *bits;     /* 1 = in use */
};

int cp_pool4_init(struct cp_pool4 *p, struct in_addr net, uint8_t len);
void cp_pool4_free(struct cp_pool4 *p);
bool cp_pool4_contains(const struct cp_pool4 *p, struct in_addr a);
/** Any free address. @return 0, or -ENOSPC when the pool is exhausted. */
int cp_pool4_alloc(struct cp_pool4 *p, struct in_addr *out);
/** That address, if it is in the pool and free. 0, -EINVAL (not in pool), -EBUSY (taken). */
int cp_pool4_take(struct cp_pool4 *p, struct in_addr a);
void cp_pool4_release(struct cp_pool4 *p, struct in_addr a);

#endif
