/*
 * The ports' queue plan (dataplane/dp_port.h), without devices: how many RX and TX queues a
 * port gets from the workers, the configuration and what the device allows, and which TX
 * queue each thread sends on. The cases are the devices hadp meets: a NIC with RSS, net_tap
 * (RX and TX counts equal), net_af_packet (qpairs=1 and 2: every queue made with the device
 * receives), net_pcap (one stream each way), net_memif.
 */
#include <criterion/criterion.h>
#include <stdbool.h>

#include "dp_port.h"

static const struct dp_port_caps nic = { .max_rx = 128, .max_tx = 128 }; /* RSS: configure's */
static const struct dp_port_caps tap = { .max_rx = 16, .max_tx = 16, .equal = true };
static const struct dp_port_caps afp1 = { .max_rx = 1, .max_tx = 1, .rx_fixed = true };
static const struct dp_port_caps afp2 = { .max_rx = 2, .max_tx = 2, .rx_fixed = true };
static const struct dp_port_caps pcap = { .max_rx = 1, .max_tx = 1, .rx_fixed = true };
static const struct dp_port_caps memif = { .max_rx = 255, .max_tx = 255 };

static struct dp_queue_plan plan_ok(const struct dp_port_caps *c, unsigned workers,
				    unsigned rx, unsigned tx)
{
	struct dp_queue_plan p = { 0 };
	char err[256] = "";
	cr_assert_eq(dp_port_plan(c, workers, rx, tx, &p, err, sizeof(err)), 0, "%s", err);
	return p;
}

static void plan_refused(const struct dp_port_caps *c, unsigned workers, unsigned rx,
			 unsigned tx, const char *says)
{
	struct dp_queue_plan p = { 0 };
	char err[256] = "";
	cr_assert_eq(dp_port_plan(c, workers, rx, tx, &p, err, sizeof(err)), -1);
	cr_expect(strstr(err, says) != NULL, "'%s' does not say '%s'", err, says);
}

Test(dp_port, nic_one_queue_per_worker_and_one_more_for_tx)
{
	struct dp_queue_plan p = plan_ok(&nic, 4, 0, 0);
	cr_expect_eq(p.n_rxq, 4);
	cr_expect_eq(p.n_txq, 5);
	p = plan_ok(&nic, 2, 8, 3); /* more RX queues than workers: they are shared out */
	cr_expect_eq(p.n_rxq, 8);
	cr_expect_eq(p.n_txq, 3);
}

Test(dp_port, tap_gets_equal_counts_with_the_extra_rx_polled)
{
	/* net_tap: "number of rx queues 1 must be equal to number of tx queues 2" before */
	struct dp_queue_plan p = plan_ok(&tap, 1, 0, 0);
	cr_expect_eq(p.n_rxq, 2);
	cr_expect_eq(p.n_txq, 2);
	p = plan_ok(&tap, 2, 0, 1); /* the TX count given wins: threads then share it */
	cr_expect_eq(p.n_rxq, 1);
	cr_expect_eq(p.n_txq, 1);
	plan_refused(&tap, 2, 2, 3, "as many RX as TX");
}

Test(dp_port, af_packet_every_queue_it_was_made_with_is_polled)
{
	struct dp_queue_plan p = plan_ok(&afp1, 1, 0, 0);
	cr_expect_eq(p.n_rxq, 1);
	cr_expect_eq(p.n_txq, 1); /* one for two threads: shared */
	p = plan_ok(&afp2, 1, 0, 0); /* one worker, two queues: both polled (one was never) */
	cr_expect_eq(p.n_rxq, 2);
	cr_expect_eq(p.n_txq, 2);
	p = plan_ok(&afp2, 2, 0, 0);
	cr_expect_eq(p.n_rxq, 2);
	cr_expect_eq(p.n_txq, 2);
	plan_refused(&afp2, 1, 1, 0, "receives on every one");
	plan_refused(&afp1, 1, 0, 2, "at most 1");
}

Test(dp_port, pcap_and_memif)
{
	struct dp_queue_plan p = plan_ok(&pcap, 2, 0, 0);
	cr_expect_eq(p.n_rxq, 1);
	cr_expect_eq(p.n_txq, 1);
	p = plan_ok(&memif, 2, 0, 0);
	cr_expect_eq(p.n_rxq, 2);
	cr_expect_eq(p.n_txq, 3);
	plan_refused(&memif, 1, 300, 0, "at most 255");
}

/* Every thread (workers, then the control thread) gets a queue below n_txq, and a queue is
 * marked shared exactly when more than one thread sends on it. */
static void check_txq(unsigned workers, unsigned n_txq)
{
	unsigned users[256] = { 0 };
	uint16_t q[257];
	bool shared[257];
	for (unsigned t = 0; t <= workers; t++) {
		q[t] = dp_txq_of(t, workers, n_txq, &shared[t]);
		cr_assert_lt(q[t], n_txq, "thread %u of %u on queue %u of %u", t, workers, q[t], n_txq);
		users[q[t]]++;
	}
	for (unsigned t = 0; t <= workers; t++)
		cr_expect_eq(shared[t], users[q[t]] > 1, "workers %u, %u queues: thread %u on %u",
			     workers, n_txq, t, q[t]);
}

Test(dp_port, tx_queues_own_where_enough_shared_and_locked_where_not)
{
	for (unsigned workers = 1; workers <= 8; workers++)
		for (unsigned n = 1; n <= 10; n++)
			check_txq(workers, n);
	bool s;
	cr_expect_eq(dp_txq_of(1, 1, 2, &s), 1); /* the control thread: the last queue, its own */
	cr_expect_not(s);
	cr_expect_eq(dp_txq_of(0, 1, 1, &s), 0); /* one queue: worker and control thread share */
	cr_expect(s);
}
