/* The SA table (see dp_sa_table.h for ownership and concurrency). */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_sa_table.h"

struct sa_key {
	uint32_t spi;
	uint32_t dir;
};

struct dp_sa_table {
	struct rte_hash *h;
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;
	unsigned n_workers;
	uint32_t count;
	struct dp_seq_ledger *ledger;
};

struct deferred_sa {
	struct dp_sa *sa;
	int32_t pos;
	uint32_t pad;
};

/* Its ledger record is let go with it: no worker writes there any more. */
static void sa_free(struct dp_sa_table *t, struct dp_sa *sa)
{
	if (t->ledger && sa)
		dp_seq_ledger_release(t->ledger, sa->conf.ledger);
	dp_sa_free(sa);
}

static void reclaim_cb(void *p, void *e, unsigned n)
{
	struct dp_sa_table *t = p;
	struct deferred_sa *d = e;

	for (unsigned i = 0; i < n; i++) {
		if (d[i].pos >= 0)
			rte_hash_free_key_with_position(t->h, d[i].pos);
		sa_free(t, d[i].sa);
	}
}

struct dp_sa_table *dp_sa_table_create(uint32_t max_sas, int socket_id, struct rte_rcu_qsbr *qsbr,
				       unsigned n_workers, struct dp_seq_ledger *ledger)
{
	struct dp_sa_table *t = rte_zmalloc_socket("hadp_sas", sizeof(*t), 0, socket_id);
	uint32_t dq_size = RTE_MAX(RTE_MIN(max_sas, 16384u), 64u);

	if (!t)
		return NULL;
	t->qsbr = qsbr;
	t->ledger = ledger;
	t->n_workers = n_workers ? n_workers : 1;
	struct rte_hash_parameters hp = {
		.name = "hadp_sa",
		.entries = RTE_MAX(max_sas, 8u),
		.key_len = sizeof(struct sa_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	t->h = rte_hash_create(&hp);
	struct rte_rcu_qsbr_dq_parameters dqp = {
		.name = "hadp_sa_dq",
		.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE,
		.size = dq_size,
		.esize = sizeof(struct deferred_sa),
		.trigger_reclaim_limit = dq_size / 4,
		.max_reclaim_size = dq_size,
		.free_fn = reclaim_cb,
		.p = t,
		.v = qsbr,
	};
	t->dq = rte_rcu_qsbr_dq_create(&dqp);
	if (!t->h || !t->dq) {
		int err = rte_errno;
		dp_sa_table_free(t);
		rte_errno = err;
		return NULL;
	}
	return t;
}

void dp_sa_table_free(struct dp_sa_table *t)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	if (!t)
		return;
	if (t->dq)
		rte_rcu_qsbr_dq_delete(t->dq);
	while (t->h && rte_hash_iterate(t->h, &key, &data, &iter) >= 0)
		sa_free(t, data);
	rte_hash_free(t->h);
	rte_free(t);
}

/* Signalling SAs (transport mode outbound: BA, BRI, HA Switch) belong to the control thread,
 * which sends those messages; every other SA to one worker, chosen by its SPI. */
static uint8_t owner_of(const struct dp_sa_table *t, const struct ha_sa_spec *s)
{
	if (s->mode == HA_SA_TRANSPORT && s->direction == HA_SA_OUT)
		return DP_SA_OWNER_CONTROL;
	return (uint8_t)(s->spi % t->n_workers);
}

static void defer_free(struct dp_sa_table *t, struct dp_sa *sa, int32_t pos)
{
	struct deferred_sa d = { sa, pos, 0 };
	while (rte_rcu_qsbr_dq_enqueue(t->dq, &d) != 0) {
		rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
		rte_rcu_qsbr_dq_reclaim(t->dq, UINT32_MAX, NULL, NULL, NULL);
	}
}

int dp_sa_table_add(struct dp_sa_table *t, const struct ha_sa_spec *spec, int socket_id)
{
	struct sa_key k = { spec->spi, spec->direction };
	struct dp_sa *old = NULL;

	if (rte_hash_lookup_data(t->h, &k, (void **)&old) >= 0) {
		if (old->conf.refs)
			return -EBUSY; /* a binding uses it: add the new SPI, move the binding, delete */
		if (t->ledger && old->conf.ledger &&
		    !dp_seq_ledger_same_key(t->ledger, old->conf.ledger, spec))
			return -EEXIST; /* another peer's SA of this SPI (dp_sa_table.h) */
	}
	struct dp_sa *sa = dp_sa_create(spec, socket_id);
	if (!sa)
		return -rte_errno;
	sa->owner = owner_of(t, spec);
	if (t->ledger) {
		struct dp_seq_rec *rec = dp_seq_ledger_claim(t->ledger, spec);
		if (!rec) {
			dp_sa_free(sa);
			return -ENOSPC;
		}
		dp_sa_attach_ledger(sa, rec);
	}
	if (rte_hash_add_key_data(t->h, &k, sa) < 0) {
		sa_free(t, sa);
		return -ENOSPC;
	}
	if (old)
		defer_free(t, old, -1);
	else
		t->count++;
	return 0;
}

int dp_sa_table_delete(struct dp_sa_table *t, uint32_t spi, uint8_t dir)
{
	struct sa_key k = { spi, dir };
	struct dp_sa *sa;

	if (rte_hash_lookup_data(t->h, &k, (void **)&sa) < 0)
		return -ENOENT;
	if (sa->conf.refs)
		return -EBUSY;
	int32_t pos = rte_hash_del_key(t->h, &k);
	defer_free(t, sa, pos);
	t->count--;
	return 0;
}

struct dp_sa *dp_sa_table_find(const struct dp_sa_table *t, uint32_t spi, uint8_t dir)
{
	struct sa_key k = { spi, dir };
	struct dp_sa *sa;
	return rte_hash_lookup_data(t->h, &k, (void **)&sa) >= 0 ? sa : NULL;
}

void dp_sa_table_reclaim(struct dp_sa_table *t)
{
	rte_rcu_qsbr_dq_reclaim(t->dq, UINT32_MAX, NULL, NULL, NULL);
}

uint32_t dp_sa_table_count(const struct dp_sa_table *t)
{
	return t->count;
}

void dp_sa_table_lookup_in(const struct dp_sa_table *t, const uint32_t spi[], unsigned n,
			   struct dp_sa *out[])
{
	struct sa_key keys[64];
	const void *kp[64];
	void *data[64];
	uint64_t hits = 0;

	for (unsigned i = 0; i < n; i++) {
		keys[i] = (struct sa_key){ spi[i], HA_SA_IN };
		kp[i] = &keys[i];
		out[i] = NULL;
	}
	if (n && rte_hash_lookup_bulk_data(t->h, kp, n, &hits, data) > 0)
		for (unsigned i = 0; i < n; i++)
			if (hits >> i & 1)
				out[i] = data[i];
}
