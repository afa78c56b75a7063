/*
 * /hadp/stats      every counter of dp_counters.def, summed over the lcores
 * /hadp/drops      decode errors by name (why packets were counted drop-malformed)
 * /hadp/punt       punts by reason
 * /hadp/tables     bindings in use and capacity
 * /hadp/rings      occupancy of the shared rings, mbufs in use
 * /hadp/esp       ESP drops by reason
 * /hadp/ports     each port's queues (and whether threads share TX queues), what each worker polls
 * The callbacks run on the telemetry thread and only read. Names are the catalogs' with '_'
 * for '-' (telemetry allows no '-').
 */
#include <errno.h>
#include <stdio.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "dp_binding.h"
#include "dp_esp.h"
#include "dp_sa_table.h"
#include "dp_telemetry.h"

static struct dp_ctx *tctx;

/* Telemetry names are letters, digits and '_': the catalog's '-' become '_'. */
static void add_u64(struct rte_tel_data *d, const char *name, uint64_t v)
{
	char n[RTE_TEL_MAX_STRING_LEN];
	size_t i;
	for (i = 0; name[i] && i < sizeof(n) - 1; i++)
		n[i] = name[i] == '-' ? '_' : name[i];
	n[i] = '\0';
	rte_tel_data_add_dict_u64(d, n, v);
}

static void sum(struct dp_stats *s)
{
	dp_stats_sum(tctx->stats, tctx->n_workers + 1, s);
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_stats s;
	(void)cmd;
	(void)params;
	sum(&s);
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < DP_C__COUNT; i++)
		add_u64(d, dp_counter_name((enum dp_counter)i), s.c[i]);
	return 0;
}

static int cmd_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_stats s;
	(void)cmd;
	(void)params;
	sum(&s);
	rte_tel_data_start_dict(d);
	for (unsigned i = 1; i < HA_ERR__COUNT; i++)
		add_u64(d, ha_err_name((enum ha_err)i), s.decode_err[i]);
	return 0;
}

static int cmd_punt(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_stats s;
	(void)cmd;
	(void)params;
	sum(&s);
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < HA_PUNT__COUNT; i++)
		add_u64(d, ha_punt_reason_name(i), s.punt[i]);
	return 0;
}

static int cmd_esp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_stats s;
	(void)cmd;
	(void)params;
	sum(&s);
	rte_tel_data_start_dict(d);
	for (unsigned i = 1; i < DP_ESP_E__COUNT; i++)
		add_u64(d, dp_esp_error_name(i), s.esp_err[i]);
	return 0;
}

static int cmd_tables(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "bindings", dp_binding_count(tctx->bindings));
	rte_tel_data_add_dict_u64(d, "bindings_capacity", dp_binding_capacity(tctx->bindings));
	rte_tel_data_add_dict_u64(d, "sas", dp_sa_table_count(tctx->sas));
	return 0;
}

static int cmd_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const role[] = { "access", "core" };
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned r = 0; r < DP_PORT__COUNT; r++) {
		const struct dp_port *p = &tctx->ports[r];
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (!c)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "port_id", p->port_id);
		rte_tel_data_add_dict_u64(c, "rx_queues", p->n_rxq);
		rte_tel_data_add_dict_u64(c, "tx_queues", p->n_txq);
		/* fewer TX queues than threads: the control thread's is then shared */
		rte_tel_data_add_dict_u64(c, "tx_shared", p->ctl_txq.lock != NULL);
		rte_tel_data_add_dict_u64(c, "lacp", p->lacp);
		rte_tel_data_add_dict_container(d, role[r], c, 0);
	}
	for (unsigned w = 0; w < tctx->n_workers; w++) {
		char name[32], list[RTE_TEL_MAX_STRING_LEN] = "";
		size_t l = 0;
		const struct dp_worker *wk = &tctx->workers[w];
		for (unsigned i = 0; i < wk->n_rxq && l < sizeof(list); i++) {
			int k = snprintf(list + l, sizeof(list) - l, "%s%s/%u", i ? " " : "",
					 role[wk->rxq[i].role], wk->rxq[i].queue);
			if (k < 0)
				break;
			l += (size_t)k;
		}
		snprintf(name, sizeof(name), "worker_%u", w);
		rte_tel_data_add_dict_string(d, name, list);
	}
	return 0;
}

static int cmd_rings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "punt", rte_ring_count(tctx->punt));
	rte_tel_data_add_dict_u64(d, "tx", rte_ring_count(tctx->tx));
	rte_tel_data_add_dict_u64(d, "cmd", rte_ring_count(tctx->cmd));
	rte_tel_data_add_dict_u64(d, "ack", rte_ring_count(tctx->ack));
	rte_tel_data_add_dict_u64(d, "mbufs_in_use", rte_mempool_in_use_count(tctx->pool));
	rte_tel_data_add_dict_u64(d, "mbufs_total", tctx->pool->size);
	return 0;
}

static int cmd_routes(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static char text[200][DP_ROUTE_TEXT]; /* one telemetry thread */
	(void)cmd;
	(void)params;
	unsigned n = dp_routes_show(&tctx->routes, text, RTE_DIM(text));
	/* "PREFIX via NEXT-HOP MAC" strings: dictionary keys may not hold ':' */
	struct rte_tel_data *list = rte_tel_data_alloc();
	if (!list)
		return -ENOMEM;
	rte_tel_data_start_array(list, RTE_TEL_STRING_VAL);
	for (unsigned i = 0; i < n && i < RTE_DIM(text); i++)
		rte_tel_data_add_array_string(list, text[i]);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", n);
	rte_tel_data_add_dict_container(d, "routes", list, 0);
	return 0;
}

int dp_telemetry_init(struct dp_ctx *ctx)
{
	tctx = ctx;
	if (rte_telemetry_register_cmd("/hadp/stats", cmd_stats,
				       "Dataplane counters summed over lcores") ||
	    rte_telemetry_register_cmd("/hadp/drops", cmd_drops,
				       "Malformed packets by decode error") ||
	    rte_telemetry_register_cmd("/hadp/punt", cmd_punt, "Punts by reason") ||
	    rte_telemetry_register_cmd("/hadp/esp", cmd_esp, "ESP drops by reason") ||
	    rte_telemetry_register_cmd("/hadp/tables", cmd_tables, "Table fill") ||
	    rte_telemetry_register_cmd("/hadp/rings", cmd_rings, "Shared ring occupancy, mbufs") ||
	    rte_telemetry_register_cmd("/hadp/ports", cmd_ports,
				       "Each port's queues, whether TX queues are shared, what each worker polls") ||
	    rte_telemetry_register_cmd("/hadp/routes", cmd_routes,
				       "Core-side routes: prefix -> next hop and its MAC (first 200)"))
		return -1;
	return 0;
}
