#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <daemon.h>
#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>

#include "dsmip6_hacpd.h"

#define HACPD_TIMEOUT_MS 3000

typedef struct private_dsmip6_hacpd_t private_dsmip6_hacpd_t;

struct private_dsmip6_hacpd_t {
	dsmip6_hacpd_t public;
	char *path;
	int fd;
	int dead_fd;   /* dropped under the lock, closed (and unwatched) outside it */
	uint32_t seq;
	mutex_t *lock;
	void (*packet_cb)(void *ctx, const struct ha_ike_packet *p);
	void *packet_ctx;
	void (*connect_cb)(void *ctx);
	void *connect_ctx;
	void (*aaa_end_cb)(void *ctx, const struct ha_ike_aaa_end *m);
	void *aaa_end_ctx;
	uint64_t instance;
};

static private_dsmip6_hacpd_t *the_conn; /* for dispatch(), which has no this */

static void disconnect(private_dsmip6_hacpd_t *this)
{
	if (this->fd >= 0)
		this->dead_fd = this->fd;
	this->fd = -1;
}

/* Outside the lock: the watcher may be waiting on it in on_readable(). */
static void reap(private_dsmip6_hacpd_t *this)
{
	this->lock->lock(this->lock);
	int fd = this->dead_fd;
	this->dead_fd = -1;
	this->lock->unlock(this->lock);
	if (fd >= 0) {
		lib->watcher->remove(lib->watcher, fd);
		close(fd);
	}
}

/* ---- what hacpd tells charon (shared/ha_ike_msg.h) ---- */

typedef struct {
	uint32_t ike_sa;
	host_t *to;        /* PEER_MOVE: the UE's new address; NULL for IKE_DELETE */
	host_t *me;        /* PEER_MOVE: the HA's own address of the same family */
	uint8_t flags;     /* HA_IKE_MOVE_F_* */
} notice_t;

static void notice_free(notice_t *n)
{
	DESTROY_IF(n->to);
	DESTROY_IF(n->me);
	free(n);
}

/* RFC 4877 4.4: the K bit moved the UE; the IKE SA follows with both ends, so that it can move
 * between an IPv6 and an IPv4 access (001 5.2.3.2) and home (RFC 6275 11.7.1): the peer to the
 * UE's new address, the HA's end to its own address of that family. Ports (RFC 7296 2.23): a UE
 * behind a NAT gets IKE on UDP 4500 at both ends, the NAT's port for it taken from the UE's
 * next IKE message (the NAT_THERE condition lets charon follow it); once on 4500 IKE stays there,
 * and a peer port that was a NAT's mapping means nothing at a new address (4500 again). */
static job_requeue_t move_peer(notice_t *n)
{
	ike_sa_t *ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, n->ike_sa);
	if (!ike_sa) {
		DBG1(DBG_IKE, "dsmip6: no IKE SA #%u to move", n->ike_sa);
		return JOB_REQUEUE_NONE;
	}
	host_t *me = ike_sa->get_my_host(ike_sa), *other = ike_sa->get_other_host(ike_sa);
	uint16_t natt = charon->socket->get_port(charon->socket, TRUE);
	bool behind_nat = (n->flags & HA_IKE_MOVE_F_NATT) != 0;
	bool was_nat = ike_sa->has_condition(ike_sa, COND_NAT_THERE);
	uint16_t my_port = behind_nat ? natt : me->get_port(me);

	if (!n->to->get_port(n->to))
		n->to->set_port(n->to, behind_nat || was_nat || my_port == natt ? natt
									  : other->get_port(other));
	n->me->set_port(n->me, my_port);
	DBG1(DBG_IKE, "dsmip6: K bit: IKE SA #%u of '%Y' moves from %#H - %#H to %#H - %#H%s",
	     n->ike_sa, ike_sa->get_other_eap_id(ike_sa), me, other, n->me, n->to,
	     behind_nat ? " (NAT-T)" : "");
	/* before update_hosts: it tells the child SAs whether their ESP goes in UDP */
	ike_sa->set_condition(ike_sa, COND_NAT_THERE, behind_nat);
	ike_sa->update_hosts(ike_sa, n->me, n->to, /* cloned by charon */
			     UPDATE_HOSTS_FORCE_LOCAL | UPDATE_HOSTS_FORCE_REMOTE);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return JOB_REQUEUE_NONE;
}

/* hacpd detached the UE (004 5.4.3.1): the IKE SA and its children go too. */
static job_requeue_t delete_ike(notice_t *n)
{
	DBG1(DBG_IKE, "dsmip6: hacpd detached the UE of IKE SA #%u: deleting it", n->ike_sa);
	/* force: the revoked UE need not answer; the DELETE goes once and the SA goes at once */
	charon->controller->terminate_ike(charon->controller, n->ike_sa, TRUE, NULL, NULL, 0);
	return JOB_REQUEUE_NONE;
}

/* A notification read off the socket: queued as a job, never run under our lock (an IKE
 * message goes to the socket's queue, which does not block). */
static void dispatch(const struct ha_ike_hdr *h)
{
	notice_t *n;

	if (h->type == HA_IKE_PACKET) {
		if (the_conn && the_conn->packet_cb)
			the_conn->packet_cb(the_conn->packet_ctx, (const struct ha_ike_packet *)h);
		return;
	}
	if (h->type == HA_IKE_AAA_END) {
		if (the_conn && the_conn->aaa_end_cb)
			the_conn->aaa_end_cb(the_conn->aaa_end_ctx, (const struct ha_ike_aaa_end *)h);
		else
			DBG1(DBG_IKE, "dsmip6: hacpd ended an S6b session, but S6b is not configured");
		return;
	}
	INIT(n, .ike_sa = h->ike_sa);
	if (h->type == HA_IKE_PEER_MOVE) {
		const struct ha_ike_peer_move *m = (const struct ha_ike_peer_move *)h;
		size_t len = m->family == AF_INET ? 4 : 16;
		n->to = host_create_from_chunk(m->family, chunk_create((u_char *)m->addr, len), m->port);
		n->me = host_create_from_chunk(m->family, chunk_create((u_char *)m->local, len), 0);
		n->flags = m->flags;
		if (!n->to || !n->me) {
			notice_free(n);
			return;
		}
		lib->processor->queue_job(lib->processor, (job_t *)callback_job_create(
			(callback_job_cb_t)move_peer, n, (callback_job_cleanup_t)notice_free, NULL));
	} else if (h->type == HA_IKE_IKE_DELETE) {
		lib->processor->queue_job(lib->processor, (job_t *)callback_job_create(
			(callback_job_cb_t)delete_ike, n, (callback_job_cleanup_t)notice_free, NULL));
	} else {
		free(n);
	}
}

static bool is_notice(uint16_t type)
{
	return type == HA_IKE_PEER_MOVE || type == HA_IKE_IKE_DELETE || type == HA_IKE_PACKET ||
	       type == HA_IKE_AAA_END;
}

/* Write all of buf or fail. */
static int put(private_dsmip6_hacpd_t *this, const void *buf, size_t len)
{
	ssize_t n = send(this->fd, buf, len, MSG_NOSIGNAL);
	return n == (ssize_t)len ? 0 : -ENOTCONN;
}

/* Read exactly len octets within the timeout. */
static int get(private_dsmip6_hacpd_t *this, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		struct pollfd p = { .fd = this->fd, .events = POLLIN };
		if (poll(&p, 1, HACPD_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		ssize_t n = recv(this->fd, (char *)buf + got, len - got, 0);
		if (n <= 0)
			return -ENOTCONN;
		got += (size_t)n;
	}
	return 0;
}

/* One exchange on the open connection: the answer of this seq (hacpd answers in order). */
static int exchange(private_dsmip6_hacpd_t *this, struct ha_ike_hdr *req, void *reply,
		    size_t reply_len)
{
	uint8_t buf[4096] __attribute__((aligned(8)));
	struct ha_ike_hdr *h = (struct ha_ike_hdr *)buf;
	int rc;

	req->version = HA_IKE_VERSION;
	req->seq = ++this->seq;
	if ((rc = put(this, req, req->len)) < 0)
		return rc;
	for (;;) {
		if ((rc = get(this, h, sizeof(*h))) < 0)
			return rc;
		if (ha_ike_check_hdr(h) < 0 || h->len > sizeof(buf))
			return -EPROTO;
		if ((rc = get(this, buf + sizeof(*h), h->len - sizeof(*h))) < 0)
			return rc;
		if (is_notice(h->type)) {
			dispatch(h); /* sent before hacpd read our request */
			continue;
		}
		if (h->seq != req->seq)
			return -EPROTO;
		memcpy(reply, buf, min(reply_len, (size_t)h->len));
		return 0;
	}
}

/* Notifications that arrive while no request is in flight. */
static bool on_readable(private_dsmip6_hacpd_t *this, int fd, watcher_event_t event)
{
	uint8_t buf[4096] __attribute__((aligned(8)));
	struct ha_ike_hdr *h = (struct ha_ike_hdr *)buf;
	bool keep = TRUE;

	this->lock->lock(this->lock);
	if (fd != this->fd) {
		this->lock->unlock(this->lock);
		return FALSE;
	}
	ssize_t n = recv(fd, h, sizeof(*h), MSG_DONTWAIT | MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		this->lock->unlock(this->lock); /* a request took it */
		return TRUE;
	}
	if (n < (ssize_t)sizeof(*h) || get(this, h, sizeof(*h)) < 0 || ha_ike_check_hdr(h) < 0 ||
	    !is_notice(h->type) || get(this, buf + sizeof(*h), h->len - sizeof(*h)) < 0) {
		disconnect(this); /* closed by hacpd, or out of step: reconnect on the next request */
		keep = FALSE;
	} else {
		dispatch(h);
	}
	this->lock->unlock(this->lock);
	if (!keep) {
		this->lock->lock(this->lock);
		if (this->dead_fd == fd) {
			this->dead_fd = -1;
			close(fd); /* returning FALSE unwatches it */
		}
		this->lock->unlock(this->lock);
	}
	return keep;
}

/* The on_connect callback, on a job: the connection's lock is not held here. */
static job_requeue_t connected(private_dsmip6_hacpd_t *this)
{
	this->lock->lock(this->lock);
	void (*cb)(void *ctx) = this->connect_cb;
	void *ctx = this->connect_ctx;
	this->lock->unlock(this->lock);
	if (cb)
		cb(ctx);
	return JOB_REQUEUE_NONE;
}

static int connect_hello(private_dsmip6_hacpd_t *this)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ha_ike_hello hello = { .h = { .type = HA_IKE_HELLO, .len = sizeof(hello) },
				      .pid = (uint32_t)getpid(), .instance = this->instance };
	struct ha_ike_result res;

	if (strlen(this->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, this->path);
	this->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (this->fd < 0)
		return -errno;
	if (connect(this->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		disconnect(this);
		return e;
	}
	int rc = exchange(this, &hello.h, &res, sizeof(res));
	if (rc < 0 || res.h.type != HA_IKE_RESULT || res.result != 0) {
		disconnect(this);
		return rc < 0 ? rc : -EPROTO;
	}
	DBG1(DBG_CFG, "dsmip6: connected to hacpd at %s", this->path);
	lib->watcher->add(lib->watcher, this->fd, WATCHER_READ, (watcher_cb_t)on_readable, this);
	if (this->connect_cb)
		lib->processor->queue_job(lib->processor,
					  (job_t *)callback_job_create((callback_job_cb_t)connected,
								       this, NULL, NULL));
	return 0;
}

METHOD(dsmip6_hacpd_t, request, int, private_dsmip6_hacpd_t *this, struct ha_ike_hdr *req,
       void *reply, size_t reply_len)
{
	int rc = 0;

	this->lock->lock(this->lock);
	/* a connection hacpd closed (it restarted) is found out by the first exchange: one retry
	 * on a fresh connection */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (this->fd < 0 && (rc = connect_hello(this)) < 0)
			break;
		rc = exchange(this, req, reply, reply_len);
		if (rc == 0)
			break;
		disconnect(this);
	}
	this->lock->unlock(this->lock);
	reap(this);
	if (rc < 0)
		DBG1(DBG_CFG, "dsmip6: hacpd at %s: %s (%s)", this->path, strerror(-rc),
		     ha_ike_type_name(req->type));
	return rc;
}

METHOD(dsmip6_hacpd_t, ensure, int, private_dsmip6_hacpd_t *this)
{
	int rc = 0;
	this->lock->lock(this->lock);
	if (this->fd < 0)
		rc = connect_hello(this);
	this->lock->unlock(this->lock);
	reap(this);
	return rc;
}

METHOD(dsmip6_hacpd_t, on_packet, void, private_dsmip6_hacpd_t *this,
       void (*cb)(void *ctx, const struct ha_ike_packet *p), void *ctx)
{
	this->lock->lock(this->lock);
	this->packet_cb = cb;
	this->packet_ctx = ctx;
	this->lock->unlock(this->lock);
}

METHOD(dsmip6_hacpd_t, on_connect, void, private_dsmip6_hacpd_t *this, void (*cb)(void *ctx),
       void *ctx)
{
	this->lock->lock(this->lock);
	this->connect_cb = cb;
	this->connect_ctx = ctx;
	this->lock->unlock(this->lock);
}

METHOD(dsmip6_hacpd_t, on_aaa_end, void, private_dsmip6_hacpd_t *this,
       void (*cb)(void *ctx, const struct ha_ike_aaa_end *m), void *ctx)
{
	this->lock->lock(this->lock);
	this->aaa_end_cb = cb;
	this->aaa_end_ctx = ctx;
	this->lock->unlock(this->lock);
}

METHOD(dsmip6_hacpd_t, destroy, void, private_dsmip6_hacpd_t *this)
{
	the_conn = NULL;
	this->lock->lock(this->lock);
	disconnect(this);
	this->lock->unlock(this->lock);
	reap(this);
	this->lock->destroy(this->lock);
	free(this->path);
	free(this);
}

dsmip6_hacpd_t *dsmip6_hacpd_create(void)
{
	private_dsmip6_hacpd_t *this;

	INIT(this,
		.public = {
			.request = _request,
			.on_packet = _on_packet,
			.ensure = _ensure,
			.on_connect = _on_connect,
			.on_aaa_end = _on_aaa_end,
			.destroy = _destroy,
		},
		.path = strdup(lib->settings->get_str(lib->settings, "%s.plugins.dsmip6.hacpd_socket",
						      "/run/hacpd/ike.sock", lib->ns)),
		.fd = -1,
		.dead_fd = -1,
		.lock = mutex_create(MUTEX_TYPE_DEFAULT),
		/* distinct for every run of charon, kept across reconnections */
		.instance = (uint64_t)time(NULL) << 32 ^ (uint64_t)getpid() << 8 ^ (uintptr_t)&the_conn,
	);
	the_conn = this;
	return &this->public;
}
