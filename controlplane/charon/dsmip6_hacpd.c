#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <daemon.h>
#include <threading/mutex.h>

#include "dsmip6_hacpd.h"

#define HACPD_TIMEOUT_MS 3000

typedef struct private_dsmip6_hacpd_t private_dsmip6_hacpd_t;

struct private_dsmip6_hacpd_t {
	dsmip6_hacpd_t public;
	char *path;
	int fd;
	uint32_t seq;
	mutex_t *lock;
};

static void disconnect(private_dsmip6_hacpd_t *this)
{
	if (this->fd >= 0)
		close(this->fd);
	this->fd = -1;
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
	uint8_t buf[512] __attribute__((aligned(8)));
	struct ha_ike_hdr *h = (struct ha_ike_hdr *)buf;
	int rc;

	req->version = HA_IKE_VERSION;
	req->seq = ++this->seq;
	if ((rc = put(this, req, req->len)) < 0 || (rc = get(this, h, sizeof(*h))) < 0)
		return rc;
	if (ha_ike_check_hdr(h) < 0 || h->len > sizeof(buf) || h->seq != req->seq)
		return -EPROTO;
	if ((rc = get(this, buf + sizeof(*h), h->len - sizeof(*h))) < 0)
		return rc;
	memcpy(reply, buf, min(reply_len, (size_t)h->len));
	return 0;
}

static int connect_hello(private_dsmip6_hacpd_t *this)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ha_ike_hello hello = { .h = { .type = HA_IKE_HELLO, .len = sizeof(hello) },
				      .pid = (uint32_t)getpid() };
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
	if (rc < 0)
		DBG1(DBG_CFG, "dsmip6: hacpd at %s: %s (%s)", this->path, strerror(-rc),
		     ha_ike_type_name(req->type));
	return rc;
}

METHOD(dsmip6_hacpd_t, destroy, void, private_dsmip6_hacpd_t *this)
{
	disconnect(this);
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
			.destroy = _destroy,
		},
		.path = strdup(lib->settings->get_str(lib->settings, "%s.plugins.dsmip6.hacpd_socket",
						      "/run/hacpd/ike.sock", lib->ns)),
		.fd = -1,
		.lock = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
