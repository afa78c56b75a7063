#include <errno.h>
#include <sys/socket.h>

#include <daemon.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

#include "dsmip6_hacpd.h"
#include "dsmip6_kernel_ipsec.h"

typedef struct private_dsmip6_kernel_ipsec_t private_dsmip6_kernel_ipsec_t;

struct private_dsmip6_kernel_ipsec_t {
	kernel_ipsec_t public;
	rng_t *rng;
	/* SPI (network order) -> what hacpd knows it by, for del_sa (which gets no IKE SA) */
	hashtable_t *sas;
	mutex_t *lock;
};

typedef struct {
	uint32_t spi;
	uint32_t ike_sa;
	uint8_t dir;
	bool natt;      /* tunnel mode between IPv4 addresses: its ESP may go in UDP (RFC 3948) */
} sa_entry_t;

static u_int hash_spi(const void *key)
{
	return chunk_hash(chunk_create((u_char *)key, sizeof(uint32_t)));
}

static bool equals_spi(const void *a, const void *b)
{
	return *(const uint32_t *)a == *(const uint32_t *)b;
}

METHOD(kernel_ipsec_t, get_features, kernel_feature_t, private_dsmip6_kernel_ipsec_t *this)
{
	return KERNEL_ESP_V3_TFC;
}

METHOD(kernel_ipsec_t, get_spi, status_t, private_dsmip6_kernel_ipsec_t *this, host_t *src,
       host_t *dst, uint8_t protocol, uint32_t *spi)
{
	uint32_t v;
	/* inbound SPIs in 0xc0000000-0xcfffffff: clear of the YAML's static ones in the lab, and
	 * never a reserved value (RFC 4303 2.1: 1..255) */
	for (int i = 0; i < 16; i++) {
		if (!this->rng->get_bytes(this->rng, sizeof(v), (uint8_t *)&v))
			return FAILED;
		v = 0xc0000000 | (v & 0x0fffffff);
		uint32_t n = htonl(v);
		this->lock->lock(this->lock);
		bool taken = this->sas->get(this->sas, &n) != NULL;
		this->lock->unlock(this->lock);
		if (!taken) {
			*spi = n;
			return SUCCESS;
		}
	}
	return FAILED;
}

METHOD(kernel_ipsec_t, get_cpi, status_t, private_dsmip6_kernel_ipsec_t *this, host_t *src,
       host_t *dst, uint16_t *cpi)
{
	return NOT_SUPPORTED;
}

/* charon's algorithms in the dataplane's terms (IPsec-MB: AES-GCM, AES-CBC with HMAC). */
static bool algorithms(const kernel_ipsec_add_sa_t *d, struct ha_sa_spec *s)
{
	switch (d->enc_alg) {
	case ENCR_AES_GCM_ICV16:
		if (d->enc_key.len != 20 && d->enc_key.len != 36)
			return false;
		s->encryption = d->enc_key.len == 20 ? HA_CFG_ENC_AES_GCM_128 : HA_CFG_ENC_AES_GCM_256;
		break;
	case ENCR_AES_CBC:
		if (d->enc_key.len != 16 && d->enc_key.len != 32)
			return false;
		s->encryption = d->enc_key.len == 16 ? HA_CFG_ENC_AES_CBC_128 : HA_CFG_ENC_AES_CBC_256;
		break;
	case ENCR_NULL:
		s->encryption = HA_CFG_ENC_NULL;
		break;
	default:
		return false;
	}
	switch (d->int_alg) {
	case AUTH_UNDEFINED:
		if (d->enc_alg != ENCR_AES_GCM_ICV16)
			return false; /* no ESP without integrity */
		s->integrity = HA_CFG_INTEG_NONE;
		break;
	case AUTH_HMAC_SHA1_96:
		s->integrity = HA_CFG_INTEG_HMAC_SHA1_96;
		break;
	case AUTH_HMAC_SHA2_256_128:
		s->integrity = HA_CFG_INTEG_HMAC_SHA256_128;
		break;
	default:
		return false;
	}
	if (d->enc_key.len > sizeof(s->key) || d->int_key.len > sizeof(s->auth_key))
		return false;
	s->key_len = (uint8_t)d->enc_key.len;
	memcpy(s->key, d->enc_key.ptr, d->enc_key.len);
	s->auth_key_len = (uint8_t)d->int_key.len;
	memcpy(s->auth_key, d->int_key.ptr, d->int_key.len);
	return true;
}

static void put_host(uint8_t out[16], host_t *h)
{
	chunk_t a = h->get_address(h);
	memset(out, 0, 16);
	memcpy(out, a.ptr, min(a.len, (size_t)16));
}

/* The UE's side of the selectors: the first of its traffic selectors, as address/prefix. */
static bool ue_selector(linked_list_t *ts_list, struct ha_ike_sa_add *m)
{
	traffic_selector_t *ts;
	host_t *net;
	uint8_t len;

	if (!ts_list || ts_list->get_first(ts_list, (void **)&ts) != SUCCESS)
		return false;
	if (!ts->to_subnet(ts, &net, &len))
		len = ts->get_type(ts) == TS_IPV6_ADDR_RANGE ? 128 : 32; /* a range: its first address */
	if (net->get_family(net) != AF_INET6) {
		net->destroy(net);
		return false;
	}
	put_host(m->ts_remote, net);
	net->destroy(net);
	m->ts_remote_len = len;
	m->ts_proto = ts->get_protocol(ts);
	return true;
}

METHOD(kernel_ipsec_t, add_sa, status_t, private_dsmip6_kernel_ipsec_t *this,
       kernel_ipsec_sa_id_t *id, kernel_ipsec_add_sa_t *data)
{
	ike_sa_t *ike_sa = charon->bus->get_sa(charon->bus);
	struct ha_ike_sa_add m = { .h = { .type = HA_IKE_SA_ADD, .len = sizeof(m) } };
	struct ha_ike_result res;
	host_t *local = data->inbound ? id->dst : id->src, *peer = data->inbound ? id->src : id->dst;

	if (!ike_sa || id->proto != IPPROTO_ESP || data->ipcomp != IPCOMP_NONE) {
		DBG1(DBG_KNL, "dsmip6: only ESP SAs of an IKE SA go to the dataplane");
		return NOT_SUPPORTED;
	}
	m.h.ike_sa = ike_sa->get_unique_id(ike_sa);
	m.sa.spi = ntohl(id->spi);
	m.sa.direction = data->inbound ? HA_SA_IN : HA_SA_OUT;
	m.sa.mode = data->mode == MODE_TUNNEL ? HA_SA_TUNNEL : HA_SA_TRANSPORT;
	m.sa.family = (uint8_t)local->get_family(local);
	m.sa.flags = data->esn ? HA_SA_F_ESN : 0;
	m.sa.replay_window = (uint16_t)min(data->replay_window, 4096u);
	put_host(m.sa.local, local);
	put_host(m.sa.peer, peer);
	m.reqid = data->reqid;
	m.update = data->update;
	if (data->mode != MODE_TUNNEL && data->mode != MODE_TRANSPORT) {
		DBG1(DBG_KNL, "dsmip6: mode %N not supported", ipsec_mode_names, data->mode);
		return NOT_SUPPORTED;
	}
	if (data->encap) {
		/* IKE found a NAT between the UE and the HA. The payload SA's ESP then travels in
		 * UDP from 4500 to the port the NAT shows for the UE (RFC 3948); the BU/BA SA's
		 * does not: a BU from behind a NAT is an IPv6 packet in RFC 5555's UDP 4191 tunnel
		 * (RFC 5555 4.1), whose ESP is inside it */
		if (data->mode == MODE_TUNNEL) {
			if (local->get_family(local) != AF_INET) {
				DBG1(DBG_KNL, "dsmip6: UDP-encapsulated ESP over IPv6 is not supported");
				return NOT_SUPPORTED;
			}
			m.sa.encap_port = peer->get_port(peer);
		}
	}
	if (!algorithms(data, &m.sa)) {
		DBG1(DBG_KNL, "dsmip6: %N/%N not supported by the dataplane",
		     encryption_algorithm_names, data->enc_alg, integrity_algorithm_names, data->int_alg);
		memwipe(&m, sizeof(m));
		return NOT_SUPPORTED;
	}
	if (!ue_selector(data->inbound ? data->src_ts : data->dst_ts, &m)) {
		memwipe(&m, sizeof(m));
		DBG1(DBG_KNL, "dsmip6: the UE's traffic selector is not IPv6");
		return NOT_SUPPORTED;
	}
	int rc = dsmip6_hacpd->request(dsmip6_hacpd, &m.h, &res, sizeof(res));
	memwipe(&m.sa.key, sizeof(m.sa.key));
	memwipe(&m.sa.auth_key, sizeof(m.sa.auth_key));
	if (rc < 0 || res.result < 0) {
		DBG1(DBG_KNL, "dsmip6: hacpd refused SA %.8x: %s", ntohl(id->spi),
		     strerror(rc < 0 ? -rc : -res.result));
		return FAILED;
	}
	sa_entry_t *e;
	INIT(e, .spi = id->spi, .ike_sa = m.h.ike_sa, .dir = m.sa.direction,
	     .natt = data->mode == MODE_TUNNEL && local->get_family(local) == AF_INET);
	this->lock->lock(this->lock);
	free(this->sas->put(this->sas, &e->spi, e));
	this->lock->unlock(this->lock);
	DBG1(DBG_KNL, "dsmip6: %s SA %.8x in the dataplane", data->inbound ? "inbound" : "outbound",
	     ntohl(id->spi));
	return SUCCESS;
}

METHOD(kernel_ipsec_t, update_sa, status_t, private_dsmip6_kernel_ipsec_t *this,
       kernel_ipsec_sa_id_t *id, kernel_ipsec_update_sa_t *data)
{
	/* the dataplane takes tunnel endpoints from the binding cache, never from SA addresses
	 * (the K bit moves the IKE SA); what it does take from here is the UDP port a NAT shows
	 * for the UE's ESP (RFC 3948), which changes when the NAT maps the UE anew */
	struct ha_ike_sa_del m = { .h = { .type = HA_IKE_SA_ENCAP, .len = sizeof(m) } };
	struct ha_ike_result res;
	bool natt = false;

	this->lock->lock(this->lock);
	sa_entry_t *e = this->sas->get(this->sas, &id->spi);
	if (e) {
		m.h.ike_sa = e->ike_sa;
		m.spi = ntohl(e->spi);
		m.direction = e->dir;
		natt = e->natt;
	}
	this->lock->unlock(this->lock);
	if (!e)
		return NOT_FOUND;
	if (!natt)
		return SUCCESS;
	host_t *peer = m.direction == HA_SA_IN ? data->new_src : data->new_dst;
	if (data->new_encap && peer->get_family(peer) != AF_INET)
		return NOT_SUPPORTED;
	m.encap_port = data->new_encap ? peer->get_port(peer) : 0;
	if (dsmip6_hacpd->request(dsmip6_hacpd, &m.h, &res, sizeof(res)) < 0 || res.result < 0) {
		DBG1(DBG_KNL, "dsmip6: hacpd refused the new UDP port of SA %.8x", ntohl(id->spi));
		return FAILED;
	}
	if (m.encap_port)
		DBG1(DBG_KNL, "dsmip6: SA %.8x: ESP in UDP to port %u", ntohl(id->spi), m.encap_port);
	else
		DBG1(DBG_KNL, "dsmip6: SA %.8x: plain ESP", ntohl(id->spi));
	return SUCCESS;
}

/* The dataplane's counters of an SA (swanctl --list-sas, byte and packet lifetimes). */
METHOD(kernel_ipsec_t, query_sa, status_t, private_dsmip6_kernel_ipsec_t *this,
       kernel_ipsec_sa_id_t *id, kernel_ipsec_query_sa_t *data, uint64_t *bytes,
       uint64_t *packets, time_t *time)
{
	struct ha_ike_sa_del q = { .h = { .type = HA_IKE_SA_QUERY, .len = sizeof(q) } };
	struct ha_ike_sa_counters r;

	this->lock->lock(this->lock);
	sa_entry_t *e = this->sas->get(this->sas, &id->spi);
	if (e) {
		q.h.ike_sa = e->ike_sa;
		q.spi = ntohl(e->spi);
		q.direction = e->dir;
	}
	this->lock->unlock(this->lock);
	if (!e)
		return NOT_FOUND;
	if (dsmip6_hacpd->request(dsmip6_hacpd, &q.h, &r, sizeof(r)) < 0 ||
	    r.h.type != HA_IKE_SA_COUNTERS || r.result < 0)
		return FAILED;
	if (bytes)
		*bytes = r.bytes;
	if (packets)
		*packets = r.packets;
	if (time)
		*time = 0; /* hadp keeps no last-use time */
	return SUCCESS;
}

METHOD(kernel_ipsec_t, del_sa, status_t, private_dsmip6_kernel_ipsec_t *this,
       kernel_ipsec_sa_id_t *id, kernel_ipsec_del_sa_t *data)
{
	struct ha_ike_sa_del m = { .h = { .type = HA_IKE_SA_DEL, .len = sizeof(m) } };
	struct ha_ike_result res;

	this->lock->lock(this->lock);
	sa_entry_t *e = this->sas->remove(this->sas, &id->spi);
	this->lock->unlock(this->lock);
	if (!e)
		return NOT_FOUND;
	m.h.ike_sa = e->ike_sa;
	m.spi = ntohl(e->spi);
	m.direction = e->dir;
	free(e);
	int rc = dsmip6_hacpd->request(dsmip6_hacpd, &m.h, &res, sizeof(res));
	return rc == 0 && res.result == 0 ? SUCCESS : FAILED;
}

METHOD(kernel_ipsec_t, flush_sas, status_t, private_dsmip6_kernel_ipsec_t *this)
{
	return SUCCESS;
}

METHOD(kernel_ipsec_t, add_policy, status_t, private_dsmip6_kernel_ipsec_t *this,
       kernel_ipsec_policy_id_t *id, kernel_ipsec_manage_policy_t *data)
{
	return SUCCESS;
}

METHOD(kernel_ipsec_t, query_policy, status_t, private_dsmip6_kernel_ipsec_t *this,
       kernel_ipsec_policy_id_t *id, kernel_ipsec_query_policy_t *data, time_t *use_time)
{
	return NOT_SUPPORTED;
}

METHOD(kernel_ipsec_t, del_policy, status_t, private_dsmip6_kernel_ipsec_t *this,
       kernel_ipsec_policy_id_t *id, kernel_ipsec_manage_policy_t *data)
{
	return SUCCESS;
}

METHOD(kernel_ipsec_t, flush_policies, status_t, private_dsmip6_kernel_ipsec_t *this)
{
	return SUCCESS;
}

METHOD(kernel_ipsec_t, bypass_socket, bool, private_dsmip6_kernel_ipsec_t *this, int fd, int family)
{
	return TRUE; /* no policy in the kernel: IKE's sockets bypass nothing */
}

METHOD(kernel_ipsec_t, enable_udp_decap, bool, private_dsmip6_kernel_ipsec_t *this, int fd,
       int family, uint16_t port)
{
	return TRUE;
}

METHOD(kernel_ipsec_t, destroy, void, private_dsmip6_kernel_ipsec_t *this)
{
	enumerator_t *en = this->sas->create_enumerator(this->sas);
	void *k, *v;
	while (en->enumerate(en, &k, &v))
		free(v);
	en->destroy(en);
	this->sas->destroy(this->sas);
	this->lock->destroy(this->lock);
	DESTROY_IF(this->rng);
	free(this);
}

kernel_ipsec_t *dsmip6_kernel_ipsec_create(void)
{
	private_dsmip6_kernel_ipsec_t *this;

	INIT(this,
		.public = {
			.get_features = _get_features,
			.get_spi = _get_spi,
			.get_cpi = _get_cpi,
			.add_sa = _add_sa,
			.update_sa = _update_sa,
			.query_sa = _query_sa,
			.del_sa = _del_sa,
			.flush_sas = _flush_sas,
			.add_policy = _add_policy,
			.query_policy = _query_policy,
			.del_policy = _del_policy,
			.flush_policies = _flush_policies,
			.bypass_socket = _bypass_socket,
			.enable_udp_decap = _enable_udp_decap,
			.destroy = _destroy,
		},
		.rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK),
		.sas = hashtable_create(hash_spi, equals_spi, 64),
		.lock = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	if (!this->rng || !dsmip6_hacpd) {
		_destroy(this);
		return NULL;
	}
	return &this->public;
}
