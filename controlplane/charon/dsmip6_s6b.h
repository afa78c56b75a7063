/*
 * The plugin's Diameter client on S6b (docs/aaa.md): freeDiameter started inside charon from
 * the configuration charon_conf.py writes (plugins.dsmip6.s6b), the AAA peers preferred by
 * priority, requests that a charon thread waits for (bounded), and the AAA's own requests:
 * Abort-Session (the network-initiated detach, carried out by hacpd), Re-Auth (an AA-Request
 * again), and the Session-Termination-Request when hacpd ends a session (AAA_END).
 *
 * freeDiameter's threads only hand work over: its callbacks queue charon jobs, which talk to
 * hacpd (dsmip6_hacpd_t serialises them) and answer the AAA.
 */
#ifndef DSMIP6_S6B_H_
#define DSMIP6_S6B_H_

#include <library.h>

#include "s6b_msg.h"

typedef struct dsmip6_s6b_t dsmip6_s6b_t;

/* The outcome of a DER or AAR, as the EAP relay and the log see it. */
enum dsmip6_s6b_outcome {
	DSMIP6_S6B_ANSWERED,    /* an answer: its result is in the s6b_answer */
	DSMIP6_S6B_TIMEOUT,     /* no answer within request_timeout_ms */
	DSMIP6_S6B_UNAVAILABLE, /* no AAA peer to send it to (none open), or it could not go */
	DSMIP6_S6B_BAD_ANSWER,  /* an answer the HA cannot use (malformed AVPs) */
};

struct dsmip6_s6b_t {
	/** Send a DER (r->eap set) or AAR and wait for the answer into *a. When r->sid is NULL a
	 *  new session is made, its Session-Id returned in a->sid. apn chooses the
	 *  APN-Configuration read from the answer. */
	enum dsmip6_s6b_outcome (*exchange)(dsmip6_s6b_t *this, bool der, const struct s6b_request *r,
					    struct s6b_answer *a);
	/** Fill in what a request of this HA carries: realm, the HA's addresses. */
	void (*prepare)(dsmip6_s6b_t *this, struct s6b_request *r);
	/** The APN a UE asked for, as Service-Selection: the connection's local identity (one per
	 *  PDN, its APN), or the first PDN's APN for the connection under ike.local_id. */
	const char *(*service_selection)(dsmip6_s6b_t *this, const char *local_id);
	/** A successful DEA for the IKE SA: its session (Session-Id, the NAI and APN, the AAA that
	 *  answered) and authorisation, for PREFIX_REQ (take_auth) and the AAA's later requests. */
	void (*authorised)(dsmip6_s6b_t *this, uint32_t ike_sa, const char *nai, const char *apn,
			   const struct s6b_answer *a);
	/** The Session-Id and authorisation of the IKE SA's successful DEA; FALSE if none. */
	bool (*take_auth)(dsmip6_s6b_t *this, uint32_t ike_sa, char sid[HA_IKE_SID_MAX],
			  struct s6b_auth *auth);
	/** End a session hacpd never took (its attach failed after the DEA): the STR, from a job. */
	void (*end)(dsmip6_s6b_t *this, const char *sid, uint32_t cause);
	/** Count an outcome in hacpd (AAA_EVENT); never blocks on the AAA. */
	void (*event)(dsmip6_s6b_t *this, enum ha_ike_aaa_event ev);
	void (*destroy)(dsmip6_s6b_t *this);
};

/** Started from plugins.dsmip6.s6b.conf; NULL when it is not set (ike.aaa is not s6b) or
 *  freeDiameter did not start (logged). */
dsmip6_s6b_t *dsmip6_s6b_create(void);

/** The plugin's client (dsmip6_plugin.c), NULL without S6b. */
extern dsmip6_s6b_t *dsmip6_s6b;

#endif
