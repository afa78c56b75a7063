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
	rte_lpm_free(t->v4);
	rte_lpm6_free(t->v6);
	rte_free(t);
}

/* A table of the n rules: the lpm tables, and each rule's next hop (a MAC from the rule; a
 * router's address is resolved by dp_neigh, which fills the word in before publishing). */
static int table_create(struct dp_routes *r, const struct ha_config_route *rules, unsigned n,
			struct dp_route_table **out)
{
	size_t sz = sizeof(struct dp_route_table) + n * (sizeof(struct ha_config_route) +
							 sizeof(union dp_next_hop));
	struct dp_route_table *t = rte_zmalloc_socket("hadp_routes", sz, RTE_CACHE_LINE_SIZE,
						     r->socket_id);
	if (!t)
		return -ENOMEM;
	t->next_hop = (union dp_next_hop *)(t + 1);
	t->rule = (struct ha_config_route *)(t->next_hop + n);
	memcpy(t->rule, rules, n * sizeof(*rules));
	t->n = n;
	char name4[RTE_LPM_NAMESIZE], name6[RTE_LPM_NAMESIZE];
	snprintf(name4, sizeof(name4), "hadp_routes4_%u", r->built);
	snprintf(name6, sizeof(name6), "hadp_routes6_%u", r->built);
	r->built++;
	struct rte_lpm_config c4 = { .max_rules = r->max, .number_tbl8s = 256 };
	struct rte_lpm6_config c6 = { .max_rules = r->max, .number_tbl8s = 1 << 12 };
	t->v4 = rte_lpm_create(name4, r->socket_id, &c4);
	t->v6 = rte_lpm6_create(name6, r->socket_id, &c6);
	if (!t->v4 || !t->v6) {
		int err = rte_errno;
		dp_route_table_free(t);
		return -err;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct ha_config_route *c = &t->rule[i];
		int rc;
		/* rte_lpm and rte_lpm6 take depths from 1: a default route is its two halves */
		uint8_t depth = c->prefix_len ? c->prefix_len : 1;
		if (c->prefix.family == AF_INET) {
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
		if (rc < 0) {
			dp_route_table_free(t);
			return rc;
		}
		if (!c->has_next_hop) {
			memcpy(t->next_hop[i].mac.addr_bytes, c->next_hop_mac, 6);
			t->next_hop[i].octet[DP_NH_VALID_OCTET] = 1;
		}
		t->next_hop[i].octet[DP_NH_ROUTE_OCTET] = 1;
	}
	*out = t;
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
	struct ha_config_route rules[HA_CFG_MAX_ROUTES];
	for (unsigned i = 0; i < dp->n_routes; i++) {
		rules[i] = dp->routes[i];
		if (valid(&rules[i]) < 0)
			return -EINVAL;
		mask_prefix(&rules[i]);
	}
	return table_create(r, rules, dp->n_routes, &r->cur);
}

int dp_routes_build(struct dp_routes *r, const struct ha_config_route *add,
		    const struct ha_config_route *del, struct dp_route_table **out)
{
	const struct dp_route_table *cur = r->cur;
	unsigned n = cur ? cur->n : 0;
	struct ha_config_route want = add ? *add : *del;
	int rc = valid(&want);
	if (rc < 0)
		return rc;
	mask_prefix(&want);
	unsigned found = n;
	for (unsigned i = 0; i < n && found == n; i++)
		if (same_prefix(&cur->rule[i], &want))
			found = i;
	if (del && found == n)
		return -ENOENT;
	if (add && found == n && n + 1 > r->max)
		return -ENOSPC;
	struct ha_config_route *rules = rte_malloc(NULL, (n + 1) * sizeof(*rules), 0);
	if (!rules)
		return -ENOMEM;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		if (i != found)
			rules[k++] = cur->rule[i];
	if (add)
		rules[k++] = want;
	*out = NULL;
	rc = k ? table_create(r, rules, k, out) : 0;
	rte_free(rules);
	return rc;
}

void dp_routes_publish(struct dp_routes *r, struct dp_route_table *t)
{
	struct dp_route_table *old = r->cur;
	rte_spinlock_lock(&r->show_lock);
	__atomic_store_n(&r->cur, t, __ATOMIC_RELEASE);
	rte_spinlock_unlock(&r->show_lock);
	if (!old)
		return;
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
	unsigned n = t ? t->n : 0;
	for (unsigned i = 0; i < n && i < max; i++) {
		const struct ha_config_route *c = &t->rule[i];
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
		snprintf(text[i], DP_ROUTE_TEXT, "%s/%u via %s%s", a, c->prefix_len, router, mac);
	}
	rte_spinlock_unlock(&r->show_lock);
	return n;
}

void dp_routes_free(struct dp_routes *r)
{
	dp_route_table_free(r->cur);
	memset(r, 0, sizeof(*r));
}
