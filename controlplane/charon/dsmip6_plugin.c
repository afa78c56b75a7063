/*
 * The appliance's plugin inside Debian's stock charon (docs/ikev2.md): EAP-AKA quintuplets from
 * the subscriber file, or EAP-AKA relayed to the 3GPP AAA over S6b (docs/aaa.md), the UEs'
 * sessions with hacpd (home prefix, MIP6_HOME_PREFIX, IKE SA down), and the kernel interface
 * that hands every ESP SA to hacpd and hadp.
 */
#include <daemon.h>
#include <plugins/plugin.h>
#include <simaka_manager.h>

#include "dsmip6_aka_provider.h"
#include "dsmip6_eap_s6b.h"
#include "dsmip6_hacpd.h"
#include "dsmip6_kernel_ipsec.h"
#include "dsmip6_s6b.h"
#include "dsmip6_session.h"
#include "dsmip6_socket.h"
#include "dsmip6_transport_ts.h"

dsmip6_hacpd_t *dsmip6_hacpd;

typedef struct private_dsmip6_plugin_t private_dsmip6_plugin_t;

struct private_dsmip6_plugin_t {
	plugin_t public;
	dsmip6_aka_provider_t *aka;
	dsmip6_session_t *session;
	dsmip6_transport_ts_t *transport_ts;
};

METHOD(plugin_t, get_name, char *, private_dsmip6_plugin_t *this)
{
	return "dsmip6";
}

static bool load_aka(private_dsmip6_plugin_t *this, plugin_feature_t *feature, bool reg,
		     void *data)
{
	if (reg) {
		this->aka = dsmip6_aka_provider_create();
		return this->aka != NULL;
	}
	if (this->aka)
		this->aka->destroy(this->aka);
	this->aka = NULL;
	return TRUE;
}

static bool load_session(private_dsmip6_plugin_t *this, plugin_feature_t *feature, bool reg,
			 void *data)
{
	if (reg) {
		this->session = dsmip6_session_create();
		this->transport_ts = dsmip6_transport_ts_create();
		charon->attributes->add_provider(charon->attributes, &this->session->provider);
		charon->bus->add_listener(charon->bus, &this->session->listener);
		charon->bus->add_listener(charon->bus, &this->transport_ts->listener);
	} else if (this->session) {
		charon->bus->remove_listener(charon->bus, &this->transport_ts->listener);
		this->transport_ts->destroy(this->transport_ts);
		this->transport_ts = NULL;
		charon->bus->remove_listener(charon->bus, &this->session->listener);
		charon->attributes->remove_provider(charon->attributes, &this->session->provider);
		this->session->destroy(this->session);
		this->session = NULL;
	}
	return TRUE;
}

/* The S6b client when plugins.dsmip6.s6b.conf names freeDiameter's configuration. */
static bool load_s6b(private_dsmip6_plugin_t *this, plugin_feature_t *feature, bool reg,
		     void *data)
{
	if (reg) {
		dsmip6_s6b = dsmip6_s6b_create();
		return TRUE; /* without S6b the EAP method steps aside (dsmip6_eap_s6b_create) */
	}
	dsmip6_s6b_t *s6b = dsmip6_s6b;
	dsmip6_s6b = NULL; /* no new EAP method or session end reaches it while it goes */
	if (s6b)
		s6b->destroy(s6b);
	return TRUE;
}

static simaka_provider_t *get_provider(private_dsmip6_plugin_t *this)
{
	return this->aka ? &this->aka->provider : NULL;
}

METHOD(plugin_t, get_features, int, private_dsmip6_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK(socket_register, dsmip6_socket_create),
			PLUGIN_PROVIDE(CUSTOM, "socket"),
		PLUGIN_CALLBACK(kernel_ipsec_register, dsmip6_kernel_ipsec_create),
			PLUGIN_PROVIDE(CUSTOM, "kernel-ipsec"),
				PLUGIN_DEPENDS(RNG, RNG_WEAK),
		PLUGIN_CALLBACK((void *)load_session, NULL),
			PLUGIN_PROVIDE(CUSTOM, "dsmip6-sessions"),
		PLUGIN_CALLBACK((void *)load_aka, NULL),
			PLUGIN_PROVIDE(CUSTOM, "dsmip6-subscribers"),
				PLUGIN_DEPENDS(RNG, RNG_STRONG),
		PLUGIN_CALLBACK((void *)load_s6b, NULL),
			PLUGIN_PROVIDE(CUSTOM, "dsmip6-s6b"),
		PLUGIN_CALLBACK(eap_method_register, dsmip6_eap_s6b_create),
			PLUGIN_PROVIDE(EAP_SERVER, EAP_AKA),
				PLUGIN_DEPENDS(CUSTOM, "dsmip6-s6b"),
		PLUGIN_CALLBACK(simaka_manager_register, get_provider),
			PLUGIN_PROVIDE(CUSTOM, "aka-provider"),
				PLUGIN_DEPENDS(CUSTOM, "aka-manager"),
				PLUGIN_DEPENDS(CUSTOM, "dsmip6-subscribers"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void, private_dsmip6_plugin_t *this)
{
	if (dsmip6_hacpd)
		dsmip6_hacpd->destroy(dsmip6_hacpd);
	dsmip6_hacpd = NULL;
	free(this);
}

plugin_t *dsmip6_plugin_create(void);
plugin_t *dsmip6_plugin_create(void)
{
	private_dsmip6_plugin_t *this;

	INIT(this,
		.public = {
			.get_name = _get_name,
			.get_features = _get_features,
			.destroy = _destroy,
		},
	);
	dsmip6_hacpd = dsmip6_hacpd_create();
	return &this->public;
}
