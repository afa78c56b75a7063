#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aaa_profiles.h"
#include "ha_config_int.h"

enum { P_NAI, P_APN, P_PREFIX, P_IPV4, P_PDN, P_REALLOC, P__N };
static const char *const keys[] = { "nai", "apn", "static_prefix", "static_ipv4", "pdn_type",
				    "reallocate_to" };

/* A string key copied into dst (sz with its NUL). */
static int str_key(struct cfg_ctx *c, const struct ynode *n, char *dst, size_t sz)
{
	if (cfg_scalar_str(c, n, "a string") < 0)
		return -1;
	if (!n->len || n->len >= sz)
		return cfg_fail(c, n, "expected 1 to %zu characters", sz - 1);
	memcpy(dst, n->s, n->len + 1);
	return 0;
}

static int walk_profile(struct cfg_ctx *c, const struct ynode *n, struct aaa_profile *p)
{
	static const char *const pdn_names[] = { "ipv4", "ipv6", "ipv4v6" };
	struct cfg_mapv m;
	struct ha_cfg_addr a;
	int rc = 0;

	if (cfg_map(c, n, keys, P__N, &m) < 0)
		return -1;
	if (!m.v[P_NAI])
		return cfg_missing(c, &m, P_NAI);
	p->pdn_type = 2;
	for (unsigned i = 0; i < P__N && rc == 0; i++) {
		const struct ynode *v = m.v[i];
		if (!v)
			continue;
		size_t old = cfg_push_key(c, keys[i]);
		switch (i) {
		case P_NAI:
			rc = str_key(c, v, p->nai, sizeof(p->nai));
			break;
		case P_APN:
			rc = str_key(c, v, p->apn, sizeof(p->apn));
			break;
		case P_PREFIX:
		case P_REALLOC:
			rc = cfg_scalar_addr(c, v, AF_INET6, &a);
			if (rc == 0 && i == P_PREFIX) {
				p->prefix = a.v6;
				p->has_prefix = true;
			} else if (rc == 0) {
				p->realloc_to = a.v6;
				p->has_realloc = true;
			}
			break;
		case P_IPV4:
			rc = cfg_scalar_addr(c, v, AF_INET, &a);
			p->ipv4 = a.v4;
			p->has_ipv4 = rc == 0;
			break;
		case P_PDN:
			rc = cfg_scalar_str(c, v, "ipv4, ipv6 or ipv4v6");
			p->pdn_type = -1;
			for (int t = 0; rc == 0 && t < 3; t++)
				if (!strcmp(v->s, pdn_names[t]))
					p->pdn_type = t;
			if (rc == 0 && p->pdn_type < 0)
				rc = cfg_fail(c, v, "expected ipv4, ipv6 or ipv4v6");
			break;
		}
		cfg_pop(c, old);
	}
	return rc < 0 ? -1 : 0;
}

static int walk_root(struct cfg_ctx *c, const struct ynode *root, void *arg)
{
	struct aaa_profiles *p = arg;
	size_t old;
	const struct ynode *list = cfg_root_list(c, root, "profiles", false, &old);

	if (!list)
		return -1;
	p->v = calloc(list->n ? list->n : 1, sizeof(*p->v));
	if (!p->v)
		return cfg_fail(c, list, "out of memory");
	for (size_t i = 0; i < list->n; i++) {
		size_t o = cfg_push_index(c, i);
		if (walk_profile(c, list->kids[i], &p->v[i]) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->v[j].nai, p->v[i].nai))
				return cfg_fail(c, list->kids[i], "nai %s appears twice", p->v[i].nai);
		cfg_pop(c, o);
		p->n++;
	}
	cfg_pop(c, old);
	return 0;
}

int aaa_profiles_load(const char *path, struct aaa_profiles *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (cfg_load_yaml(path, walk_root, p, err, errlen) < 0) {
		aaa_profiles_free(p);
		return -1;
	}
	return 0;
}

const struct aaa_profile *aaa_profile_find(const struct aaa_profiles *p, const char *nai)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].nai, nai))
			return &p->v[i];
	return NULL;
}

void aaa_profiles_free(struct aaa_profiles *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
