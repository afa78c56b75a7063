/*
 * The stand-in's S6b sessions by Session-Id: the EAP-AKA state of an authentication under way,
 * the keys of a done one, and the HA (Origin-Host/Realm of its DER) that holds it, where ASR
 * and RAR go. One lock (aaa_sessions_lock) guards the table and every session in it:
 * freeDiameter's dispatch threads and the control thread take it.
 */
#ifndef AAA_SESSIONS_H
#define AAA_SESSIONS_H

#include <pthread.h>
#include <stdbool.h>

#include "aaa_eap_aka.h"

enum aaa_sess_state { AAA_S_CHALLENGED, AAA_S_AUTHENTICATED };

struct aaa_session {
	char sid[256];
	char nai[256];               /* User-Name */
	char identity[256];          /* the EAP identity: the subscriber, and MK's Identity */
	char apn[104];               /* Service-Selection */
	char ha_host[256], ha_realm[256];
	enum aaa_sess_state state;
	uint8_t eap_id;              /* of the outstanding EAP-Request */
	uint8_t rand[AKA_RAND_LEN];
	struct aka_vector v;
	struct eap_aka_keys keys;
	unsigned resyncs;
	unsigned long seq;           /* creation order: "asr NAI" takes the newest */
};

extern pthread_mutex_t aaa_sessions_lock;

/* All under aaa_sessions_lock. */
struct aaa_session *aaa_session_get(const char *sid);
struct aaa_session *aaa_session_add(const char *sid);   /* NULL when the table is full */
void aaa_session_del(struct aaa_session *s);
/* The newest authenticated session of nai, or the session whose Session-Id is key. */
struct aaa_session *aaa_session_find(const char *key);
/* Each session: fn(s, arg). */
void aaa_session_each(void (*fn)(const struct aaa_session *, void *), void *arg);

/* Subscribers whose next AA-Request is refused (the control's refuse-reauth). */
void aaa_refuse_reauth(const char *nai, bool refuse);
bool aaa_reauth_refused(const char *nai);

#endif
