/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ha_config_dump.c - print the effective configuration as YAML or JSON.
 *
 * One small emitter serves both formats. The YAML output uses the loader's
 * own spellings, so with HA_CFG_DUMP_SECRETS it loads back to the same
 * configuration (tests/unit/test_config.c checks the round trip).
 */
#include "ha_config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

#define EM_MAX_DEPTH 8

struct em {
	FILE *f;
	bool json;
	unsigned depth;
	bool dash;   /* YAML: the next key opens a sequence item */
	struct {
		bool seq;
		unsigned n;
	} st[EM_MAX_DEPTH];
};

static void indent(struct em *e, unsigned n)
{
	fprintf(e->f, "%*s", (int)n, "");
}

/* Start an entry (key may be NULL inside a sequence). */
static void em_prefix(struct em *e, const char *key)
{
	unsigned d = e->depth;
	if (e->json) {
		if (d > 0)
			fputs(e->st[d - 1].n++ ? ",\n" : "\n", e->f);
		indent(e, 2 * d);
		if (key)
			fprintf(e->f, "\"%s\": ", key);
		return;
	}
	if (d > 0)
		e->st[d - 1].n++;
	if (e->dash) {
		indent(e, 2 * (d - 2));
		fputs("- ", e->f);
		e->dash = false;
	} else {
		indent(e, d > 0 ? 2 * (d - 1) : 0);
	}
	if (key)
		fprintf(e->f, "%s:", key);
}

static void em_open(struct em *e, const char *key, bool seq)
{
	if (e->json) {
		if (e->depth == 0 && !key)
			fputs("{", e->f);
		else {
			em_prefix(e, key);
			fputs(seq ? "[" : "{", e->f);
		}
	} else if (key) {
		em_prefix(e, key);
		fputs("\n", e->f);
	} else if (e->depth > 0 && e->st[e->depth - 1].seq) {
		e->st[e->depth - 1].n++;
		e->dash = true;
	}
	e->st[e->depth].seq = seq;
	e->st[e->depth].n = 0;
	e->depth++;
}

static void em_close(struct em *e)
{
	e->depth--;
	if (e->json) {
		fputs("\n", e->f);
		indent(e, 2 * e->depth);
		fputs(e->st[e->depth].seq ? "]" : "}", e->f);
		if (e->depth == 0)
			fputs("\n", e->f);
	}
}

static void em_raw(struct em *e, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void em_raw(struct em *e, const char *key, const char *fmt, ...)
{
	va_list ap;
	em_prefix(e, key);
	if (!e->json)
		fputs(" ", e->f);
	va_start(ap, fmt);
	vfprintf(e->f, fmt, ap);
	va_end(ap);
	if (!e->json)
		fputs("\n", e->f);
}

/* A double-quoted string: valid in both JSON and YAML. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void em_str(struct em *e, const char *key, const char *s)
{
	em_prefix(e, key);
	if (!e->json)
		fputs(" ", e->f);
	put_quoted(e->f, s);
	if (!e->json)
		fputs("\n", e->f);
}

static void em_uint(struct em *e, const char *key, unsigned long v)
{
	em_raw(e, key, "%lu", v);
}

static void em_bool(struct em *e, const char *key, bool v)
{
	em_raw(e, key, "%s", v ? "true" : "false");
}

static void em_addr(struct em *e, const char *key, int fam, const void *a)
{
	char t[INET6_ADDRSTRLEN];
	inet_ntop(fam, a, t, sizeof(t));
	em_str(e, key, t);
}

static void em_prefix6(struct em *e, const char *key, const void *a, unsigned len, int fam)
{
	char t[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN + 8];
	inet_ntop(fam, a, t, sizeof(t));
	snprintf(p, sizeof(p), "%s/%u", t, len);
	em_str(e, key, p);
}

static void em_hex(struct em *e, const char *key, const uint8_t *b, unsigned len, bool secrets)
{
	char h[2 * 64 + 1];
	if (!secrets) {
		em_str(e, key, "<redacted>");
		return;
	}
	for (unsigned i = 0; i < len && i < 64; i++)
		snprintf(h + 2 * i, 3, "%02x", b[i]);
	h[2 * (len < 64 ? len : 64)] = '\0';
	em_str(e, key, h);
}

static void em_port(struct em *e, const char *key, const struct ha_config_port *p)
{
	em_open(e, key, false);
	em_str(e, "device", p->device);
	if (p->devargs[0])
		em_str(e, "devargs", p->devargs);
	if (p->rx_queues) /* absent: hadp chooses */
		em_uint(e, "rx_queues", p->rx_queues);
	if (p->tx_queues)
		em_uint(e, "tx_queues", p->tx_queues);
	em_uint(e, "mtu", p->mtu);
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", p->next_hop_mac[0],
		 p->next_hop_mac[1], p->next_hop_mac[2], p->next_hop_mac[3], p->next_hop_mac[4],
		 p->next_hop_mac[5]);
	if (p->has_next_hop)
		em_addr(e, "next_hop", p->next_hop.family,
			p->next_hop.family == AF_INET ? (const void *)&p->next_hop.v4
						      : (const void *)&p->next_hop.v6);
	else
		em_str(e, "next_hop_mac", mac);
	em_close(e);
}

static void em_str_list(struct em *e, const char *key, unsigned n, const char (*v)[HA_CFG_EAL_ARG_SIZE])
{
	em_prefix(e, key);
	fputs(e->json ? "[" : " [", e->f);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputs(", ", e->f);
		put_quoted(e->f, v[i]);
	}
	fputs(e->json ? "]" : "]\n", e->f);
}

static void em_s6b(struct em *e, const struct ha_config_s6b *s)
{
	em_open(e, "s6b", false);
	em_str(e, "identity", s->identity);
	em_str(e, "realm", s->realm);
	em_str(e, "destination_realm", s->destination_realm);
	em_uint(e, "request_timeout_ms", s->request_timeout_ms);
	em_uint(e, "watchdog_s", s->watchdog_s);
	em_uint(e, "reconnect_s", s->reconnect_s);
	if (s->has_tls) {
		em_open(e, "tls", false);
		em_str(e, "certificate", s->tls_certificate);
		em_str(e, "private_key", s->tls_private_key);
		em_str(e, "ca_certificate", s->tls_ca_certificate);
		em_close(e);
	}
	em_open(e, "peers", true);
	for (unsigned i = 0; i < s->n_peers; i++) {
		const struct ha_config_s6b_peer *p = &s->peers[i];
		em_open(e, NULL, false);
		em_str(e, "identity", p->identity);
		em_addr(e, "address", p->address.family,
			p->address.family == AF_INET6 ? (const void *)&p->address.v6
						      : (const void *)&p->address.v4);
		em_uint(e, "port", p->port);
		em_str(e, "transport", ha_cfg_s6b_transport_name(p->transport));
		em_uint(e, "priority", p->priority);
		em_close(e);
	}
	em_close(e);
	em_close(e);
}

int ha_config_dump(FILE *f, const struct ha_config *cfg, unsigned flags)
{
	struct em em = {.f = f, .json = (flags & HA_CFG_DUMP_JSON) != 0};
	struct em *e = &em;
	bool secrets = (flags & HA_CFG_DUMP_SECRETS) != 0;
	const struct ha_config_dataplane *dp = &cfg->dataplane;
	const struct ha_config_home_agent *ha = &cfg->home_agent;
	const struct ha_config_ike *ike = &cfg->ike;
	char buf[64];

	if (!e->json)
		fprintf(f, "# effective configuration of %s\n", cfg->source);
	em_open(e, NULL, false);

	em_open(e, "dataplane", false);
	em_str_list(e, "eal_args", dp->n_eal_args, dp->eal_args);
	em_open(e, "lcores", false);
	em_uint(e, "main", dp->main_lcore);
	em_prefix(e, "workers");
	fputs(e->json ? "[" : " [", f);
	for (unsigned i = 0; i < dp->n_workers; i++)
		fprintf(f, "%s%u", i ? ", " : "", dp->workers[i]);
	fputs(e->json ? "]" : "]\n", f);
	if (dp->has_cpus) {
		em_prefix(e, "cpus");
		fputs(e->json ? "[" : " [", f);
		for (unsigned i = 0; i <= dp->n_workers; i++)
			fprintf(f, "%s%u", i ? ", " : "", dp->cpus[i]);
		fputs(e->json ? "]" : "]\n", f);
	}
	em_uint(e, "control_plane", dp->control_plane_lcore);
	em_close(e);
	em_open(e, "mempool", false);
	em_uint(e, "mbufs", dp->mbufs);
	em_uint(e, "cache", dp->mbuf_cache);
	em_close(e);
	em_open(e, "ports", false);
	em_port(e, "access", &dp->access);
	em_port(e, "core", &dp->core);
	em_close(e);
	em_open(e, "tables", false);
	em_uint(e, "max_bindings", dp->max_bindings);
	em_uint(e, "max_sas", dp->max_sas);
	em_uint(e, "max_routes", dp->max_routes);
	em_close(e);
	em_open(e, "punt", false);
	em_uint(e, "rate_pps", dp->punt_rate_pps);
	em_uint(e, "burst", dp->punt_burst);
	em_close(e);
	if (dp->n_routes) {
		em_open(e, "routes", true);
		for (unsigned i = 0; i < dp->n_routes; i++) {
			const struct ha_config_route *r = &dp->routes[i];
			int fam = r->prefix.family;
			em_open(e, NULL, false);
			em_prefix6(e, "prefix", fam == AF_INET ? (const void *)&r->prefix.v4
							       : (const void *)&r->prefix.v6,
				   r->prefix_len, fam);
			if (r->has_next_hop) {
				em_addr(e, "next_hop", fam, fam == AF_INET ? (const void *)&r->next_hop.v4
									   : (const void *)&r->next_hop.v6);
			} else {
				char mac[18];
				const uint8_t *m = r->next_hop_mac;
				snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
					 m[2], m[3], m[4], m[5]);
				em_str(e, "next_hop_mac", mac);
			}
			em_close(e);
		}
		em_close(e);
	}
	em_close(e);

	em_open(e, "home_agent", false);
	em_addr(e, "ipv6_address", AF_INET6, &ha->ipv6_address);
	if (ha->has_ipv4_address)
		em_addr(e, "ipv4_address", AF_INET, &ha->ipv4_address);
	em_open(e, "binding_lifetime", false);
	em_uint(e, "max", ha->lifetime_max);
	em_close(e);
	em_uint(e, "refresh_advice_percent", ha->refresh_advice_percent);
	em_open(e, "nat", false);
	em_uint(e, "keepalive_refresh", ha->nat_keepalive_refresh);
	em_str(e, "force_udp", ha->force_udp == HA_CFG_FORCE_UDP_NEVER ? "never" : "allowed");
	em_close(e);
	em_open(e, "revocation", false);
	em_uint(e, "min_delay_bris_ms", ha->bri_min_delay_ms);
	em_uint(e, "max_retransmissions", ha->bri_max_retransmissions);
	em_close(e);
	em_bool(e, "insecure_lab_mode", ha->insecure_lab_mode);
	em_close(e);

	em_open(e, "pdns", true);
	for (unsigned i = 0; i < cfg->n_pdns; i++) {
		const struct ha_config_pdn *p = &cfg->pdns[i];
		em_open(e, NULL, false);
		em_str(e, "name", p->name);
		em_str(e, "apn", p->apn);
		em_prefix6(e, "home_prefix_pool", &p->pool6, p->pool6_len, AF_INET6);
		em_uint(e, "home_prefix_length", p->home_prefix_len);
		if (p->has_ipv4_pool)
			em_prefix6(e, "ipv4_pool", &p->pool4, p->pool4_len, AF_INET);
		em_close(e);
	}
	em_close(e);

	em_open(e, "ike", false);
	em_bool(e, "enabled", ike->enabled);
	if (ike->local_id[0])
		em_str(e, "local_id", ike->local_id);
	if (ike->certificate[0])
		em_str(e, "certificate", ike->certificate);
	if (ike->private_key[0])
		em_str(e, "private_key", ike->private_key);
	if (ike->ca_certificate[0])
		em_str(e, "ca_certificate", ike->ca_certificate);
	em_str(e, "aaa", ha_cfg_aaa_name(ike->aaa));
	em_str(e, "socket", ike->socket);
	if (ike->subscribers[0])
		em_str(e, "subscribers", ike->subscribers);
	if (ike->has_radius) {
		em_open(e, "radius", false);
		char t[INET6_ADDRSTRLEN];
		inet_ntop(ike->radius.server.family,
			  ike->radius.server.family == AF_INET6 ? (const void *)&ike->radius.server.v6
								 : (const void *)&ike->radius.server.v4,
			  t, sizeof(t));
		em_str(e, "server", t);
		em_uint(e, "port", ike->radius.port);
		em_str(e, "secret", secrets ? ike->radius.secret : "<redacted>");
		em_close(e);
	}
	if (ike->has_s6b)
		em_s6b(e, &ike->s6b);
	em_bool(e, "fragmentation", ike->fragmentation);
	em_uint(e, "ike_lifetime", ike->ike_lifetime);
	em_uint(e, "child_lifetime", ike->child_lifetime);
	em_uint(e, "max_sessions", ike->max_sessions);
	em_uint(e, "detach_guard_s", ike->detach_guard_s);
	em_close(e);

	if (cfg->n_static_sas == 0)
		em_raw(e, "static_sas", "[]");
	else
		em_open(e, "static_sas", true);
	for (size_t i = 0; i < cfg->n_static_sas; i++) {
		const struct ha_config_sa *sa = &cfg->static_sas[i];
		int fam = sa->local.family;
		em_open(e, NULL, false);
		snprintf(buf, sizeof(buf), "0x%08x", sa->spi);
		if (e->json)
			em_uint(e, "spi", sa->spi);
		else
			em_raw(e, "spi", "%s", buf);
		em_str(e, "direction", sa->direction == HA_CFG_SA_IN ? "in" : "out");
		em_str(e, "mode", sa->mode == HA_CFG_SA_TUNNEL ? "tunnel" : "transport");
		em_addr(e, "local", fam, fam == AF_INET6 ? (const void *)&sa->local.v6 : (const void *)&sa->local.v4);
		em_addr(e, "peer", fam, fam == AF_INET6 ? (const void *)&sa->peer.v6 : (const void *)&sa->peer.v4);
		em_str(e, "encryption", ha_cfg_enc_name(sa->encryption));
		em_str(e, "integrity", ha_cfg_integ_name(sa->integrity));
		if (sa->key_len)
			em_hex(e, "key", sa->key, sa->key_len, secrets);
		if (sa->auth_key_len)
			em_hex(e, "auth_key", sa->auth_key, sa->auth_key_len, secrets);
		em_bool(e, "esn", sa->esn);
		em_uint(e, "replay_window", sa->replay_window);
		if (sa->udp_encap_port)
			em_uint(e, "udp_encap_port", sa->udp_encap_port);
		em_close(e);
	}
	if (cfg->n_static_sas)
		em_close(e);

	if (cfg->n_static_bindings == 0)
		em_raw(e, "static_bindings", "[]");
	else
		em_open(e, "static_bindings", true);
	for (size_t i = 0; i < cfg->n_static_bindings; i++) {
		const struct ha_config_binding *b = &cfg->static_bindings[i];
		int fam = b->care_of.family;
		em_open(e, NULL, false);
		em_str(e, "pdn", b->pdn < cfg->n_pdns ? cfg->pdns[b->pdn].name : "?");
		em_prefix6(e, "home_prefix", &b->home_prefix, b->home_prefix_len, AF_INET6);
		if (b->has_ipv4_home_address)
			em_addr(e, "ipv4_home_address", AF_INET, &b->ipv4_home_address);
		em_addr(e, "care_of", fam, fam == AF_INET6 ? (const void *)&b->care_of.v6 : (const void *)&b->care_of.v4);
		if (b->has_udp_port)
			em_uint(e, "udp_port", b->udp_port);
		if (b->has_sa) {
			if (e->json) {
				em_uint(e, "sa_in", b->sa_in);
				em_uint(e, "sa_out", b->sa_out);
			} else {
				em_raw(e, "sa_in", "0x%08x", b->sa_in);
				em_raw(e, "sa_out", "0x%08x", b->sa_out);
			}
		}
		em_close(e);
	}
	if (cfg->n_static_bindings)
		em_close(e);

	if (cfg->n_binding_ranges) {
		em_open(e, "static_binding_ranges", true);
		for (size_t i = 0; i < cfg->n_binding_ranges; i++) {
			const struct ha_config_binding_range *r = &cfg->binding_ranges[i];
			int fam = r->first_care_of.family;
			em_open(e, NULL, false);
			em_str(e, "pdn", r->pdn < cfg->n_pdns ? cfg->pdns[r->pdn].name : "?");
			em_prefix6(e, "first_home_prefix", &r->first_home_prefix, r->home_prefix_len,
				   AF_INET6);
			em_uint(e, "count", r->count);
			em_addr(e, "first_care_of", fam,
				fam == AF_INET6 ? (const void *)&r->first_care_of.v6
						: (const void *)&r->first_care_of.v4);
			if (r->has_ipv4_home_address)
				em_addr(e, "first_ipv4_home_address", AF_INET, &r->first_ipv4_home_address);
			if (r->has_udp_port)
				em_uint(e, "udp_port", r->udp_port);
			em_close(e);
		}
		em_close(e);
	}

	em_open(e, "cli", false);
	em_str(e, "socket", cfg->cli.socket);
	if (e->json) {
		snprintf(buf, sizeof(buf), "0%03o", cfg->cli.mode);
		em_str(e, "mode", buf);
	} else {
		em_raw(e, "mode", "0%03o", cfg->cli.mode);
	}
	em_str(e, "group", cfg->cli.group);
	em_close(e);

	em_open(e, "logging", false);
	em_str(e, "level", ha_cfg_log_level_name(cfg->log_level));
	em_bool(e, "syslog", cfg->log_syslog);
	em_uint(e, "rate_per_second", cfg->log_rate);
	em_close(e);

	em_close(e);
	return ferror(f) ? -1 : 0;
}
