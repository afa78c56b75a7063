/* What hacpd sends on its own (see cp_out.h). */
#include <string.h>

#include "cp_mbuf.h"
#include "cp_out.h"
#include "ha_bytes.h"
#include "ha_ring.h"

#define ICMP6_PARAM_PROBLEM 4
#define IPV6_MIN_MTU 1280

/* One more event in this second's window: false when the window is full. */
static bool rate_ok(struct cp_rate *r, uint64_t now_ms)
{
	if (now_ms - r->window_ms >= 1000) {
		r->window_ms = now_ms;
		r->in_window = 0;
	}
	return r->in_window++ < CP_OUT_ERRORS_PER_S;
}

/* An mbuf of len octets from hadp's pool, held by this hacpd, with the metadata that sends it
 * out of port, under spi when non-zero, in IPv4/UDP to udp_dst:udp_port when udp. */
static struct rte_mbuf *out_mbuf(struct cp_out *o, uint16_t len, uint16_t port, uint32_t spi,
				 bool udp, struct in_addr udp_dst, uint16_t udp_port, uint8_t **data)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(o->pool);
	if (m)
		cp_mbuf_hold(m);
	if (!m || !(*data = (uint8_t *)rte_pktmbuf_append(m, len))) {
		o->no_mbuf++;
		cp_mbuf_free(m);
		return NULL;
	}
	struct ha_pkt_meta *meta = rte_mbuf_to_priv(m);
	memset(meta, 0, sizeof(*meta));
	meta->version = HA_RING_VERSION;
	meta->port = port;
	if (spi) {
		meta->flags |= HA_META_F_ESP;
		meta->sa_spi = spi;
	}
	if (udp) {
		meta->flags |= HA_META_F_UDP | HA_META_F_OUTER4;
		memcpy(meta->outer_dst, &udp_dst, 4);
		meta->udp_sport = HA_UDP_PORT_DSMIP;
		meta->udp_dport = udp_port;
	}
	return m;
}

bool cp_out_mh(struct cp_out *o, uint16_t port, const struct mh_msg *msg,
	       const struct ha_pkt_spec *s, bool udp, struct in_addr udp_dst, uint16_t udp_port,
	       uint32_t spi)
{
	uint8_t buf[512], *d;
	int n = ha_pkt_build_mh(s, msg, buf, sizeof(buf));
	if (n <= 0) {
		o->no_mbuf++; /* cannot happen for the messages hacpd builds; counted all the same */
		return false;
	}
	struct rte_mbuf *m = out_mbuf(o, (uint16_t)n, port, spi, udp, udp_dst, udp_port, &d);
	if (!m)
		return false;
	memcpy(d, buf, (size_t)n);
	return o->send(o->arg, m);
}

/* RFC 4877 4: BA, BRI and Home Agent Switch only under the UE's SA (outside lab mode). */
static bool protected_or_lab(struct cp_out *o, uint32_t spi)
{
	if (spi || o->cfg->home_agent.insecure_lab_mode)
		return true;
	o->cp->ctr[CP_C_SIG_NO_SA]++;
	return false;
}

void cp_out_ba(struct cp_out *o, uint16_t port, const struct cp_bu_out *bu)
{
	if (!protected_or_lab(o, bu->spi_out))
		return;
	struct ha_pkt_spec s = { .src6 = o->cfg->home_agent.ipv6_address, .dst6 = bu->dst6,
				 .rh2 = bu->rh2, .rh2_hoa = bu->rh2_hoa };
	if (!cp_out_mh(o, port, &bu->ba, &s, bu->udp, bu->udp_dst, bu->udp_port, bu->spi_out))
		return;
	o->cp->ctr[CP_C_BA_SENT]++;
	o->cp->ba_status[bu->ba.ba.status]++;
	/* 002 5.4.3: right after the BA, to the same place; the indication is used only now */
	if (bu->send_has &&
	    cp_out_mh(o, port, &bu->has, &s, bu->udp, bu->udp_dst, bu->udp_port, bu->spi_out))
		cp_realloc_sent(o->cp, &bu->hoa);
}

void cp_out_bri(struct cp_out *o, const struct cp_msg_out *m)
{
	if (!protected_or_lab(o, m->spi_out))
		return;
	struct ha_pkt_spec s = { .src6 = o->cfg->home_agent.ipv6_address, .dst6 = m->dst6,
				 .rh2 = m->rh2, .rh2_hoa = m->rh2_hoa };
	cp_out_mh(o, m->port, &m->msg, &s, m->udp, m->udp_dst, m->udp_port, m->spi_out);
}

void cp_out_be(struct cp_out *o, uint16_t port, const struct ha_pkt *p, uint8_t status)
{
	const struct ha_ip_hdr *ip = ha_pkt_carrier(p);
	if (!rate_ok(&o->be_rate, o->now_ms())) {
		o->cp->ctr[CP_C_BE_RATE_LIMITED]++;
		return;
	}
	struct mh_msg be = { .type = MH_TYPE_BE };
	be.be.status = status;
	if (ip->hao)
		be.be.hoa = ip->hoa;
	struct ha_pkt_spec s = { .src6 = o->cfg->home_agent.ipv6_address, .dst6 = ip->src6 };
	/* RFC 5555 4.1: what came in UDP 4191 goes back in it, to the address and port it came
	 * from (a NAT's mapping, maybe) */
	if (cp_out_mh(o, port, &be, &s, p->udp_encap, p->outer.src4, p->sport, 0))
		o->cp->ctr[CP_C_BE_SENT]++;
}

void cp_out_param_problem(struct cp_out *o, uint16_t port, const struct ha_pkt *p,
			  const uint8_t *ip, uint32_t len, uint32_t pointer, bool esp,
			  uint32_t sa_spi)
{
	const struct ha_ip_hdr *c = ha_pkt_carrier(p);
	uint32_t spi = 0;
	if (esp) { /* never quote what came encrypted in the clear */
		const struct cp_sigsa *sa = cp_sigsa_of(&o->cp->sigsa, sa_spi);
		if (!sa || !sa->spi_out) {
			o->cp->ctr[CP_C_SIG_NO_SA]++;
			return;
		}
		spi = sa->spi_out;
	}
	if (!rate_ok(&o->pp_rate, o->now_ms())) {
		o->cp->ctr[CP_C_PARAM_PROBLEM_RL]++;
		return;
	}
	/* RFC 4443 3.4: as much of the invoking packet as fits in the minimum IPv6 MTU */
	uint32_t quote = len < IPV6_MIN_MTU - 48 ? len : IPV6_MIN_MTU - 48;
	uint16_t plen = (uint16_t)(8 + quote);
	uint8_t *d;
	struct rte_mbuf *m = out_mbuf(o, (uint16_t)(40 + plen), port, spi, p->udp_encap,
				      p->outer.src4, p->sport, &d);
	if (!m)
		return;
	d[0] = 0x60;
	d[1] = d[2] = d[3] = 0;
	ha_wr16(d + 4, plen);
	d[6] = 58; /* ICMPv6 */
	d[7] = 64;
	memcpy(d + 8, &o->cfg->home_agent.ipv6_address, 16);
	memcpy(d + 24, &c->src6, 16);
	uint8_t *icmp = d + 40;
	icmp[0] = ICMP6_PARAM_PROBLEM;
	icmp[1] = 0; /* erroneous header field encountered */
	icmp[2] = icmp[3] = 0;
	icmp[4] = (uint8_t)(pointer >> 24);
	icmp[5] = (uint8_t)(pointer >> 16);
	icmp[6] = (uint8_t)(pointer >> 8);
	icmp[7] = (uint8_t)pointer;
	memcpy(icmp + 8, ip, quote);
	uint8_t ph[40] = { 0 }; /* RFC 8200 8.1 */
	memcpy(ph, d + 8, 32);
	ha_wr16(ph + 34, plen);
	ph[39] = 58;
	uint32_t sum = ha_csum_add(ha_csum_add(0, ph, sizeof(ph)), icmp, plen);
	ha_wr16(icmp + 2, ha_csum_fold(sum));
	if (o->send(o->arg, m))
		o->cp->ctr[CP_C_PARAM_PROBLEM]++;
}
