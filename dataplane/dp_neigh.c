/* Next-hop resolution on the control thread: see dp_neigh.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dp_ctx.h"
#include "dp_local.h"
#include "dp_neigh.h"
#include "ha_bytes.h"
#include "mh_codec.h"

#define ETH_HLEN 14
#define ASK_UNKNOWN_S 1   /* until the router answers */
#define ASK_KNOWN_S 60    /* afterwards: a router replaced by another MAC is found */

static bool same_ip(const struct ha_cfg_addr *a, int family, const void *ip)
{
	return a->family == family &&
	       !memcmp(family == AF_INET ? (const void *)&a->v4 : (const void *)&a->v6, ip,
		       family == AF_INET ? 4 : 16);
}

static const void *ip_of(const struct ha_cfg_addr *a)
{
	return a->family == AF_INET ? (const void *)&a->v4 : (const void *)&a->v6;
}

/* The workers read each word whole: one store. */
static bool set_word(union dp_next_hop *slot, const uint8_t mac[6])
{
	union dp_next_hop nh = { .word = 0 };
	memcpy(nh.mac.addr_bytes, mac, 6);
	nh.octet[DP_NH_VALID_OCTET] = nh.octet[DP_NH_ROUTE_OCTET] = 1;
	if (__atomic_load_n(&slot->word, __ATOMIC_RELAXED) == nh.word)
		return false;
	__atomic_store_n(&slot->word, nh.word, __ATOMIC_RELEASE);
	return true;
}

/* Every route through router n, in table t. @return whether a word changed. */
static bool fill(struct dp_route_table *t, const struct dp_neigh_entry *n)
{
	bool changed = false;
	for (unsigned i = 0; t && n->port == DP_PORT_CORE && i < t->end; i++)
		if (t->rule[i].has_next_hop && same_ip(&t->rule[i].next_hop, n->ip.family, ip_of(&n->ip)))
			changed |= set_word(&t->next_hop[i], n->mac);
	return changed;
}

void dp_neigh_init(struct dp_neigh *nb, const struct ha_config_dataplane *dp)
{
	memset(nb, 0, sizeof(*nb));
	const struct ha_config_port *pc[2] = { [DP_PORT_ACCESS] = &dp->access,
					       [DP_PORT_CORE] = &dp->core };
	for (unsigned r = 0; r < 2; r++) {
		nb->port_has[r] = pc[r]->has_next_hop;
		nb->port_router[r] = pc[r]->next_hop;
	}
}

/* The entry for router ip on port in list l, NULL when it has none. */
static struct dp_neigh_entry *entry_of(struct dp_neigh_entry *l, unsigned n, unsigned port,
				       const struct ha_cfg_addr *ip)
{
	for (unsigned j = 0; j < n; j++)
		if (l[j].port == port && same_ip(&l[j].ip, ip->family, ip_of(ip)))
			return &l[j];
	return NULL;
}

int dp_neigh_adopt(struct dp_neigh *nb, struct dp_route_table *t)
{
	static struct dp_neigh next; /* the control thread's alone */
	next.n = 0;
	for (unsigned r = 0; r < 2; r++) {
		if (!nb->port_has[r])
			continue;
		struct dp_neigh_entry *old = entry_of(nb->e, nb->n, r, &nb->port_router[r]);
		next.e[next.n] = old ? *old : (struct dp_neigh_entry){ .ip = nb->port_router[r],
								      .port = (uint8_t)r };
		next.e[next.n++].for_port = true;
	}
	unsigned ports = next.n;
	for (unsigned i = 0; t && i < t->end; i++) {
		const struct ha_config_route *rt = &t->rule[i];
		if (!rt->prefix.family || !rt->has_next_hop || entry_of(next.e, next.n, DP_PORT_CORE, &rt->next_hop))
			continue;
		if (next.n - ports == HA_CFG_MAX_ROUTES)
			return -ENOSPC;
		struct dp_neigh_entry *old = entry_of(nb->e, nb->n, DP_PORT_CORE, &rt->next_hop);
		/* known, or being asked: keeps its state */
		next.e[next.n] = old ? *old : (struct dp_neigh_entry){ .ip = rt->next_hop,
								      .port = DP_PORT_CORE };
		next.e[next.n++].for_port = false;
	}
	for (unsigned j = 0; j < next.n; j++)
		if (next.e[j].known)
			fill(t, &next.e[j]);
	nb->n = next.n;
	memcpy(nb->e, next.e, next.n * sizeof(next.e[0]));
	return 0;
}

static void set_mac(struct dp_ctx *ctx, struct dp_stats *st, struct dp_neigh_entry *n,
		    const uint8_t mac[6])
{
	memcpy(n->mac, mac, 6);
	bool changed = fill(ctx->routes.cur, n);
	if (n->for_port)
		changed |= set_word((union dp_next_hop *)&ctx->ports[n->port].next_hop_word, mac);
	if (changed)
		st->c[DP_C_NEIGH_LEARNED]++;
	if (!n->known)
		n->next_ask_tsc = rte_get_tsc_cycles() + rte_get_tsc_hz() * ASK_KNOWN_S;
	n->known = true;
}

/* @return whether ip is one of port role's routers (its MAC then learned). */
static bool learn(struct dp_ctx *ctx, struct dp_stats *st, unsigned role, int family,
		  const uint8_t *ip, const uint8_t mac[6])
{
	static const uint8_t zero[6];
	if (!memcmp(mac, zero, 6) || (mac[0] & 1))
		return false; /* no address, or a group one */
	for (unsigned i = 0; i < ctx->neigh.n; i++) {
		struct dp_neigh_entry *n = &ctx->neigh.e[i];
		if (n->port == role && same_ip(&n->ip, family, ip)) {
			set_mac(ctx, st, n, mac);
			return true;
		}
	}
	return false;
}

/* The link-layer address option of type want (1 source, 2 target) in ND options. */
static const uint8_t *nd_lladdr(const uint8_t *opt, const uint8_t *end, uint8_t want)
{
	while (opt + 8 <= end && opt[1]) {
		if (opt[0] == want && opt[1] == 1)
			return opt + 2;
		opt += opt[1] * 8u;
	}
	return NULL;
}

bool dp_neigh_learn(struct dp_ctx *ctx, struct dp_stats *st, const struct rte_mbuf *m,
		    unsigned role)
{
	const uint8_t *e = rte_pktmbuf_mtod(m, const uint8_t *), *end = e + m->data_len;

	if (!ctx->neigh.n || m->data_len < ETH_HLEN)
		return false;
	if (ha_rd16(e + 12) == 0x0806) {
		const uint8_t *a = e + ETH_HLEN;
		if (m->data_len < ETH_HLEN + 28 || ha_rd16(a) != 1 || ha_rd16(a + 2) != 0x0800 ||
		    a[4] != 6 || a[5] != 4)
			return false;
		/* the sender, request or reply (RFC 826); a reply from one of our routers is used up
		 * here, anything else goes on to be answered or counted as not for us */
		return learn(ctx, st, role, AF_INET, a + 14, a + 8) && ha_rd16(a + 6) == 2;
	}
	const uint8_t *ip = e + ETH_HLEN, *icmp = ip + 40;
	if (ha_rd16(e + 12) != 0x86DD || m->data_len < ETH_HLEN + 40 + 24 || ip[6] != 58 ||
	    ip[7] != 255)
		return false;
	if (icmp[0] == 136) { /* an advertisement: the target's address (7.2.5) */
		const uint8_t *ll = nd_lladdr(icmp + 24, end, 2);
		return learn(ctx, st, role, AF_INET6, icmp + 8, ll ? ll : e + 6);
	}
	if (icmp[0] == 135) { /* a solicitation from the router names its own (7.2.3) */
		const uint8_t *ll = nd_lladdr(icmp + 24, end, 1);
		if (ll)
			learn(ctx, st, role, AF_INET6, ip + 8, ll);
	}
	return false;
}

static struct rte_mbuf *arp_request(struct dp_ctx *ctx, const struct dp_port *p, const void *tpa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
	uint8_t *e = m ? (uint8_t *)rte_pktmbuf_append(m, ETH_HLEN + 28) : NULL;
	if (!e) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	uint8_t *a = e + ETH_HLEN;
	memset(e, 0xff, 6);
	memcpy(e + 6, p->mac.addr_bytes, 6);
	ha_wr16(e + 12, 0x0806);
	ha_wr16(a, 1);
	ha_wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	ha_wr16(a + 6, 1);
	memcpy(a + 8, p->mac.addr_bytes, 6);
	memcpy(a + 14, &ctx->ha4, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, tpa, 4);
	return m;
}

/* RFC 4861 7.2.2: to the target's solicited-node address, with our link-layer address. */
static struct rte_mbuf *ns_request(struct dp_ctx *ctx, const struct dp_port *p, const uint8_t *tgt)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
	uint8_t *e = m ? (uint8_t *)rte_pktmbuf_append(m, ETH_HLEN + 40 + 32) : NULL;
	if (!e) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	uint8_t *ip = e + ETH_HLEN, *icmp = ip + 40;
	uint8_t snm[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff, [13] = tgt[13], [14] = tgt[14],
			    [15] = tgt[15] };
	const uint8_t mac[6] = { 0x33, 0x33, 0xff, tgt[13], tgt[14], tgt[15] };
	memcpy(e, mac, 6);
	memcpy(e + 6, p->mac.addr_bytes, 6);
	ha_wr16(e + 12, 0x86DD);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ha_wr16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, ctx->ha6, 16);
	memcpy(ip + 24, snm, 16);
	memset(icmp, 0, 32);
	icmp[0] = 135;
	memcpy(icmp + 8, tgt, 16);
	icmp[24] = 1; /* source link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, p->mac.addr_bytes, 6);
	dp_nd_checksum(ip);
	return m;
}

unsigned dp_neigh_tick(struct dp_ctx *ctx, struct dp_stats *st)
{
	struct rte_mbuf *out[DP_PORT__COUNT][DP_NEIGH_MAX];
	unsigned k[DP_PORT__COUNT] = { 0 }, asked = 0;
	uint64_t now = rte_get_tsc_cycles();

	for (unsigned i = 0; i < ctx->neigh.n; i++) {
		struct dp_neigh_entry *n = &ctx->neigh.e[i];
		if (now < n->next_ask_tsc)
			continue;
		n->next_ask_tsc = now + rte_get_tsc_hz() * (n->known ? ASK_KNOWN_S : ASK_UNKNOWN_S);
		bool v4 = n->ip.family == AF_INET;
		if (v4 && !ctx->ha4)
			continue; /* no address of ours to ask from */
		const struct dp_port *p = &ctx->ports[n->port];
		struct rte_mbuf *m = v4 ? arp_request(ctx, p, &n->ip.v4)
					: ns_request(ctx, p, n->ip.v6.s6_addr);
		if (m)
			out[n->port][k[n->port]++] = m;
	}
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		st->c[DP_C_NEIGH_ASKED] += dp_ctl_send(&ctx->ports[r], out[r], k[r], st);
		asked += k[r];
	}
	return asked;
}
