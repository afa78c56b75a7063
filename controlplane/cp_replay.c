#include <errno.h>
#include <string.h>

#include "cp_replay.h"

struct sa_key {
	uint32_t spi;
	uint8_t dir;
};

static void index_sa(struct cp_replay *r, struct cp_replay_sa *s)
{
	HASH_ADD(hh, r->by_key, spec.spi, sizeof(uint32_t) + sizeof(uint8_t), s);
}

static struct cp_replay_sa *find_sa(struct cp_replay *r, uint32_t spi, uint8_t dir)
{
	struct ha_sa_spec k = { .spi = spi, .direction = dir };
	struct cp_replay_sa *s;
	HASH_FIND(hh, r->by_key, &k.spi, sizeof(uint32_t) + sizeof(uint8_t), s);
	return s;
}

int cp_replay_open(struct cp_replay *r, const char *dir, uint32_t max_sas, uint32_t max_routes,
		   char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->sa_file.fd = r->route_file.fd = -1;
	int rc = ha_state_open(&r->sa_file, dir, "sas", "sas", CP_REPLAY_VERSION,
			       sizeof(struct cp_replay_sa), max_sas, err, errlen);
	if (rc == 0)
		rc = ha_state_open(&r->route_file, dir, "routes", "routes", CP_REPLAY_VERSION,
				   sizeof(struct cp_replay_route), max_routes, err, errlen);
	if (rc < 0) {
		cp_replay_close(r);
		return rc;
	}
	r->sas = r->sa_file.records;
	r->routes = r->route_file.records;
	r->n_sas = max_sas;
	r->n_routes = max_routes;
	for (uint32_t i = 0; i < max_sas; i++) {
		struct cp_replay_sa *s = &r->sas[i];
		memset(&s->hh, 0, sizeof(s->hh)); /* the previous process's pointers */
		if (!s->in_use)
			continue;
		if (find_sa(r, s->spec.spi, s->spec.direction)) {
			memset(s, 0, sizeof(*s));
			continue;
		}
		index_sa(r, s);
		r->sa_count++;
	}
	for (uint32_t i = 0; i < max_routes; i++) {
		struct cp_replay_route *rt = &r->routes[i];
		if (rt->in_use && rt->pending_seq) /* never acknowledged: hadp may have refused it */
			rt->pending_seq = 0;
		r->route_count += rt->in_use;
	}
	return 0;
}

void cp_replay_close(struct cp_replay *r)
{
	HASH_CLEAR(hh, r->by_key);
	ha_state_close(&r->sa_file);
	ha_state_close(&r->route_file);
}

static void sa_forget(struct cp_replay *r, struct cp_replay_sa *s)
{
	HASH_DELETE(hh, r->by_key, s);
	/* the keys leave the file with it */
	volatile uint8_t *p = (volatile uint8_t *)s;
	for (size_t i = 0; i < sizeof(*s); i++)
		p[i] = 0;
	r->sa_count--;
}

static struct cp_replay_route *find_route(struct cp_replay *r, const struct ha_route_spec *k)
{
	for (uint32_t i = 0; i < r->n_routes; i++) {
		struct cp_replay_route *rt = &r->routes[i];
		if (rt->in_use && rt->spec.family == k->family &&
		    rt->spec.prefix_len == k->prefix_len && !memcmp(rt->spec.prefix, k->prefix, 16))
			return rt;
	}
	return NULL;
}

bool cp_replay_note(struct cp_replay *r, const struct ha_cmd *c)
{
	struct cp_replay_sa *s;
	struct cp_replay_route *rt;

	switch (c->type) {
	case HA_CMD_SA_ADD:
		s = find_sa(r, c->sa.spi, c->sa.direction);
		if (s) { /* a replacement of the same SPI (an address update) */
			s->spec = c->sa;
			return true;
		}
		for (uint32_t i = 0; i < r->n_sas; i++) {
			if (r->sas[i].in_use)
				continue;
			s = &r->sas[i];
			s->spec = c->sa;
			s->in_use = 1; /* last: an entry counts once marked */
			index_sa(r, s);
			r->sa_count++;
			return true;
		}
		r->sa_full++;
		return false;
	case HA_CMD_SA_DELETE:
		if ((s = find_sa(r, c->sa_del.spi, c->sa_del.direction)))
			sa_forget(r, s);
		return true;
	case HA_CMD_SA_ENCAP:
		if ((s = find_sa(r, c->sa_del.spi, c->sa_del.direction)))
			s->spec.encap_port = c->sa_del.encap_port;
		return true;
	case HA_CMD_ROUTE_ADD:
		rt = find_route(r, &c->route);
		for (uint32_t i = 0; !rt && i < r->n_routes; i++)
			if (!r->routes[i].in_use)
				rt = &r->routes[i];
		if (!rt) {
			r->route_full++;
			return false;
		}
		rt->spec = c->route;
		r->routes_pending += !rt->pending_seq;
		rt->pending_seq = c->seq;
		r->route_count += !rt->in_use;
		rt->in_use = 1;
		return true;
	case HA_CMD_ROUTE_DELETE:
		if ((rt = find_route(r, &c->route))) {
			r->routes_pending -= rt->pending_seq != 0;
			memset(rt, 0, sizeof(*rt));
			r->route_count--;
		}
		return true;
	default:
		return true;
	}
}

void cp_replay_ack(struct cp_replay *r, uint32_t seq, int32_t result)
{
	for (uint32_t i = 0; r->routes_pending && i < r->n_routes; i++) {
		struct cp_replay_route *rt = &r->routes[i];
		if (!rt->in_use || rt->pending_seq != seq)
			continue;
		rt->pending_seq = 0;
		r->routes_pending--;
		if (result) {
			memset(rt, 0, sizeof(*rt));
			r->route_count--;
		}
		return;
	}
}

bool cp_replay_next(const struct cp_replay *r, uint32_t *cursor, struct ha_cmd *c)
{
	while (*cursor < r->n_sas) {
		const struct cp_replay_sa *s = &r->sas[(*cursor)++];
		if (!s->in_use)
			continue;
		c->type = HA_CMD_SA_ADD;
		c->sa = s->spec;
		return true;
	}
	while (*cursor < r->n_sas + r->n_routes) {
		const struct cp_replay_route *rt = &r->routes[(*cursor)++ - r->n_sas];
		if (!rt->in_use)
			continue;
		c->type = HA_CMD_ROUTE_ADD;
		memset(&c->sa, 0, sizeof(c->sa));
		c->route = rt->spec;
		return true;
	}
	return false;
}
