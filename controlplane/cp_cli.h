/*
 * hacpd's operator socket (hactl is its client). One request line per connection, answered by
 * data lines and one final status line:
 *
 *     "+ " TEXT          a line of output (as many as the answer needs, streamed)
 *     "= " CODE " " TEXT the end: CODE is hactl's exit status (0 ok, 1 not found / refused,
 *                        2 bad request), TEXT a message for people
 *
 * The commands are one table (cp_cli.c) with their help; hactl only forwards and prints.
 * Owner: hacpd's main thread, polled between bursts of signalling.
 */
#ifndef CP_CLI_H
#define CP_CLI_H

#include <stdio.h>

#include "cp_bu.h"
#include "cp_ike.h"
#include "ha_ring.h"

struct cp_cli {
	int listen_fd;
	const char *path;
	struct cp_ctx *cp;
	const struct cp_ike *ike;  /* IKEv2 sessions, for NAIs (NULL without IKE) */
	const char *config_path;
	uint64_t (*now)(void);
	/* network-initiated detach, run by hacpd (it owns the rings): 0 or -errno */
	int (*detach)(void *arg, const struct in6_addr *hoa);
	void *detach_arg;
	/* a core-side route in hadp, added (replacing one to the same prefix) or deleted, run by
	 * hacpd: hadp's answer, 0 or -errno (-ETIMEDOUT: none) */
	int (*route)(void *arg, const struct ha_route_spec *spec, bool add);
	void *route_arg;
	uint64_t requests, errors;
};

/** Create the socket at cfg->cli.socket with its mode and group. 0 or -errno. */
int cp_cli_open(struct cp_cli *cli, struct cp_ctx *cp, const char *config_path,
		uint64_t (*now)(void));
/** Serve the connections waiting (non-blocking accept). @return requests served. */
unsigned cp_cli_poll(struct cp_cli *cli);
void cp_cli_close(struct cp_cli *cli);

/** Run one request line and write the answer (exposed for tests). @return the exit code. */
int cp_cli_execute(struct cp_cli *cli, const char *line, FILE *out);

#endif
