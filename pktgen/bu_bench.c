/*
 * The Binding Update procedure engine alone (controlplane/cp_bu.c), for the BU-storm figure of
 * issue 4: N UEs register, refresh and hand over, each BU decoded from its wire form first
 * (the codec's cost counted), under its own signalling SA. Prints BUs per second on one core
 * and the per-BU latency (median, p99). The rings, ESP and hadp are not in this figure.
 *
 * usage: ha-bu-bench [UES]   (default 100000)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cp_bu.h"

static uint64_t ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	if (n == 0 || n > 60000 * 16) {
		fprintf(stderr, "usage: ha-bu-bench [UES (1..960000)]\n");
		return 2;
	}
	/* a configuration with one transport SA pair per UE, as the YAML would give them */
	struct ha_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.dataplane.max_bindings = n;
	cfg.home_agent.lifetime_max = 3600;
	cfg.home_agent.refresh_advice_percent = 80;
	cfg.n_pdns = 1;
	inet_pton(AF_INET6, "2001:db8:100::", &cfg.pdns[0].pool6);
	cfg.pdns[0].pool6_len = 40;
	cfg.pdns[0].home_prefix_len = 64;
	cfg.pdns[0].has_ipv4_pool = true;
	inet_pton(AF_INET, "10.0.0.0", &cfg.pdns[0].pool4);
	cfg.pdns[0].pool4_len = 8;
	cfg.n_static_sas = 0; /* filled into the context directly below */
	struct cp_ctx c;
	if (cp_ctx_init(&c, &cfg) < 0)
		return 1;
	cp_sigsa_clear(&c.sigsa);
	struct in6_addr *hoa = calloc(n, sizeof(*hoa));
	uint64_t *lat = calloc((size_t)n * 3, sizeof(*lat));
	if (!hoa || !lat)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		inet_pton(AF_INET6, "2001:db8:100::55", &hoa[i]);
		hoa[i].s6_addr[5] = (uint8_t)(i >> 16);
		hoa[i].s6_addr[6] = (uint8_t)(i >> 8);
		hoa[i].s6_addr[7] = (uint8_t)i;
		if (cp_sigsa_add(&c.sigsa, 0, 0, &hoa[i], 0x10000 + i, true) < 0 ||
		    cp_sigsa_add(&c.sigsa, 0, 0, &hoa[i], 0x20000000 + i, false) < 0)
			return 1;
	}

	const char *phase[3] = { "initial registration", "refresh", "handover" };
	uint64_t total_ns = 0, k = 0;
	struct in6_addr coa, ha;
	inet_pton(AF_INET6, "2001:db8:ffff::1", &ha);
	for (int ph = 0; ph < 3; ph++) {
		uint64_t t0 = ns();
		for (unsigned i = 0; i < n; i++) {
			/* the BU as it arrives: built, then decoded like hacpd decodes it */
			struct mh_msg bu = { .type = MH_TYPE_BU }, m;
			bu.bu = (struct mh_bu){ .seq = (uint16_t)(ph + 1), .lifetime = 450,
						.flags = MH_BU_A | MH_BU_H | MH_BU_K | MH_BU_R };
			bu.opts.ipv4_hoa.prefix_len = 32;
			MH_SET_OPT(&bu.opts, MH_OPT_IPV4_HOA);
			uint8_t wire[64];
			struct mh_pseudo ps = { hoa[i], ha };
			int len = mh_build(&bu, &ps, wire, sizeof(wire));
			inet_pton(AF_INET6, ph == 2 ? "2001:db8:bbbb::" : "2001:db8:aaaa::", &coa);
			coa.s6_addr[15] = (uint8_t)i;
			uint64_t s = ns();
			if (len < 0 || mh_parse(wire, (size_t)len, &ps, &m) != HA_OK)
				return 1;
			struct cp_bu_in in = { .bu = &m, .src6 = coa, .has_hao = true, .hoa = hoa[i],
					       .esp = true, .sa_spi = 0x10000 + i, .now = 1 };
			struct cp_bu_out out;
			cp_bu_process(&c, &in, &out);
			uint8_t ba[256];
			struct mh_pseudo pb = { ha, hoa[i] };
			if (out.ba.ba.status != MH_BA_ACCEPTED || mh_build(&out.ba, &pb, ba, sizeof(ba)) < 0)
				return 1;
			lat[k++] = ns() - s;
		}
		uint64_t dt = ns() - t0;
		total_ns += dt;
		printf("%-22s %9.0f BU/s\n", phase[ph], n / (dt / 1e9));
	}
	qsort(lat, k, sizeof(*lat), cmp64);
	printf("all %llu BUs: %.0f BU/s on one core; per BU (decode, procedure, BA encode): "
	       "median %.2f us, p99 %.2f us; %u bindings, %u IPv4 addresses in use\n",
	       (unsigned long long)k, k / (total_ns / 1e9), lat[k / 2] / 1e3, lat[k * 99 / 100] / 1e3,
	       c.cache.count, cp_pool4_used(&c.pool4[0]));
	/* hacpd's once-a-second lifetime check with every binding alive: what it costs the loop */
	struct ha_binding_spec del[64];
	uint64_t t1 = ns();
	unsigned gone = 0;
	for (uint64_t sec = 2; sec < 102; sec++)
		gone += cp_expire(&c, sec, del, 64);
	printf("lifetime check, once a second with %u bindings alive: %.2f us per second "
	       "(%u expired)\n", c.cache.count, (ns() - t1) / 100 / 1e3, gone);
	cp_ctx_free(&c);
	free(hoa);
	free(lat);
	return 0;
}
