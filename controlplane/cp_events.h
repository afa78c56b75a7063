/*
 * Binding events for the operator: what happened to a UE's binding (registered, moved,
 * refreshed, de-registered, revocation started, revoked, revocation unanswered, expired), with
 * the reason, the time, the home address and prefix, the IPv4 home address, the NAI (from the
 * UE's IKEv2 session) and the care-of address. Each event goes, as one JSON object, to every
 * `hactl monitor` connection (cp_cli_monitor_push: bounded queues, never blocking) and, as one
 * line, to the log (cp_log.h: rate-limited per kind; refreshes only at level debug).
 *
 * The events come from the procedures' outcomes: a BU's from cp_bu_out (cp_events_bu, called
 * by hacpd after cp_bu_process), the rest from cp_ctx.binding_event, which cp_events_open sets.
 * Owner: hacpd's main thread.
 */
#ifndef CP_EVENTS_H
#define CP_EVENTS_H

#include <time.h>

#include "cp_bu.h"
#include "cp_cli.h"
#include "cp_ike.h"

struct cp_event {
	enum cp_bev type;
	struct timespec when;          /* CLOCK_REALTIME */
	struct in6_addr hoa;
	uint8_t prefix[16];
	uint8_t prefix_len;
	int pdn;                       /* -1: none */
	bool has_hoa4;
	struct in_addr hoa4;
	struct ha_cfg_addr coa;
	uint16_t udp_port;             /* 0: not in UDP */
	bool has_prev;                 /* moved: the care-of address before */
	struct ha_cfg_addr prev_coa;
	uint16_t prev_port;
	uint32_t lifetime;             /* granted, seconds (0 once the binding is gone) */
	uint16_t seq;
};

struct cp_events {
	const struct ha_config *cfg;
	struct cp_cli *cli;            /* the monitors */
	const struct cp_ike *ike;      /* for NAIs; NULL without IKE */
	uint64_t emitted;
};

/** Start telling cp's binding events to cli's monitors and the log. */
void cp_events_open(struct cp_events *ev, struct cp_ctx *cp, struct cp_cli *cli,
		    const struct cp_ike *ike);
/** A BU's outcome (cp_bu_process's out), if it changed a binding. */
void cp_events_bu(struct cp_ctx *cp, const struct cp_bu_out *out);
/** One event to the monitors and the log. */
void cp_event_emit(struct cp_events *ev, const struct cp_event *e);
/** The event as one JSON object (no newline) into buf. @return its length, 0 if too long. */
size_t cp_event_json(const struct cp_events *ev, const struct cp_event *e, char *buf, size_t n);

#endif
