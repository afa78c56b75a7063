#include <errno.h>

#include <daemon.h>
#include <collections/hashtable.h>
#include <encoding/payloads/cp_payload.h>
#include <encoding/payloads/id_payload.h>
#include <threading/mutex.h>

#include "dsmip6_hacpd.h"
#include "dsmip6_s6b.h"
#include "dsmip6_session.h"

#define MIP6_HOME_PREFIX_LEN 21 /* RFC 5026 4.2.1: lifetime 4, prefix 16, prefix length 1 */

typedef struct private_dsmip6_session_t private_dsmip6_session_t;

struct private_dsmip6_session_t {
	dsmip6_session_t public;
	hashtable_t *by_id;     /* IKE SA unique id -> entry_t */
	mutex_t *lock;
	/* IKE SAs that ended while hacpd could not be told (it was restarting): told on the next
	 * connection, so their sessions, SAs and bindings do not outlive them */
	uint32_t *untold;
	unsigned n_untold, cap_untold;
};

typedef struct {
	uint32_t id;
	char apn[HA_IKE_APN_MAX];
	char nai[HA_IKE_NAI_MAX];
	bool has_prefix;
	uint8_t attr[MIP6_HOME_PREFIX_LEN];
	bool want_ip4;          /* the UE's CFG_REQUEST had INTERNAL_IP4_ADDRESS */
	bool has_ip4;
	uint8_t ip4[4];
	/* ike.aaa s6b: the Diameter session and what the AAA authorised (dsmip6_s6b.c), sent
	 * with every PREFIX_REQ of this UE (a rekey too: the same session) */
	char aaa_session[HA_IKE_SID_MAX];
	struct s6b_auth auth;
} entry_t;

/* The listener is not the first member: its callbacks get its own address. */
static private_dsmip6_session_t *of_listener(listener_t *l)
{
	return (private_dsmip6_session_t *)((char *)l - offsetof(private_dsmip6_session_t,
								 public.listener));
}

static u_int hash_id(const void *key)
{
	return chunk_hash(chunk_create((u_char *)key, sizeof(uint32_t)));
}

static bool equals_id(const void *a, const void *b)
{
	return *(const uint32_t *)a == *(const uint32_t *)b;
}

/* The entry of an IKE SA, made when missing. Locked by the caller. */
static entry_t *entry_of(private_dsmip6_session_t *this, uint32_t id)
{
	entry_t *e = this->by_id->get(this->by_id, &id);
	if (!e) {
		INIT(e, .id = id);
		this->by_id->put(this->by_id, &e->id, e);
	}
	return e;
}

void dsmip6_id_text(identification_t *id, char *buf, size_t len)
{
	chunk_t c = id ? id->get_encoding(id) : chunk_empty;
	size_t n = min(c.len, len - 1);
	memcpy(buf, c.ptr, n);
	buf[n] = '\0';
	if (memchr(buf, 0, n))
		buf[0] = '\0'; /* not text: no name */
}

METHOD(listener_t, message, bool, listener_t *l, ike_sa_t *ike_sa,
       message_t *msg, bool incoming, bool plain)
{
	private_dsmip6_session_t *this = of_listener(l);
	if (!incoming || !plain || msg->get_exchange_type(msg) != IKE_AUTH || !msg->get_request(msg))
		return TRUE;
	/* TS 24.303 5.1.2.2: the UE may ask for an IPv4 home address in CFG_REQUEST */
	cp_payload_t *cp = (cp_payload_t *)msg->get_payload(msg, PLV2_CONFIGURATION);
	if (cp && cp->get_type(cp) == CFG_REQUEST) {
		enumerator_t *en = cp->create_attribute_enumerator(cp);
		configuration_attribute_t *a;
		bool want = FALSE;
		while (en->enumerate(en, &a))
			want |= a->get_type(a) == INTERNAL_IP4_ADDRESS;
		en->destroy(en);
		if (want) {
			this->lock->lock(this->lock);
			entry_of(this, ike_sa->get_unique_id(ike_sa))->want_ip4 = TRUE;
			this->lock->unlock(this->lock);
		}
	}
	id_payload_t *idr = (id_payload_t *)msg->get_payload(msg, PLV2_ID_RESPONDER);
	if (!idr)
		return TRUE;
	identification_t *id = idr->get_identification(idr);
	this->lock->lock(this->lock);
	entry_t *e = entry_of(this, ike_sa->get_unique_id(ike_sa));
	dsmip6_id_text(id, e->apn, sizeof(e->apn));
	this->lock->unlock(this->lock);
	id->destroy(id);
	return TRUE;
}

/* PREFIX_REQ for the entry's UE; the attribute on success. */
static int ask_prefix(entry_t *e)
{
	struct ha_ike_prefix_req rq = { .h = { .type = HA_IKE_PREFIX_REQ, .len = sizeof(rq),
					       .ike_sa = e->id } };
	struct ha_ike_prefix_rep rep;

	memcpy(rq.nai, e->nai, sizeof(rq.nai));
	memcpy(rq.apn, e->apn, sizeof(rq.apn));
	rq.want_ip4 = e->want_ip4;
	memcpy(rq.aaa_session, e->aaa_session, sizeof(rq.aaa_session));
	rq.auth_flags = e->auth.flags;
	memcpy(rq.static_prefix, e->auth.static_prefix, 16);
	memcpy(rq.static_ip4, e->auth.static_ip4, 4);
	memcpy(rq.realloc_ha, e->auth.realloc_ha, 16);
	int rc = dsmip6_hacpd->request(dsmip6_hacpd, &rq.h, &rep, sizeof(rep));
	if (rc < 0)
		return rc;
	if (rep.h.type != HA_IKE_PREFIX_REP)
		return -EPROTO;
	if (rep.result < 0)
		return rep.result;
	htoun32(e->attr, rep.lifetime);
	memcpy(e->attr + 4, rep.prefix, 16);
	e->attr[20] = rep.prefix_len;
	e->has_prefix = true;
	e->has_ip4 = rep.has_ip4;
	memcpy(e->ip4, rep.ip4, 4);
	return 0;
}

/* S6b: a session the AAA opened for an attach that then failed here never reaches hacpd, so
 * hacpd will never end it: the STR goes now (RFC 6733 8.15 SERVICE_NOT_PROVIDED). */
static void end_untaken(uint32_t ike_sa, const char *known_sid)
{
	char sid[HA_IKE_SID_MAX];
	struct s6b_auth auth;
	if (!dsmip6_s6b)
		return;
	if (known_sid && known_sid[0])
		dsmip6_s6b->end(dsmip6_s6b, known_sid, HA_IKE_AAA_END_SERVICE_NOT_PROVIDED);
	else if (dsmip6_s6b->take_auth(dsmip6_s6b, ike_sa, sid, &auth))
		dsmip6_s6b->end(dsmip6_s6b, sid, HA_IKE_AAA_END_SERVICE_NOT_PROVIDED);
}

METHOD(listener_t, authorize, bool, listener_t *l, ike_sa_t *ike_sa, bool final,
       bool *success)
{
	private_dsmip6_session_t *this = of_listener(l);
	if (final && !*success)
		end_untaken(ike_sa->get_unique_id(ike_sa), NULL);
	if (!final || !*success)
		return TRUE;
	/* the UE's permanent identity: the EAP identity when EAP ran, else its IDi */
	identification_t *who = ike_sa->get_other_eap_id(ike_sa);
	this->lock->lock(this->lock);
	entry_t *e = entry_of(this, ike_sa->get_unique_id(ike_sa));
	dsmip6_id_text(who, e->nai, sizeof(e->nai));
	if (dsmip6_s6b)
		dsmip6_s6b->take_auth(dsmip6_s6b, e->id, e->aaa_session, &e->auth);
	entry_t copy = *e;
	this->lock->unlock(this->lock);
	int rc = ask_prefix(&copy);
	if (rc < 0) {
		DBG1(DBG_IKE, "dsmip6: no home prefix for '%s' on '%s': %s", copy.nai,
		     copy.apn[0] ? copy.apn : "(default PDN)", strerror(-rc));
		end_untaken(copy.id, copy.aaa_session);
		*success = FALSE;
		return TRUE;
	}
	this->lock->lock(this->lock);
	e = entry_of(this, copy.id);
	memcpy(e->attr, copy.attr, sizeof(e->attr));
	e->has_prefix = true;
	e->has_ip4 = copy.has_ip4;
	memcpy(e->ip4, copy.ip4, 4);
	this->lock->unlock(this->lock);
	char p[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, copy.attr + 4, p, sizeof(p));
	DBG1(DBG_IKE, "dsmip6: home prefix %s/%u for '%s' on '%s'", p, copy.attr[20], copy.nai,
	     copy.apn[0] ? copy.apn : "(default PDN)");
	return TRUE;
}

static void tell_down(private_dsmip6_session_t *this, uint32_t id)
{
	struct ha_ike_down m = { .h = { .type = HA_IKE_IKE_DOWN, .len = sizeof(m), .ike_sa = id } };
	struct ha_ike_result res;
	if (dsmip6_hacpd->request(dsmip6_hacpd, &m.h, &res, sizeof(res)) >= 0)
		return;
	this->lock->lock(this->lock);
	if (this->n_untold == this->cap_untold) {
		unsigned cap = this->cap_untold ? this->cap_untold * 2 : 64;
		uint32_t *n = realloc(this->untold, cap * sizeof(*n));
		if (n) {
			this->untold = n;
			this->cap_untold = cap;
		}
	}
	if (this->n_untold < this->cap_untold)
		this->untold[this->n_untold++] = id;
	this->lock->unlock(this->lock);
	DBG1(DBG_IKE, "dsmip6: IKE SA #%u ended while hacpd was away: told when it is back", id);
}

/* A (re)connection to hacpd: the ends it missed. */
static void tell_untold(private_dsmip6_session_t *this)
{
	this->lock->lock(this->lock);
	uint32_t *ids = this->untold;
	unsigned n = this->n_untold;
	this->untold = NULL;
	this->n_untold = this->cap_untold = 0;
	this->lock->unlock(this->lock);
	for (unsigned i = 0; i < n; i++)
		tell_down(this, ids[i]);
	free(ids);
}

METHOD(listener_t, ike_updown, bool, listener_t *l, ike_sa_t *ike_sa, bool up)
{
	private_dsmip6_session_t *this = of_listener(l);
	if (up)
		return TRUE;
	uint32_t id = ike_sa->get_unique_id(ike_sa);
	this->lock->lock(this->lock);
	entry_t *e = this->by_id->remove(this->by_id, &id);
	this->lock->unlock(this->lock);
	if (e && e->has_prefix)
		tell_down(this, id); /* 003 / 004 5.4.3.2: the UE's SAs and binding go in hadp too */
	free(e);
	return TRUE;
}

/* An IKE SA that dies between its DEA and its final authorization (its AUTH payload did not
 * verify, the UE went away): the AAA's session ends too. */
METHOD(listener_t, ike_state_change, bool, listener_t *l, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	private_dsmip6_session_t *this = of_listener(l);
	if (state != IKE_DESTROYING)
		return TRUE;
	uint32_t id = ike_sa->get_unique_id(ike_sa);
	end_untaken(id, NULL);
	/* an IKE SA that never came up (refused, timed out, vetoed after hacpd gave it a prefix)
	 * gets no ike_updown: its entry goes here, and hacpd is told if it holds a session */
	this->lock->lock(this->lock);
	entry_t *e = this->by_id->remove(this->by_id, &id);
	this->lock->unlock(this->lock);
	if (e && e->has_prefix)
		tell_down(this, id);
	free(e);
	return TRUE;
}

METHOD(listener_t, ike_rekey, bool, listener_t *l, ike_sa_t *old, ike_sa_t *new)
{
	private_dsmip6_session_t *this = of_listener(l);
	uint32_t id = old->get_unique_id(old);
	this->lock->lock(this->lock);
	entry_t *e = this->by_id->remove(this->by_id, &id);
	if (e) {
		e->id = new->get_unique_id(new);
		this->by_id->put(this->by_id, &e->id, e);
	}
	entry_t copy = e ? *e : (entry_t){ 0 };
	this->lock->unlock(this->lock);
	/* the same UE and PDN under the new IKE SA: hacpd moves the session (same prefix) */
	if (copy.has_prefix && ask_prefix(&copy) < 0)
		DBG1(DBG_IKE, "dsmip6: hacpd did not take the rekeyed IKE SA of '%s'", copy.nai);
	return TRUE;
}

/* The UE asked for INTERNAL_IP4_ADDRESS: the IPv4 home address hacpd gave its session; charon
 * sends it as the virtual IP. */
METHOD(attribute_provider_t, acquire_address, host_t *, private_dsmip6_session_t *this,
       linked_list_t *pools, ike_sa_t *ike_sa, host_t *requested)
{
	uint32_t id = ike_sa->get_unique_id(ike_sa);
	host_t *h = NULL;

	if (requested->get_family(requested) != AF_INET)
		return NULL;
	this->lock->lock(this->lock);
	entry_t *e = this->by_id->get(this->by_id, &id);
	if (e && e->has_ip4)
		h = host_create_from_chunk(AF_INET, chunk_create(e->ip4, 4), 0);
	this->lock->unlock(this->lock);
	return h;
}

METHOD(attribute_provider_t, release_address, bool, private_dsmip6_session_t *this,
       linked_list_t *pools, host_t *address, ike_sa_t *ike_sa)
{
	return TRUE; /* hacpd keeps it with the session until the IKE SA goes */
}

typedef struct {
	enumerator_t public;
	bool done;
	uint8_t attr[MIP6_HOME_PREFIX_LEN];
} attr_enum_t;

METHOD(enumerator_t, attr_enumerate, bool, attr_enum_t *this, va_list args)
{
	configuration_attribute_type_t *type;
	chunk_t *value;

	VA_ARGS_VGET(args, type, value);
	if (this->done)
		return FALSE;
	*type = MIP6_HOME_PREFIX;
	*value = chunk_create(this->attr, sizeof(this->attr));
	this->done = true;
	return TRUE;
}

METHOD(attribute_provider_t, create_attribute_enumerator, enumerator_t *,
       private_dsmip6_session_t *this, linked_list_t *pools, ike_sa_t *ike_sa, linked_list_t *vips)
{
	uint32_t id = ike_sa->get_unique_id(ike_sa);
	attr_enum_t *en;

	this->lock->lock(this->lock);
	entry_t *e = this->by_id->get(this->by_id, &id);
	if (!e || !e->has_prefix) {
		this->lock->unlock(this->lock);
		return enumerator_create_empty();
	}
	INIT(en,
		.public = {
			.enumerate = enumerator_enumerate_default,
			.venumerate = _attr_enumerate,
			.destroy = (void *)free,
		},
	);
	memcpy(en->attr, e->attr, sizeof(en->attr));
	this->lock->unlock(this->lock);
	return &en->public;
}

METHOD(dsmip6_session_t, destroy, void, private_dsmip6_session_t *this)
{
	enumerator_t *en = this->by_id->create_enumerator(this->by_id);
	void *k, *v;
	while (en->enumerate(en, &k, &v))
		free(v);
	en->destroy(en);
	if (dsmip6_hacpd)
		dsmip6_hacpd->on_connect(dsmip6_hacpd, NULL, NULL);
	this->by_id->destroy(this->by_id);
	this->lock->destroy(this->lock);
	free(this->untold);
	free(this);
}

dsmip6_session_t *dsmip6_session_create(void)
{
	private_dsmip6_session_t *this;

	INIT(this,
		.public = {
			.provider = {
				.acquire_address = _acquire_address,
				.release_address = _release_address,
				.create_attribute_enumerator = _create_attribute_enumerator,
			},
			.listener = {
				.message = _message,
				.authorize = _authorize,
				.ike_updown = _ike_updown,
				.ike_state_change = _ike_state_change,
				.ike_rekey = _ike_rekey,
			},
			.destroy = _destroy,
		},
		.by_id = hashtable_create(hash_id, equals_id, 64),
		.lock = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	if (dsmip6_hacpd)
		dsmip6_hacpd->on_connect(dsmip6_hacpd, (void (*)(void *))tell_untold, this);
	return &this->public;
}
