/*
 * ICMP errors the dataplane sends itself: a downlink packet too big for the UE's tunnel
 * (RFC 2473 7.1: the tunnel entry point reports the tunnel's MTU to the packet's source).
 */
#ifndef DP_ICMP_H
#define DP_ICMP_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;

/**
 * Whether an error about the user packet at inner_off of frame m may be sent (RFC 4443 2.4(e),
 * RFC 1812 4.3.2.7): not about an ICMP error, a non-initial fragment, or a source that is not
 * one unicast node; for IPv4 only with DF (without, it would be fragmented, not refused) and
 * when the HA has an IPv4 address (ha4, network order, 0 if none). Reads only.
 */
bool dp_icmp_may_report(const struct rte_mbuf *m, uint16_t inner_off, uint32_t ha4);

/**
 * Turn the user packet at inner_off of frame m (its Ethernet header in front) into the error
 * about it, in place: ICMPv6 Packet Too Big (RFC 4443 3.2; at most 1280 octets) or, for IPv4
 * with DF, ICMP Destination Unreachable / Fragmentation Needed (RFC 792, RFC 1191 4; at most
 * 576 octets, RFC 1812 4.3.2.3), from the HA's address to the packet's source, with mtu the
 * largest packet the tunnel carries. The Ethernet source is port_mac; the destination is left
 * to the caller (the next hop towards the packet's source). Only for a packet
 * dp_icmp_may_report() accepts. @return false if the mbuf has no room for the headers.
 */
bool dp_icmp_too_big(struct rte_mbuf *m, uint16_t inner_off, uint16_t mtu, const uint8_t ha6[16],
		     uint32_t ha4, const uint8_t port_mac[6]);

#endif
