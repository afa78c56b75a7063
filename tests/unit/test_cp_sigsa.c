/*
 * The signalling SA registry (RFC 4877 4.1: the SA that protects a BU is bound to the home
 * address it registers): IKE child SAs arriving half by half, a rekey, the IKE SA going down, the
 * YAML's static pairs, and the refusal of an inbound SPI for a second home address.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>

#include "cp_sigsa.h"

static struct in6_addr A(const char *s)
{
	struct in6_addr a;
	inet_pton(AF_INET6, s, &a);
	return a;
}

static void count_gone(void *arg, const struct cp_sigsa *s)
{
	(void)s;
	(*(unsigned *)arg)++;
}

Test(sigsa, child_sa_halves_pair_by_reqid_and_a_rekey_takes_over)
{
	struct cp_sigsas t = { 0 };
	struct in6_addr hoa = A("2001:db8:100:1::1");
	cr_assert_eq(cp_sigsa_add(&t, 7, 1, &hoa, 0xc0000001, true), 0);
	cr_assert_eq(cp_sigsa_add(&t, 7, 1, &hoa, 0xc1000001, false), 0);
	cr_assert_eq(t.count, 1);
	const struct cp_sigsa *s = cp_sigsa_of(&t, 0xc0000001);
	cr_assert_not_null(s);
	cr_assert_eq(s->spi_out, 0xc1000001);
	cr_assert_eq(cp_sigsa_for_hoa(&t, &hoa), s);

	/* rekey: a new child (reqid 2) comes up, then the old one goes */
	cr_assert_eq(cp_sigsa_add(&t, 7, 2, &hoa, 0xc0000002, true), 0);
	cr_assert_eq(cp_sigsa_add(&t, 7, 2, &hoa, 0xc1000002, false), 0);
	cr_assert_eq(cp_sigsa_for_hoa(&t, &hoa)->spi_out, 0xc1000002, "BAs go under the newest");
	cp_sigsa_del(&t, 7, 1, 0xc0000001, true);
	cp_sigsa_del(&t, 7, 1, 0xc1000001, false);
	cr_assert_null(cp_sigsa_of(&t, 0xc0000001));
	cr_assert_eq(t.count, 1);
	/* deleting the newest first leaves the index on the older one */
	cr_assert_eq(cp_sigsa_add(&t, 7, 3, &hoa, 0xc0000003, true), 0);
	cp_sigsa_del(&t, 7, 3, 0xc0000003, true);
	cr_assert_eq(cp_sigsa_for_hoa(&t, &hoa)->spi_in, 0xc0000002);

	/* another home address under an inbound SPI already in use: refused */
	struct in6_addr other = A("2001:db8:100:2::1");
	cr_assert_eq(cp_sigsa_add(&t, 8, 1, &other, 0xc0000002, true), -EEXIST);
	/* the second half naming another address than the first: refused */
	cr_assert_eq(cp_sigsa_add(&t, 7, 2, &other, 0xc1000009, false), -EEXIST);

	/* the IKE SA is rekeyed (id 7 -> 17): its children follow */
	cp_sigsa_rename_ike(&t, 7, 17);
	cr_assert_eq(cp_sigsa_of(&t, 0xc0000002)->ike_sa, 17);
	cr_assert_eq(cp_sigsa_del_ike(&t, 7, NULL, NULL), 0);
	cp_sigsa_rename_ike(&t, 17, 7);

	unsigned gone = 0;
	cr_assert_eq(cp_sigsa_add(&t, 9, 1, &other, 0xd0000001, true), 0);
	cr_assert_eq(cp_sigsa_del_ike(&t, 7, count_gone, &gone), 1);
	cr_assert_eq(gone, 1);
	cr_assert_null(cp_sigsa_for_hoa(&t, &hoa), "004 5.4.3.2: the IKE SA's children are gone");
	cr_assert_not_null(cp_sigsa_of(&t, 0xd0000001), "another UE's SA stays");
	cp_sigsa_clear(&t);
	cr_assert_eq(t.count, 0);
}

Test(sigsa, static_pairs_by_home_address)
{
	struct cp_sigsas t = { 0 };
	struct in6_addr a = A("2001:db8:100:1::1"), b = A("2001:db8:100:2::1");
	cr_assert_eq(cp_sigsa_add(&t, 0, 0, &a, 0x2001, false), 0);
	cr_assert_eq(cp_sigsa_add(&t, 0, 0, &b, 0x1002, true), 0);
	cr_assert_eq(cp_sigsa_add(&t, 0, 0, &a, 0x1001, true), 0);
	cr_assert_eq(cp_sigsa_add(&t, 0, 0, &b, 0x2002, false), 0);
	cr_assert_eq(t.count, 2);
	cr_assert_eq(cp_sigsa_of(&t, 0x1001)->spi_out, 0x2001);
	cr_assert_eq(cp_sigsa_of(&t, 0x1002)->spi_out, 0x2002);
	cp_sigsa_clear(&t);
}
