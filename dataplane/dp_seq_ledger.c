#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_random.h>

#include "dp_seq_ledger.h"

static_assert(sizeof(struct dp_seq_rec) == 64, "one record a cache line");

struct rec_key {
	uint32_t spi;
	uint32_t dir;
};

/* Tells keys apart, no more: the file is root's alone and holds no key material. The seed is
 * the ledger's own, so fingerprints say nothing across appliances. */
static uint64_t key_fp(const struct dp_seq_ledger *l, const struct ha_sa_spec *s)
{
	uint64_t seed = l->file.hdr->instance;
	uint8_t m[4 + HA_CFG_KEY_MAX + HA_CFG_AUTH_KEY_MAX];
	size_t n = 0;
	m[n++] = s->encryption;
	m[n++] = s->integrity;
	m[n++] = s->key_len;
	m[n++] = s->auth_key_len;
	memcpy(m + n, s->key, s->key_len);
	n += s->key_len;
	memcpy(m + n, s->auth_key, s->auth_key_len);
	n += s->auth_key_len;
	uint64_t fp = (uint64_t)rte_hash_crc(m, (uint32_t)n, (uint32_t)seed) << 32 |
		      rte_hash_crc(m, (uint32_t)n, (uint32_t)(seed >> 32));
	memset(m, 0, sizeof(m));
	return fp | 1; /* 0 never names a key */
}

int dp_seq_ledger_open(struct dp_seq_ledger *l, const char *dir, uint32_t capacity, char *err,
		       size_t errlen)
{
	memset(l, 0, sizeof(*l));
	int rc = ha_state_open(&l->file, dir, "esp_seq", "esp-seq", DP_SEQ_LEDGER_VERSION,
			       sizeof(struct dp_seq_rec), capacity, err, errlen);
	if (rc < 0)
		return rc;
	l->recs = l->file.records;
	l->capacity = capacity;
	if (!l->file.adopted)
		l->file.hdr->instance = rte_rand() | 1; /* the fingerprints' seed, for good */
	char name[RTE_HASH_NAMESIZE];
	snprintf(name, sizeof(name), "hadp_seq_ledger");
	struct rte_hash_parameters hp = {
		.name = name, .entries = capacity < 64 ? 64 : capacity,
		.key_len = sizeof(struct rec_key),
		.hash_func = rte_hash_crc, .socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	l->idx = rte_hash_create(&hp);
	if (!l->idx) {
		snprintf(err, errlen, "esp_seq: index: %s", rte_strerror(rte_errno));
		ha_state_close(&l->file);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < capacity; i++) {
		struct dp_seq_rec *r = &l->recs[i];
		if (r->state == DP_SEQ_FREE)
			continue;
		/* the previous hadp's SAs are gone; their numbers stay until claimed again */
		if (r->state == DP_SEQ_LIVE) {
			r->state = DP_SEQ_RETIRED;
			r->retired = 0;
		}
		r->users = 0;
		struct rec_key k = { r->spi, r->dir };
		if (rte_hash_add_key_data(l->idx, &k, (void *)(uintptr_t)i) < 0)
			r->state = DP_SEQ_FREE; /* two records of one SA: the index keeps the first */
		else
			l->adopted++;
		if (r->retired >= l->clock)
			l->clock = r->retired + 1;
	}
	return 0;
}

void dp_seq_ledger_close(struct dp_seq_ledger *l)
{
	rte_hash_free(l->idx);
	l->idx = NULL;
	ha_state_close(&l->file);
}

/* A free record, else the one retired longest ago (its index entry removed). */
static int32_t take_slot(struct dp_seq_ledger *l)
{
	for (uint32_t n = 0; n < l->capacity; n++) {
		uint32_t i = (l->hint + n) % l->capacity;
		if (l->recs[i].state == DP_SEQ_FREE) {
			l->hint = i + 1;
			return (int32_t)i;
		}
	}
	int32_t best = -1;
	for (uint32_t i = 0; i < l->capacity; i++) {
		const struct dp_seq_rec *r = &l->recs[i];
		if (r->state == DP_SEQ_RETIRED && (best < 0 || r->retired < l->recs[best].retired))
			best = (int32_t)i;
	}
	if (best >= 0) {
		struct rec_key k = { l->recs[best].spi, l->recs[best].dir };
		rte_hash_del_key(l->idx, &k);
	}
	return best;
}

struct dp_seq_rec *dp_seq_ledger_claim(struct dp_seq_ledger *l, const struct ha_sa_spec *spec)
{
	struct rec_key k = { spec->spi, spec->direction };
	uint64_t fp = key_fp(l, spec);
	void *data;
	struct dp_seq_rec *r;

	if (rte_hash_lookup_data(l->idx, &k, &data) >= 0) {
		r = &l->recs[(uintptr_t)data];
		if (r->key_fp != fp && r->users == 0) {
			/* the same SPI under another key: its numbers start afresh */
			r->out_reserved = 0;
			r->in_seen = 0;
			r->key_fp = fp;
		}
		/* another key while an SA of the old one still points here: the numbers go on
		 * from the old key's, which costs nothing but numbers */
		r->state = DP_SEQ_LIVE;
		r->users++;
		return r;
	}
	int32_t i = take_slot(l);
	if (i < 0)
		return NULL;
	r = &l->recs[i];
	*r = (struct dp_seq_rec){ .spi = spec->spi, .dir = spec->direction, .state = DP_SEQ_LIVE,
				  .users = 1, .key_fp = fp };
	if (rte_hash_add_key_data(l->idx, &k, (void *)(uintptr_t)i) < 0) {
		r->state = DP_SEQ_FREE;
		return NULL;
	}
	return r;
}

bool dp_seq_ledger_same_key(const struct dp_seq_ledger *l, const struct dp_seq_rec *r,
			    const struct ha_sa_spec *spec)
{
	return r->key_fp == key_fp(l, spec);
}

void dp_seq_ledger_release(struct dp_seq_ledger *l, struct dp_seq_rec *r)
{
	if (!r || r->users == 0)
		return;
	if (--r->users == 0) {
		r->state = DP_SEQ_RETIRED;
		r->retired = l->clock++;
	}
}
