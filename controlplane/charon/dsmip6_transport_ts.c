/* Transport-mode traffic selectors across a NAT: see dsmip6_transport_ts.h. */
#include <daemon.h>
#include <encoding/payloads/ts_payload.h>
#include <sa/ike_sa.h>

#include "dsmip6_transport_ts.h"

typedef struct {
	dsmip6_transport_ts_t public;
} private_dsmip6_transport_ts_t;

/* The selectors of the incoming message this thread is processing: charon receives a message
 * and runs its tasks (the narrowing included) in one job, on one thread. */
static __thread uint32_t seen_ike_sa;
static __thread linked_list_t *seen_tsi, *seen_tsr;

static void forget(void)
{
	DESTROY_OFFSET_IF(seen_tsi, offsetof(traffic_selector_t, destroy));
	DESTROY_OFFSET_IF(seen_tsr, offsetof(traffic_selector_t, destroy));
	seen_tsi = seen_tsr = NULL;
	seen_ike_sa = 0;
}

static linked_list_t *selectors(message_t *m, payload_type_t type)
{
	ts_payload_t *ts = (ts_payload_t *)m->get_payload(m, type);
	return ts ? ts->get_traffic_selectors(ts) : NULL;
}

METHOD(listener_t, message, bool, listener_t *l, ike_sa_t *ike_sa, message_t *m, bool incoming,
       bool plain)
{
	if (!incoming || !plain || !ike_sa)
		return TRUE;
	forget();
	seen_tsi = selectors(m, PLV2_TS_INITIATOR);
	seen_tsr = selectors(m, PLV2_TS_RESPONDER);
	if (seen_tsi || seen_tsr)
		seen_ike_sa = ike_sa->get_unique_id(ike_sa);
	return TRUE;
}

/* Narrow one side again, from what the peer proposed, without charon's NAT substitution. */
static void renarrow(ike_sa_t *ike_sa, child_sa_t *child_sa, bool local, linked_list_t *proposed,
		     linked_list_t *out)
{
	child_cfg_t *cfg = child_sa->get_config(child_sa);
	linked_list_t *hosts = ike_sa_get_dynamic_hosts(ike_sa, local);
	linked_list_t *ts = cfg->get_traffic_selectors(cfg, local, proposed, hosts, TRUE);
	traffic_selector_t *t;

	while (ts->remove_first(ts, (void **)&t) == SUCCESS) {
		DBG1(DBG_CFG, "dsmip6: transport-mode selector %R kept across the NAT", t);
		out->insert_last(out, t);
	}
	ts->destroy(ts);
	hosts->destroy(hosts);
}

METHOD(listener_t, narrow, bool, listener_t *l, ike_sa_t *ike_sa, child_sa_t *child_sa,
       narrow_hook_t type, linked_list_t *local, linked_list_t *remote)
{
	bool responder = type == NARROW_RESPONDER;

	if (child_sa->get_mode(child_sa) != MODE_TRANSPORT ||
	    ike_sa->get_unique_id(ike_sa) != seen_ike_sa ||
	    (!responder && type != NARROW_INITIATOR_POST_AUTH &&
	     type != NARROW_INITIATOR_POST_NOAUTH))
		return TRUE;
	/* the responder's own selectors are TSr, the initiator's TSi */
	linked_list_t *mine = responder ? seen_tsr : seen_tsi;
	linked_list_t *theirs = responder ? seen_tsi : seen_tsr;
	if (mine && local->get_count(local) == 0 && ike_sa->has_condition(ike_sa, COND_NAT_HERE))
		renarrow(ike_sa, child_sa, TRUE, mine, local);
	if (theirs && remote->get_count(remote) == 0 &&
	    ike_sa->has_condition(ike_sa, COND_NAT_THERE))
		renarrow(ike_sa, child_sa, FALSE, theirs, remote);
	return TRUE;
}

METHOD(dsmip6_transport_ts_t, destroy, void, private_dsmip6_transport_ts_t *this)
{
	forget();
	free(this);
}

dsmip6_transport_ts_t *dsmip6_transport_ts_create(void)
{
	private_dsmip6_transport_ts_t *this;

	INIT(this,
		.public = {
			.listener = {
				.message = _message,
				.narrow = _narrow,
			},
			.destroy = _destroy,
		},
	);
	return &this->public;
}
