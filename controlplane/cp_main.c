/*
 * hacpd: the control plane, a DPDK secondary process attached to hadp's shared objects.
 *
 *   hacpd -c FILE [--check] [--stats-file PATH] [--max-seconds S]
 *
 * One thread owns everything: it takes signalling from the punt ring, runs the Home Agent's
 * procedures (cp_bu.c), changes hadp's tables through the cmd ring and, once hadp has
 * acknowledged a change, sends the Binding Acknowledgement through the tx ring (under the UE's
 * signalling SA, RFC 4877; wrapped in UDP to a NAT mapping, RFC 5555).
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "cp_attach.h"
#include "cp_bu.h"
#include "ha_bytes.h"
#include "cp_cli.h"
#include "cp_events.h"
#include "cp_ike_guard.h"
#include "cp_ike_path.h"
#include "cp_ike_srv.h"
#include "cp_log.h"
#include "cp_mbuf.h"
#include "cp_out.h"
#include "cp_reload.h"
#include "cp_replay.h"
#include "cp_state.h"
#include "ha_notify.h"
#include "ha_ring.h"
#include "ha_state_file.h"

#define PENDING_MAX 4096

/* The binding cache and the UEs' IKE sessions live in state files that outlive hacpd and hadp
 * (shared/ha_state_file.h): a restarted hacpd adopts them and re-asserts them to hadp under a
 * new generation; a new hadp gets them all again, with the SAs and routes of cp_replay.h. */

/* A BA waiting for hadp's acknowledgement of the table change it depends on. */
struct pending {
	uint32_t seq;
	bool used;
	uint16_t port;
	struct cp_bu_out out;
};

struct hacpd {
	const struct ha_config *cfg;
	struct cp_ctx cp;
	struct rte_mempool *pool;
	struct rte_ring *punt, *tx, *cmd, *ack;
	uint32_t next_seq;
	struct pending pending[PENDING_MAX];
	uint64_t tx_full, cmd_full, acks_failed, malformed, not_bu, no_mbuf;
	struct cp_out out;           /* what hacpd sends on its own (cp_out.c) */
	/* what hadp's tx ring had no room for (a burst of BAs after a restart): sent first, in
	 * order, on the next turns; dropped (tx-full) only when this is full too */
	struct rte_mbuf *held[8192];
	unsigned held_head, held_n;
	uint32_t generation;
	struct cp_attach hadp;       /* the hadp attached to, and how to tell it is gone */
	struct cp_state st;          /* the binding cache's and IKE sessions' records, and the SAs
	                                and routes a new hadp must get again */
	/* telling hadp what it must hold, in order, paced by the command ring's room: a new
	 * hadp's SAs and routes, then (a restart of either) SYNC_BEGIN, every binding, SYNC_END */
	enum { SYNC_NONE, SYNC_REPLAY, SYNC_BEGIN, SYNC_BINDINGS } sync_phase;
	bool new_hadp;               /* no signalling is served until it has everything */
	uint32_t sync_cursor;
	uint64_t synced, replayed;
	uint64_t resync_start_ms;
	uint64_t work_ns;      /* CPU time spent on punts and acks (signalling work) */
	struct cp_cli *cli;          /* the operator socket (its route commands wait for acks) */
	struct cp_ike_srv *ike_srv;  /* charon's plugin (NULL without IKE) */
	struct cp_ike *ike;
	struct cp_ike_path ike_path; /* the port each IKE peer is on (access, or core at home) */
	struct cp_ike_guard ike_guard; /* detached UEs whose IKE SA the HA waits to see deleted */
};

#define HELD_MAX (sizeof(((struct hacpd *)0)->held) / sizeof(struct rte_mbuf *))

/* One mbuf onto hadp's tx ring when it has room (hacpd is its only producer), no longer
 * hacpd's from then on (cp_mbuf.h). */
static bool tx_ring_put(struct hacpd *h, struct rte_mbuf *m)
{
	if (rte_ring_free_count(h->tx) == 0)
		return false;
	cp_mbuf_release(m);
	rte_ring_sp_enqueue(h->tx, m);
	return true;
}

/* Onto hadp's tx ring, behind what already waits. @return false when dropped. */
static bool tx_send(struct hacpd *h, struct rte_mbuf *m)
{
	if (!h->held_n && tx_ring_put(h, m))
		return true;
	if (h->held_n == HELD_MAX) {
		h->tx_full++;
		cp_mbuf_free(m);
		return false;
	}
	h->held[(h->held_head + h->held_n++) % HELD_MAX] = m;
	return true;
}

static bool tx_send_cb(void *arg, struct rte_mbuf *m)
{
	return tx_send(arg, m);
}

/* Each turn: what waits, in order, as far as the ring has room. @return how many went. */
static unsigned tx_flush(struct hacpd *h)
{
	unsigned sent = 0;
	while (h->held_n && tx_ring_put(h, h->held[h->held_head])) {
		h->held_head = (h->held_head + 1) % HELD_MAX;
		h->held_n--;
		sent++;
	}
	return sent;
}

static volatile bool quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static uint64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One command onto hadp's ring (hacpd is its only producer): numbered, or counted as
 * cmd-full when the ring has no room. */
static int cmd_push(struct hacpd *h, struct ha_cmd *c)
{
	c->version = HA_RING_VERSION;
	c->seq = ++h->next_seq;
	if (rte_ring_sp_enqueue_elem(h->cmd, c, sizeof(*c)) != 0) {
		h->cmd_full++;
		return -ENOBUFS;
	}
	return 0;
}

static int send_cmd(struct hacpd *h, uint16_t type, const struct ha_binding_spec *spec,
		    uint32_t *seq)
{
	struct ha_cmd c = { .type = type, .generation = h->generation, .binding = *spec };
	int rc = cmd_push(h, &c);
	*seq = c.seq;
	return rc;
}

/* The IKE socket's table changes for hadp (charon's SAs, a DELETE's binding). */
static int ike_install(void *arg, struct ha_cmd *c)
{
	struct hacpd *h = arg;
	c->generation = h->generation;
	int rc = cmd_push(h, c);
	if (rc == 0 && !cp_replay_note(&h->st.replay, c)) /* a new hadp gets charon's SAs again */
		cp_log(CP_LOG_HADP, LOG_ERR, "SA %#x not kept for a new hadp: the state file's %u "
		       "slots (tables.max_sas) are full", c->sa.spi, h->st.replay.n_sas);
	return rc;
}

/* hadp verified the ESP of a packet that came in RFC 5555's UDP 4191 tunnel (RFC 5555 4.1:
 * IPv4 / UDP / IPv6 from the home address / ESP / BU) and hands it over decrypted, from its IPv6
 * header: the tunnel is in the metadata. The IPv6 packet becomes the inner one again, so the BU
 * is read (its IPv4 Care-of Address option allowed) and answered as one that came in UDP. */
static void from_udp_tunnel(const struct ha_pkt_meta *meta, struct ha_pkt *p)
{
	p->inner = p->outer;
	memset(&p->outer, 0, sizeof(p->outer));
	p->outer.ver = 4;
	memcpy(&p->outer.src4, meta->outer_src, 4);
	memcpy(&p->outer.dst4, meta->outer_dst, 4);
	p->udp = p->udp_encap = true;
	p->sport = meta->udp_sport;
	p->dport = meta->udp_dport;
}

static void ike_guard_arm(struct hacpd *h, const uint8_t prefix[16]);

static void handle_bu(struct hacpd *h, const struct ha_pkt_meta *meta, const struct ha_pkt *p,
		      const struct mh_msg *m)
{
	const struct ha_ip_hdr *ip = ha_pkt_carrier(p);
	struct cp_bu_in in = {
		.bu = m, .src6 = ip->src6, .has_hao = ip->hao, .hoa = ip->hao ? ip->hoa : ip->src6,
		.via_udp = (meta->flags & HA_META_F_UDP) != 0, .outer_sport = meta->udp_sport,
		.esp = (meta->flags & HA_META_F_ESP) != 0, .sa_spi = meta->sa_spi, .now = now_s(),
		.port = meta->port,
	};
	struct cp_bu_out out;

	if (in.via_udp)
		memcpy(&in.outer_src4, meta->outer_src, 4);
	cp_bu_process(&h->cp, &in, &out);
	if (out.drop)
		return;
	cp_events_bu(&h->cp, &out); /* to hactl monitor and the log */
	/* 004 5.4.3.1: a de-registration crossing the HA's BRI completes the detach as its BRA
	 * would; the IKE SA is then the UE's to close (detached()) */
	if (out.ended_revocation)
		ike_guard_arm(h, out.spec.home_prefix);
	if (out.moved && h->ike_srv) {
		/* RFC 4877 4.4: the IKE SA that made the BU's SA follows the UE, to its care-of
		 * address or (a de-registration, RFC 6275 11.7.1) its home address, and the HA's end
		 * to the HA's own address of that family (001 5.2.3.2: IPv6 or IPv4 access alike).
		 * Behind a NAT (the BU came in UDP with a port) IKE goes to UDP 4500: the BU's port is
		 * the NAT's mapping for UDP 4191, not IKE's, which charon takes from the UE's next
		 * IKE message (RFC 7296 2.23) */
		const struct cp_sigsa *sa = cp_sigsa_of(&h->cp.sigsa, in.sa_spi);
		struct ha_cfg_addr local = { .family = out.coa.family };
		if (out.coa.family == AF_INET6)
			local.v6 = h->cfg->home_agent.ipv6_address;
		else if (h->cfg->home_agent.has_ipv4_address)
			local.v4 = h->cfg->home_agent.ipv4_address;
		else
			local.family = 0; /* no IPv4 address: the IKE SA cannot follow (refused) */
		if (sa && sa->ike_sa) {
			/* the HA's IKE towards it leaves by the port the BU came in on (the core
			 * port for a UE at home, 001 5.2.3.3) */
			cp_ike_path_learn(&h->ike_path, out.coa.family, out.coa.family == AF_INET
					  ? (const uint8_t *)&out.coa.v4 : out.coa.v6.s6_addr, meta->port);
			cp_ike_srv_notify_move(h->ike_srv, sa->ike_sa, &out.coa, &local,
					       out.coa_port ? HA_IKE_MOVE_F_NATT : 0);
		}
	}
	if (out.action == CP_ACT_NONE) {
		if (out.send_ba)
			cp_out_ba(&h->out, meta->port, &out);
		return;
	}
	uint32_t seq;
	if (send_cmd(h, out.action == CP_ACT_UPSERT ? HA_CMD_BINDING_UPSERT : HA_CMD_BINDING_DELETE,
		     &out.spec, &seq) < 0)
		return; /* the UE retransmits (RFC 6275 11.8) */
	struct pending *pe = &h->pending[seq % PENDING_MAX];
	*pe = (struct pending){ .seq = seq, .used = out.send_ba, .port = meta->port, .out = out };
}

/* A network-initiated detach is over (the UE's BRA): the binding goes from hadp. The IKE
 * SA is the UE's to close (003 8.4.3.1: "always initiated by the UE"; 004 5.4.2.1: after the BRI
 * it deletes its SAs), and its DELETE ends the session here (cp_ike_srv.c). The HA deletes the
 * IKE SA itself only when the UE has not within ike.detach_guard_s (cp_ike_guard.h). */
static void detached(struct hacpd *h, const struct ha_binding_spec *gone)
{
	uint32_t seq;
	send_cmd(h, HA_CMD_BINDING_DELETE, gone, &seq);
	ike_guard_arm(h, gone->home_prefix);
}

/* The detach of the binding of this home prefix is over: wait for its UE's DELETE. */
static void ike_guard_arm(struct hacpd *h, const uint8_t prefix[16])
{
	const struct cp_ike_session *s = h->ike ? cp_ike_session_by_prefix(h->ike, prefix) : NULL;
	if (!s)
		return;
	h->ike->ctr[CP_IKE_DETACH_WAIT]++;
	if (cp_ike_guard_arm(&h->ike_guard, s->ike_sa, now_ms()) < 0) {
		/* more detaches waiting than UE sessions: no room to wait for this one */
		h->ike->ctr[CP_IKE_DETACH_GUARD]++;
		cp_ike_srv_notify_delete(h->ike_srv, s->ike_sa);
	}
}

/* The detach guards that ran out: an IKE SA whose UE has not deleted it goes (forced: the UE
 * need not answer); one the UE deleted is gone already, one whose UE registered again since
 * (a binding for its prefix) stays. */
static void ike_guard_tick(struct hacpd *h)
{
	uint32_t due[16];
	unsigned n;

	if (!h->ike)
		return;
	while ((n = cp_ike_guard_due(&h->ike_guard, now_ms(), due, 16)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const struct cp_ike_session *s = cp_ike_session_of(h->ike, due[i]);
			if (!s) {
				h->ike->ctr[CP_IKE_DETACH_UE_DONE]++;
				continue;
			}
			if (cp_bcache_find(&h->cp.cache, &s->prefix,
					   h->cfg->pdns[s->pdn].home_prefix_len))
				continue;
			h->ike->ctr[CP_IKE_DETACH_GUARD]++;
			cp_ike_srv_notify_delete(h->ike_srv, due[i]);
		}
	}
}

/* IKE through the dataplane: an IKE message hadp punted (UDP 500, or UDP 4500 with the non-ESP
 * marker) goes to charon's socket in the plugin as the UDP payload it is (charon's receiver
 * removes the marker itself, its sender adds it). */
static void ike_in(struct hacpd *h, struct rte_mbuf *mb)
{
	const struct ha_pkt_meta *meta = rte_mbuf_to_priv(mb);
	const uint8_t *d = rte_pktmbuf_mtod(mb, const uint8_t *);
	static struct ha_ike_packet pk; /* 2 KB: not on the stack of the loop */
	struct ha_pkt p;

	if (!h->ike_srv || meta->l3_off > mb->data_len ||
	    ha_pkt_classify(d + meta->l3_off, mb->data_len - meta->l3_off, &p) != HA_OK ||
	    p.cls != HA_PKT_IKE || !p.udp) {
		h->malformed++;
		return;
	}
	uint32_t off = meta->l3_off + p.udp_off + 8, end = meta->l3_off + p.outer.end;
	if (off > end || end - off > HA_IKE_PACKET_MAX || end > mb->data_len) {
		h->ike_srv->packets_dropped++;
		return;
	}
	memset(&pk, 0, offsetof(struct ha_ike_packet, data));
	pk.h = (struct ha_ike_hdr){ .version = HA_IKE_VERSION, .type = HA_IKE_PACKET,
				    .len = sizeof(pk) };
	pk.family = p.outer.ver == 4 ? AF_INET : AF_INET6;
	pk.len = (uint16_t)(end - off);
	pk.src_port = p.sport;
	pk.dst_port = p.dport;
	pk.port = meta->port;
	if (p.outer.ver == 4) {
		memcpy(pk.src, &p.outer.src4, 4);
		memcpy(pk.dst, &p.outer.dst4, 4);
	} else {
		memcpy(pk.src, &p.outer.src6, 16);
		memcpy(pk.dst, &p.outer.dst6, 16);
	}
	memcpy(pk.data, d + off, pk.len);
	cp_ike_path_learn(&h->ike_path, pk.family, pk.src, meta->port);
	cp_ike_srv_notify_packet(h->ike_srv, &pk);
}

/* charon's IKE message out of hadp's port: IPv6 or IPv4, UDP (checksummed) around the payload
 * charon made (with its non-ESP marker on port 4500). */
static int ike_out(void *arg, const struct ha_ike_packet *pk)
{
	struct hacpd *h = arg;
	bool v4 = pk->family == AF_INET;
	uint16_t ip = v4 ? 20 : 40, udp = (uint16_t)(8 + pk->len);
	struct rte_mbuf *m = rte_pktmbuf_alloc(h->pool);
	if (m)
		cp_mbuf_hold(m);
	uint8_t *b = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ip + udp)) : NULL;

	if (!b) {
		cp_mbuf_free(m);
		h->no_mbuf++;
		return -ENOBUFS;
	}
	memset(b, 0, ip + 8);
	uint8_t *u = b + ip;
	uint32_t sum;
	if (v4) {
		b[0] = 0x45;
		ha_wr16(b + 2, (uint16_t)(ip + udp));
		b[8] = 64;
		b[9] = 17;
		memcpy(b + 12, pk->src, 4);
		memcpy(b + 16, pk->dst, 4);
		ha_wr16(b + 10, ha_csum_fold(ha_csum_add(0, b, 20)));
		uint8_t ph[12] = { 0 };
		memcpy(ph, pk->src, 4);
		memcpy(ph + 4, pk->dst, 4);
		ph[9] = 17;
		ha_wr16(ph + 10, udp);
		sum = ha_csum_add(0, ph, sizeof(ph));
	} else {
		b[0] = 0x60;
		ha_wr16(b + 4, udp);
		b[6] = 17;
		b[7] = 64;
		memcpy(b + 8, pk->src, 16);
		memcpy(b + 24, pk->dst, 16);
		uint8_t ph[40] = { 0 }; /* RFC 8200 8.1 */
		memcpy(ph, pk->src, 16);
		memcpy(ph + 16, pk->dst, 16);
		ha_wr16(ph + 34, udp);
		ph[39] = 17;
		sum = ha_csum_add(0, ph, sizeof(ph));
	}
	ha_wr16(u, pk->src_port);
	ha_wr16(u + 2, pk->dst_port);
	ha_wr16(u + 4, udp);
	memcpy(u + 8, pk->data, pk->len);
	uint16_t c = ha_csum_fold(ha_csum_add(sum, u, udp));
	ha_wr16(u + 6, c ? c : 0xFFFF);
	struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
	memset(meta, 0, sizeof(*meta));
	meta->version = HA_RING_VERSION;
	meta->port = cp_ike_path_port(&h->ike_path, pk->family, pk->dst);
	meta->flags = v4 ? HA_META_F_RAW4 : 0;
	return tx_send(h, m) ? 0 : -ENOBUFS;
}

static void handle_punt(struct hacpd *h, struct rte_mbuf *mb)
{
	const struct ha_pkt_meta *meta = rte_mbuf_to_priv(mb);
	const uint8_t *d = rte_pktmbuf_mtod(mb, const uint8_t *);
	struct ha_pkt p;
	struct mh_msg m;

	if (meta->version == HA_RING_VERSION && meta->reason == HA_PUNT_IKE) {
		ike_in(h, mb);
		return;
	}
	enum ha_err ce = HA_OK;
	if (meta->version != HA_RING_VERSION || meta->l3_off > mb->data_len ||
	    (ce = ha_pkt_classify(d + meta->l3_off, mb->data_len - meta->l3_off, &p)) != HA_OK ||
	    p.cls != HA_PKT_MH) {
		h->cp.mh_err[ce]++;
		h->malformed++;
		return;
	}
	if ((meta->flags & (HA_META_F_ESP | HA_META_F_UDP)) == (HA_META_F_ESP | HA_META_F_UDP) &&
	    (meta->flags & HA_META_F_OUTER4) && !p.udp_encap && p.outer.ver == 6)
		from_udp_tunnel(meta, &p);
	enum ha_err e = ha_pkt_parse_mh(d + meta->l3_off, &p, &m);
	h->cp.mh_rx[m.type]++;
	if (e != HA_OK) {
		h->cp.mh_err[e]++;
		struct ha_err_disposition act = ha_err_disposition(e);
		const struct ha_ip_hdr *ip = ha_pkt_carrier(&p);
		if (act.action == HA_ACT_BE)
			cp_out_be(&h->out, meta->port, &p, act.code);
		/* RFC 6275 9.2: the pointer names the offending field of the carrier IPv6 packet */
		if (act.action == HA_ACT_ICMP_PARAM && p.err_offset >= ip->off &&
		    ip->end > ip->off && meta->l3_off + ip->end <= mb->data_len)
			cp_out_param_problem(&h->out, meta->port, &p, d + meta->l3_off + ip->off,
					     ip->end - ip->off, p.err_offset - ip->off,
					     (meta->flags & HA_META_F_ESP) != 0, meta->sa_spi);
		h->malformed++;
		return;
	}
	if (m.type == MH_TYPE_BR && m.br.br_type == MH_BR_BRA) {
		const struct ha_ip_hdr *ip = ha_pkt_carrier(&p);
		struct ha_binding_spec gone;
		if (cp_bra_process(&h->cp, &m, ip->hao ? &ip->hoa : &ip->src6,
				   (meta->flags & HA_META_F_ESP) != 0, meta->sa_spi, &gone))
			detached(h, &gone);
		return;
	}
	if (m.type != MH_TYPE_BU) {
		/* RFC 6275 9.3.1: a Home Address option with no binding behind it gets BE 1 */
		const struct ha_ip_hdr *ip = ha_pkt_carrier(&p);
		if (ip->hao && !cp_has_binding(&h->cp, &ip->hoa))
			cp_out_be(&h->out, meta->port, &p, MH_BE_UNKNOWN_BINDING_HAO);
		h->not_bu++;
		return;
	}
	handle_bu(h, meta, &p, &m);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static unsigned handle_acks(struct hacpd *h)
{
	struct ha_cmd_ack acks[32];
	unsigned n = rte_ring_sc_dequeue_burst_elem(h->ack, acks, sizeof(acks[0]), 32, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct pending *pe = &h->pending[acks[i].seq % PENDING_MAX];
		cp_replay_ack(&h->st.replay, acks[i].seq, acks[i].result);
		if (h->cli && cp_cli_ack(h->cli, acks[i].seq, acks[i].result))
			continue; /* an operator's route command */
		if (h->ike_srv && cp_ike_srv_ack(h->ike_srv, &acks[i]))
			continue; /* a query_sa's answer, not a table change */
		if (acks[i].result)
			h->acks_failed++;
		if (pe->seq != acks[i].seq || !pe->used)
			continue;
		pe->used = false;
		if (acks[i].result) {
			/* the dataplane could not install it: say so to the UE */
			pe->out.ba.ba.status = MH_BA_INSUFFICIENT_RESOURCES;
			pe->out.ba.ba.lifetime = 0;
			pe->out.send_has = false;
		}
		cp_out_ba(&h->out, pe->port, &pe->out);
	}
	return n;
}

/* hactl route add/delete: the command on hadp's ring; hadp's answer reaches the operator's
 * connection through cp_cli_ack (handle_acks), which never holds up signalling. */
static int route_change(void *arg, const struct ha_route_spec *spec, bool add, uint32_t *seq)
{
	struct hacpd *h = arg;
	struct ha_cmd c = { .type = add ? HA_CMD_ROUTE_ADD : HA_CMD_ROUTE_DELETE,
			    .generation = h->generation, .route = *spec };
	int rc = cmd_push(h, &c);
	if (rc == 0 && !cp_replay_note(&h->st.replay, &c)) /* and the operator's routes */
		cp_log(CP_LOG_HADP, LOG_ERR, "route not kept for a new hadp: the state file's %u "
		       "slots (tables.max_routes) are full", h->st.replay.n_routes);
	*seq = c.seq;
	return rc;
}

/* hactl config reload's commands (cp_reload.c) as they are: the YAML's static bindings keep
 * generation 0, which a restarted hacpd's re-assertion never sweeps. Not kept for a new hadp
 * (cp_replay): it reads the same YAML at its start. */
static int reload_send(void *arg, struct ha_cmd *c)
{
	return cmd_push(arg, c);
}

static unsigned reload_room(void *arg)
{
	return rte_ring_free_count(((struct hacpd *)arg)->cmd);
}

/* After a restart: a new hadp's SAs and routes (cp_replay), then SYNC_BEGIN, every binding
 * again, SYNC_END (hadp sweeps what is not re-asserted; the YAML's static bindings, generation
 * 0, are never swept). Paced by the command ring's room, a little each loop. */
static void sync_step(struct hacpd *h)
{
	struct ha_cmd c = { .version = HA_RING_VERSION, .generation = h->generation };
	const struct cp_bcache *bc = &h->cp.cache;

	while (h->sync_phase == SYNC_REPLAY && rte_ring_free_count(h->cmd) > 1) {
		uint32_t at = h->sync_cursor;
		if (!cp_replay_next(&h->st.replay, &h->sync_cursor, &c)) {
			h->sync_phase = SYNC_BEGIN;
			h->sync_cursor = 0;
			break;
		}
		c.seq = ++h->next_seq;
		if (rte_ring_sp_enqueue_elem(h->cmd, &c, sizeof(c)) != 0) {
			h->sync_cursor = at;
			return;
		}
		h->replayed++;
	}
	if (h->sync_phase == SYNC_BEGIN) {
		memset(&c.sa, 0, sizeof(c.sa));
		c.type = HA_CMD_SYNC_BEGIN;
		c.seq = ++h->next_seq;
		if (rte_ring_sp_enqueue_elem(h->cmd, &c, sizeof(c)) != 0)
			return;
		h->sync_phase = SYNC_BINDINGS;
		h->sync_cursor = 0;
	}
	while (h->sync_phase == SYNC_BINDINGS && h->sync_cursor < bc->capacity &&
	       rte_ring_free_count(h->cmd) > 1) {
		const struct cp_binding *b = &bc->slots[h->sync_cursor++];
		if (!b->in_use)
			continue;
		c.type = HA_CMD_BINDING_UPSERT;
		c.seq = ++h->next_seq;
		cp_binding_spec_ctx(&h->cp, b, &c.binding);
		if (rte_ring_sp_enqueue_elem(h->cmd, &c, sizeof(c)) != 0) {
			h->sync_cursor--;
			return;
		}
		h->synced++;
	}
	if (h->sync_phase != SYNC_BINDINGS || h->sync_cursor < bc->capacity)
		return;
	c.type = HA_CMD_SYNC_END;
	c.seq = ++h->next_seq;
	memset(&c.binding, 0, sizeof(c.binding));
	if (rte_ring_sp_enqueue_elem(h->cmd, &c, sizeof(c)) != 0)
		return;
	h->sync_phase = SYNC_NONE;
	if (h->new_hadp) {
		/* everything is on its way, in order: what comes now is served after it */
		h->st.bindings.hdr->instance = h->hadp.instance.id;
		h->new_hadp = false;
		cp_log(CP_LOG_HADP, LOG_NOTICE, "hadp has every SA, route and binding again (%llu SAs "
		       "and routes, %llu bindings queued in %llu ms); serving signalling",
		       (unsigned long long)h->replayed, (unsigned long long)h->synced,
		       (unsigned long long)(now_ms() - h->resync_start_ms));
	}
}

static int detach(void *arg, const struct in6_addr *hoa)
{
	struct hacpd *h = arg;
	struct cp_msg_out bri;
	int rc = cp_detach_start(&h->cp, hoa, now_ms(), &bri);
	if (rc == 0)
		cp_out_bri(&h->out, &bri);
	/* the UE's session with the AAA ends ADMINISTRATIVE, however it ends (docs/aaa.md) */
	if ((rc == 0 || rc == -EALREADY) && h->ike)
		cp_ike_detaching(h->ike, hoa);
	return rc;
}

/* Retransmit BRIs (the bindings of UEs that never answer stay: cp_detach_tick). */
static void detach_timers(struct hacpd *h)
{
	struct cp_msg_out again[16];
	unsigned n = cp_detach_tick(&h->cp, now_ms(), again, 16);
	for (unsigned i = 0; i < n; i++)
		cp_out_bri(&h->out, &again[i]);
	ike_guard_tick(h);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'k' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "max-seconds", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *stats_file = NULL;
	bool check = false;

	cp_attach_save_args(argc, argv);
	unsigned max_seconds = 0;
	int c;

	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'k': check = true; break;
		case 's': stats_file = optarg; break;
		case 'm': max_seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h':
			printf("usage: hacpd -c FILE [--check] [--stats-file PATH] [--max-seconds S]\n");
			return 0;
		default: return 2;
		}
	}
	if (!config || optind != argc) {
		fprintf(stderr, "usage: hacpd -c FILE [--check] [--stats-file PATH] [--max-seconds S]\n");
		return 2;
	}
	struct ha_config *cfg = calloc(1, sizeof(*cfg));
	struct ha_config_error err;
	if (!cfg || ha_config_load_file(config, cfg, &err) < 0) {
		cp_log(CP_LOG_CONFIG, LOG_ERR, "%s", cfg ? err.msg : "out of memory");
		free(cfg);
		return 1;
	}
	if (check) {
		printf("%s: ok\n", config);
		ha_config_free(cfg);
		free(cfg);
		return 0;
	}
	static struct hacpd h;
	cp_log_open(cfg);
	/* touch the BAs' waiting room now (PENDING_MAX slots, some 20 MiB): its pages would
	 * otherwise fault in one by one under the first BU storm */
	memset(h.pending, 0, sizeof(h.pending));
	h.cfg = cfg;
	/* the state that outlives hacpd and hadp (docs/restarts.md), opened before waiting for
	 * hadp: a file this build cannot read stops it here, with the reason */
	char serr[600];
	if (cp_state_open(&h.st, cfg, serr, sizeof(serr)) < 0) {
		fprintf(stderr, "hacpd: %s\n", serr);
		return 1;
	}
	h.generation = h.st.bindings.hdr->generation;
	int arc = cp_attach(cfg, &h.hadp);
	if (arc < 0)
		return 1;
	h.pool = h.hadp.pool;
	h.punt = h.hadp.punt;
	h.tx = h.hadp.tx;
	h.cmd = h.hadp.cmd;
	h.ack = h.hadp.ack;
	bool adopt = h.st.bindings.adopted;
	if (cp_ctx_init_store(&h.cp, cfg, h.st.bindings.records, adopt) < 0) {
		fprintf(stderr, "hacpd: no memory for the binding cache's indexes\n");
		rte_eal_cleanup();
		return 1;
	}
	/* a hadp the records were not installed in (restarted, upgraded): it gets them all */
	h.new_hadp = h.st.bindings.hdr->instance != h.hadp.instance.id;
	/* what a killed hacpd held goes back to hadp's pool (cp_mbuf.h) */
	int mrc = cp_mbuf_init(h.generation);
	if (mrc < 0) {
		fprintf(stderr, "hacpd: cannot mark the mbufs it holds: %s\n", rte_strerror(-mrc));
		rte_eal_cleanup();
		return 1;
	}
	int adopted = cp_mbuf_adopt_ring(h.punt);
	if (adopted > 0)
		fprintf(stderr, "hacpd: %d punted packets the previous hacpd was reading are served "
				"again\n", adopted);
	if (adopted < 0) /* freeing what the ring still holds would be worse than a leak */
		fprintf(stderr, "hacpd: no memory to look at the punt ring; what a previous hacpd "
				"held is not taken back\n");
	else
		h.cp.ctr[CP_C_MBUF_RECLAIMED] = cp_mbuf_reclaim(h.pool);
	if (h.cp.ctr[CP_C_MBUF_RECLAIMED])
		fprintf(stderr, "hacpd: took back %llu mbufs the previous hacpd died holding\n",
			(unsigned long long)h.cp.ctr[CP_C_MBUF_RECLAIMED]);
	if (h.new_hadp) {
		h.sync_phase = SYNC_REPLAY;
		struct timespec rt;
		clock_gettime(CLOCK_REALTIME, &rt);
		uint64_t since = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec -
				 h.hadp.instance.start_ns;
		fprintf(stderr, "hacpd: hadp %s (pid %u, started %llu ms ago): installing %u SAs, %u "
				"routes and %u bindings in it before any signalling (generation %u)\n",
			adopt ? "is new" : "attached", h.hadp.instance.pid,
			(unsigned long long)(since / 1000000u), h.st.replay.sa_count,
			h.st.replay.route_count, h.cp.cache.count, h.generation);
	} else if (adopt) {
		h.sync_phase = SYNC_BEGIN;
		fprintf(stderr, "hacpd: adopted %u bindings; re-asserting them to hadp (generation %u)\n",
			h.cp.cache.count, h.generation);
	}
	h.resync_start_ms = now_ms();
	h.out = (struct cp_out){ .cfg = cfg, .cp = &h.cp, .pool = h.pool, .send = tx_send_cb,
				 .arg = &h, .now_ms = now_ms };
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN); /* an operator who closes hactl early must not stop hacpd */
	static struct cp_cli cli;
	int crc = cp_cli_open(&cli, &h.cp, config, now_s, now_ms);
	h.cli = &cli;
	cli.detach = detach;
	cli.detach_arg = &h;
	cli.route = route_change;
	cli.route_arg = &h;
	static struct cp_reload reload;
	reload = (struct cp_reload){ .cfg = cfg, .path = config, .cp = &h.cp, .send = reload_send,
				     .room = reload_room, .arg = &h };
	cli.reload = &reload;
	if (crc < 0)
		fprintf(stderr, "hacpd: operator socket %s: %s (hactl will not reach hacpd)\n",
			cfg->cli.socket, strerror(-crc));
	/* IKEv2 (TS 24.303 5.1.3.1): charon's plugin brings the UEs' prefixes and SAs */
	static struct cp_ike ike;
	static struct cp_ike_srv ike_srv = { .listen_fd = -1, .fd = -1 };
	if (cfg->ike.enabled) {
		/* the UEs' sessions outlive hacpd too: a restarted hacpd still knows which IKE SA
		 * owns which prefix and which SAs protect whose signalling */
		bool ike_adopt = h.st.ike.adopted;
		if (cp_ike_init_store(&ike, &h.cp, h.st.ike.records, cfg->ike.max_sessions,
				      ike_adopt) < 0) {
			fprintf(stderr, "hacpd: no memory for the UE sessions' indexes or the prefix "
					"pools\n");
			rte_eal_cleanup();
			return 1;
		}
		if (ike_adopt)
			fprintf(stderr, "hacpd: adopted %u IKE sessions\n", ike.adopted);
		if (cp_ike_guard_init(&h.ike_guard, cfg->ike.max_sessions, cfg->ike.detach_guard_s) < 0) {
			fprintf(stderr, "hacpd: no memory for the detach guards\n");
			rte_eal_cleanup();
			return 1;
		}
		int irc = cp_ike_srv_open(&ike_srv, &ike, cfg->ike.socket);
		ike_srv.install = ike_install;
		ike_srv.send_packet = ike_out;
		ike_srv.detach = detach; /* an AAA_ORDER abort: hactl detach's procedure */
		ike_srv.arg = &h;
		h.ike_srv = &ike_srv;
		h.ike = &ike;
		cli.ike = &ike;
		reload.ike = &ike;
		reload.guard = &h.ike_guard;
		if (irc < 0)
			fprintf(stderr, "hacpd: IKE socket %s: %s (charon's plugin will not reach hacpd)\n",
				cfg->ike.socket, strerror(-irc));
	}
	static struct cp_events events; /* binding events to hactl monitor and the log */
	cp_events_open(&events, &h.cp, &cli, h.ike);
	uint64_t start = now_s(), last_expiry = start, last_alive_ms = now_ms();
	bool expiry_backlog = false;
	int rc = 0;
	ha_notify_ready("attached to hadp (%s), generation %u", ha_file_prefix(cfg), h.generation);
	while (!quit) {
		void *pkts[32];
		uint64_t t0 = thread_cpu_ns();
		unsigned flushed = tx_flush(&h);
		/* a new hadp first gets everything it must hold; the signalling waits in its ring */
		unsigned n = h.new_hadp ? 0 : cp_mbuf_dequeue(h.punt, pkts, 32);
		for (unsigned i = 0; i < n; i++) {
			handle_punt(&h, pkts[i]);
			cp_mbuf_free(pkts[i]);
		}
		/* the signalling work of this core: punts read, procedures run, commands and BAs
		 * queued (docs/performance.md: BUs per second of one control-plane core). The
		 * thread's CPU time, not the TSC: where processes share CPUs, time preempted is not
		 * work */
		if (handle_acks(&h) + n + flushed)
			h.work_ns += thread_cpu_ns() - t0;
		cli.signalling_waits = n == 32; /* a full burst: more wait in the punt ring */
		cp_cli_poll(&cli);
		cp_ike_srv_poll(&ike_srv);
		detach_timers(&h);
		if (h.sync_phase != SYNC_NONE)
			sync_step(&h);
		uint64_t now = now_s(), ms = now_ms();
		cp_log_tick();
		/* hadp gone: its rings and memory with it, not the state files. Let go of its
		 * memory at once (a new hadp waits for that) and wait for the next one, every
		 * binding, SA and route kept for it (docs/restarts.md) */
		bool stopping = cp_attach_stopping(&h.hadp);
		if (stopping || ms - last_alive_ms >= 10) {
			last_alive_ms = ms;
			if (stopping || !cp_attach_alive(&h.hadp)) {
				cp_log(CP_LOG_HADP, LOG_ERR, "hadp (pid %u) is gone; keeping %u "
				       "bindings, %u SAs and %u routes for the next one",
				       h.hadp.instance.pid, h.cp.cache.count, h.st.replay.sa_count,
				       h.st.replay.route_count);
				cp_attach_restart();
			}
		}
		/* once a second, and at every turn while a mass expiry has more than 64 due */
		if (now != last_expiry || expiry_backlog) {
			struct ha_binding_spec del[64];
			unsigned k = cp_expire(&h.cp, now, del, 64);
			uint32_t seq;
			for (unsigned i = 0; i < k; i++) {
				send_cmd(&h, HA_CMD_BINDING_DELETE, &del[i], &seq);
				/* TS 29.273 9.2.2.3: the UE's S6b session ends with its binding */
				if (h.ike)
					cp_ike_binding_expired(h.ike, del[i].home_prefix);
			}
			expiry_backlog = k == 64 && rte_ring_free_count(h.cmd) > 64;
			last_expiry = now;
		}
		if (max_seconds && now - start >= max_seconds)
			quit = true;
		if (!n)
			rte_delay_us_sleep(h.held_n ? 20 : 200); /* hadp drains its tx ring quickly */
	}
	ha_notify_stopping();
	while (h.held_n) { /* what still waits goes, or is counted lost */
		h.tx_full++;
		cp_mbuf_free(h.held[h.held_head]);
		h.held_head = (h.held_head + 1) % HELD_MAX;
		h.held_n--;
	}
	if (stats_file) {
		FILE *f = fopen(stats_file, "w");
		if (f) {
			fprintf(f, "{\"bindings\":%u,\"generation\":%u,\"re-asserted\":%llu,"
				   "\"work-ns\":%llu",
				h.cp.cache.count, h.generation, (unsigned long long)h.synced,
				(unsigned long long)h.work_ns);
			for (unsigned i = 0; i < CP_C__COUNT; i++)
				fprintf(f, ",\"%s\":%llu", cp_counter_name(i),
					(unsigned long long)h.cp.ctr[i]);
			fprintf(f, ",\"cli-refused-busy\":%llu,\"cli-request-timeouts\":%llu,"
				   "\"cli-dropped-stalled\":%llu", (unsigned long long)cli.refused_busy,
				(unsigned long long)cli.timed_out,
				(unsigned long long)cli.dropped_stalled);
			fprintf(f, ",\"malformed\":%llu,\"not-bu\":%llu,\"tx-full\":%llu,"
				   "\"cmd-full\":%llu,\"acks-failed\":%llu,\"no-mbuf\":%llu",
				(unsigned long long)h.malformed, (unsigned long long)h.not_bu,
				(unsigned long long)h.tx_full, (unsigned long long)h.cmd_full,
				(unsigned long long)h.acks_failed,
				(unsigned long long)(h.no_mbuf + h.out.no_mbuf));
			if (cfg->ike.enabled) {
				fprintf(f, ",\"ike\":{\"sessions\":%u,\"messages\":%llu,"
					   "\"bad-messages\":%llu,\"connects\":%llu,\"peer-moves\":%llu,"
					   "\"ike-packets-in\":%llu,\"ike-packets-out\":%llu,"
					   "\"ike-packets-dropped\":%llu", ike.count,
					(unsigned long long)ike_srv.msgs,
					(unsigned long long)ike_srv.bad_msgs,
					(unsigned long long)ike_srv.connects,
					(unsigned long long)ike_srv.moves,
					(unsigned long long)ike_srv.packets_in,
					(unsigned long long)ike_srv.packets_out,
					(unsigned long long)ike_srv.packets_dropped);
				for (unsigned i = 0; i < CP_IKE_N_COUNTERS; i++)
					fprintf(f, ",\"%s\":%llu", cp_ike_counter_name(i),
						(unsigned long long)cp_ike_counter(&ike, i));
				fprintf(f, "}");
			}
			fprintf(f, "}\n");
			fclose(f);
		}
	}
	cp_cli_close(&cli);
	cp_ike_srv_close(&ike_srv, cfg->ike.socket);
	cp_ike_path_free(&h.ike_path);
	if (cfg->ike.enabled)
		cp_ike_free(&ike);
	cp_ike_guard_free(&h.ike_guard);
	cp_ctx_free(&h.cp);
	rte_eal_cleanup();
	cp_state_close(&h.st);
	ha_config_free(cfg);
	free(cfg);
	return rc;
}
