/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the configuration loader (shared/ha_config*.c).
 *
 *  - configs/lab.yaml, configs/baremetal.yaml and tests/config/good/ load,
 *    and their parsed values are what the files say (or the defaults);
 *  - ike.s6b (the Diameter AAA, docs/aaa.md): every key read, its defaults;
 *  - every tests/config/bad/NAME.yaml fails with exactly the line in
 *    tests/config/bad/NAME.err (golden, one line). The file name in the
 *    message is the path relative to the project root;
 *  - the YAML dump loads back to the same configuration.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_config.h"

#ifndef HA_SOURCE_ROOT
#define HA_SOURCE_ROOT "."
#endif

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

/* Load ROOT/rel; the error names rel. */
static int load_rel(const char *rel, struct ha_config *cfg, struct ha_config_error *err)
{
	char path[1024];
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", HA_SOURCE_ROOT, rel);
	char *buf = read_all(path, &len);
	int rc = ha_config_load_buffer(rel, buf, len, cfg, err);
	free(buf);
	return rc;
}

static struct ha_config *load_ok(const char *rel)
{
	struct ha_config *cfg = calloc(1, sizeof(*cfg));
	struct ha_config_error err;
	cr_assert_not_null(cfg);
	int rc = load_rel(rel, cfg, &err);
	cr_assert_eq(rc, 0, "%s: %s", rel, err.msg);
	return cfg;
}

static void unload(struct ha_config *cfg)
{
	ha_config_free(cfg);
	free(cfg);
}

static int load_str(const char *text, struct ha_config *cfg, struct ha_config_error *err)
{
	/* an exact-size heap copy without NUL, so ASan sees any overread */
	size_t len = strlen(text);
	char *buf = malloc(len ? len : 1);
	memcpy(buf, text, len);
	int rc = ha_config_load_buffer("t.yaml", buf, len, cfg, err);
	free(buf);
	return rc;
}

static void expect_addr6(const struct in6_addr *a, const char *want)
{
	char t[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, a, t, sizeof(t));
	cr_expect_str_eq(t, want);
}

static void expect_addr4(const struct in_addr *a, const char *want)
{
	char t[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, a, t, sizeof(t));
	cr_expect_str_eq(t, want);
}

/* ------------------------------------------------------------------ */

Test(config, lab)
{
	struct ha_config *cfg = load_ok("configs/lab.yaml");
	const struct ha_config_dataplane *dp = &cfg->dataplane;

	cr_expect_eq(dp->n_eal_args, 2);
	cr_expect_str_eq(dp->eal_args[0], "--no-pci");
	cr_expect_str_eq(dp->eal_args[1], "--file-prefix=hadp-lab");
	cr_expect_eq(dp->main_lcore, 0);
	cr_expect_eq(dp->n_workers, 1);
	cr_expect_eq(dp->workers[0], 1);
	cr_expect_eq(dp->control_plane_lcore, 2); /* default: above hadp's lcores */
	cr_expect_eq(dp->mbufs, 8191);
	cr_expect_eq(dp->mbuf_cache, 128);
	cr_expect_eq(dp->access.kind, HA_CFG_PORT_VDEV);
	cr_expect_eq(dp->core.kind, HA_CFG_PORT_VDEV);
	cr_expect_eq(strncmp(dp->access.device, "net_", 4), 0);
	cr_expect_str_neq(dp->access.device, dp->core.device);
	cr_expect_eq(dp->access.rx_queues, 0); /* absent: hadp chooses (dp_port.h) */
	cr_expect_eq(dp->core.tx_queues, 0);
	cr_expect_eq(dp->max_bindings, 1048576);
	cr_expect_eq(dp->max_sas, 65536);
	cr_expect_eq(dp->max_routes, 4096);

	const struct ha_config_home_agent *ha = &cfg->home_agent;
	expect_addr6(&ha->ipv6_address, "2001:db8:ffff::1");
	cr_expect(ha->has_ipv4_address);
	expect_addr4(&ha->ipv4_address, "192.0.2.1");
	cr_expect_eq(ha->lifetime_max, 3600);
	cr_expect_eq(ha->refresh_advice_percent, 80);
	cr_expect_eq(ha->nat_keepalive_refresh, 110);
	cr_expect_eq(ha->force_udp, HA_CFG_FORCE_UDP_ALLOWED);
	cr_expect_eq(ha->bri_min_delay_ms, 1000);
	cr_expect_eq(ha->bri_max_retransmissions, 1);
	cr_expect_not(ha->insecure_lab_mode);

	cr_assert_eq(cfg->n_pdns, 2);
	cr_expect_str_eq(cfg->pdns[0].name, "internet");
	cr_expect_str_eq(cfg->pdns[0].apn, "internet.example.com");
	expect_addr6(&cfg->pdns[0].pool6, "2001:db8:100::");
	cr_expect_eq(cfg->pdns[0].pool6_len, 48);
	cr_expect_eq(cfg->pdns[0].home_prefix_len, 64);
	cr_expect(cfg->pdns[0].has_ipv4_pool);
	expect_addr4(&cfg->pdns[0].pool4, "10.45.0.0");
	cr_expect_eq(cfg->pdns[0].pool4_len, 16);
	cr_expect_str_eq(cfg->pdns[1].name, "ims");
	cr_expect_str_eq(cfg->pdns[1].apn, "ims"); /* defaults to the name */
	cr_expect_not(ha_cfg_prefix_overlaps6(&cfg->pdns[0].pool6, cfg->pdns[0].pool6_len,
					      &cfg->pdns[1].pool6, cfg->pdns[1].pool6_len));

	cr_expect(cfg->ike.enabled);
	/* the lab authenticates through the AAA stand-ins over S6b (deploy/lab_aaa.py) */
	cr_expect_eq(cfg->ike.aaa, HA_CFG_AAA_S6B);
	cr_expect_str_eq(cfg->ike.subscribers, "");
	cr_expect_not(cfg->ike.has_radius);
	cr_assert(cfg->ike.has_s6b);
	cr_expect_str_eq(cfg->ike.s6b.identity, "ha.lab.example.com");
	cr_expect_str_eq(cfg->ike.s6b.destination_realm, "aaa.lab.example.com");
	cr_assert_eq(cfg->ike.s6b.n_peers, 2);
	cr_expect_eq(cfg->ike.s6b.peers[0].port, 3868);
	cr_expect_eq(cfg->ike.s6b.peers[0].priority, 1);
	cr_expect_eq(cfg->ike.s6b.peers[1].priority, 2);
	cr_expect_eq(cfg->ike.s6b.peers[1].transport, HA_CFG_S6B_TCP);
	cr_expect_eq(cfg->ike.ike_lifetime, 86400);
	cr_expect_eq(cfg->ike.child_lifetime, 3600);
	cr_expect_eq(cfg->ike.detach_guard_s, 30, "the default");

	cr_assert_eq(cfg->n_static_sas, 4);
	const struct ha_config_sa *in = &cfg->static_sas[0], *out = &cfg->static_sas[1];
	cr_expect_eq(cfg->static_sas[2].mode, HA_CFG_SA_TRANSPORT, "a UE's signalling SA");
	expect_addr6(&cfg->static_sas[2].peer.v6, "2001:db8:100:5::1");
	cr_expect_eq(in->spi, 0x1001);
	cr_expect_eq(in->direction, HA_CFG_SA_IN);
	cr_expect_eq(in->mode, HA_CFG_SA_TUNNEL);
	cr_expect_eq(in->local.family, AF_INET6);
	expect_addr6(&in->peer.v6, "2001:db8:aaaa::2");
	cr_expect_eq(in->encryption, HA_CFG_ENC_AES_GCM_128);
	cr_expect_eq(in->integrity, HA_CFG_INTEG_NONE);
	cr_expect_eq(in->key_len, 20);
	cr_expect_eq(in->key[0], 0x00);
	cr_expect_eq(in->key[19], 0x13);
	cr_expect_eq(in->auth_key_len, 0);
	cr_expect_eq(in->replay_window, 64);
	cr_expect_eq(out->spi, 0x2001);
	cr_expect_eq(out->direction, HA_CFG_SA_OUT);

	cr_assert_eq(cfg->n_static_bindings, 3);
	const struct ha_config_binding *b = &cfg->static_bindings[0];
	cr_expect_eq(b->pdn, 0);
	expect_addr6(&b->home_prefix, "2001:db8:100:1::");
	cr_expect_eq(b->home_prefix_len, 64);
	cr_expect(b->has_ipv4_home_address);
	expect_addr4(&b->ipv4_home_address, "10.45.0.2");
	cr_expect_eq(b->care_of.family, AF_INET6);
	cr_expect_not(b->has_udp_port);
	cr_expect(b->has_sa);
	cr_expect_eq(b->sa_in, 0x1001);
	cr_expect_eq(b->sa_out, 0x2001);
	cr_expect_eq(b->sa_in_index, 0);
	cr_expect_eq(b->sa_out_index, 1);

	cr_expect_str_eq(cfg->cli.socket, "/run/hacpd-lab/hactl.sock");
	cr_expect_eq(cfg->cli.mode, 0660);
	cr_expect_str_eq(cfg->cli.group, "root");
	cr_expect_eq(cfg->log_level, HA_CFG_LOG_DEBUG);
	unload(cfg);
}

Test(config, baremetal)
{
	struct ha_config *cfg = load_ok("configs/baremetal.yaml");
	const struct ha_config_dataplane *dp = &cfg->dataplane;

	cr_expect_eq(dp->access.kind, HA_CFG_PORT_PCI);
	cr_expect_str_eq(dp->access.device, "0000:3b:00.0");
	cr_expect_eq(dp->core.kind, HA_CFG_PORT_PCI);
	cr_expect_str_eq(dp->core.device, "0000:3b:00.1");
	cr_expect_eq(dp->main_lcore, 1);
	cr_expect_eq(dp->n_workers, 8);
	cr_expect_eq(dp->workers[7], 9);
	cr_expect_eq(dp->control_plane_lcore, 10);
	cr_expect_eq(dp->access.rx_queues, 8);
	cr_expect_eq(dp->core.rx_queues, 0); /* absent: hadp chooses */
	cr_expect_eq(dp->mbufs, 262143);
	cr_expect_eq(cfg->n_pdns, 3);
	cr_expect_not(cfg->pdns[2].has_ipv4_pool);
	cr_expect_eq(cfg->ike.aaa, HA_CFG_AAA_RADIUS);
	cr_expect(cfg->ike.has_radius);
	cr_expect_eq(cfg->ike.radius.server.family, AF_INET);
	expect_addr4(&cfg->ike.radius.server.v4, "198.51.100.10");
	cr_expect_eq(cfg->ike.radius.port, 1812);
	cr_expect_eq(cfg->n_static_sas, 0);
	cr_expect_null(cfg->static_sas);
	cr_expect_eq(cfg->n_static_bindings, 0);
	cr_expect_str_eq(cfg->cli.group, "haadmin");
	cr_expect_eq(cfg->log_level, HA_CFG_LOG_INFO);
	cr_expect(cfg->log_syslog);
	cr_expect_eq(cfg->log_rate, 20);
	unload(cfg);
}

Test(config, minimal_defaults)
{
	struct ha_config *cfg = load_ok("tests/config/good/minimal.yaml");
	const struct ha_config_dataplane *dp = &cfg->dataplane;

	cr_expect_eq(dp->n_eal_args, 0);
	cr_expect_eq(dp->main_lcore, 0);
	cr_expect_eq(dp->mbufs, 16383);
	cr_expect_eq(dp->mbuf_cache, 256);
	cr_expect_eq(dp->access.rx_queues, 0);
	cr_expect_str_eq(dp->access.devargs, "");
	cr_expect_eq(dp->max_bindings, 1048576);
	cr_expect_eq(dp->max_sas, 65536);
	cr_expect_eq(dp->max_routes, 4096);
	cr_expect_not(cfg->home_agent.has_ipv4_address);
	cr_expect_eq(cfg->home_agent.lifetime_max, 3600);
	cr_expect_eq(cfg->home_agent.refresh_advice_percent, 80);
	cr_expect_eq(cfg->home_agent.nat_keepalive_refresh, 110);
	cr_expect_eq(cfg->home_agent.bri_min_delay_ms, 1000);
	cr_expect_eq(cfg->home_agent.bri_max_retransmissions, 1);
	cr_expect_not(cfg->home_agent.insecure_lab_mode);
	cr_expect_str_eq(cfg->pdns[0].apn, "internet");
	cr_expect_eq(cfg->pdns[0].home_prefix_len, 64);
	cr_expect_not(cfg->ike.enabled);
	cr_expect(cfg->ike.fragmentation);
	cr_expect_eq(cfg->ike.aaa, HA_CFG_AAA_LOCAL);
	cr_expect_str_eq(cfg->cli.socket, "/run/hacpd/hactl.sock");
	cr_expect_eq(cfg->cli.mode, 0660);
	cr_expect_str_eq(cfg->cli.group, "root");
	cr_expect_eq(cfg->log_level, HA_CFG_LOG_INFO);
	unload(cfg);
}

Test(config, all_optional_fields)
{
	struct ha_config *cfg = load_ok("tests/config/good/full.yaml");
	const struct ha_config_dataplane *dp = &cfg->dataplane;

	cr_expect_str_eq(dp->access.device, "0000:3b:00.0"); /* canonical form */
	cr_expect_eq(dp->access.kind, HA_CFG_PORT_PCI);
	cr_expect_str_eq(dp->access.devargs, "rx_low_latency=1");
	cr_expect_eq(dp->access.rx_queues, 2);
	cr_expect_eq(dp->access.tx_queues, 4);
	cr_expect_eq(dp->access.next_hop_mac[5], 0xfe);
	cr_expect(dp->core.has_next_hop && dp->core.next_hop.family == AF_INET6,
		  "the core port's router by address");
	cr_expect_not(dp->access.has_next_hop);
	cr_assert_eq(dp->n_routes, 2);
	cr_expect(dp->routes[0].has_next_hop);
	cr_expect_eq(dp->routes[1].prefix_len, 0);
	cr_expect_eq(dp->routes[1].next_hop_mac[5], 0x01);
	cr_expect_eq(dp->core.rx_queues, 0); /* absent: hadp chooses from its workers and the device */
	cr_expect_eq(dp->main_lcore, 2);
	cr_expect_eq(dp->mbuf_cache, 0);
	cr_expect_eq(cfg->home_agent.lifetime_max, 262140);
	cr_expect_eq(cfg->home_agent.refresh_advice_percent, 0);
	cr_expect_eq(cfg->home_agent.force_udp, HA_CFG_FORCE_UDP_NEVER);
	cr_expect(cfg->home_agent.insecure_lab_mode);
	cr_expect_eq(cfg->pdns[0].home_prefix_len, 56);
	cr_expect_eq(cfg->pdns[1].pool6_len, 64);
	cr_expect_eq(cfg->ike.radius.server.family, AF_INET6);
	cr_expect_eq(cfg->ike.radius.port, 11812);
	cr_expect_str_eq(cfg->ike.radius.secret, "s3cret with spaces");
	cr_expect_not(cfg->ike.fragmentation);
	cr_expect_eq(cfg->ike.detach_guard_s, 3600, "the largest");

	cr_assert_eq(cfg->n_static_sas, 3);
	cr_expect_eq(cfg->static_sas[0].spi, 0xffffffffu);
	cr_expect_eq(cfg->static_sas[0].encryption, HA_CFG_ENC_AES_CBC_256);
	cr_expect_eq(cfg->static_sas[0].key_len, 32);
	cr_expect_eq(cfg->static_sas[0].auth_key_len, 32);
	cr_expect_eq(cfg->static_sas[0].auth_key[10], 0x0a);
	cr_expect(cfg->static_sas[0].esn);
	cr_expect_eq(cfg->static_sas[0].replay_window, 4096);
	cr_expect_eq(cfg->static_sas[1].encryption, HA_CFG_ENC_NULL); /* plain `null` */
	cr_expect_eq(cfg->static_sas[1].key_len, 0);
	cr_expect_eq(cfg->static_sas[1].replay_window, 0);
	cr_expect_eq(cfg->static_sas[2].key_len, 36);
	cr_expect_eq(cfg->static_sas[2].mode, HA_CFG_SA_TRANSPORT);

	cr_assert_eq(cfg->n_static_bindings, 2);
	const struct ha_config_binding *b = &cfg->static_bindings[0];
	cr_expect_eq(b->care_of.family, AF_INET);
	cr_expect(b->has_udp_port);
	cr_expect_eq(b->udp_port, 4500);
	cr_expect_eq(b->sa_in_index, 0);
	cr_expect_eq(b->sa_out_index, 1);
	cr_expect_eq(cfg->static_bindings[1].pdn, 1);
	cr_expect_not(cfg->static_bindings[1].has_sa);
	cr_expect_eq(cfg->cli.mode, 0750);
	cr_expect_eq(cfg->log_level, HA_CFG_LOG_WARNING);
	unload(cfg);
}

Test(config, s6b_every_key)
{
	struct ha_config *cfg = load_ok("tests/config/good/s6b.yaml");
	const struct ha_config_s6b *s = &cfg->ike.s6b;
	char t[INET6_ADDRSTRLEN];

	cr_expect_eq(cfg->ike.aaa, HA_CFG_AAA_S6B);
	cr_expect_str_eq(ha_cfg_aaa_name(cfg->ike.aaa), "s6b");
	cr_assert(cfg->ike.has_s6b);
	cr_expect_not(cfg->ike.has_radius);
	cr_expect_str_eq(s->identity, "ha-diameter.lab.example.com", "given, not ike.local_id");
	cr_expect_str_eq(s->realm, "lab.example.com");
	cr_expect_str_eq(s->destination_realm, "aaa.lab.example.com");
	cr_expect_eq(s->request_timeout_ms, 60000, "the largest");
	cr_expect_eq(s->watchdog_s, 6, "RFC 3539's smallest Tw");
	cr_expect_eq(s->reconnect_s, 5);
	cr_expect(s->has_tls);
	cr_expect_str_eq(s->tls_certificate, "/etc/ha/pki/ha-diameter.crt");
	cr_expect_str_eq(s->tls_private_key, "/etc/ha/pki/ha-diameter.key");
	cr_expect_str_eq(s->tls_ca_certificate, "/etc/ha/pki/aaa-ca.crt");
	cr_assert_eq(s->n_peers, 3);
	cr_expect_str_eq(s->peers[0].identity, "aaa1.lab.example.com");
	cr_expect_eq(s->peers[0].address.family, AF_INET);
	expect_addr4(&s->peers[0].address.v4, "127.0.0.1");
	cr_expect_eq(s->peers[0].port, 3868);
	cr_expect_eq(s->peers[0].transport, HA_CFG_S6B_TCP);
	cr_expect_eq(s->peers[0].priority, 1);
	cr_expect_eq(s->peers[1].address.family, AF_INET6);
	inet_ntop(AF_INET6, &s->peers[1].address.v6, t, sizeof(t));
	cr_expect_str_eq(t, "2001:db8:5::2");
	cr_expect_eq(s->peers[1].transport, HA_CFG_S6B_TLS);
	cr_expect_eq(s->peers[1].port, 5868, "no port: TLS's (RFC 6733 2.1)");
	cr_expect_eq(s->peers[1].priority, 2);
	cr_expect_eq(s->peers[2].transport, HA_CFG_S6B_SCTP);
	cr_expect_str_eq(ha_cfg_s6b_transport_name(s->peers[2].transport), "sctp");
	cr_expect_eq(s->peers[2].port, 13868);
	unload(cfg);
}

#define S6B_DOC(local_id, s6b)                                                          \
	"dataplane: { lcores: { workers: [1] }, ports: { access: { device: net_ring0 },"  \
	" core: { device: net_ring1 } } }\n"                                             \
	"home_agent: { ipv6_address: \"2001:db8:ffff::1\" }\n"                           \
	"pdns: [ { name: a, home_prefix_pool: \"2001:db8:100::/48\" } ]\n"               \
	"ike: { enabled: true, local_id: " local_id ", certificate: /c, private_key: /k,"  \
	" ca_certificate: /ca, aaa: s6b, s6b: " s6b " }\n"

Test(config, s6b_defaults)
{
	struct ha_config cfg;
	struct ha_config_error err;
	const struct ha_config_s6b *s = &cfg.ike.s6b;

	cr_assert_eq(load_str(S6B_DOC("Ha.Example.COM", "{ realm: example.com, peers: [ { identity:"
				      " aaa.example.com, address: \"::1\" },"
				      " { identity: aaa2.example.com, address: 10.0.0.2, transport: sctp } ],"
				      " tls: { certificate: /t, private_key: /tk, ca_certificate: /tc } }"),
			      &cfg, &err), 0, "%s", err.msg);
	cr_expect_str_eq(s->identity, "Ha.Example.COM", "ike.local_id");
	cr_expect_str_eq(s->destination_realm, "example.com", "the realm");
	cr_expect_eq(s->request_timeout_ms, 5000);
	cr_expect_eq(s->watchdog_s, 30, "RFC 3539's default Tw");
	cr_expect_eq(s->reconnect_s, 30, "RFC 6733 2.1's Tc");
	cr_expect_eq(s->peers[0].transport, HA_CFG_S6B_TLS, "TLS unless told");
	cr_expect_eq(s->peers[0].port, 5868);
	cr_expect_eq(s->peers[0].priority, 1);
	cr_expect_eq(s->peers[1].port, 3868, "SCTP's port");
	ha_config_free(&cfg);

	/* ike.enabled false: the mapping is optional, as radius is */
	cr_expect_eq(load_str("dataplane: { lcores: { workers: [1] }, ports: { access: { device: net_ring0 },"
			      " core: { device: net_ring1 } } }\n"
			      "home_agent: { ipv6_address: \"2001:db8:ffff::1\" }\n"
			      "pdns: [ { name: a, home_prefix_pool: \"2001:db8:100::/48\" } ]\n"
			      "ike: { enabled: false, aaa: s6b }\n", &cfg, &err), 0, "%s", err.msg);
	cr_expect_not(cfg.ike.has_s6b);
	ha_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* golden errors                                                        */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(config, bad_files_match_golden_errors)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/tests/config/bad", HA_SOURCE_ROOT);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s", dir);
	char *names[1024];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0 && n < 1024)
			names[n++] = strndup(de->d_name, l - 5);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	cr_expect_geq(n, 25, "only %zu bad files", n);

	for (size_t i = 0; i < n; i++) {
		char rel[512], errpath[1024];
		struct ha_config cfg;
		struct ha_config_error err;
		size_t glen;

		snprintf(rel, sizeof(rel), "tests/config/bad/%s.yaml", names[i]);
		snprintf(errpath, sizeof(errpath), "%s/tests/config/bad/%s.err", HA_SOURCE_ROOT, names[i]);
		FILE *f = fopen(errpath, "rb");
		cr_expect_not_null(f, "%s has no golden .err", rel);
		if (!f) {
			free(names[i]);
			continue;
		}
		fclose(f);
		char *golden = read_all(errpath, &glen);
		golden = realloc(golden, glen + 1);
		golden[glen] = '\0';
		if (glen && golden[glen - 1] == '\n')
			golden[--glen] = '\0';
		cr_expect_null(strchr(golden, '\n'), "%s.err has more than one line", names[i]);

		memset(&err, 0x5a, sizeof(err));
		int rc = load_rel(rel, &cfg, &err);
		cr_expect_eq(rc, -1, "%s loaded without error", rel);
		if (rc == -1)
			cr_expect_str_eq(err.msg, golden, "%s", rel);
		/* a failed load leaves nothing behind */
		cr_expect_null(cfg.static_sas);
		cr_expect_null(cfg.static_bindings);
		cr_expect_eq(cfg.n_pdns, 0);
		ha_config_free(&cfg);
		free(golden);
		free(names[i]);
	}
}

Test(config, load_file_names_the_path)
{
	char path[1024], want[1200];
	struct ha_config cfg;
	struct ha_config_error err;

	snprintf(path, sizeof(path), "%s/tests/config/bad/unknown_key_nested.yaml", HA_SOURCE_ROOT);
	cr_assert_eq(ha_config_load_file(path, &cfg, &err), -1);
	snprintf(want, sizeof(want), "%s:4:15: dataplane.ports.access.devce: unknown key 'devce' "
		 "(expected one of: device, devargs, rx_queues, tx_queues, next_hop_mac, next_hop, mtu)",
		 path);
	cr_expect_str_eq(err.msg, want);

	snprintf(path, sizeof(path), "%s/tests/config/bad/does-not-exist.yaml", HA_SOURCE_ROOT);
	cr_assert_eq(ha_config_load_file(path, &cfg, &err), -1);
	snprintf(want, sizeof(want), "%s:0:0: (root): cannot read: No such file or directory", path);
	cr_expect_str_eq(err.msg, want);
	ha_config_free(&cfg);

	snprintf(path, sizeof(path), "%s/configs/lab.yaml", HA_SOURCE_ROOT);
	cr_assert_eq(ha_config_load_file(path, &cfg, NULL), 0);
	cr_expect_str_eq(cfg.source, path);
	ha_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* inline cases                                                         */

#define BASE_DOC                                  \
	"dataplane:\n"                            \
	"  lcores: { workers: [1] }\n"            \
	"  ports: { access: { device: net_ring0 }, core: { device: net_ring1 } }\n" \
	"home_agent: { ipv6_address: \"2001:db8:ffff::1\" }\n" \
	"pdns: [ { name: a, home_prefix_pool: \"2001:db8:100::/48\" } ]\n" \
	"ike: { enabled: false }\n"
static void expect_error(const char *doc, const char *want)
{
	struct ha_config cfg;
	struct ha_config_error err;
	cr_expect_eq(load_str(doc, &cfg, &err), -1, "no error for: %s", doc);
	cr_expect_str_eq(err.msg, want);
	ha_config_free(&cfg);
}

Test(config, inline_errors)
{
	expect_error("", "t.yaml:1:1: (root): empty document");
	expect_error("~\n", "t.yaml:1:1: (root): empty document");
	expect_error("just a string\n", "t.yaml:1:1: (root): expected a mapping at the top level, got a scalar");
	expect_error(BASE_DOC "cli: { mode: 01777 }\n", "t.yaml:7:14: cli.mode: mode 01777 out of range [0, 0777]");
	expect_error(BASE_DOC "cli: { group: -wheel }\n",
		     "t.yaml:7:15: cli.group: expected a group name of letters, digits, '_', '-' and '.'");
	expect_error(BASE_DOC "logging: { level: true }\n",
		     "t.yaml:7:19: logging.level: expected a string, got a boolean (quote it)");
	expect_error(BASE_DOC "logging: { syslog: maybe }\n",
		     "t.yaml:7:20: logging.syslog: expected true or false, got 'maybe'");
	expect_error(BASE_DOC "logging: { rate_per_second: 0 }\n",
		     "t.yaml:7:29: logging.rate_per_second: value 0 out of range [1, 100000]");
	expect_error(BASE_DOC "static_sas: [ { spi: -1 } ]\n",
		     "t.yaml:7:22: static_sas[0].spi: value -1 out of range [256, 4294967295]");
	expect_error(BASE_DOC "static_sas: [ { spi: 99999999999999999999999 } ]\n",
		     "t.yaml:7:22: static_sas[0].spi: value 99999999999999999999999 out of range [256, 4294967295]");
	expect_error(BASE_DOC "static_sas: [ { spi: 0x } ]\n",
		     "t.yaml:7:22: static_sas[0].spi: expected an integer, got '0x'");
	expect_error(BASE_DOC "static_bindings: [ { pdn: a, home_prefix: \"2001:db8:100::/64\", care_of: 192.0.2.9 } ]\n",
		     "t.yaml:7:73: static_bindings[0].care_of: IPv4 care-of address but home_agent.ipv4_address is not set");
	expect_error(BASE_DOC "static_bindings: [ { pdn: a, home_prefix: \"2001:db8:100::/64\", care_of: \"2001:db8:100:5::1\" } ]\n",
		     "t.yaml:7:73: static_bindings[0].care_of: care-of address lies inside pdns[0].home_prefix_pool");
	expect_error(BASE_DOC "static_bindings: [ { pdn: a, home_prefix: \"2001:db8:100::/64\", care_of: \"::ffff:192.0.2.1\" } ]\n",
		     "t.yaml:7:73: static_bindings[0].care_of: IPv4-mapped IPv6 addresses are not allowed, write the IPv4 address");
	expect_error(BASE_DOC "? [a, b]\n: 1\n", "t.yaml:7:3: (root): expected a string key, got a sequence");
	expect_error(BASE_DOC "\"ike\": {}\n", "t.yaml:7:1: ike: duplicate key 'ike'");
	expect_error("\"foo\\nbar\": 1\n", "t.yaml:1:1: foo\\x0abar: unknown key 'foo\\x0abar' (expected one of: "
		     "dataplane, home_agent, pdns, ike, static_sas, static_bindings, cli, logging, static_binding_ranges)");
}

Test(config, too_many_items_rejected_before_walking_them)
{
	size_t n = HA_CFG_MAX_STATIC_SAS + 1;
	size_t cap = strlen(BASE_DOC) + 32 + 2 * n;
	char *doc = malloc(cap);
	size_t o = (size_t)sprintf(doc, "%sstatic_sas: [", BASE_DOC);
	for (size_t i = 0; i < n; i++) {
		doc[o++] = '0';
		doc[o++] = i + 1 < n ? ',' : ']';
	}
	doc[o++] = '\n';
	doc[o] = '\0';
	expect_error(doc, "t.yaml:7:13: static_sas: too many static SAs (at most 65536)");
	free(doc);
}

Test(config, many_static_bindings)
{
	/* 2000 bindings with SA pairs: exercises the sorted duplicate checks */
	enum { N = 2000 };
	size_t cap = 512 + (size_t)N * 600;
	char *doc = malloc(cap);
	size_t o = (size_t)snprintf(doc, cap, "%sstatic_sas:\n", BASE_DOC);
	for (unsigned i = 0; i < N; i++)
		for (unsigned d = 0; d < 2; d++)
			o += (size_t)snprintf(doc + o, cap - o,
					      "  - { spi: %u, direction: %s, mode: tunnel, local: \"2001:db8:ffff::1\","
					      " peer: \"2001:db8:aaaa::%x\", encryption: aes-gcm-128,"
					      " key: \"000102030405060708090a0b0c0d0e0f10111213\" }\n",
					      0x10000 + i, d ? "out" : "in", i + 1);
	o += (size_t)snprintf(doc + o, cap - o, "static_bindings:\n");
	for (unsigned i = 0; i < N; i++)
		o += (size_t)snprintf(doc + o, cap - o,
				      "  - { pdn: a, home_prefix: \"2001:db8:100:%x::/64\", care_of: \"2001:db8:aaaa::%x\","
				      " sa_in: %u, sa_out: %u }\n", i, i + 1, 0x10000 + i, 0x10000 + i);
	struct ha_config cfg;
	struct ha_config_error err;
	int rc = load_str(doc, &cfg, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_expect_eq(cfg.n_static_sas, 2 * N);
	cr_expect_eq(cfg.n_static_bindings, N);
	cr_expect_eq(cfg.static_bindings[N - 1].sa_out_index, 2 * N - 1);
	ha_config_free(&cfg);

	/* now repeat the last SA pair's SPI in an earlier binding's slot */
	char *p = strstr(doc, "sa_in: 65536, sa_out: 65536");
	cr_assert_not_null(p);
	memcpy(p, "sa_in: 65537, sa_out: 65536", 27);
	rc = load_str(doc, &cfg, &err);
	cr_assert_eq(rc, -1);
	cr_expect_not_null(strstr(err.msg, "static_bindings[0].sa_in: static_sas[2].peer"), "%s", err.msg);
	free(doc);
}

/* ------------------------------------------------------------------ */

static char *dump(const struct ha_config *cfg, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	cr_assert_eq(ha_config_dump(f, cfg, flags), 0);
	fclose(f);
	return buf;
}

static void round_trip(const char *rel)
{
	struct ha_config *a = load_ok(rel), b;
	struct ha_config_error err;
	char *y1 = dump(a, HA_CFG_DUMP_SECRETS);
	cr_assert_eq(load_str(y1, &b, &err), 0, "%s dump does not load: %s", rel, err.msg);
	char *y2 = dump(&b, HA_CFG_DUMP_SECRETS);
	/* the first line names the source */
	cr_expect_str_eq(strchr(y1, '\n'), strchr(y2, '\n'), "%s", rel);
	cr_expect_eq(b.dataplane.n_routes, a->dataplane.n_routes, "%s: the routes dumped", rel);
	cr_expect_eq(b.dataplane.core.has_next_hop, a->dataplane.core.has_next_hop, "%s", rel);
	char *redacted = dump(a, 0);
	cr_expect_null(strstr(redacted, "000102030405"), "%s: keys printed without --secrets", rel);
	char *json = dump(a, HA_CFG_DUMP_JSON);
	cr_expect_eq(json[0], '{');
	free(redacted);
	free(json);
	free(y1);
	free(y2);
	ha_config_free(&b);
	unload(a);
}

Test(config, dump_round_trip)
{
	round_trip("configs/lab.yaml");
	round_trip("configs/baremetal.yaml");
	round_trip("tests/config/good/minimal.yaml");
	round_trip("tests/config/good/full.yaml");
	round_trip("tests/config/good/s6b.yaml");
}

Test(config, free_is_safe)
{
	struct ha_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	ha_config_free(&cfg);
	ha_config_free(&cfg);
	ha_config_free(NULL);
}

Test(config, prefix_helpers)
{
	struct in6_addr a, b;
	struct in_addr c, d;
	inet_pton(AF_INET6, "2001:db8:100::", &a);
	inet_pton(AF_INET6, "2001:db8:100:8000::", &b);
	cr_expect(ha_cfg_prefix_contains6(&a, 48, &b));
	cr_expect_not(ha_cfg_prefix_contains6(&b, 49, &a));
	cr_expect(ha_cfg_prefix_overlaps6(&a, 48, &b, 49));
	cr_expect_not(ha_cfg_prefix_overlaps6(&a, 49, &b, 49));
	cr_expect(ha_cfg_prefix_contains6(&a, 0, &b));
	inet_pton(AF_INET, "10.45.0.0", &c);
	inet_pton(AF_INET, "10.45.255.255", &d);
	cr_expect(ha_cfg_prefix_contains4(&c, 16, &d));
	cr_expect_not(ha_cfg_prefix_contains4(&c, 17, &d));
	cr_expect(ha_cfg_prefix_overlaps4(&c, 16, &d, 32));
	ha_cfg_prefix_mask4(&d, 20);
	expect_addr4(&d, "10.45.240.0");
	inet_pton(AF_INET6, "2001:db8:1234:5678::1", &b);
	ha_cfg_prefix_mask6(&b, 36);
	expect_addr6(&b, "2001:db8:1000::");
	cr_expect_str_eq(ha_cfg_enc_name(HA_CFG_ENC_AES_GCM_256), "aes-gcm-256");
	cr_expect_eq(ha_cfg_enc_key_len(HA_CFG_ENC_AES_GCM_256), 36);
	cr_expect_eq(ha_cfg_integ_key_len(HA_CFG_INTEG_HMAC_SHA1_96), 20);
	cr_expect_str_eq(ha_cfg_log_level_name(HA_CFG_LOG_NOTICE), "notice");
}

/* static_binding_ranges: the i-th binding of a range, as hadp and ha-pktgen expand it. */
Test(config, binding_ranges_expand)
{
	struct ha_config *cfg = load_ok("tests/config/good/ranges.yaml");
	struct ha_config_binding b;
	char s[INET6_ADDRSTRLEN];

	cr_assert_eq(cfg->n_binding_ranges, 2);
	cr_assert_eq(cfg->binding_ranges[0].count, 1000000);
	ha_cfg_range_binding(&cfg->binding_ranges[0], 999999, &b);
	inet_ntop(AF_INET6, &b.home_prefix, s, sizeof(s));
	cr_expect_str_eq(s, "2001:db8:10f:423f::", "999999 = 0xf423f prefixes on");
	inet_ntop(AF_INET6, &b.care_of.v6, s, sizeof(s));
	cr_expect_str_eq(s, "2001:db8:aaaa::f:4240");
	inet_ntop(AF_INET, &b.ipv4_home_address, s, sizeof(s));
	cr_expect_str_eq(s, "10.15.66.64");
	ha_cfg_range_binding(&cfg->binding_ranges[1], 255, &b);
	cr_expect_eq(b.care_of.family, AF_INET);
	inet_ntop(AF_INET, &b.care_of.v4, s, sizeof(s));
	cr_expect_str_eq(s, "198.51.101.0");
	cr_expect(b.has_udp_port && b.udp_port == 4191);
	cr_expect_not(b.has_ipv4_home_address);
	ha_config_free(cfg);
	free(cfg);
}
