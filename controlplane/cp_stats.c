/* hacpd's counters in three forms (see cp_stats.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cp_log.h"
#include "cp_reload.h"
#include "cp_stats.h"
#include "ha_json.h"

/* The gauges and counters outside the catalogs (cp_bu.h's, cp_ike.h's): name, help, value. */
struct extra {
	const char *name;
	const char *help;
	bool counter;
	uint64_t v;
};

static unsigned extras(const struct cp_cli *cli, struct extra *x)
{
	unsigned n = 0;
	x[n++] = (struct extra){ "bindings", "bindings in the binding cache", false,
				 cli->cp->cache.count };
	x[n++] = (struct extra){ "cli-connections", "operator connections open", false,
				 cli->n_conns };
	x[n++] = (struct extra){ "cli-refused-busy", "operator connections refused: too many",
				 true, cli->refused_busy };
	x[n++] = (struct extra){ "cli-request-timeouts", "operator connections without a request "
				 "line in time", true, cli->timed_out };
	x[n++] = (struct extra){ "cli-dropped-stalled", "operator connections dropped: the reader "
				 "took nothing", true, cli->dropped_stalled };
	x[n++] = (struct extra){ "monitor-connections", "hactl monitor connections open", false,
				 cli->n_monitors };
	x[n++] = (struct extra){ "monitor-events", "event lines queued to monitors", true,
				 cli->mon_events };
	x[n++] = (struct extra){ "monitor-events-dropped", "event lines a monitor's full queue "
				 "lost", true, cli->mon_dropped };
	x[n++] = (struct extra){ "monitors-refused", "monitors refused: too many at once", true,
				 cli->mon_refused };
	x[n++] = (struct extra){ "log-lines-suppressed", "log lines over logging.rate_per_second",
				 true, cp_log_suppressed() };
	x[n++] = (struct extra){ "config-reloads", "hactl config reload applied", true,
				 cli->reload ? cli->reload->applied : 0 };
	x[n++] = (struct extra){ "config-reloads-refused", "hactl config reload refused, nothing "
				 "changed", true, cli->reload ? cli->reload->refused : 0 };
	if (cli->ike)
		x[n++] = (struct extra){ "ike-sessions", "UEs' IKEv2 PDN sessions", false,
					 cli->ike->count };
	return n;
}
#define MAX_EXTRAS 16

static void pool_use(const struct cp_cli *cli, unsigned pdn, uint32_t *used, uint32_t *free_)
{
	const struct cp_pool4 *p = &cli->cp->pool4[pdn];
	uint32_t usable = p->ids.size > 2 ? p->ids.size - 2 : 0;
	*used = cp_pool4_used(p);
	*free_ = usable - *used;
}

/* ---- OpenMetrics ------------------------------------------------------------------------ */

/* "bu-received" -> "ha_bu_received" */
static void om_name(char *dst, size_t n, const char *name)
{
	snprintf(dst, n, "ha_%s", name);
	for (char *c = dst; *c; c++)
		if (*c == '-' || *c == '.')
			*c = '_';
}

static void om_family(FILE *f, const char *name, bool counter, const char *help)
{
	char m[128];
	om_name(m, sizeof(m), name);
	fprintf(f, "# TYPE %s %s\n# HELP %s ", m, counter ? "counter" : "gauge", m);
	for (const char *c = help; *c; c++) /* the spec's escapes: backslash, newline */
		fputs(*c == '\\' ? "\\\\" : *c == '\n' ? "\\n" : (char[2]){ *c, 0 }, f);
	fputc('\n', f);
}

/* One sample; labels "k1", "v1", "k2", "v2" (NULL keys: fewer). */
static void om_sample(FILE *f, const char *name, bool counter, const char *k1, const char *v1,
		      const char *k2, const char *v2, uint64_t v)
{
	char m[128];
	om_name(m, sizeof(m), name);
	fprintf(f, "%s%s", m, counter ? "_total" : "");
	const char *k[2] = { k1, k2 }, *val[2] = { v1, v2 };
	for (int i = 0; i < 2 && k[i]; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "{", k[i]);
		for (const char *c = val[i]; *c; c++)
			fputs(*c == '\\' ? "\\\\" : *c == '"' ? "\\\"" : *c == '\n' ? "\\n"
			      : (char[2]){ *c, 0 }, f);
		fputc('"', f);
	}
	fprintf(f, "%s %llu\n", k[0] ? "}" : "", (unsigned long long)v);
}

static void openmetrics(const struct cp_cli *cli, FILE *f)
{
	const struct cp_ctx *cp = cli->cp;
	const struct ha_config *cfg = cp->cfg;
	struct extra x[MAX_EXTRAS];
	unsigned nx = extras(cli, x);
	char num[8];

	for (unsigned i = 0; i < nx; i++) {
		om_family(f, x[i].name, x[i].counter, x[i].help);
		om_sample(f, x[i].name, x[i].counter, NULL, NULL, NULL, NULL, x[i].v);
	}
	for (unsigned i = 0; i < CP_C__COUNT; i++) {
		om_family(f, cp_counter_name(i), true, cp_counter_help(i));
		om_sample(f, cp_counter_name(i), true, NULL, NULL, NULL, NULL, cp->ctr[i]);
	}
	om_family(f, "mh-received", true, "Mobility Headers received, by type");
	for (unsigned t = 0; t < 256; t++)
		if (cp->mh_rx[t]) {
			snprintf(num, sizeof(num), "%u", t);
			om_sample(f, "mh-received", true, "type", num, "name",
				  mh_type_name((uint8_t)t), cp->mh_rx[t]);
		}
	om_family(f, "mh-decode-errors", true, "Mobility Headers that did not decode, by error");
	for (unsigned e = 0; e < HA_ERR__COUNT; e++)
		if (cp->mh_err[e])
			om_sample(f, "mh-decode-errors", true, "error", ha_err_name((enum ha_err)e),
				  NULL, NULL, cp->mh_err[e]);
	om_family(f, "ba-sent-by-status", true, "Binding Acknowledgements sent, by status");
	for (unsigned st = 0; st < 256; st++)
		if (cp->ba_status[st]) {
			const char *name = mh_ba_status_name((uint8_t)st);
			snprintf(num, sizeof(num), "%u", st);
			om_sample(f, "ba-sent-by-status", true, "status", num, "name",
				  name ? name : "", cp->ba_status[st]);
		}
	for (unsigned k = 0; k < CP_PC__COUNT; k++) {
		char name[64];
		snprintf(name, sizeof(name), "pdn-%s", cp_pdn_counter_name(k));
		om_family(f, name, true, cp_pdn_counter_help(k));
		for (unsigned p = 0; p < cfg->n_pdns; p++)
			om_sample(f, name, true, "pdn", cfg->pdns[p].name, NULL, NULL, cp->pdn_ctr[p][k]);
	}
	om_family(f, "pdn-bindings", false, "bindings in the binding cache, per PDN");
	for (unsigned p = 0; p < cfg->n_pdns; p++)
		om_sample(f, "pdn-bindings", false, "pdn", cfg->pdns[p].name, NULL, NULL,
			  cp->pdn_bindings[p]);
	for (int used = 1; used >= 0; used--) {
		const char *name = used ? "pdn-ipv4-pool-used" : "pdn-ipv4-pool-free";
		om_family(f, name, false, used ? "IPv4 home addresses in use, per PDN's ipv4_pool"
						: "IPv4 home addresses free, per PDN's ipv4_pool");
		for (unsigned p = 0; p < cfg->n_pdns; p++) {
			uint32_t u, fr;
			if (!cfg->pdns[p].has_ipv4_pool)
				continue;
			pool_use(cli, p, &u, &fr);
			om_sample(f, name, false, "pdn", cfg->pdns[p].name, NULL, NULL, used ? u : fr);
		}
	}
	if (cli->ike)
		for (unsigned i = 0; i < CP_IKE_N_COUNTERS; i++) {
			om_family(f, cp_ike_counter_name(i), true, cp_ike_counter_name(i));
			om_sample(f, cp_ike_counter_name(i), true, NULL, NULL, NULL, NULL,
				  cp_ike_counter(cli->ike, i));
		}
	fputs("# EOF\n", f);
}

/* ---- JSON and text ------------------------------------------------------------------------ */

static void json(const struct cp_cli *cli, FILE *f)
{
	const struct cp_ctx *cp = cli->cp;
	const struct ha_config *cfg = cp->cfg;
	struct extra x[MAX_EXTRAS];
	unsigned nx = extras(cli, x);
	struct ha_json j;

	hj_init(&j, f);
	hj_obj_begin(&j, NULL);
	for (unsigned i = 0; i < nx; i++)
		hj_uint(&j, x[i].name, x[i].v);
	for (unsigned i = 0; i < CP_C__COUNT; i++)
		hj_uint(&j, cp_counter_name(i), cp->ctr[i]);
	hj_obj_begin(&j, "received");
	for (unsigned t = 0; t < 256; t++)
		if (cp->mh_rx[t])
			hj_uint(&j, mh_type_name((uint8_t)t), cp->mh_rx[t]);
	hj_obj_end(&j);
	hj_obj_begin(&j, "decode_errors");
	for (unsigned e = 0; e < HA_ERR__COUNT; e++)
		if (cp->mh_err[e])
			hj_uint(&j, ha_err_name((enum ha_err)e), cp->mh_err[e]);
	hj_obj_end(&j);
	hj_obj_begin(&j, "ba_status");
	for (unsigned st = 0; st < 256; st++) {
		char k[8];
		snprintf(k, sizeof(k), "%u", st);
		if (cp->ba_status[st])
			hj_uint(&j, k, cp->ba_status[st]);
	}
	hj_obj_end(&j);
	hj_obj_begin(&j, "pdns");
	for (unsigned p = 0; p < cfg->n_pdns; p++) {
		hj_obj_begin(&j, cfg->pdns[p].name);
		for (unsigned k = 0; k < CP_PC__COUNT; k++)
			hj_uint(&j, cp_pdn_counter_name(k), cp->pdn_ctr[p][k]);
		hj_uint(&j, "bindings", cp->pdn_bindings[p]);
		if (cfg->pdns[p].has_ipv4_pool) {
			uint32_t u, fr;
			pool_use(cli, p, &u, &fr);
			hj_uint(&j, "ipv4-pool-used", u);
			hj_uint(&j, "ipv4-pool-free", fr);
		}
		hj_obj_end(&j);
	}
	hj_obj_end(&j);
	if (cli->ike) {
		hj_obj_begin(&j, "ike");
		for (unsigned i = 0; i < CP_IKE_N_COUNTERS; i++)
			hj_uint(&j, cp_ike_counter_name(i), cp_ike_counter(cli->ike, i));
		hj_obj_end(&j);
	}
	hj_obj_end(&j);
	hj_newline(&j);
}

static void text(const struct cp_cli *cli, FILE *f)
{
	const struct cp_ctx *cp = cli->cp;
	const struct ha_config *cfg = cp->cfg;
	struct extra x[MAX_EXTRAS];
	unsigned nx = extras(cli, x);

	for (unsigned i = 0; i < nx; i++)
		fprintf(f, "%s %llu\n", x[i].name, (unsigned long long)x[i].v);
	for (unsigned i = 0; i < CP_C__COUNT; i++)
		fprintf(f, "%s %llu\n", cp_counter_name(i), (unsigned long long)cp->ctr[i]);
	for (unsigned t = 0; t < 256; t++)
		if (cp->mh_rx[t])
			fprintf(f, "received %s %llu\n", mh_type_name((uint8_t)t),
				(unsigned long long)cp->mh_rx[t]);
	for (unsigned e = 0; e < HA_ERR__COUNT; e++)
		if (cp->mh_err[e])
			fprintf(f, "decode-error %s %llu\n", ha_err_name((enum ha_err)e),
				(unsigned long long)cp->mh_err[e]);
	for (unsigned st = 0; st < 256; st++) {
		const char *name = mh_ba_status_name((uint8_t)st);
		if (cp->ba_status[st])
			fprintf(f, "ba-status %u %s %llu\n", st, name ? name : "",
				(unsigned long long)cp->ba_status[st]);
	}
	for (unsigned p = 0; p < cfg->n_pdns; p++) {
		fprintf(f, "pdn %s bindings %u", cfg->pdns[p].name, cp->pdn_bindings[p]);
		for (unsigned k = 0; k < CP_PC__COUNT; k++)
			fprintf(f, " %s %llu", cp_pdn_counter_name(k),
				(unsigned long long)cp->pdn_ctr[p][k]);
		fputc('\n', f);
	}
	if (cli->ike)
		for (unsigned i = 0; i < CP_IKE_N_COUNTERS; i++)
			fprintf(f, "%s %llu\n", cp_ike_counter_name(i),
				(unsigned long long)cp_ike_counter(cli->ike, i));
}

void cp_stats_write(const struct cp_cli *cli, enum cp_stats_format fmt, FILE *out)
{
	if (fmt == CP_STATS_OPENMETRICS)
		openmetrics(cli, out);
	else if (fmt == CP_STATS_JSON)
		json(cli, out);
	else
		text(cli, out);
}
