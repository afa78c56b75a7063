#include <string.h>

#include "cp_bcache.h"
#include "cp_ike.h"
#include "cp_state.h"

int cp_state_open(struct cp_state *st, const struct ha_config *cfg, char *err, size_t errlen)
{
	char dir[300];
	int rc;

	memset(st, 0, sizeof(*st));
	st->bindings.fd = st->ike.fd = -1;
	ha_state_dir(cfg, dir, sizeof(dir));
	rc = ha_state_open(&st->bindings, dir, "bindings", "bindings", CP_BCACHE_VERSION,
			   sizeof(struct cp_binding), cfg->dataplane.max_bindings, err, errlen);
	if (rc == 0 && cfg->ike.enabled)
		rc = ha_state_open(&st->ike, dir, "ike_sessions", "ike-sessions",
				   CP_IKE_SESSION_VERSION, sizeof(struct cp_ike_session),
				   cfg->ike.max_sessions, err, errlen);
	if (rc == 0)
		rc = cp_replay_open(&st->replay, dir, cfg->dataplane.max_sas,
				    cfg->dataplane.max_routes, err, errlen);
	if (rc < 0) {
		ha_state_close(&st->ike);
		ha_state_close(&st->bindings);
	}
	return rc;
}

void cp_state_close(struct cp_state *st)
{
	cp_replay_close(&st->replay);
	ha_state_close(&st->ike);
	ha_state_close(&st->bindings);
}
