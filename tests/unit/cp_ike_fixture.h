/*
 * The IKE sessions' test fixture, shared by test_cp_ike.c and test_cp_ike_aaa.c: a
 * configuration with two PDNs (internet: a /62 of /64s, one of them a static binding's, and a
 * small IPv4 pool; ims: a /48), the binding cache and the sessions made afresh for each test.
 */
#ifndef CP_IKE_FIXTURE_H
#define CP_IKE_FIXTURE_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "cp_ike.h"

static const char *yaml =
	"dataplane:\n"
	"  lcores: { main: 0, workers: [1] }\n"
	"  ports: { access: { device: net_null0 }, core: { device: net_null1 } }\n"
	"home_agent: { ipv6_address: 2001:db8:ffff::1, ipv4_address: 192.0.2.1 }\n"
	"pdns:\n"
	"  - { name: internet, home_prefix_pool: 2001:db8:100::/62, home_prefix_length: 64,\n"
	"      ipv4_pool: 10.45.0.0/29 }\n"
	"  - { name: ims, apn: ims.mnc001.mcc001.gprs, home_prefix_pool: 2001:db8:200::/48,\n"
	"      home_prefix_length: 64 }\n"
	"ike: { enabled: false }\n"
	"static_bindings:\n"
	"  - { pdn: internet, home_prefix: \"2001:db8:100::/64\", care_of: \"2001:db8:aaaa::9\" }\n";

static struct ha_config cfg;
static struct cp_ctx ctx;
static struct cp_ike ike;
static struct cp_ike_gone left; /* what an orphaned session's old IKE SA leaves (cp_ike_prefix) */

static void setup(void)
{
	struct ha_config_error err;
	cr_assert_eq(ha_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(cp_ctx_init(&ctx, &cfg), 0);
	cr_assert_eq(cp_ike_init(&ike, &ctx), 0);
}

static void teardown(void)
{
	cp_ike_free(&ike);
	cp_ctx_free(&ctx);
	ha_config_free(&cfg);
}

#define UE1 "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"
#define UE2 "0001010000000002@nai.epc.mnc001.mcc001.3gppnetwork.org"

static inline struct in6_addr A(const char *s)
{
	struct in6_addr a;
	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

#endif
