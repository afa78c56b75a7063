#include <errno.h>
#include <sys/socket.h>

#include <daemon.h>
#include <collections/linked_list.h>
#include <threading/condvar.h>
#include <threading/mutex.h>
#include <threading/thread.h>

#include "dsmip6_hacpd.h"
#include "dsmip6_socket.h"

/* IKE messages waiting for charon's receiver; beyond this they are dropped (a flood must not
 * eat memory: hadp already polices the punts) */
#define QUEUE_MAX 1024

typedef struct private_dsmip6_socket_t private_dsmip6_socket_t;

struct private_dsmip6_socket_t {
	socket_t public;
	linked_list_t *queue;   /* packet_t */
	mutex_t *lock;
	condvar_t *cond;
	mutex_t *send_lock;     /* the send buffer; never held with lock (take() runs under the
				 * hacpd connection's lock, which send holds) */
	struct ha_ike_packet out;
	uint64_t dropped;
};

static host_t *host_of(uint8_t family, const uint8_t *addr, uint16_t port)
{
	return host_create_from_chunk(family, chunk_create((u_char *)addr, family == AF_INET ? 4 : 16),
				      port);
}

/* From hacpd (watcher or requester thread): queue it for receive(). */
static void take(void *ctx, const struct ha_ike_packet *p)
{
	private_dsmip6_socket_t *this = ctx;
	if (p->len > HA_IKE_PACKET_MAX || (p->family != AF_INET && p->family != AF_INET6))
		return;
	packet_t *pkt = packet_create();
	pkt->set_source(pkt, host_of(p->family, p->src, p->src_port));
	pkt->set_destination(pkt, host_of(p->family, p->dst, p->dst_port));
	pkt->set_data(pkt, chunk_clone(chunk_create((u_char *)p->data, p->len)));
	this->lock->lock(this->lock);
	if (this->queue->get_count(this->queue) >= QUEUE_MAX) {
		this->dropped++;
		pkt->destroy(pkt);
	} else {
		this->queue->insert_last(this->queue, pkt);
		this->cond->signal(this->cond);
	}
	this->lock->unlock(this->lock);
}

METHOD(socket_t, receive, status_t, private_dsmip6_socket_t *this, packet_t **packet)
{
	packet_t *pkt = NULL;

	this->lock->lock(this->lock);
	thread_cleanup_push((thread_cleanup_t)this->lock->unlock, this->lock);
	while (this->queue->remove_first(this->queue, (void **)&pkt) != SUCCESS) {
		bool old = thread_cancelability(TRUE); /* charon cancels its receiver at shutdown */
		bool timed_out = this->cond->timed_wait(this->cond, this->lock, 1000);
		thread_cancelability(old);
		if (timed_out) {
			/* IKE arrives only over the connection to hacpd: keep it up (hacpd may start
			 * after charon, or restart) */
			this->lock->unlock(this->lock);
			dsmip6_hacpd->ensure(dsmip6_hacpd);
			this->lock->lock(this->lock);
		}
	}
	thread_cleanup_pop(TRUE);
	*packet = pkt;
	return SUCCESS;
}

METHOD(socket_t, send_, status_t, private_dsmip6_socket_t *this, packet_t *packet)
{
	struct ha_ike_packet *pp = &this->out;
	host_t *src = packet->get_source(packet), *dst = packet->get_destination(packet);
	chunk_t data = packet->get_data(packet);
	struct ha_ike_result res;

	if (data.len > HA_IKE_PACKET_MAX || src->get_family(src) != dst->get_family(dst))
		return FAILED;
	this->send_lock->lock(this->send_lock);
#define p (*pp)
	memset(&p, 0, offsetof(struct ha_ike_packet, data));
	p.h.type = HA_IKE_SEND;
	p.h.len = sizeof(p);
	p.family = (uint8_t)src->get_family(src);
	p.len = (uint16_t)data.len;
	p.src_port = src->get_port(src);
	p.dst_port = dst->get_port(dst);
	chunk_t a = src->get_address(src);
	memcpy(p.src, a.ptr, min(a.len, sizeof(p.src)));
	a = dst->get_address(dst);
	memcpy(p.dst, a.ptr, min(a.len, sizeof(p.dst)));
	memcpy(p.data, data.ptr, data.len);
	int rc = dsmip6_hacpd->request(dsmip6_hacpd, &p.h, &res, sizeof(res));
#undef p
	this->send_lock->unlock(this->send_lock);
	if (rc < 0 || res.result < 0) {
		DBG1(DBG_NET, "dsmip6: sending %zu octets to %#H through hadp failed: %s", data.len,
		     dst, strerror(rc < 0 ? -rc : -res.result));
		return FAILED;
	}
	return SUCCESS;
}

METHOD(socket_t, get_port, uint16_t, private_dsmip6_socket_t *this, bool nat_t)
{
	return nat_t ? 4500 : 500;
}

METHOD(socket_t, supported_families, socket_family_t, private_dsmip6_socket_t *this)
{
	return SOCKET_FAMILY_BOTH;
}

METHOD(socket_t, destroy, void, private_dsmip6_socket_t *this)
{
	dsmip6_hacpd->on_packet(dsmip6_hacpd, NULL, NULL);
	this->queue->destroy_offset(this->queue, offsetof(packet_t, destroy));
	this->cond->destroy(this->cond);
	this->lock->destroy(this->lock);
	this->send_lock->destroy(this->send_lock);
	free(this);
}

socket_t *dsmip6_socket_create(void)
{
	private_dsmip6_socket_t *this;

	if (!lib->settings->get_bool(lib->settings, "%s.plugins.dsmip6.ike_via_dataplane", FALSE,
				     lib->ns) || !dsmip6_hacpd)
		return NULL;
	INIT(this,
		.public = {
			.receive = _receive,
			.send = _send_,
			.get_port = _get_port,
			.supported_families = _supported_families,
			.destroy = _destroy,
		},
		.queue = linked_list_create(),
		.lock = mutex_create(MUTEX_TYPE_DEFAULT),
		.cond = condvar_create(CONDVAR_TYPE_DEFAULT),
		.send_lock = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	dsmip6_hacpd->on_packet(dsmip6_hacpd, take, this);
	dsmip6_hacpd->ensure(dsmip6_hacpd);
	DBG1(DBG_NET, "dsmip6: IKE goes through the dataplane (hacpd), no kernel socket");
	return &this->public;
}
