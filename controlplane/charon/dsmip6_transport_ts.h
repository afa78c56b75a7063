/*
 * Transport-mode traffic selectors across a NAT, for DSMIPv6.
 *
 * When IKE finds a NAT, charon (5.9.8, child_create.c narrow_ts) replaces the host selector of a
 * transport-mode child SA on the NAT's side with that peer's IKE address: right for an L2TP host
 * whose selector is its own private address, wrong here. The BU/BA child SA's selector is the
 * UE's IPv6 home address (RFC 4877 4.1), which a NAT never sees (the BU travels inside RFC
 * 5555's UDP 4191 tunnel), so the substituted IPv4 address matches nothing and the child SA
 * fails with TS_UNACCEPTABLE. This listener remembers the selectors of each incoming IKE message
 * and, when charon's narrowing of a transport-mode child left a side empty for that reason,
 * narrows the proposed selectors against the configuration without the substitution.
 */
#ifndef DSMIP6_TRANSPORT_TS_H_
#define DSMIP6_TRANSPORT_TS_H_

#include <bus/listeners/listener.h>

typedef struct dsmip6_transport_ts_t dsmip6_transport_ts_t;

struct dsmip6_transport_ts_t {
	listener_t listener;
	void (*destroy)(dsmip6_transport_ts_t *this);
};

dsmip6_transport_ts_t *dsmip6_transport_ts_create(void);

#endif
