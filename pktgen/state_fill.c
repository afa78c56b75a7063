/*
 * ha-state-fill: hacpd's state files (docs/restarts.md) filled with N bindings, the first M of
 * them UEs whose payload is protected by an ESP child SA pair (an IKE session and the SAs'
 * specs, as charon's plugin would have handed them over), written with hacpd's own code as a
 * hacpd that served them would leave them. For the restart benchmark (pktgen/restart_bench.py):
 * a hadp started under them gets every binding and SA from hacpd.
 *
 * Plain bindings: home prefixes from the first PDN's pool (from its 2^23rd /64 on, clear of
 * what IKE gives out), care-of addresses 2001:db8:aaaa::/64 + i. Payload UEs: NAI
 * ueI@bench, the prefix IKE gives them, SPIs 0x10000000 + I (in) and 0x20000000 + I (out),
 * AES-GCM-128.
 *
 * usage: ha-state-fill -c CONFIG --bindings N [--payload M]   (the state files must not exist)
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cp_bu.h"
#include "cp_ike.h"
#include "cp_state.h"

static void prefix_plus(struct in6_addr *p, uint64_t n)
{
	uint64_t hi = 0;
	for (int i = 0; i < 8; i++)
		hi = hi << 8 | p->s6_addr[i];
	hi += n;
	for (int i = 7; i >= 0; i--, hi >>= 8)
		p->s6_addr[i] = (uint8_t)hi;
}

static struct cp_binding *add_binding(struct cp_ctx *cp, const struct in6_addr *prefix, uint32_t i,
			       uint64_t now)
{
	struct cp_binding *b = cp_bcache_alloc(&cp->cache);
	if (!b)
		return NULL;
	cp_bkey_make(&b->key, prefix, 64);
	b->hoa = *prefix;
	b->hoa.s6_addr[15] = 1;
	b->pdn = 0;
	b->coa.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:aaaa::", &b->coa.v6);
	b->coa.v6.s6_addr[12] = (uint8_t)(i >> 24);
	b->coa.v6.s6_addr[13] = (uint8_t)(i >> 16);
	b->coa.v6.s6_addr[14] = (uint8_t)(i >> 8);
	b->coa.v6.s6_addr[15] = (uint8_t)(i | 1);
	b->seq = 1;
	b->lifetime = 3600;
	cp_bcache_insert(&cp->cache, b);
	cp_bcache_set_expiry(&cp->cache, b, now + b->lifetime);
	return b;
}

static int sa_pair(struct cp_ike *ike, struct cp_replay *replay, const struct ha_config *cfg,
		   uint32_t id, const struct cp_binding *b)
{
	for (unsigned d = 0; d < 2; d++) {
		struct ha_ike_sa_add m = {
			.h = { .version = HA_IKE_VERSION, .type = HA_IKE_SA_ADD, .len = sizeof(m),
			       .seq = id, .ike_sa = id },
			.sa = { .spi = (d ? 0x20000000u : 0x10000000u) + id, .direction = (uint8_t)d,
				.mode = HA_SA_TUNNEL, .family = AF_INET6,
				.encryption = HA_CFG_ENC_AES_GCM_128, .integrity = HA_CFG_INTEG_NONE,
				.key_len = 20, .replay_window = d ? 0 : 64 },
			.reqid = id, .ts_remote_len = 64,
		};
		memcpy(m.sa.local, &cfg->home_agent.ipv6_address, 16);
		memcpy(m.sa.peer, &b->coa.v6, 16);
		for (unsigned k = 0; k < 20; k++)
			m.sa.key[k] = (uint8_t)(id * 7 + k + d);
		memcpy(m.ts_remote, b->key.prefix, 16);
		struct ha_cmd c = { .type = HA_CMD_SA_ADD };
		struct ha_binding_spec rebind;
		bool has;
		if (cp_ike_sa_add(ike, &m, &c.sa, &rebind, &has) < 0)
			return -1;
		cp_replay_note(replay, &c);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' }, { "bindings", required_argument, NULL, 'n' },
		{ "payload", required_argument, NULL, 'p' }, { NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	uint32_t n = 0, m = 0;
	int o;
	while ((o = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		if (o == 'c')
			config = optarg;
		else if (o == 'n')
			n = (uint32_t)strtoul(optarg, NULL, 10);
		else if (o == 'p')
			m = (uint32_t)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (!config || m > n) {
		fprintf(stderr, "usage: ha-state-fill -c CONFIG --bindings N [--payload M <= N]\n");
		return 2;
	}
	static struct ha_config cfg;
	struct ha_config_error err;
	if (ha_config_load_file(config, &cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (!cfg.n_pdns || (m && !cfg.ike.enabled)) {
		fprintf(stderr, "ha-state-fill: needs a PDN, and IKE on for payload SAs\n");
		return 1;
	}
	static struct cp_state st;
	static struct cp_ctx cp;
	static struct cp_ike ike;
	char serr[600];
	if (cp_state_open(&st, &cfg, serr, sizeof(serr)) < 0 || st.bindings.adopted) {
		fprintf(stderr, "ha-state-fill: %s\n", st.bindings.adopted ?
			"the state files exist: remove them first" : serr);
		return 1;
	}
	if (cp_ctx_init_store(&cp, &cfg, st.bindings.records, false) < 0 ||
	    (m && cp_ike_init_store(&ike, &cp, st.ike.records, cfg.ike.max_sessions, false) < 0)) {
		fprintf(stderr, "ha-state-fill: out of memory\n");
		return 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* hacpd's clock for expiries */
	if (m)
		cp_ike_hello(&ike, 1, (uint64_t)ts.tv_sec);
	uint32_t made = 0, sas = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct in6_addr prefix = cfg.pdns[0].pool6;
		if (i < m) {
			struct ha_ike_prefix_req rq = {
				.h = { .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REQ,
				       .len = sizeof(rq), .seq = i + 1, .ike_sa = i + 1 },
			};
			struct ha_ike_prefix_rep rep;
			struct cp_ike_gone left; /* nothing: every session is new */
			snprintf(rq.nai, sizeof(rq.nai), "ue%u@bench", i);
			cp_ike_prefix(&ike, &rq, &rep, &left);
			if (rep.result < 0)
				break;
			memcpy(&prefix, rep.prefix, 16);
		} else {
			prefix_plus(&prefix, (UINT64_C(1) << 23) + i);
		}
		struct cp_binding *b = add_binding(&cp, &prefix, i, (uint64_t)ts.tv_sec);
		if (!b)
			break;
		made++;
		if (i < m && sa_pair(&ike, &st.replay, &cfg, i + 1, b) == 0)
			sas += 2;
	}
	printf("ha-state-fill: %u bindings, %u of them with a payload SA pair (%u SAs) in %s\n",
	       made, sas / 2, st.replay.sa_count, st.bindings.path);
	int rc = made == n && sas == 2 * m ? 0 : 1;
	if (m)
		cp_ike_free(&ike);
	cp_ctx_free(&cp);
	cp_state_close(&st);
	ha_config_free(&cfg);
	return rc;
}
