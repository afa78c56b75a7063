/*
 * Core-side routes (dataplane/dp_route.h) and their routers (dp_neigh.h), without ports: the
 * YAML's table, then the changes the control plane commands at run time (issue 3: "routes for
 * the core side (rte_lpm / rte_lpm6) and next hops"; the command ring's "route add and delete").
 * Each test checks the longest-prefix lookups the workers make, and which lpm tables a change
 * rebuilt or handed over. EAL runs in memory (--no-huge), one fresh process per test.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_ctx.h"
#include "dp_neigh.h"
#include "dp_route.h"
#include "dp_runtime_dir.h"

static struct dp_routes routes;
static struct rte_rcu_qsbr *qsbr;

static void setup(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=ut_route_%d", getpid());
	/* a table's lpm tables take some 130 MiB (two 2^24-entry first levels) */
	char *argv[] = { "test", "--no-huge", "--no-pci", "--no-telemetry", "-m", "768",
			 "--log-level=*:error", prefix, NULL };
	cr_assert_geq(rte_eal_init(8, argv), 0, "EAL");
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	cr_assert_eq(rte_rcu_qsbr_init(qsbr, 1), 0);
}

static void teardown(void)
{
	dp_routes_free(&routes);
	rte_free(qsbr);
	dp_eal_cleanup(); /* and its runtime directory */
}

TestSuite(routes, .init = setup, .fini = teardown);

static struct ha_config_route route(const char *prefix, unsigned len, const char *router,
				    uint8_t mac_last)
{
	struct ha_config_route r = { .prefix_len = (uint8_t)len };
	int fam = strchr(prefix, ':') ? AF_INET6 : AF_INET;
	r.prefix.family = (uint8_t)fam;
	cr_assert_eq(inet_pton(fam, prefix, fam == AF_INET ? (void *)&r.prefix.v4
							   : (void *)&r.prefix.v6), 1);
	if (router) {
		r.has_next_hop = true;
		r.next_hop.family = (uint8_t)fam;
		cr_assert_eq(inet_pton(fam, router, fam == AF_INET ? (void *)&r.next_hop.v4
								   : (void *)&r.next_hop.v6), 1);
	} else {
		const uint8_t mac[6] = { 0x02, 0, 0, 0, 0x0c, mac_last };
		memcpy(r.next_hop_mac, mac, 6);
	}
	return r;
}

/* The MAC's last octet the workers would send dst to: 0 no route, 0xff unresolved. */
static unsigned to(const char *dst)
{
	const struct dp_route_table *t = dp_routes_current(&routes);
	uint64_t w;
	if (!t)
		return 0;
	if (strchr(dst, ':')) {
		uint8_t a[16];
		inet_pton(AF_INET6, dst, a);
		w = dp_route6(t, a);
	} else {
		uint32_t a;
		inet_pton(AF_INET, dst, &a);
		w = dp_route4(t, a);
	}
	if (!w)
		return 0;
	return dp_nh_valid(w) ? ((const uint8_t *)&w)[5] : 0xff;
}

static void start(unsigned max)
{
	static struct ha_config_dataplane dp;
	memset(&dp, 0, sizeof(dp));
	dp.max_routes = max;
	dp.routes[0] = route("2001:db8:9::", 48, NULL, 1);
	dp.routes[1] = route("0.0.0.0", 0, NULL, 2);
	dp.n_routes = 2;
	cr_assert_eq(dp_routes_create(&routes, &dp, SOCKET_ID_ANY, qsbr), 0);
}

static int change(const struct ha_config_route *add, const struct ha_config_route *del)
{
	struct dp_route_table *t;
	int rc = dp_routes_build(&routes, add, del, &t);
	if (rc == 0)
		dp_routes_publish(&routes, t);
	return rc;
}

Test(routes, the_yaml_table_longest_prefix_and_misses)
{
	start(8);
	cr_expect_eq(to("2001:db8:9::1"), 1);
	cr_expect_eq(to("2001:db8:8::1"), 0, "no IPv6 route covers it");
	cr_expect_eq(to("203.0.113.9"), 2, "the IPv4 default route (its two halves)");
	cr_expect_eq(to("10.0.0.1"), 2);
}

Test(routes, an_added_route_rebuilds_its_family_only)
{
	start(8);
	const struct dp_route_table *before = dp_routes_current(&routes);
	struct rte_lpm *v4 = before->v4;
	struct ha_config_route r = route("2001:db8:9:1::", 64, NULL, 3);
	cr_assert_eq(change(&r, NULL), 0);
	const struct dp_route_table *after = dp_routes_current(&routes);
	cr_expect_eq(after->n, 3);
	cr_expect_eq(after->v4, v4, "the IPv4 lpm table is handed over, not rebuilt");
	cr_expect(after->owns_v4 && after->owns_v6);
	cr_expect_eq(to("2001:db8:9:1::5"), 3, "the longer prefix wins");
	cr_expect_eq(to("2001:db8:9:2::5"), 1);
	cr_expect_eq(to("10.0.0.1"), 2);
}

Test(routes, another_next_hop_for_a_prefix_rebuilds_nothing)
{
	start(8);
	const struct dp_route_table *before = dp_routes_current(&routes);
	struct rte_lpm *v4 = before->v4;
	struct rte_lpm6 *v6 = before->v6;
	struct ha_config_route r = route("2001:db8:9::", 48, NULL, 7);
	cr_assert_eq(change(&r, NULL), 0);
	const struct dp_route_table *after = dp_routes_current(&routes);
	cr_expect_eq(after->n, 2);
	cr_expect(after->v4 == v4 && after->v6 == v6);
	cr_expect_eq(to("2001:db8:9::1"), 7);
}

Test(routes, delete_falls_back_then_none_left_is_the_ports_next_hop)
{
	start(8);
	struct ha_config_route wide = route("2001:db8::", 32, NULL, 4);
	cr_assert_eq(change(&wide, NULL), 0);
	struct ha_config_route narrow = route("2001:db8:9::", 48, NULL, 0);
	cr_assert_eq(change(NULL, &narrow), 0);
	cr_expect_eq(to("2001:db8:9::1"), 4, "the less specific route once the /48 is gone");
	cr_expect_eq(change(NULL, &narrow), -ENOENT);
	struct ha_config_route def4 = route("0.0.0.0", 0, NULL, 2);
	cr_assert_eq(change(NULL, &def4), 0);
	cr_expect_eq(to("10.0.0.1"), 0);
	cr_assert_eq(change(NULL, &wide), 0);
	cr_expect_null(dp_routes_current(&routes), "no routes: the core port's next hop");
	int rc = change(&def4, NULL);
	cr_assert_eq(rc, 0, "a first route again: %d", rc);
	cr_expect_eq(to("10.0.0.1"), 2);
	cr_expect_eq(to("2001:db8:9::1"), 0);
}

Test(routes, full_table_and_bad_routes_change_nothing)
{
	start(3);
	struct ha_config_route r = route("2001:db8:5::", 48, NULL, 5);
	cr_assert_eq(change(&r, NULL), 0);
	struct ha_config_route more = route("2001:db8:6::", 48, NULL, 6);
	cr_expect_eq(change(&more, NULL), -ENOSPC);
	struct ha_config_route again = route("2001:db8:5::", 48, NULL, 8);
	cr_expect_eq(change(&again, NULL), 0, "a full table still takes a new next hop");
	struct ha_config_route bad = route("2001:db8:5::", 48, NULL, 0);
	bad.has_next_hop = true;
	bad.next_hop.family = AF_INET;
	cr_expect_eq(change(&bad, NULL), -EINVAL, "a router of the other family");
	bad = route("10.0.0.0", 8, NULL, 0);
	bad.prefix_len = 33;
	cr_expect_eq(change(&bad, NULL), -EINVAL);
	cr_expect_eq(dp_routes_current(&routes)->n, 3);
	cr_expect_eq(to("2001:db8:5::1"), 8);
}

Test(routes, a_known_router_keeps_its_mac_in_the_next_table)
{
	start(8);
	struct dp_neigh nb;
	struct ha_config_dataplane dp = { 0 };
	dp_neigh_init(&nb, &dp);
	struct ha_config_route r = route("2001:db8:7::", 48, "2001:db8:c::fe", 0);
	struct dp_route_table *t;
	cr_assert_eq(dp_routes_build(&routes, &r, NULL, &t), 0);
	cr_assert_eq(dp_neigh_adopt(&nb, t), 0);
	dp_routes_publish(&routes, t);
	cr_expect_eq(nb.n, 1);
	cr_expect_eq(to("2001:db8:7::1"), 0xff, "unresolved until the router answers");
	/* the router answered (what dp_neigh_learn records), then a route moves to it */
	nb.e[0].known = true;
	memcpy(nb.e[0].mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0x0c, 0x99 }, 6);
	struct ha_config_route moved = route("2001:db8:9::", 48, "2001:db8:c::fe", 0);
	cr_assert_eq(dp_routes_build(&routes, &moved, NULL, &t), 0);
	cr_assert_eq(dp_neigh_adopt(&nb, t), 0);
	dp_routes_publish(&routes, t);
	cr_expect_eq(nb.n, 1, "one entry per router");
	cr_expect_eq(to("2001:db8:9::1"), 0x99, "forwarded at once to the known router");
	cr_expect_eq(to("2001:db8:7::1"), 0x99);
}
