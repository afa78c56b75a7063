#include "ha_errors.h"

static const char *const err_names[HA_ERR__COUNT] = {
#define X(e, name, act, code) [e] = name,
#include "ha_errors.def"
#undef X
};

static const struct ha_err_disposition err_disp[HA_ERR__COUNT] = {
#define X(e, name, act, code) [e] = { act, code },
#include "ha_errors.def"
#undef X
};

const char *ha_err_name(enum ha_err e)
{
	return (unsigned)e < HA_ERR__COUNT ? err_names[e] : "invalid-error";
}

struct ha_err_disposition ha_err_disposition(enum ha_err e)
{
	if ((unsigned)e >= HA_ERR__COUNT)
		return (struct ha_err_disposition){ HA_ACT_DROP, 0 };
	return err_disp[e];
}

const char *ha_action_name(enum ha_action a)
{
	switch (a) {
	case HA_ACT_NONE: return "none";
	case HA_ACT_DROP: return "drop";
	case HA_ACT_ICMP_PARAM: return "icmp-parameter-problem";
	case HA_ACT_BE: return "binding-error";
	case HA_ACT_BA: return "binding-ack";
	}
	return "invalid-action";
}
