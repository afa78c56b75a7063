/* The binding table (see dp_binding.h for the ownership and concurrency rules). */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_binding.h"
#include "dp_sa.h"
#include "ha_bytes.h"

/* A home prefix key: the prefix, masked to its length. Each distinct home prefix length (one
 * per PDN at most, usually just /64) has its own table, so the key has a fixed length: the
 * first 8 octets alone for lengths up to 64 (the table's key_len; rte_hash reads no further),
 * all 16 beyond. 8-octet keys make 16-octet key-store slots, which never straddle two cache
 * lines (24-octet ones do, one in four), and take a third less memory. */
struct key6 {
	uint64_t w[2];
};

static inline uint32_t key6_len(uint8_t prefix_len)
{
	return prefix_len <= 64 ? 8 : 16;
}

/* rte_hash's compare for 8-octet keys (its own is a memcmp call for that length). */
static int key8_cmp(const void *a, const void *b, size_t len)
{
	uint64_t x, y;

	(void)len;
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	return x != y;
}

/* What waits for a grace period: an entry and/or freed key slots (-1 = none). */
struct deferred {
	struct dp_binding *entry;
	int32_t pos6;
	int32_t pos4;
	uint32_t table6;   /* which h6[] pos6 belongs to */
};

#define MAX_LENS 8

struct dp_bindings {
	struct rte_hash *h6[MAX_LENS];
	uint64_t mask[MAX_LENS][2];  /* network-order masks of each length */
	struct rte_hash *h4;
	struct dp_binding *slab;     /* every entry, live or waiting for reclamation */
	uint32_t *free_idx;          /* LIFO of free slab slots (control thread only) */
	uint32_t n_free;
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;
	uint32_t count;
	uint32_t next_id;
	uint32_t max;
	uint8_t ha6[16];
	uint32_t ha4;
	unsigned n_lens;
	uint8_t lens[MAX_LENS];
};

static inline void make_key6(struct key6 *k, const uint8_t *addr, const uint64_t mask[2])
{
	uint64_t w[2];
	memcpy(w, addr, 16);
	k->w[0] = w[0] & mask[0];
	k->w[1] = w[1] & mask[1];
}

static int table_of(const struct dp_bindings *t, uint8_t len)
{
	for (unsigned i = 0; i < t->n_lens; i++)
		if (t->lens[i] == len)
			return (int)i;
	return -1;
}

static void length_mask(uint8_t len, uint64_t mask[2])
{
	uint8_t m[16] = { 0 };
	for (unsigned b = 0; b < len; b++)
		m[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	memcpy(mask, m, 16);
}

static struct dp_binding *entry_get(struct dp_bindings *t)
{
	return t->n_free ? &t->slab[t->free_idx[--t->n_free]] : NULL;
}

static void entry_put(struct dp_bindings *t, struct dp_binding *b)
{
	t->free_idx[t->n_free++] = (uint32_t)(b - t->slab);
}

static void reclaim_cb(void *p, void *e, unsigned n)
{
	struct dp_bindings *t = p;
	struct deferred *d = e;

	for (unsigned i = 0; i < n; i++) {
		if (d[i].pos6 >= 0)
			rte_hash_free_key_with_position(t->h6[d[i].table6], d[i].pos6);
		if (d[i].pos4 >= 0)
			rte_hash_free_key_with_position(t->h4, d[i].pos4);
		if (d[i].entry)
			entry_put(t, d[i].entry);
	}
}

static void defer(struct dp_bindings *t, struct dp_binding *entry, int32_t pos6, uint32_t table6,
		  int32_t pos4)
{
	struct deferred d = { entry, pos6, pos4, table6 };

	/* The queue is sized for bursts of changes; when it is full, wait for the workers'
	 * next quiescent state (they report one per burst) and empty it. */
	while (rte_rcu_qsbr_dq_enqueue(t->dq, &d) != 0) {
		rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
		rte_rcu_qsbr_dq_reclaim(t->dq, UINT32_MAX, NULL, NULL, NULL);
	}
}

struct dp_bindings *dp_bindings_create(const struct dp_bindings_params *p)
{
	struct dp_bindings *t = rte_zmalloc_socket("dp_bindings", sizeof(*t), RTE_CACHE_LINE_SIZE,
						   p->socket_id);
	uint32_t slack = RTE_MIN(p->max_bindings, 65536u);

	if (!t)
		return NULL;
	t->max = p->max_bindings;
	t->qsbr = p->qsbr;
	memcpy(t->ha6, p->ha6, 16);
	t->ha4 = p->ha4;
	t->n_lens = RTE_MIN(p->n_prefix_lens, RTE_DIM(t->lens));
	memcpy(t->lens, p->prefix_lens, t->n_lens);

	struct rte_hash_parameters hp = {
		.entries = RTE_MAX(p->max_bindings, 8u),
		.key_len = sizeof(struct key6),
		.hash_func = rte_hash_crc,
		.socket_id = p->socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	char name[RTE_HASH_NAMESIZE];
	bool ok = t->n_lens > 0;
	for (unsigned i = 0; i < t->n_lens; i++) {
		snprintf(name, sizeof(name), "hadp_bind6_%u", t->lens[i]);
		hp.name = name;
		hp.key_len = key6_len(t->lens[i]);
		length_mask(t->lens[i], t->mask[i]);
		ok &= (t->h6[i] = rte_hash_create(&hp)) != NULL;
		if (t->h6[i] && hp.key_len == 8)
			rte_hash_set_cmp_func(t->h6[i], key8_cmp);
	}
	hp.name = "hadp_bind4";
	hp.key_len = sizeof(uint32_t);
	t->h4 = rte_hash_create(&hp);
	/* entries in flight (replaced, not yet reclaimed) need room beside the live ones; a
	 * plain array, not a mempool: no per-object header, 128 bytes an entry */
	uint32_t n_slots = p->max_bindings + slack;
	t->slab = rte_zmalloc_socket("hadp_bind_slab", (size_t)n_slots * sizeof(struct dp_binding),
				     RTE_CACHE_LINE_SIZE, p->socket_id);
	t->free_idx = rte_malloc_socket("hadp_bind_free", (size_t)n_slots * sizeof(uint32_t), 0,
					p->socket_id);
	if (t->free_idx)
		for (uint32_t i = 0; i < n_slots; i++)
			t->free_idx[i] = n_slots - 1 - i;
	t->n_free = t->free_idx ? n_slots : 0;
	struct rte_rcu_qsbr_dq_parameters dqp = {
		.name = "hadp_bind_dq",
		.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE,
		.size = slack,
		.esize = sizeof(struct deferred),
		.trigger_reclaim_limit = RTE_MIN(slack / 4, 1024u),
		.max_reclaim_size = slack,
		.free_fn = reclaim_cb,
		.p = t,
		.v = p->qsbr,
	};
	t->dq = rte_rcu_qsbr_dq_create(&dqp);
	if (!ok || !t->h4 || !t->slab || !t->free_idx || !t->dq) {
		int err = rte_errno;
		dp_bindings_free(t);
		rte_errno = err;
		return NULL;
	}
	return t;
}

void dp_bindings_free(struct dp_bindings *t)
{
	if (!t)
		return;
	if (t->dq)
		rte_rcu_qsbr_dq_delete(t->dq); /* reclaims everything first */
	for (unsigned i = 0; i < t->n_lens; i++)
		rte_hash_free(t->h6[i]);
	rte_hash_free(t->h4);
	rte_free(t->slab);
	rte_free(t->free_idx);
	rte_free(t);
}

uint32_t dp_binding_count(const struct dp_bindings *t)
{
	return t->count;
}

uint32_t dp_binding_capacity(const struct dp_bindings *t)
{
	return t->max;
}

void dp_binding_reclaim(struct dp_bindings *t)
{
	rte_rcu_qsbr_dq_reclaim(t->dq, UINT32_MAX, NULL, NULL, NULL);
}

static uint16_t ip4_sum_without_len_proto(const uint8_t *h)
{
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2) {
		if (i == 2 || i == 8 || i == 10) /* total length, TTL/protocol, checksum */
			continue;
		sum += ha_rd16(h + i);
	}
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

static void build_entry(struct dp_bindings *t, struct dp_binding *b, const struct ha_binding_spec *s,
			uint32_t generation)
{
	memset(b, 0, sizeof(*b));
	b->home_prefix_len = s->home_prefix_len;
	memcpy(b->home_prefix, s->home_prefix, 16);
	b->has_hoa4 = (s->flags & HA_BIND_F_IPV4_HOA) != 0;
	memcpy(&b->hoa4, s->hoa4, 4);
	b->generation = generation;
	b->id = t->next_id++;
	uint8_t *h = b->hdr;
	if (!(s->flags & HA_BIND_F_COA4)) {
		b->tunnel = b->uplink_tunnel = DP_TUN_IP6;
		memcpy(b->coa6, s->coa, 16);
		h[0] = 0x60;
		h[7] = 64;        /* hop limit; payload length and next header per packet */
		memcpy(h + 8, t->ha6, 16);
		memcpy(h + 24, s->coa, 16);
		b->hdr_len = 40;
		return;
	}
	memcpy(&b->coa4, s->coa, 4);
	h[0] = 0x45;
	ha_wr16(h + 6, 0x4000); /* DF: the inner packet is never fragmented by us */
	h[8] = 64;
	memcpy(h + 12, &t->ha4, 4);
	memcpy(h + 16, &b->coa4, 4);
	b->ip4_csum_base = ip4_sum_without_len_proto(h);
	b->hdr_len = 20;
	b->tunnel = b->uplink_tunnel = DP_TUN_IP4;
	if (s->flags & HA_BIND_F_UDP) {
		b->tunnel = b->uplink_tunnel = DP_TUN_UDP4;
		h[9] = 17;
		b->udp_port_be = rte_cpu_to_be_16(s->udp_port);
		ha_wr16(h + 20, 4191);
		ha_wr16(h + 22, s->udp_port);
		b->hdr_len = 28;
	}
}

int dp_binding_upsert(struct dp_bindings *t, const struct ha_binding_spec *s, uint32_t generation,
		      struct dp_sa *sa_out, struct dp_sa *sa_in)
{
	struct key6 k;
	struct dp_binding *nb, *old = NULL, *other = NULL;
	uint32_t hoa4;

	int ti = table_of(t, s->home_prefix_len);
	if (ti < 0)
		return -EINVAL; /* workers would never look this length up */
	/* payload SAs: both directions, tunnel mode; with RFC 5555 UDP encapsulation only when
	 * IKE made them ESP-in-UDP (RFC 3948, port 4500): in UDP 4191 the receiver could not tell
	 * ESP from an IP packet without RFC 5845's TLV header */
	if ((sa_out || sa_in) &&
	    (!sa_out || !sa_in || sa_out->dir != HA_SA_OUT || sa_in->dir != HA_SA_IN ||
	     sa_out->mode != HA_SA_TUNNEL || sa_in->mode != HA_SA_TUNNEL))
		return -EINVAL;
	if (sa_out && (s->flags & HA_BIND_F_UDP) && (!sa_out->encap_port_be || !sa_in->encap_port_be))
		return -ENOTSUP;
	struct rte_hash *h6 = t->h6[ti];
	make_key6(&k, s->home_prefix, t->mask[ti]);
	if ((s->flags & HA_BIND_F_COA4) && !t->ha4)
		return -EAFNOSUPPORT;
	if (rte_hash_lookup_data(h6, &k, (void **)&old) < 0)
		old = NULL;
	memcpy(&hoa4, s->hoa4, 4);
	if ((s->flags & HA_BIND_F_IPV4_HOA) &&
	    rte_hash_lookup_data(t->h4, &hoa4, (void **)&other) >= 0 && other != old)
		return -EEXIST; /* that IPv4 home address belongs to another binding */
	if (!old && t->count >= t->max)
		return -ENOSPC;
	while (!(nb = entry_get(t))) {
		/* every spare entry waits for a grace period: let the workers pass one */
		rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
		dp_binding_reclaim(t);
		if (!t->n_free)
			return -ENOMEM;
	}
	build_entry(t, nb, s, generation);
	nb->sa_out = sa_out;
	nb->sa_in = sa_in;
	/* publish: the IPv4 key first, then the home prefix; a reader sees old or new, whole */
	if (nb->has_hoa4 && rte_hash_add_key_data(t->h4, &hoa4, nb) < 0) {
		entry_put(t, nb);
		return -ENOSPC;
	}
	if (rte_hash_add_key_data(h6, &k, nb) < 0) {
		if (nb->has_hoa4) {
			if (old && old->has_hoa4 && old->hoa4 == hoa4)
				rte_hash_add_key_data(t->h4, &hoa4, old);
			else
				defer(t, NULL, -1, 0, rte_hash_del_key(t->h4, &hoa4));
		}
		defer(t, nb, -1, 0, -1);
		return -ENOSPC;
	}
	if (sa_out) {
		sa_out->conf.refs++;
		sa_in->conf.refs++;
	}
	if (!old) {
		t->count++;
		return 0;
	}
	if (old->sa_out) {
		old->sa_out->conf.refs--;
		old->sa_in->conf.refs--;
	}
	int32_t pos4 = -1;
	if (old->has_hoa4 && (!nb->has_hoa4 || old->hoa4 != nb->hoa4))
		pos4 = rte_hash_del_key(t->h4, &old->hoa4);
	defer(t, old, -1, 0, pos4 >= 0 ? pos4 : -1);
	return 0;
}

int dp_binding_delete(struct dp_bindings *t, const uint8_t prefix[16], uint8_t prefix_len)
{
	struct key6 k;
	struct dp_binding *b, *b4;

	int ti = table_of(t, prefix_len);
	if (ti < 0)
		return -ENOENT;
	make_key6(&k, prefix, t->mask[ti]);
	if (rte_hash_lookup_data(t->h6[ti], &k, (void **)&b) < 0)
		return -ENOENT;
	int32_t pos6 = rte_hash_del_key(t->h6[ti], &k), pos4 = -1;
	if (b->has_hoa4 && rte_hash_lookup_data(t->h4, &b->hoa4, (void **)&b4) >= 0 && b4 == b)
		pos4 = rte_hash_del_key(t->h4, &b->hoa4);
	if (b->sa_out) {
		b->sa_out->conf.refs--;
		b->sa_in->conf.refs--;
	}
	defer(t, b, pos6, (uint32_t)ti, pos4 >= 0 ? pos4 : -1);
	t->count--;
	return 0;
}

unsigned dp_binding_sweep(struct dp_bindings *t, uint32_t gen)
{
	const void *key;
	void *data;
	uint32_t n = 0, cap = 1024;
	struct dp_binding **stale = rte_malloc("hadp_sweep", cap * sizeof(*stale), 0);

	if (!stale)
		return 0;
	/* collect first: deleting while iterating could skip entries */
	for (unsigned ti = 0; ti < t->n_lens; ti++) {
		uint32_t iter = 0;
		while (rte_hash_iterate(t->h6[ti], &key, &data, &iter) >= 0) {
			/* generation 0 is the YAML's static bindings: never swept */
			uint32_t g = ((struct dp_binding *)data)->generation;
			if (g == gen || g == 0)
				continue;
			if (n == cap) {
				struct dp_binding **bigger =
					rte_realloc(stale, 2 * cap * sizeof(*stale), 0);
				if (!bigger)
					break;
				stale = bigger;
				cap *= 2;
			}
			stale[n++] = data;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		dp_binding_delete(t, stale[i]->home_prefix, stale[i]->home_prefix_len);
	rte_free(stale);
	return n;
}

void dp_binding_lookup6(const struct dp_bindings *t, const uint8_t *const addrs[], unsigned n,
			const struct dp_binding *out[])
{
	struct key6 keys[64];
	const void *kp[64];
	void *data[64];
	unsigned idx[64], m = n;

	for (unsigned i = 0; i < n; i++) {
		out[i] = NULL;
		idx[i] = i;
	}
	/* one bulk lookup per distinct home prefix length, for the addresses still unresolved */
	for (unsigned l = 0; l < t->n_lens && m; l++) {
		uint64_t hits = 0;
		for (unsigned j = 0; j < m; j++) {
			make_key6(&keys[j], addrs[idx[j]], t->mask[l]);
			kp[j] = &keys[j];
		}
		if (rte_hash_lookup_bulk_data(t->h6[l], kp, m, &hits, data) <= 0)
			continue;
		unsigned left = 0;
		for (unsigned j = 0; j < m; j++) {
			if (hits >> j & 1)
				out[idx[j]] = data[j];
			else
				idx[left++] = idx[j];
		}
		m = left;
	}
}

void dp_binding_lookup4(const struct dp_bindings *t, const uint32_t addrs[], unsigned n,
			const struct dp_binding *out[])
{
	const void *kp[64];
	void *data[64];
	uint64_t hits = 0;

	for (unsigned i = 0; i < n; i++) {
		kp[i] = &addrs[i];
		out[i] = NULL;
	}
	if (n && rte_hash_lookup_bulk_data(t->h4, kp, n, &hits, data) > 0)
		for (unsigned i = 0; i < n; i++)
			if (hits >> i & 1)
				out[i] = data[i];
}
