/* Decoding captured packets into JSON for operators and tests (ha-decode). */
#ifndef HA_DECODE_H
#define HA_DECODE_H

#include "ha_json.h"
#include "ha_pkt.h"

/** Classify data and, for a Mobility Header, parse it; the result ha_decode_json() prints. */
enum ha_err ha_decode_packet(const uint8_t *data, size_t len, bool ethernet, struct ha_pkt *p,
			     struct mh_msg *m, bool *mh_parsed);

/**
 * Write one JSON object (and a newline) describing the packet: class, outer and inner headers,
 * UDP encapsulation, HAO and RH2, ESP SPI, the Mobility Header with its options, or the decode
 * error with the Home Agent's action. ethernet: data starts with an Ethernet header, else at IP.
 * @return the decode error (HA_OK when the packet decoded cleanly).
 */
enum ha_err ha_decode_json(struct ha_json *j, uint64_t frame_no, const uint8_t *data, size_t len,
			   bool ethernet);

#endif
