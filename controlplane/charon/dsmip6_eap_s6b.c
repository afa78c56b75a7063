#include "s6b_msg.h"

#include <daemon.h>

#include "dsmip6_eap_s6b.h"
#include "dsmip6_s6b.h"
#include "dsmip6_session.h"

typedef struct private_dsmip6_eap_s6b_t private_dsmip6_eap_s6b_t;

struct private_dsmip6_eap_s6b_t {
	eap_method_t public;
	identification_t *peer;     /* the UE's EAP identity: its NAI */
	eap_type_t type;            /* EAP-AKA, or what the AAA chose */
	pen_t vendor;
	uint8_t identifier;
	char nai[HA_IKE_NAI_MAX];
	char sid[HA_IKE_SID_MAX];   /* the session the first DER opened */
	char host[256];             /* the AAA server holding its EAP state (RFC 6733 6.1) */
	chunk_t msk;
	struct s6b_answer *answer;  /* room for the AAA's answers */
};

/* The APN the UE asked for: the connection's local identity (charon_conf.py writes one per
 * PDN, named by its APN), so the IKE SA's own identity. */
static const char *apn_of(ike_sa_t *ike_sa, char *buf, size_t len)
{
	dsmip6_id_text(ike_sa ? ike_sa->get_my_id(ike_sa) : NULL, buf, len);
	return dsmip6_s6b->service_selection(dsmip6_s6b, buf);
}

/* The attach fails here while the AAA may hold the session open (no answer, an answer we
 * cannot use): its STR (RFC 6733 8.15 SERVICE_NOT_PROVIDED; an AAA that never opened it
 * answers 5002). An AAA's own rejection closed the session already. */
static void abandon(private_dsmip6_eap_s6b_t *this)
{
	if (this->sid[0])
		dsmip6_s6b->end(dsmip6_s6b, this->sid, HA_IKE_AAA_END_SERVICE_NOT_PROVIDED);
	this->sid[0] = '\0';
}

/* One DER with this EAP message, and what charon does with the answer. */
static status_t relay(private_dsmip6_eap_s6b_t *this, chunk_t eap, eap_payload_t **out)
{
	ike_sa_t *ike_sa = charon->bus->get_sa(charon->bus);
	char me[HA_IKE_APN_MAX];
	const char *apn = apn_of(ike_sa, me, sizeof(me));
	struct s6b_request r = { .sid = this->sid[0] ? this->sid : NULL, .nai = this->nai,
				 .apn = apn, .eap = eap.ptr, .eap_len = eap.len,
				 .dest_host = this->host[0] ? this->host : NULL };
	struct s6b_answer *a = this->answer;

	dsmip6_s6b->prepare(dsmip6_s6b, &r);
	enum dsmip6_s6b_outcome o = dsmip6_s6b->exchange(dsmip6_s6b, TRUE, &r, a);
	if (!this->sid[0])
		memcpy(this->sid, a->sid, sizeof(this->sid));
	if (o == DSMIP6_S6B_ANSWERED && !this->host[0] && a->origin[0])
		memcpy(this->host, a->origin, sizeof(this->host));
	switch (o) {
	case DSMIP6_S6B_ANSWERED:
		break;
	case DSMIP6_S6B_TIMEOUT:
		DBG1(DBG_IKE, "s6b: the AAA did not answer the DER for '%s': authentication fails",
		     this->nai);
		dsmip6_s6b->event(dsmip6_s6b, HA_IKE_AAA_EV_TIMEOUT);
		abandon(this); /* a late answer may have opened it at the AAA */
		return FAILED;
	case DSMIP6_S6B_UNAVAILABLE:
		DBG1(DBG_IKE, "s6b: no AAA server took the DER for '%s' (none reachable): "
		     "authentication fails", this->nai);
		dsmip6_s6b->event(dsmip6_s6b, HA_IKE_AAA_EV_UNAVAILABLE);
		return FAILED;
	case DSMIP6_S6B_BAD_ANSWER:
		dsmip6_s6b->event(dsmip6_s6b, HA_IKE_AAA_EV_ERROR);
		abandon(this);
		return FAILED;
	}

	if (a->experimental && a->vendor == S6B_VENDOR_3GPP && a->result == S6B_ERROR_USER_UNKNOWN) {
		DBG1(DBG_IKE, "s6b: the AAA does not know '%s' (DIAMETER_ERROR_USER_UNKNOWN)",
		     this->nai);
		dsmip6_s6b->event(dsmip6_s6b, HA_IKE_AAA_EV_USER_UNKNOWN);
		return FAILED;
	}
	if (!a->experimental && a->result == S6B_MULTI_ROUND_AUTH && a->eap_len) {
		eap_payload_t *p = eap_payload_create_data(chunk_create(a->eap, a->eap_len));
		this->type = p->get_type(p, &this->vendor);
		*out = p;
		return NEED_MORE;
	}
	if (!a->experimental && a->result == S6B_SUCCESS) {
		if (a->msk_len < 64) { /* RFC 5247: 64 octets at least; IKEv2 cannot do without */
			DBG1(DBG_IKE, "s6b: the AAA accepted '%s' without an MSK: authentication fails",
			     this->nai);
			dsmip6_s6b->event(dsmip6_s6b, HA_IKE_AAA_EV_ERROR);
			abandon(this);
			return FAILED;
		}
		chunk_clear(&this->msk);
		this->msk = chunk_clone(chunk_create(a->msk, a->msk_len));
		dsmip6_s6b->authorised(dsmip6_s6b, ike_sa ? ike_sa->get_unique_id(ike_sa) : 0,
				       this->nai, apn, a);
		DBG1(DBG_IKE, "s6b: the AAA %s authenticated '%s' for '%s' (session %s)", a->origin,
		     this->nai, apn, a->sid);
		dsmip6_s6b->event(dsmip6_s6b, HA_IKE_AAA_EV_AUTH_OK);
		return SUCCESS;
	}
	if (!a->experimental && a->result == S6B_AUTHENTICATION_REJECTED) {
		DBG1(DBG_IKE, "s6b: the AAA rejected '%s' (DIAMETER_AUTHENTICATION_REJECTED)",
		     this->nai);
		dsmip6_s6b->event(dsmip6_s6b, HA_IKE_AAA_EV_AUTH_REJECTED);
		return FAILED;
	}
	DBG1(DBG_IKE, "s6b: the AAA answered the DER for '%s' with %s%u: authentication fails",
	     this->nai, a->experimental ? "experimental result " : "", a->result);
	dsmip6_s6b->event(dsmip6_s6b, HA_IKE_AAA_EV_ERROR);
	return FAILED;
}

/* RFC 3748 5.1: the identity the UE gave, as the EAP-Response/Identity the AAA starts from. */
METHOD(eap_method_t, initiate, status_t, private_dsmip6_eap_s6b_t *this, eap_payload_t **out)
{
	size_t n = strlen(this->nai);
	uint8_t buf[5 + HA_IKE_NAI_MAX];

	buf[0] = EAP_RESPONSE;
	buf[1] = this->identifier;
	htoun16(buf + 2, (uint16_t)(5 + n));
	buf[4] = EAP_IDENTITY;
	memcpy(buf + 5, this->nai, n);
	return relay(this, chunk_create(buf, 5 + n), out);
}

METHOD(eap_method_t, process, status_t, private_dsmip6_eap_s6b_t *this, eap_payload_t *in,
       eap_payload_t **out)
{
	return relay(this, in->get_data(in), out);
}

METHOD(eap_method_t, get_type, eap_type_t, private_dsmip6_eap_s6b_t *this, pen_t *vendor)
{
	*vendor = this->vendor;
	return this->type;
}

METHOD(eap_method_t, get_msk, status_t, private_dsmip6_eap_s6b_t *this, chunk_t *msk)
{
	if (!this->msk.len)
		return FAILED;
	*msk = this->msk;
	return SUCCESS;
}

METHOD(eap_method_t, get_identifier, uint8_t, private_dsmip6_eap_s6b_t *this)
{
	return this->identifier;
}

METHOD(eap_method_t, set_identifier, void, private_dsmip6_eap_s6b_t *this, uint8_t identifier)
{
	this->identifier = identifier;
}

METHOD(eap_method_t, is_mutual, bool, private_dsmip6_eap_s6b_t *this)
{
	return TRUE; /* EAP-AKA authenticates the network too (AUTN) */
}

METHOD(eap_method_t, destroy, void, private_dsmip6_eap_s6b_t *this)
{
	this->peer->destroy(this->peer);
	chunk_clear(&this->msk);
	memwipe(this->answer, sizeof(*this->answer)); /* it held an MSK */
	free(this->answer);
	free(this);
}

eap_method_t *dsmip6_eap_s6b_create(identification_t *server, identification_t *peer)
{
	private_dsmip6_eap_s6b_t *this;

	if (!dsmip6_s6b)
		return NULL;
	INIT(this,
		.public = {
			.initiate = _initiate,
			.process = _process,
			.get_type = _get_type,
			.is_mutual = _is_mutual,
			.get_msk = _get_msk,
			.get_identifier = _get_identifier,
			.set_identifier = _set_identifier,
			.destroy = _destroy,
		},
		.peer = peer->clone(peer),
		.type = EAP_AKA,
		.answer = malloc(sizeof(struct s6b_answer)),
	);
	dsmip6_id_text(peer, this->nai, sizeof(this->nai));
	if (!this->answer) {
		destroy(this);
		return NULL;
	}
	return &this->public;
}
