/* hacpd's operator commands (see cp_cli.h); the connections are cp_cli_io.c's. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp_cli.h"
#include "cp_reload.h"
#include "cp_stats.h"
#include "ha_json.h"

#define MAX_ARGS 8

struct request {
	int argc;
	char *argv[MAX_ARGS];
	bool json;
	const char *format;        /* --format NAME (show stats) */
	struct cp_cli_job *job;    /* where a listing or a wait is left for the connection */
};

/* A command's return: 0 done (hacpd adds "= 0 ok"), -1 done with its own final line written,
 * CMD_MORE a listing left in the job, CMD_WAIT hadp's answer awaited */
#define CMD_MORE 1
#define CMD_WAIT 2
#define CMD_MONITOR 3

typedef int (*cmd_fn)(struct cp_cli *cli, const struct request *r, FILE *out);

static int cmd_help(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_show_bindings(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_show_binding(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_show_stats(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_show_pools(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_show_sas(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_config_check(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_config_reload(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_detach(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_reallocate(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_show_ike(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_route_add(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_route_delete(struct cp_cli *cli, const struct request *r, FILE *out);
static int cmd_monitor(struct cp_cli *cli, const struct request *r, FILE *out);

/* The commands: words to match, the number of arguments after them, the help. */
static const struct command {
	const char *words[3];
	int nargs;
	cmd_fn fn;
	const char *help;
} commands[] = {
	{ { "help" }, 0, cmd_help, "help: this list" },
	{ { "show", "bindings" }, 0, cmd_show_bindings,
	  "show bindings [--json]: every binding cache entry" },
	{ { "show", "binding" }, 1, cmd_show_binding,
	  "show binding HOME-ADDRESS|NAI [--json]: a UE's binding (by NAI: one per PDN)" },
	{ { "show", "ike" }, 0, cmd_show_ike,
	  "show ike [--json]: the IKEv2 sessions: NAI, PDN, home prefix, IKE SA" },
	{ { "show", "stats" }, 0, cmd_show_stats,
	  "show stats [--json | --format text|json|openmetrics]: the counters, overall and per PDN "
	  "(openmetrics: Prometheus text exposition, for node_exporter's textfile collector)" },
	{ { "show", "pools" }, 0, cmd_show_pools,
	  "show pools [--json]: IPv4 home address pools per PDN" },
	{ { "show", "sas" }, 0, cmd_show_sas,
	  "show sas [--json]: which signalling SA protects which home address (RFC 4877)" },
	{ { "config", "check" }, 0, cmd_config_check,
	  "config check: validate the configuration file hacpd was started with" },
	{ { "config", "reload" }, 0, cmd_config_reload,
	  "config reload: read that file again and apply what may change at run time (PDNs, "
	  "policy, routes, static bindings and SAs); refused whole when anything else changed" },
	{ { "reallocate" }, 3, cmd_reallocate,
	  "reallocate HOME-ADDRESS|NAI --to HA-ADDRESS: Home Agent reallocation (TS 24.303 5.4.3) "
	  "at the UE's next Binding Update" },
	{ { "route", "add" }, 3, cmd_route_add,
	  "route add PREFIX via ROUTER-ADDRESS|MAC: a core-side route in hadp (replaces the route to "
	  "the same prefix; hadp resolves a router's MAC); kept until hadp stops: permanent routes "
	  "go in dataplane.routes" },
	{ { "route", "delete" }, 1, cmd_route_delete,
	  "route delete PREFIX: remove a core-side route from hadp" },
	{ { "monitor" }, 0, cmd_monitor,
	  "monitor: binding events as they happen, one JSON object per line, until interrupted" },
	{ { "detach" }, 1, cmd_detach,
	  "detach HOME-ADDRESS|NAI: network-initiated detach (TS 24.303 5.4.3.1): BRI, BRA, removal "
	  "(by NAI: in every PDN)" },
};

void cp_cli_line(FILE *out, const char *fmt, ...)
{
	va_list ap;
	fputs("+ ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static int cmd_help(struct cp_cli *cli, const struct request *r, FILE *out)
{
	(void)cli;
	(void)r;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		cp_cli_line(out, "%s", commands[i].help);
	return 0;
}

static const char *addr_str(const struct ha_cfg_addr *a, char *buf, size_t n)
{
	return inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4 : (const void *)&a->v6,
			 buf, (socklen_t)n);
}

/* One binding: a line for people, an object for scripts (one JSON object per line). */
static void put_binding(struct cp_cli *cli, const struct cp_binding *b, bool json, FILE *out)
{
	char hoa[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN], coa[INET6_ADDRSTRLEN],
		v4[INET_ADDRSTRLEN] = "-";
	uint64_t now = cli->now();
	long left = b->expires > now ? (long)(b->expires - now) : 0;

	inet_ntop(AF_INET6, &b->hoa, hoa, sizeof(hoa));
	inet_ntop(AF_INET6, b->key.prefix, pfx, sizeof(pfx));
	addr_str(&b->coa, coa, sizeof(coa));
	if (b->has_hoa4)
		inet_ntop(AF_INET, &b->hoa4, v4, sizeof(v4));
	const char *pdn = cli->cp->cfg->pdns[b->pdn].name;
	if (!json) {
		cp_cli_line(out, "%s %s/%u pdn %s care-of %s%s%s ipv4 %s seq %u lifetime %ld/%u s", hoa,
		     pfx, b->key.len, pdn, coa, b->udp ? " udp " : "", b->udp ? (b->nat ? "nat" : "forced") : "",
		     v4, b->seq, left, b->lifetime);
		return;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct ha_json j;
	if (!m)
		return;
	hj_init(&j, m);
	hj_obj_begin(&j, NULL);
	hj_str(&j, "home_address", hoa);
	hj_str(&j, "home_prefix", pfx);
	hj_uint(&j, "prefix_length", b->key.len);
	hj_str(&j, "pdn", pdn);
	hj_str(&j, "care_of", coa);
	hj_bool(&j, "udp", b->udp);
	hj_bool(&j, "nat", b->nat);
	if (b->udp)
		hj_uint(&j, "udp_port", b->udp_port);
	if (b->has_hoa4)
		hj_str(&j, "ipv4_home_address", v4);
	hj_uint(&j, "sequence", b->seq);
	hj_uint(&j, "lifetime", b->lifetime);
	hj_uint(&j, "remaining", (uint64_t)left);
	hj_uint(&j, "sa_in", b->sa_in);
	hj_obj_end(&j);
	fclose(m);
	cp_cli_line(out, "%s", buf);
	free(buf);
}

static int cmd_show_bindings(struct cp_cli *cli, const struct request *r, FILE *out)
{
	(void)cli;
	(void)out;
	*r->job = (struct cp_cli_job){ .listing = CP_CLI_LIST_BINDINGS, .json = r->json };
	return CMD_MORE;
}

/* A UE named by home address, or by NAI (its sessions' bindings, 002 4.3: one per PDN): the
 * bindings, at most max. @return how many, or -1 with the answer's last line written. */
static int resolve(struct cp_cli *cli, const char *who, struct cp_binding **out, unsigned max,
		   FILE *o)
{
	struct in6_addr a;
	unsigned n = 0;

	if (inet_pton(AF_INET6, who, &a) == 1) {
		for (unsigned i = 0; i < cli->cp->cfg->n_pdns && !n; i++) {
			const struct ha_config_pdn *p = &cli->cp->cfg->pdns[i];
			struct cp_binding *b = ha_cfg_prefix_contains6(&p->pool6, p->pool6_len, &a)
				? cp_bcache_find(&cli->cp->cache, &a, p->home_prefix_len) : NULL;
			if (b)
				out[n++] = b;
		}
	} else if (strchr(who, '@') || !strchr(who, ':')) {
		const struct cp_ike_session *s[HA_CFG_MAX_PDNS];
		unsigned k = cli->ike ? cp_ike_sessions_of_nai(cli->ike, who, s, HA_CFG_MAX_PDNS) : 0;
		for (unsigned i = 0; i < k && n < max; i++) {
			struct cp_binding *b = cp_bcache_find(&cli->cp->cache, &s[i]->prefix,
							      cli->cp->cfg->pdns[s[i]->pdn].home_prefix_len);
			if (b)
				out[n++] = b;
		}
		if (!k) {
			fprintf(o, "= 1 no IKEv2 session for %s\n", who);
			return -1;
		}
	} else {
		fprintf(o, "= 2 '%s' is neither an IPv6 home address nor an NAI\n", who);
		return -1;
	}
	if (!n) {
		fprintf(o, "= 1 no binding for %s\n", who);
		return -1;
	}
	return (int)n;
}

static int cmd_show_binding(struct cp_cli *cli, const struct request *r, FILE *out)
{
	struct cp_binding *b[HA_CFG_MAX_PDNS];
	int n = resolve(cli, r->argv[2], b, HA_CFG_MAX_PDNS, out);
	for (int i = 0; i < n; i++)
		put_binding(cli, b[i], r->json, out);
	return n < 0 ? -1 : 0;
}

static int cmd_show_ike(struct cp_cli *cli, const struct request *r, FILE *out)
{
	if (!cli->ike) {
		fprintf(out, "= 1 IKEv2 is not enabled (ike.enabled)\n");
		return -1;
	}
	*r->job = (struct cp_cli_job){ .listing = CP_CLI_LIST_IKE, .json = r->json };
	return CMD_MORE;
}

/* A Session-Id as shown: the AAA chose nothing of it, but it came over a socket; only
 * printable characters that need no JSON escape are shown as they are. */
static const char *shown_sid(const char *sid)
{
	for (const char *c = sid; *c; c++)
		if (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\')
			return "(unprintable)";
	return sid;
}

static void put_session(struct cp_cli *cli, const struct cp_ike_session *s, bool json, FILE *out)
{
	char p[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &s->prefix, p, sizeof(p));
	const struct ha_config_pdn *pdn = &cli->cp->cfg->pdns[s->pdn];
	char v4[INET_ADDRSTRLEN] = "";
	if (s->has_ip4)
		inet_ntop(AF_INET, &s->ip4, v4, sizeof(v4));
	const char *sid = shown_sid(s->aaa_session);
	if (json)
		cp_cli_line(out, "{\"nai\":\"%s\",\"pdn\":\"%s\",\"home_prefix\":\"%s/%u\","
			  "\"ipv4_home_address\":\"%s\",\"ike_sa\":%u,\"child_sas\":%u,"
			  "\"s6b_session\":\"%s\"}",
		     s->nai, pdn->name, p, pdn->home_prefix_len, v4, s->ike_sa, s->n_sa, sid);
	else
		cp_cli_line(out, "%s pdn %s prefix %s/%u%s%s ike-sa %u child-sas %u%s%s", s->nai,
		     pdn->name, p, pdn->home_prefix_len, s->has_ip4 ? " ipv4 " : "", v4, s->ike_sa,
		     s->n_sa, sid[0] ? " s6b-session " : "", sid);
}

/* Listings go by slot index, not by hash order: a cursor stays valid while entries come and
 * go between slices (one added or removed meanwhile may be shown or not, none twice). */
bool cp_cli_list_step(struct cp_cli *cli, struct cp_cli_job *job, FILE *out, unsigned max)
{
	unsigned rows = 0;
	if (job->listing == CP_CLI_LIST_BINDINGS) {
		const struct cp_bcache *bc = &cli->cp->cache;
		for (; job->cursor < bc->capacity && rows < max; job->cursor++)
			if (bc->slots[job->cursor].in_use) {
				put_binding(cli, &bc->slots[job->cursor], job->json, out);
				rows++;
			}
		if (job->cursor < bc->capacity)
			return false;
	} else if (job->listing == CP_CLI_LIST_IKE && cli->ike) {
		for (; job->cursor < cli->ike->capacity && rows < max; job->cursor++)
			if (cli->ike->slots[job->cursor].used) {
				put_session(cli, &cli->ike->slots[job->cursor], job->json, out);
				rows++;
			}
		if (job->cursor < cli->ike->capacity)
			return false;
	}
	fprintf(out, "= 0 ok\n");
	return true;
}

/* The counters (cp_stats.c) as the answer's data lines. */
static int cmd_show_stats(struct cp_cli *cli, const struct request *r, FILE *out)
{
	enum cp_stats_format fmt = r->json ? CP_STATS_JSON : CP_STATS_TEXT;
	if (r->format && !strcmp(r->format, "openmetrics"))
		fmt = CP_STATS_OPENMETRICS;
	else if (r->format && !strcmp(r->format, "json"))
		fmt = CP_STATS_JSON;
	else if (r->format && strcmp(r->format, "text")) {
		fprintf(out, "= 2 unknown format '%s' (text, json, openmetrics)\n", r->format);
		return -1;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		fprintf(out, "= 1 out of memory\n");
		return -1;
	}
	cp_stats_write(cli, fmt, m);
	fclose(m);
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		cp_cli_line(out, "%s", l);
	free(buf);
	return 0;
}

static int cmd_show_pools(struct cp_cli *cli, const struct request *r, FILE *out)
{
	const struct ha_config *cfg = cli->cp->cfg;
	for (unsigned i = 0; i < cfg->n_pdns; i++) {
		const struct cp_pool4 *p = &cli->cp->pool4[i];
		char net[INET_ADDRSTRLEN];
		if (!cfg->pdns[i].has_ipv4_pool)
			continue;
		inet_ntop(AF_INET, &cfg->pdns[i].pool4, net, sizeof(net));
		uint32_t usable = p->ids.size > 2 ? p->ids.size - 2 : 0, used = cp_pool4_used(p);
		if (r->json)
			cp_cli_line(out, "{\"pdn\":\"%s\",\"pool\":\"%s/%u\",\"used\":%u,\"free\":%u}",
			     cfg->pdns[i].name, net, cfg->pdns[i].pool4_len, used, usable - used);
		else
			cp_cli_line(out, "%s %s/%u used %u free %u", cfg->pdns[i].name, net,
			     cfg->pdns[i].pool4_len, used, usable - used);
	}
	return 0;
}

static int cmd_show_sas(struct cp_cli *cli, const struct request *r, FILE *out)
{
	const struct cp_sigsa *s, *tmp;
	HASH_ITER(hh_hoa, cli->cp->sigsa.by_hoa, s, tmp) {
		char hoa[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &s->hoa, hoa, sizeof(hoa));
		if (r->json)
			cp_cli_line(out, "{\"home_address\":\"%s\",\"spi_in\":%u,\"spi_out\":%u,"
				  "\"ike_sa\":%u}", hoa, s->spi_in, s->spi_out, s->ike_sa);
		else
			cp_cli_line(out, "%s in 0x%08x out 0x%08x %s", hoa, s->spi_in, s->spi_out,
			     s->ike_sa ? "ike" : "static");
	}
	return 0;
}

static int cmd_config_check(struct cp_cli *cli, const struct request *r, FILE *out)
{
	struct ha_config *cfg = calloc(1, sizeof(*cfg));
	struct ha_config_error err;
	(void)r;
	if (!cfg) {
		fprintf(out, "= 1 out of memory\n");
		return -1;
	}
	int rc = ha_config_load_file(cli->config_path, cfg, &err);
	ha_config_free(cfg);
	free(cfg);
	if (rc < 0) {
		cp_cli_line(out, "%s", err.msg);
		fprintf(out, "= 1 the configuration is not valid\n");
		return -1;
	}
	cp_cli_line(out, "%s: ok", cli->config_path);
	return 0;
}

static int cmd_config_reload(struct cp_cli *cli, const struct request *r, FILE *out)
{
	uint32_t last = 0;
	if (!cli->reload) {
		fprintf(out, "= 1 config reload is not offered by this hacpd\n");
		return -1;
	}
	int rc = cp_reload_run(cli->reload, out, &last);
	if (rc <= 0)
		return rc;
	*r->job = (struct cp_cli_job){ .wait_seq = last, .reload = true };
	snprintf(r->job->what, sizeof(r->job->what), "config reload");
	return CMD_WAIT;
}

static int cmd_detach(struct cp_cli *cli, const struct request *r, FILE *out)
{
	struct cp_binding *b[HA_CFG_MAX_PDNS];
	int n = resolve(cli, r->argv[1], b, HA_CFG_MAX_PDNS, out);
	if (n < 0)
		return -1;
	int failed = 0;
	for (int i = 0; i < n; i++) {
		char hoa[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &b[i]->hoa, hoa, sizeof(hoa));
		int rc = cli->detach ? cli->detach(cli->detach_arg, &b[i]->hoa) : -ENOTSUP;
		if (rc == 0)
			cp_cli_line(out, "%s: Binding Revocation Indication sent; the binding goes with the BRA",
			     hoa);
		else if (rc == -EALREADY)
			cp_cli_line(out, "%s: being detached already", hoa), failed++;
		else
			cp_cli_line(out, "%s: detach failed: %s", hoa, strerror(-rc)), failed++;
	}
	if (failed) {
		fprintf(out, "= 1 %d of %d detaches not started\n", failed, n);
		return -1;
	}
	return 0;
}

static int cmd_reallocate(struct cp_cli *cli, const struct request *r, FILE *out)
{
	struct in6_addr ha;
	struct cp_binding *b[HA_CFG_MAX_PDNS];
	if (strcmp(r->argv[2], "to") || inet_pton(AF_INET6, r->argv[3], &ha) != 1) {
		fprintf(out, "= 2 usage: reallocate HOME-ADDRESS|NAI --to HA-ADDRESS (an IPv6 address)\n");
		return -1;
	}
	struct in6_addr a;
	if (inet_pton(AF_INET6, r->argv[1], &a) == 1) {
		/* the AAA's indication may come before the UE's first BU (5.4.3): by address it
		 * waits for that BU; by NAI it needs the bindings to know the home addresses */
		if (cp_reallocate(cli->cp, &a, &ha) < 0) {
			fprintf(out, "= 1 out of memory\n");
			return -1;
		}
		cp_cli_line(out, "%s: the Home Agent Switch to %s follows the BA of its next Binding Update",
		     r->argv[1], r->argv[3]);
		return 0;
	}
	/* by NAI: each of the UE's PDN sessions (002 4.3); before its first BU only the home
	 * prefix IKEv2 gave it is known, and the indication waits for a BU from that prefix */
	const struct cp_ike_session *s[HA_CFG_MAX_PDNS];
	unsigned k = cli->ike && (strchr(r->argv[1], '@') || !strchr(r->argv[1], ':'))
		? cp_ike_sessions_of_nai(cli->ike, r->argv[1], s, HA_CFG_MAX_PDNS) : 0;
	if (!k) {
		int n = resolve(cli, r->argv[1], b, HA_CFG_MAX_PDNS, out); /* says why not */
		return n < 0 ? -1 : 0;
	}
	for (unsigned i = 0; i < k; i++) {
		uint8_t plen = cli->cp->cfg->pdns[s[i]->pdn].home_prefix_len;
		struct cp_binding *cb = cp_bcache_find(&cli->cp->cache, &s[i]->prefix, plen);
		char who[INET6_ADDRSTRLEN + 8];
		int rc;
		if (cb) {
			inet_ntop(AF_INET6, &cb->hoa, who, sizeof(who));
			rc = cp_reallocate(cli->cp, &cb->hoa, &ha);
		} else {
			inet_ntop(AF_INET6, &s[i]->prefix, who, sizeof(who));
			snprintf(who + strlen(who), sizeof(who) - strlen(who), "/%u", plen);
			rc = cp_reallocate_prefix(cli->cp, &s[i]->prefix, plen, &ha);
		}
		if (rc < 0) {
			fprintf(out, "= 1 out of memory\n");
			return -1;
		}
		cp_cli_line(out, "%s: the Home Agent Switch to %s follows the BA of its next Binding Update",
		     who, r->argv[3]);
	}
	return 0;
}

/* "ADDRESS/LENGTH" with no host bits set. @return 0, or -1 with the final line written. */
static int parse_prefix(const char *text, struct ha_route_spec *spec, FILE *out)
{
	char a[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	char *end;
	if (!slash || (size_t)(slash - text) >= sizeof(a)) {
		fprintf(out, "= 2 '%s' is not a prefix (ADDRESS/LENGTH)\n", text);
		return -1;
	}
	memcpy(a, text, (size_t)(slash - text));
	a[slash - text] = '\0';
	long len = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, a, spec->prefix) == 1)
		spec->family = AF_INET;
	else if (inet_pton(AF_INET6, a, spec->prefix) == 1)
		spec->family = AF_INET6;
	int max = spec->family == AF_INET ? 32 : 128;
	if (!spec->family || !slash[1] || *end || len < 0 || len > max) {
		fprintf(out, "= 2 '%s' is not a prefix (ADDRESS/LENGTH)\n", text);
		return -1;
	}
	spec->prefix_len = (uint8_t)len;
	for (int bit = (int)len; bit < max; bit++)
		if (spec->prefix[bit / 8] & (0x80 >> (bit % 8))) {
			fprintf(out, "= 2 %s has host bits set beyond /%ld\n", a, len);
			return -1;
		}
	return 0;
}

static int route_result(const char *what, int rc, FILE *out)
{
	switch (rc) {
	case 0:
		return 0;
	case -ENOENT:
		fprintf(out, "= 1 %s: hadp has no route to that prefix\n", what);
		break;
	case -ENOSPC:
		fprintf(out, "= 1 %s: hadp's route table is full (tables.max_routes), or its routers "
			     "are too many\n", what);
		break;
	case -ETIMEDOUT:
		fprintf(out, "= 1 %s: hadp did not answer; the change may still be made\n", what);
		break;
	case -ENOBUFS:
		fprintf(out, "= 1 %s: hadp's command ring is full; try again\n", what);
		break;
	default:
		fprintf(out, "= 1 %s: %s\n", what, strerror(-rc));
	}
	return -1;
}

void cp_cli_route_done(struct cp_cli *cli, const struct cp_cli_job *job, int result, FILE *out)
{
	if (job->reload) {
		cp_reload_finish(cli->reload, result == -ETIMEDOUT, out);
		return;
	}
	if (route_result(job->what, result, out) < 0) {
		cli->errors++;
		return;
	}
	cp_cli_line(out, "%s", job->done_line);
	fprintf(out, "= 0 ok\n");
}

/* The command goes to hadp; its answer comes later (cp_cli_ack) while the connection waits. */
static int route_send(struct cp_cli *cli, const struct request *r,
		      const struct ha_route_spec *spec, bool add, FILE *out)
{
	const char *what = add ? "route add" : "route delete";
	uint32_t seq = 0;
	int rc = cli->route ? cli->route(cli->route_arg, spec, add, &seq) : -ENOTSUP;
	if (route_result(what, rc, out) < 0)
		return -1;
	*r->job = (struct cp_cli_job){ .wait_seq = seq };
	snprintf(r->job->what, sizeof(r->job->what), "%s", what);
	if (add)
		snprintf(r->job->done_line, sizeof(r->job->done_line), "%s via %s", r->argv[2],
			 r->argv[4]);
	else
		snprintf(r->job->done_line, sizeof(r->job->done_line), "%s removed", r->argv[2]);
	return CMD_WAIT;
}

static int cmd_route_add(struct cp_cli *cli, const struct request *r, FILE *out)
{
	struct ha_route_spec spec = { 0 };
	if (parse_prefix(r->argv[2], &spec, out) < 0)
		return -1;
	unsigned mac[6];
	char tail;
	uint8_t router[16];
	if (strcmp(r->argv[3], "via")) {
		fprintf(out, "= 2 usage: route add PREFIX via ROUTER-ADDRESS|MAC\n");
		return -1;
	}
	if (inet_pton(spec.family, r->argv[4], router) == 1) {
		spec.flags = HA_ROUTE_F_ROUTER;
		memcpy(spec.router, router, spec.family == AF_INET ? 4 : 16);
	} else if (sscanf(r->argv[4], "%2x:%2x:%2x:%2x:%2x:%2x%c", &mac[0], &mac[1], &mac[2],
			  &mac[3], &mac[4], &mac[5], &tail) == 6 && !(mac[0] & 1)) {
		for (int i = 0; i < 6; i++)
			spec.mac[i] = (uint8_t)mac[i];
	} else {
		fprintf(out, "= 2 '%s' is neither an %s router address nor a unicast MAC address\n",
			r->argv[4], spec.family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	return route_send(cli, r, &spec, true, out);
}

static int cmd_route_delete(struct cp_cli *cli, const struct request *r, FILE *out)
{
	struct ha_route_spec spec = { 0 };
	if (parse_prefix(r->argv[2], &spec, out) < 0)
		return -1;
	return route_send(cli, r, &spec, false, out);
}

/* The connection stays, and cp_cli_monitor_push queues the events on it (cp_cli_io.c). */
static int cmd_monitor(struct cp_cli *cli, const struct request *r, FILE *out)
{
	(void)r;
	if (cli->n_monitors >= CP_CLI_MAX_MONITORS) {
		cli->mon_refused++;
		fprintf(out, "= 1 busy: hacpd serves %u monitors at once\n", CP_CLI_MAX_MONITORS);
		return -1;
	}
	cp_cli_line(out, "{\"event\":\"monitor-started\",\"queue_octets\":%u}", CP_CLI_MONITOR_QUEUE);
	return CMD_MONITOR;
}

enum cp_cli_state cp_cli_run(struct cp_cli *cli, const char *text, FILE *out,
			     struct cp_cli_job *job)
{
	struct request r = { .job = job };
	char buf[CP_CLI_REQUEST_MAX];

	cli->requests++;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *save = NULL, *t = strtok_r(buf, " \t\r\n", &save); t;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (!strcmp(t, "--json")) {
			r.json = true;
			continue;
		}
		if (!strcmp(t, "--format")) {
			r.format = strtok_r(NULL, " \t\r\n", &save);
			if (!r.format) {
				fprintf(out, "= 2 --format needs a name (text, json, openmetrics)\n");
				cli->errors++;
				return CP_CLI_DONE;
			}
			continue;
		}
		if (!strncmp(t, "--", 2) && t[2]) /* "--to" and the like are keywords */
			t += 2;
		if (r.argc == MAX_ARGS) {
			fprintf(out, "= 2 too many words\n");
			cli->errors++;
			return CP_CLI_DONE;
		}
		r.argv[r.argc++] = t;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		int w = 0;
		while (w < 3 && c->words[w] && w < r.argc && !strcmp(c->words[w], r.argv[w]))
			w++;
		if (w < 3 && c->words[w])
			continue;
		if (r.argc != w + c->nargs || (r.format && c->fn != cmd_show_stats)) {
			fprintf(out, "= 2 usage: %s\n", c->help);
			cli->errors++;
			return CP_CLI_DONE;
		}
		int rc = c->fn(cli, &r, out);
		if (rc == CMD_MORE)
			return CP_CLI_MORE;
		if (rc == CMD_WAIT)
			return CP_CLI_WAIT;
		if (rc == CMD_MONITOR)
			return CP_CLI_MONITOR;
		if (rc < 0)
			cli->errors++; /* the command wrote its own final line */
		else
			fprintf(out, "= 0 ok\n");
		return CP_CLI_DONE;
	}
	fprintf(out, "= 2 unknown command '%s' (try: help)\n", r.argc ? r.argv[0] : "");
	cli->errors++;
	return CP_CLI_DONE;
}
