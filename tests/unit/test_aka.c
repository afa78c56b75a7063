/*
 * MILENAGE (3GPP TS 35.206) against the conformance test sets of 3GPP TS 35.208 4.3 (test sets
 * 1 to 4), the AKA procedures of TS 33.102 6.3 built on it (vector, USIM check, MAC failure,
 * SQN re-synchronisation with AUTS), and the subscriber file loader.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aka_milenage.h"
#include "aka_subscribers.h"

struct test_set {
	const char *k, *rand, *sqn, *amf, *op, *opc, *f1, *f1s, *f2, *f3, *f4, *f5, *f5s;
};

/* TS 35.208 4.3.1 to 4.3.4 */
static const struct test_set sets[] = {
	{ "465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35", "ff9bb4d0b607",
	  "b9b9", "cdc202d5123e20f62b6d676ac72cb318", "cd63cb71954a9f4e48a5994e37a02baf",
	  "4a9ffac354dfafb3", "01cfaf9ec4e871e9", "a54211d5e3ba50bf",
	  "b40ba9a3c58b2a05bbf0d987b21bf8cb", "f769bcd751044604127672711c6d3441", "aa689c648370",
	  "451e8beca43b" },
	{ "fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a", "9d0277595ffc",
	  "725c", "dbc59adcb6f9a0ef735477b7fadf8374", "1006020f0a478bf6b699f15c062e42b3",
	  "9cabc3e99baf7281", "95814ba2b3044324", "8011c48c0c214ed2",
	  "5dbdbb2954e8f3cde665b046179a5098", "59a92d3b476a0443487055cf88b2307b", "33484dc2136b",
	  "deacdd848cc6" },
	{ "9e5944aea94b81165c82fbf9f32db751", "ce83dbc54ac0274a157c17f80d017bd6", "0b604a81eca8",
	  "9e09", "223014c5806694c007ca1eeef57f004f", "a64a507ae1a2a98bb88eb4210135dc87",
	  "74a58220cba84c49", "ac2cc74a96871837", "f365cd683cd92e96",
	  "e203edb3971574f5a94b0d61b816345d", "0c4524adeac041c4dd830d20854fc46b", "f0b9c08ad02e",
	  "6085a86c6f63" },
	{ "4ab1deb05ca6ceb051fc98e77d026a84", "74b0cd6031a1c8339b2b6ce2b8c4a186", "e880a1b580b6",
	  "9f07", "2d16c5cd1fdf6b22383584e3bef2a8d8", "dcf07cbd51855290b92a07a9891e523e",
	  "49e785dd12626ef2", "9e85790336bb3fa2", "5860fc1bce351e7e",
	  "7657766b373d1c2138f307e3de9242f9", "1c42e960d89b8fa99f2744e0708ccb53", "31e11a609118",
	  "fe2555e54aa9" },
};

static void hex(const char *s, uint8_t *out, size_t len)
{
	cr_assert_eq(strlen(s), 2 * len, "test vector %s", s);
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

#define EXPECT(name, got, want_hex, len)                                                            \
	do {                                                                                       \
		uint8_t w_[32];                                                                    \
		hex(want_hex, w_, len);                                                            \
		cr_assert_arr_eq(got, w_, len, "test set %zu: %s", i + 1, name);                   \
	} while (0)

Test(milenage, ts_35_208_test_sets_1_to_4)
{
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		const struct test_set *t = &sets[i];
		uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
		uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], aks[6];
		hex(t->k, k, 16);
		hex(t->rand, rand, 16);
		hex(t->sqn, sqn, 6);
		hex(t->amf, amf, 2);
		hex(t->op, op, 16);
		cr_assert_eq(aka_opc(k, op, opc), 0);
		EXPECT("OPc", opc, t->opc, 16);
		cr_assert_eq(aka_f1(k, opc, rand, sqn, amf, mac_a, mac_s), 0);
		EXPECT("f1", mac_a, t->f1, 8);
		EXPECT("f1*", mac_s, t->f1s, 8);
		cr_assert_eq(aka_f2345(k, opc, rand, res, ck, ik, ak, aks), 0);
		EXPECT("f2", res, t->f2, 8);
		EXPECT("f3", ck, t->f3, 16);
		EXPECT("f4", ik, t->f4, 16);
		EXPECT("f5", ak, t->f5, 6);
		EXPECT("f5*", aks, t->f5s, 6);
	}
}

static void set1(uint8_t k[16], uint8_t opc[16], uint8_t rand[16])
{
	hex(sets[0].k, k, 16);
	hex(sets[0].opc, opc, 16);
	hex(sets[0].rand, rand, 16);
}

/* TS 33.102 6.3.2 / 6.3.3: the USIM accepts the network's vector and both sides derive the
 * same RES, CK and IK; a second use of the same SQN is not fresh. */
Test(aka, vector_accepted_by_the_usim_then_replay_needs_resync)
{
	uint8_t k[16], opc[16], rand[16], amf[2] = { 0x80, 0 }, res[8], ck[16], ik[16], auts[14];
	struct aka_vector v;
	uint64_t sqn_ms = 0x40;
	set1(k, opc, rand);

	cr_assert_eq(aka_make_vector(k, opc, rand, 0x60, amf, &v), 0);
	cr_assert_eq(aka_usim_check(k, opc, rand, v.autn, &sqn_ms, res, ck, ik, auts), AKA_OK);
	cr_assert_eq(sqn_ms, 0x60);
	cr_assert_arr_eq(res, v.xres, 8);
	cr_assert_arr_eq(ck, v.ck, 16);
	cr_assert_arr_eq(ik, v.ik, 16);
	cr_assert_arr_eq(v.autn + 6, amf, 2);

	/* TS 33.102 6.3.5: the same SQN again is a synchronisation failure with AUTS, which the
	 * home network verifies and takes SQN_MS from */
	cr_assert_eq(aka_usim_check(k, opc, rand, v.autn, &sqn_ms, res, ck, ik, auts), AKA_SYNC_FAILED);
	uint64_t he = 0;
	cr_assert_eq(aka_resync(k, opc, rand, auts, &he), 0);
	cr_assert_eq(he, 0x60);
	auts[13] ^= 1;
	cr_assert_eq(aka_resync(k, opc, rand, auts, &he), 1, "a forged MAC-S is refused");
}

/* TS 33.102 6.3.3: an AUTN not made with the subscriber's K fails the MAC check. */
Test(aka, autn_of_another_key_fails_the_mac)
{
	uint8_t k[16], opc[16], rand[16], amf[2] = { 0 }, res[8], ck[16], ik[16], auts[14];
	struct aka_vector v;
	uint64_t sqn_ms = 0;
	set1(k, opc, rand);
	cr_assert_eq(aka_make_vector(k, opc, rand, 32, amf, &v), 0);
	k[0] ^= 0x01;
	cr_assert_eq(aka_usim_check(k, opc, rand, v.autn, &sqn_ms, res, ck, ik, auts), AKA_MAC_FAILED);
	cr_assert_eq(sqn_ms, 0, "a failed check changes nothing");
}

static const char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/test_aka_%d.yaml", getpid());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

Test(subscribers, vectors_step_sqn_and_resync_moves_it)
{
	const char *p = write_tmp(
		"subscribers:\n"
		"  - identity: 0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org\n"
		"    k: 465b5ce8b199b49faa5f0a2ee238a6bc\n"
		"    op: cdc202d5123e20f62b6d676ac72cb318\n"
		"    sqn: 100\n"
		"  - identity: alice@lab\n"
		"    k: fec86ba6eb707ed08905757b1bb44b8f\n"
		"    opc: 1006020f0a478bf6b699f15c062e42b3\n"
		"    amf: \"8000\"\n");
	struct aka_subscribers db;
	char err[512];
	int rc = aka_subscribers_load(p, &db, err, sizeof(err));
	unlink(p);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(db.n, 2);

	uint8_t k[16], opc[16], rand[16], res[8], ck[16], ik[16], auts[14];
	set1(k, opc, rand);
	struct aka_vector v;
	const char *id = "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org";
	cr_assert_eq(aka_subscribers_vector(&db, id, rand, &v), 0);
	uint64_t usim = 0;
	cr_assert_eq(aka_usim_check(k, opc, rand, v.autn, &usim, res, ck, ik, auts), AKA_OK,
		     "OPc derived from op: matches the test set's OPc");
	cr_assert_eq(usim, 128, "the SEQ after sqn 100, IND 0");

	/* the USIM is ahead (another HSS served it): resync, then the next vector is fresh */
	usim = 5000 * 32;
	cr_assert_eq(aka_subscribers_vector(&db, id, rand, &v), 0);
	cr_assert_eq(aka_usim_check(k, opc, rand, v.autn, &usim, res, ck, ik, auts), AKA_SYNC_FAILED);
	cr_assert_eq(aka_subscribers_resync(&db, id, rand, auts), 0);
	cr_assert_eq(aka_subscribers_vector(&db, id, rand, &v), 0);
	cr_assert_eq(aka_usim_check(k, opc, rand, v.autn, &usim, res, ck, ik, auts), AKA_OK);
	cr_assert_eq(usim, 5001 * 32);

	cr_assert_eq(aka_subscribers_vector(&db, "nobody@lab", rand, &v), -ENOENT);
	auts[0] ^= 0xff;
	auts[13] ^= 0xff;
	cr_assert_eq(aka_subscribers_resync(&db, id, rand, auts), -EACCES);
	aka_subscribers_free(&db);
}

static void expect_error(const char *text, const char *want)
{
	const char *p = write_tmp(text);
	struct aka_subscribers db;
	char err[512] = "";
	int rc = aka_subscribers_load(p, &db, err, sizeof(err));
	unlink(p);
	cr_assert_eq(rc, -1, "accepted: %s", text);
	cr_assert(strstr(err, want), "error \"%s\" lacks \"%s\"", err, want);
}

Test(subscribers, bad_files_name_line_column_and_key)
{
	expect_error("subscribers:\n  - identity: a\n    k: 465b\n    opc: cd63cb71954a9f4e48a5994e37a02baf\n",
		     ":3:8: subscribers[0].k: expected 32 hex digits");
	expect_error("subscribers:\n  - identity: a\n    k: 465b5ce8b199b49faa5f0a2ee238a6bc\n",
		     "exactly one of opc and op");
	expect_error("subscribers:\n  - identity: a\n    k: 465b5ce8b199b49faa5f0a2ee238a6bz\n    op: cdc202d5123e20f62b6d676ac72cb318\n",
		     "subscribers[0].k: expected hex digits");
	expect_error("subscribers:\n  - { identity: a, k: 465b5ce8b199b49faa5f0a2ee238a6bc, opc: cd63cb71954a9f4e48a5994e37a02baf }\n"
		     "  - { identity: a, k: 465b5ce8b199b49faa5f0a2ee238a6bc, opc: cd63cb71954a9f4e48a5994e37a02baf }\n",
		     "identity a appears twice");
	expect_error("subscribers:\n  - { identity: a, k: 465b5ce8b199b49faa5f0a2ee238a6bc, opc: cd63cb71954a9f4e48a5994e37a02baf, ki: 1 }\n",
		     "ki");
	expect_error("subscribers: []\n", "non-empty list");
	expect_error("subscriber:\n", "subscriber");
}
