/*
 * Test only: the USIM of the UE that tests/ike plays with a real charon. A simaka_card_t over
 * controlplane/aka (MILENAGE), with K, OPc and the highest accepted SQN from charon's settings
 * <ns>.plugins.dsmip6-ue.{k,opc,sqn}. With .corrupt_res = yes it answers a valid challenge with
 * a wrong RES (CK and IK right, so the EAP-AKA messages still verify): the response the HA
 * must refuse.
 */
#include <daemon.h>
#include <plugins/plugin.h>
#include <simaka_manager.h>
#include <threading/mutex.h>

#include "aka_milenage.h"

typedef struct private_ue_card_plugin_t private_ue_card_plugin_t;

struct private_ue_card_plugin_t {
	plugin_t public;
	simaka_card_t card;
	uint8_t k[16], opc[16];
	uint64_t sqn_ms;
	bool corrupt_res;
	mutex_t *lock;
};

static private_ue_card_plugin_t *of_card(simaka_card_t *card)
{
	return (private_ue_card_plugin_t *)((char *)card - offsetof(private_ue_card_plugin_t, card));
}

METHOD(simaka_card_t, get_quintuplet, status_t, simaka_card_t *card, identification_t *id,
       char rand[AKA_RAND_LEN], char autn[AKA_AUTN_LEN], char ck[AKA_CK_LEN], char ik[AKA_IK_LEN],
       char res[AKA_RES_MAX], int *res_len)
{
	private_ue_card_plugin_t *this = of_card(card);
	uint8_t auts[AKA_AUTS_LEN];
	status_t st;

	this->lock->lock(this->lock);
	enum aka_check r = aka_usim_check(this->k, this->opc, (uint8_t *)rand, (uint8_t *)autn,
					  &this->sqn_ms, (uint8_t *)res, (uint8_t *)ck,
					  (uint8_t *)ik, auts);
	this->lock->unlock(this->lock);
	switch (r) {
	case AKA_OK:
		if (this->corrupt_res)
			res[0] ^= 0x01;
		st = SUCCESS;
		break;
	case AKA_SYNC_FAILED:
		DBG1(DBG_IKE, "dsmip6-ue: SQN not fresh, re-synchronising");
		st = INVALID_STATE;
		break;
	case AKA_MAC_FAILED:
		DBG1(DBG_IKE, "dsmip6-ue: AUTN does not verify");
		st = FAILED;
		break;
	default:
		st = FAILED;
	}
	*res_len = AKA_RES_LEN;
	return st;
}

METHOD(simaka_card_t, resync, bool, simaka_card_t *card, identification_t *id,
       char rand[AKA_RAND_LEN], char auts[AKA_AUTS_LEN])
{
	private_ue_card_plugin_t *this = of_card(card);
	this->lock->lock(this->lock);
	int rc = aka_usim_auts(this->k, this->opc, (uint8_t *)rand, this->sqn_ms, (uint8_t *)auts);
	this->lock->unlock(this->lock);
	return rc == 0;
}

static bool hex_setting(const char *key, uint8_t out[16])
{
	char *s = lib->settings->get_str(lib->settings, "%s.plugins.dsmip6-ue.%s", NULL, lib->ns, key);
	chunk_t c;
	if (!s || strlen(s) != 32)
		return FALSE;
	c = chunk_from_hex(chunk_create((u_char *)s, 32), (char *)out);
	return c.len == 16;
}

static bool load_card(private_ue_card_plugin_t *this, plugin_feature_t *feature, bool reg, void *data)
{
	if (!reg)
		return TRUE;
	if (!hex_setting("k", this->k) || !hex_setting("opc", this->opc)) {
		DBG1(DBG_CFG, "dsmip6-ue: k and opc (32 hex digits each) are required");
		return FALSE;
	}
	this->sqn_ms = lib->settings->get_int(lib->settings, "%s.plugins.dsmip6-ue.sqn", 0, lib->ns);
	this->corrupt_res = lib->settings->get_bool(lib->settings,
						    "%s.plugins.dsmip6-ue.corrupt_res", FALSE, lib->ns);
	return TRUE;
}

static simaka_card_t *get_card(private_ue_card_plugin_t *this)
{
	return &this->card;
}

METHOD(plugin_t, get_name, char *, private_ue_card_plugin_t *this)
{
	return "dsmip6-ue";
}

METHOD(plugin_t, get_features, int, private_ue_card_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((void *)load_card, NULL),
			PLUGIN_PROVIDE(CUSTOM, "dsmip6-usim"),
		PLUGIN_CALLBACK(simaka_manager_register, get_card),
			PLUGIN_PROVIDE(CUSTOM, "aka-card"),
				PLUGIN_DEPENDS(CUSTOM, "aka-manager"),
				PLUGIN_DEPENDS(CUSTOM, "dsmip6-usim"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void, private_ue_card_plugin_t *this)
{
	this->lock->destroy(this->lock);
	memwipe(this->k, sizeof(this->k));
	free(this);
}

plugin_t *dsmip6_ue_plugin_create(void);
plugin_t *dsmip6_ue_plugin_create(void)
{
	private_ue_card_plugin_t *this;

	INIT(this,
		.public = {
			.get_name = _get_name,
			.get_features = _get_features,
			.destroy = _destroy,
		},
		.card = {
			.get_triplet = (void *)return_false,
			.get_quintuplet = _get_quintuplet,
			.resync = _resync,
			.get_pseudonym = (void *)return_null,
			.set_pseudonym = (void *)nop,
			.get_reauth = (void *)return_null,
			.set_reauth = (void *)nop,
		},
		.lock = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
