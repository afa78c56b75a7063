/*
 * The stand-in's side of S6b (3GPP TS 29.273 9.2.2, for DSMIPv6): the DER/DEA rounds of
 * EAP-AKA (RFC 4187) with the authorisation of the subscriber's profile, STR/STA, AAR/AAA, and
 * the server-initiated ASR and RAR the control socket orders.
 */
#ifndef AAA_S6B_H
#define AAA_S6B_H

#include <stddef.h>

#include "aka_subscribers.h"
#include "aaa_profiles.h"

/* Register the handlers of DER, STR and AAR on S6b (after aaa_dict_init). */
int aaa_s6b_start(struct aka_subscribers *subs, const struct aaa_profiles *profiles);

/* Send an ASR (abort = 1) or a RAR for the session whose Session-Id or NAI is key, wait for
 * its answer (bounded) and write a one-line reply: "ok SESSION-ID RESULT-CODE", or
 * "error ...". */
void aaa_s6b_order(int abort, const char *key, char *reply, size_t sz);

#endif
