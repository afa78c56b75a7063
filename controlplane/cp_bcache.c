#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp_bcache.h"

static void wheel_unlink(struct cp_bcache *c, uint32_t i)
{
	if (!c->w_filed[i])
		return;
	uint32_t n = c->w_next[i], p = c->w_prev[i];
	if (p != CP_WHEEL_NIL)
		c->w_next[p] = n;
	else
		c->w_head[c->slots[i].expires_bucket] = n;
	if (n != CP_WHEEL_NIL)
		c->w_prev[n] = p;
	c->w_filed[i] = 0;
}

static void wheel_link(struct cp_bcache *c, uint32_t i)
{
	struct cp_binding *b = &c->slots[i];
	/* an expiry already behind the wheel goes where the next look finds it */
	uint64_t at = b->expires > c->w_done ? b->expires : c->w_done + 1;
	uint32_t k = (uint32_t)(at & (CP_WHEEL_SIZE - 1));
	b->expires_bucket = k;
	c->w_prev[i] = CP_WHEEL_NIL;
	c->w_next[i] = c->w_head[k];
	if (c->w_head[k] != CP_WHEEL_NIL)
		c->w_prev[c->w_head[k]] = i;
	c->w_head[k] = i;
	c->w_filed[i] = 1;
}

int cp_bcache_init(struct cp_bcache *c, struct cp_binding *slots, uint32_t capacity, bool adopt)
{
	memset(c, 0, sizeof(*c));
	c->capacity = capacity;
	c->own_slots = !slots;
	c->slots = slots ? slots : calloc(capacity, sizeof(*slots));
	c->free_idx = malloc((size_t)capacity * sizeof(uint32_t));
	c->w_next = malloc((size_t)capacity * sizeof(uint32_t));
	c->w_prev = malloc((size_t)capacity * sizeof(uint32_t));
	c->w_filed = calloc(capacity, 1);
	if (!c->slots || !c->free_idx || !c->w_next || !c->w_prev || !c->w_filed) {
		cp_bcache_free(c);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < CP_WHEEL_SIZE; k++)
		c->w_head[k] = CP_WHEEL_NIL;
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
		wheel_link(c, i);
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
	free(c->w_next);
	free(c->w_prev);
	free(c->w_filed);
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
	wheel_unlink(c, (uint32_t)(b - c->slots));
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

void cp_bcache_set_expiry(struct cp_bcache *c, struct cp_binding *b, uint64_t expires)
{
	uint32_t i = (uint32_t)(b - c->slots);
	wheel_unlink(c, i);
	b->expires = expires;
	wheel_link(c, i);
}

unsigned cp_bcache_expired(struct cp_bcache *c, uint64_t now, struct cp_binding **out, unsigned max)
{
	unsigned n = 0;
	uint64_t t = c->w_done + 1;

	if (now < t)
		return 0;
	if (now - t >= CP_WHEEL_SIZE)
		t = now - CP_WHEEL_SIZE + 1; /* every bucket once: each holds all its laps */
	for (; t <= now; t++) {
		uint32_t k = (uint32_t)(t & (CP_WHEEL_SIZE - 1));
		for (uint32_t i = c->w_head[k]; i != CP_WHEEL_NIL; i = c->w_next[i]) {
			if (c->slots[i].expires > now)
				continue; /* a later lap */
			if (n == max) {
				c->w_done = t - 1; /* this second again next time */
				return n;
			}
			out[n++] = &c->slots[i];
		}
	}
	c->w_done = now;
	return n;
}
