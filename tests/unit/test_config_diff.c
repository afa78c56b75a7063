/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the reload's classification (shared/ha_config_diff.c):
 *
 *  - every key the schema accepts (as the loader walks a file that has every mapping) is in the
 *    classification table, and the table names no key the schema does not have: a new key that
 *    nobody classified fails here;
 *  - every key has a case below that changes it in a file and checks the change is found,
 *    under the key expected, applied or refused as classified: a new key needs its case too,
 *    and its row in docs/configuration.md ("Changing it at run time");
 *  - list items by identity (PDNs, routes, SAs, bindings), a PDN whose prefix length hadp has
 *    no table for, a binding whose SA changed, an unchanged file.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_config.h"
#include "ha_config_diff.h"

#ifndef HA_SOURCE_ROOT
#define HA_SOURCE_ROOT "."
#endif

#define GCM16 "000102030405060708090a0b0c0d0e0f10111213"
#define CBC16 "000102030405060708090a0b0c0d0e0f"
#define SHA20 "000102030405060708090a0b0c0d0e0f10111213"

/* Every mapping of the schema, every key given, each line unique so that a case can change one
 * key by replacing its text. */
static const char base[] =
	"dataplane:\n"
	"  eal_args: [\"--file-prefix=t1\", \"--no-pci\"]\n"
	"  lcores: { main: 0, workers: [1], cpus: [0, 1], control_plane: 5 }\n"
	"  mempool: { mbufs: 8191, cache: 128 }\n"
	"  ports:\n"
	"    access: { device: net_ring0, devargs: \"a=1\", rx_queues: 1, tx_queues: 1, mtu: 1500,"
	" next_hop_mac: \"02:00:00:00:00:01\" }\n"
	"    core: { device: net_ring1, devargs: \"c=1\", rx_queues: 2, tx_queues: 2, mtu: 1600,"
	" next_hop: \"2001:db8:c::1\" }\n"
	"  tables: { max_bindings: 4096, max_sas: 8192, max_routes: 128 }\n"
	"  punt: { rate_pps: 1000, burst: 64 }\n"
	"  routes:\n"
	"    - { prefix: \"2001:db8:9::/48\", next_hop: \"2001:db8:c::fe\" }\n"
	"    - { prefix: \"10.9.0.0/16\", next_hop_mac: \"02:00:00:00:0c:01\" }\n"
	"home_agent:\n"
	"  ipv6_address: \"2001:db8:ffff::1\"\n"
	"  ipv4_address: 203.0.113.1\n"
	"  binding_lifetime: { max: 3600 }\n"
	"  refresh_advice_percent: 80\n"
	"  nat: { keepalive_refresh: 110, force_udp: allowed }\n"
	"  revocation: { min_delay_bris_ms: 1000, max_retransmissions: 1 }\n"
	"  insecure_lab_mode: false\n"
	"pdns:\n"
	"  - { name: internet, apn: internet.example, home_prefix_pool: \"2001:db8:100::/48\","
	" home_prefix_length: 64, ipv4_pool: 10.45.0.0/16 }\n"
	"  - { name: ims, home_prefix_pool: \"2001:db8:200::/48\", home_prefix_length: 64 }\n"
	"ike:\n"
	"  enabled: true\n"
	"  local_id: ha.example.com\n"
	"  certificate: /etc/ha/ha.crt\n"
	"  private_key: /etc/ha/ha.key\n"
	"  ca_certificate: /etc/ha/ca.crt\n"
	"  aaa: local\n"
	"  subscribers: /etc/ha/subs.txt\n"
	"  fragmentation: true\n"
	"  ike_lifetime: 86400\n"
	"  child_lifetime: 3600\n"
	"  socket: /run/hacpd/ike.sock\n"
	"  max_sessions: 1024\n"
	"  detach_guard_s: 30\n"
	"static_sas:\n"
	"  - { spi: 0x1001, direction: in, mode: tunnel, local: 203.0.113.1, peer: 198.51.100.7,"
	" encryption: aes-gcm-128, key: \"" GCM16 "\", esn: false, replay_window: 64,"
	" udp_encap_port: 4500 }\n"
	"  - { spi: 0x1001, direction: out, mode: tunnel, local: 203.0.113.1, peer: 198.51.100.7,"
	" encryption: aes-cbc-128, integrity: hmac-sha1-96, key: \"" CBC16 "\","
	" auth_key: \"" SHA20 "\" }\n"
	"  - { spi: 0x2001, direction: in, mode: transport, local: \"2001:db8:ffff::1\","
	" peer: \"2001:db8:100::2\", encryption: aes-gcm-128, key: \"" GCM16 "\" }\n"
	"static_bindings:\n"
	"  - { pdn: internet, home_prefix: \"2001:db8:100:ff00::/64\", ipv4_home_address: 10.45.0.9,"
	" care_of: 198.51.100.7, udp_port: 4500, sa_in: 0x1001, sa_out: 0x1001 }\n"
	"static_binding_ranges:\n"
	"  - { pdn: internet, first_home_prefix: \"2001:db8:100:1000::/64\", count: 4,"
	" first_care_of: 198.51.100.100, first_ipv4_home_address: 10.45.1.1, udp_port: 4501 }\n"
	"cli: { socket: /run/hacpd/hactl.sock, mode: 0660, group: root }\n"
	"logging: { level: info }\n";

static char *replaced(const char *text, const char *from, const char *to);

/* the subscriber file's lines, and what goes instead of them for RADIUS and for S6b (every key
 * of ike.s6b given) */
#define AAA_LOCAL "aaa: local\n  subscribers: /etc/ha/subs.txt\n"
#define AAA_RADIUS "aaa: radius\n  radius: { server: 2001:db8:5::10, port: 1812, secret: s }\n"
#define AAA_S6B                                                                                \
	"aaa: s6b\n  s6b:\n    identity: hd.example.com\n    realm: example.com\n"                \
	"    destination_realm: aaa.example.com\n    request_timeout_ms: 5000\n"                  \
	"    watchdog_s: 30\n    reconnect_s: 30\n"                                                \
	"    tls: { certificate: /etc/ha/d.crt, private_key: /etc/ha/d.key,"                     \
	" ca_certificate: /etc/ha/dca.crt }\n"                                                   \
	"    peers:\n"                                                                           \
	"      - { identity: aaa1.example.com, address: 127.0.0.1, port: 3868, transport: tcp,"   \
	" priority: 1 }\n"

/* ---- every key classified, and no more ---- */

struct seen {
	char paths[256][160];
	unsigned n;
};

static void on_keys(void *arg, const char *path, const char *const *keys, size_t nkeys)
{
	struct seen *s = arg;
	char norm[80];
	size_t o = 0;
	/* pdns[1] -> pdns[]: the table names list items' keys once */
	for (const char *p = path; *p && o + 1 < sizeof(norm); p++) {
		norm[o++] = *p;
		if (*p == '[')
			while (p[1] && p[1] != ']')
				p++;
	}
	norm[o] = '\0';
	for (size_t i = 0; i < nkeys; i++) {
		char full[160];
		snprintf(full, sizeof(full), "%s%s%s", norm, norm[0] ? "." : "", keys[i]);
		bool dup = false;
		for (unsigned j = 0; j < s->n; j++)
			dup |= !strcmp(s->paths[j], full);
		if (!dup && s->n < 256)
			snprintf(s->paths[s->n++], sizeof(s->paths[0]), "%s", full);
	}
}

Test(config_diff, every_schema_key_is_classified)
{
	static struct seen s;
	struct ha_config_error err;
	cr_assert_eq(ha_config_schema_keys(base, strlen(base), on_keys, &s, &err), 0, "%s", err.msg);
	/* the RADIUS mapping, or the S6b one, goes instead of the subscriber file */
	char *radius = replaced(base, AAA_LOCAL, AAA_RADIUS), *s6b = replaced(base, AAA_LOCAL, AAA_S6B);
	cr_assert_eq(ha_config_schema_keys(radius, strlen(radius), on_keys, &s, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(ha_config_schema_keys(s6b, strlen(s6b), on_keys, &s, &err), 0, "%s", err.msg);
	free(radius);
	free(s6b);
	cr_assert_gt(s.n, 90, "the walk saw only %u keys", s.n);
	for (unsigned i = 0; i < s.n; i++)
		cr_expect_not_null(ha_cfg_reload_key(s.paths[i]),
				   "%s: a key of the schema that the reload does not classify "
				   "(shared/ha_config_diff.c)", s.paths[i]);
	for (size_t k = 0; k < ha_cfg_reload_nkeys(); k++) {
		bool found = false;
		for (unsigned i = 0; i < s.n && !found; i++)
			found = !strcmp(s.paths[i], ha_cfg_reload_key_at(k)->path);
		cr_expect(found, "%s: classified but not a key of the schema",
			  ha_cfg_reload_key_at(k)->path);
	}
}

/* ---- one change per key ---- */

struct key_case {
	const char *key;       /* the schema key changed */
	const char *change;    /* the change's key, when it is the list's ("static_sas") */
	const char *from, *to; /* text of base replaced */
	const char *from2, *to2; /* a second replacement the change needs, or NULL */
	bool s6b;              /* from NULL: the old file has S6b as its AAA, not RADIUS */
};

/* the second replacement is left out where none is needed */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct key_case cases[] = {
	{ "dataplane.eal_args", NULL, "\"--no-pci\"", "\"--no-pci\", \"--in-memory\"" },
	{ "dataplane.lcores.main", NULL, "main: 0", "main: 2", "cpus: [0, 1], ", "" },
	{ "dataplane.lcores.workers", NULL, "workers: [1], cpus: [0, 1]", "workers: [3]" },
	{ "dataplane.lcores.cpus", NULL, "cpus: [0, 1]", "cpus: [0, 0]" },
	{ "dataplane.lcores.control_plane", NULL, "control_plane: 5", "control_plane: 6" },
	{ "dataplane.mempool.mbufs", NULL, "mbufs: 8191", "mbufs: 16383" },
	{ "dataplane.mempool.cache", NULL, "cache: 128", "cache: 256" },
	{ "dataplane.ports.access.device", NULL, "device: net_ring0", "device: net_ring7" },
	{ "dataplane.ports.access.devargs", NULL, "\"a=1\"", "\"a=2\"" },
	{ "dataplane.ports.access.rx_queues", NULL, "rx_queues: 1", "rx_queues: 2" },
	{ "dataplane.ports.access.tx_queues", NULL, "tx_queues: 1", "tx_queues: 2" },
	{ "dataplane.ports.access.mtu", NULL, "mtu: 1500", "mtu: 1400" },
	{ "dataplane.ports.access.next_hop_mac", NULL, "\"02:00:00:00:00:01\"", "\"02:00:00:00:00:02\"" },
	{ "dataplane.ports.access.next_hop", NULL, "next_hop_mac: \"02:00:00:00:00:01\"",
	  "next_hop: \"2001:db8:a::1\"" },
	{ "dataplane.ports.core.device", NULL, "device: net_ring1", "device: net_ring8" },
	{ "dataplane.ports.core.devargs", NULL, "\"c=1\"", "\"c=2\"" },
	{ "dataplane.ports.core.rx_queues", NULL, "rx_queues: 2", "rx_queues: 3" },
	{ "dataplane.ports.core.tx_queues", NULL, "tx_queues: 2", "tx_queues: 3" },
	{ "dataplane.ports.core.mtu", NULL, "mtu: 1600", "mtu: 1700" },
	{ "dataplane.ports.core.next_hop_mac", NULL, "next_hop: \"2001:db8:c::1\"",
	  "next_hop_mac: \"02:00:00:00:00:03\"" },
	{ "dataplane.ports.core.next_hop", NULL, "\"2001:db8:c::1\"", "\"2001:db8:c::2\"" },
	{ "dataplane.tables.max_bindings", NULL, "max_bindings: 4096", "max_bindings: 8192" },
	{ "dataplane.tables.max_sas", NULL, "max_sas: 8192", "max_sas: 4096" },
	{ "dataplane.tables.max_routes", NULL, "max_routes: 128", "max_routes: 256" },
	{ "dataplane.punt.rate_pps", NULL, "rate_pps: 1000", "rate_pps: 2000" },
	{ "dataplane.punt.burst", NULL, "burst: 64", "burst: 128" },
	{ "dataplane.routes", NULL, "  routes:\n", "  routes:\n    - { prefix: \"10.7.0.0/16\","
	  " next_hop: 10.0.0.1 }\n" },
	{ "dataplane.routes[].prefix", "dataplane.routes", "\"10.9.0.0/16\"", "\"10.8.0.0/16\"" },
	{ "dataplane.routes[].next_hop_mac", "dataplane.routes", "\"02:00:00:00:0c:01\"",
	  "\"02:00:00:00:0c:02\"" },
	{ "dataplane.routes[].next_hop", "dataplane.routes", "\"2001:db8:c::fe\"",
	  "\"2001:db8:c::fd\"" },
	{ "home_agent.ipv6_address", NULL, "ipv6_address: \"2001:db8:ffff::1\"",
	  "ipv6_address: \"2001:db8:ffff::2\"", "local: \"2001:db8:ffff::1\"",
	  "local: \"2001:db8:ffff::2\"" },
	{ "home_agent.ipv4_address", NULL, "203.0.113.1", "203.0.113.2" },
	{ "home_agent.binding_lifetime.max", NULL, "max: 3600", "max: 600" },
	{ "home_agent.refresh_advice_percent", NULL, "refresh_advice_percent: 80",
	  "refresh_advice_percent: 50" },
	{ "home_agent.nat.keepalive_refresh", NULL, "keepalive_refresh: 110", "keepalive_refresh: 20" },
	{ "home_agent.nat.force_udp", NULL, "force_udp: allowed", "force_udp: never" },
	{ "home_agent.revocation.min_delay_bris_ms", NULL, "min_delay_bris_ms: 1000",
	  "min_delay_bris_ms: 500" },
	{ "home_agent.revocation.max_retransmissions", NULL, "max_retransmissions: 1",
	  "max_retransmissions: 3" },
	{ "home_agent.insecure_lab_mode", NULL, "insecure_lab_mode: false", "insecure_lab_mode: true" },
	{ "pdns", NULL, "pdns:\n", "pdns:\n  - { name: corp, home_prefix_pool: \"2001:db8:300::/48\","
	  " ipv4_pool: 10.46.0.0/16 }\n" },
	{ "pdns[].name", "pdns", "name: ims", "name: ims2" },
	{ "pdns[].apn", NULL, "apn: internet.example", "apn: web.example" },
	{ "pdns[].home_prefix_pool", NULL, "\"2001:db8:200::/48\"", "\"2001:db8:200::/47\"" },
	{ "pdns[].home_prefix_length", NULL, "\"2001:db8:200::/48\", home_prefix_length: 64",
	  "\"2001:db8:200::/48\", home_prefix_length: 60" },
	{ "pdns[].ipv4_pool", NULL, "\"2001:db8:200::/48\", home_prefix_length: 64 }",
	  "\"2001:db8:200::/48\", home_prefix_length: 64, ipv4_pool: 10.47.0.0/16 }" },
	{ "ike.enabled", NULL, "enabled: true", "enabled: false" },
	{ "ike.local_id", NULL, "local_id: ha.example.com", "local_id: ha2.example.com" },
	{ "ike.certificate", NULL, "/etc/ha/ha.crt", "/etc/ha/ha2.crt" },
	{ "ike.private_key", NULL, "/etc/ha/ha.key", "/etc/ha/ha2.key" },
	{ "ike.ca_certificate", NULL, "/etc/ha/ca.crt", "/etc/ha/ca2.crt" },
	{ "ike.subscribers", NULL, "/etc/ha/subs.txt", "/etc/ha/subs2.txt" },
	{ "ike.aaa", NULL, AAA_LOCAL, AAA_RADIUS },
	{ "ike.radius", NULL, AAA_LOCAL, AAA_RADIUS },
	{ "ike.radius.server", "ike.radius", NULL, NULL, "2001:db8:5::10", "2001:db8:5::11" },
	{ "ike.radius.port", "ike.radius", NULL, NULL, "port: 1812", "port: 1813" },
	{ "ike.radius.secret", "ike.radius", NULL, NULL, "secret: s", "secret: t" },
	{ "ike.s6b", NULL, AAA_LOCAL, AAA_S6B },
	{ "ike.s6b.identity", "ike.s6b", NULL, NULL, "identity: hd.", "identity: hd2.", true },
	{ "ike.s6b.realm", "ike.s6b", NULL, NULL, "realm: example.com", "realm: example.org", true },
	{ "ike.s6b.destination_realm", "ike.s6b", NULL, NULL, "realm: aaa.example.com",
	  "realm: aaa2.example.com", true },
	{ "ike.s6b.request_timeout_ms", "ike.s6b", NULL, NULL, "request_timeout_ms: 5000",
	  "request_timeout_ms: 2000", true },
	{ "ike.s6b.watchdog_s", "ike.s6b", NULL, NULL, "watchdog_s: 30", "watchdog_s: 10", true },
	{ "ike.s6b.reconnect_s", "ike.s6b", NULL, NULL, "reconnect_s: 30", "reconnect_s: 5", true },
	{ "ike.s6b.tls", "ike.s6b", NULL, NULL, "    tls: { certificate: /etc/ha/d.crt, private_key:"
	  " /etc/ha/d.key, ca_certificate: /etc/ha/dca.crt }\n", "", true },
	{ "ike.s6b.tls.certificate", "ike.s6b", NULL, NULL, "/etc/ha/d.crt", "/etc/ha/d2.crt", true },
	{ "ike.s6b.tls.private_key", "ike.s6b", NULL, NULL, "/etc/ha/d.key", "/etc/ha/d2.key", true },
	{ "ike.s6b.tls.ca_certificate", "ike.s6b", NULL, NULL, "/etc/ha/dca.crt", "/etc/ha/dca2.crt",
	  true },
	{ "ike.s6b.peers", "ike.s6b", NULL, NULL, "    peers:\n", "    peers:\n      - { identity:"
	  " aaa0.example.com, address: 127.0.0.2, transport: tcp }\n", true },
	{ "ike.s6b.peers[].identity", "ike.s6b", NULL, NULL, "identity: aaa1.", "identity: aaa9.",
	  true },
	{ "ike.s6b.peers[].address", "ike.s6b", NULL, NULL, "address: 127.0.0.1",
	  "address: \"::1\"", true },
	{ "ike.s6b.peers[].port", "ike.s6b", NULL, NULL, "port: 3868", "port: 3869", true },
	{ "ike.s6b.peers[].transport", "ike.s6b", NULL, NULL, "port: 3868, transport: tcp",
	  "port: 3868, transport: tls", true },
	{ "ike.s6b.peers[].priority", "ike.s6b", NULL, NULL, "priority: 1", "priority: 2", true },
	{ "ike.fragmentation", NULL, "fragmentation: true", "fragmentation: false" },
	{ "ike.ike_lifetime", NULL, "ike_lifetime: 86400", "ike_lifetime: 3600" },
	{ "ike.child_lifetime", NULL, "child_lifetime: 3600", "child_lifetime: 1800" },
	{ "ike.socket", NULL, "/run/hacpd/ike.sock", "/run/hacpd/ike2.sock" },
	{ "ike.max_sessions", NULL, "max_sessions: 1024", "max_sessions: 2048" },
	{ "ike.detach_guard_s", NULL, "detach_guard_s: 30", "detach_guard_s: 60" },
	{ "static_sas", NULL, "static_sas:\n", "static_sas:\n  - { spi: 0x3001, direction: in,"
	  " mode: transport, local: \"2001:db8:ffff::1\", peer: \"2001:db8:100::3\","
	  " encryption: aes-gcm-128, key: \"" GCM16 "\" }\n" },
	{ "static_sas[].spi", "static_sas", "spi: 0x2001", "spi: 0x2002" },
	{ "static_sas[].direction", "static_sas", "spi: 0x2001, direction: in",
	  "spi: 0x2001, direction: out" },
	{ "static_sas[].mode", "static_sas", "mode: transport", "mode: tunnel" },
	{ "static_sas[].local", "static_sas", "local: \"2001:db8:ffff::1\", peer: \"2001:db8:100::2\"",
	  "local: 203.0.113.1, peer: 198.51.100.8" },
	{ "static_sas[].peer", "static_sas", "peer: \"2001:db8:100::2\"", "peer: \"2001:db8:100::4\"" },
	{ "static_sas[].encryption", "static_sas", "encryption: aes-cbc-128, integrity: hmac-sha1-96,"
	  " key: \"" CBC16 "\"", "encryption: aes-cbc-256, integrity: hmac-sha1-96, key: \"" CBC16 CBC16
	  "\"" },
	{ "static_sas[].integrity", "static_sas", "integrity: hmac-sha1-96, key: \"" CBC16 "\","
	  " auth_key: \"" SHA20 "\"", "integrity: hmac-sha256-128, key: \"" CBC16 "\", auth_key: \""
	  CBC16 CBC16 "\"" },
	{ "static_sas[].key", "static_sas", "key: \"" CBC16 "\"", "key: \"f00102030405060708090a0b0c0d0e0f\"" },
	{ "static_sas[].auth_key", "static_sas", "auth_key: \"" SHA20 "\"",
	  "auth_key: \"f00102030405060708090a0b0c0d0e0f10111213\"" },
	{ "static_sas[].esn", "static_sas", "esn: false", "esn: true" },
	{ "static_sas[].replay_window", "static_sas", "replay_window: 64", "replay_window: 128" },
	{ "static_sas[].udp_encap_port", "static_sas", "udp_encap_port: 4500", "udp_encap_port: 4600" },
	{ "static_bindings", NULL, "static_bindings:\n", "static_bindings:\n  - { pdn: ims,"
	  " home_prefix: \"2001:db8:200:5::/64\", care_of: \"2001:db8:aaaa::5\" }\n" },
	{ "static_bindings[].pdn", "static_bindings", "pdn: internet, home_prefix: \"2001:db8:100:ff00::/64\", ipv4_home_address: 10.45.0.9,",
	  "pdn: ims, home_prefix: \"2001:db8:200:ff00::/64\"," },
	{ "static_bindings[].home_prefix", "static_bindings", "\"2001:db8:100:ff00::/64\"",
	  "\"2001:db8:100:fe00::/64\"" },
	{ "static_bindings[].ipv4_home_address", "static_bindings", "ipv4_home_address: 10.45.0.9",
	  "ipv4_home_address: 10.45.0.10" },
	{ "static_bindings[].care_of", "static_bindings", "care_of: 198.51.100.7",
	  "care_of: 198.51.100.9", "sa_in: 0x1001, sa_out: 0x1001 ", "" },
	{ "static_bindings[].udp_port", "static_bindings", "udp_port: 4500,", "udp_port: 4502," },
	{ "static_bindings[].sa_in", "static_bindings", "udp_port: 4500, sa_in: 0x1001, sa_out: 0x1001",
	  "udp_port: 4500" },
	{ "static_bindings[].sa_out", "static_bindings", "replay_window: 64,", "replay_window: 32," },
	{ "static_binding_ranges", NULL, "static_binding_ranges:\n", "static_binding_ranges:\n"
	  "  - { pdn: ims, first_home_prefix: \"2001:db8:200:1000::/64\", count: 2,"
	  " first_care_of: \"2001:db8:aaaa::100\" }\n" },
	{ "static_binding_ranges[].pdn", "static_binding_ranges", "pdn: internet, first_home_prefix: \"2001:db8:100:1000::/64\", count: 4, first_care_of: 198.51.100.100, first_ipv4_home_address: 10.45.1.1,",
	  "pdn: ims, first_home_prefix: \"2001:db8:200:1000::/64\", count: 4, first_care_of: 198.51.100.100," },
	{ "static_binding_ranges[].first_home_prefix", "static_binding_ranges",
	  "\"2001:db8:100:1000::/64\"", "\"2001:db8:100:2000::/64\"" },
	{ "static_binding_ranges[].count", "static_binding_ranges", "count: 4", "count: 5" },
	{ "static_binding_ranges[].first_care_of", "static_binding_ranges", "198.51.100.100",
	  "198.51.100.200" },
	{ "static_binding_ranges[].first_ipv4_home_address", "static_binding_ranges", "10.45.1.1",
	  "10.45.2.1" },
	{ "static_binding_ranges[].udp_port", "static_binding_ranges", "udp_port: 4501", "udp_port: 4503" },
	{ "cli.socket", NULL, "/run/hacpd/hactl.sock", "/run/hacpd/ctl.sock" },
	{ "cli.mode", NULL, "mode: 0660", "mode: 0600" },
	{ "cli.group", NULL, "group: root", "group: adm" },
	{ "logging.level", NULL, "level: info", "level: debug" },
	{ "logging.syslog", NULL, "level: info", "level: info, syslog: false" },
	{ "logging.rate_per_second", NULL, "level: info", "level: info, rate_per_second: 5" },
};
#pragma GCC diagnostic pop

/* text with every from -> to; NULL from: unchanged. */
static char *replaced(const char *text, const char *from, const char *to)
{
	if (!from)
		return strdup(text);
	cr_assert_not_null(strstr(text, from), "'%s' is not in the base file", from);
	size_t n = strlen(text) + 1, cap = n * 4 + strlen(to) * 16, o = 0;
	char *out = malloc(cap);
	cr_assert_not_null(out);
	for (const char *p = text; *p;) {
		const char *at = strstr(p, from);
		size_t lit = at ? (size_t)(at - p) : strlen(p);
		cr_assert_lt(o + lit + strlen(to) + 1, cap);
		memcpy(out + o, p, lit);
		o += lit;
		p += lit;
		if (!at)
			break;
		memcpy(out + o, to, strlen(to));
		o += strlen(to);
		p += strlen(from);
	}
	out[o] = '\0';
	return out;
}

static void load(const char *name, const char *text, struct ha_config *cfg)
{
	struct ha_config_error err;
	cr_assert_eq(ha_config_load_buffer(name, text, strlen(text), cfg, &err), 0, "%s", err.msg);
}

Test(config_diff, every_key_has_a_case_and_is_found_as_classified)
{
	for (size_t k = 0; k < ha_cfg_reload_nkeys(); k++) {
		const struct ha_cfg_key_class *kc = ha_cfg_reload_key_at(k);
		bool found = kc->cls == HA_RELOAD_CONTAINER;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) && !found; i++)
			found = !strcmp(cases[i].key, kc->path);
		cr_expect(found, "%s: no case changes it (tests/unit/test_config_diff.c)", kc->path);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct key_case *t = &cases[i];
		const char *want = t->change ? t->change : t->key;
		const struct ha_cfg_key_class *kc = ha_cfg_reload_key(want);
		cr_assert_not_null(kc, "%s", want);
		/* a second replacement, when alone (from NULL), makes the old file too */
		char *pre = t->from ? strdup(base)
				    : replaced(base, AAA_LOCAL, t->s6b ? AAA_S6B : AAA_RADIUS);
		char *a1 = replaced(pre, t->from, t->to);
		char *b = t->from2 ? replaced(a1, t->from2, t->to2) : strdup(a1);
		const char *old_text = t->from ? base : pre;
		struct ha_config a = { 0 }, n = { 0 };
		struct ha_cfg_diff d;
		load("old.yaml", old_text, &a);
		load("new.yaml", b, &n);
		cr_assert_eq(ha_config_diff(&a, &n, &d), 0);
		bool hit = false;
		for (size_t j = 0; j < d.n; j++) {
			if (strcmp(d.v[j].key, want))
				continue;
			hit = true;
			bool refuse = kc->cls == HA_RELOAD_FIXED ||
				      (kc->cls == HA_RELOAD_ADD_ONLY && d.v[j].kind != HA_CHG_ADDED);
			cr_expect_eq(d.v[j].refused, refuse, "%s: %s", t->key, d.v[j].text);
			cr_expect(d.v[j].text[0], "%s: no text", t->key);
			if (refuse)
				cr_expect(strstr(d.v[j].text, "cannot change at run time (restart"),
					  "%s: %s", t->key, d.v[j].text);
		}
		cr_expect(hit, "%s: changing it is not found as a change of %s (%zu changes)", t->key,
			  want, d.n);
		ha_cfg_diff_free(&d);
		ha_config_free(&a);
		ha_config_free(&n);
		free(pre);
		free(a1);
		free(b);
	}
}

static void diff_of(const char *from, const char *to, struct ha_config *a, struct ha_config *n,
		    struct ha_cfg_diff *d)
{
	char *b = replaced(base, from, to);
	load("old.yaml", base, a);
	load("new.yaml", b, n);
	free(b);
	cr_assert_eq(ha_config_diff(a, n, d), 0);
}

Test(config_diff, same_file_no_change)
{
	struct ha_config a = { 0 }, n = { 0 };
	struct ha_cfg_diff d;
	diff_of("logging: { level: info }", "logging: { level: info }  # again", &a, &n, &d);
	cr_expect_eq(d.n, 0, "%s", d.n ? d.v[0].text : "");
	ha_cfg_diff_free(&d);
	ha_config_free(&a);
	ha_config_free(&n);
}

Test(config_diff, pdn_reordered_is_no_change_and_ipv4_pool_removed_is_refused)
{
	struct ha_config a = { 0 }, n = { 0 };
	struct ha_cfg_diff d;
	/* ims first: the same PDNs by name; and the internet PDN loses its IPv4 pool */
	load("old.yaml", base, &a);
	char *b1 = replaced(base, "  - { name: ims, home_prefix_pool: \"2001:db8:200::/48\", home_prefix_length: 64 }\n", "");
	char *b2 = replaced(b1, "pdns:\n", "pdns:\n  - { name: ims, home_prefix_pool: \"2001:db8:200::/48\", home_prefix_length: 64 }\n");
	load("new.yaml", b2, &n);
	cr_assert_eq(ha_config_diff(&a, &n, &d), 0);
	cr_expect_eq(d.n, 0, "%s", d.n ? d.v[0].text : "");
	ha_cfg_diff_free(&d);
	ha_config_free(&n);
	ha_config_free(&a);
	free(b1);
	free(b2);
}

Test(config_diff, new_pdn_with_a_prefix_length_hadp_lacks_is_refused)
{
	struct ha_config a = { 0 }, n = { 0 };
	struct ha_cfg_diff d;
	diff_of("pdns:\n", "pdns:\n  - { name: corp, home_prefix_pool: \"2001:db8:300::/48\","
		" home_prefix_length: 56 }\n", &a, &n, &d);
	cr_assert_eq(d.n, 1, "%zu changes: %s", d.n, d.v[0].text);
	cr_expect(d.v[0].refused);
	cr_expect_str_eq(d.v[0].key, "pdns[].home_prefix_length");
	cr_expect(strstr(d.v[0].text, "restart hadp"), "%s", d.v[0].text);
	cr_expect_eq(d.refused, 1);
	ha_cfg_diff_free(&d);
	ha_config_free(&a);
	ha_config_free(&n);
}

Test(config_diff, binding_on_a_changed_sa_is_changed_too)
{
	struct ha_config a = { 0 }, n = { 0 };
	struct ha_cfg_diff d;
	diff_of("esn: false", "esn: true", &a, &n, &d);
	cr_assert_eq(d.n, 2);
	cr_expect_eq(d.v[0].item, HA_ITEM_SA);
	cr_expect_eq(d.v[0].kind, HA_CHG_CHANGED);
	cr_expect_eq(d.v[1].item, HA_ITEM_BINDING);
	cr_expect_eq(d.v[1].kind, HA_CHG_CHANGED);
	cr_expect_eq(d.v[1].old_i, 0);
	cr_expect_eq(d.v[1].new_i, 0);
	cr_expect_eq(d.refused, 0);
	ha_cfg_diff_free(&d);
	ha_config_free(&a);
	ha_config_free(&n);
}

Test(config_diff, route_added_removed_changed)
{
	struct ha_config a = { 0 }, n = { 0 };
	struct ha_cfg_diff d;
	diff_of("    - { prefix: \"10.9.0.0/16\", next_hop_mac: \"02:00:00:00:0c:01\" }\n",
		"    - { prefix: \"10.8.0.0/16\", next_hop: 10.0.0.1 }\n", &a, &n, &d);
	cr_assert_eq(d.n, 2);
	cr_expect_eq(d.v[0].kind, HA_CHG_REMOVED);
	cr_expect_str_eq(d.v[0].text, "dataplane.routes: 10.9.0.0/16 removed");
	cr_expect_eq(d.v[1].kind, HA_CHG_ADDED);
	cr_expect_str_eq(d.v[1].text, "dataplane.routes: 10.8.0.0/16 added via 10.0.0.1");
	cr_expect_eq(d.v[1].new_i, 1);
	ha_cfg_diff_free(&d);
	ha_config_free(&a);
	ha_config_free(&n);
}

Test(config_diff, configuration_md_says_what_each_key_is)
{
	FILE *f = fopen(HA_SOURCE_ROOT "/docs/configuration.md", "r");
	cr_assert_not_null(f);
	static char doc[1 << 18];
	size_t n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	for (size_t k = 0; k < ha_cfg_reload_nkeys(); k++) {
		const struct ha_cfg_key_class *kc = ha_cfg_reload_key_at(k);
		char row[256];
		if (kc->cls == HA_RELOAD_CONTAINER)
			continue;
		if (kc->cls == HA_RELOAD_RUNTIME)
			snprintf(row, sizeof(row), "| `%s` | run time |", kc->path);
		else if (kc->cls == HA_RELOAD_ADD_ONLY)
			snprintf(row, sizeof(row), "| `%s` | added at run time; changed or removed: "
				 "restart %s |", kc->path, kc->restart);
		else
			snprintf(row, sizeof(row), "| `%s` | restart %s |", kc->path, kc->restart);
		cr_expect(strstr(doc, row), "docs/configuration.md lacks the row %s", row);
	}
}
