/*
 * Decode errors and what the Home Agent does about each one. The list is ha_errors.def: the enum,
 * the name (counters, ha-decode, logs) and the action all come from that one file.
 */
#ifndef HA_ERRORS_H
#define HA_ERRORS_H

#include <stdint.h>

enum ha_err {
#define X(e, name, act, code) e,
#include "ha_errors.def"
#undef X
	HA_ERR__COUNT
};

enum ha_action {
	HA_ACT_NONE,       /* not an error */
	HA_ACT_DROP,       /* silently discard, count */
	HA_ACT_ICMP_PARAM, /* discard, ICMPv6 Parameter Problem code 0 at the error offset */
	HA_ACT_BE,         /* send a Binding Error with the code as status */
	HA_ACT_BA,         /* answer with a Binding Acknowledgement with the code as status */
};

struct ha_err_disposition {
	enum ha_action action;
	uint8_t code; /* BE or BA status */
};

const char *ha_err_name(enum ha_err e);
const char *ha_action_name(enum ha_action a);
struct ha_err_disposition ha_err_disposition(enum ha_err e);

#endif
