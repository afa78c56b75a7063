/*
 * Which of hadp's ports leads to an IKE peer. charon's messages carry addresses, not ports;
 * hacpd sends each out of the port its peer was last seen on: the port its last IKE message came
 * in on, or the port of the BU that moved its IKE SA there (RFC 4877 4.4). A UE away from home
 * is on the access port; a UE at home (001 5.2.3.3: 3GPP access, the home link) is behind the
 * core port, where its de-registration BU and its IKE arrive. A peer never seen goes out of the
 * access port (where every UE starts: 5.1.2.2).
 *
 * A fixed table indexed by a hash of the address (CP_IKE_PATH_SLOTS): a collision forgets the
 * older peer, which then goes out of the access port until it speaks again. Owner: hacpd's main
 * thread.
 */
#ifndef CP_IKE_PATH_H
#define CP_IKE_PATH_H

#include <stdbool.h>
#include <stdint.h>

#define CP_IKE_PATH_SLOTS 4096

struct cp_ike_path {
	struct {
		uint8_t family;     /* 0: empty */
		uint8_t pad;
		uint16_t port;
		uint8_t addr[16];
	} slot[CP_IKE_PATH_SLOTS];
	uint16_t default_port;      /* the access port */
};

/** Remember that addr (AF_INET: 4 octets, AF_INET6: 16) is reached through port. */
void cp_ike_path_learn(struct cp_ike_path *t, uint8_t family, const uint8_t *addr, uint16_t port);
/** The port that leads to addr: the one learnt, else default_port. */
uint16_t cp_ike_path_port(const struct cp_ike_path *t, uint8_t family, const uint8_t *addr);

#endif
