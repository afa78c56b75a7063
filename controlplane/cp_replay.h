/*
 * What hacpd has told hadp besides the bindings, kept so that a new hadp (after a crash or an
 * upgrade) can be told again: the SAs charon negotiated (their keys included: charon gave them
 * once and keeps none hadp could ask for) and the operator's runtime routes (hactl route). The
 * binding cache is the other half (cp_bcache.h). Both live in state files that outlive hacpd
 * and hadp (shared/ha_state_file.h; docs/restarts.md).
 *
 * Every SA and route command hacpd sends passes through cp_replay_note(), which keeps the file
 * in step; cp_replay_next() walks what a new hadp must get. Owner: hacpd's main thread.
 */
#ifndef CP_REPLAY_H
#define CP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "ha_ring.h"
#include "ha_state_file.h"

#define CP_REPLAY_VERSION 1

struct cp_replay_sa {
	uint8_t in_use;
	uint8_t reserved[3];
	uint32_t pad;
	struct ha_sa_spec spec;
	UT_hash_handle hh;           /* by (spi, direction); process-local */
};

struct cp_replay_route {
	uint8_t in_use;
	uint8_t reserved[3];
	uint32_t pending_seq;        /* the add's command, until hadp acknowledged it */
	struct ha_route_spec spec;
};

struct cp_replay {
	struct ha_state_file sa_file, route_file;
	struct cp_replay_sa *sas, *by_key;
	struct cp_replay_route *routes;
	uint32_t n_sas, n_routes;     /* capacities */
	uint32_t sa_count, route_count;
	uint32_t routes_pending;      /* adds not yet acknowledged */
	uint64_t sa_full, route_full; /* not kept: no slot (counted; a new hadp will lack them) */
};

/** Open (adopting) DIR/sas for max_sas SAs and DIR/routes for max_routes routes. 0 or -errno,
 *  err a line for the log. */
int cp_replay_open(struct cp_replay *r, const char *dir, uint32_t max_sas, uint32_t max_routes,
		   char *err, size_t errlen);
void cp_replay_close(struct cp_replay *r);

/** A command on its way to hadp: SA add, delete, encap; route add, delete. false: an add
 *  with no slot left (counted in sa_full / route_full): a new hadp will lack it. */
bool cp_replay_note(struct cp_replay *r, const struct ha_cmd *c);
/** hadp's ack of a command with that seq: a route it refused is forgotten. */
void cp_replay_ack(struct cp_replay *r, uint32_t seq, int32_t result);

/** The commands a new hadp needs, one a call from *cursor (start at 0): SAs, then routes.
 *  false when there are no more. c's version, seq and generation are the caller's. */
bool cp_replay_next(const struct cp_replay *r, uint32_t *cursor, struct ha_cmd *c);

#endif
