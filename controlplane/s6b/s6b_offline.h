/*
 * freeDiameter's dictionaries without a Diameter node: libfdcore initialised and the S6b
 * dictionaries loaded, nothing started (no socket, no peer). For the tools and tests that build
 * or read S6b messages offline: the unit test, the tshark cross-check's generator, the fuzz
 * harness.
 */
#ifndef S6B_OFFLINE_H
#define S6B_OFFLINE_H

#include "s6b_msg.h"

/* The dictionary extensions S6b needs, in the order their dependencies require. */
#define S6B_DICT_EXTENSIONS \
	"dict_nasreq.fdx", "dict_eap.fdx", "dict_rfc5777.fdx", "dict_mip6i.fdx", "dict_dcca.fdx", \
	"dict_dcca_3gpp.fdx"

/** Initialise libfdcore as Diameter identity `identity` (realm: what follows its first dot)
 *  with the S6b dictionaries, and look the objects up into *d. Once per process.
 *  0 or -errno (a message on stderr says what failed). */
int s6b_offline_init(const char *identity, struct s6b_dict *d);

#endif
