#include "s6b_msg.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include <freeDiameter/libfdcore.h>

#include <daemon.h>
#include <collections/hashtable.h>
#include <processing/jobs/callback_job.h>
#include <threading/condvar.h>
#include <threading/mutex.h>

#include "dsmip6_hacpd.h"
#include "dsmip6_s6b.h"

#define S6B_MAX_PEERS 8

dsmip6_s6b_t *dsmip6_s6b;

typedef struct private_dsmip6_s6b_t private_dsmip6_s6b_t;

/* A configured AAA peer and the routing score its priority earns (prefer()). */
typedef struct {
	char *identity;
	int priority;
	int bonus;
} peer_t;

/* A session with the AAA that a successful DEA opened, for the AAA's later requests (RAR
 * needs the NAI and APN for its AA-Request) and for the STR's Destination-Host. */
typedef struct {
	char *sid;
	char nai[HA_IKE_NAI_MAX];
	char apn[HA_IKE_APN_MAX];
	char host[256];
} session_t;

/* What an IKE SA's DEA authorised, until its PREFIX_REQ takes it. */
typedef struct {
	uint32_t ike_sa;
	char sid[HA_IKE_SID_MAX];
	struct s6b_auth auth;
} auth_t;

struct private_dsmip6_s6b_t {
	dsmip6_s6b_t public;
	struct s6b_dict d;
	char *realm;                    /* Destination-Realm */
	char *local_id, *default_apn;
	bool has_ha6, has_ha4;
	uint8_t ha6[16], ha4[4];
	u_int timeout_ms;
	peer_t peers[S6B_MAX_PEERS];
	unsigned n_peers;
	unsigned turn;                  /* rotates among equally preferred peers */
	mutex_t *lock;                  /* the tables below and turn */
	hashtable_t *sessions;          /* Session-Id -> session_t */
	hashtable_t *auths;             /* IKE SA unique id -> auth_t */
	struct disp_hdl *asr_hdl, *rar_hdl;
	struct fd_rt_out_hdl *rt_hdl;
};

/* ---- freeDiameter's log into charon's ---- */

static void log_to_charon(int level, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level < FD_LOG_NOTICE) {
		DBG3(DBG_CFG, "s6b: freeDiameter: %s", buf);
		return;
	}
	/* a message dump (a late answer discarded, ...) on one line; the dump at level 3 */
	char *nl = strchr(buf, '\n');
	if (nl) {
		DBG3(DBG_CFG, "s6b: freeDiameter: %s", buf);
		*nl = '\0';
	}
	DBG1(DBG_CFG, "s6b: freeDiameter: %s", buf);
}

/* ---- routing: the lowest priority among the open peers, ties in turn ---- */

static const peer_t *peer_of(private_dsmip6_s6b_t *this, const char *id, size_t len)
{
	for (unsigned i = 0; i < this->n_peers; i++)
		if (strlen(this->peers[i].identity) == len &&
		    !strncasecmp(this->peers[i].identity, id, len))
			return &this->peers[i];
	return NULL;
}

/* freeDiameter offers the peers that are open (CER/CEA done, the watchdog happy): a peer that
 * failed is not among them, so requests go to the next priority, and back once it is open
 * again. The bonus stays under FD_SCORE_FINALDEST: a request for a given AAA server
 * (Destination-Host) goes to it while it is open. */
static int prefer(void *data, struct msg **pmsg, struct fd_list *candidates)
{
	private_dsmip6_s6b_t *this = data;
	struct rtd_candidate *best[S6B_MAX_PEERS];
	unsigned n_best = 0;
	int best_bonus = 0;

	for (struct fd_list *li = candidates->next; li != candidates; li = li->next) {
		struct rtd_candidate *c = (struct rtd_candidate *)li;
		const peer_t *p = peer_of(this, c->diamid, c->diamidlen);
		if (!p)
			continue;
		c->score += p->bonus;
		if (p->bonus > best_bonus) {
			best_bonus = p->bonus;
			n_best = 0;
		}
		if (p->bonus == best_bonus && n_best < S6B_MAX_PEERS)
			best[n_best++] = c;
	}
	if (n_best > 1) {
		this->lock->lock(this->lock);
		unsigned t = this->turn++;
		this->lock->unlock(this->lock);
		best[t % n_best]->score += 1;
	}
	return 0;
}

/* ---- a request a charon thread waits for ---- */

typedef struct {
	mutex_t *lock;
	condvar_t *cv;
	int refs;               /* the waiter and freeDiameter's callback */
	bool done, expired;
	struct msg *answer;
} waiter_t;

static void waiter_unref(waiter_t *w)
{
	w->lock->lock(w->lock);
	int left = --w->refs;
	w->lock->unlock(w->lock);
	if (left)
		return;
	if (w->answer)
		fd_msg_free(w->answer);
	w->cv->destroy(w->cv);
	w->lock->destroy(w->lock);
	free(w);
}

/* freeDiameter's thread: the answer (or the error answer it made when the request could not
 * be delivered). */
static void on_answer(void *data, struct msg **m)
{
	waiter_t *w = data;
	w->lock->lock(w->lock);
	w->answer = *m;
	*m = NULL;
	w->done = TRUE;
	w->cv->signal(w->cv);
	w->lock->unlock(w->lock);
	waiter_unref(w);
}

static void on_expire(void *data, DiamId_t sentto, size_t len, struct msg **req)
{
	waiter_t *w = data;
	w->lock->lock(w->lock);
	w->expired = w->done = TRUE;
	w->cv->signal(w->cv);
	w->lock->unlock(w->lock);
	waiter_unref(w);
}

/* 3xxx protocol errors that mean no AAA server took the request (RFC 6733 7.1.3) */
static bool undelivered(const struct s6b_answer *a)
{
	return !a->experimental && (a->result == S6B_UNABLE_TO_DELIVER ||
				    a->result == S6B_TOO_BUSY || a->result == S6B_REALM_NOT_SERVED);
}

METHOD(dsmip6_s6b_t, exchange, enum dsmip6_s6b_outcome, private_dsmip6_s6b_t *this, bool der,
       const struct s6b_request *r, struct s6b_answer *a)
{
	struct msg *m;
	waiter_t *w;
	struct timespec deadline;
	char sid[HA_IKE_SID_MAX] = "";

	if (s6b_build_request(&this->d, der ? this->d.cmd_der : this->d.cmd_aar, r, &m) < 0 ||
	    s6b_session_id(&this->d, m, sid, sizeof(sid)) < 0) {
		if (m)
			fd_msg_free(m);
		DBG1(DBG_IKE, "s6b: could not build the %s for '%s'", der ? "DER" : "AAR", r->nai);
		return DSMIP6_S6B_UNAVAILABLE;
	}
	INIT(w, .lock = mutex_create(MUTEX_TYPE_DEFAULT),
	     .cv = condvar_create(CONDVAR_TYPE_DEFAULT), .refs = 2);
	clock_gettime(CLOCK_REALTIME, &deadline); /* freeDiameter's timeouts are wall-clock dates */
	deadline.tv_sec += this->timeout_ms / 1000;
	deadline.tv_nsec += (long)(this->timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if (fd_msg_send_timeout(&m, on_answer, w, on_expire, &deadline)) {
		if (m)
			fd_msg_free(m);
		w->refs = 1;
		waiter_unref(w);
		DBG1(DBG_IKE, "s6b: the %s for '%s' could not be sent", der ? "DER" : "AAR", r->nai);
		return DSMIP6_S6B_UNAVAILABLE;
	}
	/* the caller's session, whatever comes back */
	memcpy(a->sid, sid, sizeof(a->sid));
	/* freeDiameter calls one of the callbacks by the deadline; the margin covers its timer
	 * (and an answer freeDiameter drops for breaking the dictionary's rules, which calls
	 * neither) */
	timeval_t until;
	time_monotonic(&until);
	until.tv_sec += (this->timeout_ms + 2000) / 1000;
	until.tv_usec += (this->timeout_ms % 1000) * 1000;
	if (until.tv_usec >= 1000000) {
		until.tv_sec++;
		until.tv_usec -= 1000000;
	}
	w->lock->lock(w->lock);
	bool late = FALSE;
	while (!w->done && !late)
		late = w->cv->timed_wait_abs(w->cv, w->lock, until);
	struct msg *ans = w->answer;
	w->answer = NULL;
	bool expired = w->expired || !w->done;
	w->lock->unlock(w->lock);
	waiter_unref(w);

	if (expired || !ans) {
		if (ans)
			fd_msg_free(ans);
		return DSMIP6_S6B_TIMEOUT;
	}
	int rc = s6b_read_answer(&this->d, ans, r->apn, this->has_ha6 ? this->ha6 : NULL, a);
	fd_msg_free(ans);
	if (!a->sid[0])
		memcpy(a->sid, sid, sizeof(a->sid));
	if (rc < 0) {
		DBG1(DBG_IKE, "s6b: unusable answer to the %s for '%s': %s", der ? "DER" : "AAR",
		     r->nai, strerror(-rc));
		return DSMIP6_S6B_BAD_ANSWER;
	}
	return undelivered(a) ? DSMIP6_S6B_UNAVAILABLE : DSMIP6_S6B_ANSWERED;
}

METHOD(dsmip6_s6b_t, prepare, void, private_dsmip6_s6b_t *this, struct s6b_request *r)
{
	r->dest_realm = this->realm;
	r->has_ha6 = this->has_ha6;
	r->has_ha4 = this->has_ha4;
	memcpy(r->ha6, this->ha6, 16);
	memcpy(r->ha4, this->ha4, 4);
}

METHOD(dsmip6_s6b_t, service_selection, const char *, private_dsmip6_s6b_t *this,
       const char *local_id)
{
	if (!local_id || !local_id[0] || (this->local_id && !strcasecmp(local_id, this->local_id)))
		return this->default_apn;
	return local_id;
}

/* ---- sessions and authorisations ---- */

static u_int hash_id(const void *key)
{
	return chunk_hash(chunk_create((u_char *)key, sizeof(uint32_t)));
}

static bool equals_id(const void *a, const void *b)
{
	return *(const uint32_t *)a == *(const uint32_t *)b;
}

static void session_free(session_t *s)
{
	if (s) {
		free(s->sid);
		free(s);
	}
}

METHOD(dsmip6_s6b_t, authorised, void, private_dsmip6_s6b_t *this, uint32_t ike_sa,
       const char *nai, const char *apn, const struct s6b_answer *a)
{
	session_t *s;
	auth_t *au;

	INIT(s, .sid = strdup(a->sid));
	snprintf(s->nai, sizeof(s->nai), "%s", nai);
	snprintf(s->apn, sizeof(s->apn), "%s", apn ? apn : "");
	snprintf(s->host, sizeof(s->host), "%s", a->origin);
	INIT(au, .ike_sa = ike_sa, .auth = a->auth);
	memcpy(au->sid, a->sid, sizeof(au->sid));
	this->lock->lock(this->lock);
	session_free(this->sessions->put(this->sessions, s->sid, s));
	free(this->auths->put(this->auths, &au->ike_sa, au));
	this->lock->unlock(this->lock);
}

METHOD(dsmip6_s6b_t, take_auth, bool, private_dsmip6_s6b_t *this, uint32_t ike_sa,
       char sid[HA_IKE_SID_MAX], struct s6b_auth *auth)
{
	this->lock->lock(this->lock);
	auth_t *au = this->auths->remove(this->auths, &ike_sa);
	this->lock->unlock(this->lock);
	if (!au)
		return FALSE;
	memcpy(sid, au->sid, HA_IKE_SID_MAX);
	*auth = au->auth;
	free(au);
	return TRUE;
}

/* A copy of the session's NAI, APN and AAA host; FALSE if this run of charon never saw it. */
static bool session_info(private_dsmip6_s6b_t *this, const char *sid, session_t *out)
{
	this->lock->lock(this->lock);
	session_t *s = this->sessions->get(this->sessions, sid);
	if (s)
		*out = *s;
	this->lock->unlock(this->lock);
	return s != NULL;
}

/* ---- hacpd: counters and orders, always from a charon job ---- */

typedef struct {
	private_dsmip6_s6b_t *this;
	uint16_t event;
	uint32_t cause;
	struct msg *msg;                /* an ASR or RAR to answer */
	char sid[HA_IKE_SID_MAX];
	/* an STR: sent again by realm when the AAA that held the session cannot be reached */
	char nai[HA_IKE_NAI_MAX];
	bool had_host, by_realm;
} work_t;

static void work_free(work_t *w)
{
	if (w->msg)
		fd_msg_free(w->msg);
	free(w);
}

static void queue(work_t *w, job_requeue_t (*fn)(work_t *))
{
	lib->processor->queue_job(lib->processor, (job_t *)callback_job_create(
		(callback_job_cb_t)fn, w, (callback_job_cleanup_t)work_free, NULL));
}

static job_requeue_t send_event(work_t *w)
{
	struct ha_ike_aaa_event_msg m = { .h = { .type = HA_IKE_AAA_EVENT, .len = sizeof(m) },
					  .event = w->event };
	struct ha_ike_result res;
	dsmip6_hacpd->request(dsmip6_hacpd, &m.h, &res, sizeof(res));
	return JOB_REQUEUE_NONE;
}

METHOD(dsmip6_s6b_t, event, void, private_dsmip6_s6b_t *this, enum ha_ike_aaa_event ev)
{
	work_t *w;
	INIT(w, .this = this, .event = ev);
	queue(w, send_event);
}

/* AAA_ORDER to hacpd: 0, -ENOENT (no such session), or another -errno (hacpd unreachable). */
static int order(const char *sid, uint8_t what, const uint8_t target[16])
{
	struct ha_ike_aaa_order m = { .h = { .type = HA_IKE_AAA_ORDER, .len = sizeof(m) },
				      .order = what };
	struct ha_ike_result res;
	snprintf(m.aaa_session, sizeof(m.aaa_session), "%s", sid);
	if (target)
		memcpy(m.target, target, 16);
	int rc = dsmip6_hacpd->request(dsmip6_hacpd, &m.h, &res, sizeof(res));
	if (rc < 0)
		return rc;
	return res.h.type == HA_IKE_RESULT ? res.result : -EPROTO;
}

static uint32_t answer_code(int rc)
{
	return rc == 0 ? S6B_SUCCESS : rc == -ENOENT ? S6B_UNKNOWN_SESSION_ID : S6B_UNABLE_TO_COMPLY;
}

static void answer(private_dsmip6_s6b_t *this, work_t *w, uint32_t code, const char *what)
{
	if (s6b_build_answer(&this->d, &w->msg, code) < 0 || fd_msg_send(&w->msg, NULL, NULL)) {
		DBG1(DBG_IKE, "s6b: could not answer the %s of session %s", what, w->sid);
		return;
	}
	w->msg = NULL; /* freeDiameter's now */
}

/* TS 29.273 9.2.2.4: the AAA aborts the session: hacpd detaches the UE (004 5.4.3.1; its
 * binding goes at the UE's BRA, the session when the IKE SA goes, and then the STR). */
static job_requeue_t handle_asr(work_t *w)
{
	private_dsmip6_s6b_t *this = w->this;
	int rc = order(w->sid, HA_IKE_AAA_ABORT, NULL);
	DBG1(DBG_IKE, "s6b: the AAA aborts session %s: %s", w->sid,
	     rc == 0 ? "the UE is detached" : rc == -ENOENT ? "no such session" : strerror(-rc));
	answer(this, w, answer_code(rc), "ASR");
	return JOB_REQUEUE_NONE;
}

/* TS 29.273 9.2.2.5: re-authorisation: answered, then an AA-Request on the session; a refusal
 * withdraws the UE's authorisation (detached as by an ASR), a reallocation indication in the
 * answer is carried out (002 5.4.3). An AAA that does not answer leaves the UE as it is. */
static job_requeue_t handle_rar(work_t *w)
{
	private_dsmip6_s6b_t *this = w->this;
	int rc = order(w->sid, HA_IKE_AAA_KNOWN, NULL);
	answer(this, w, answer_code(rc), "RAR");
	if (rc < 0) {
		DBG1(DBG_IKE, "s6b: re-authorisation of session %s: %s", w->sid,
		     rc == -ENOENT ? "no such session" : strerror(-rc));
		return JOB_REQUEUE_NONE;
	}
	session_t s;
	if (!session_info(this, w->sid, &s)) {
		DBG1(DBG_IKE, "s6b: re-authorisation of session %s: opened by an earlier run of charon, "
		     "left to the UE's next attach", w->sid);
		return JOB_REQUEUE_NONE;
	}
	struct s6b_request r = { .sid = w->sid, .nai = s.nai, .apn = s.apn, .dest_host = s.host };
	prepare(this, &r);
	struct s6b_answer *a = malloc(sizeof(*a)); /* 4 KiB of EAP room */
	if (!a)
		return JOB_REQUEUE_NONE;
	enum dsmip6_s6b_outcome o = exchange(this, FALSE, &r, a);
	if (o != DSMIP6_S6B_ANSWERED) {
		DBG1(DBG_IKE, "s6b: re-authorisation of '%s': the AAA did not answer the AAR, the UE "
		     "stays authorised", s.nai);
		event(this, HA_IKE_AAA_EV_REAUTH_FAILED);
	} else if (a->experimental || a->result != S6B_SUCCESS) {
		DBG1(DBG_IKE, "s6b: re-authorisation of '%s' refused (%u): detaching it", s.nai,
		     a->result);
		event(this, HA_IKE_AAA_EV_REAUTH_FAILED);
		order(w->sid, HA_IKE_AAA_ABORT, NULL);
	} else {
		DBG1(DBG_IKE, "s6b: '%s' re-authorised", s.nai);
		event(this, HA_IKE_AAA_EV_REAUTH_OK);
		if (a->auth.flags & HA_IKE_AUTH_F_REALLOC)
			order(w->sid, HA_IKE_AAA_REALLOCATE, a->auth.realloc_ha);
	}
	free(a);
	return JOB_REQUEUE_NONE;
}

/* freeDiameter's thread: the request is ours now, answered from a charon job. */
static int take_request(private_dsmip6_s6b_t *this, struct msg **msg, enum disp_action *act,
			enum ha_ike_aaa_event ev, job_requeue_t (*fn)(work_t *))
{
	work_t *w;
	char sid[HA_IKE_SID_MAX];
	if (s6b_session_id(&this->d, *msg, sid, sizeof(sid)) < 0) {
		/* none (freeDiameter's rules refuse that before us) or longer than any of ours:
		 * freeDiameter answers it (DIAMETER_UNABLE_TO_COMPLY) */
		DBG1(DBG_IKE, "s6b: a request of the AAA with a Session-Id longer than any of ours: "
		     "refused");
		event(this, HA_IKE_AAA_EV_ERROR);
		*act = DISP_ACT_ERROR;
		return 0;
	}
	INIT(w, .this = this, .msg = *msg);
	memcpy(w->sid, sid, sizeof(w->sid));
	*msg = NULL;
	*act = DISP_ACT_CONT;
	event(this, ev);
	queue(w, fn);
	return 0;
}

static int on_asr(struct msg **msg, struct avp *avp, struct session *sess, void *opaque,
		  enum disp_action *act)
{
	return take_request(opaque, msg, act, HA_IKE_AAA_EV_ASR, handle_asr);
}

static int on_rar(struct msg **msg, struct avp *avp, struct session *sess, void *opaque,
		  enum disp_action *act)
{
	return take_request(opaque, msg, act, HA_IKE_AAA_EV_RAR, handle_rar);
}

/* ---- the session's end (hacpd's AAA_END): Session-Termination-Request ---- */

static job_requeue_t send_str(work_t *w);

/* freeDiameter's thread. An STR for the AAA server that held the session (Destination-Host)
 * that no peer can deliver (3002: that server is down) goes once more by realm, to whichever
 * AAA server shares the session state. */
static void on_sta(void *data, struct msg **m)
{
	work_t *w = data;
	private_dsmip6_s6b_t *this = w->this;
	struct s6b_answer *a = malloc(sizeof(*a));
	if (a && !s6b_read_answer(&this->d, *m, NULL, NULL, a)) {
		DBG1(DBG_IKE, "s6b: STA for session %s: %u", a->sid, a->result);
		if (a->result == S6B_SUCCESS)
			event(this, HA_IKE_AAA_EV_STR_ANSWERED);
		if (a->result == S6B_UNABLE_TO_DELIVER && w->had_host && !w->by_realm) {
			work_t *again;
			INIT(again, .this = this, .cause = w->cause, .by_realm = TRUE);
			memcpy(again->sid, w->sid, sizeof(again->sid));
			memcpy(again->nai, w->nai, sizeof(again->nai));
			queue(again, send_str);
		}
	}
	free(a);
	free(w);
	fd_msg_free(*m);
	*m = NULL;
}

static void on_sta_expired(void *data, DiamId_t sentto, size_t len, struct msg **req)
{
	work_t *w = data;
	DBG1(DBG_IKE, "s6b: no STA for session %s", w->sid);
	free(w);
}

static job_requeue_t send_str(work_t *w)
{
	private_dsmip6_s6b_t *this = w->this;
	session_t s = { 0 };

	if (!w->by_realm) {
		this->lock->lock(this->lock);
		session_t *known = this->sessions->remove(this->sessions, w->sid);
		if (known)
			s = *known;
		this->lock->unlock(this->lock);
		s.sid = NULL;
		session_free(known);
		memcpy(w->nai, s.nai, sizeof(w->nai));
	}
	w->had_host = s.host[0] != '\0';
	struct s6b_request r = { .sid = w->sid, .nai = w->nai, .cause = w->cause,
				 .dest_host = w->had_host ? s.host : NULL };
	prepare(this, &r);
	struct msg *m;
	work_t *ctx = malloc(sizeof(*ctx)); /* for on_sta */
	if (!ctx || s6b_build_request(&this->d, this->d.cmd_str, &r, &m) < 0) {
		free(ctx);
		DBG1(DBG_IKE, "s6b: could not send the STR of session %s", w->sid);
		return JOB_REQUEUE_NONE;
	}
	*ctx = *w;
	ctx->msg = NULL;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30; /* an STA that never comes frees its context */
	if (fd_msg_send_timeout(&m, on_sta, ctx, on_sta_expired, &deadline)) {
		free(ctx);
		if (m)
			fd_msg_free(m);
		DBG1(DBG_IKE, "s6b: could not send the STR of session %s", w->sid);
		return JOB_REQUEUE_NONE;
	}
	DBG1(DBG_IKE, "s6b: session %s%s%s ended (Termination-Cause %u): STR sent%s", w->sid,
	     w->nai[0] ? " of " : "", w->nai, w->cause,
	     w->by_realm ? " again, by realm (the AAA server that held it is unreachable)" : "");
	event(this, HA_IKE_AAA_EV_STR_SENT);
	return JOB_REQUEUE_NONE;
}

METHOD(dsmip6_s6b_t, end, void, private_dsmip6_s6b_t *this, const char *sid, uint32_t cause)
{
	work_t *w;
	INIT(w, .this = this, .cause = cause);
	snprintf(w->sid, sizeof(w->sid), "%s", sid);
	queue(w, send_str);
}

/* charon's watcher thread, the hacpd connection's lock held: only a job is queued. */
static void on_aaa_end(void *ctx, const struct ha_ike_aaa_end *m)
{
	char sid[HA_IKE_SID_MAX];
	memcpy(sid, m->aaa_session, sizeof(sid));
	sid[sizeof(sid) - 1] = '\0';
	end(ctx, sid, m->cause);
}

/* ---- start and stop ---- */

static bool parse_address(const char *text, int family, uint8_t *out)
{
	host_t *h = text ? host_create_from_string((char *)text, 0) : NULL;
	bool ok = h && h->get_family(h) == family;
	if (ok)
		memcpy(out, h->get_address(h).ptr, family == AF_INET ? 4 : 16);
	DESTROY_IF(h);
	return ok;
}

/* plugins.dsmip6.s6b.peers.N { identity, priority }: a routing bonus per rank of priority. */
static void load_peers(private_dsmip6_s6b_t *this)
{
	enumerator_t *en = lib->settings->create_section_enumerator(lib->settings,
		"%s.plugins.dsmip6.s6b.peers", lib->ns);
	char *name;
	while (en->enumerate(en, &name) && this->n_peers < S6B_MAX_PEERS) {
		char *id = lib->settings->get_str(lib->settings, "%s.plugins.dsmip6.s6b.peers.%s.identity",
						  NULL, lib->ns, name);
		if (!id)
			continue;
		peer_t *p = &this->peers[this->n_peers++];
		p->identity = strdup(id);
		p->priority = lib->settings->get_int(lib->settings,
			"%s.plugins.dsmip6.s6b.peers.%s.priority", 1, lib->ns, name);
	}
	en->destroy(en);
	for (unsigned i = 0; i < this->n_peers; i++) {
		unsigned rank = 0; /* how many distinct priorities come before it */
		for (unsigned j = 0; j < this->n_peers; j++) {
			bool earlier = FALSE;
			for (unsigned k = 0; k < j; k++)
				earlier |= this->peers[k].priority == this->peers[j].priority;
			rank += !earlier && this->peers[j].priority < this->peers[i].priority;
		}
		/* 33..54: positive whatever the realm scored, under FD_SCORE_FINALDEST */
		this->peers[i].bonus = 30 + 3 * (S6B_MAX_PEERS - (int)rank);
		DBG1(DBG_CFG, "s6b: AAA peer %s, priority %d", this->peers[i].identity,
		     this->peers[i].priority);
	}
}

static void release(private_dsmip6_s6b_t *this)
{
	enumerator_t *en = this->sessions->create_enumerator(this->sessions);
	void *k, *v;
	while (en->enumerate(en, &k, &v))
		session_free(v);
	en->destroy(en);
	en = this->auths->create_enumerator(this->auths);
	while (en->enumerate(en, &k, &v))
		free(v);
	en->destroy(en);
	this->sessions->destroy(this->sessions);
	this->auths->destroy(this->auths);
	for (unsigned i = 0; i < this->n_peers; i++)
		free(this->peers[i].identity);
	this->lock->destroy(this->lock);
	free(this->realm);
	free(this->local_id);
	free(this->default_apn);
	free(this);
}

METHOD(dsmip6_s6b_t, destroy, void, private_dsmip6_s6b_t *this)
{
	if (dsmip6_hacpd)
		dsmip6_hacpd->on_aaa_end(dsmip6_hacpd, NULL, NULL);
	fd_core_shutdown();
	fd_core_wait_shutdown_complete();
	release(this);
}

static char *setting(const char *key, const char *def)
{
	char *v = lib->settings->get_str(lib->settings, "%s.plugins.dsmip6.s6b.%s", (char *)def,
					 lib->ns, key);
	return v ? strdup(v) : NULL;
}

dsmip6_s6b_t *dsmip6_s6b_create(void)
{
	private_dsmip6_s6b_t *this;
	char *conf = lib->settings->get_str(lib->settings, "%s.plugins.dsmip6.s6b.conf", NULL,
					    lib->ns);
	if (!conf)
		return NULL;

	INIT(this,
		.public = {
			.exchange = _exchange,
			.prepare = _prepare,
			.service_selection = _service_selection,
			.authorised = _authorised,
			.take_auth = _take_auth,
			.end = _end,
			.event = _event,
			.destroy = _destroy,
		},
		.realm = setting("destination_realm", NULL),
		.local_id = setting("local_id", NULL),
		.default_apn = setting("default_apn", ""),
		.timeout_ms = lib->settings->get_int(lib->settings,
			"%s.plugins.dsmip6.s6b.request_timeout_ms", 5000, lib->ns),
		.lock = mutex_create(MUTEX_TYPE_DEFAULT),
		.sessions = hashtable_create(hashtable_hash_str, hashtable_equals_str, 64),
		.auths = hashtable_create(hash_id, equals_id, 64),
	);
	this->has_ha6 = parse_address(lib->settings->get_str(lib->settings,
		"%s.plugins.dsmip6.s6b.home_agent_ipv6", NULL, lib->ns), AF_INET6, this->ha6);
	this->has_ha4 = parse_address(lib->settings->get_str(lib->settings,
		"%s.plugins.dsmip6.s6b.home_agent_ipv4", NULL, lib->ns), AF_INET, this->ha4);
	load_peers(this);

	const char *missing = NULL;
	struct disp_when asr = { 0 }, rar = { 0 };
	int rc;
	/* charon loads its plugins with RTLD_LOCAL, so the libraries the plugin brought in are not
	 * seen by freeDiameter's dictionary extensions, which take fd_g_config and the fd_dict_*
	 * functions from the global scope: make them global */
	if (!dlopen("libfdproto.so.6", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD) ||
	    !dlopen("libfdcore.so.6", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD))
		DBG1(DBG_CFG, "s6b: freeDiameter's libraries not made global: %s", dlerror());
	fd_log_handler_register(log_to_charon);
	if ((rc = fd_core_initialize()) || (rc = fd_core_parseconf(conf))) {
		DBG1(DBG_CFG, "s6b: freeDiameter did not take %s (%s): no S6b", conf, strerror(rc));
		release(this);
		return NULL;
	}
	if (!this->realm)
		this->realm = strndup(fd_g_config->cnf_diamrlm, fd_g_config->cnf_diamrlm_len);
	if (s6b_dict_load(fd_g_config->cnf_dict, &this->d, &missing) < 0) {
		DBG1(DBG_CFG, "s6b: freeDiameter's dictionaries have no %s: no S6b", missing);
		goto fail;
	}
	asr.app = rar.app = this->d.app;
	asr.command = this->d.cmd_asr;
	rar.command = this->d.cmd_rar;
	if (fd_disp_app_support(this->d.app, this->d.vendor, 1, 0) ||
	    fd_disp_register(on_asr, DISP_HOW_CC, &asr, this, &this->asr_hdl) ||
	    fd_disp_register(on_rar, DISP_HOW_CC, &rar, this, &this->rar_hdl) ||
	    fd_rt_out_register(prefer, this, 10, &this->rt_hdl) || fd_core_start()) {
		DBG1(DBG_CFG, "s6b: freeDiameter did not start: no S6b");
		goto fail;
	}
	DBG1(DBG_CFG, "s6b: Diameter client %.*s (realm %.*s) towards realm %s, %u peer(s), "
	     "requests time out after %u ms", (int)fd_g_config->cnf_diamid_len,
	     fd_g_config->cnf_diamid, (int)fd_g_config->cnf_diamrlm_len, fd_g_config->cnf_diamrlm,
	     this->realm, this->n_peers, this->timeout_ms);
	if (dsmip6_hacpd)
		dsmip6_hacpd->on_aaa_end(dsmip6_hacpd, on_aaa_end, this);
	return &this->public;
fail:
	fd_core_shutdown();
	fd_core_wait_shutdown_complete();
	release(this);
	return NULL;
}
