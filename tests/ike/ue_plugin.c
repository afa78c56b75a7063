/*
 * Test only: what a real charon needs to play the UE in tests/ike, beside stock plugins:
 *   - the USIM: a simaka_card_t over
 * controlplane/aka (MILENAGE), with K, OPc and the highest accepted SQN from charon's settings
 * <ns>.plugins.dsmip6-ue.{k,opc,sqn}. With .corrupt_res = yes it answers a valid challenge with
 * a wrong RES (CK and IK right, so the EAP-AKA messages still verify): the response the HA
 * must refuse;
 *   - the MIP6_HOME_PREFIX request (RFC 5026 4.2.1: the attribute, empty, in CFG_REQUEST) and
 *     the HA's answer, logged as "dsmip6-ue: MIP6_HOME_PREFIX <42 hex digits>";
 *   - a kernel interface that installs nothing (this kernel has no ESP) and appends every SA
 *     charon negotiates to the file <ns>.plugins.dsmip6-ue.sa_log, one line each:
 *     "spi dir mode enc_alg int_alg enc_key int_key local_ts" for the UE simulator;
 *     its inbound SPIs count up from <ns>.plugins.dsmip6-ue.spi_base (default 0xe0000000);
 *   - the UE's own handover (001 5.2.2.3, 5.2.2.4): the UE of a test changes its address, and
 *     its IKE SAs must follow as a real UE's do (without MOBIKE nothing in charon does it). When
 *     the file <ns>.plugins.dsmip6-ue.move_file appears, holding
 *     "LOCAL_ADDR LOCAL_PORT REMOTE_ADDR REMOTE_PORT", every IKE SA moves to those ends (forced,
 *     both), and the file is renamed to <move_file>.done. Polled every 100 ms.
 */
#include <daemon.h>
#include <plugins/plugin.h>
#include <simaka_manager.h>
#include <attributes/attribute_handler.h>
#include <kernel/kernel_ipsec.h>
#include <threading/mutex.h>
#include <processing/jobs/callback_job.h>

#include "dsmip6_transport_ts.h"
#include "aka_milenage.h"

typedef struct private_ue_card_plugin_t private_ue_card_plugin_t;

struct private_ue_card_plugin_t {
	plugin_t public;
	simaka_card_t card;
	uint8_t k[16], opc[16];
	uint64_t sqn_ms;
	bool corrupt_res;
	mutex_t *lock;
	attribute_handler_t handler;
	dsmip6_transport_ts_t *transport_ts;
};

static private_ue_card_plugin_t *the_plugin; /* for the kernel interface's constructor */

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

METHOD(attribute_handler_t, handle, bool, attribute_handler_t *h, ike_sa_t *ike_sa,
       configuration_attribute_type_t type, chunk_t data)
{
	if (type != MIP6_HOME_PREFIX)
		return FALSE;
	DBG1(DBG_IKE, "dsmip6-ue: MIP6_HOME_PREFIX %#B", &data);
	return TRUE;
}

METHOD(attribute_handler_t, release, void, attribute_handler_t *h, ike_sa_t *ike_sa,
       configuration_attribute_type_t type, chunk_t data)
{
}

typedef struct {
	enumerator_t public;
	bool done;
} request_enum_t;

METHOD(enumerator_t, request_enumerate, bool, request_enum_t *this, va_list args)
{
	configuration_attribute_type_t *type;
	chunk_t *data;

	VA_ARGS_VGET(args, type, data);
	if (this->done)
		return FALSE;
	*type = MIP6_HOME_PREFIX;
	*data = chunk_empty; /* RFC 5026 4.2.1: an empty attribute asks for the home prefix */
	this->done = true;
	return TRUE;
}

METHOD(attribute_handler_t, create_attribute_enumerator, enumerator_t *, attribute_handler_t *h,
       ike_sa_t *ike_sa, linked_list_t *vips)
{
	request_enum_t *e;
	INIT(e,
		.public = {
			.enumerate = enumerator_enumerate_default,
			.venumerate = _request_enumerate,
			.destroy = (void *)free,
		},
	);
	return &e->public;
}

/* ---- the kernel interface: record, install nothing ---- */

/* The UE's inbound SPIs count up from <ns>.plugins.dsmip6-ue.spi_base (default 0xe0000000):
 * UEs that share an HA give each its own base, as real UEs' random SPIs would differ. */
static uint32_t spi_next;

static status_t k_get_spi(kernel_ipsec_t *k, host_t *src, host_t *dst, uint8_t proto, uint32_t *spi)
{
	*spi = htonl(__atomic_add_fetch(&spi_next, 1, __ATOMIC_RELAXED));
	return SUCCESS;
}

static void put_hex(FILE *f, chunk_t c)
{
	if (!c.len)
		fputc('-', f);
	for (size_t i = 0; i < c.len; i++)
		fprintf(f, "%02x", c.ptr[i]);
}

static status_t k_add_sa(kernel_ipsec_t *k, kernel_ipsec_sa_id_t *id, kernel_ipsec_add_sa_t *d)
{
	char *path = lib->settings->get_str(lib->settings, "%s.plugins.dsmip6-ue.sa_log", NULL,
					    lib->ns);
	linked_list_t *mine = d->inbound ? d->dst_ts : d->src_ts;
	traffic_selector_t *ts = NULL;
	char addr[INET6_ADDRSTRLEN] = "-";
	uint8_t len = 0;
	FILE *f = path ? fopen(path, "a") : NULL;

	if (!f)
		return FAILED;
	if (mine && mine->get_first(mine, (void **)&ts) == SUCCESS) {
		host_t *net;
		ts->to_subnet(ts, &net, &len);
		chunk_t a = net->get_address(net);
		inet_ntop(net->get_family(net), a.ptr, addr, sizeof(addr));
		net->destroy(net);
	}
	fprintf(f, "%08x %s %s %u %u ", ntohl(id->spi), d->inbound ? "in" : "out",
		d->mode == MODE_TUNNEL ? "tunnel" : "transport", d->enc_alg, d->int_alg);
	put_hex(f, d->enc_key);
	fputc(' ', f);
	put_hex(f, d->int_key);
	fprintf(f, " %s/%u\n", addr, len);
	fclose(f);
	return SUCCESS;
}

static kernel_feature_t k_features(void)
{
	return 0;
}

static status_t k_ok(void)
{
	return SUCCESS;
}

static kernel_ipsec_t *ue_kernel_create(void)
{
	kernel_ipsec_t *k;
	INIT(k,
		.get_features = (void *)k_features,
		.get_spi = k_get_spi,
		.get_cpi = (void *)return_failed,
		.add_sa = k_add_sa,
		.update_sa = (void *)k_ok,
		.query_sa = (void *)return_failed,
		.del_sa = (void *)k_ok,
		.flush_sas = (void *)k_ok,
		.add_policy = (void *)k_ok,
		.query_policy = (void *)return_failed,
		.del_policy = (void *)k_ok,
		.flush_policies = (void *)k_ok,
		.bypass_socket = (void *)return_true,
		.enable_udp_decap = (void *)return_true,
		.destroy = (void *)free,
	);
	return k;
}

/* ---- the UE's own moves (test only) ---- */

static host_t *host_of_words(const char *addr, const char *port)
{
	char *end;
	long p = strtol(port, &end, 10);
	if (*end || p < 1 || p > 65535)
		return NULL;
	return host_create_from_string((char *)addr, (uint16_t)p);
}

static job_requeue_t watch_moves(void *unused)
{
	char *path = lib->settings->get_str(lib->settings, "%s.plugins.dsmip6-ue.move_file", NULL,
					    lib->ns);
	char a[4][64], done[512];
	host_t *me = NULL, *other = NULL;

	if (!path)
		return JOB_REQUEUE_NONE;
	FILE *f = fopen(path, "r");
	if (!f)
		return JOB_RESCHEDULE_MS(100);
	int n = fscanf(f, "%63s %63s %63s %63s", a[0], a[1], a[2], a[3]);
	fclose(f);
	if (n == 4) {
		me = host_of_words(a[0], a[1]);
		other = host_of_words(a[2], a[3]);
	}
	if (me && other && me->get_family(me) == other->get_family(other)) {
		enumerator_t *e = charon->ike_sa_manager->create_enumerator(charon->ike_sa_manager,
									    TRUE);
		ike_sa_t *ike_sa;
		while (e->enumerate(e, &ike_sa)) {
			DBG1(DBG_IKE, "dsmip6-ue: the UE moved: IKE SA #%u to %#H - %#H",
			     ike_sa->get_unique_id(ike_sa), me, other);
			ike_sa->update_hosts(ike_sa, me, other, UPDATE_HOSTS_FORCE_ADDRS);
		}
		e->destroy(e);
	} else {
		DBG1(DBG_IKE, "dsmip6-ue: %s: want LOCAL_ADDR LOCAL_PORT REMOTE_ADDR REMOTE_PORT", path);
	}
	DESTROY_IF(me);
	DESTROY_IF(other);
	snprintf(done, sizeof(done), "%s.done", path);
	rename(path, done);
	return JOB_RESCHEDULE_MS(100);
}

static bool load_handler(private_ue_card_plugin_t *this, plugin_feature_t *feature, bool reg,
			 void *data)
{
	if (reg) {
		charon->attributes->add_handler(charon->attributes, &this->handler);
		/* the UE's side of the same charon behaviour (dsmip6_transport_ts.h) */
		this->transport_ts = dsmip6_transport_ts_create();
		charon->bus->add_listener(charon->bus, &this->transport_ts->listener);
		if (lib->settings->get_str(lib->settings, "%s.plugins.dsmip6-ue.move_file", NULL,
					   lib->ns))
			lib->scheduler->schedule_job_ms(lib->scheduler, (job_t *)callback_job_create(
				watch_moves, NULL, NULL, (callback_job_cancel_t)return_false), 100);
	} else {
		charon->attributes->remove_handler(charon->attributes, &this->handler);
		if (this->transport_ts) {
			charon->bus->remove_listener(charon->bus, &this->transport_ts->listener);
			this->transport_ts->destroy(this->transport_ts);
			this->transport_ts = NULL;
		}
	}
	return TRUE;
}

METHOD(plugin_t, get_name, char *, private_ue_card_plugin_t *this)
{
	return "dsmip6-ue";
}

METHOD(plugin_t, get_features, int, private_ue_card_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK(kernel_ipsec_register, ue_kernel_create),
			PLUGIN_PROVIDE(CUSTOM, "kernel-ipsec"),
		PLUGIN_CALLBACK((void *)load_handler, NULL),
			PLUGIN_PROVIDE(CUSTOM, "dsmip6-ue-attributes"),
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
		.handler = {
			.handle = _handle,
			.release = _release,
			.create_attribute_enumerator = _create_attribute_enumerator,
		},
	);
	the_plugin = this;
	spi_next = (uint32_t)strtoul(lib->settings->get_str(lib->settings,
		"%s.plugins.dsmip6-ue.spi_base", "0xe0000000", lib->ns), NULL, 0);
	return &this->public;
}
