/*
 * esp-bench: cycles per packet of the ESP engine, measured with rte_rdtsc() around
 * dp_esp_encrypt_burst() / dp_esp_decrypt_burst() only (refilling the mbufs between bursts is
 * outside the timed region). Tunnel mode, bursts of 32, one SA, one lcore.
 *
 * usage: [ESP_BENCH_LCORE=CPU] esp-bench [ITERATIONS [ALGORITHM [BYTES]]]
 *        ITERATIONS bursts per size (default 20000); only ALGORITHM (e.g. aes-gcm-128) and
 *        inner packet size BYTES if given
 * Prints, per algorithm and inner packet size: encrypt and decrypt cycles/packet, the median
 * and the best of 5 runs (the best is the one least disturbed by other load on the machine),
 * and the encrypt rate in Gbit/s of inner packets on this core at the TSC frequency (median).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_esp.h"
#include "dp_runtime_dir.h"

#define BURST 32
#define RUNS 5

static unsigned inner_v6(uint8_t *b, unsigned len)
{
	memset(b, 0x5a, len);
	b[0] = 0x60;
	b[1] = b[2] = b[3] = 0;
	b[4] = (uint8_t)((len - 40) >> 8);
	b[5] = (uint8_t)(len - 40);
	b[6] = 17;
	return len;
}

static void refill(struct rte_mbuf **m, const uint8_t *pkt, unsigned len)
{
	for (unsigned i = 0; i < BURST; i++) {
		rte_pktmbuf_reset(m[i]);
		memcpy(rte_pktmbuf_append(m[i], (uint16_t)len), pkt, len);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct algo {
	const char *name;
	uint8_t enc, integ, key_len, akey_len;
};

int main(int argc, char **argv)
{
	static const struct algo algos[] = {
		{"aes-gcm-128", HA_CFG_ENC_AES_GCM_128, HA_CFG_INTEG_NONE, 20, 0},
		{"aes-gcm-256", HA_CFG_ENC_AES_GCM_256, HA_CFG_INTEG_NONE, 36, 0},
		{"aes-cbc-128/hmac-sha1-96", HA_CFG_ENC_AES_CBC_128, HA_CFG_INTEG_HMAC_SHA1_96, 16, 20},
		{"aes-cbc-256/hmac-sha256-128", HA_CFG_ENC_AES_CBC_256, HA_CFG_INTEG_HMAC_SHA256_128, 32, 32},
		{"null/hmac-sha256-128", HA_CFG_ENC_NULL, HA_CFG_INTEG_HMAC_SHA256_128, 0, 32},
	};
	static const unsigned sizes[] = {64, 512, 1400};
	const unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : 20000;
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=esp_bench_%d", (int)getpid());
	char lcore[16] = "0";
	if (getenv("ESP_BENCH_LCORE") != NULL) /* the CPU to run on */
		snprintf(lcore, sizeof(lcore), "%s", getenv("ESP_BENCH_LCORE"));
	char *eal[] = {argv[0], "--no-huge", "--no-pci", "--no-telemetry", "-m", "256", prefix,
		       "--log-level=*:error", "-l", lcore, NULL};
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "esp-bench: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
							 SOCKET_ID_ANY);
	struct dp_esp_ctx *ctx = rte_zmalloc("ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE);
	struct rte_mbuf *m[BURST];
	if (mp == NULL || ctx == NULL || dp_esp_ctx_init(ctx, SOCKET_ID_ANY) != 0 ||
	    rte_pktmbuf_alloc_bulk(mp, m, BURST) != 0) {
		fprintf(stderr, "esp-bench: setup failed\n");
		return 1;
	}
	const double hz = (double)rte_get_tsc_hz();
	printf("TSC %.3f GHz, IPsec-MB %s, burst %d, %u bursts x %d runs (median)\n", hz / 1e9,
	       imb_get_version_str(), BURST, iters, RUNS);
	printf("%-28s %6s %17s %17s %10s\n", "algorithm", "bytes", "enc cyc/pkt", "dec cyc/pkt",
	       "enc Gbit/s");
	printf("%-28s %6s %17s %17s %10s\n", "", "", "median (best)", "median (best)", "median");

	for (unsigned a = 0; a < RTE_DIM(algos); a++)
		for (unsigned z = 0; z < RTE_DIM(sizes); z++) {
			if ((argc > 2 && strcmp(argv[2], algos[a].name) != 0) ||
			    (argc > 3 && (unsigned)atoi(argv[3]) != sizes[z]))
				continue;
			struct ha_sa_spec s;
			uint8_t pkt[2048], esp[BURST][2048], drop[BURST];
			uint16_t esp_len[BURST], off[BURST];
			uint64_t enc_run[RUNS], dec_run[RUNS];

			memset(&s, 0, sizeof(s));
			s.spi = 0x1000;
			s.mode = HA_SA_TUNNEL;
			s.encryption = algos[a].enc;
			s.integrity = algos[a].integ;
			s.key_len = algos[a].key_len;
			s.auth_key_len = algos[a].akey_len;
			memset(s.key, 0x11, s.key_len);
			memset(s.auth_key, 0x22, s.auth_key_len);
			s.direction = HA_SA_OUT;
			struct dp_sa *out = dp_sa_create(&s, SOCKET_ID_ANY);
			s.direction = HA_SA_IN;
			s.replay_window = 0; /* the same packets again and again */
			struct dp_sa *in = dp_sa_create(&s, SOCKET_ID_ANY);
			struct dp_sa *outs[BURST], *ins[BURST];
			for (unsigned i = 0; i < BURST; i++) {
				outs[i] = out;
				ins[i] = in;
				off[i] = 0;
			}
			const unsigned len = inner_v6(pkt, sizes[z]);

			for (unsigned r = 0; r < RUNS; r++) {
				uint64_t cyc = 0;

				for (unsigned it = 0; it < iters; it++) {
					refill(m, pkt, len);
					const uint64_t t0 = rte_rdtsc_precise();
					const uint16_t ok = dp_esp_encrypt_burst(ctx, m, outs, BURST, drop);
					cyc += rte_rdtsc_precise() - t0;
					if (ok != BURST) {
						fprintf(stderr, "encrypt failed: %s\n", dp_esp_error_name(drop[0]));
						return 1;
					}
				}
				enc_run[r] = cyc;
			}
			for (unsigned i = 0; i < BURST; i++) {
				esp_len[i] = m[i]->data_len;
				memcpy(esp[i], rte_pktmbuf_mtod(m[i], void *), esp_len[i]);
			}
			for (unsigned r = 0; r < RUNS; r++) {
				uint64_t cyc = 0;

				for (unsigned it = 0; it < iters; it++) {
					for (unsigned i = 0; i < BURST; i++) {
						rte_pktmbuf_reset(m[i]);
						memcpy(rte_pktmbuf_append(m[i], esp_len[i]), esp[i], esp_len[i]);
					}
					const uint64_t t0 = rte_rdtsc_precise();
					const uint16_t ok = dp_esp_decrypt_burst(ctx, m, ins, off, BURST, drop);
					cyc += rte_rdtsc_precise() - t0;
					if (ok != BURST) {
						fprintf(stderr, "decrypt failed: %s\n", dp_esp_error_name(drop[0]));
						return 1;
					}
				}
				dec_run[r] = cyc;
			}
			qsort(enc_run, RUNS, sizeof(enc_run[0]), cmp_u64);
			qsort(dec_run, RUNS, sizeof(dec_run[0]), cmp_u64);
			const double per = (double)iters * BURST;
			const double enc = (double)enc_run[RUNS / 2] / per;
			const double dec = (double)dec_run[RUNS / 2] / per;
			printf("%-28s %6u %9.1f (%5.1f) %9.1f (%5.1f) %10.2f\n", algos[a].name, sizes[z],
			       enc, (double)enc_run[0] / per, dec, (double)dec_run[0] / per,
			       hz / enc * len * 8 / 1e9);
			dp_sa_free(out);
			dp_sa_free(in);
		}

	rte_pktmbuf_free_bulk(m, BURST);
	dp_esp_ctx_free(ctx);
	rte_free(ctx);
	rte_mempool_free(mp);
	dp_sa_key_mgr_release();
	dp_eal_cleanup();
	return 0;
}
