#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp_bcache.h"

int cp_bcache_init(struct cp_bcache *c, struct cp_binding *slots, uint32_t capacity, bool adopt)
{
	memset(c, 0, sizeof(*c));
	c->capacity = capacity;
	c->own_slots = !slots;
	c->slots = slots ? slots : calloc(capacity, sizeof(*slots));
	c->free_idx = malloc((size_t)capacity * sizeof(uint32_t));
	if (!c->slots || !c->free_idx) {
		cp_bcache_free(c);
		return -ENOMEM;
	}
	for (uint32_t i = capacity; i-- > 0;) {
		struct cp_binding *b = &c->slots[i];
		if (!adopt || !b->in_use) {
			if (adopt)
				memset(b, 0, sizeof(*b));
			c->free_idx[c->n_free++] = i;
			continue;
		}
		/* the old process's hash handles point into its own heap: start them afresh */
		memset(&b->hh, 0, sizeof(b->hh));
		memset(&b->hh4, 0, sizeof(b->hh4));
		HASH_ADD(hh, c->by_prefix, key, sizeof(b->key), b);
		if (b->has_hoa4)
			HASH_ADD(hh4, c->by_hoa4, hoa4, sizeof(b->hoa4), b);
		c->count++;
	}
	return 0;
}

void cp_bcache_free(struct cp_bcache *c)
{
	HASH_CLEAR(hh, c->by_prefix);
	HASH_CLEAR(hh4, c->by_hoa4);
	if (c->own_slots)
		free(c->slots);
	free(c->free_idx);
	memset(c, 0, sizeof(*c));
}

struct cp_binding *cp_bcache_alloc(struct cp_bcache *c)
{
	if (!c->n_free)
		return NULL;
	struct cp_binding *b = &c->slots[c->free_idx[--c->n_free]];
	memset(b, 0, sizeof(*b));
	return b;
}

void cp_bkey_make(struct cp_bkey *k, const struct in6_addr *addr, uint8_t len)
{
	memset(k, 0, sizeof(*k));
	for (unsigned b = 0; b < len && b < 128; b++)
		if (addr->s6_addr[b / 8] & (0x80 >> (b % 8)))
			k->prefix[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	k->len = len;
}

struct cp_binding *cp_bcache_find(struct cp_bcache *c, const struct in6_addr *addr, uint8_t len)
{
	struct cp_bkey k;
	struct cp_binding *b;

	cp_bkey_make(&k, addr, len);
	HASH_FIND(hh, c->by_prefix, &k, sizeof(k), b);
	return b;
}

struct cp_binding *cp_bcache_find4(struct cp_bcache *c, struct in_addr a)
{
	struct cp_binding *b;
	HASH_FIND(hh4, c->by_hoa4, &a, sizeof(a), b);
	return b;
}

void cp_bcache_insert(struct cp_bcache *c, struct cp_binding *b)
{
	HASH_ADD(hh, c->by_prefix, key, sizeof(b->key), b);
	if (b->has_hoa4)
		HASH_ADD(hh4, c->by_hoa4, hoa4, sizeof(b->hoa4), b);
	c->count++;
	__atomic_store_n(&b->in_use, 1, __ATOMIC_RELEASE); /* last: a crash before it loses only b */
}

void cp_bcache_set_hoa4(struct cp_bcache *c, struct cp_binding *b, bool has, struct in_addr a)
{
	if (b->has_hoa4)
		HASH_DELETE(hh4, c->by_hoa4, b);
	b->has_hoa4 = has;
	b->hoa4 = has ? a : (struct in_addr){ 0 };
	if (has)
		HASH_ADD(hh4, c->by_hoa4, hoa4, sizeof(b->hoa4), b);
}

void cp_bcache_remove(struct cp_bcache *c, struct cp_binding *b)
{
	__atomic_store_n(&b->in_use, 0, __ATOMIC_RELEASE);
	if (b->has_hoa4)
		HASH_DELETE(hh4, c->by_hoa4, b);
	HASH_DELETE(hh, c->by_prefix, b);
	c->count--;
	c->free_idx[c->n_free++] = (uint32_t)(b - c->slots);
}

void cp_bcache_clear(struct cp_bcache *c)
{
	struct cp_binding *b, *tmp;
	HASH_ITER(hh, c->by_prefix, b, tmp)
		cp_bcache_remove(c, b);
}
