/* Binding Update processing (see cp_bu.h). One status variable and a ladder of checks, as
 * UMIP's ha.c, with the 3GPP and RFC 5555 rules. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cp_bu.h"

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* IPv4 Address Acknowledgement status (RFC 5555 3.2.1). 128 (failure, reason unspecified) is
 * never sent: every refusal the HA knows has its own code. */
#define V4ACK_SUCCESS           0
#define V4ACK_PROHIBITED        129
#define V4ACK_INCORRECT_HOA     130
#define V4ACK_INVALID_ADDRESS   131
#define V4ACK_NO_DYNAMIC        132
#define V4ACK_PREFIX_REFUSED    133

/* The catalogs' second and third columns (cp_bu.h). */
struct text2 {
	const char *name, *more;
};
#define CP_X_TEXT2(e, n, m) [e] = { n, m },
static const struct text2 ctr_text[] = { CP_COUNTERS(CP_X_TEXT2) };
static const struct text2 pdn_text[] = { CP_PDN_COUNTERS(CP_X_TEXT2) };
static const struct text2 bev_text[] = { CP_BINDING_EVENTS(CP_X_TEXT2) };
#undef CP_X_TEXT2

const char *cp_counter_name(unsigned c)
{
	return c < CP_C__COUNT ? ctr_text[c].name : "invalid";
}

const char *cp_counter_help(unsigned c)
{
	return c < CP_C__COUNT ? ctr_text[c].more : "invalid";
}

const char *cp_pdn_counter_name(unsigned c)
{
	return c < CP_PC__COUNT ? pdn_text[c].name : "invalid";
}

const char *cp_pdn_counter_help(unsigned c)
{
	return c < CP_PC__COUNT ? pdn_text[c].more : "invalid";
}

const char *cp_bev_name(enum cp_bev e)
{
	return (unsigned)e < CP_BEV__COUNT ? bev_text[e].name : "invalid";
}

const char *cp_bev_reason(enum cp_bev e)
{
	return (unsigned)e < CP_BEV__COUNT ? bev_text[e].more : "invalid";
}

/* What the HA did to a binding on its own, told to whoever listens before the binding goes. */
static void tell(const struct cp_ctx *c, enum cp_bev e, const struct cp_binding *b)
{
	if (c->binding_event)
		c->binding_event(c->event_arg, e, b);
}

int cp_ctx_init(struct cp_ctx *c, const struct ha_config *cfg)
{
	return cp_ctx_init_store(c, cfg, NULL, false);
}

int cp_ctx_init_store(struct cp_ctx *c, const struct ha_config *cfg, struct cp_binding *slots,
		      bool adopt)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	if (cp_bcache_init(&c->cache, slots, cfg->dataplane.max_bindings, adopt) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->n_pdns; i++)
		if (cfg->pdns[i].has_ipv4_pool &&
		    cp_pool4_init(&c->pool4[i], cfg->pdns[i].pool4, cfg->pdns[i].pool4_len) < 0)
			return -ENOMEM;
	/* RFC 4877: an inbound transport SA protects the BUs of the home address it names as
	 * its peer; the outbound transport SA with the same peer protects the BAs */
	for (size_t i = 0; i < cfg->n_static_sas; i++) {
		const struct ha_config_sa *s = &cfg->static_sas[i];
		if (s->mode != HA_CFG_SA_TRANSPORT || s->peer.family != AF_INET6)
			continue;
		if (cp_sigsa_add(&c->sigsa, 0, 0, &s->peer.v6, s->spi, s->direction == HA_CFG_SA_IN) ==
		    -ENOMEM)
			return -ENOMEM;
	}
	/* adopted bindings keep their IPv4 home addresses */
	struct cp_binding *b, *tmp;
	HASH_ITER(hh, c->cache.by_prefix, b, tmp) {
		if (b->pdn < cfg->n_pdns)
			c->pdn_bindings[b->pdn]++;
		if (b->has_hoa4 && b->pdn < cfg->n_pdns)
			cp_pool4_take(&c->pool4[b->pdn], b->hoa4);
	}
	return 0;
}

void cp_ctx_free(struct cp_ctx *c)
{
	struct cp_realloc *r, *tmp;
	HASH_ITER(hh, c->realloc, r, tmp) {
		HASH_DEL(c->realloc, r);
		free(r);
	}
	if (c->cache.own_slots)
		cp_bcache_clear(&c->cache);
	cp_bcache_free(&c->cache);
	for (unsigned i = 0; i < HA_CFG_MAX_PDNS; i++)
		cp_pool4_free(&c->pool4[i]);
	cp_sigsa_clear(&c->sigsa);
}

static const struct cp_sigsa *sa_of(const struct cp_ctx *c, uint32_t spi)
{
	return cp_sigsa_of(&c->sigsa, spi);
}

static const struct cp_sigsa *sa_for_hoa(const struct cp_ctx *c, const struct in6_addr *hoa)
{
	return cp_sigsa_for_hoa(&c->sigsa, hoa);
}

void cp_binding_spec(const struct cp_binding *b, struct ha_binding_spec *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->home_prefix, b->key.prefix, 16);
	s->home_prefix_len = (uint8_t)b->key.len;
	if (b->coa.family == AF_INET) {
		s->flags |= HA_BIND_F_COA4;
		memcpy(s->coa, &b->coa.v4, 4);
		if (b->udp) {
			s->flags |= HA_BIND_F_UDP;
			s->udp_port = b->udp_port;
		}
	} else {
		memcpy(s->coa, &b->coa.v6, 16);
	}
	if (b->has_hoa4) {
		s->flags |= HA_BIND_F_IPV4_HOA;
		memcpy(s->hoa4, &b->hoa4, 4);
	}
}

void cp_binding_spec_ctx(const struct cp_ctx *c, const struct cp_binding *b,
			 struct ha_binding_spec *s)
{
	cp_binding_spec(b, s);
	if (c->ike_payload_for && c->ike_payload_for(c->ike_arg, b->key.prefix, &s->sa_in, &s->sa_out))
		s->flags |= HA_BIND_F_SA; /* the UE's payload in ESP tunnel mode (TS 24.303 5.1.3.2) */
}

/* The PDN whose home prefix pool holds the home address (TS 24.303 4.3: one per PDN). */
static int pdn_of(const struct ha_config *cfg, const struct in6_addr *hoa)
{
	for (unsigned i = 0; i < cfg->n_pdns; i++)
		if (ha_cfg_prefix_contains6(&cfg->pdns[i].pool6, cfg->pdns[i].pool6_len, hoa))
			return (int)i;
	return -1;
}

/* A binding's IPv4 home address goes back to its pool, unless IKEv2 gave it (it stays the
 * session's until the IKE SA goes). */
static void release_hoa4(struct cp_ctx *c, const struct cp_binding *b)
{
	if (c->ike_ip4_owned && c->ike_ip4_owned(c->ike_arg, b->hoa4))
		return;
	cp_pool4_release(&c->pool4[b->pdn], b->hoa4);
}

/* A binding leaves the cache: its IPv4 home address and its place in its PDN's count go. */
static void unbind(struct cp_ctx *c, struct cp_binding *b)
{
	if (b->has_hoa4)
		release_hoa4(c, b);
	if (b->pdn < HA_CFG_MAX_PDNS && c->pdn_bindings[b->pdn])
		c->pdn_bindings[b->pdn]--;
	cp_bcache_remove(&c->cache, b);
}

static void pdn_count(struct cp_ctx *c, int pdn, enum cp_pdn_counter k)
{
	if (pdn >= 0 && pdn < HA_CFG_MAX_PDNS)
		c->pdn_ctr[pdn][k]++;
}

/* RFC 5555 3.1.1 / TS 24.303 5.1.3.2: the IPv4 home address the BU asks for. Fills the IPv4
 * Address Acknowledgement; the IPv6 registration goes on whatever its status. */
static void ipv4_hoa(struct cp_ctx *c, struct cp_binding *b, const struct mh_opts *o,
		     struct cp_bu_out *out)
{
	struct mh_ipv4_ack *ack = &out->ba.opts.ipv4_ack;
	struct cp_pool4 *pool = &c->pool4[b->pdn];
	struct in_addr want = o->ipv4_hoa.addr, got, ike4;
	/* the address IKEv2 gave this UE in this PDN (INTERNAL_IP4_ADDRESS), if any */
	bool by_ike = c->ike_ip4_for && c->ike_ip4_for(c->ike_arg, b->key.prefix, &ike4);

	MH_SET_OPT(&out->ba.opts, MH_OPT_IPV4_ACK);
	*ack = (struct mh_ipv4_ack){ .status = V4ACK_SUCCESS, .prefix_len = 32 };
	if (o->ipv4_hoa.p) {
		/* a mobile network prefix (NEMO): the HA serves UEs, never a mobile router's prefix */
		ack->status = V4ACK_PREFIX_REFUSED;
	} else if (!by_ike && !cp_pool4_ready(pool)) {
		/* the operator gave this PDN no IPv4 service (no ipv4_pool, no address from IKEv2) */
		ack->status = V4ACK_PROHIBITED;
	} else if (o->ipv4_hoa.prefix_len == 0 || o->ipv4_hoa.prefix_len > 32) {
		ack->status = V4ACK_INVALID_ADDRESS;
	} else if (by_ike && (want.s_addr == 0 || want.s_addr == ike4.s_addr)) {
		/* RFC 5555 3.1.1 with TS 24.303 5.1.2.2: the one IKEv2 assigned */
		got = ike4;
		if (!b->has_hoa4 || b->hoa4.s_addr != ike4.s_addr) {
			if (b->has_hoa4)
				release_hoa4(c, b);
			cp_bcache_set_hoa4(&c->cache, b, true, ike4);
		}
	} else if (want.s_addr == 0) {
		/* dynamic assignment; a refresh keeps what the UE has */
		if (b->has_hoa4) {
			got = b->hoa4;
		} else if (cp_pool4_alloc(pool, &got) < 0) {
			ack->status = V4ACK_NO_DYNAMIC; /* the pool has run dry */
		} else {
			cp_bcache_set_hoa4(&c->cache, b, true, got);
			c->ctr[CP_C_IPV4_ASSIGNED]++;
		}
	} else if (b->has_hoa4 && b->hoa4.s_addr == want.s_addr) {
		got = want; /* the address assigned before (5.2.3.2) */
	} else if (!cp_pool4_contains(pool, want)) {
		ack->status = V4ACK_INVALID_ADDRESS;
	} else if (cp_pool4_take(pool, want) < 0) {
		ack->status = V4ACK_INCORRECT_HOA; /* another UE's */
	} else {
		if (b->has_hoa4)
			cp_pool4_release(pool, b->hoa4);
		cp_bcache_set_hoa4(&c->cache, b, true, want);
		got = want;
		c->ctr[CP_C_IPV4_ASSIGNED]++;
	}
	if (ack->status >= 128) {
		ack->prefix_len = 0; /* valid only on success */
		c->ctr[CP_C_IPV4_REFUSED]++;
		return;
	}
	ack->addr = got;
}

static void reject(struct cp_ctx *c, const struct cp_bu_in *in, struct cp_bu_out *out,
		   uint8_t status, uint16_t seq)
{
	out->ba.ba.status = status;
	out->ba.ba.seq = seq;
	out->ba.ba.lifetime = 0;
	out->send_ba = true; /* rejections are answered even without A (RFC 6275 10.3.1) */
	c->ctr[CP_C_BU_REJECTED]++;
	out->pdn = pdn_of(c->cfg, &in->hoa);
	pdn_count(c, out->pdn, CP_PC_BU_REJECTED);
}

static struct cp_realloc *realloc_of(struct cp_ctx *c, const struct in6_addr *hoa, uint8_t plen);

void cp_bu_process(struct cp_ctx *c, const struct cp_bu_in *in, struct cp_bu_out *out)
{
	const struct ha_config *cfg = c->cfg;
	const struct mh_bu *bu = &in->bu->bu;
	const struct mh_opts *o = &in->bu->opts;
	const struct cp_sigsa *sab = NULL;

	memset(out, 0, sizeof(*out));
	out->pdn = -1;
	c->ctr[CP_C_BU]++;
	out->ba.type = MH_TYPE_BA;
	out->hoa = in->hoa;

	/* RFC 4877 4.4 / RFC 6275 10.3.1: a BU not protected by the SA of the home address it
	 * registers is discarded without an answer */
	if (!cfg->home_agent.insecure_lab_mode) {
		if (!in->esp) {
			c->ctr[CP_C_BU_INSECURE]++;
			out->drop = true;
			return;
		}
		sab = sa_of(c, in->sa_spi);
		if (!sab || memcmp(&sab->hoa, &in->hoa, 16)) {
			c->ctr[CP_C_BU_WRONG_SA]++;
			out->drop = true;
			return;
		}
	} else {
		sab = in->esp ? sa_of(c, in->sa_spi) : sa_for_hoa(c, &in->hoa);
	}

	/* where the BA goes: back where the BU came from (RFC 6275 9.5.4, RFC 5555 4.1) */
	if (in->via_udp) {
		out->udp = true;
		out->udp_dst = in->outer_src4;
		out->udp_port = in->outer_sport;
		out->dst6 = in->src6;
	} else {
		out->dst6 = in->src6;
		if (in->has_hao) {
			out->rh2 = true;
			out->rh2_hoa = in->hoa;
		}
	}
	out->spi_out = sab ? sab->spi_out : 0;

	/* the ladder */
	if (!(bu->flags & MH_BU_H))
		return reject(c, in, out, MH_BA_HOME_REG_NOT_SUPPORTED, bu->seq);
	int pdn = pdn_of(cfg, &in->hoa);
	if (pdn < 0)
		return reject(c, in, out, MH_BA_NOT_HOME_SUBNET, bu->seq);
	uint8_t plen = cfg->pdns[pdn].home_prefix_len;
	struct cp_binding *b = cp_bcache_find(&c->cache, &in->hoa, plen);
	out->pdn = pdn;
	if (b && !mh_seq_newer(bu->seq, b->seq))
		return reject(c, in, out, MH_BA_SEQ_OUT_OF_WINDOW, b->seq); /* the last accepted */
	if (b && (b->flags & MH_BU_R) != (bu->flags & MH_BU_R))
		return reject(c, in, out, MH_BA_REG_TYPE_CHANGE, bu->seq);

	/* RFC 6275 10.3.1: K in the BA only when the IKE SA can follow the care-of address, i.e.
	 * the BU came under a child SA of an IKE SA (not a static SA, not in the clear) */
	bool k = (bu->flags & MH_BU_K) && in->esp && sab && sab->ike_sa;
	out->ba.ba.seq = bu->seq;
	out->ba.ba.flags = (uint8_t)((k ? MH_BA_K : 0) | (bu->flags & MH_BU_R ? MH_BA_R : 0));

	/* the care-of address: the Alternate CoA option, else the IPv6 source (RFC 6275 9.5.1);
	 * for a BU in UDP over IPv4 the IPv4 Care-of Address option (RFC 5555 4.1, below) */
	const struct in6_addr *coa6 = MH_HAS_OPT(o, MH_OPT_ALTCOA) ? &o->alt_coa : &in->src6;
	/* RFC 6275 9.5.1: lifetime 0 or a care-of address equal to the home address is a
	 * de-registration (001 5.2.3.3 / 004 5.4.3.2: the UE returning home, or detaching) */
	if (bu->lifetime == 0 || (!in->via_udp && !memcmp(coa6, &in->hoa, 16))) {
		if (!b)
			return reject(c, in, out, MH_BA_NOT_HOME_AGENT, bu->seq);
		cp_binding_spec(b, &out->spec);
		out->action = CP_ACT_DELETE;
		out->event = bu->lifetime == 0 ? CP_BEV_DEREG : CP_BEV_DEREG_HOME;
		/* 004 5.4.3.1: a de-registration crossing our BRI counts as its BRA */
		if (b->revoking) {
			out->ended_revocation = true;
			out->event = CP_BEV_REVOKED_DEREG;
			c->ctr[CP_C_BU_CROSSED_BRI]++;
		}
		pdn_count(c, pdn, b->revoking ? CP_PC_REVOKED : CP_PC_DEREG);
		/* 000 / RFC 6275 10.3.2, 11.7.1: with K the IKE SA moves to the home address, so
		 * the UE keeps its IKE session at home */
		if (k) {
			out->moved = true;
			out->coa = (struct ha_cfg_addr){ .family = AF_INET6, .v6 = in->hoa };
			out->coa_port = 0;
		}
		unbind(c, b);
		out->ba.ba.status = MH_BA_ACCEPTED;
		out->ba.ba.lifetime = 0;
		out->send_ba = true;
		c->ctr[CP_C_BU_DEREG]++;
		return;
	}

	/* the care-of address (5.2.3.2; RFC 5555 4.1 and NAT detection) */
	struct ha_cfg_addr coa = { 0 };
	bool udp = false, nat = false;
	uint16_t udp_port = 0;
	if (in->via_udp) {
		if (!MH_HAS_OPT(o, MH_OPT_IPV4_COA))
			return reject(c, in, out, MH_BA_INVALID_COA, bu->seq);
		coa.family = AF_INET;
		nat = o->ipv4_coa.s_addr != in->outer_src4.s_addr;
		if (nat || ((bu->flags & MH_BU_F) && cfg->home_agent.force_udp == HA_CFG_FORCE_UDP_ALLOWED)) {
			udp = true;
			udp_port = in->outer_sport;
			/* behind a NAT the tunnel goes to the mapping the HA sees */
			coa.v4 = in->outer_src4;
		} else {
			coa.v4 = o->ipv4_coa;
		}
	} else {
		if (MH_HAS_OPT(o, MH_OPT_IPV4_COA))
			return reject(c, in, out, MH_BA_INVALID_COA, bu->seq); /* RFC 5555 4.2 */
		/* the Alternate CoA must be the address the BU came from (RFC 6275 11.7.1 with the
		 * alternate-CoA check of 001 5.2.3.2) */
		if (memcmp(coa6, &in->src6, 16))
			return reject(c, in, out, MH_BA_INVALID_COA, bu->seq);
		coa.family = AF_INET6;
		coa.v6 = in->src6;
	}

	/* RFC 6275 10.3.1: the HA may shorten the lifetime asked for, never lengthen it: policy's
	 * maximum, and the prefix lifetime IKEv2 gave with the home prefix (RFC 5026 4.2.1) */
	uint32_t granted = min_u32((uint32_t)bu->lifetime * MH_LIFETIME_UNIT,
				   cfg->home_agent.lifetime_max);
	uint32_t prefix_life;
	struct cp_bkey key;
	cp_bkey_make(&key, &in->hoa, plen);
	if (c->ike_prefix_lifetime_for &&
	    c->ike_prefix_lifetime_for(c->ike_arg, key.prefix, &prefix_life))
		granted = min_u32(granted, prefix_life / MH_LIFETIME_UNIT * MH_LIFETIME_UNIT);
	if (granted == 0) /* a prefix lifetime under 4 s: nothing left to bind it for */
		return reject(c, in, out, MH_BA_UNSPECIFIED, bu->seq);

	bool created = false;
	if (!b) {
		b = cp_bcache_alloc(&c->cache);
		if (!b)
			return reject(c, in, out, MH_BA_INSUFFICIENT_RESOURCES, bu->seq);
		cp_bkey_make(&b->key, &in->hoa, plen);
		b->pdn = (uint32_t)pdn;
		cp_bcache_insert(&c->cache, b);
		c->pdn_bindings[pdn]++;
		created = true;
	}
	bool coa_changed = memcmp(&b->coa, &coa, sizeof(coa)) || b->udp_port != udp_port;
	/* RFC 4877 4.4 / 000: with K, a new care-of address moves the IKE SA too */
	out->moved = k && (created || coa_changed);
	out->event = created ? CP_BEV_REGISTERED : coa_changed ? CP_BEV_MOVED : CP_BEV_REFRESHED;
	out->prev_coa = b->coa;
	out->prev_port = b->udp_port;
	out->coa = coa;
	out->coa_port = udp_port;
	b->hoa = in->hoa;
	b->coa = coa;
	b->udp = udp;
	b->nat = nat;
	b->udp_port = udp_port;
	b->sig_port = in->via_udp ? in->outer_sport : 0;
	b->seq = bu->seq;
	b->flags = bu->flags;
	b->lifetime = granted;
	cp_bcache_set_expiry(&c->cache, b, in->now + granted);
	b->sa_in = in->esp ? in->sa_spi : 0;
	b->port = in->port;
	if (MH_HAS_OPT(o, MH_OPT_IPV4_HOA))
		ipv4_hoa(c, b, o, out);

	if (nat || udp) {
		/* RFC 5555 4.1: F set; the refresh time the UE keeps the NAT mapping with */
		MH_SET_OPT(&out->ba.opts, MH_OPT_NATD);
		out->ba.opts.natd.f = true;
		out->ba.opts.natd.refresh = nat ? cfg->home_agent.nat_keepalive_refresh
						 : MH_NATD_NO_KEEPALIVE;
		if (nat)
			c->ctr[CP_C_NAT_DETECTED]++;
	}
	if (cfg->home_agent.refresh_advice_percent) {
		uint32_t advice = granted / 100 * cfg->home_agent.refresh_advice_percent / MH_LIFETIME_UNIT;
		if (advice && advice * MH_LIFETIME_UNIT < granted) {
			MH_SET_OPT(&out->ba.opts, MH_OPT_BRA);
			out->ba.opts.refresh_advice = (uint16_t)advice;
		}
	}
	out->ba.ba.status = MH_BA_ACCEPTED;
	out->ba.ba.lifetime = (uint16_t)(granted / MH_LIFETIME_UNIT);
	out->send_ba = (bu->flags & MH_BU_A) != 0;
	/* 002 5.4.3: the BA, then at once the Home Agent Switch (RFC 5142) with the target HA and
	 * no Binding Refresh Advice; the UE then de-registers, which is acknowledged as usual */
	struct cp_realloc *ra = out->send_ba ? realloc_of(c, &in->hoa, plen) : NULL;
	if (ra) { /* kept until the Switch has left (cp_realloc_sent): hadp may refuse the binding */
		out->send_has = true;
		out->has.type = MH_TYPE_HAS;
		out->has.has.n_addrs = 1;
		out->has.has.addrs[0] = ra->target;
	}
	out->action = CP_ACT_UPSERT;
	cp_binding_spec_ctx(c, b, &out->spec);
	c->ctr[CP_C_BU_ACCEPTED]++;
	pdn_count(c, pdn, CP_PC_BU_ACCEPTED);
	if (out->event != CP_BEV_REFRESHED)
		pdn_count(c, pdn, created ? CP_PC_REGISTERED : CP_PC_MOVED);
}

unsigned cp_expire(struct cp_ctx *c, uint64_t now, struct ha_binding_spec *specs, unsigned max)
{
	struct cp_binding *due[64];
	unsigned n = 0;

	/* the expiry wheel: only this second's bindings are looked at, not the whole cache */
	unsigned k = cp_bcache_expired(&c->cache, now, due, max < 64 ? max : 64);
	for (unsigned i = 0; i < k; i++) {
		struct cp_binding *b = due[i];
		cp_binding_spec(b, &specs[n++]);
		tell(c, CP_BEV_EXPIRED, b);
		pdn_count(c, (int)b->pdn, CP_PC_EXPIRED);
		unbind(c, b);
		c->ctr[CP_C_EXPIRED]++;
	}
	return n;
}

int cp_remove_prefix(struct cp_ctx *c, const struct in6_addr *prefix, uint8_t len,
		     struct ha_binding_spec *gone)
{
	struct cp_binding *b = cp_bcache_find(&c->cache, prefix, len);

	if (!b)
		return 0;
	cp_binding_spec(b, gone);
	tell(c, CP_BEV_DEREG_IKE, b); /* the UE's IKE SA went: the UE detached */
	pdn_count(c, (int)b->pdn, CP_PC_DEREG);
	unbind(c, b);
	return 1;
}

static struct cp_binding *find_hoa(struct cp_ctx *c, const struct in6_addr *hoa);

bool cp_has_binding(struct cp_ctx *c, const struct in6_addr *hoa)
{
	return find_hoa(c, hoa) != NULL;
}

static struct cp_realloc_key realloc_key(const struct in6_addr *a, uint8_t len)
{
	struct cp_realloc_key k = { .len = len };
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;
		k.addr.s6_addr[i] = a->s6_addr[i] & (uint8_t)(bits >= 8 ? 0xFF : 0xFF << (8 - bits));
	}
	return k;
}

int cp_reallocate_prefix(struct cp_ctx *c, const struct in6_addr *prefix, uint8_t len,
			 const struct in6_addr *target)
{
	struct cp_realloc_key k = realloc_key(prefix, len);
	struct cp_realloc *r;
	HASH_FIND(hh, c->realloc, &k, sizeof(k), r);
	if (!r) {
		if (!(r = calloc(1, sizeof(*r))))
			return -ENOMEM;
		r->key = k;
		HASH_ADD(hh, c->realloc, key, sizeof(r->key), r);
	}
	r->target = *target;
	return 0;
}

void cp_realloc_sent(struct cp_ctx *c, const struct in6_addr *hoa)
{
	int pdn = pdn_of(c->cfg, hoa);
	struct cp_realloc *r = pdn < 0 ? NULL : realloc_of(c, hoa, c->cfg->pdns[pdn].home_prefix_len);
	if (!r)
		return;
	HASH_DEL(c->realloc, r);
	free(r);
	c->ctr[CP_C_HAS_SENT]++;
}

int cp_reallocate(struct cp_ctx *c, const struct in6_addr *hoa, const struct in6_addr *target)
{
	return cp_reallocate_prefix(c, hoa, 128, target);
}

/* The indication for this home address, or for its home prefix. */
static struct cp_realloc *realloc_of(struct cp_ctx *c, const struct in6_addr *hoa, uint8_t plen)
{
	struct cp_realloc *r;
	struct cp_realloc_key k = realloc_key(hoa, 128);
	HASH_FIND(hh, c->realloc, &k, sizeof(k), r);
	if (!r) {
		k = realloc_key(hoa, plen);
		HASH_FIND(hh, c->realloc, &k, sizeof(k), r);
	}
	return r;
}

/* ---- network-initiated detach (004 5.4.3.1) ------------------------------------------------- */

static struct cp_binding *find_hoa(struct cp_ctx *c, const struct in6_addr *hoa)
{
	int pdn = pdn_of(c->cfg, hoa);
	if (pdn < 0)
		return NULL;
	struct cp_binding *b = cp_bcache_find(&c->cache, hoa, c->cfg->pdns[pdn].home_prefix_len);
	return b && !memcmp(&b->hoa, hoa, 16) ? b : NULL;
}

/* The BRI: RFC 5846 layout, Revocation Trigger 1, P, V and G clear, no mobility option; to the
 * UE's care-of address with a type 2 routing header to its home address, as a BA (RFC 5846,
 * RFC 6275 6.4; 004 5.4.3.1's Home Address option is not sent: RFC 6275 6.3 and 9.3.1 make the
 * UE answer a HAO naming an address it has no binding for with a Binding Error, see
 * docs/controlplane.md), in UDP when its BUs come that way (to the port they come from: RFC 5555
 * 4.1), under its signalling SA. 004 names
 * trigger 1 "Unspecified" after the revocation draft; RFC 5846 6.1 (and IANA) name value 1
 * "Administrative Reason" (0 is Unspecified): the value 004 asks for is kept, with the RFC's
 * name, which fits an operator's or the AAA's detach (docs/controlplane.md). */
static void bri_for(const struct cp_ctx *c, const struct cp_binding *b, struct cp_msg_out *o)
{
	const struct cp_sigsa *sab = sa_for_hoa(c, &b->hoa);

	memset(o, 0, sizeof(*o));
	o->msg.type = MH_TYPE_BR;
	o->msg.br = (struct mh_br){ .br_type = MH_BR_BRI, .trigger_status = MH_BRI_ADMINISTRATIVE,
				   .seq = b->bri_seq };
	o->port = b->port;
	o->spi_out = sab ? sab->spi_out : 0;
	if (b->coa.family == AF_INET6) {
		o->dst6 = b->coa.v6;
		o->rh2 = true;
		o->rh2_hoa = b->hoa;
	} else {
		o->dst6 = b->hoa;
		o->udp = true;
		o->udp_dst = b->coa.v4;
		/* the port its BUs come from (the NAT's mapping when there is one: then udp_port) */
		o->udp_port = b->sig_port ? b->sig_port : HA_UDP_PORT_DSMIP;
	}
}

int cp_detach_start(struct cp_ctx *c, const struct in6_addr *hoa, uint64_t now_ms,
		    struct cp_msg_out *out)
{
	struct cp_binding *b = find_hoa(c, hoa);

	if (!b)
		return -ENOENT;
	if (b->revoking)
		return -EALREADY;
	b->revoking = true;
	b->bri_seq = ++c->bri_seq;
	b->bri_left = c->cfg->home_agent.bri_max_retransmissions;
	b->bri_next_ms = now_ms + c->cfg->home_agent.bri_min_delay_ms;
	c->bri_due_ms = min_u64(c->bri_due_ms, b->bri_next_ms);
	bri_for(c, b, out);
	c->ctr[CP_C_BRI_SENT]++;
	tell(c, CP_BEV_REVOKING, b);
	return 0;
}

unsigned cp_detach_tick(struct cp_ctx *c, uint64_t now_ms, struct cp_msg_out *resend,
			unsigned max)
{
	struct cp_binding *b, *tmp;
	unsigned n = 0;
	uint64_t due = UINT64_MAX;

	/* revocations are rare: the cache (up to millions of bindings) is walked only when the
	 * earliest of their timers is due, not at every turn of hacpd's loop */
	if (now_ms < c->bri_due_ms)
		return 0;
	HASH_ITER(hh, c->cache.by_prefix, b, tmp) {
		if (!b->revoking || b->bri_next_ms == UINT64_MAX)
			continue;
		if (b->bri_next_ms > now_ms) {
			due = min_u64(due, b->bri_next_ms);
			continue;
		}
		if (n == max) {
			due = now_ms; /* more are due: the next tick goes on */
			break;
		}
		if (b->bri_left) {
			b->bri_left--;
			b->bri_next_ms = now_ms + c->cfg->home_agent.bri_min_delay_ms;
			due = min_u64(due, b->bri_next_ms);
			bri_for(c, b, &resend[n++]);
			c->ctr[CP_C_BRI_RETRANSMIT]++;
			continue;
		}
		/* 004 5.4.3.1: "shall not remove the entry from its binding cache before receiving
		 * the BRA": no more BRIs; the binding stays (and forwards) until the BRA, a
		 * lifetime-0 BU or its lifetime's end */
		b->bri_next_ms = UINT64_MAX;
		c->ctr[CP_C_BRI_UNANSWERED]++;
		tell(c, CP_BEV_UNANSWERED, b);
	}
	c->bri_due_ms = due;
	return n;
}

int cp_bra_process(struct cp_ctx *c, const struct mh_msg *bra, const struct in6_addr *hoa,
		   bool esp, uint32_t sa_spi, struct ha_binding_spec *gone)
{
	struct cp_binding *b = find_hoa(c, hoa);
	const struct cp_sigsa *sab = esp ? sa_of(c, sa_spi) : NULL;

	c->ctr[CP_C_BRA]++;
	if (!c->cfg->home_agent.insecure_lab_mode && (!sab || memcmp(&sab->hoa, hoa, 16))) {
		c->ctr[CP_C_BRA_INSECURE]++;
		return 0;
	}
	if (!b || !b->revoking || bra->br.seq != b->bri_seq) {
		c->ctr[CP_C_BRA_UNMATCHED]++;
		return 0;
	}
	cp_binding_spec(b, gone);
	tell(c, CP_BEV_REVOKED, b);
	pdn_count(c, (int)b->pdn, CP_PC_REVOKED);
	unbind(c, b);
	return 1;
}
