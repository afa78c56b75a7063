/*
 * hacpd's state files, all in the appliance's state directory (shared/ha_state_file.h): the
 * binding cache's records (cp_bcache.h), the UEs' IKE sessions (cp_ike.h, with IKE on) and what
 * a new hadp must be told again (cp_replay.h). Opened together, before hacpd attaches to hadp,
 * so that a file this build cannot read stops it at once with the reason.
 */
#ifndef CP_STATE_H
#define CP_STATE_H

#include <stddef.h>

#include "cp_replay.h"
#include "ha_config.h"
#include "ha_state_file.h"

struct cp_state {
	struct ha_state_file bindings; /* struct cp_binding records */
	struct ha_state_file ike;      /* struct cp_ike_session records (fd -1 without IKE) */
	struct cp_replay replay;
};

/** 0, or -errno with err a line for the log (nothing left open). */
int cp_state_open(struct cp_state *st, const struct ha_config *cfg, char *err, size_t errlen);
void cp_state_close(struct cp_state *st);

#endif
