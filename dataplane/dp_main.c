/*
 * hadp: the dataplane, a DPDK primary process.
 *
 *   hadp -c FILE [--check] [--stats-file PATH] [--exit-idle MS] [--max-seconds S]
 *
 * main() owns start-up and shutdown: configuration, EAL (arguments composed from the YAML),
 * mempool and rings under their shared names (shared/ha_ring.h), ports, tables, the workers;
 * then the main lcore becomes the control thread until SIGINT/SIGTERM.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_binding.h"
#include "dp_esp.h"
#include "dp_sa_table.h"
#include "dp_ctl.h"
#include "dp_instance.h"
#include "dp_runtime_dir.h"
#include "dp_seq_ledger.h"
#include "ha_state_file.h"
#include "dp_ctx.h"
#include "dp_local.h"
#include "dp_telemetry.h"
#include "ha_notify.h"
#include "ha_ring.h"
#include "ha_static.h"

#define PUNT_RING_SIZE 4096
#define TX_RING_SIZE 1024
#define CMD_RING_SIZE 4096

struct dp_ctx *dp_global;
static struct dp_ctx ctx_storage;

struct options {
	const char *config;
	const char *stats_file;
	bool check;
	unsigned exit_idle_ms;
	unsigned max_seconds;
};

static void on_signal(int sig)
{
	(void)sig;
	if (dp_global)
		dp_global->quit = true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hadp -c FILE [--check] [--stats-file PATH] [--exit-idle MS] "
		   "[--max-seconds S]\n"
		   "  -c, --config FILE    the appliance's YAML configuration\n"
		   "  --check              validate the configuration and exit\n"
		   "  --stats-file PATH    write the counters as JSON there at shutdown\n"
		   "  --exit-idle MS       stop once no packet arrived for MS ms (replays, tests)\n"
		   "  --max-seconds S      stop after S seconds\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "exit-idle", required_argument, NULL, 'i' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'k': o->check = true; break;
		case 's': o->stats_file = optarg; break;
		case 'i':
		case 'm': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v > 86400000) {
				fprintf(stderr, "hadp: bad number '%s'\n", optarg);
				return -1;
			}
			*(c == 'i' ? &o->exit_idle_ms : &o->max_seconds) = (unsigned)v;
			break;
		}
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (!o->config || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

#define HADP_BASE_VIRTADDR "0x200000000000" /* 32 TiB */

/* The EAL's arguments: the YAML's own, the lcores, and the two ports as devices. */
static int eal_args(const struct ha_config *cfg, char **argv, int max, char *buf, size_t bufsz)
{
	const struct ha_config_dataplane *dp = &cfg->dataplane;
	int argc = 0;
	size_t used = 0;

#define PUSH(...)                                                                            \
	do {                                                                                 \
		int w_ = snprintf(buf + used, bufsz - used, __VA_ARGS__);                    \
		if (w_ < 0 || (size_t)w_ >= bufsz - used || argc >= max - 1)                 \
			return -1;                                                           \
		argv[argc++] = buf + used;                                                   \
		used += (size_t)w_ + 1;                                                      \
	} while (0)

	PUSH("hadp");
	bool base_set = false;
	for (unsigned i = 0; i < dp->n_eal_args; i++) {
		PUSH("%s", dp->eal_args[i]);
		base_set |= !strncmp(dp->eal_args[i], "--base-virtaddr", 15);
	}
	/* hacpd and the diagnostics attach as secondary processes and must map hadp's memory at
	 * the same addresses: far above where libraries, heaps and AddressSanitizer's shadow
	 * (up to 16 TiB) land, it is free in them on every try */
	if (!base_set)
		PUSH("--base-virtaddr=%s", HADP_BASE_VIRTADDR);
	char lcores[2048];
	int l = dp->has_cpus ? snprintf(lcores, sizeof(lcores), "%u@%u", dp->main_lcore, dp->cpus[0])
			     : snprintf(lcores, sizeof(lcores), "%u", dp->main_lcore);
	for (unsigned i = 0; i < dp->n_workers && l > 0 && (size_t)l < sizeof(lcores); i++)
		l += dp->has_cpus ? snprintf(lcores + l, sizeof(lcores) - (size_t)l, ",%u@%u",
					     dp->workers[i], dp->cpus[i + 1])
				  : snprintf(lcores + l, sizeof(lcores) - (size_t)l, ",%u", dp->workers[i]);
	/* --lcores maps each lcore to its CPU (lcores.cpus); -l when they are the same */
	PUSH(dp->has_cpus ? "--lcores" : "-l");
	PUSH("%s", lcores);
	PUSH("--main-lcore=%u", dp->main_lcore);
	const struct ha_config_port *ports[2] = { &dp->access, &dp->core };
	for (int i = 0; i < 2; i++) {
		if (ports[i]->kind == HA_CFG_PORT_PCI) {
			PUSH("-a");
			PUSH("%s%s%s", ports[i]->device, ports[i]->devargs[0] ? "," : "",
			     ports[i]->devargs);
		} else {
			PUSH("--vdev=%s%s%s", ports[i]->device, ports[i]->devargs[0] ? "," : "",
			     ports[i]->devargs);
		}
	}
	argv[argc] = NULL;
	return argc;
#undef PUSH
}

/* The EAL leaves its hugepage files behind; a clean shutdown removes this run's. */
static void remove_hugepage_files(const char *prefix)
{
	FILE *mounts = fopen("/proc/mounts", "r");
	char line[1024], dir[512], type[64], want[300];

	if (!mounts)
		return;
	snprintf(want, sizeof(want), "%smap_", prefix);
	while (fgets(line, sizeof(line), mounts)) {
		if (sscanf(line, "%*s %511s %63s", dir, type) != 2 || strcmp(type, "hugetlbfs"))
			continue;
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (strncmp(e->d_name, want, strlen(want)))
				continue;
			char path[1024];
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
	}
	fclose(mounts);
}

static int install_static(struct dp_ctx *ctx, const struct ha_config_binding *c,
			  const char *section, unsigned index)
{
	struct ha_binding_spec s;
	ha_binding_spec_from_config(c, &s);
	struct dp_sa *out = NULL, *in = NULL;
	if (c->has_sa) {
		out = dp_sa_table_find(ctx->sas, c->sa_out, HA_SA_OUT);
		in = dp_sa_table_find(ctx->sas, c->sa_in, HA_SA_IN);
	}
	int rc = dp_binding_upsert(ctx->bindings, &s, 0, out, in);
	if (rc)
		RTE_LOG(ERR, USER1, "hadp: %s[%u]: %s\n", section, index, strerror(-rc));
	return rc;
}

static int tables_init(struct dp_ctx *ctx)
{
	const struct ha_config *cfg = ctx->cfg;
	size_t sz = rte_rcu_qsbr_get_memsize(ctx->n_workers);
	struct dp_bindings_params bp = {
		.max_bindings = cfg->dataplane.max_bindings,
		.socket_id = (int)rte_socket_id(),
		.ha4 = ctx->ha4,
	};

	ctx->qsbr = rte_zmalloc("hadp_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (!ctx->qsbr || rte_rcu_qsbr_init(ctx->qsbr, ctx->n_workers) != 0)
		return -ENOMEM;
	bp.qsbr = ctx->qsbr;
	memcpy(bp.ha6, ctx->ha6, 16);
	for (unsigned i = 0; i < cfg->n_pdns; i++) {
		bool seen = false;
		for (unsigned j = 0; j < bp.n_prefix_lens; j++)
			seen |= bp.prefix_lens[j] == cfg->pdns[i].home_prefix_len;
		if (!seen && bp.n_prefix_lens < RTE_DIM(bp.prefix_lens))
			bp.prefix_lens[bp.n_prefix_lens++] = cfg->pdns[i].home_prefix_len;
	}
	int rrc = dp_routes_create(&ctx->routes, &cfg->dataplane, bp.socket_id, ctx->qsbr);
	dp_neigh_init(&ctx->neigh, &cfg->dataplane);
	if (!rrc)
		rrc = dp_neigh_adopt(&ctx->neigh, ctx->routes.cur);
	if (rrc) {
		RTE_LOG(ERR, USER1, "hadp: dataplane.routes: %s\n", strerror(-rrc));
		return rrc;
	}
	ctx->bindings = dp_bindings_create(&bp);
	/* every SA's sequence numbers outlive hadp: a restart never repeats an IV */
	char dir[300], err[512];
	ha_state_dir(cfg, dir, sizeof(dir));
	int lrc = dp_seq_ledger_open(&ctx->ledger, dir, 2 * cfg->dataplane.max_sas + 64, err,
				     sizeof(err));
	if (lrc < 0) {
		RTE_LOG(ERR, USER1, "hadp: ESP sequence ledger: %s\n", err);
		return lrc;
	}
	if (ctx->ledger.adopted)
		RTE_LOG(INFO, USER1, "hadp: %u SAs' sequence numbers kept from a previous run\n",
			ctx->ledger.adopted);
	ctx->sas = dp_sa_table_create(cfg->dataplane.max_sas, bp.socket_id, ctx->qsbr,
				      ctx->n_workers, &ctx->ledger);
	if (!ctx->bindings || !ctx->sas)
		return -rte_errno;
	for (unsigned i = 0; i < cfg->n_static_sas; i++) {
		struct ha_sa_spec spec;
		ha_sa_spec_from_config(&cfg->static_sas[i], &spec);
		int rc = dp_sa_table_add(ctx->sas, &spec, bp.socket_id);
		memset(&spec, 0, sizeof(spec)); /* no key left on the stack */
		if (rc) {
			RTE_LOG(ERR, USER1, "hadp: static_sas[%u]: %s\n", i, strerror(-rc));
			return rc;
		}
	}
	/* the YAML's static bindings and binding ranges, for lab and load use (generation 0) */
	for (unsigned i = 0; i < cfg->n_static_bindings; i++)
		if (install_static(ctx, &cfg->static_bindings[i], "static_bindings", i) < 0)
			return -EINVAL;
	for (unsigned r = 0; r < cfg->n_binding_ranges; r++) {
		for (uint32_t i = 0; i < cfg->binding_ranges[r].count; i++) {
			struct ha_config_binding b;
			ha_cfg_range_binding(&cfg->binding_ranges[r], i, &b);
			if (install_static(ctx, &b, "static_binding_ranges", r) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

static int shared_objects_init(struct dp_ctx *ctx)
{
	const struct ha_config_dataplane *dp = &ctx->cfg->dataplane;
	int socket = (int)rte_socket_id();

	/* the field hacpd marks the mbufs it holds in (ha_ring.h): registered here, because a
	 * secondary process cannot create DPDK's registry of dynamic fields */
	static const struct rte_mbuf_dynfield holder = {
		.name = HA_MBUF_HOLDER_FIELD, .size = sizeof(uint32_t), .align = __alignof__(uint32_t),
	};
	if (rte_mbuf_dynfield_register(&holder) < 0) {
		RTE_LOG(ERR, USER1, "hadp: mbuf field %s: %s\n", HA_MBUF_HOLDER_FIELD,
			rte_strerror(rte_errno));
		return -1;
	}
	/* every frame in one mbuf (hadp never chains them): the largest port MTU's frame, with
	 * a VLAN tag, fits the data room */
	uint32_t frame = RTE_MAX(dp->access.mtu, dp->core.mtu) + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
	uint16_t room = (uint16_t)(RTE_PKTMBUF_HEADROOM + RTE_MAX(frame, (uint32_t)RTE_MBUF_DEFAULT_DATAROOM));
	ctx->pool = rte_pktmbuf_pool_create(HA_SHM_MBUF_POOL, dp->mbufs, dp->mbuf_cache,
					    RTE_ALIGN(sizeof(struct ha_pkt_meta), RTE_MBUF_PRIV_ALIGN),
					    room, socket);
	ctx->punt = rte_ring_create(HA_SHM_RING_PUNT, PUNT_RING_SIZE, socket, RING_F_SC_DEQ);
	ctx->tx = rte_ring_create(HA_SHM_RING_TX, TX_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ctx->cmd = rte_ring_create_elem(HA_SHM_RING_CMD, sizeof(struct ha_cmd), CMD_RING_SIZE,
					socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ctx->ack = rte_ring_create_elem(HA_SHM_RING_ACK, sizeof(struct ha_cmd_ack), CMD_RING_SIZE,
					socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ctx->local = rte_ring_create("hadp_local", 1024, socket, RING_F_SC_DEQ);
	ctx->stats = rte_zmalloc("hadp_stats", (ctx->n_workers + 1) * sizeof(struct dp_stats),
				 RTE_CACHE_LINE_SIZE);
	if (!ctx->pool || !ctx->punt || !ctx->tx || !ctx->cmd || !ctx->ack || !ctx->local ||
	    !ctx->stats) {
		RTE_LOG(ERR, USER1, "hadp: shared objects: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

static uint64_t total_rx(const struct dp_ctx *ctx)
{
	uint64_t n = 0;
	for (unsigned i = 0; i <= ctx->n_workers; i++)
		n += ctx->stats[i].c[DP_C_RX_ACCESS] + ctx->stats[i].c[DP_C_RX_CORE];
	return n;
}

/* The main lcore's loop: the control thread. */
static void control_loop(struct dp_ctx *ctx, const struct options *o)
{
	static struct dp_ctl ctl; /* 128 KiB of held packets: not on the stack */
	struct dp_stats *st = &ctx->stats[ctx->n_workers];
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc(), idle_since = start, last_rx = 0;

	while (!ctx->quit) {
		unsigned work = dp_ctl_commands(ctx, &ctl, st);
		uint64_t t0 = rte_rdtsc();
		unsigned sent = dp_ctl_transmit(ctx, &ctl, st);
		/* TSC, not the thread's CPU time: that is a syscall, 8,000-13,000 cycles on the
		 * development VM (docs/performance.md) */
		if (sent)
			dp_stats_ctl_turn(st, rte_rdtsc() - t0, sent);
		work += sent;
		work += dp_local_answer(ctx, st);
		work += dp_neigh_tick(ctx, st);
		dp_port_tick(ctx, t0);
		dp_binding_reclaim(ctx->bindings);
		dp_sa_table_reclaim(ctx->sas);
		uint64_t now = rte_rdtsc(), rx = total_rx(ctx);
		if (rx != last_rx || work) {
			last_rx = rx;
			idle_since = now;
		} else if (o->exit_idle_ms && rx && now - idle_since > hz / 1000 * o->exit_idle_ms) {
			ctx->quit = true;
		}
		if (o->max_seconds && now - start > hz * o->max_seconds)
			ctx->quit = true;
		if (!work)
			rte_delay_us_sleep(100); /* the control thread does not need a core to itself */
	}
	dp_ctl_release(&ctl, st);
}

/*
 * Lock what hadp maps from now on (testpmd's --mlockall, without what is already mapped: the
 * libraries and EAL's files would add about 100 MiB). A memif peer's shared buffers are mapped
 * when it connects and were otherwise faulted in page by page by the first packet into each:
 * one fault per two BAs through the control thread's queue in a BU storm, most of its cost per
 * BA (docs/performance.md). Not under AddressSanitizer, whose shadow would be populated.
 */
static void lock_memory(void)
{
#ifndef __SANITIZE_ADDRESS__
	if (mlockall(MCL_FUTURE) != 0)
		RTE_LOG(NOTICE, USER1, "hadp: memory not locked (%s): pages are faulted in as first "
			"touched (give it CAP_IPC_LOCK or LimitMEMLOCK=infinity)\n", strerror(errno));
#endif
}

static void drain_ring(struct rte_ring *r)
{
	void *m = NULL;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

int main(int argc, char **argv)
{
	struct options o;
	struct ha_config *cfg = calloc(1, sizeof(*cfg));
	struct ha_config_error err;
	struct dp_ctx *ctx = &ctx_storage;
	char *eargv[HA_CFG_MAX_EAL_ARGS + 16];
	static char ebuf[HA_CFG_MAX_EAL_ARGS * HA_CFG_EAL_ARG_SIZE + 4096];
	int rc = 1;
	uint64_t table_bytes = 0, start_tsc = 0, stop_tsc = 0;

	if (!cfg || parse_options(argc, argv, &o) < 0) {
		free(cfg);
		return 2;
	}
	if (ha_config_load_file(o.config, cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		free(cfg);
		return 1;
	}
	if (o.check) {
		printf("%s: ok\n", o.config);
		ha_config_free(cfg);
		free(cfg);
		return 0;
	}
	struct timespec started;
	clock_gettime(CLOCK_REALTIME, &started);
	int eargc = eal_args(cfg, eargv, (int)RTE_DIM(eargv), ebuf, sizeof(ebuf));
	if (eargc >= 0 && dp_wait_previous_run(ha_file_prefix(cfg), 10000) < 0)
		return 1;
	if (eargc < 0 || rte_eal_init(eargc, eargv) < 0) {
		fprintf(stderr, "hadp: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	lock_memory();
	ctx->cfg = cfg;
	ctx->n_workers = cfg->dataplane.n_workers;
	ctx->punt_rate_pps = cfg->dataplane.punt_rate_pps;
	ctx->punt_burst = cfg->dataplane.punt_burst;
	memcpy(ctx->ha6, &cfg->home_agent.ipv6_address, 16);
	ctx->ha4 = cfg->home_agent.has_ipv4_address ? cfg->home_agent.ipv4_address.s_addr : 0;
	dp_global = ctx;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct rte_malloc_socket_stats before, after;
	rte_malloc_get_socket_stats((int)rte_socket_id(), &before);
	if (shared_objects_init(ctx) || (rte_malloc_get_socket_stats((int)rte_socket_id(), &before),
					 tables_init(ctx)) ||
	    (rte_malloc_get_socket_stats((int)rte_socket_id(), &after), 0) ||
	    dp_port_init(ctx, DP_PORT_ACCESS, &cfg->dataplane.access) ||
	    dp_port_init(ctx, DP_PORT_CORE, &cfg->dataplane.core) || dp_telemetry_init(ctx) ||
	    dp_instance_publish((uint64_t)started.tv_sec * 1000000000u +
				(uint64_t)started.tv_nsec)) {
		RTE_LOG(ERR, USER1, "hadp: start-up failed\n");
		goto out;
	}

	unsigned idx = 0, lcore;
	static struct dp_esp_ctx esp_ctx[DP_MAX_WORKERS + 1];
	ctx->ctl_esp = &esp_ctx[DP_MAX_WORKERS];
	if (dp_esp_ctx_init(ctx->ctl_esp, (int)rte_socket_id()) != 0) {
		RTE_LOG(ERR, USER1, "hadp: IPsec-MB manager for the control thread\n");
		goto out;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct dp_worker *w = &ctx->workers[idx];
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "hadp_handoff_%u", idx);
		int sock = (int)rte_lcore_to_socket_id(lcore);
		/* one owner per SA: with several workers, the others hand its packets over */
		w->handoff = ctx->n_workers > 1 ? rte_ring_create(name, 1024, sock, RING_F_SC_DEQ) : NULL;
		w->esp = &esp_ctx[idx];
		if ((ctx->n_workers > 1 && !w->handoff) || dp_esp_ctx_init(w->esp, sock) != 0) {
			RTE_LOG(ERR, USER1, "hadp: worker %u: handoff ring or IPsec-MB manager\n", idx);
			goto out;
		}
		w->lcore_id = lcore;
		w->index = idx;
		w->stats = &ctx->stats[idx];
		w->policer.last_tsc = rte_rdtsc();
		for (unsigned r = 0; r < HA_PUNT__COUNT; r++)
			w->policer.tokens[r] = ctx->punt_burst;
		idx++;
	}
	dp_port_assign(ctx);
	table_bytes = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
	idx = 0;
	start_tsc = rte_rdtsc();
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(dp_worker_main, &ctx->workers[idx++], lcore);
	RTE_LOG(INFO, USER1, "hadp: forwarding with %u worker(s)\n", ctx->n_workers);
	ha_notify_ready("forwarding with %u worker(s)", ctx->n_workers); /* hacpd may attach */

	control_loop(ctx, &o);
	ha_notify_stopping();
	rte_eal_mp_wait_lcore();
	stop_tsc = rte_rdtsc();
	rc = 0;

out:
	/* drain: what no one will read any more goes back to the pool, then the ports give
	 * back what their queues hold; in use must then be zero (the leak check reads it) */
	if (ctx->punt)
		drain_ring(ctx->punt);
	if (ctx->tx)
		drain_ring(ctx->tx);
	if (ctx->local)
		drain_ring(ctx->local);
	for (unsigned i = 0; i < ctx->n_workers; i++)
		if (ctx->workers[i].handoff)
			drain_ring(ctx->workers[i].handoff);
	/* ports that started or whose queues are sound: the pcap driver crashes closing a port
	 * whose queue setup failed, and net_tap crashes in EAL's cleanup when a port hadp set
	 * up is left to it (DPDK 22.11); the EAL's cleanup releases the others */
	bool memif = false;
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		if (ctx->ports[r].started || ctx->ports[r].configured) {
			const struct ha_config_port *pc = r == DP_PORT_ACCESS ? &cfg->dataplane.access
									     : &cfg->dataplane.core;
			memif |= !strncmp(pc->device, "net_memif", 9);
			rte_eth_dev_stop(ctx->ports[r].port_id);
			rte_eth_dev_close(ctx->ports[r].port_id);
		}
	}
	/* DPDK 22.11's rte_eal_cleanup() frees the interrupt handles without stopping EAL's
	 * interrupt thread; with memif ports that thread then crashed hadp in exit()'s handlers
	 * (1 run in 2 of a 1,000-UE storm with junk): hadp ends at once after its cleanup */
	bool exit_now = memif;
	if (ctx->bindings)
		dp_binding_reclaim(ctx->bindings);
	if (o.stats_file && ctx->stats) {
		struct dp_stats sum;
		FILE *f = fopen(o.stats_file, "w");
		dp_stats_sum(ctx->stats, ctx->n_workers + 1, &sum);
		struct dp_run_info run = {
			.mbufs_in_use = ctx->pool ? rte_mempool_in_use_count(ctx->pool) : 0,
			.bindings = ctx->bindings ? dp_binding_count(ctx->bindings) : 0,
			.max_bindings = cfg->dataplane.max_bindings,
			.table_bytes = table_bytes,
			.tsc_hz = rte_get_tsc_hz(),
			.seconds = (double)(stop_tsc - start_tsc) / (double)rte_get_tsc_hz(),
		};
		if (f) {
			dp_stats_write_json(f, &sum, &run);
			fclose(f);
		} else {
			RTE_LOG(ERR, USER1, "hadp: %s: %s\n", o.stats_file, strerror(errno));
			rc = 1;
		}
	}
	for (unsigned i = 0; i < ctx->n_workers; i++) {
		rte_ring_free(ctx->workers[i].handoff);
		if (ctx->workers[i].esp)
			dp_esp_ctx_free(ctx->workers[i].esp);
	}
	if (ctx->ctl_esp)
		dp_esp_ctx_free(ctx->ctl_esp);
	dp_instance_retire(); /* hacpd lets go before what it uses is freed */
	dp_bindings_free(ctx->bindings);
	dp_sa_table_free(ctx->sas); /* after the bindings that point at SAs */
	dp_seq_ledger_close(&ctx->ledger);
	dp_routes_free(&ctx->routes);
	dp_sa_key_mgr_release();
	rte_free(ctx->qsbr);
	rte_ring_free(ctx->punt);
	rte_ring_free(ctx->tx);
	rte_ring_free(ctx->cmd);
	rte_ring_free(ctx->ack);
	rte_ring_free(ctx->local);
	rte_mempool_free(ctx->pool);
	rte_free(ctx->stats);
	dp_eal_cleanup();
	remove_hugepage_files(ha_file_prefix(cfg));
	ha_config_free(cfg);
	free(cfg);
	if (exit_now) {
		fflush(NULL);
		_exit(rc);
	}
	return rc;
}
