#include <errno.h>
#include <stdlib.h>

#include "cp_idpool.h"

int cp_idpool_init(struct cp_idpool *p, uint32_t size)
{
	*p = (struct cp_idpool){ .size = size };
	p->bits = calloc(((uint64_t)size + 63) / 64 + 1, sizeof(uint64_t));
	return p->bits ? 0 : -ENOMEM;
}

void cp_idpool_free(struct cp_idpool *p)
{
	free(p->bits);
	p->bits = NULL;
}

bool cp_idpool_used(const struct cp_idpool *p, uint32_t i)
{
	return p->bits[i / 64] >> (i % 64) & 1;
}

static void mark(struct cp_idpool *p, uint32_t i)
{
	p->bits[i / 64] |= 1ull << (i % 64);
	p->used++;
}

int cp_idpool_alloc(struct cp_idpool *p, uint32_t *out)
{
	if (!p->bits || p->used >= p->size)
		return -ENOSPC;
	/* word by word from the cursor: a full word is skipped in one test */
	for (uint64_t n = 0; n < (uint64_t)p->size + 64; ) {
		uint32_t i = (uint32_t)((p->next + n) % p->size);
		uint64_t w = p->bits[i / 64] | ((1ull << (i % 64)) - 1);
		if (w == UINT64_MAX) {
			n += 64 - i % 64;
			continue;
		}
		uint32_t j = i / 64 * 64 + (uint32_t)__builtin_ctzll(~w);
		if (j >= p->size) {
			n += p->size - i; /* past the end: go round to 0 */
			continue;
		}
		mark(p, j);
		p->next = j + 1 == p->size ? 0 : j + 1;
		*out = j;
		return 0;
	}
	return -ENOSPC;
}

int cp_idpool_take(struct cp_idpool *p, uint32_t i)
{
	if (!p->bits || i >= p->size)
		return -EINVAL;
	if (cp_idpool_used(p, i))
		return -EBUSY;
	mark(p, i);
	return 0;
}

void cp_idpool_release(struct cp_idpool *p, uint32_t i)
{
	if (!p->bits || i >= p->size || !cp_idpool_used(p, i))
		return;
	p->bits[i / 64] &= ~(1ull << (i % 64));
	p->used--;
}
