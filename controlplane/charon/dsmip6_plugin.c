/*
 * The appliance's plugin inside Debian's stock charon (docs/ikev2.md): the EAP-AKA quintuplet
 * provider over the subscriber file now; the kernel_ipsec_t towards hacpd and hadp and the
 * MIP6_HOME_PREFIX attribute provider join it (issue 5).
 */
#include <daemon.h>
#include <plugins/plugin.h>
#include <simaka_manager.h>

#include "dsmip6_aka_provider.h"

typedef struct private_dsmip6_plugin_t private_dsmip6_plugin_t;

struct private_dsmip6_plugin_t {
	plugin_t public;
	dsmip6_aka_provider_t *aka;
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

static simaka_provider_t *get_provider(private_dsmip6_plugin_t *this)
{
	return this->aka ? &this->aka->provider : NULL;
}

METHOD(plugin_t, get_features, int, private_dsmip6_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((void *)load_aka, NULL),
			PLUGIN_PROVIDE(CUSTOM, "dsmip6-subscribers"),
				PLUGIN_DEPENDS(RNG, RNG_STRONG),
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
	return &this->public;
}
