/*
 * A pool of indices [0, size) with a bitmap: the allocator under the IPv4 home address pools
 * (cp_pool4) and the home prefix pools (cp_pool6). Searches go round from where the last one
 * stopped, so a released index is not handed out again at once. Owner: hacpd's main thread.
 */
#ifndef CP_IDPOOL_H
#define CP_IDPOOL_H

#include <stdbool.h>
#include <stdint.h>

struct cp_idpool {
	uint32_t size;
	uint32_t used;
	uint32_t next;      /* where the next search starts */
	uint64_t *bits;     /* 1 = in use */
};

int cp_idpool_init(struct cp_idpool *p, uint32_t size);
void cp_idpool_free(struct cp_idpool *p);
bool cp_idpool_used(const struct cp_idpool *p, uint32_t i);
/** Any free index. @return 0, or -ENOSPC. */
int cp_idpool_alloc(struct cp_idpool *p, uint32_t *out);
/** That index, if free. @return 0, -EINVAL (out of range), -EBUSY. */
int cp_idpool_take(struct cp_idpool *p, uint32_t i);
void cp_idpool_release(struct cp_idpool *p, uint32_t i);

#endif
