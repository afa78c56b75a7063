#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cp_ike.h"

const char *cp_ike_counter_name(unsigned c)
{
	static const char *const n[] = {
#define X(e, s) [e] = s,
		CP_IKE_COUNTERS(X)
#undef X
	};
	return c < CP_IKE__COUNT ? n[c] : "invalid";
}

/* cp_bu.c's questions about IPv4 home addresses (cp_bu.h) */
static bool ip4_for(void *arg, const uint8_t prefix[16], struct in_addr *out)
{
	const struct cp_ike_session *s = cp_ike_session_by_prefix(arg, prefix);
	if (!s || !s->has_ip4)
		return false;
	*out = s->ip4;
	return true;
}

static bool payload_for(void *arg, const uint8_t prefix[16], uint32_t *in, uint32_t *out)
{
	const struct cp_ike_session *s = cp_ike_session_by_prefix(arg, prefix);
	if (!s || !s->pay_in || !s->pay_out)
		return false;
	*in = s->pay_in;
	*out = s->pay_out;
	return true;
}

/* RFC 5026 4.2.1: the prefix lifetime MIP6_HOME_PREFIX gave with a session's prefix (the same
 * for every session: cp_ike_prefix). */
static bool prefix_lifetime_for(void *arg, const uint8_t prefix[16], uint32_t *secs)
{
	const struct cp_ike *k = arg;
	if (!cp_ike_session_by_prefix(arg, prefix))
		return false;
	*secs = k->cp->cfg->ike.ike_lifetime;
	return true;
}

/* The binding of the session's prefix, as hadp must have it now. */
static bool binding_of(struct cp_ike *k, const struct cp_ike_session *s, struct ha_binding_spec *b)
{
	struct cp_binding *cb = cp_bcache_find(&k->cp->cache, &s->prefix,
					       k->cp->cfg->pdns[s->pdn].home_prefix_len);
	if (!cb)
		return false;
	cp_binding_spec_ctx(k->cp, cb, b);
	return true;
}

static bool ip4_owned(void *arg, struct in_addr a)
{
	struct cp_ike *k = arg;
	struct cp_ike_session *s;
	HASH_FIND(hh_ip4, k->by_ip4, &a, sizeof(a), s);
	return s != NULL;
}

/* Index an adopted session again and take back what it holds; false: drop it. */
static bool adopt_session(struct cp_ike *k, struct cp_ike_session *s)
{
	const struct ha_config *cfg = k->cp->cfg;

	if (s->pdn >= cfg->n_pdns || !cp_pool6_contains(&k->pool6[s->pdn], &s->prefix) ||
	    s->n_sa > sizeof(s->sa) / sizeof(s->sa[0]) || !s->ike_sa)
		return false;
	s->nai[sizeof(s->nai) - 1] = '\0';
	snprintf(s->user, sizeof(s->user), "%u|%s", s->pdn, s->nai);
	memset(&s->hh, 0, sizeof(s->hh));
	memset(&s->hh_user, 0, sizeof(s->hh_user));
	memset(&s->hh_prefix, 0, sizeof(s->hh_prefix));
	memset(&s->hh_ip4, 0, sizeof(s->hh_ip4));
	struct cp_ike_session *other;
	HASH_FIND(hh, k->by_id, &s->ike_sa, sizeof(s->ike_sa), other);
	if (other)
		return false;
	HASH_FIND(hh_user, k->by_user, s->user, strlen(s->user), other);
	if (other)
		return false;
	/* its prefix is usually bound, so already taken: either way it is not free */
	cp_pool6_take(&k->pool6[s->pdn], &s->prefix);
	HASH_ADD(hh, k->by_id, ike_sa, sizeof(s->ike_sa), s);
	HASH_ADD_KEYPTR(hh_user, k->by_user, s->user, strlen(s->user), s);
	HASH_ADD(hh_prefix, k->by_prefix, prefix, sizeof(s->prefix), s);
	if (s->has_ip4) {
		cp_pool4_take(&k->cp->pool4[s->pdn], s->ip4);
		HASH_ADD(hh_ip4, k->by_ip4, ip4, sizeof(s->ip4), s);
	}
	for (unsigned i = 0; i < s->n_sa; i++)
		if (s->sa[i].sig)
			cp_sigsa_add(&k->cp->sigsa, s->ike_sa, s->sa[i].reqid, &s->sa[i].hoa,
				     s->sa[i].spi, s->sa[i].dir == HA_SA_IN);
	return true;
}

int cp_ike_init_store(struct cp_ike *k, struct cp_ctx *cp, struct cp_ike_session *slots,
		      uint32_t capacity, bool adopt)
{
	const struct ha_config *cfg = cp->cfg;

	memset(k, 0, sizeof(*k));
	k->cp = cp;
	k->slots = slots;
	k->capacity = capacity;
	cp->ike_ip4_for = ip4_for;
	cp->ike_ip4_owned = ip4_owned;
	cp->ike_payload_for = payload_for;
	cp->ike_prefix_lifetime_for = prefix_lifetime_for;
	cp->ike_arg = k;
	for (unsigned i = 0; i < cfg->n_pdns; i++) {
		const struct ha_config_pdn *p = &cfg->pdns[i];
		if (cp_pool6_init(&k->pool6[i], &p->pool6, p->pool6_len, p->home_prefix_len) < 0)
			return -ENOMEM;
		/* prefixes already bound (the YAML's static bindings, a restarted hacpd's cache)
		 * are not handed out again */
		struct cp_binding *b, *tmp;
		HASH_ITER(hh, cp->cache.by_prefix, b, tmp)
			if (b->pdn == i)
				cp_pool6_take(&k->pool6[i], (const struct in6_addr *)b->key.prefix);
		for (size_t j = 0; j < cfg->n_static_bindings; j++)
			if (cfg->static_bindings[j].pdn == i)
				cp_pool6_take(&k->pool6[i], &cfg->static_bindings[j].home_prefix);
	}
	k->free_slots = malloc((size_t)capacity * sizeof(*k->free_slots));
	if (!k->free_slots)
		return -ENOMEM;
	for (uint32_t i = capacity; i-- > 0;) {
		struct cp_ike_session *s = &slots[i];
		if (adopt && s->used && adopt_session(k, s)) {
			k->count++;
			k->orphans += s->orphaned;
			continue;
		}
		memset(s, 0, sizeof(*s));
		k->free_slots[k->n_free++] = i; /* popped lowest first */
	}
	k->adopted = k->count;
	return 0;
}

int cp_ike_init(struct cp_ike *k, struct cp_ctx *cp)
{
	uint32_t n = cp->cfg->ike.max_sessions ? cp->cfg->ike.max_sessions : 1024;
	struct cp_ike_session *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	int rc = cp_ike_init_store(k, cp, slots, n, false);
	k->own_slots = true;
	return rc;
}

static struct cp_ike_session *session_alloc(struct cp_ike *k)
{
	if (!k->n_free)
		return NULL;
	struct cp_ike_session *s = &k->slots[k->free_slots[--k->n_free]];
	memset(s, 0, sizeof(*s));
	s->used = true;
	return s;
}

static void session_free(struct cp_ike *k, struct cp_ike_session *s)
{
	HASH_DEL(k->by_id, s);
	HASH_DELETE(hh_user, k->by_user, s);
	HASH_DELETE(hh_prefix, k->by_prefix, s);
	if (s->has_ip4) {
		HASH_DELETE(hh_ip4, k->by_ip4, s);
		cp_pool4_release(&k->cp->pool4[s->pdn], s->ip4);
	}
	k->count--;
	k->orphans -= s->orphaned;
	memset(s, 0, sizeof(*s));
	k->free_slots[k->n_free++] = (uint32_t)(s - k->slots);
}

/* Leaves the slots as they are: hacpd's stay for the next hacpd (its sessions outlive it). */
void cp_ike_free(struct cp_ike *k)
{
	struct cp_ike_session *s, *tmp;
	HASH_ITER(hh, k->by_id, s, tmp) {
		HASH_DEL(k->by_id, s);
		HASH_DELETE(hh_user, k->by_user, s);
		HASH_DELETE(hh_prefix, k->by_prefix, s);
		if (s->has_ip4)
			HASH_DELETE(hh_ip4, k->by_ip4, s);
	}
	free(k->free_slots);
	k->free_slots = NULL;
	if (k->own_slots)
		free(k->slots);
	k->slots = NULL;
	for (unsigned i = 0; i < HA_CFG_MAX_PDNS; i++)
		cp_pool6_free(&k->pool6[i]);
	k->cp->ike_ip4_for = NULL;
	k->cp->ike_ip4_owned = NULL;
	k->cp->ike_payload_for = NULL;
	k->cp->ike_prefix_lifetime_for = NULL;
}

const struct cp_ike_session *cp_ike_session_of(const struct cp_ike *k, uint32_t ike_sa)
{
	struct cp_ike_session *s;
	HASH_FIND(hh, k->by_id, &ike_sa, sizeof(ike_sa), s);
	return s;
}

unsigned cp_ike_sessions_of_nai(const struct cp_ike *k, const char *nai,
				const struct cp_ike_session **out, unsigned max)
{
	char user[sizeof(((struct cp_ike_session *)0)->user)];
	unsigned n = 0;

	for (unsigned pdn = 0; pdn < k->cp->cfg->n_pdns && n < max; pdn++) {
		struct cp_ike_session *s;
		int len = snprintf(user, sizeof(user), "%u|%s", pdn, nai);
		if (len < 0 || (size_t)len >= sizeof(user))
			return 0;
		HASH_FIND(hh_user, k->by_user, user, (unsigned)len, s);
		if (s)
			out[n++] = s;
	}
	return n;
}

const struct cp_ike_session *cp_ike_session_by_prefix(const struct cp_ike *k, const uint8_t prefix[16])
{
	struct cp_ike_session *s;
	HASH_FIND(hh_prefix, k->by_prefix, prefix, 16, s);
	return s;
}

/* The PDN a UE names by APN: case does not matter (TS 23.003 9.1). */
static int pdn_by_apn(const struct ha_config *cfg, const char *apn)
{
	for (unsigned i = 0; i < cfg->n_pdns; i++)
		if (!strcasecmp(cfg->pdns[i].apn, apn))
			return (int)i;
	return -1;
}

/* The UE of an orphaned session is back under a new IKE SA: its old child SAs belong to an IKE
 * SA that no longer exists, so they leave (left: for hadp, the binding without their payload
 * pair first). The binding stays: the UE's next BU under the new SAs updates it. */
static void orphan_back(struct cp_ike *k, struct cp_ike_session *s, struct cp_ike_gone *left)
{
	for (unsigned i = 0; i < s->n_sa; i++) {
		left->sa[left->n_sa].spi = s->sa[i].spi;
		left->sa[left->n_sa++].dir = s->sa[i].dir;
	}
	cp_sigsa_del_ike(&k->cp->sigsa, s->ike_sa, NULL, NULL);
	bool had_pair = s->pay_in && s->pay_out;
	s->n_sa = 0;
	s->pay_reqid = s->pay_in = s->pay_out = 0;
	if (had_pair)
		left->has_binding = binding_of(k, s, &left->binding);
	s->orphaned = s->orphan_bound = false;
	s->orphaned_s = 0;
	k->orphans--;
	k->ctr[CP_IKE_ORPHAN_BACK]++;
}

void cp_ike_prefix(struct cp_ike *k, const struct ha_ike_prefix_req *rq, struct ha_ike_prefix_rep *rep,
		   struct cp_ike_gone *left)
{
	const struct ha_config *cfg = k->cp->cfg;
	char nai[HA_IKE_NAI_MAX], apn[HA_IKE_APN_MAX], user[sizeof(((struct cp_ike_session *)0)->user)];
	struct cp_ike_session *s;
	uint32_t id = rq->h.ike_sa;

	memset(rep, 0, sizeof(*rep));
	memset(left, 0, sizeof(*left));
	rep->h = (struct ha_ike_hdr){ .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REP,
				      .len = sizeof(*rep), .seq = rq->h.seq, .ike_sa = id };
	snprintf(nai, sizeof(nai), "%.*s", (int)sizeof(rq->nai) - 1, rq->nai);
	snprintf(apn, sizeof(apn), "%.*s", (int)sizeof(rq->apn) - 1, rq->apn);
	/* no APN, or the IDr naming the HA itself (a UE that asks for no PDN in particular): the
	 * first PDN, the operator's default */
	bool dflt = !apn[0] || (cfg->ike.local_id[0] && !strcasecmp(apn, cfg->ike.local_id));
	int pdn = dflt ? (cfg->n_pdns ? 0 : -1) : pdn_by_apn(cfg, apn);
	if (pdn < 0 || !nai[0] || !id) {
		k->ctr[CP_IKE_PREFIX_NO_APN]++;
		rep->result = -ENOENT;
		return;
	}
	snprintf(user, sizeof(user), "%d|%s", pdn, nai);
	HASH_FIND(hh_user, k->by_user, user, strlen(user), s);
	if (s) {
		/* the same UE again for the same PDN (re-authentication, or a new IKE SA before the
		 * old one was deleted): the same prefix, now under the new IKE SA */
		struct cp_ike_session *other;
		HASH_FIND(hh, k->by_id, &id, sizeof(id), other);
		if (other && other != s) {
			rep->result = -EEXIST; /* that IKE SA has a session for another UE or PDN */
			return;
		}
		if (s->orphaned)
			orphan_back(k, s, left); /* charon restarted: a new start, same prefix */
		HASH_DEL(k->by_id, s);
		cp_sigsa_rename_ike(&k->cp->sigsa, s->ike_sa, id); /* its children come along */
		s->ike_sa = id;
		s->instance = k->instance;
		HASH_ADD(hh, k->by_id, ike_sa, sizeof(s->ike_sa), s);
		k->ctr[CP_IKE_PREFIX_KEPT]++;
	} else {
		struct cp_ike_session *other;
		HASH_FIND(hh, k->by_id, &id, sizeof(id), other);
		if (other) {
			rep->result = -EEXIST; /* one PDN per IKE SA (002 4.3) */
			return;
		}
		struct in6_addr prefix;
		if (!k->n_free) {
			k->ctr[CP_IKE_SESSIONS_FULL]++; /* ike.max_sessions */
			rep->result = -ENOSPC;
			return;
		}
		if (cp_pool6_alloc(&k->pool6[pdn], &prefix) < 0) {
			k->ctr[CP_IKE_PREFIX_NO_SPACE]++;
			rep->result = -ENOSPC;
			return;
		}
		s = session_alloc(k);
		s->prefix = prefix;
		s->ike_sa = id;
		s->instance = k->instance;
		s->pdn = (uint32_t)pdn;
		memcpy(s->nai, nai, sizeof(s->nai));
		memcpy(s->user, user, sizeof(s->user));
		HASH_ADD(hh, k->by_id, ike_sa, sizeof(s->ike_sa), s);
		HASH_ADD_KEYPTR(hh_user, k->by_user, s->user, strlen(s->user), s);
		HASH_ADD(hh_prefix, k->by_prefix, prefix, sizeof(s->prefix), s);
		k->count++;
		k->ctr[CP_IKE_PREFIX_GIVEN]++;
	}
	/* TS 24.303 5.1.2.2: an IPv4 home address when the UE asked (INTERNAL_IP4_ADDRESS), from
	 * the PDN's pool; kept with the session */
	if (rq->want_ip4 && !s->has_ip4) {
		if (cp_pool4_ready(&k->cp->pool4[pdn]) && cp_pool4_alloc(&k->cp->pool4[pdn], &s->ip4) == 0) {
			s->has_ip4 = true;
			HASH_ADD(hh_ip4, k->by_ip4, ip4, sizeof(s->ip4), s);
			k->ctr[CP_IKE_IP4_GIVEN]++;
		} else {
			k->ctr[CP_IKE_IP4_NONE]++;
		}
	}
	if (rq->want_ip4 && s->has_ip4) {
		rep->has_ip4 = 1;
		memcpy(rep->ip4, &s->ip4, 4);
	}
	memcpy(rep->prefix, &s->prefix, 16);
	rep->prefix_len = cfg->pdns[pdn].home_prefix_len;
	rep->lifetime = cfg->ike.ike_lifetime;
	rep->result = 0;
}

/* Is the selector (addr/len) inside the session's home prefix? */
static bool inside(const struct cp_ike *k, const struct cp_ike_session *s, const uint8_t *addr,
		   uint8_t len)
{
	unsigned plen = k->cp->cfg->pdns[s->pdn].home_prefix_len;
	struct in6_addr a;
	if (len < plen || len > 128)
		return false;
	memcpy(&a, addr, 16);
	return ha_cfg_prefix_contains6(&s->prefix, plen, &a);
}

int cp_ike_sa_add(struct cp_ike *k, const struct ha_ike_sa_add *m, struct ha_sa_spec *install,
		  struct ha_binding_spec *rebind, bool *has_rebind)
{
	struct cp_ike_session *s;
	uint32_t id = m->h.ike_sa;

	*has_rebind = false;
	HASH_FIND(hh, k->by_id, &id, sizeof(id), s);
	if (!s) {
		k->ctr[CP_IKE_SA_NO_SESSION]++;
		return -ENOENT;
	}
	if (m->sa.direction > HA_SA_OUT || m->sa.mode > HA_SA_TUNNEL || !m->sa.spi ||
	    (m->sa.family != AF_INET && m->sa.family != AF_INET6) ||
	    (m->sa.encap_port && (m->sa.mode != HA_SA_TUNNEL || m->sa.family != AF_INET))) {
		k->ctr[CP_IKE_SA_BAD]++;
		return -EINVAL;
	}
	/* RFC 4877 4.1: the UE's side of the selectors is its own home address (transport,
	 * signalling) or inside its home prefix (tunnel, payload); anything else would let it
	 * speak for another UE */
	bool transport = m->sa.mode == HA_SA_TRANSPORT;
	if ((transport && m->ts_remote_len != 128) || !inside(k, s, m->ts_remote, m->ts_remote_len)) {
		k->ctr[CP_IKE_SA_NOT_HOA]++;
		return -EPERM;
	}
	bool known = false;
	for (unsigned i = 0; i < s->n_sa; i++)
		known |= s->sa[i].spi == m->sa.spi && s->sa[i].dir == m->sa.direction;
	if (!known && s->n_sa == sizeof(s->sa) / sizeof(s->sa[0])) {
		k->ctr[CP_IKE_SA_BAD]++;
		return -ENOSPC;
	}
	if (transport && (m->ts_proto == 0 || m->ts_proto == MH_PROTO)) {
		struct in6_addr hoa;
		memcpy(&hoa, m->ts_remote, 16);
		int rc = cp_sigsa_add(&k->cp->sigsa, id, m->reqid, &hoa, m->sa.spi,
				      m->sa.direction == HA_SA_IN);
		if (rc < 0) {
			k->ctr[CP_IKE_SA_BAD]++;
			return rc;
		}
	}
	if (!known) {
		s->sa[s->n_sa].spi = m->sa.spi;
		s->sa[s->n_sa].dir = m->sa.direction;
		s->sa[s->n_sa].natt = !transport && m->sa.family == AF_INET;
		s->sa[s->n_sa].sig = transport && (m->ts_proto == 0 || m->ts_proto == MH_PROTO);
		memcpy(&s->sa[s->n_sa].hoa, m->ts_remote, 16);
		s->sa[s->n_sa++].reqid = m->reqid;
	}
	if (!transport) {
		/* the payload child SA (TS 24.303 5.1.3.2 data in ESP): its halves pair by reqid;
		 * a rekey's new pair replaces the old */
		if (s->pay_reqid != m->reqid) {
			s->pay_reqid = m->reqid;
			s->pay_in = s->pay_out = 0;
		}
		if (m->sa.direction == HA_SA_IN)
			s->pay_in = m->sa.spi;
		else
			s->pay_out = m->sa.spi;
		if (s->pay_in && s->pay_out)
			*has_rebind = binding_of(k, s, rebind);
	}
	*install = m->sa;
	k->ctr[CP_IKE_SA_ADDED]++;
	return 0;
}

void cp_ike_sa_del(struct cp_ike *k, const struct ha_ike_sa_del *m, struct ha_binding_spec *rebind,
		   bool *has_rebind)
{
	struct cp_ike_session *s;
	uint32_t id = m->h.ike_sa;

	*has_rebind = false;
	HASH_FIND(hh, k->by_id, &id, sizeof(id), s);
	if (!s)
		return;
	for (unsigned i = 0; i < s->n_sa; i++) {
		if (s->sa[i].spi != m->spi || s->sa[i].dir != m->direction)
			continue;
		cp_sigsa_del(&k->cp->sigsa, id, s->sa[i].reqid, m->spi, m->direction == HA_SA_IN);
		if ((m->direction == HA_SA_IN && m->spi == s->pay_in) ||
		    (m->direction == HA_SA_OUT && m->spi == s->pay_out)) {
			bool had = s->pay_in && s->pay_out;
			s->pay_in = s->pay_out = 0; /* the binding's payload goes back to plain */
			if (had)
				*has_rebind = binding_of(k, s, rebind);
		}
		s->sa[i] = s->sa[--s->n_sa];
		k->ctr[CP_IKE_SA_DELETED]++;
		return;
	}
}

int cp_ike_sa_encap(struct cp_ike *k, const struct ha_ike_sa_del *m)
{
	struct cp_ike_session *s;
	uint32_t id = m->h.ike_sa;

	HASH_FIND(hh, k->by_id, &id, sizeof(id), s);
	for (unsigned i = 0; s && i < s->n_sa; i++) {
		if (s->sa[i].spi != m->spi || s->sa[i].dir != m->direction)
			continue;
		if (!s->sa[i].natt)
			return -EINVAL; /* a transport SA's ESP rides RFC 5555's UDP 4191 */
		k->ctr[CP_IKE_SA_ENCAP]++;
		return 0;
	}
	return -ENOENT;
}

unsigned cp_ike_hello(struct cp_ike *k, uint64_t instance, uint64_t now)
{
	struct cp_ike_session *s, *tmp, *moved = NULL;
	unsigned n = 0;

	k->instance = instance;
	HASH_ITER(hh, k->by_id, s, tmp) {
		if (s->instance == instance || s->orphaned)
			continue;
		/* the new run numbers its IKE SAs from 1 again: the session leaves that space */
		uint32_t id = CP_IKE_ORPHAN_ID(s - k->slots);
		HASH_DEL(k->by_id, s);
		cp_sigsa_rename_ike(&k->cp->sigsa, s->ike_sa, id);
		s->ike_sa = id;
		s->orphaned = true;
		s->orphan_bound = cp_bcache_find(&k->cp->cache, &s->prefix,
						 k->cp->cfg->pdns[s->pdn].home_prefix_len) != NULL;
		s->orphaned_s = now;
		/* re-added after the walk, so the walk never meets a session twice */
		s->hh.next = moved;
		moved = s;
		k->orphans++;
		k->ctr[CP_IKE_ORPHANED]++;
		n++;
	}
	while (moved) {
		s = moved;
		moved = s->hh.next;
		HASH_ADD(hh, k->by_id, ike_sa, sizeof(s->ike_sa), s);
	}
	return n;
}

unsigned cp_ike_orphans_due(struct cp_ike *k, uint64_t now, uint32_t *ids, unsigned max)
{
	struct cp_ike_session *s, *tmp;
	unsigned n = 0;

	if (!k->orphans)
		return 0;
	HASH_ITER(hh, k->by_id, s, tmp) {
		if (n == max)
			break;
		if (!s->orphaned)
			continue;
		bool unbound = s->orphan_bound &&
			       !cp_bcache_find(&k->cp->cache, &s->prefix,
					       k->cp->cfg->pdns[s->pdn].home_prefix_len);
		if (unbound || now >= s->orphaned_s + k->cp->cfg->ike.ike_lifetime) {
			ids[n++] = s->ike_sa;
			k->ctr[CP_IKE_ORPHAN_ENDED]++;
		}
	}
	return n;
}

int cp_ike_down(struct cp_ike *k, uint32_t ike_sa, struct cp_ike_gone *gone)
{
	struct cp_ike_session *s;

	memset(gone, 0, sizeof(*gone));
	HASH_FIND(hh, k->by_id, &ike_sa, sizeof(ike_sa), s);
	if (!s)
		return -ENOENT;
	for (unsigned i = 0; i < s->n_sa; i++) {
		gone->sa[gone->n_sa].spi = s->sa[i].spi;
		gone->sa[gone->n_sa++].dir = s->sa[i].dir;
	}
	cp_sigsa_del_ike(&k->cp->sigsa, ike_sa, NULL, NULL);
	uint8_t plen = k->cp->cfg->pdns[s->pdn].home_prefix_len;
	gone->has_binding = cp_remove_prefix(k->cp, &s->prefix, plen, &gone->binding) == 1;
	cp_pool6_release(&k->pool6[s->pdn], &s->prefix);
	session_free(k, s);
	k->ctr[CP_IKE_DOWN]++;
	return 0;
}
