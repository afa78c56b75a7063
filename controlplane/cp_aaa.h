/*
 * hacpd's S6b notices waiting for charon's plugin (docs/aaa.md): the AAA_ENDs of sessions that
 * are over (shared/ha_ike_msg.h), in the order they ended. The plugin sends each as a
 * Session-Termination-Request; while it is not connected they wait here, at most
 * CP_AAA_ENDS_MAX (the rest is lost and counted), and go after its next accepted HELLO. In
 * hacpd's memory only: a hacpd restarted meanwhile loses what waited. Owner: hacpd's main thread.
 */
#ifndef CP_AAA_H
#define CP_AAA_H

#include <stdbool.h>
#include <stdint.h>

#include "ha_ike_msg.h"

#define CP_AAA_ENDS_MAX 4096

struct cp_aaa_ends {
	struct ha_ike_aaa_end *ring; /* CP_AAA_ENDS_MAX, allocated at the first end (S6b only) */
	uint32_t head, n;
};

/** One more end, as a ready AAA_END notice. @return false when there is no room (full, or no
 *  memory): the caller counts it lost. */
bool cp_aaa_ends_push(struct cp_aaa_ends *q, const char *session_id, uint32_t cause);
/** The oldest waiting, or NULL. */
const struct ha_ike_aaa_end *cp_aaa_ends_peek(const struct cp_aaa_ends *q);
/** The oldest has gone to the plugin. */
void cp_aaa_ends_pop(struct cp_aaa_ends *q);
void cp_aaa_ends_free(struct cp_aaa_ends *q);

#endif
