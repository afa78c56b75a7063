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
	if (c < CP_IKE__COUNT)
		return n[c];
	return c < CP_IKE_N_COUNTERS ? ha_ike_aaa_event_name(c - CP_IKE__COUNT + 1) : "invalid";
}

uint64_t cp_ike_counter(const struct cp_ike *k, unsigned c)
{
	if (c < CP_IKE__COUNT)
		return k->ctr[c];
	return c < CP_IKE_N_COUNTERS ? k->aaa_ev[c - CP_IKE__COUNT + 1] : 0;
}

/* The session's S6b session is over: its AAA_END is queued for the plugin (the
 * Session-Termination-Request, TS 29.273 9.2.2.3) and its Session-Id forgotten, so that
 * nothing ends it a second time. Nothing without a Session-Id (the AAA is not S6b). */
static void aaa_end(struct cp_ike *k, struct cp_ike_session *s, uint32_t cause)
{
	if (!s->aaa_session[0])
		return;
	if (!cp_aaa_ends_push(&k->ends, s->aaa_session, s->end_cause ? s->end_cause : cause))
		k->ctr[CP_IKE_AAA_END_DROPPED]++;
	HASH_DELETE(hh_sid, k->by_sid, s);
	s->aaa_session[0] = '\0';
	s->end_cause = 0;
}

/* A Session-Id into the index (the session holds none yet). */
static void aaa_keep(struct cp_ike *k, struct cp_ike_session *s, const char *sid)
{
	snprintf(s->aaa_session, sizeof(s->aaa_session), "%s", sid);
	s->end_cause = 0;
	if (s->aaa_session[0])
		HASH_ADD_KEYPTR(hh_sid, k->by_sid, s->aaa_session, strlen(s->aaa_session), s);
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
	memset(&s->hh_sid, 0, sizeof(s->hh_sid));
	s->aaa_session[sizeof(s->aaa_session) - 1] = '\0';
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
	/* the AAA's orders find it again by its Session-Id (one session each) */
	if (s->aaa_session[0]) {
		HASH_FIND(hh_sid, k->by_sid, s->aaa_session, strlen(s->aaa_session), other);
		if (other)
			s->aaa_session[0] = '\0';
		else
			HASH_ADD_KEYPTR(hh_sid, k->by_sid, s->aaa_session, strlen(s->aaa_session), s);
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
		/* a session the new configuration has no room for: its S6b session ends too */
		if (adopt && s->used && s->aaa_session[0]) {
			s->aaa_session[sizeof(s->aaa_session) - 1] = '\0';
			if (!cp_aaa_ends_push(&k->ends, s->aaa_session, HA_IKE_AAA_END_ADMINISTRATIVE))
				k->ctr[CP_IKE_AAA_END_DROPPED]++;
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
	if (s->aaa_session[0])
		HASH_DELETE(hh_sid, k->by_sid, s);
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
		if (s->aaa_session[0])
			HASH_DELETE(hh_sid, k->by_sid, s);
	}
	cp_aaa_ends_free(&k->ends);
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

/* A PREFIX_REQ refused: the reply's result, why (for the log), and the counter. */
static void refuse(struct cp_ike *k, struct ha_ike_prefix_rep *rep, int rc, const char *why,
		   enum cp_ike_counter c)
{
	rep->result = rc;
	k->refused = why;
	k->ctr[c]++;
}

/* The home prefix the AAA authorised (HA_IKE_AUTH_F_PREFIX, docs/aaa.md): the PDN's
 * home_prefix_len prefix holding the address it gave; for a new session taken from the pool,
 * for a returning one the prefix it holds. 0, or the refusal's result. */
static int static_prefix(struct cp_ike *k, const struct ha_ike_prefix_req *rq, int pdn,
			 const struct cp_ike_session *s, struct in6_addr *prefix)
{
	memcpy(prefix, rq->static_prefix, 16);
	ha_cfg_prefix_mask6(prefix, k->cp->cfg->pdns[pdn].home_prefix_len);
	if (s) {
		if (memcmp(prefix, &s->prefix, 16)) {
			k->refused = "the AAA's home prefix is not the one the UE's session holds";
			return -EADDRINUSE;
		}
		return 0;
	}
	int rc = cp_pool6_take(&k->pool6[pdn], prefix);
	if (rc == -EINVAL)
		k->refused = "the AAA's home prefix is outside the PDN's home_prefix_pool";
	else if (rc < 0)
		k->refused = "the AAA's home prefix is another UE's or a static binding's";
	return rc == -EINVAL ? -EADDRNOTAVAIL : rc < 0 ? -EADDRINUSE : 0;
}

/* The same for the IPv4 home address (HA_IKE_AUTH_F_IP4) of a session without one yet. */
static int static_ip4(struct cp_ike *k, const struct ha_ike_prefix_req *rq, int pdn,
		      const struct cp_ike_session *s, struct in_addr *a)
{
	memcpy(a, rq->static_ip4, 4);
	if (s && s->has_ip4) {
		if (s->ip4.s_addr != a->s_addr) {
			k->refused = "the AAA's IPv4 home address is not the one the UE's session holds";
			return -EADDRINUSE;
		}
		return 0;
	}
	int rc = cp_pool4_take(&k->cp->pool4[pdn], *a);
	if (rc == -EINVAL)
		k->refused = "the AAA's IPv4 home address is outside the PDN's ipv4_pool";
	else if (rc < 0)
		k->refused = "the AAA's IPv4 home address is another UE's";
	return rc == -EINVAL ? -EADDRNOTAVAIL : rc < 0 ? -EADDRINUSE : 0;
}

void cp_ike_prefix(struct cp_ike *k, const struct ha_ike_prefix_req *rq, struct ha_ike_prefix_rep *rep,
		   struct cp_ike_gone *left)
{
	const struct ha_config *cfg = k->cp->cfg;
	char nai[HA_IKE_NAI_MAX], apn[HA_IKE_APN_MAX], user[sizeof(((struct cp_ike_session *)0)->user)];
	struct cp_ike_session *s, *other;
	uint32_t id = rq->h.ike_sa;
	uint8_t auth = rq->auth_flags;

	memset(rep, 0, sizeof(*rep));
	memset(left, 0, sizeof(*left));
	k->refused = NULL;
	rep->h = (struct ha_ike_hdr){ .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REP,
				      .len = sizeof(*rep), .seq = rq->h.seq, .ike_sa = id };
	snprintf(nai, sizeof(nai), "%.*s", (int)sizeof(rq->nai) - 1, rq->nai);
	snprintf(apn, sizeof(apn), "%.*s", (int)sizeof(rq->apn) - 1, rq->apn);
	/* no APN, or the IDr naming the HA itself (a UE that asks for no PDN in particular): the
	 * first PDN, the operator's default */
	bool dflt = !apn[0] || (cfg->ike.local_id[0] && !strcasecmp(apn, cfg->ike.local_id));
	int pdn = dflt ? (cfg->n_pdns ? 0 : -1) : pdn_by_apn(cfg, apn);
	if (pdn < 0 || !nai[0] || !id) {
		refuse(k, rep, -ENOENT, "no such PDN", CP_IKE_PREFIX_NO_APN);
		return;
	}
	/* a Session-Id cut short would never match the AAA's (RFC 6733 8.8) */
	if (strnlen(rq->aaa_session, sizeof(rq->aaa_session)) == sizeof(rq->aaa_session)) {
		refuse(k, rep, -EINVAL, "a Session-Id without its end", CP_IKE_AAA_BAD);
		return;
	}
	snprintf(user, sizeof(user), "%d|%s", pdn, nai);
	HASH_FIND(hh_user, k->by_user, user, strlen(user), s);
	/* s: the same UE again for the same PDN (re-authentication, or a new IKE SA before the
	 * old one was deleted): the same prefix, under the new IKE SA. One PDN per IKE SA (002
	 * 4.3): an IKE SA with another UE's or PDN's session is refused */
	HASH_FIND(hh, k->by_id, &id, sizeof(id), other);
	if (other && other != s) {
		rep->result = -EEXIST;
		k->refused = "the IKE SA has a session for another UE or PDN";
		return;
	}
	if (rq->aaa_session[0]) { /* one session per Session-Id */
		HASH_FIND(hh_sid, k->by_sid, rq->aaa_session, strlen(rq->aaa_session), other);
		if (other && other != s) {
			refuse(k, rep, -EEXIST, "the Session-Id is another session's",
				      CP_IKE_AAA_BAD);
			return;
		}
	}
	if (!s && !k->n_free) {
		refuse(k, rep, -ENOSPC, "ike.max_sessions reached", CP_IKE_SESSIONS_FULL);
		return;
	}

	/* what the AAA authorised (docs/aaa.md), all checked before anything changes */
	struct in6_addr prefix;
	bool took_prefix = false;
	if (auth & HA_IKE_AUTH_F_PREFIX) {
		int rc = static_prefix(k, rq, pdn, s, &prefix);
		if (rc < 0) {
			rep->result = rc;
			k->ctr[CP_IKE_STATIC_PREFIX_REFUSED]++;
			return;
		}
		took_prefix = !s;
	} else if (!s) {
		if (cp_pool6_alloc(&k->pool6[pdn], &prefix) < 0) {
			refuse(k, rep, -ENOSPC, "home prefix pool exhausted",
				      CP_IKE_PREFIX_NO_SPACE);
			return;
		}
		took_prefix = true;
	}
	/* TS 24.303 5.1.2.2: an IPv4 home address when the UE asked (INTERNAL_IP4_ADDRESS): the
	 * AAA's, or one of the PDN's pool; none when the AAA's PDN type is IPv6 only (a session
	 * holding one already keeps it: its binding may use it) */
	bool has4 = s && s->has_ip4;
	bool want4 = rq->want_ip4 && !(auth & HA_IKE_AUTH_F_NO_IP4);
	struct in_addr ip4;
	bool took4 = false;
	if (rq->want_ip4 && (auth & HA_IKE_AUTH_F_NO_IP4) && !has4)
		k->ctr[CP_IKE_NO_IP4]++;
	if (want4 && (auth & HA_IKE_AUTH_F_IP4)) {
		int rc = static_ip4(k, rq, pdn, s, &ip4);
		if (rc < 0) {
			if (took_prefix)
				cp_pool6_release(&k->pool6[pdn], &prefix);
			rep->result = rc;
			k->ctr[CP_IKE_STATIC_IP4_REFUSED]++;
			return;
		}
		took4 = !has4;
		k->ctr[CP_IKE_STATIC_IP4] += took4;
	} else if (want4 && !has4) {
		if (cp_pool4_ready(&k->cp->pool4[pdn]) && cp_pool4_alloc(&k->cp->pool4[pdn], &ip4) == 0) {
			took4 = true;
			k->ctr[CP_IKE_IP4_GIVEN]++;
		} else {
			k->ctr[CP_IKE_IP4_NONE]++;
		}
	}

	if (s) {
		if (s->orphaned)
			orphan_back(k, s, left); /* charon restarted: a new start, same prefix */
		HASH_DEL(k->by_id, s);
		cp_sigsa_rename_ike(&k->cp->sigsa, s->ike_sa, id); /* its children come along */
		s->ike_sa = id;
		s->instance = k->instance;
		HASH_ADD(hh, k->by_id, ike_sa, sizeof(s->ike_sa), s);
		k->ctr[CP_IKE_PREFIX_KEPT]++;
	} else {
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
	k->ctr[CP_IKE_STATIC_PREFIX] += (auth & HA_IKE_AUTH_F_PREFIX) && took_prefix;
	if (took4) {
		s->ip4 = ip4;
		s->has_ip4 = true;
		HASH_ADD(hh_ip4, k->by_ip4, ip4, sizeof(s->ip4), s);
	}
	/* a new Session-Id: the UE authenticated again, so the AAA's session of the old one is
	 * over; the UE ended it by attaching again, hence LOGOUT (an ASR's mark, if any, stays
	 * with the old session's end) */
	if (strcmp(s->aaa_session, rq->aaa_session)) {
		if (s->aaa_session[0])
			k->ctr[CP_IKE_SID_REPLACED]++;
		aaa_end(k, s, HA_IKE_AAA_END_LOGOUT);
		aaa_keep(k, s, rq->aaa_session);
	}
	uint8_t plen = cfg->pdns[pdn].home_prefix_len;
	/* 002 5.4.3: the AAA's indication, before the UE's first BU: by the home prefix */
	if (auth & HA_IKE_AUTH_F_REALLOC) {
		struct in6_addr target;
		memcpy(&target, rq->realloc_ha, 16);
		if (cp_reallocate_prefix(k->cp, &s->prefix, plen, &target) == 0)
			k->ctr[CP_IKE_REALLOC]++;
	}
	if (rq->want_ip4 && s->has_ip4) {
		rep->has_ip4 = 1;
		memcpy(rep->ip4, &s->ip4, 4);
	}
	memcpy(rep->prefix, &s->prefix, 16);
	rep->prefix_len = plen;
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
			/* its S6b session's end: the UE's own when it de-registered, the IKE SA's
			 * lifetime run out otherwise (an expired binding ended it already) */
			if (!s->end_cause)
				s->end_cause = unbound ? HA_IKE_AAA_END_LOGOUT
						       : HA_IKE_AAA_END_AUTH_EXPIRED;
			ids[n++] = s->ike_sa;
			k->ctr[CP_IKE_ORPHAN_ENDED]++;
		}
	}
	return n;
}

int cp_ike_down(struct cp_ike *k, uint32_t ike_sa, enum ha_ike_aaa_end_cause cause,
		struct cp_ike_gone *gone)
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
	aaa_end(k, s, cause);
	session_free(k, s);
	k->ctr[CP_IKE_DOWN]++;
	return 0;
}

void cp_ike_binding_expired(struct cp_ike *k, const uint8_t prefix[16])
{
	struct cp_ike_session *s;
	HASH_FIND(hh_prefix, k->by_prefix, prefix, 16, s);
	if (s)
		aaa_end(k, s, HA_IKE_AAA_END_SESSION_TIMEOUT);
}

/* The session whose prefix holds home address hoa, or NULL. */
static struct cp_ike_session *session_of_hoa(struct cp_ike *k, const struct in6_addr *hoa)
{
	for (unsigned pdn = 0; pdn < k->cp->cfg->n_pdns; pdn++) {
		struct in6_addr p = *hoa;
		struct cp_ike_session *s;
		ha_cfg_prefix_mask6(&p, k->cp->cfg->pdns[pdn].home_prefix_len);
		HASH_FIND(hh_prefix, k->by_prefix, &p, sizeof(p), s);
		if (s && s->pdn == pdn)
			return s;
	}
	return NULL;
}

void cp_ike_detaching(struct cp_ike *k, const struct in6_addr *hoa)
{
	struct cp_ike_session *s = session_of_hoa(k, hoa);
	if (s)
		s->end_cause = HA_IKE_AAA_END_ADMINISTRATIVE;
}

const struct cp_ike_session *cp_ike_session_by_aaa(const struct cp_ike *k, const char *sid)
{
	struct cp_ike_session *s;
	size_t n = strnlen(sid, HA_IKE_SID_MAX);
	if (!n || n == HA_IKE_SID_MAX)
		return NULL;
	HASH_FIND(hh_sid, k->by_sid, sid, n, s);
	return s;
}

int cp_ike_aaa_order(struct cp_ike *k, const struct ha_ike_aaa_order *o, struct cp_ike_abort *abort)
{
	memset(abort, 0, sizeof(*abort));
	size_t n = strnlen(o->aaa_session, sizeof(o->aaa_session));
	if (!n || n == sizeof(o->aaa_session) || o->order < HA_IKE_AAA_ABORT ||
	    o->order > HA_IKE_AAA_KNOWN) {
		k->ctr[CP_IKE_AAA_BAD]++;
		return -EINVAL;
	}
	struct cp_ike_session *s;
	HASH_FIND(hh_sid, k->by_sid, o->aaa_session, n, s);
	if (!s) {
		k->ctr[CP_IKE_AAA_UNKNOWN]++; /* RFC 6733 8.5.2 / 8.3.2: UNKNOWN_SESSION_ID */
		return -ENOENT;
	}
	uint8_t plen = k->cp->cfg->pdns[s->pdn].home_prefix_len;
	switch (o->order) {
	case HA_IKE_AAA_KNOWN:
		k->ctr[CP_IKE_AAA_KNOWN]++;
		return 0;
	case HA_IKE_AAA_REALLOCATE: {
		/* 002 5.4.3 as hactl reallocate NAI does it: the Home Agent Switch follows the BA of
		 * the UE's next BU from its prefix; the target must be a unicast address */
		struct in6_addr target;
		memcpy(&target, o->target, 16);
		if (IN6_IS_ADDR_UNSPECIFIED(&target) || IN6_IS_ADDR_MULTICAST(&target) ||
		    IN6_IS_ADDR_LOOPBACK(&target)) {
			k->ctr[CP_IKE_AAA_BAD]++;
			return -EINVAL;
		}
		int rc = cp_reallocate_prefix(k->cp, &s->prefix, plen, &target);
		k->ctr[CP_IKE_AAA_REALLOCATE] += rc == 0;
		return rc;
	}
	default: { /* HA_IKE_AAA_ABORT: 004 5.4.3.1, as hactl detach does it */
		k->ctr[CP_IKE_AAA_ABORT]++;
		s->end_cause = HA_IKE_AAA_END_ADMINISTRATIVE;
		struct cp_binding *b = cp_bcache_find(&k->cp->cache, &s->prefix, plen);
		abort->ike_sa = s->ike_sa;
		if (b) {
			abort->what = CP_IKE_ABORT_BRI;
			abort->hoa = b->hoa;
		} else {
			abort->what = s->orphaned ? CP_IKE_ABORT_END : CP_IKE_ABORT_DELETE;
		}
		return 0;
	}
	}
}

int cp_ike_aaa_event(struct cp_ike *k, unsigned event)
{
	if (event <= HA_IKE_AAA_EV__NONE || event >= HA_IKE_AAA_EV__COUNT) {
		k->ctr[CP_IKE_AAA_BAD]++;
		return -EINVAL;
	}
	k->aaa_ev[event]++;
	return 0;
}
