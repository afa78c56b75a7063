/*
 * hacpd's log: one line per event an operator acts on (a binding registered, moved, expired or
 * revoked, hadp gone, an IKE session up or down, a configuration error), to syslog (LOG_DAEMON,
 * ident "hacpd", which journald takes) and to stderr, never on a per-packet path.
 *
 * Each kind of line has its own budget of logging.rate_per_second lines a second; what goes
 * over is counted and told once, a second later, as "suppressed N KIND lines". So a storm of
 * 100,000 BUs a second writes at most that many "registered" lines and one "suppressed" line a
 * second. Owner: hacpd's main thread (no locking).
 */
#ifndef CP_LOG_H
#define CP_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "ha_config.h"

/* The kinds of line, each rate-limited on its own. */
#define CP_LOG_KINDS(X) \
	X(CP_LOG_REGISTERED, "registered") \
	X(CP_LOG_MOVED,      "moved") \
	X(CP_LOG_REFRESHED,  "refreshed") \
	X(CP_LOG_DEREG,      "deregistered") \
	X(CP_LOG_REVOKE,     "revocation") \
	X(CP_LOG_EXPIRED,    "expired") \
	X(CP_LOG_HADP,       "hadp") \
	X(CP_LOG_IKE,        "ike-session") \
	X(CP_LOG_CONFIG,     "config") \
	X(CP_LOG_OTHER,      "other")

enum cp_log_kind {
#define X(e, n) e,
	CP_LOG_KINDS(X)
#undef X
	CP_LOG__COUNT
};

/** Take the level, syslog and rate from the configuration (NULL: the defaults, info, syslog
 *  on, 20 a second, as before a configuration is read). */
void cp_log_open(const struct ha_config *cfg);
/** One line at priority prio (LOG_ERR .. LOG_DEBUG) if the level lets it through and its
 *  kind's budget for this second is not spent. */
void cp_log(enum cp_log_kind kind, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Once a second or more often: tells what was suppressed in seconds gone by. */
void cp_log_tick(void);
/** Lines suppressed so far, all kinds. */
uint64_t cp_log_suppressed(void);
/** A line of this kind at prio may be written now: the level lets it through and the budget
 *  of its kind had room (now spent), else it is counted as suppressed. Then cp_log_write. For
 *  callers that would spend time making a line that is not written. */
bool cp_log_take(enum cp_log_kind kind, int prio);
void cp_log_write(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
