/*
 * hactl config reload: hacpd reads its configuration file again (the path it was started with)
 * with the loader every process uses, compares it with the running one (shared/ha_config_diff.c)
 * and, only when every change can be made at run time and hacpd's state allows each (a PDN
 * removed has no binding and no IKE session, a static binding's prefix is no UE's, a static
 * SA's SPI is no IKE SA's, hadp's command ring has room for all), applies them: hacpd's own
 * (PDNs and their pools, policy values read at each use, the detach guard) at once, hadp's
 * (static bindings as generation 0, static SAs, routes) as commands whose answers end the
 * operator's request. Decided before anything is applied: all or nothing.
 * Owner: hacpd's main thread (called from the operator commands, cp_cli.c).
 */
#ifndef CP_RELOAD_H
#define CP_RELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cp_bu.h"
#include "cp_ike.h"
#include "cp_ike_guard.h"
#include "ha_config.h"
#include "ha_ring.h"

struct cp_reload {
	struct ha_config *cfg;       /* the running configuration: changed in place, so that every
	                                holder of a pointer to it sees the new values */
	const char *path;            /* the file hacpd was started with */
	struct cp_ctx *cp;
	struct cp_ike *ike;          /* NULL without IKE */
	struct cp_ike_guard *guard;  /* NULL without IKE */
	/* a command onto hadp's ring as it is (generation included): 0 (c->seq set) or -errno */
	int (*send)(void *arg, struct ha_cmd *c);
	unsigned (*room)(void *arg); /* commands the ring takes now */
	void *arg;
	uint64_t applied, refused;   /* config-reloads, config-reloads-refused */
	/* the commands of the last reload hadp has not answered yet */
	bool waiting;
	uint32_t first_seq;
	unsigned n_cmds, n_acked, failed;
	char (*what)[112];           /* each command, for the answer when hadp refuses it */
	char failures[4][176];       /* the first hadp refused */
};

/** `config reload`: data lines ("+ ") for each change; @return 0 done ("= 0 ok" to add), -1
 *  done with the final line written, 1 hadp's answers awaited (*last_seq: the last command's;
 *  the end comes from cp_reload_finish). */
int cp_reload_run(struct cp_reload *r, FILE *out, uint32_t *last_seq);
/** hadp's answer to a command: true when it is one of the reload's (*done: the last one). */
bool cp_reload_ack(struct cp_reload *r, uint32_t seq, int result, bool *done);
/** The end of the answer once hadp has answered them all, or not in time (timed_out); out
 *  NULL: the operator went away, the reload is over all the same. */
void cp_reload_finish(struct cp_reload *r, bool timed_out, FILE *out);

#endif
