/*
 * Home prefix pools, one per PDN (TS 24.303 5.1.3.1: a unique IPv6 home prefix per UE and PDN,
 * returned in IKEv2's MIP6_HOME_PREFIX, RFC 5026): the home_prefix_length prefixes of the PDN's
 * home_prefix_pool, at most the first CP_POOL6_MAX of them (a pool of /40 with /64 prefixes
 * holds 16.7 million). Owner: hacpd's main thread.
 */
#ifndef CP_POOL6_H
#define CP_POOL6_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "cp_idpool.h"

#define CP_POOL6_MAX (1u << 26)

struct cp_pool6 {
	struct in6_addr base;
	uint8_t prefix_len;
	struct cp_idpool ids; /* index = (prefix - base) >> (128 - prefix_len) */
};

int cp_pool6_init(struct cp_pool6 *p, const struct in6_addr *pool, uint8_t pool_len,
		  uint8_t prefix_len);
void cp_pool6_free(struct cp_pool6 *p);
/** Any free prefix. @return 0, or -ENOSPC. */
int cp_pool6_alloc(struct cp_pool6 *p, struct in6_addr *out);
/** That prefix (any address inside it), if in the pool and free: 0, -EINVAL, -EBUSY. */
int cp_pool6_take(struct cp_pool6 *p, const struct in6_addr *a);
void cp_pool6_release(struct cp_pool6 *p, const struct in6_addr *a);
bool cp_pool6_contains(const struct cp_pool6 *p, const struct in6_addr *a);

#endif
