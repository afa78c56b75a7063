#include "ha_ring.h"

const char *ha_punt_reason_name(unsigned reason)
{
	static const char *const names[] = {
#define X(e, n) [e] = n,
		HA_PUNT_REASONS(X)
#undef X
	};
	return reason < HA_PUNT__COUNT ? names[reason] : "invalid";
}

const char *ha_cmd_name(unsigned type)
{
	static const char *const names[HA_CMD__COUNT] = {
		[HA_CMD__NONE] = "none",
#define X(e, n) [e] = n,
		HA_CMDS(X)
#undef X
	};
	return type < HA_CMD__COUNT ? names[type] : "invalid";
}
