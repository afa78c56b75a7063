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

struct cp_reload;

/* Limits of the operator socket (cp_cli_io.c): no operator's tool can hold up signalling. */
#define CP_CLI_MAX_CONNS     32       /* connections at once; more are told "busy" */
#define CP_CLI_REQUEST_MAX   1024     /* a request line, newline included */
#define CP_CLI_REQUEST_MS    2000     /* the request line must have come by then */
#define CP_CLI_STALL_MS      30000    /* an answer nobody reads for this long is dropped */
#define CP_CLI_OUT_HIGH      65536    /* a listing goes on only while less waits to be sent */
#define CP_CLI_SLICE_ROWS    256      /* rows of a listing made per connection per turn */
#define CP_CLI_BUSY_EVERY    8        /* while signalling waits in the punt ring: a slice only
                                         every this many turns (docs/performance.md) */
#define CP_CLI_ROUTE_MS      10000    /* how long a route command waits for hadp's answer */
#define CP_CLI_RELOAD_MS     60000    /* and a reload for all of its (routes rebuild tables) */
#define CP_CLI_MAX_MONITORS  4        /* hactl monitor connections at once (of the above) */
#define CP_CLI_MONITOR_QUEUE 262144   /* octets of events queued per monitor (about 1,000);
                                         beyond, events are dropped and counted */

/* What a request still has to do after its first octets of answer: a listing to go on with,
 * slice by slice, or hadp's answer to wait for. */
enum cp_cli_state { CP_CLI_DONE, CP_CLI_MORE, CP_CLI_WAIT, CP_CLI_MONITOR };
enum cp_cli_listing { CP_CLI_LIST_NONE, CP_CLI_LIST_BINDINGS, CP_CLI_LIST_IKE };

struct cp_cli_job {
	enum cp_cli_listing listing;
	uint32_t cursor;           /* the next slot of the table listed */
	bool json;
	uint32_t wait_seq;         /* a route command: the cmd ring sequence number; a reload: its
	                              last command's */
	bool reload;               /* config reload: its end is cp_reload_finish's */
	char what[16];             /* "route add" / "route delete" */
	char done_line[160];       /* the data line when hadp says yes */
};

/* One operator connection (cp_cli_io.c). */
struct cp_cli_conn {
	int fd;                    /* -1: the slot is free */
	char req[CP_CLI_REQUEST_MAX];
	size_t req_n;
	bool ran;                  /* the request line came and ran */
	enum cp_cli_state state;
	struct cp_cli_job job;
	char *out;                 /* the answer waiting to be sent: out[out_off, out_len) */
	size_t out_len, out_off, out_cap;
	uint64_t deadline_ms;      /* request, hadp's answer, or the reader's progress */
	uint64_t mon_dropped;      /* a monitor: events dropped since its last queued line */
};

struct cp_cli {
	int listen_fd;
	bool signalling_waits;     /* set by hacpd's loop each turn: more BUs wait than it took */
	unsigned busy_turns;
	const char *path;
	struct cp_ctx *cp;
	const struct cp_ike *ike;  /* IKEv2 sessions, for NAIs (NULL without IKE) */
	const char *config_path;
	uint64_t (*now)(void);     /* seconds */
	uint64_t (*now_ms)(void);
	/* network-initiated detach, run by hacpd (it owns the rings): 0 or -errno */
	int (*detach)(void *arg, const struct in6_addr *hoa);
	void *detach_arg;
	/* a core-side route in hadp, added (replacing one to the same prefix) or deleted: the
	 * command goes on hadp's ring (0, its sequence number in *seq, or -errno); hadp's answer
	 * comes back through cp_cli_ack */
	int (*route)(void *arg, const struct ha_route_spec *spec, bool add, uint32_t *seq);
	void *route_arg;
	struct cp_reload *reload;  /* config reload (NULL: not offered) */
	struct cp_cli_conn conns[CP_CLI_MAX_CONNS];
	unsigned n_conns;
	uint64_t requests, errors;
	uint64_t refused_busy, timed_out, dropped_stalled; /* connections the limits ended */
	unsigned n_monitors;       /* connections in CP_CLI_MONITOR */
	uint64_t mon_events, mon_dropped, mon_refused; /* event lines queued, dropped; monitors
	                                                  refused (CP_CLI_MAX_MONITORS) */
};

/** Create the socket at cfg->cli.socket with its mode and group. 0 or -errno. */
int cp_cli_open(struct cp_cli *cli, struct cp_ctx *cp, const char *config_path,
		uint64_t (*now)(void), uint64_t (*now_ms)(void));
/** One turn: accept, read requests, make a slice of each long answer, send what the readers
 *  take; never blocks. @return connections that made progress. */
unsigned cp_cli_poll(struct cp_cli *cli);
/** hadp's answer to a command of sequence number seq: true when it was a route command's. */
bool cp_cli_ack(struct cp_cli *cli, uint32_t seq, int result);
void cp_cli_close(struct cp_cli *cli);
/** An event line (one JSON object, no newline) to every monitor, queued up to
 *  CP_CLI_MONITOR_QUEUE octets each; a monitor whose queue is full loses it (counted, and told
 *  in a "dropped" line once it has room again). Never blocks. */
void cp_cli_monitor_push(struct cp_cli *cli, const char *json, size_t len);

/** A data line of an answer ("+ " TEXT). */
void cp_cli_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3), nonnull(1, 2)));

/* Between the commands (cp_cli.c) and the connections (cp_cli_io.c). */
/** Run one request line, its answer (or the beginning of it) to out. */
enum cp_cli_state cp_cli_run(struct cp_cli *cli, const char *line, FILE *out,
			     struct cp_cli_job *job);
/** Up to max rows more of a listing; its final line when it is over. @return true then. */
bool cp_cli_list_step(struct cp_cli *cli, struct cp_cli_job *job, FILE *out, unsigned max);
/** The end of a route command's or a reload's answer: hadp's result (0 or -errno; -ETIMEDOUT:
 *  none in time). */
void cp_cli_route_done(struct cp_cli *cli, const struct cp_cli_job *job, int result, FILE *out);

#endif
