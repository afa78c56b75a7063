/*
 * Which of hadp's ports leads to an IKE peer. charon's messages carry addresses, not ports;
 * hacpd sends each out of the port its peer was last seen on: the port its last IKE message came
 * in on, or the port of the BU that moved its IKE SA there (RFC 4877 4.4). A UE away from home
 * is on the access port (default_port, where every UE starts: 5.1.2.2); a UE at home (001
 * 5.2.3.3: 3GPP access, the home link) is behind the core port, where its de-registration BU and
 * its IKE arrive.
 *
 * Only the exceptions are kept: a hash of the peers last seen on another port than the default
 * one, each removed when it is seen on the default port again, at most CP_IKE_PATH_MAX of them
 * (one more is not remembered and is counted; it goes out of the default port until then). A
 * UE at home is never forgotten for another one (a fixed table of 4,096 slots used to drop the
 * older of two colliding peers, sending the HA's DPD for a UE at home out of the access port).
 * Owner: hacpd's main thread.
 */
#ifndef CP_IKE_PATH_H
#define CP_IKE_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "uthash.h"

#define CP_IKE_PATH_MAX (1u << 20)

struct cp_ike_path_entry {
	uint8_t key[17];            /* family, then the address (4 or 16 octets, zero-padded) */
	uint16_t port;
	UT_hash_handle hh;
};

struct cp_ike_path {
	struct cp_ike_path_entry *by_addr;
	uint32_t count;
	uint16_t default_port;      /* the access port */
	uint64_t full;              /* exceptions not remembered: CP_IKE_PATH_MAX reached */
};

/** Remember that addr (AF_INET: 4 octets, AF_INET6: 16) is reached through port. */
void cp_ike_path_learn(struct cp_ike_path *t, uint8_t family, const uint8_t *addr, uint16_t port);
/** The port that leads to addr: the one learnt, else default_port. */
uint16_t cp_ike_path_port(const struct cp_ike_path *t, uint8_t family, const uint8_t *addr);
void cp_ike_path_free(struct cp_ike_path *t);

#endif
