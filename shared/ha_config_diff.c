/* What changed between two configurations, and what a running appliance can take (see
 * ha_config_diff.h). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_config_diff.h"

typedef bool (*same_fn)(const struct ha_config *a, const struct ha_config *b);

/* One key: its class, and for a key outside the lists, where it lives in struct ha_config
 * (compared as octets: the loader zeroes the struct first) or a function that compares it. */
struct key_def {
	struct ha_cfg_key_class k;
	size_t off, len;
	bool print_uint;     /* an unsigned integer: the change shows both values */
	same_fn same;
};

static bool addr_eq(const struct ha_cfg_addr *a, const struct ha_cfg_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == AF_INET ? a->v4.s_addr == b->v4.s_addr
				    : !memcmp(&a->v6, &b->v6, sizeof(a->v6));
}

static bool opt_addr_eq(bool ha, const struct ha_cfg_addr *a, bool hb, const struct ha_cfg_addr *b)
{
	return ha == hb && (!ha || addr_eq(a, b));
}

static bool same_eal(const struct ha_config *a, const struct ha_config *b)
{
	if (a->dataplane.n_eal_args != b->dataplane.n_eal_args)
		return false;
	for (unsigned i = 0; i < a->dataplane.n_eal_args; i++)
		if (strcmp(a->dataplane.eal_args[i], b->dataplane.eal_args[i]))
			return false;
	return true;
}

static bool same_workers(const struct ha_config *a, const struct ha_config *b)
{
	return a->dataplane.n_workers == b->dataplane.n_workers &&
	       !memcmp(a->dataplane.workers, b->dataplane.workers,
		       a->dataplane.n_workers * sizeof(a->dataplane.workers[0]));
}

static bool same_cpus(const struct ha_config *a, const struct ha_config *b)
{
	if (a->dataplane.has_cpus != b->dataplane.has_cpus)
		return false;
	return !a->dataplane.has_cpus ||
	       (a->dataplane.n_workers == b->dataplane.n_workers &&
		!memcmp(a->dataplane.cpus, b->dataplane.cpus,
			(a->dataplane.n_workers + 1) * sizeof(a->dataplane.cpus[0])));
}

static bool same_access_nh(const struct ha_config *a, const struct ha_config *b)
{
	return opt_addr_eq(a->dataplane.access.has_next_hop, &a->dataplane.access.next_hop,
			   b->dataplane.access.has_next_hop, &b->dataplane.access.next_hop);
}

static bool same_core_nh(const struct ha_config *a, const struct ha_config *b)
{
	return opt_addr_eq(a->dataplane.core.has_next_hop, &a->dataplane.core.next_hop,
			   b->dataplane.core.has_next_hop, &b->dataplane.core.next_hop);
}

static bool same_ha4(const struct ha_config *a, const struct ha_config *b)
{
	return a->home_agent.has_ipv4_address == b->home_agent.has_ipv4_address &&
	       (!a->home_agent.has_ipv4_address ||
		a->home_agent.ipv4_address.s_addr == b->home_agent.ipv4_address.s_addr);
}

static bool same_radius(const struct ha_config *a, const struct ha_config *b)
{
	const struct ha_config_radius *x = &a->ike.radius, *y = &b->ike.radius;
	return a->ike.has_radius == b->ike.has_radius &&
	       (!a->ike.has_radius || (addr_eq(&x->server, &y->server) && x->port == y->port &&
				       !strcmp(x->secret, y->secret)));
}

static bool same_s6b_peer(const struct ha_config_s6b_peer *x, const struct ha_config_s6b_peer *y)
{
	return !strcmp(x->identity, y->identity) && addr_eq(&x->address, &y->address) &&
	       x->port == y->port && x->transport == y->transport && x->priority == y->priority;
}

/* the whole S6b mapping: charon's plugin and its freeDiameter read it once, at charon's start */
static bool same_s6b(const struct ha_config *a, const struct ha_config *b)
{
	const struct ha_config_s6b *x = &a->ike.s6b, *y = &b->ike.s6b;
	if (a->ike.has_s6b != b->ike.has_s6b)
		return false;
	if (!a->ike.has_s6b)
		return true;
	if (strcmp(x->identity, y->identity) || strcmp(x->realm, y->realm) ||
	    strcmp(x->destination_realm, y->destination_realm) ||
	    x->request_timeout_ms != y->request_timeout_ms || x->watchdog_s != y->watchdog_s ||
	    x->reconnect_s != y->reconnect_s ||
	    x->has_tls != y->has_tls || x->n_peers != y->n_peers)
		return false;
	if (x->has_tls && (strcmp(x->tls_certificate, y->tls_certificate) ||
			   strcmp(x->tls_private_key, y->tls_private_key) ||
			   strcmp(x->tls_ca_certificate, y->tls_ca_certificate)))
		return false;
	for (unsigned i = 0; i < x->n_peers; i++)
		if (!same_s6b_peer(&x->peers[i], &y->peers[i]))
			return false;
	return true;
}

static bool same_range(const struct ha_config *a, const struct ha_config_binding_range *x,
		       const struct ha_config *b, const struct ha_config_binding_range *y)
{
	return !strcmp(a->pdns[x->pdn].name, b->pdns[y->pdn].name) &&
	       !memcmp(&x->first_home_prefix, &y->first_home_prefix, 16) &&
	       x->home_prefix_len == y->home_prefix_len && x->count == y->count &&
	       addr_eq(&x->first_care_of, &y->first_care_of) &&
	       x->has_ipv4_home_address == y->has_ipv4_home_address &&
	       (!x->has_ipv4_home_address ||
		x->first_ipv4_home_address.s_addr == y->first_ipv4_home_address.s_addr) &&
	       x->has_udp_port == y->has_udp_port && (!x->has_udp_port || x->udp_port == y->udp_port);
}

static bool same_ranges(const struct ha_config *a, const struct ha_config *b)
{
	if (a->n_binding_ranges != b->n_binding_ranges)
		return false;
	for (size_t i = 0; i < a->n_binding_ranges; i++)
		if (!same_range(a, &a->binding_ranges[i], b, &b->binding_ranges[i]))
			return false;
	return true;
}

#define CONTAINER(p) { { p, HA_RELOAD_CONTAINER, NULL }, 0, 0, false, NULL }
/* a list item's key: compared with its item (the list's code below) */
#define ITEM(p, c, who) { { p, c, who }, 0, 0, false, NULL }
#define FIELD(p, c, who, m, u) \
	{ { p, c, who }, offsetof(struct ha_config, m), sizeof(((struct ha_config *)0)->m), u, NULL }
#define CUSTOM(p, c, who, fn) { { p, c, who }, 0, 0, false, fn }
#define PORT(side)                                                                              \
	CONTAINER("dataplane.ports." #side),                                                    \
	FIELD("dataplane.ports." #side ".device", HA_RELOAD_FIXED, "hadp",                     \
	      dataplane.side.device, false),                                                    \
	FIELD("dataplane.ports." #side ".devargs", HA_RELOAD_FIXED, "hadp",                    \
	      dataplane.side.devargs, false),                                                   \
	FIELD("dataplane.ports." #side ".rx_queues", HA_RELOAD_FIXED, "hadp",                  \
	      dataplane.side.rx_queues, true),                                                  \
	FIELD("dataplane.ports." #side ".tx_queues", HA_RELOAD_FIXED, "hadp",                  \
	      dataplane.side.tx_queues, true),                                                  \
	FIELD("dataplane.ports." #side ".mtu", HA_RELOAD_FIXED, "hadp", dataplane.side.mtu,   \
	      true),                                                                            \
	FIELD("dataplane.ports." #side ".next_hop_mac", HA_RELOAD_FIXED, "hadp",               \
	      dataplane.side.next_hop_mac, false),                                              \
	CUSTOM("dataplane.ports." #side ".next_hop", HA_RELOAD_FIXED, "hadp", same_##side##_nh)

/* Every key of the schema (docs/configuration.md), once. RUNTIME: hacpd applies it, or hands
 * it to hadp over the command ring (routes, static SAs and bindings). FIXED: read once at the
 * start of the process named, which a running change would contradict (ports, EAL, tables,
 * the HA's addresses, sockets), or charon's configuration made from this file. */
static const struct key_def keys[] = {
	CONTAINER("dataplane"),
	CUSTOM("dataplane.eal_args", HA_RELOAD_FIXED, "hadp", same_eal),
	CONTAINER("dataplane.lcores"),
	FIELD("dataplane.lcores.main", HA_RELOAD_FIXED, "hadp", dataplane.main_lcore, true),
	CUSTOM("dataplane.lcores.workers", HA_RELOAD_FIXED, "hadp", same_workers),
	CUSTOM("dataplane.lcores.cpus", HA_RELOAD_FIXED, "hadp", same_cpus),
	FIELD("dataplane.lcores.control_plane", HA_RELOAD_FIXED, "hacpd",
	      dataplane.control_plane_lcore, true),
	CONTAINER("dataplane.mempool"),
	FIELD("dataplane.mempool.mbufs", HA_RELOAD_FIXED, "hadp", dataplane.mbufs, true),
	FIELD("dataplane.mempool.cache", HA_RELOAD_FIXED, "hadp", dataplane.mbuf_cache, true),
	CONTAINER("dataplane.ports"),
	PORT(access),
	PORT(core),
	CONTAINER("dataplane.tables"),
	FIELD("dataplane.tables.max_bindings", HA_RELOAD_FIXED, "hadp", dataplane.max_bindings,
	      true),
	FIELD("dataplane.tables.max_sas", HA_RELOAD_FIXED, "hadp", dataplane.max_sas, true),
	FIELD("dataplane.tables.max_routes", HA_RELOAD_FIXED, "hadp", dataplane.max_routes, true),
	CONTAINER("dataplane.punt"),
	FIELD("dataplane.punt.rate_pps", HA_RELOAD_FIXED, "hadp", dataplane.punt_rate_pps, true),
	FIELD("dataplane.punt.burst", HA_RELOAD_FIXED, "hadp", dataplane.punt_burst, true),
	ITEM("dataplane.routes", HA_RELOAD_RUNTIME, NULL),
	ITEM("dataplane.routes[].prefix", HA_RELOAD_RUNTIME, NULL),
	ITEM("dataplane.routes[].next_hop_mac", HA_RELOAD_RUNTIME, NULL),
	ITEM("dataplane.routes[].next_hop", HA_RELOAD_RUNTIME, NULL),

	CONTAINER("home_agent"),
	FIELD("home_agent.ipv6_address", HA_RELOAD_FIXED, "hadp and hacpd",
	      home_agent.ipv6_address, false),
	CUSTOM("home_agent.ipv4_address", HA_RELOAD_FIXED, "hadp and hacpd", same_ha4),
	CONTAINER("home_agent.binding_lifetime"),
	FIELD("home_agent.binding_lifetime.max", HA_RELOAD_RUNTIME, NULL, home_agent.lifetime_max,
	      true),
	FIELD("home_agent.refresh_advice_percent", HA_RELOAD_RUNTIME, NULL,
	      home_agent.refresh_advice_percent, true),
	CONTAINER("home_agent.nat"),
	FIELD("home_agent.nat.keepalive_refresh", HA_RELOAD_RUNTIME, NULL,
	      home_agent.nat_keepalive_refresh, true),
	FIELD("home_agent.nat.force_udp", HA_RELOAD_RUNTIME, NULL, home_agent.force_udp, false),
	CONTAINER("home_agent.revocation"),
	FIELD("home_agent.revocation.min_delay_bris_ms", HA_RELOAD_RUNTIME, NULL,
	      home_agent.bri_min_delay_ms, true),
	FIELD("home_agent.revocation.max_retransmissions", HA_RELOAD_RUNTIME, NULL,
	      home_agent.bri_max_retransmissions, true),
	FIELD("home_agent.insecure_lab_mode", HA_RELOAD_RUNTIME, NULL, home_agent.insecure_lab_mode,
	      false),

	ITEM("pdns", HA_RELOAD_RUNTIME, NULL),
	ITEM("pdns[].name", HA_RELOAD_RUNTIME, NULL),
	ITEM("pdns[].apn", HA_RELOAD_RUNTIME, NULL),
	ITEM("pdns[].home_prefix_pool", HA_RELOAD_FIXED, "hacpd"),
	ITEM("pdns[].home_prefix_length", HA_RELOAD_FIXED, "hadp and hacpd"),
	ITEM("pdns[].ipv4_pool", HA_RELOAD_ADD_ONLY, "hacpd"),

	CONTAINER("ike"),
	FIELD("ike.enabled", HA_RELOAD_FIXED, "hacpd and charon", ike.enabled, false),
	FIELD("ike.local_id", HA_RELOAD_FIXED, "charon", ike.local_id, false),
	FIELD("ike.certificate", HA_RELOAD_FIXED, "charon", ike.certificate, false),
	FIELD("ike.private_key", HA_RELOAD_FIXED, "charon", ike.private_key, false),
	FIELD("ike.ca_certificate", HA_RELOAD_FIXED, "charon", ike.ca_certificate, false),
	FIELD("ike.subscribers", HA_RELOAD_FIXED, "charon", ike.subscribers, false),
	FIELD("ike.aaa", HA_RELOAD_FIXED, "charon", ike.aaa, false),
	CUSTOM("ike.radius", HA_RELOAD_FIXED, "charon", same_radius),
	ITEM("ike.radius.server", HA_RELOAD_FIXED, "charon"), /* compared with ike.radius */
	ITEM("ike.radius.port", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.radius.secret", HA_RELOAD_FIXED, "charon"),
	CUSTOM("ike.s6b", HA_RELOAD_FIXED, "charon", same_s6b),
	ITEM("ike.s6b.identity", HA_RELOAD_FIXED, "charon"), /* compared with ike.s6b */
	ITEM("ike.s6b.realm", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.destination_realm", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.request_timeout_ms", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.watchdog_s", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.reconnect_s", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.tls", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.tls.certificate", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.tls.private_key", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.tls.ca_certificate", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.peers", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.peers[].identity", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.peers[].address", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.peers[].port", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.peers[].transport", HA_RELOAD_FIXED, "charon"),
	ITEM("ike.s6b.peers[].priority", HA_RELOAD_FIXED, "charon"),
	FIELD("ike.fragmentation", HA_RELOAD_FIXED, "charon", ike.fragmentation, false),
	/* hacpd gives it as the home prefix's lifetime; charon rekeys by it */
	FIELD("ike.ike_lifetime", HA_RELOAD_FIXED, "hacpd and charon", ike.ike_lifetime, true),
	FIELD("ike.child_lifetime", HA_RELOAD_FIXED, "charon", ike.child_lifetime, true),
	FIELD("ike.socket", HA_RELOAD_FIXED, "hacpd", ike.socket, false),
	FIELD("ike.max_sessions", HA_RELOAD_FIXED, "hacpd", ike.max_sessions, true),
	FIELD("ike.detach_guard_s", HA_RELOAD_RUNTIME, NULL, ike.detach_guard_s, true),

	ITEM("static_sas", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].spi", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].direction", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].mode", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].local", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].peer", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].encryption", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].integrity", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].key", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].auth_key", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].esn", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].replay_window", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_sas[].udp_encap_port", HA_RELOAD_RUNTIME, NULL),

	ITEM("static_bindings", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_bindings[].pdn", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_bindings[].home_prefix", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_bindings[].ipv4_home_address", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_bindings[].care_of", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_bindings[].udp_port", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_bindings[].sa_in", HA_RELOAD_RUNTIME, NULL),
	ITEM("static_bindings[].sa_out", HA_RELOAD_RUNTIME, NULL),

	/* load tests at scale: up to millions of bindings, installed by hadp at its start */
	CUSTOM("static_binding_ranges", HA_RELOAD_FIXED, "hadp", same_ranges),
	ITEM("static_binding_ranges[].pdn", HA_RELOAD_FIXED, "hadp"),
	ITEM("static_binding_ranges[].first_home_prefix", HA_RELOAD_FIXED, "hadp"),
	ITEM("static_binding_ranges[].count", HA_RELOAD_FIXED, "hadp"),
	ITEM("static_binding_ranges[].first_care_of", HA_RELOAD_FIXED, "hadp"),
	ITEM("static_binding_ranges[].first_ipv4_home_address", HA_RELOAD_FIXED, "hadp"),
	ITEM("static_binding_ranges[].udp_port", HA_RELOAD_FIXED, "hadp"),

	CONTAINER("cli"),
	FIELD("cli.socket", HA_RELOAD_FIXED, "hacpd", cli.socket, false),
	FIELD("cli.mode", HA_RELOAD_FIXED, "hacpd", cli.mode, false),
	FIELD("cli.group", HA_RELOAD_FIXED, "hacpd", cli.group, false),

	CONTAINER("logging"),
	FIELD("logging.level", HA_RELOAD_RUNTIME, NULL, log_level, false),
	FIELD("logging.syslog", HA_RELOAD_RUNTIME, NULL, log_syslog, false),
	FIELD("logging.rate_per_second", HA_RELOAD_RUNTIME, NULL, log_rate, false),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

size_t ha_cfg_reload_nkeys(void)
{
	return N_KEYS;
}

const struct ha_cfg_key_class *ha_cfg_reload_key_at(size_t i)
{
	return i < N_KEYS ? &keys[i].k : NULL;
}

static const struct key_def *key_def(const char *path)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcmp(keys[i].k.path, path))
			return &keys[i];
	return NULL;
}

const struct ha_cfg_key_class *ha_cfg_reload_key(const char *path)
{
	const struct key_def *k = key_def(path);
	return k ? &k->k : NULL;
}

/* ---- the changes ---------------------------------------------------------------------- */

static struct ha_cfg_change *add(struct ha_cfg_diff *d, const char *key, enum ha_cfg_change_kind kind,
				 enum ha_cfg_item item, int old_i, int new_i)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 32;
		struct ha_cfg_change *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		d->v = v;
		d->cap = cap;
	}
	struct ha_cfg_change *c = &d->v[d->n++];
	const struct key_def *k = key_def(key);
	*c = (struct ha_cfg_change){ .kind = kind, .item = item, .old_i = old_i, .new_i = new_i };
	snprintf(c->key, sizeof(c->key), "%s", key);
	/* a key nobody classified is refused: it cannot have been thought about */
	c->refused = !k || k->k.cls == HA_RELOAD_FIXED ||
		     (k->k.cls == HA_RELOAD_ADD_ONLY && kind != HA_CHG_ADDED);
	if (c->refused) {
		snprintf(c->text, sizeof(c->text), "%s cannot change at run time (restart %s)", key,
			 k && k->k.restart ? k->k.restart : "hadp and hacpd");
		d->refused++;
	}
	return c;
}

static void text(struct ha_cfg_change *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text(struct ha_cfg_change *c, const char *fmt, ...)
{
	if (c->refused)
		return; /* the refusal's own line says it */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

static const char *addr_str(const struct ha_cfg_addr *a, char *buf, size_t n)
{
	return inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4 : (const void *)&a->v6,
			 buf, (socklen_t)n);
}

static uint64_t uint_at(const struct ha_config *cfg, const struct key_def *k)
{
	const char *p = (const char *)cfg + k->off;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	switch (k->len) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	default: memcpy(&u32, p, 4); return u32;
	}
}

static int diff_keys(const struct ha_config *a, const struct ha_config *b, struct ha_cfg_diff *d)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &keys[i];
		bool same;
		if (k->same)
			same = k->same(a, b);
		else if (k->len)
			same = !memcmp((const char *)a + k->off, (const char *)b + k->off, k->len);
		else
			continue; /* a container, or a list's key */
		if (same)
			continue;
		struct ha_cfg_change *c = add(d, k->k.path, HA_CHG_CHANGED, HA_ITEM_NONE, -1, -1);
		if (!c)
			return -1;
		if (k->print_uint)
			text(c, "%s: %llu -> %llu", k->k.path, (unsigned long long)uint_at(a, k),
			     (unsigned long long)uint_at(b, k));
		else
			text(c, "%s changed", k->k.path);
	}
	return 0;
}

/* ---- PDNs, by name ---- */

static int pdn_by_name(const struct ha_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_pdns; i++)
		if (!strcmp(cfg->pdns[i].name, name))
			return (int)i;
	return -1;
}

static bool has_prefix_len(const struct ha_config *cfg, uint8_t len)
{
	for (unsigned i = 0; i < cfg->n_pdns; i++)
		if (cfg->pdns[i].home_prefix_len == len)
			return true;
	return false;
}

static int diff_pdns(const struct ha_config *a, const struct ha_config *b, struct ha_cfg_diff *d)
{
	struct ha_cfg_change *c;
	for (unsigned i = 0; i < a->n_pdns; i++)
		if (pdn_by_name(b, a->pdns[i].name) < 0) {
			if (!(c = add(d, "pdns", HA_CHG_REMOVED, HA_ITEM_PDN, (int)i, -1)))
				return -1;
			text(c, "pdns: '%s' removed", a->pdns[i].name);
		}
	for (unsigned j = 0; j < b->n_pdns; j++) {
		const struct ha_config_pdn *y = &b->pdns[j];
		int i = pdn_by_name(a, y->name);
		char p[INET6_ADDRSTRLEN], v4[INET_ADDRSTRLEN] = "";
		inet_ntop(AF_INET6, &y->pool6, p, sizeof(p));
		if (y->has_ipv4_pool)
			inet_ntop(AF_INET, &y->pool4, v4, sizeof(v4));
		if (i < 0) {
			/* hadp keeps one binding table per home prefix length, made at its start */
			if (!has_prefix_len(a, y->home_prefix_len)) {
				if (!(c = add(d, "pdns[].home_prefix_length", HA_CHG_ADDED, HA_ITEM_PDN,
					      -1, (int)j)))
					return -1;
				snprintf(c->text, sizeof(c->text), "pdns[].home_prefix_length of '%s': "
					 "/%u is none of hadp's (restart hadp)", y->name,
					 y->home_prefix_len);
				continue; /* refused: the key is FIXED */
			}
			if (!(c = add(d, "pdns", HA_CHG_ADDED, HA_ITEM_PDN, -1, (int)j)))
				return -1;
			text(c, "pdns: '%s' added (home prefixes %s/%u of %s/%u%s%s)", y->name, p,
			     y->home_prefix_len, p, y->pool6_len, y->has_ipv4_pool ? ", IPv4 " : "",
			     v4);
			if (y->has_ipv4_pool)
				snprintf(c->text + strlen(c->text), sizeof(c->text) - strlen(c->text),
					 "/%u", y->pool4_len);
			continue;
		}
		const struct ha_config_pdn *x = &a->pdns[i];
		if (strcmp(x->apn, y->apn)) {
			if (!(c = add(d, "pdns[].apn", HA_CHG_CHANGED, HA_ITEM_PDN, i, (int)j)))
				return -1;
			text(c, "pdns[].apn of '%s': %s -> %s", y->name, x->apn, y->apn);
		}
		if (memcmp(&x->pool6, &y->pool6, 16) || x->pool6_len != y->pool6_len) {
			if (!(c = add(d, "pdns[].home_prefix_pool", HA_CHG_CHANGED, HA_ITEM_PDN, i,
				      (int)j)))
				return -1;
		}
		if (x->home_prefix_len != y->home_prefix_len &&
		    !add(d, "pdns[].home_prefix_length", HA_CHG_CHANGED, HA_ITEM_PDN, i, (int)j))
			return -1;
		if (x->has_ipv4_pool != y->has_ipv4_pool ||
		    (x->has_ipv4_pool && (x->pool4.s_addr != y->pool4.s_addr ||
					  x->pool4_len != y->pool4_len))) {
			enum ha_cfg_change_kind k = !x->has_ipv4_pool ? HA_CHG_ADDED
				: y->has_ipv4_pool ? HA_CHG_CHANGED : HA_CHG_REMOVED;
			if (!(c = add(d, "pdns[].ipv4_pool", k, HA_ITEM_PDN, i, (int)j)))
				return -1;
			text(c, "pdns[].ipv4_pool of '%s': %s/%u added", y->name, v4, y->pool4_len);
		}
	}
	return 0;
}

/* ---- routes, by prefix ---- */

static bool route_key_eq(const struct ha_config_route *x, const struct ha_config_route *y)
{
	return x->prefix_len == y->prefix_len && addr_eq(&x->prefix, &y->prefix);
}

static bool route_eq(const struct ha_config_route *x, const struct ha_config_route *y)
{
	return route_key_eq(x, y) && x->has_next_hop == y->has_next_hop &&
	       (x->has_next_hop ? addr_eq(&x->next_hop, &y->next_hop)
				: !memcmp(x->next_hop_mac, y->next_hop_mac, 6));
}

static int route_in(const struct ha_config *cfg, const struct ha_config_route *r)
{
	for (unsigned i = 0; i < cfg->dataplane.n_routes; i++)
		if (route_key_eq(&cfg->dataplane.routes[i], r))
			return (int)i;
	return -1;
}

static void route_text(struct ha_cfg_change *c, const struct ha_config_route *r, const char *what)
{
	char p[INET6_ADDRSTRLEN], nh[INET6_ADDRSTRLEN + 8];
	addr_str(&r->prefix, p, sizeof(p));
	if (r->has_next_hop)
		addr_str(&r->next_hop, nh, sizeof(nh));
	else
		snprintf(nh, sizeof(nh), "%02x:%02x:%02x:%02x:%02x:%02x", r->next_hop_mac[0],
			 r->next_hop_mac[1], r->next_hop_mac[2], r->next_hop_mac[3],
			 r->next_hop_mac[4], r->next_hop_mac[5]);
	text(c, "dataplane.routes: %s/%u %s%s%s", p, r->prefix_len, what,
	     c->kind == HA_CHG_REMOVED ? "" : " via ", c->kind == HA_CHG_REMOVED ? "" : nh);
}

static int diff_routes(const struct ha_config *a, const struct ha_config *b, struct ha_cfg_diff *d)
{
	struct ha_cfg_change *c;
	for (unsigned i = 0; i < a->dataplane.n_routes; i++)
		if (route_in(b, &a->dataplane.routes[i]) < 0) {
			if (!(c = add(d, "dataplane.routes", HA_CHG_REMOVED, HA_ITEM_ROUTE, (int)i, -1)))
				return -1;
			route_text(c, &a->dataplane.routes[i], "removed");
		}
	for (unsigned j = 0; j < b->dataplane.n_routes; j++) {
		const struct ha_config_route *r = &b->dataplane.routes[j];
		int i = route_in(a, r);
		if (i >= 0 && route_eq(&a->dataplane.routes[i], r))
			continue;
		if (!(c = add(d, "dataplane.routes", i < 0 ? HA_CHG_ADDED : HA_CHG_CHANGED,
			      HA_ITEM_ROUTE, i, (int)j)))
			return -1;
		route_text(c, r, i < 0 ? "added" : "changed");
	}
	return 0;
}

/* ---- static SAs, by (direction, SPI) ---- */

static bool sa_eq(const struct ha_config_sa *x, const struct ha_config_sa *y)
{
	return x->spi == y->spi && x->direction == y->direction && x->mode == y->mode &&
	       addr_eq(&x->local, &y->local) && addr_eq(&x->peer, &y->peer) &&
	       x->encryption == y->encryption && x->integrity == y->integrity &&
	       x->key_len == y->key_len && !memcmp(x->key, y->key, x->key_len) &&
	       x->auth_key_len == y->auth_key_len &&
	       !memcmp(x->auth_key, y->auth_key, x->auth_key_len) && x->esn == y->esn &&
	       x->replay_window == y->replay_window && x->udp_encap_port == y->udp_encap_port;
}

/* A file's static SAs and bindings sorted by identity, so that files of 65,536 of each compare
 * in O(n log n) while hacpd's loop waits. */
struct index {
	const struct ha_config *cfg;
	uint32_t *sa;   /* indexes into static_sas, by (direction, SPI) */
	uint32_t *b;    /* indexes into static_bindings, by (home prefix, length) */
};

static int sa_key_cmp(const struct ha_config_sa *x, uint32_t spi, enum ha_cfg_sa_dir dir)
{
	if (x->direction != dir)
		return x->direction < dir ? -1 : 1;
	return x->spi < spi ? -1 : x->spi > spi;
}

static int sa_sort(const void *l, const void *r, void *arg)
{
	const struct ha_config *cfg = arg;
	const struct ha_config_sa *y = &cfg->static_sas[*(const uint32_t *)r];
	return sa_key_cmp(&cfg->static_sas[*(const uint32_t *)l], y->spi, y->direction);
}

static int b_key_cmp(const struct ha_config_binding *x, const struct ha_config_binding *y)
{
	int c = memcmp(&x->home_prefix, &y->home_prefix, 16);
	return c ? c : (int)x->home_prefix_len - (int)y->home_prefix_len;
}

static int b_sort(const void *l, const void *r, void *arg)
{
	const struct ha_config *cfg = arg;
	return b_key_cmp(&cfg->static_bindings[*(const uint32_t *)l],
			 &cfg->static_bindings[*(const uint32_t *)r]);
}

static int index_make(struct index *ix, const struct ha_config *cfg)
{
	ix->cfg = cfg;
	ix->sa = malloc((cfg->n_static_sas + 1) * sizeof(*ix->sa));
	ix->b = malloc((cfg->n_static_bindings + 1) * sizeof(*ix->b));
	if (!ix->sa || !ix->b)
		return -1;
	for (uint32_t i = 0; i < cfg->n_static_sas; i++)
		ix->sa[i] = i;
	for (uint32_t i = 0; i < cfg->n_static_bindings; i++)
		ix->b[i] = i;
	qsort_r(ix->sa, cfg->n_static_sas, sizeof(*ix->sa), sa_sort, (void *)cfg);
	qsort_r(ix->b, cfg->n_static_bindings, sizeof(*ix->b), b_sort, (void *)cfg);
	return 0;
}

static void index_free(struct index *ix)
{
	free(ix->sa);
	free(ix->b);
}

/* Binary search of a sorted index: cmp(cfg, item, key) orders the item against the key.
 * @return the item's index in its list, or -1. */
static int find(const struct ha_config *cfg, const uint32_t *idx, size_t n, const void *key,
		int (*cmp)(const struct ha_config *cfg, uint32_t item, const void *key))
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp(cfg, idx[mid], key);
		if (!c)
			return (int)idx[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct sa_id {
	uint32_t spi;
	enum ha_cfg_sa_dir dir;
};

static int sa_item_cmp(const struct ha_config *cfg, uint32_t item, const void *key)
{
	const struct sa_id *k = key;
	return sa_key_cmp(&cfg->static_sas[item], k->spi, k->dir);
}

static int sa_in_cfg(const struct index *ix, uint32_t spi, enum ha_cfg_sa_dir dir)
{
	struct sa_id k = { spi, dir };
	return find(ix->cfg, ix->sa, ix->cfg->n_static_sas, &k, sa_item_cmp);
}

/* The SA of that SPI is in both files but not the same (a binding on it must be moved). */
static bool sa_changed(const struct index *ia, const struct index *ib, uint32_t spi,
		       enum ha_cfg_sa_dir dir)
{
	int i = sa_in_cfg(ia, spi, dir), j = sa_in_cfg(ib, spi, dir);
	return i >= 0 && j >= 0 && !sa_eq(&ia->cfg->static_sas[i], &ib->cfg->static_sas[j]);
}

static int diff_sas(const struct index *ia, const struct index *ib, struct ha_cfg_diff *d)
{
	const struct ha_config *a = ia->cfg, *b = ib->cfg;
	struct ha_cfg_change *c;
	for (size_t i = 0; i < a->n_static_sas; i++) {
		const struct ha_config_sa *s = &a->static_sas[i];
		if (sa_in_cfg(ib, s->spi, s->direction) < 0) {
			if (!(c = add(d, "static_sas", HA_CHG_REMOVED, HA_ITEM_SA, (int)i, -1)))
				return -1;
			text(c, "static_sas: spi 0x%08x %s removed", s->spi,
			     s->direction == HA_CFG_SA_IN ? "in" : "out");
		}
	}
	for (size_t j = 0; j < b->n_static_sas; j++) {
		const struct ha_config_sa *s = &b->static_sas[j];
		int i = sa_in_cfg(ia, s->spi, s->direction);
		if (i >= 0 && sa_eq(&a->static_sas[i], s))
			continue;
		if (!(c = add(d, "static_sas", i < 0 ? HA_CHG_ADDED : HA_CHG_CHANGED, HA_ITEM_SA, i,
			      (int)j)))
			return -1;
		text(c, "static_sas: spi 0x%08x %s %s", s->spi,
		     s->direction == HA_CFG_SA_IN ? "in" : "out", i < 0 ? "added" : "changed");
	}
	return 0;
}

/* ---- static bindings, by home prefix ---- */

static bool binding_eq(const struct index *ia, const struct ha_config_binding *x,
		       const struct index *ib, const struct ha_config_binding *y)
{
	const struct ha_config *a = ia->cfg, *b = ib->cfg;
	return !strcmp(a->pdns[x->pdn].name, b->pdns[y->pdn].name) && !b_key_cmp(x, y) &&
	       x->has_ipv4_home_address == y->has_ipv4_home_address &&
	       (!x->has_ipv4_home_address ||
		x->ipv4_home_address.s_addr == y->ipv4_home_address.s_addr) &&
	       addr_eq(&x->care_of, &y->care_of) && x->has_udp_port == y->has_udp_port &&
	       (!x->has_udp_port || x->udp_port == y->udp_port) && x->has_sa == y->has_sa &&
	       (!x->has_sa || (x->sa_in == y->sa_in && x->sa_out == y->sa_out &&
			       !sa_changed(ia, ib, x->sa_in, HA_CFG_SA_IN) &&
			       !sa_changed(ia, ib, x->sa_out, HA_CFG_SA_OUT)));
}

static int b_item_cmp(const struct ha_config *cfg, uint32_t item, const void *key)
{
	return b_key_cmp(&cfg->static_bindings[item], key);
}

static int binding_in(const struct index *ix, const struct ha_config_binding *x)
{
	return find(ix->cfg, ix->b, ix->cfg->n_static_bindings, x, b_item_cmp);
}

static int diff_bindings(const struct index *ia, const struct index *ib, struct ha_cfg_diff *d)
{
	const struct ha_config *a = ia->cfg, *b = ib->cfg;
	struct ha_cfg_change *c;
	char p[INET6_ADDRSTRLEN];
	for (size_t i = 0; i < a->n_static_bindings; i++) {
		const struct ha_config_binding *x = &a->static_bindings[i];
		if (binding_in(ib, x) >= 0)
			continue;
		if (!(c = add(d, "static_bindings", HA_CHG_REMOVED, HA_ITEM_BINDING, (int)i, -1)))
			return -1;
		inet_ntop(AF_INET6, &x->home_prefix, p, sizeof(p));
		text(c, "static_bindings: %s/%u removed", p, x->home_prefix_len);
	}
	for (size_t j = 0; j < b->n_static_bindings; j++) {
		const struct ha_config_binding *y = &b->static_bindings[j];
		int i = binding_in(ia, y);
		if (i >= 0 && binding_eq(ia, &a->static_bindings[i], ib, y))
			continue;
		if (!(c = add(d, "static_bindings", i < 0 ? HA_CHG_ADDED : HA_CHG_CHANGED,
			      HA_ITEM_BINDING, i, (int)j)))
			return -1;
		char coa[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &y->home_prefix, p, sizeof(p));
		addr_str(&y->care_of, coa, sizeof(coa));
		text(c, "static_bindings: %s/%u %s (pdn %s, care-of %s)", p, y->home_prefix_len,
		     i < 0 ? "added" : "changed", b->pdns[y->pdn].name, coa);
	}
	return 0;
}

int ha_config_diff(const struct ha_config *old, const struct ha_config *new,
		   struct ha_cfg_diff *d)
{
	struct index ia = { 0 }, ib = { 0 };
	int rc = -1;
	memset(d, 0, sizeof(*d));
	if (index_make(&ia, old) == 0 && index_make(&ib, new) == 0 &&
	    diff_keys(old, new, d) == 0 && diff_pdns(old, new, d) == 0 &&
	    diff_routes(old, new, d) == 0 && diff_sas(&ia, &ib, d) == 0 &&
	    diff_bindings(&ia, &ib, d) == 0)
		rc = 0;
	else
		ha_cfg_diff_free(d);
	index_free(&ia);
	index_free(&ib);
	return rc;
}

void ha_cfg_diff_free(struct ha_cfg_diff *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}
