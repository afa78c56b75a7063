#include <errno.h>

#include "ha_ike_msg.h"

uint32_t ha_ike_msg_size(unsigned type)
{
	switch (type) {
	case HA_IKE_HELLO:
		return sizeof(struct ha_ike_hello);
	case HA_IKE_RESULT:
		return sizeof(struct ha_ike_result);
	case HA_IKE_PREFIX_REQ:
		return sizeof(struct ha_ike_prefix_req);
	case HA_IKE_PREFIX_REP:
		return sizeof(struct ha_ike_prefix_rep);
	case HA_IKE_SA_ADD:
		return sizeof(struct ha_ike_sa_add);
	case HA_IKE_SA_DEL:
	case HA_IKE_SA_QUERY:
	case HA_IKE_SA_ENCAP:
		return sizeof(struct ha_ike_sa_del);
	case HA_IKE_SA_COUNTERS:
		return sizeof(struct ha_ike_sa_counters);
	case HA_IKE_IKE_DOWN:
	case HA_IKE_IKE_DELETE:
		return sizeof(struct ha_ike_down);
	case HA_IKE_PEER_MOVE:
		return sizeof(struct ha_ike_peer_move);
	case HA_IKE_PACKET:
	case HA_IKE_SEND:
		return sizeof(struct ha_ike_packet);
	case HA_IKE_AAA_ORDER:
		return sizeof(struct ha_ike_aaa_order);
	case HA_IKE_AAA_EVENT:
		return sizeof(struct ha_ike_aaa_event_msg);
	case HA_IKE_AAA_END:
		return sizeof(struct ha_ike_aaa_end);
	default:
		return 0;
	}
}

const char *ha_ike_type_name(unsigned type)
{
	static const char *const n[] = {
#define X(e, s) [e] = s,
		HA_IKE_TYPES(X)
#undef X
	};
	return type > HA_IKE__NONE && type < HA_IKE__COUNT ? n[type] : "invalid";
}

const char *ha_ike_aaa_event_name(unsigned event)
{
	static const char *const n[] = {
#define X(e, s) [e] = s,
		HA_IKE_AAA_EVENTS(X)
#undef X
	};
	return event > HA_IKE_AAA_EV__NONE && event < HA_IKE_AAA_EV__COUNT ? n[event] : "invalid";
}

int ha_ike_check_hdr(const struct ha_ike_hdr *h)
{
	if (h->version != HA_IKE_VERSION)
		return -EPROTO;
	uint32_t want = ha_ike_msg_size(h->type);
	if (!want || h->len != want)
		return -EBADMSG;
	return 0;
}
