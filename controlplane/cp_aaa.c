#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp_aaa.h"

bool cp_aaa_ends_push(struct cp_aaa_ends *q, const char *session_id, uint32_t cause)
{
	if (!q->ring && !(q->ring = calloc(CP_AAA_ENDS_MAX, sizeof(*q->ring))))
		return false;
	if (q->n == CP_AAA_ENDS_MAX)
		return false;
	struct ha_ike_aaa_end *m = &q->ring[(q->head + q->n++) % CP_AAA_ENDS_MAX];
	memset(m, 0, sizeof(*m));
	m->h = (struct ha_ike_hdr){ .version = HA_IKE_VERSION, .type = HA_IKE_AAA_END,
				    .len = sizeof(*m) };
	m->cause = cause;
	snprintf(m->aaa_session, sizeof(m->aaa_session), "%s", session_id);
	return true;
}

const struct ha_ike_aaa_end *cp_aaa_ends_peek(const struct cp_aaa_ends *q)
{
	return q->n ? &q->ring[q->head] : NULL;
}

void cp_aaa_ends_pop(struct cp_aaa_ends *q)
{
	if (!q->n)
		return;
	q->head = (q->head + 1) % CP_AAA_ENDS_MAX;
	q->n--;
}

void cp_aaa_ends_free(struct cp_aaa_ends *q)
{
	free(q->ring);
	*q = (struct cp_aaa_ends){ 0 };
}
