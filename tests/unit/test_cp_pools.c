/*
 * The address pools of hacpd: the index bitmap under them, IPv4 home addresses (RFC 5555 3.3.1
 * dynamic assignment: no network or broadcast address) and home prefixes (TS 24.303 5.1.3.1: a
 * unique prefix per UE and PDN).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "cp_idpool.h"
#include "cp_pool4.h"
#include "cp_pool6.h"

Test(idpool, every_index_once_then_exhausted_and_round_robin_after_release)
{
	struct cp_idpool p;
	uint32_t i, seen[130] = { 0 };
	cr_assert_eq(cp_idpool_init(&p, 130), 0);
	for (unsigned n = 0; n < 130; n++) {
		cr_assert_eq(cp_idpool_alloc(&p, &i), 0);
		cr_assert_lt(i, 130);
		cr_assert_eq(seen[i]++, 0, "index %u handed out twice", i);
	}
	cr_assert_eq(cp_idpool_alloc(&p, &i), -ENOSPC);
	cp_idpool_release(&p, 5);
	cp_idpool_release(&p, 129);
	cr_assert_eq(cp_idpool_alloc(&p, &i), 0);
	cr_assert_eq(i, 5, "the search goes round from where it stopped");
	cr_assert_eq(cp_idpool_alloc(&p, &i), 0);
	cr_assert_eq(i, 129);
	cr_assert_eq(cp_idpool_take(&p, 7), -EBUSY);
	cr_assert_eq(cp_idpool_take(&p, 130), -EINVAL);
	cp_idpool_release(&p, 7);
	cp_idpool_release(&p, 7); /* twice: counted once */
	cr_assert_eq(p.used, 129);
	cr_assert_eq(cp_idpool_take(&p, 7), 0);
	cp_idpool_free(&p);
}

Test(pool4, hosts_only)
{
	struct cp_pool4 p;
	struct in_addr net, a;
	inet_pton(AF_INET, "10.1.2.0", &net);
	cr_assert_eq(cp_pool4_init(&p, net, 30), 0);
	char s[2][16];
	cr_assert_eq(cp_pool4_alloc(&p, &a), 0);
	inet_ntop(AF_INET, &a, s[0], 16);
	cr_assert_eq(cp_pool4_alloc(&p, &a), 0);
	inet_ntop(AF_INET, &a, s[1], 16);
	cr_assert_str_eq(s[0], "10.1.2.1");
	cr_assert_str_eq(s[1], "10.1.2.2");
	cr_assert_eq(cp_pool4_alloc(&p, &a), -ENOSPC, "network and broadcast are never handed out");
	cr_assert_eq(cp_pool4_used(&p), 2);
	inet_pton(AF_INET, "10.1.2.3", &a);
	cp_pool4_release(&p, a); /* broadcast: not releasable */
	cr_assert_eq(cp_pool4_alloc(&p, &a), -ENOSPC);
	cp_pool4_free(&p);
}

Test(pool6, unique_prefixes_of_the_pdn_length)
{
	struct cp_pool6 p;
	struct in6_addr pool, a, b;
	char s[64];
	inet_pton(AF_INET6, "2001:db8:100::", &pool);
	cr_assert_eq(cp_pool6_init(&p, &pool, 40, 64), 0);
	cr_assert_eq(p.ids.size, 1u << 24);
	cr_assert_eq(cp_pool6_alloc(&p, &a), 0);
	cr_assert_eq(cp_pool6_alloc(&p, &b), 0);
	inet_ntop(AF_INET6, &a, s, sizeof(s));
	cr_assert_str_eq(s, "2001:db8:100::");
	inet_ntop(AF_INET6, &b, s, sizeof(s));
	cr_assert_str_eq(s, "2001:db8:100:1::");
	/* an address inside a prefix names that prefix */
	inet_pton(AF_INET6, "2001:db8:100:1::abcd", &a);
	cr_assert_eq(cp_pool6_take(&p, &a), -EBUSY);
	cp_pool6_release(&p, &a);
	cr_assert_eq(cp_pool6_take(&p, &a), 0);
	inet_pton(AF_INET6, "2001:db8:1ff:ffff::1", &a);
	cr_assert(cp_pool6_contains(&p, &a));
	inet_pton(AF_INET6, "2001:db8:200::1", &a);
	cr_assert_not(cp_pool6_contains(&p, &a));
	cr_assert_eq(cp_pool6_take(&p, &a), -EINVAL);
	inet_pton(AF_INET6, "2001:db8:ff::1", &a);
	cr_assert_not(cp_pool6_contains(&p, &a), "below the pool");
	cp_pool6_free(&p);

	/* a /32 pool of /64s: the first CP_POOL6_MAX prefixes */
	inet_pton(AF_INET6, "2001:db8::", &pool);
	cr_assert_eq(cp_pool6_init(&p, &pool, 32, 64), 0);
	cr_assert_eq(p.ids.size, CP_POOL6_MAX);
	cp_pool6_free(&p);
	cr_assert_eq(cp_pool6_init(&p, &pool, 64, 56), -EINVAL);
}
