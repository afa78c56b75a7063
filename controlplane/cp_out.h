/*
 * What hacpd sends on its own: the Mobility Header messages its procedures decided on (BA, Home
 * Agent Switch, BRI, Binding Error) and ICMPv6 Parameter Problem, built into mbufs of hadp's pool
 * with the metadata that tells hadp how to send them (the UE's outbound signalling SA, RFC 4877;
 * the UDP 4191 tunnel, RFC 5555). hadp does the ESP and the transmit.
 *
 * Rules kept here, in one place:
 * - BA, BRI and Home Agent Switch never leave in the clear outside insecure_lab_mode: without an
 *   outbound SA they are dropped and counted (RFC 4877 4).
 * - Binding Errors and Parameter Problems are rate-limited (RFC 6275 9.2 asks for a limit; RFC
 *   4443 2.4 (f)), each at CP_OUT_ERRORS_PER_S, and go back the way the packet came (in UDP
 *   4191 when it came so).
 * Owner: hacpd's main thread.
 */
#ifndef CP_OUT_H
#define CP_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "cp_bu.h"
#include "ha_pkt.h"

#define CP_OUT_ERRORS_PER_S 10

/* At most `per_s` events in each one-second window. */
struct cp_rate {
	uint64_t window_ms;
	unsigned in_window;
};

struct cp_out {
	const struct ha_config *cfg;
	struct cp_ctx *cp;               /* its counters */
	struct rte_mempool *pool;
	/* onto hadp's tx ring; false when dropped (the callee counted it) */
	bool (*send)(void *arg, struct rte_mbuf *m);
	void *arg;
	uint64_t (*now_ms)(void);
	uint64_t no_mbuf;                /* no mbuf for something to send */
	struct cp_rate be_rate, pp_rate;
};

/** A Mobility Header message from the HA: IPv6 to s->dst6 [+ RH2 | HAO], under the SA spi
 *  (0: clear), inside IPv4/UDP to udp_dst:udp_port when udp. @return true when handed to hadp. */
bool cp_out_mh(struct cp_out *o, uint16_t port, const struct mh_msg *msg,
	       const struct ha_pkt_spec *s, bool udp, struct in_addr udp_dst, uint16_t udp_port,
	       uint32_t spi);

/** The BA a procedure decided on, then the Home Agent Switch it asked for (002 5.4.3), whose
 *  reallocation indication is used once the Switch has left (cp_realloc_sent). */
void cp_out_ba(struct cp_out *o, uint16_t port, const struct cp_bu_out *bu);

/** A BRI (004 5.4.3.1). */
void cp_out_bri(struct cp_out *o, const struct cp_msg_out *m);

/** A Binding Error with status to the packet's source, with the home address of its HAO (RFC
 *  6275 9.2, 9.3.1), in UDP when the packet came in UDP 4191 (RFC 5555). Rate-limited. */
void cp_out_be(struct cp_out *o, uint16_t port, const struct ha_pkt *p, uint8_t status);

/**
 * ICMPv6 Parameter Problem, code 0 (erroneous header field), pointer err_offset (relative to
 * the carrier IPv6 header), to the packet's source, quoting as much of the invoking packet (ip,
 * len octets from its IPv6 header) as fits in 1280 octets (RFC 4443 3.4, RFC 6275 9.2). A packet
 * that came under ESP is answered under that SA's outbound half, never in the clear; one that
 * came in UDP 4191 is answered in that tunnel. Rate-limited.
 */
void cp_out_param_problem(struct cp_out *o, uint16_t port, const struct ha_pkt *p,
			  const uint8_t *ip, uint32_t len, uint32_t pointer, bool esp,
			  uint32_t sa_spi);

#endif
