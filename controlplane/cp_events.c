/* Binding events for the operator (see cp_events.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cp_events.h"
#include "cp_log.h"
#include "ha_json.h"

/* Each event's log kind and priority: what an operator acts on at info and above; a refresh
 * (every BU of every UE) only at debug. */
static const struct {
	enum cp_log_kind kind;
	int prio;
} logged[CP_BEV__COUNT] = {
	[CP_BEV_NONE] = { CP_LOG_OTHER, LOG_DEBUG },
	[CP_BEV_REGISTERED] = { CP_LOG_REGISTERED, LOG_INFO },
	[CP_BEV_MOVED] = { CP_LOG_MOVED, LOG_INFO },
	[CP_BEV_REFRESHED] = { CP_LOG_REFRESHED, LOG_DEBUG },
	[CP_BEV_DEREG] = { CP_LOG_DEREG, LOG_INFO },
	[CP_BEV_DEREG_HOME] = { CP_LOG_DEREG, LOG_INFO },
	[CP_BEV_DEREG_IKE] = { CP_LOG_DEREG, LOG_INFO },
	[CP_BEV_REVOKING] = { CP_LOG_REVOKE, LOG_NOTICE },
	[CP_BEV_REVOKED] = { CP_LOG_REVOKE, LOG_NOTICE },
	[CP_BEV_REVOKED_DEREG] = { CP_LOG_REVOKE, LOG_NOTICE },
	[CP_BEV_UNANSWERED] = { CP_LOG_REVOKE, LOG_WARNING },
	[CP_BEV_EXPIRED] = { CP_LOG_EXPIRED, LOG_NOTICE },
};

static void coa_str(const struct ha_cfg_addr *a, char *buf, size_t n)
{
	if (!a->family || !inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4
				     : (const void *)&a->v6, buf, (socklen_t)n))
		snprintf(buf, n, "-");
}

static const char *nai_of(const struct cp_events *ev, const struct cp_event *e)
{
	const struct cp_ike_session *s = ev->ike ? cp_ike_session_by_prefix(ev->ike, e->prefix) : NULL;
	return s && s->nai[0] ? s->nai : NULL;
}

size_t cp_event_json(const struct cp_events *ev, const struct cp_event *e, char *buf, size_t n)
{
	char hoa[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN + 4], coa[INET6_ADDRSTRLEN], v4[INET_ADDRSTRLEN];
	char when[40];
	struct tm tm;
	struct ha_json j;

	gmtime_r(&e->when.tv_sec, &tm);
	size_t w = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + w, sizeof(when) - w, ".%03ldZ", e->when.tv_nsec / 1000000);
	inet_ntop(AF_INET6, &e->hoa, hoa, sizeof(hoa));
	inet_ntop(AF_INET6, e->prefix, pfx, sizeof(pfx));
	snprintf(pfx + strlen(pfx), sizeof(pfx) - strlen(pfx), "/%u", e->prefix_len);
	FILE *f = fmemopen(buf, n, "w");
	if (!f)
		return 0;
	hj_init(&j, f);
	hj_obj_begin(&j, NULL);
	hj_str(&j, "time", when);
	hj_str(&j, "event", cp_bev_name(e->type));
	hj_str(&j, "reason", cp_bev_reason(e->type));
	hj_str(&j, "home_address", hoa);
	hj_str(&j, "home_prefix", pfx);
	if (e->pdn >= 0 && (unsigned)e->pdn < ev->cfg->n_pdns)
		hj_str(&j, "pdn", ev->cfg->pdns[e->pdn].name);
	if (e->has_hoa4) {
		inet_ntop(AF_INET, &e->hoa4, v4, sizeof(v4));
		hj_str(&j, "ipv4_home_address", v4);
	}
	const char *nai = nai_of(ev, e);
	if (nai)
		hj_str(&j, "nai", nai);
	coa_str(&e->coa, coa, sizeof(coa));
	hj_str(&j, "care_of", coa);
	if (e->udp_port)
		hj_uint(&j, "udp_port", e->udp_port);
	if (e->has_prev) {
		coa_str(&e->prev_coa, coa, sizeof(coa));
		hj_str(&j, "previous_care_of", coa);
		if (e->prev_port)
			hj_uint(&j, "previous_udp_port", e->prev_port);
	}
	hj_uint(&j, "lifetime", e->lifetime);
	hj_uint(&j, "sequence", e->seq);
	hj_obj_end(&j);
	fflush(f);
	long len = ftell(f);
	bool whole = !ferror(f) && len > 0 && (size_t)len < n;
	fclose(f);
	return whole ? (size_t)len : 0;
}

/* The log line: who (home address, NAI), where (PDN, care-of address), what and why. */
static void log_event(const struct cp_events *ev, const struct cp_event *e)
{
	char hoa[INET6_ADDRSTRLEN], coa[INET6_ADDRSTRLEN], prev[INET6_ADDRSTRLEN] = "";
	char v4[INET_ADDRSTRLEN] = "";
	const char *nai = nai_of(ev, e);

	inet_ntop(AF_INET6, &e->hoa, hoa, sizeof(hoa));
	coa_str(&e->coa, coa, sizeof(coa));
	if (e->has_prev)
		coa_str(&e->prev_coa, prev, sizeof(prev));
	if (e->has_hoa4)
		inet_ntop(AF_INET, &e->hoa4, v4, sizeof(v4));
	cp_log_write(logged[e->type].prio, "binding %s (%s): %s%s%s pdn %s care-of %s%s%s%s%s",
	       cp_bev_name(e->type), cp_bev_reason(e->type), hoa, nai ? " nai " : "", nai ? nai : "",
	       e->pdn >= 0 && (unsigned)e->pdn < ev->cfg->n_pdns ? ev->cfg->pdns[e->pdn].name : "-",
	       coa, e->has_prev ? " from " : "", prev, e->has_hoa4 ? " ipv4 " : "", v4);
}

void cp_event_emit(struct cp_events *ev, const struct cp_event *e)
{
	if ((unsigned)e->type >= CP_BEV__COUNT || e->type == CP_BEV_NONE)
		return;
	ev->emitted++;
	if (cp_log_take(logged[e->type].kind, logged[e->type].prio))
		log_event(ev, e); /* rate-limited before the line is made */
	if (!ev->cli || !ev->cli->n_monitors)
		return; /* no monitor: a storm's events cost no formatting */
	char buf[1024];
	size_t len = cp_event_json(ev, e, buf, sizeof(buf));
	if (len)
		cp_cli_monitor_push(ev->cli, buf, len);
}

static void addr_of_spec(const struct ha_binding_spec *s, struct ha_cfg_addr *a, uint16_t *port)
{
	*a = (struct ha_cfg_addr){ .family = s->flags & HA_BIND_F_COA4 ? AF_INET : AF_INET6 };
	if (a->family == AF_INET)
		memcpy(&a->v4, s->coa, 4);
	else
		memcpy(&a->v6, s->coa, 16);
	*port = s->flags & HA_BIND_F_UDP ? s->udp_port : 0;
}

void cp_events_bu(struct cp_ctx *cp, const struct cp_bu_out *out)
{
	struct cp_events *ev = cp->event_arg;
	if (!ev || out->drop || out->event == CP_BEV_NONE)
		return;
	struct cp_event e = { .type = out->event, .hoa = out->hoa, .pdn = out->pdn,
			      .prefix_len = out->spec.home_prefix_len, .seq = out->ba.ba.seq,
			      .lifetime = (uint32_t)out->ba.ba.lifetime * MH_LIFETIME_UNIT };
	clock_gettime(CLOCK_REALTIME, &e.when);
	memcpy(e.prefix, out->spec.home_prefix, 16);
	addr_of_spec(&out->spec, &e.coa, &e.udp_port);
	if (out->spec.flags & HA_BIND_F_IPV4_HOA) {
		e.has_hoa4 = true;
		memcpy(&e.hoa4, out->spec.hoa4, 4);
	}
	if (out->event == CP_BEV_MOVED) {
		e.has_prev = true;
		e.prev_coa = out->prev_coa;
		e.prev_port = out->prev_port;
	}
	cp_event_emit(ev, &e);
}

/* cp_ctx.binding_event: what the HA did on its own, told before the binding goes. */
static void on_binding(void *arg, enum cp_bev type, const struct cp_binding *b)
{
	struct cp_event e = { .type = type, .hoa = b->hoa, .prefix_len = (uint8_t)b->key.len,
			      .pdn = (int)b->pdn, .has_hoa4 = b->has_hoa4, .hoa4 = b->hoa4,
			      .coa = b->coa, .udp_port = b->udp ? b->udp_port : 0, .seq = b->seq,
			      .lifetime = type == CP_BEV_REVOKING || type == CP_BEV_UNANSWERED
					  ? b->lifetime : 0 };
	clock_gettime(CLOCK_REALTIME, &e.when);
	memcpy(e.prefix, b->key.prefix, 16);
	cp_event_emit(arg, &e);
}

void cp_events_open(struct cp_events *ev, struct cp_ctx *cp, struct cp_cli *cli,
		    const struct cp_ike *ike)
{
	*ev = (struct cp_events){ .cfg = cp->cfg, .cli = cli, .ike = ike };
	cp->binding_event = on_binding;
	cp->event_arg = ev;
}
