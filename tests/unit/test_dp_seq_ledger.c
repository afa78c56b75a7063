/*
 * The ESP sequence ledger (dataplane/dp_seq_ledger.h) and the state file under it
 * (shared/ha_state_file.h): an SA installed again after a restart of hadp, with the same key,
 * never uses a sequence number it may have used (RFC 4303 3.3.3; AES-GCM's IV is the number,
 * RFC 4106 3.1) and never accepts one it accepted (RFC 4303 3.4.3); a state file this build
 * cannot read is refused, never misread. EAL in memory; the files in a fresh directory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include "dp_runtime_dir.h"
#include "dp_sa.h"
#include "dp_sa_table.h"
#include "dp_seq_ledger.h"

static char dir[128];

static void setup(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=ut_ledger_%d", getpid());
	char *argv[] = { "test", "--no-huge", "--no-pci", "--no-telemetry", "-m", "256",
			 "--log-level=*:error", prefix, NULL };
	cr_assert_geq(rte_eal_init(8, argv), 0, "EAL");
	snprintf(dir, sizeof(dir), "/tmp/ut-ledger-%d", getpid());
}

static void teardown(void)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	dp_sa_key_mgr_release();
	dp_eal_cleanup();
}

TestSuite(ledger, .init = setup, .fini = teardown);

static struct ha_sa_spec spec(uint32_t spi, uint8_t dir_, uint8_t key_byte)
{
	struct ha_sa_spec s = { .spi = spi, .direction = dir_, .mode = HA_SA_TUNNEL,
				.family = AF_INET6, .encryption = HA_CFG_ENC_AES_GCM_128,
				.integrity = HA_CFG_INTEG_NONE, .key_len = 20,
				.replay_window = dir_ == HA_SA_IN ? 64 : 0 };
	memset(s.key, key_byte, 20);
	return s;
}

/* An SA compiled and attached to its record, as dp_sa_table_add does. */
static struct dp_sa *install(struct dp_seq_ledger *l, const struct ha_sa_spec *s)
{
	struct dp_sa *sa = dp_sa_create(s, SOCKET_ID_ANY);
	cr_assert_not_null(sa);
	struct dp_seq_rec *r = dp_seq_ledger_claim(l, s);
	cr_assert_not_null(r);
	dp_sa_attach_ledger(sa, r);
	return sa;
}

static void uninstall(struct dp_seq_ledger *l, struct dp_sa *sa)
{
	dp_seq_ledger_release(l, sa->conf.ledger);
	dp_sa_free(sa);
}

/* What dp_esp's encrypt does per packet. */
static uint64_t next_out(struct dp_sa *sa)
{
	if (sa->seq >= sa->seq_stop)
		cr_assert(dp_sa_seq_reserve(sa));
	return ++sa->seq;
}

Test(ledger, outbound_resumes_above_every_reserved_number)
{
	struct dp_seq_ledger l;
	char err[512];
	cr_assert_eq(dp_seq_ledger_open(&l, dir, 16, err, sizeof(err)), 0, "%s", err);
	struct ha_sa_spec s = spec(0x100, HA_SA_OUT, 0xAA);
	struct dp_sa *sa = install(&l, &s);
	for (uint64_t i = 1; i <= 5000; i++)
		cr_assert_eq(next_out(sa), i);
	cr_assert_eq(sa->conf.ledger->out_reserved, 2 * DP_SEQ_BLOCK,
		     "the block holding 5000 written before its first number was used");
	/* hadp dies: no release, no close; a new run opens the file */
	struct dp_seq_ledger l2;
	cr_assert_eq(dp_seq_ledger_open(&l2, dir, 16, err, sizeof(err)), -EEXIST,
		     "the file is locked while the dead run's mapping is open (here: still ours)");
	dp_sa_free(sa);
	dp_seq_ledger_close(&l);
	cr_assert_eq(dp_seq_ledger_open(&l2, dir, 16, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(l2.adopted, 1);
	struct dp_sa *again = install(&l2, &s);
	cr_assert_eq(next_out(again), 2 * DP_SEQ_BLOCK + 1, "above everything reserved");
	/* the same SPI under another key starts afresh */
	struct ha_sa_spec other = spec(0x100, HA_SA_OUT, 0xBB);
	uninstall(&l2, again);
	struct dp_sa *fresh = install(&l2, &other);
	cr_assert_eq(next_out(fresh), 1);
	uninstall(&l2, fresh);
	dp_seq_ledger_close(&l2);
}

Test(ledger, replacement_of_one_key_never_shares_a_number)
{
	struct dp_seq_ledger l;
	char err[512];
	cr_assert_eq(dp_seq_ledger_open(&l, dir, 16, err, sizeof(err)), 0, "%s", err);
	struct ha_sa_spec s = spec(0x200, HA_SA_OUT, 0x11);
	struct dp_sa *old = install(&l, &s), *new = install(&l, &s);
	uint64_t a = next_out(old), b = next_out(new), c = next_out(old);
	cr_assert(a == 1 && b == DP_SEQ_BLOCK + 1 && c == 2,
		  "each SA of the key its own block: %llu %llu %llu", (unsigned long long)a,
		  (unsigned long long)b, (unsigned long long)c);
	uninstall(&l, old);
	uninstall(&l, new);
	dp_seq_ledger_close(&l);
}

/* The HA's outbound SPIs are the UEs' choice (RFC 4301 4.1): two UEs may choose one. The
 * second UE's SA must not replace the first's (its packets would go out under the second's
 * key); the same SA again (a new NAT port, a moved peer) still replaces it. */
Test(ledger, another_keys_sa_cannot_take_an_spi)
{
	struct dp_seq_ledger l;
	char err[512];
	cr_assert_eq(dp_seq_ledger_open(&l, dir, 16, err, sizeof(err)), 0, "%s", err);
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *q = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	cr_assert(q && rte_rcu_qsbr_init(q, 1) == 0);
	struct dp_sa_table *t = dp_sa_table_create(8, SOCKET_ID_ANY, q, 1, &l);
	cr_assert_not_null(t);
	struct ha_sa_spec ue1 = spec(0x300, HA_SA_OUT, 0x21), ue2 = spec(0x300, HA_SA_OUT, 0x22);
	cr_expect_eq(dp_sa_table_add(t, &ue1, SOCKET_ID_ANY), 0);
	cr_expect_eq(dp_sa_table_add(t, &ue2, SOCKET_ID_ANY), -EEXIST, "another key took the SPI");
	struct dp_sa *sa = dp_sa_table_find(t, 0x300, HA_SA_OUT);
	cr_assert_not_null(sa);
	cr_expect(dp_seq_ledger_same_key(&l, sa->conf.ledger, &ue1), "the first UE's SA stays");
	cr_expect_eq(dp_sa_table_add(t, &ue1, SOCKET_ID_ANY), 0, "the same SA again replaces");
	cr_expect_eq(dp_sa_table_count(t), 1);
	cr_expect_eq(dp_sa_table_delete(t, 0x300, HA_SA_OUT), 0);
	cr_expect_eq(dp_sa_table_add(t, &ue2, SOCKET_ID_ANY), 0, "free again after a delete");
	cr_expect_eq(dp_sa_table_delete(t, 0x300, HA_SA_OUT), 0);
	dp_sa_table_reclaim(t);
	dp_sa_table_free(t);
	rte_free(q);
	dp_seq_ledger_close(&l);
}

Test(ledger, inbound_accepts_nothing_it_accepted)
{
	struct dp_seq_ledger l;
	char err[512];
	cr_assert_eq(dp_seq_ledger_open(&l, dir, 16, err, sizeof(err)), 0, "%s", err);
	struct ha_sa_spec s = spec(0x300, HA_SA_IN, 0x22);
	struct dp_sa *sa = install(&l, &s);
	for (uint64_t q = 1; q <= 10; q++) {
		cr_assert_eq(dp_sa_replay_check(sa, q), DP_SA_REPLAY_OK);
		dp_sa_replay_update(sa, q);
	}
	cr_assert_eq(sa->conf.ledger->in_seen, 10);
	dp_sa_free(sa);
	dp_seq_ledger_close(&l);
	cr_assert_eq(dp_seq_ledger_open(&l, dir, 16, err, sizeof(err)), 0, "%s", err);
	sa = install(&l, &s);
	for (uint64_t q = 1; q <= 10; q++)
		cr_assert_neq(dp_sa_replay_check(sa, q), DP_SA_REPLAY_OK, "%llu accepted again",
			      (unsigned long long)q);
	cr_assert_eq(dp_sa_replay_check(sa, 11), DP_SA_REPLAY_OK, "the peer's next one passes");
	uninstall(&l, sa);
	dp_seq_ledger_close(&l);
}

Test(ledger, retired_records_are_kept_then_the_oldest_reused)
{
	struct dp_seq_ledger l;
	char err[512];
	cr_assert_eq(dp_seq_ledger_open(&l, dir, 2, err, sizeof(err)), 0, "%s", err);
	struct ha_sa_spec a = spec(1, HA_SA_OUT, 1), b = spec(2, HA_SA_OUT, 2),
			  c = spec(3, HA_SA_OUT, 3);
	struct dp_sa *sa = install(&l, &a);
	next_out(sa);
	uninstall(&l, sa);
	sa = install(&l, &b);
	uninstall(&l, sa);
	/* deleted and added again with its key (a reload): it resumes */
	sa = install(&l, &a);
	cr_assert_eq(next_out(sa), DP_SEQ_BLOCK + 1);
	/* full of a live SA and a retired one: a third takes the retired record */
	struct dp_sa *third = install(&l, &c);
	cr_assert_eq(next_out(third), 1);
	struct ha_sa_spec d = spec(4, HA_SA_OUT, 4);
	cr_assert_null(dp_seq_ledger_claim(&l, &d), "no record while both are in use");
	uninstall(&l, third);
	uninstall(&l, sa);
	dp_seq_ledger_close(&l);
}

Test(ledger, a_file_this_build_cannot_read_is_refused)
{
	struct ha_state_file f;
	char err[512];
	cr_assert_eq(ha_state_open(&f, dir, "x", "bindings", 3, 64, 10, err, sizeof(err)), 0);
	cr_assert_eq(f.hdr->generation, 1, "never 0: hadp's static bindings have generation 0");
	ha_state_close(&f);
	cr_assert_eq(ha_state_open(&f, dir, "x", "bindings", 4, 64, 10, err, sizeof(err)),
		     -EPROTO);
	cr_assert(strstr(err, "record version 3, this build reads version 4"), "%s", err);
	cr_assert_eq(ha_state_open(&f, dir, "x", "bindings", 3, 72, 10, err, sizeof(err)),
		     -EPROTO);
	cr_assert(strstr(err, "records of 64 octets"), "%s", err);
	cr_assert_eq(ha_state_open(&f, dir, "x", "bindings", 3, 64, 20, err, sizeof(err)),
		     -EPROTO);
	cr_assert(strstr(err, "made for 10 records, the configuration says 20"), "%s", err);
	cr_assert_eq(ha_state_open(&f, dir, "x", "sas", 3, 64, 10, err, sizeof(err)), -EPROTO);
	cr_assert(strstr(err, "not a state file of this kind"), "%s", err);
	cr_assert_eq(ha_state_open(&f, dir, "x", "bindings", 3, 64, 10, err, sizeof(err)), 0);
	cr_assert(f.adopted && f.hdr->generation == 2);
	ha_state_close(&f);
	/* sized but never given its header (a process stopped in between): a new file */
	char path[200];
	snprintf(path, sizeof(path), "%s/y", dir);
	FILE *y = fopen(path, "w");
	cr_assert_not_null(y);
	cr_assert_eq(ftruncate(fileno(y), sizeof(struct ha_state_hdr) + 10 * 64), 0);
	fclose(y);
	cr_assert_eq(ha_state_open(&f, dir, "y", "bindings", 3, 64, 10, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert(!f.adopted && f.hdr->generation == 1 && !strcmp(f.hdr->kind, "bindings"));
	ha_state_close(&f);
}
