/*
 * The UE's session as charon sees it, told to hacpd (shared/ha_ike_msg.h):
 *   - the PDN the UE asked for is its IDr (TS 24.303 5.1.2.2: the target PDN in IKE_AUTH),
 *     taken from the first IKE_AUTH request;
 *   - once the UE is authenticated (EAP-AKA), hacpd allocates its home prefix; if it cannot,
 *     the IKE_AUTH fails (the UE could not signal without one);
 *   - the prefix goes back as MIP6_HOME_PREFIX (RFC 5026 4.2.1: lifetime, prefix, length; 21
 *     octets) whether or not the UE asked for it;
 *   - an IKE SA that goes (DELETE, expiry) takes its session in hacpd with it; a rekeyed one
 *     hands it to its successor.
 */
#ifndef DSMIP6_SESSION_H_
#define DSMIP6_SESSION_H_

#include <attributes/attribute_provider.h>
#include <bus/listeners/listener.h>
#include <utils/identification.h>

typedef struct dsmip6_session_t dsmip6_session_t;

struct dsmip6_session_t {
	attribute_provider_t provider;
	listener_t listener;
	void (*destroy)(dsmip6_session_t *this);
};

dsmip6_session_t *dsmip6_session_create(void);

/** An identity's text (an NAI, an APN, an FQDN) into buf: its encoding, "" when not text. */
void dsmip6_id_text(identification_t *id, char *buf, size_t len);

#endif
