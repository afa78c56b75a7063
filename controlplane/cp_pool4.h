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

#include "cp_idpool.h"

struct cp_pool4 {
	uint32_t base;      /* host order: the network address */
	struct cp_idpool ids; /* index = address - base */
};

int cp_pool4_init(struct cp_pool4 *p, struct in_addr net, uint8_t len);
void cp_pool4_free(struct cp_pool4 *p);
bool cp_pool4_ready(const struct cp_pool4 *p);
bool cp_pool4_contains(const struct cp_pool4 *p, struct in_addr a);
/** Addresses handed out (network and broadcast not counted). */
uint32_t cp_pool4_used(const struct cp_pool4 *p);
/** Any free address. @return 0, or -ENOSPC when the pool is exhausted. */
int cp_pool4_alloc(struct cp_pool4 *p, struct in_addr *out);
/** That address, if it is in the pool and free. 0, -EINVAL (not in pool), -EBUSY (taken). */
int cp_pool4_take(struct cp_pool4 *p, struct in_addr a);
void cp_pool4_release(struct cp_pool4 *p, struct in_addr a);

#endif
