/*
 * EAP-AKA quintuplets for charon's eap-aka from the appliance's subscriber file (ike.aaa:
 * local): a simaka_provider_t over controlplane/aka (MILENAGE, per-subscriber SQN).
 */
#ifndef DSMIP6_AKA_PROVIDER_H_
#define DSMIP6_AKA_PROVIDER_H_

#include <simaka_provider.h>

typedef struct dsmip6_aka_provider_t dsmip6_aka_provider_t;

struct dsmip6_aka_provider_t {
	simaka_provider_t provider;
	void (*destroy)(dsmip6_aka_provider_t *this);
};

/** NULL when the subscriber file named by charon's <ns>.plugins.dsmip6.subscribers is
 *  missing or invalid (the reason is logged). */
dsmip6_aka_provider_t *dsmip6_aka_provider_create(void);

#endif
