/* hactl config reload (see cp_reload.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cp_cli.h"
#include "cp_pool6.h"
#include "cp_log.h"
#include "cp_reload.h"
#include "ha_config_diff.h"
#include "ha_sa.h"
#include "ha_static.h"

/* The reload refused: a line per reason, the first one in the final line. @return -1. */
static int refuse(struct cp_reload *r, FILE *out, const char *first, unsigned more)
{
	r->refused++;
	if (more)
		fprintf(out, "= 1 refused: %s (and %u more above)\n", first, more);
	else
		fprintf(out, "= 1 refused: %s\n", first);
	return -1;
}

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The IKE child SAs hadp holds, as (direction << 32 | SPI), sorted; NULL without memory. */
static uint64_t *ike_sa_keys(const struct cp_ike *ike, size_t *n)
{
	size_t cap = 16, k = 0;
	uint64_t *v = malloc(cap * sizeof(*v));
	for (uint32_t i = 0; v && i < ike->capacity; i++) {
		const struct cp_ike_session *s = &ike->slots[i];
		for (unsigned j = 0; s->used && j < s->n_sa && j < 16; j++) {
			if (k == cap) {
				uint64_t *w = realloc(v, 2 * cap * sizeof(*v));
				if (!w) {
					free(v);
					return NULL;
				}
				v = w;
				cap *= 2;
			}
			v[k++] = (uint64_t)s->sa[j].dir << 32 | s->sa[j].spi;
		}
	}
	if (v)
		qsort(v, k, sizeof(*v), key_cmp);
	*n = k;
	return v;
}

/* What hacpd's state forbids now, though the file allows it: a line each. @return how many. */
static unsigned state_refusals(struct cp_reload *r, const struct ha_config *n,
			       const struct ha_cfg_diff *d, char *first, size_t first_sz, FILE *out)
{
	const struct ha_config *o = r->cfg;
	unsigned bad = 0;
	char why[224];
	uint64_t *ike_sas = NULL;
	size_t n_ike_sas = 0;

	for (size_t k = 0; k < d->n; k++) {
		const struct ha_cfg_change *c = &d->v[k];
		why[0] = '\0';
		if (c->item == HA_ITEM_PDN && c->kind == HA_CHG_REMOVED) {
			/* bindings and sessions name their PDN by index: it must hold none */
			unsigned nb = 0, ns = 0;
			for (uint32_t i = 0; i < r->cp->cache.capacity; i++)
				nb += r->cp->cache.slots[i].in_use && r->cp->cache.slots[i].pdn == (uint32_t)c->old_i;
			for (uint32_t i = 0; r->ike && i < r->ike->capacity; i++)
				ns += r->ike->slots[i].used && r->ike->slots[i].pdn == (uint32_t)c->old_i;
			if (nb || ns)
				snprintf(why, sizeof(why), "pdns: '%s' cannot be removed: %u bindings and "
					 "%u IKE sessions use it", o->pdns[c->old_i].name, nb, ns);
		} else if (c->item == HA_ITEM_BINDING && c->kind == HA_CHG_ADDED) {
			const struct ha_config_binding *b = &n->static_bindings[c->new_i];
			const struct ha_config_pdn *p = &n->pdns[b->pdn];
			int old_pdn = -1;
			for (unsigned i = 0; i < o->n_pdns; i++)
				if (!strcmp(o->pdns[i].name, p->name))
					old_pdn = (int)i;
			char pfx[INET6_ADDRSTRLEN];
			inet_ntop(AF_INET6, &b->home_prefix, pfx, sizeof(pfx));
			if (cp_bcache_find(&r->cp->cache, &b->home_prefix, b->home_prefix_len) ||
			    (r->ike && cp_ike_session_by_prefix(r->ike, b->home_prefix.s6_addr)) ||
			    (r->ike && old_pdn >= 0 &&
			     cp_pool6_take(&r->ike->pool6[old_pdn], &b->home_prefix) == -EBUSY))
				snprintf(why, sizeof(why), "static_bindings: %s/%u is a UE's home prefix now",
					 pfx, b->home_prefix_len);
			else if (r->ike && old_pdn >= 0) /* the probe took it: give it back */
				cp_pool6_release(&r->ike->pool6[old_pdn], &b->home_prefix);
		} else if (c->item == HA_ITEM_SA && c->kind == HA_CHG_ADDED && r->ike) {
			/* hadp keeps one SA per (SPI, direction): this one would replace an IKE SA's */
			const struct ha_config_sa *s = &n->static_sas[c->new_i];
			uint64_t key = (uint64_t)(s->direction == HA_CFG_SA_IN ? HA_SA_IN : HA_SA_OUT)
				       << 32 | s->spi;
			if (!ike_sas && !(ike_sas = ike_sa_keys(r->ike, &n_ike_sas)))
				snprintf(why, sizeof(why), "no memory to compare static_sas with the IKE "
					 "SAs");
			else if (bsearch(&key, ike_sas, n_ike_sas, sizeof(key), key_cmp))
				snprintf(why, sizeof(why), "static_sas: spi 0x%08x %s is an IKE child "
					 "SA's", s->spi, s->direction == HA_CFG_SA_IN ? "in" : "out");
		}
		if (!why[0])
			continue;
		cp_cli_line(out, "refused: %s", why);
		if (!bad++)
			snprintf(first, first_sz, "%s", why);
	}
	free(ike_sas);
	return bad;
}

/* ---- hadp's commands, in an order hadp accepts: bindings off the SAs they use, SAs, bindings
 * on them, routes ---- */

struct cmds {
	struct ha_cmd *v;
	char (*what)[112];
	unsigned n, cap;
};

static struct ha_cmd *cmd(struct cmds *c, uint16_t type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct ha_cmd *cmd(struct cmds *c, uint16_t type, const char *fmt, ...)
{
	if (c->n == c->cap) {
		unsigned cap = c->cap ? 2 * c->cap : 64;
		struct ha_cmd *v = realloc(c->v, cap * sizeof(*v));
		if (v)
			c->v = v;
		char (*w)[112] = realloc(c->what, cap * sizeof(*w));
		if (w)
			c->what = w;
		if (!v || !w)
			return NULL;
		c->cap = cap;
	}
	struct ha_cmd *x = &c->v[c->n];
	*x = (struct ha_cmd){ .version = HA_RING_VERSION, .type = type };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->what[c->n], sizeof(c->what[0]), fmt, ap);
	va_end(ap);
	c->n++;
	return x;
}

static void route_spec(const struct ha_config_route *rt, struct ha_route_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->family = rt->prefix.family;
	s->prefix_len = rt->prefix_len;
	size_t alen = rt->prefix.family == AF_INET ? 4 : 16;
	memcpy(s->prefix, rt->prefix.family == AF_INET ? (const void *)&rt->prefix.v4
						       : (const void *)&rt->prefix.v6, alen);
	if (rt->has_next_hop) {
		s->flags = HA_ROUTE_F_ROUTER;
		memcpy(s->router, rt->next_hop.family == AF_INET ? (const void *)&rt->next_hop.v4
								 : (const void *)&rt->next_hop.v6, alen);
	} else {
		memcpy(s->mac, rt->next_hop_mac, 6);
	}
}

/* Static bindings removed or changed (their delete, from the old file), or added or changed
 * (install: their upsert from the new one, generation 0 as hadp's own start makes them, which a
 * restarted hacpd's re-assertion never sweeps). */
static int binding_cmds(struct cmds *c, const struct ha_config *cfg, const struct ha_cfg_diff *d,
			bool install)
{
	for (size_t k = 0; k < d->n; k++) {
		const struct ha_cfg_change *ch = &d->v[k];
		if (ch->item != HA_ITEM_BINDING ||
		    ch->kind == (install ? HA_CHG_REMOVED : HA_CHG_ADDED))
			continue;
		const struct ha_config_binding *b = &cfg->static_bindings[install ? ch->new_i
										     : ch->old_i];
		char p[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &b->home_prefix, p, sizeof(p));
		struct ha_cmd *x = cmd(c, install ? HA_CMD_BINDING_UPSERT : HA_CMD_BINDING_DELETE,
				       "static binding %s/%u %s", p, b->home_prefix_len,
				       install ? "add" : "delete");
		if (!x)
			return -1;
		ha_binding_spec_from_config(b, &x->binding);
		x->generation = 0;
	}
	return 0;
}

static int build_cmds(const struct ha_config *o, const struct ha_config *n,
		      const struct ha_cfg_diff *d, struct cmds *c)
{
	struct ha_cmd *x;
	/* 1: static bindings that go or change leave first: hadp replaces no SA a binding uses */
	if (binding_cmds(c, o, d, false) < 0)
		return -1;
	/* 2: SAs removed or changed, then added or changed: a changed SA is deleted first (hadp
	 * refuses an add over an SA of another key: dataplane/dp_sa_table.h) */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < d->n; k++) {
			const struct ha_cfg_change *ch = &d->v[k];
			if (ch->item != HA_ITEM_SA ||
			    ch->kind == (pass == 0 ? HA_CHG_ADDED : HA_CHG_REMOVED))
				continue;
			const struct ha_config_sa *s = pass ? &n->static_sas[ch->new_i]
							    : &o->static_sas[ch->old_i];
			const char *dir = s->direction == HA_CFG_SA_IN ? "in" : "out";
			if (!(x = cmd(c, pass ? HA_CMD_SA_ADD : HA_CMD_SA_DELETE, "static SA 0x%08x %s %s",
				      s->spi, dir, pass ? "add" : "delete")))
				return -1;
			if (pass) {
				ha_sa_spec_from_config(s, &x->sa);
			} else {
				x->sa_del.spi = s->spi;
				x->sa_del.direction = s->direction == HA_CFG_SA_IN ? HA_SA_IN : HA_SA_OUT;
			}
		}
	/* 3: static bindings added or changed */
	if (binding_cmds(c, n, d, true) < 0)
		return -1;
	/* 4: routes: removed, then added or changed (an add replaces the route of its prefix) */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < d->n; k++) {
			const struct ha_cfg_change *ch = &d->v[k];
			if (ch->item != HA_ITEM_ROUTE || (ch->kind == HA_CHG_REMOVED) != (pass == 0))
				continue;
			const struct ha_config_route *rt = pass ? &n->dataplane.routes[ch->new_i]
								: &o->dataplane.routes[ch->old_i];
			char p[INET6_ADDRSTRLEN];
			inet_ntop(rt->prefix.family, rt->prefix.family == AF_INET
				  ? (const void *)&rt->prefix.v4 : (const void *)&rt->prefix.v6, p, sizeof(p));
			if (!(x = cmd(c, pass ? HA_CMD_ROUTE_ADD : HA_CMD_ROUTE_DELETE, "route %s/%u %s",
				      p, rt->prefix_len, pass ? "add" : "delete")))
				return -1;
			route_spec(rt, &x->route);
		}
	return 0;
}

/* ---- hacpd's own state ---- */

/* The PDNs' pools in the new order (by name), new ones made; @return 0, or -ENOMEM with
 * nothing changed. map[old index] = new index or -1. */
static int pools_prepare(struct cp_reload *r, const struct ha_config *n, int *map,
			 struct cp_pool4 *p4, struct cp_pool6 *p6)
{
	const struct ha_config *o = r->cfg;
	memset(p4, 0, HA_CFG_MAX_PDNS * sizeof(*p4));
	memset(p6, 0, HA_CFG_MAX_PDNS * sizeof(*p6));
	for (unsigned i = 0; i < o->n_pdns; i++)
		map[i] = -1;
	for (unsigned j = 0; j < n->n_pdns; j++) {
		const struct ha_config_pdn *y = &n->pdns[j];
		int i = -1;
		for (unsigned k = 0; k < o->n_pdns; k++)
			if (!strcmp(o->pdns[k].name, y->name))
				i = (int)k;
		if (i >= 0)
			map[i] = (int)j;
		bool new4 = y->has_ipv4_pool && (i < 0 || !o->pdns[i].has_ipv4_pool);
		if (new4 && cp_pool4_init(&p4[j], y->pool4, y->pool4_len) < 0)
			goto nomem;
		if (r->ike && i < 0 &&
		    cp_pool6_init(&p6[j], &y->pool6, y->pool6_len, y->home_prefix_len) < 0)
			goto nomem;
	}
	return 0;
nomem:
	for (unsigned j = 0; j < HA_CFG_MAX_PDNS; j++) {
		cp_pool4_free(&p4[j]);
		cp_pool6_free(&p6[j]);
	}
	return -ENOMEM;
}

/* From here nothing fails: the pools move to their new indexes, the bindings and sessions
 * follow their PDN's. */
static void pools_commit(struct cp_reload *r, const struct ha_config *n, const int *map,
			 struct cp_pool4 *p4, struct cp_pool6 *p6)
{
	const struct ha_config *o = r->cfg;
	for (unsigned i = 0; i < o->n_pdns; i++) {
		if (map[i] < 0) {
			cp_pool4_free(&r->cp->pool4[i]);
			if (r->ike)
				cp_pool6_free(&r->ike->pool6[i]);
			continue;
		}
		if (!cp_pool4_ready(&p4[map[i]]))
			p4[map[i]] = r->cp->pool4[i];
		else /* a pool where there was none: the old (empty) one goes */
			cp_pool4_free(&r->cp->pool4[i]);
		if (r->ike)
			p6[map[i]] = r->ike->pool6[i];
	}
	memcpy(r->cp->pool4, p4, sizeof(r->cp->pool4));
	if (r->ike)
		memcpy(r->ike->pool6, p6, sizeof(r->ike->pool6));
	(void)n;
	for (uint32_t i = 0; i < r->cp->cache.capacity; i++) {
		struct cp_binding *b = &r->cp->cache.slots[i];
		if (b->in_use && b->pdn < o->n_pdns && map[b->pdn] >= 0)
			b->pdn = (uint32_t)map[b->pdn];
	}
	/* a session's key is "pdn|nai": indexed again under its PDN's new index */
	for (uint32_t i = 0; r->ike && i < r->ike->capacity; i++) {
		struct cp_ike_session *s = &r->ike->slots[i];
		if (!s->used || s->pdn >= o->n_pdns || map[s->pdn] < 0 || map[s->pdn] == (int)s->pdn)
			continue;
		struct cp_ike_session *in;
		HASH_FIND(hh_user, r->ike->by_user, s->user, strlen(s->user), in);
		if (in == s)
			HASH_DELETE(hh_user, r->ike->by_user, s);
		s->pdn = (uint32_t)map[s->pdn];
		snprintf(s->user, sizeof(s->user), "%u|%s", s->pdn, s->nai);
		if (in == s)
			HASH_ADD_KEYPTR(hh_user, r->ike->by_user, s->user, strlen(s->user), s);
	}
}

/* Static bindings' prefixes are no UE's to be given (IKEv2), and static transport SAs protect
 * their home address's signalling (RFC 4877): both follow the file. */
static void statics_commit(struct cp_reload *r, const struct ha_config *n, const int *map,
			   const struct ha_cfg_diff *d)
{
	const struct ha_config *o = r->cfg;
	for (size_t k = 0; k < d->n; k++) {
		const struct ha_cfg_change *c = &d->v[k];
		if (c->item == HA_ITEM_BINDING && r->ike) {
			if (c->kind == HA_CHG_REMOVED) {
				const struct ha_config_binding *b = &o->static_bindings[c->old_i];
				if (map[b->pdn] >= 0)
					cp_pool6_release(&r->ike->pool6[map[b->pdn]], &b->home_prefix);
			} else if (c->kind == HA_CHG_ADDED) {
				const struct ha_config_binding *b = &n->static_bindings[c->new_i];
				cp_pool6_take(&r->ike->pool6[b->pdn], &b->home_prefix);
			}
		}
		if (c->item != HA_ITEM_SA)
			continue;
		if (c->old_i >= 0) {
			const struct ha_config_sa *s = &o->static_sas[c->old_i];
			if (s->mode == HA_CFG_SA_TRANSPORT && s->peer.family == AF_INET6)
				cp_sigsa_del(&r->cp->sigsa, 0, 0, s->spi, s->direction == HA_CFG_SA_IN);
		}
		if (c->new_i >= 0) {
			const struct ha_config_sa *s = &n->static_sas[c->new_i];
			if (s->mode == HA_CFG_SA_TRANSPORT && s->peer.family == AF_INET6)
				cp_sigsa_add(&r->cp->sigsa, 0, 0, &s->peer.v6, s->spi,
					     s->direction == HA_CFG_SA_IN);
		}
	}
}

/* The new configuration takes the running one's place (the same struct: every pointer to it
 * stays good); what the old one allocated goes. */
static void config_commit(struct cp_reload *r, struct ha_config *n)
{
	struct ha_config *o = r->cfg;
	memcpy(n->source, o->source, sizeof(n->source));
	free(o->static_sas);
	free(o->static_bindings);
	*o = *n;
	memset(n, 0, sizeof(*n)); /* its arrays are the running configuration's now */
	if (r->guard)
		r->guard->guard_ms = (uint64_t)o->ike.detach_guard_s * 1000u;
}

int cp_reload_run(struct cp_reload *r, FILE *out, uint32_t *last_seq)
{
	if (r->waiting) {
		r->refused++;
		fprintf(out, "= 1 a reload is still waiting for hadp's answers\n");
		return -1;
	}
	struct ha_config *n = calloc(1, sizeof(*n));
	struct ha_config_error err;
	struct ha_cfg_diff d = { 0 };
	struct cmds c = { 0 };
	struct cp_pool4 p4[HA_CFG_MAX_PDNS];
	struct cp_pool6 p6[HA_CFG_MAX_PDNS];
	int map[HA_CFG_MAX_PDNS];
	int rc = -1;

	if (!n) {
		fprintf(out, "= 1 out of memory\n");
		return -1;
	}
	if (ha_config_load_file(r->path, n, &err) < 0) {
		/* the loader's line names the file, line, column and key; nothing changes */
		r->refused++;
		fprintf(out, "= 2 %s\n", err.msg);
		goto done;
	}
	if (ha_config_diff(r->cfg, n, &d) < 0) {
		fprintf(out, "= 1 out of memory\n");
		goto done;
	}
	const char *first = NULL;
	for (size_t k = 0; k < d.n; k++)
		if (d.v[k].refused) {
			cp_cli_line(out, "refused: %s", d.v[k].text);
			first = first ? first : d.v[k].text;
		}
	if (first) {
		rc = refuse(r, out, first, (unsigned)d.refused - 1);
		goto done;
	}
	char why[224];
	unsigned bad = state_refusals(r, n, &d, why, sizeof(why), out);
	if (bad) {
		rc = refuse(r, out, why, bad - 1);
		goto done;
	}
	if (build_cmds(r->cfg, n, &d, &c) < 0) {
		fprintf(out, "= 1 out of memory\n");
		goto done;
	}
	unsigned room = r->room ? r->room(r->arg) : 0;
	if (c.n > room) {
		snprintf(why, sizeof(why), "hadp's command ring has room for %u commands now, the "
			 "reload needs %u: try again", room, c.n);
		rc = refuse(r, out, why, 0);
		goto done;
	}
	if (pools_prepare(r, n, map, p4, p6) < 0) {
		fprintf(out, "= 1 out of memory\n");
		goto done;
	}
	/* decided: everything below is applied */
	pools_commit(r, n, map, p4, p6);
	statics_commit(r, n, map, &d);
	config_commit(r, n);
	cp_log_open(r->cfg); /* logging.* take effect at once */
	r->applied++;
	for (size_t k = 0; k < d.n; k++)
		cp_cli_line(out, "%s", d.v[k].text);
	if (!d.n)
		cp_cli_line(out, "%s: no change", r->path);
	rc = 0;
	if (!c.n)
		goto done;
	/* hadp's part: the answer ends when hadp has answered the last command */
	free(r->what);
	r->what = c.what;
	c.what = NULL;
	r->waiting = true;
	r->n_cmds = c.n;
	r->n_acked = r->failed = 0;
	for (unsigned i = 0; i < c.n; i++) {
		int src = r->send(r->arg, &c.v[i]);
		if (i == 0)
			r->first_seq = c.v[i].seq;
		if (src < 0) { /* the room was counted: cannot happen, yet never wait for it */
			r->waiting = false;
			fprintf(out, "= 1 hadp's command ring refused %s and what follows: %s\n",
				r->what[i], strerror(-src));
			rc = -1;
			goto done;
		}
		*last_seq = c.v[i].seq;
	}
	rc = 1;
done:
	free(c.v);
	free(c.what);
	ha_cfg_diff_free(&d);
	ha_config_free(n);
	free(n);
	return rc;
}

bool cp_reload_ack(struct cp_reload *r, uint32_t seq, int result, bool *done)
{
	uint32_t i = seq - r->first_seq;
	*done = false;
	if (!r->waiting || i >= r->n_cmds)
		return false;
	if (result && r->failed < sizeof(r->failures) / sizeof(r->failures[0]))
		snprintf(r->failures[r->failed], sizeof(r->failures[0]), "%s: %s", r->what[i],
			 strerror(-result));
	r->failed += result != 0;
	r->n_acked++;
	*done = i == r->n_cmds - 1;
	return true;
}

void cp_reload_finish(struct cp_reload *r, bool timed_out, FILE *out)
{
	bool was = r->waiting;
	r->waiting = false; /* late answers are nobody's */
	if (!out)
		return;
	if (timed_out || !was) {
		fprintf(out, "= 1 config reload: hadp answered %u of %u changes in time; the rest may "
			     "still be made\n", r->n_acked, r->n_cmds);
		return;
	}
	for (unsigned i = 0; i < r->failed && i < sizeof(r->failures) / sizeof(r->failures[0]); i++)
		cp_cli_line(out, "hadp refused: %s", r->failures[i]);
	if (r->failed) {
		fprintf(out, "= 1 config reload: hadp refused %u of its %u changes (the rest is "
			     "applied)\n", r->failed, r->n_cmds);
		return;
	}
	cp_cli_line(out, "hadp applied its %u changes", r->n_cmds);
	fprintf(out, "= 0 ok\n");
}
