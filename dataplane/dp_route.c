/* Core-side routes: see dp_route.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "dp_route.h"

static void mask_prefix(struct ha_config_route *rt)
{
	uint8_t *p = rt->prefix.family == AF_INET ? (uint8_t *)&rt->prefix.v4 : rt->prefix.v6.s6_addr;
	unsigned bytes = rt->prefix.family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = rt->prefix_len > i * 8 ? rt->prefix_len - i * 8 : 0;
		p[i] &= keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep);
	}
}

static bool same_prefix(const struct ha_config_route *a, const struct ha_config_route *b)
{
	if (a->prefix.family != b->prefix.family || a->prefix_len != b->prefix_len)
		return false;
	return a->prefix.family == AF_INET ? a->prefix.v4.s_addr == b->prefix.v4.s_addr
					   : !memcmp(&a->prefix.v6, &b->prefix.v6, 16);
}

static int valid(const struct ha_config_route *rt)
{
	if (rt->prefix.family != AF_INET && rt->prefix.family != AF_INET6)
		return -EINVAL;
	if (rt->prefix_len > (rt->prefix.family == AF_INET ? 32 : 128))
		return -EINVAL;
	if (rt->has_next_hop && rt->next_hop.family != rt->prefix.family)
		return -EINVAL;
	return 0;
}

void dp_route_table_free(struct dp_route_table *t)
{
	if (!t)
		return;
	if (t->owns_v4)
		rte_lpm_free(t->v4);
	if (t->owns_v6)
		rte_lpm6_free(t->v6);
	rte_free(t);
}

/* An empty table of r->max slots (no lpm tables yet). */
static struct dp_route_table *table_alloc(struct dp_routes *r)
{
	size_t sz = sizeof(struct dp_route_table) +
		    (size_t)r->max * (sizeof(union dp_next_hop) + sizeof(struct ha_config_route));
	struct dp_route_table *t = rte_zmalloc_socket("hadp_routes", sz, RTE_CACHE_LINE_SIZE,
						     r->socket_id);
	if (!t)
		return NULL;
	t->next_hop = (union dp_next_hop *)(t + 1);
	t->rule = (struct ha_config_route *)(t->next_hop + r->max);
	return t;
}

/* Slot i's next-hop word: the rule's MAC, or (a router's address) none until dp_neigh fills it. */
static void set_next_hop(struct dp_route_table *t, unsigned i)
{
	union dp_next_hop nh = { .word = 0 };
	if (!t->rule[i].has_next_hop) {
		memcpy(nh.mac.addr_bytes, t->rule[i].next_hop_mac, 6);
		nh.octet[DP_NH_VALID_OCTET] = 1;
	}
	nh.octet[DP_NH_ROUTE_OCTET] = 1;
	t->next_hop[i].word = nh.word;
}

/* t's lpm table of family (AF_INET, AF_INET6), new, from t's routes of that family. */
static int lpm_build(struct dp_routes *r, struct dp_route_table *t, int family)
{
	char name[RTE_LPM_NAMESIZE];
	snprintf(name, sizeof(name), "hadp_routes%c_%u", family == AF_INET ? '4' : '6', r->built++);
	if (family == AF_INET) {
		struct rte_lpm_config c4 = { .max_rules = r->max, .number_tbl8s = 256 };
		if (!(t->v4 = rte_lpm_create(name, r->socket_id, &c4)))
			return -rte_errno;
		t->owns_v4 = true;
	} else {
		struct rte_lpm6_config c6 = { .max_rules = r->max, .number_tbl8s = 1 << 12 };
		if (!(t->v6 = rte_lpm6_create(name, r->socket_id, &c6)))
			return -rte_errno;
		t->owns_v6 = true;
	}
	for (unsigned i = 0; i < t->end; i++) {
		const struct ha_config_route *c = &t->rule[i];
		if (c->prefix.family != family)
			continue;
		int rc;
		/* rte_lpm and rte_lpm6 take depths from 1: a default route is its two halves */
		uint8_t depth = c->prefix_len ? c->prefix_len : 1;
		if (family == AF_INET) {
			rc = rte_lpm_add(t->v4, rte_be_to_cpu_32(c->prefix.v4.s_addr), depth, i);
			if (!rc && !c->prefix_len)
				rc = rte_lpm_add(t->v4, 0x80000000u, 1, i);
		} else {
			rc = rte_lpm6_add(t->v6, c->prefix.v6.s6_addr, depth, i);
			if (!rc && !c->prefix_len) {
				uint8_t upper[16] = { 0x80 };
				rc = rte_lpm6_add(t->v6, upper, 1, i);
			}
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int dp_routes_create(struct dp_routes *r, const struct ha_config_dataplane *dp, int socket_id,
		     struct rte_rcu_qsbr *qsbr)
{
	memset(r, 0, sizeof(*r));
	r->max = dp->max_routes;
	r->socket_id = socket_id;
	r->qsbr = qsbr;
	if (!dp->n_routes)
		return 0;
	struct dp_route_table *t = table_alloc(r);
	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < dp->n_routes; i++) {
		t->rule[i] = dp->routes[i];
		if (valid(&t->rule[i]) < 0) {
			dp_route_table_free(t);
			return -EINVAL;
		}
		mask_prefix(&t->rule[i]);
		set_next_hop(t, i);
	}
	t->n = t->end = dp->n_routes;
	int rc = lpm_build(r, t, AF_INET);
	if (!rc)
		rc = lpm_build(r, t, AF_INET6);
	if (rc) {
		dp_route_table_free(t);
		return rc;
	}
	r->cur = t;
	return 0;
}

int dp_routes_build(struct dp_routes *r, const struct ha_config_route *add,
		    const struct ha_config_route *del, struct dp_route_table **out)
{
	const struct dp_route_table *cur = r->cur;
	struct ha_config_route want = add ? *add : *del;
	int rc = valid(&want);
	if (rc < 0)
		return rc;
	mask_prefix(&want);
	unsigned end = cur ? cur->end : 0, slot = end, free_slot = end;
	for (unsigned i = 0; i < end && slot == end; i++) {
		if (cur->rule[i].prefix.family == 0) {
			if (free_slot == end)
				free_slot = i;
		} else if (same_prefix(&cur->rule[i], &want)) {
			slot = i;
		}
	}
	if (del && slot == end)
		return -ENOENT;
	unsigned n = cur ? cur->n : 0;
	if (add && slot == end && n + 1 > r->max)
		return -ENOSPC;
	*out = NULL;
	if (del && n == 1)
		return 0; /* none left: the port's next hop again */
	struct dp_route_table *t = table_alloc(r);
	if (!t)
		return -ENOMEM;
	if (cur) {
		memcpy(t->rule, cur->rule, end * sizeof(t->rule[0]));
		memcpy(t->next_hop, cur->next_hop, end * sizeof(t->next_hop[0]));
		t->v4 = cur->v4; /* shared, still cur's, until published (dp_routes_publish) */
		t->v6 = cur->v6;
	}
	t->n = n;
	t->end = end;
	bool rebuild = true;
	if (del) {
		memset(&t->rule[slot], 0, sizeof(t->rule[slot]));
		t->next_hop[slot].word = 0;
		t->n--;
		while (t->end && t->rule[t->end - 1].prefix.family == 0)
			t->end--;
	} else if (slot != end) {
		t->rule[slot] = want; /* another next hop for the prefix: the lpm tables stay */
		set_next_hop(t, slot);
		rebuild = false;
	} else {
		slot = free_slot;
		t->rule[slot] = want;
		set_next_hop(t, slot);
		t->n++;
		t->end = slot + 1 > t->end ? slot + 1 : t->end;
	}
	if (rebuild) {
		if (want.prefix.family == AF_INET)
			t->v4 = NULL;
		else
			t->v6 = NULL;
		rc = lpm_build(r, t, want.prefix.family);
		/* the first table since there were none has both */
		if (!rc && !t->v4)
			rc = lpm_build(r, t, AF_INET);
		if (!rc && !t->v6)
			rc = lpm_build(r, t, AF_INET6);
		if (rc) {
			dp_route_table_free(t);
			return rc;
		}
	}
	*out = t;
	return 0;
}

void dp_routes_publish(struct dp_routes *r, struct dp_route_table *t)
{
	struct dp_route_table *old = r->cur;
	rte_spinlock_lock(&r->show_lock);
	__atomic_store_n(&r->cur, t, __ATOMIC_RELEASE);
	rte_spinlock_unlock(&r->show_lock);
	if (!old)
		return;
	/* the lpm tables the new one shares are its own from now on */
	if (t && t->v4 == old->v4 && old->owns_v4) {
		t->owns_v4 = true;
		old->owns_v4 = false;
	}
	if (t && t->v6 == old->v6 && old->owns_v6) {
		t->owns_v6 = true;
		old->owns_v6 = false;
	}
	/* the workers report a quiescent state once per loop: a few microseconds */
	if (r->qsbr)
		rte_rcu_qsbr_synchronize(r->qsbr, RTE_QSBR_THRID_INVALID);
	dp_route_table_free(old);
}

static void addr_text(const struct ha_cfg_addr *a, char *buf, size_t n)
{
	inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4 : (const void *)&a->v6, buf,
		  (socklen_t)n);
}

unsigned dp_routes_show(struct dp_routes *r, char (*text)[DP_ROUTE_TEXT], unsigned max)
{
	rte_spinlock_lock(&r->show_lock);
	const struct dp_route_table *t = r->cur;
	unsigned n = t ? t->n : 0, k = 0;
	for (unsigned i = 0; t && i < t->end && k < max; i++) {
		const struct ha_config_route *c = &t->rule[i];
		if (!c->prefix.family)
			continue;
		char a[INET6_ADDRSTRLEN], router[INET6_ADDRSTRLEN + 1] = "";
		char mac[RTE_ETHER_ADDR_FMT_SIZE] = "unresolved";
		union dp_next_hop nh = { .word = __atomic_load_n(&t->next_hop[i].word,
								 __ATOMIC_RELAXED) };
		addr_text(&c->prefix, a, sizeof(a));
		const uint8_t *o = nh.mac.addr_bytes;
		if (dp_nh_valid(nh.word)) /* lower case, as ip(8) and the YAML write them */
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", o[0], o[1], o[2],
				 o[3], o[4], o[5]);
		if (c->has_next_hop) {
			addr_text(&c->next_hop, router, sizeof(router) - 1);
			strcat(router, " ");
		}
		snprintf(text[k++], DP_ROUTE_TEXT, "%s/%u via %s%s", a, c->prefix_len, router, mac);
	}
	rte_spinlock_unlock(&r->show_lock);
	return n;
}

void dp_routes_free(struct dp_routes *r)
{
	dp_route_table_free(r->cur);
	memset(r, 0, sizeof(*r));
}
