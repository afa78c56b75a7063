#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "cp_ike_srv.h"
#include "cp_log.h"
#include "cp_sock.h"

int cp_ike_srv_open(struct cp_ike_srv *s, struct cp_ike *ike, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->ike = ike;
	s->fd = -1;
	s->listen_fd = cp_sock_listen(path, 0600, NULL);
	return s->listen_fd < 0 ? s->listen_fd : 0;
}

static void drop_conn(struct cp_ike_srv *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->rx_len = 0;
	s->hello = false;
	memset(s->queries, 0, sizeof(s->queries));
}

void cp_ike_srv_close(struct cp_ike_srv *s, const char *path)
{
	drop_conn(s);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(path);
	}
	s->listen_fd = -1;
}

static void result(void *reply, const struct ha_ike_hdr *rq, int rc)
{
	struct ha_ike_result *r = reply;
	*r = (struct ha_ike_result){ .h = { .version = HA_IKE_VERSION, .type = HA_IKE_RESULT,
					    .len = sizeof(*r), .seq = rq->seq, .ike_sa = rq->ike_sa },
				     .result = rc };
}

static int queue(struct cp_ike_srv *s, struct ha_cmd *c)
{
	return s->install ? s->install(s->arg, c) : 0;
}

static int sa_delete(struct cp_ike_srv *s, uint32_t spi, uint8_t dir)
{
	struct ha_cmd c = { .type = HA_CMD_SA_DELETE };
	c.sa_del.spi = spi;
	c.sa_del.direction = dir;
	return queue(s, &c);
}

/* The binding's and sessions' clock (cp_main.c's now_s). */
static uint64_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* What an IKE SA leaves behind, out of hadp: the binding first (deleted, or upserted without
 * the payload pair), as it may hold the payload SAs, which hadp keeps while used (-EBUSY). */
static void sas_gone(struct cp_ike_srv *s, const struct cp_ike_gone *gone, uint8_t binding_cmd)
{
	if (gone->has_binding) {
		struct ha_cmd c = { .type = binding_cmd, .binding = gone->binding };
		queue(s, &c);
	}
	for (unsigned i = 0; i < gone->n_sa; i++)
		sa_delete(s, gone->sa[i].spi, gone->sa[i].dir);
}

/* An IKE SA ended: its session, SAs and binding go, in hacpd and in hadp; its S6b session
 * ends with cause (unless the network ended it: cp_ike_down). */
static int ike_gone(struct cp_ike_srv *s, uint32_t ike_sa, enum ha_ike_aaa_end_cause cause)
{
	struct cp_ike_gone gone;
	const struct cp_ike_session *ss = cp_ike_session_of(s->ike, ike_sa);
	if (ss)
		cp_log(CP_LOG_IKE, LOG_INFO, "IKE session down: nai %s pdn %s ike-sa %u", ss->nai,
		       s->ike->cp->cfg->pdns[ss->pdn].name, ike_sa);
	int rc = cp_ike_down(s->ike, ike_sa, cause, &gone);
	sas_gone(s, &gone, HA_CMD_BINDING_DELETE);
	return rc;
}

/* The UE's PDN session over IKEv2 begins (its home prefix given), or is refused. */
static void log_session_up(const struct ha_ike_prefix_req *rq, const struct ha_ike_prefix_rep *rep,
			   const char *why)
{
	char nai[HA_IKE_NAI_MAX], apn[HA_IKE_APN_MAX], pfx[INET6_ADDRSTRLEN];
	snprintf(nai, sizeof(nai), "%s", rq->nai); /* NUL-terminated here, whatever came */
	snprintf(apn, sizeof(apn), "%s", rq->apn);
	if (rep->result) {
		cp_log(CP_LOG_IKE, LOG_NOTICE, "IKE session refused: nai %s apn %s ike-sa %u: %s", nai,
		       apn, rq->h.ike_sa, why ? why : strerror(-rep->result));
		return;
	}
	inet_ntop(AF_INET6, rep->prefix, pfx, sizeof(pfx));
	cp_log(CP_LOG_IKE, LOG_INFO, "IKE session up: nai %s apn %s ike-sa %u home prefix %s/%u", nai,
	       apn, rq->h.ike_sa, pfx, rep->prefix_len);
}

/* What the AAA orders (docs/aaa.md): an abort is the network-initiated detach of 004 5.4.3.1,
 * started before the answer: the BRI when the UE has a binding (as hactl detach), else the IKE
 * SA deleted by charon at once (IKE_DELETE), or for an orphan, whose IKE SA is gone already,
 * the session ended now. */
static int aaa_order(struct cp_ike_srv *s, const struct ha_ike_aaa_order *o)
{
	struct cp_ike_abort ab;
	int rc = cp_ike_aaa_order(s->ike, o, &ab);
	if (rc < 0 || o->order != HA_IKE_AAA_ABORT)
		return rc;
	const struct cp_ike_session *ss = cp_ike_session_of(s->ike, ab.ike_sa);
	cp_log(CP_LOG_IKE, LOG_NOTICE, "S6b abort of nai %s pdn %s ike-sa %u: %s", ss->nai,
	       s->ike->cp->cfg->pdns[ss->pdn].name, ab.ike_sa,
	       ab.what == CP_IKE_ABORT_BRI ? "Binding Revocation Indication sent"
	       : ab.what == CP_IKE_ABORT_DELETE ? "no binding: its IKE SA deleted"
	       : "no IKE SA (charon restarted): session ended");
	switch (ab.what) {
	case CP_IKE_ABORT_BRI:
		rc = s->detach ? s->detach(s->arg, &ab.hoa) : -ENOTSUP;
		return rc == -EALREADY ? 0 : rc; /* a detach already under way is this one */
	case CP_IKE_ABORT_DELETE:
		return cp_ike_srv_notify_delete(s, ab.ike_sa);
	default:
		return ike_gone(s, ab.ike_sa, HA_IKE_AAA_END_ADMINISTRATIVE);
	}
}

int cp_ike_srv_handle(struct cp_ike_srv *s, const struct ha_ike_hdr *h, void *reply,
		      size_t reply_max)
{
	int rc = ha_ike_check_hdr(h);

	((struct ha_ike_hdr *)reply)->len = 0;
	if (rc < 0 || reply_max < sizeof(struct ha_ike_prefix_rep))
		return rc < 0 ? rc : -ENOBUFS;
	if (!s->hello && h->type != HA_IKE_HELLO)
		return -EPROTO;
	s->msgs++;
	switch (h->type) {
	case HA_IKE_HELLO: {
		/* sessions a previous run of charon made: their IKE SAs are gone, not their UEs'
		 * bindings and SAs in hadp (docs/ikev2.md, "charon restarted") */
		unsigned n = cp_ike_hello(s->ike, ((const struct ha_ike_hello *)h)->instance, mono_s());
		if (n)
			cp_log(CP_LOG_IKE, LOG_NOTICE, "a new run of charon: %u IKE sessions orphaned, "
			       "their bindings and SAs kept until their UEs come back", n);
		s->hello = true;
		result(reply, h, 0);
		return 0;
	}
	case HA_IKE_PREFIX_REQ: {
		struct cp_ike_gone left;
		cp_ike_prefix(s->ike, (const struct ha_ike_prefix_req *)h, reply, &left);
		log_session_up((const struct ha_ike_prefix_req *)h, reply, s->ike->refused);
		sas_gone(s, &left, HA_CMD_BINDING_UPSERT); /* an orphan's old child SAs */
		return 0;
	}
	case HA_IKE_SA_ADD: {
		struct ha_cmd c = { .type = HA_CMD_SA_ADD };
		struct ha_cmd b = { .type = HA_CMD_BINDING_UPSERT };
		bool rebind;
		rc = cp_ike_sa_add(s->ike, (const struct ha_ike_sa_add *)h, &c.sa, &b.binding, &rebind);
		if (rc == 0 && (rc = queue(s, &c)) < 0) {
			/* hadp cannot take it now: forget it, charon fails the child SA */
			struct ha_ike_sa_del d = { .h = *h, .spi = c.sa.spi, .direction = c.sa.direction };
			cp_ike_sa_del(s->ike, &d, &b.binding, &rebind);
		} else if (rc == 0 && rebind) {
			queue(s, &b); /* after the SA: hadp resolves the pair when it takes the binding */
		}
		result(reply, h, rc);
		return 0;
	}
	case HA_IKE_SA_DEL: {
		const struct ha_ike_sa_del *d = (const struct ha_ike_sa_del *)h;
		struct ha_cmd b = { .type = HA_CMD_BINDING_UPSERT };
		bool rebind;
		cp_ike_sa_del(s->ike, d, &b.binding, &rebind);
		if (rebind)
			queue(s, &b); /* the binding lets go of the SA before hadp deletes it */
		result(reply, h, sa_delete(s, d->spi, d->direction));
		return 0;
	}
	case HA_IKE_SEND: {
		const struct ha_ike_packet *pk = (const struct ha_ike_packet *)h;
		rc = pk->len > HA_IKE_PACKET_MAX || (pk->family != AF_INET && pk->family != AF_INET6)
			? -EINVAL : s->send_packet ? s->send_packet(s->arg, pk) : -ENOTSUP;
		if (rc == 0)
			s->packets_out++;
		else
			s->packets_dropped++;
		result(reply, h, rc);
		return 0;
	}
	case HA_IKE_SA_ENCAP: {
		const struct ha_ike_sa_del *d = (const struct ha_ike_sa_del *)h;
		rc = cp_ike_sa_encap(s->ike, d);
		if (rc == 0) {
			struct ha_cmd c = { .type = HA_CMD_SA_ENCAP };
			c.sa_del.spi = d->spi;
			c.sa_del.direction = d->direction;
			c.sa_del.encap_port = d->encap_port;
			rc = queue(s, &c);
		}
		result(reply, h, rc);
		return 0;
	}
	case HA_IKE_SA_QUERY: {
		/* answered when hadp acks the query (cp_ike_srv_ack), not now */
		const struct ha_ike_sa_del *q = (const struct ha_ike_sa_del *)h;
		struct ha_cmd c = { .type = HA_CMD_SA_QUERY };
		c.sa_del.spi = q->spi;
		c.sa_del.direction = q->direction;
		unsigned slot = 0;
		while (slot < 16 && s->queries[slot].used)
			slot++;
		rc = slot == 16 ? -EBUSY : queue(s, &c);
		if (rc < 0) {
			struct ha_ike_sa_counters *r = reply;
			*r = (struct ha_ike_sa_counters){ .h = { .version = HA_IKE_VERSION,
								 .type = HA_IKE_SA_COUNTERS,
								 .len = sizeof(*r), .seq = h->seq,
								 .ike_sa = h->ike_sa },
							  .result = rc };
			return 0;
		}
		s->queries[slot].cmd_seq = c.seq;
		s->queries[slot].req_seq = h->seq;
		s->queries[slot].ike_sa = h->ike_sa;
		s->queries[slot].used = true;
		return 0;
	}
	case HA_IKE_IKE_DOWN:
		/* the UE's DELETE, or its IKE SA's end in charon: the UE's logout unless the
		 * network was detaching it (cp_ike_detaching) */
		result(reply, h, ike_gone(s, h->ike_sa, HA_IKE_AAA_END_LOGOUT));
		return 0;
	case HA_IKE_AAA_ORDER:
		result(reply, h, aaa_order(s, (const struct ha_ike_aaa_order *)h));
		return 0;
	case HA_IKE_AAA_EVENT:
		result(reply, h, cp_ike_aaa_event(s->ike, ((const struct ha_ike_aaa_event_msg *)h)->event));
		return 0;
	default:
		/* a hacpd-to-plugin type, or RESULT: not ours to receive */
		s->bad_msgs++;
		return -EBADMSG;
	}
}

static int notify(struct cp_ike_srv *s, const void *m, size_t len)
{
	if (s->fd < 0 || !s->hello)
		return -ENOTCONN;
	if (send(s->fd, m, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len) {
		drop_conn(s);
		return -EIO;
	}
	return 0;
}

int cp_ike_srv_notify_packet(struct cp_ike_srv *s, const struct ha_ike_packet *p)
{
	int rc = notify(s, p, sizeof(*p));
	if (rc == 0)
		s->packets_in++;
	else
		s->packets_dropped++;
	return rc;
}

int cp_ike_srv_notify_delete(struct cp_ike_srv *s, uint32_t ike_sa)
{
	struct ha_ike_down m = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_IKE_DELETE,
					.len = sizeof(m), .ike_sa = ike_sa } };
	return notify(s, &m, sizeof(m));
}

int cp_ike_srv_notify_move(struct cp_ike_srv *s, uint32_t ike_sa, const struct ha_cfg_addr *coa,
			   const struct ha_cfg_addr *local, uint8_t flags)
{
	struct ha_ike_peer_move m = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_PEER_MOVE,
					     .len = sizeof(m), .ike_sa = ike_sa },
				      .family = (uint8_t)coa->family, .flags = flags };

	if ((coa->family != AF_INET && coa->family != AF_INET6) || local->family != coa->family)
		return -EAFNOSUPPORT;
	size_t n = coa->family == AF_INET ? 4 : 16;
	memcpy(m.addr, coa->family == AF_INET ? (const void *)&coa->v4 : (const void *)&coa->v6, n);
	memcpy(m.local, local->family == AF_INET ? (const void *)&local->v4 : (const void *)&local->v6,
	       n);
	int rc = notify(s, &m, sizeof(m));
	s->moves += rc == 0;
	return rc;
}

bool cp_ike_srv_ack(struct cp_ike_srv *s, const struct ha_cmd_ack *ack)
{
	if (ack->type != HA_CMD_SA_QUERY)
		return false;
	for (unsigned i = 0; i < 16; i++) {
		if (!s->queries[i].used || s->queries[i].cmd_seq != ack->seq)
			continue;
		s->queries[i].used = false;
		struct ha_ike_sa_counters r = {
			.h = { .version = HA_IKE_VERSION, .type = HA_IKE_SA_COUNTERS, .len = sizeof(r),
			       .seq = s->queries[i].req_seq, .ike_sa = s->queries[i].ike_sa },
			.result = ack->result, .packets = ack->packets, .bytes = ack->bytes };
		notify(s, &r, sizeof(r));
		return true;
	}
	return false;
}

/* Whole messages from the buffer; a partial one waits for the rest. */
static unsigned drain(struct cp_ike_srv *s)
{
	unsigned n = 0;
	size_t off = 0;
	union {
		struct ha_ike_prefix_rep rep;
		struct ha_ike_result res;
		struct ha_ike_sa_counters cnt;
	} reply;

	while (s->rx_len - off >= sizeof(struct ha_ike_hdr)) {
		struct ha_ike_hdr h;
		memcpy(&h, s->rx + off, sizeof(h));
		if (ha_ike_check_hdr(&h) < 0) {
			s->bad_msgs++;
			fprintf(stderr, "hacpd: IKE socket: bad message (version %u type %u len %u); "
					"dropping the connection\n", h.version, h.type, h.len);
			drop_conn(s);
			return n;
		}
		if (s->rx_len - off < h.len)
			break;
		uint8_t msg[sizeof(s->rx)] __attribute__((aligned(8)));
		memcpy(msg, s->rx + off, h.len);
		off += h.len;
		if (cp_ike_srv_handle(s, (struct ha_ike_hdr *)msg, &reply, sizeof(reply)) < 0) {
			s->bad_msgs++;
			drop_conn(s);
			return n;
		}
		n++;
		uint32_t len = reply.res.h.len;
		if (len && send(s->fd, &reply, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len) {
			/* charon does not read: it will reconnect and say HELLO again */
			drop_conn(s);
			return n;
		}
	}
	memmove(s->rx, s->rx + off, s->rx_len - off);
	s->rx_len -= off;
	return n;
}

/* Orphaned sessions whose UEs did not come back end (cp_ike_orphans_due), once a second. */
static void orphans_sweep(struct cp_ike_srv *s)
{
	uint64_t now = mono_s();
	uint32_t due[64];
	unsigned n;

	if (!s->ike || now == s->swept_s)
		return;
	s->swept_s = now;
	while ((n = cp_ike_orphans_due(s->ike, now, due, 64)) > 0)
		for (unsigned i = 0; i < n; i++)
			ike_gone(s, due[i], HA_IKE_AAA_END_AUTH_EXPIRED); /* cp_ike_orphans_due says */
}

unsigned cp_ike_srv_flush_ends(struct cp_ike_srv *s)
{
	const struct ha_ike_aaa_end *m;
	unsigned n = 0;

	while (s->fd >= 0 && s->hello && s->ike && (m = cp_aaa_ends_peek(&s->ike->ends))) {
		ssize_t r = send(s->fd, m, sizeof(*m), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break; /* its socket is full: the rest at the next poll */
		if (r != (ssize_t)sizeof(*m)) {
			drop_conn(s); /* kept: sent again after the next HELLO */
			break;
		}
		cp_aaa_ends_pop(&s->ike->ends);
		s->ike->ctr[CP_IKE_AAA_END_SENT]++;
		n++;
	}
	return n;
}

/* The connection: accepted, read, answered. */
static unsigned poll_conn(struct cp_ike_srv *s)
{
	unsigned n = 0;

	orphans_sweep(s);
	if (s->listen_fd < 0)
		return 0;
	int c = cp_sock_pending(s->listen_fd)
		? accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
	if (c >= 0) {
		drop_conn(s); /* charon restarted: the new connection is the one */
		s->fd = c;
		s->connects++;
	}
	if (s->fd < 0)
		return 0;
	for (;;) {
		ssize_t r = recv(s->fd, s->rx + s->rx_len, sizeof(s->rx) - s->rx_len, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			drop_conn(s);
			return n;
		}
		if (r < 0)
			return n;
		s->rx_len += (size_t)r;
		n += drain(s);
		if (s->fd < 0)
			return n;
	}
}

unsigned cp_ike_srv_poll(struct cp_ike_srv *s)
{
	unsigned n = poll_conn(s);
	cp_ike_srv_flush_ends(s); /* after the answers: a HELLO's RESULT before what waited */
	return n;
}
