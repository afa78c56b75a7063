#include <errno.h>

#include <daemon.h>

#include "aka_subscribers.h"
#include "dsmip6_aka_provider.h"

typedef struct private_dsmip6_aka_provider_t private_dsmip6_aka_provider_t;

struct private_dsmip6_aka_provider_t {
	dsmip6_aka_provider_t public;
	struct aka_subscribers db;
	rng_t *rng;
};

/* The identity as the subscriber file writes it: the EAP identity the UE presented, octet for
 * octet (an NAI such as 0<IMSI>@nai.epc.mnc<MNC>.mcc<MCC>.3gppnetwork.org). */
static bool identity_str(identification_t *id, char *buf, size_t len)
{
	chunk_t c = id->get_encoding(id);
	if (!c.len || c.len >= len || memchr(c.ptr, 0, c.len))
		return FALSE;
	memcpy(buf, c.ptr, c.len);
	buf[c.len] = '\0';
	return TRUE;
}

METHOD(simaka_provider_t, get_quintuplet, bool, private_dsmip6_aka_provider_t *this,
       identification_t *id, char rand[AKA_RAND_LEN], char xres[AKA_RES_MAX], int *xres_len,
       char ck[AKA_CK_LEN], char ik[AKA_IK_LEN], char autn[AKA_AUTN_LEN])
{
	char who[AKA_IDENTITY_MAX];
	struct aka_vector v;

	if (!identity_str(id, who, sizeof(who)))
		return FALSE;
	if (!this->rng->get_bytes(this->rng, AKA_RAND_LEN, (uint8_t *)rand)) {
		DBG1(DBG_IKE, "dsmip6: no random octets for RAND");
		return FALSE;
	}
	int rc = aka_subscribers_vector(&this->db, who, (const uint8_t *)rand, &v);
	if (rc == -ENOENT) {
		DBG1(DBG_IKE, "dsmip6: %s is not a subscriber", who);
		return FALSE;
	}
	if (rc < 0)
		return FALSE;
	memcpy(xres, v.xres, AKA_RES_LEN);
	*xres_len = AKA_RES_LEN;
	memcpy(ck, v.ck, AKA_CK_LEN);
	memcpy(ik, v.ik, AKA_IK_LEN);
	memcpy(autn, v.autn, AKA_AUTN_LEN);
	memwipe(&v, sizeof(v));
	DBG2(DBG_IKE, "dsmip6: authentication vector for %s", who);
	return TRUE;
}

METHOD(simaka_provider_t, resync, bool, private_dsmip6_aka_provider_t *this,
       identification_t *id, char rand[AKA_RAND_LEN], char auts[AKA_AUTS_LEN])
{
	char who[AKA_IDENTITY_MAX];

	if (!identity_str(id, who, sizeof(who)))
		return FALSE;
	int rc = aka_subscribers_resync(&this->db, who, (const uint8_t *)rand, (const uint8_t *)auts);
	if (rc == -EACCES)
		DBG1(DBG_IKE, "dsmip6: AUTS of %s does not verify (MAC-S)", who);
	else if (rc == 0)
		DBG1(DBG_IKE, "dsmip6: SQN of %s re-synchronised", who);
	return rc == 0;
}

METHOD(dsmip6_aka_provider_t, destroy, void, private_dsmip6_aka_provider_t *this)
{
	aka_subscribers_free(&this->db);
	DESTROY_IF(this->rng);
	free(this);
}

dsmip6_aka_provider_t *dsmip6_aka_provider_create(void)
{
	private_dsmip6_aka_provider_t *this;
	char err[512];
	char *path = lib->settings->get_str(lib->settings, "%s.plugins.dsmip6.subscribers", NULL,
					    lib->ns);

	if (!path) {
		DBG1(DBG_CFG, "dsmip6: no subscriber file (%s.plugins.dsmip6.subscribers)", lib->ns);
		return NULL;
	}
	INIT(this,
		.public = {
			.provider = {
				.get_triplet = (void *)return_false,
				.get_quintuplet = _get_quintuplet,
				.resync = _resync,
				.is_pseudonym = (void *)return_null,
				.gen_pseudonym = (void *)return_null,
				.is_reauth = (void *)return_null,
				.gen_reauth = (void *)return_null,
			},
			.destroy = _destroy,
		},
		.rng = lib->crypto->create_rng(lib->crypto, RNG_STRONG),
	);
	if (!this->rng) {
		DBG1(DBG_CFG, "dsmip6: no strong RNG for RAND");
		free(this);
		return NULL;
	}
	if (aka_subscribers_load(path, &this->db, err, sizeof(err)) < 0) {
		DBG1(DBG_CFG, "dsmip6: %s", err);
		this->rng->destroy(this->rng);
		free(this);
		return NULL;
	}
	DBG1(DBG_CFG, "dsmip6: %zu EAP-AKA subscribers from %s", this->db.n, path);
	return &this->public;
}
