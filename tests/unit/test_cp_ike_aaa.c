/*
 * hacpd's side of S6b (docs/aaa.md, shared/ha_ike_msg.h version 4): the AAA's authorisation
 * applied at PREFIX_REQ (TS 29.273 9.2.2.1: the static home prefix and IPv4 home address of
 * APN-Configuration, the PDN type, a reallocation indication for 002 5.4.3), the Session-Id kept
 * with the session across hacpd's restart, the AAA's orders (TS 29.273 9.2.2.4 ASR: the
 * network-initiated detach of 004 5.4.3.1; 9.2.2.5 RAR), and the end of each session told once
 * (9.2.2.3 STR: AAA_END with RFC 6733 8.15's Termination-Cause).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cp_ike_fixture.h"
#include "cp_ike_srv.h"
#include "ha_state_file.h"

TestSuite(s6b, .init = setup, .fini = teardown);

static struct ha_ike_prefix_req req(uint32_t ike_sa, const char *nai, const char *sid)
{
	struct ha_ike_prefix_req rq = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REQ,
					       .len = sizeof(rq), .seq = 3, .ike_sa = ike_sa } };
	snprintf(rq.nai, sizeof(rq.nai), "%s", nai);
	snprintf(rq.apn, sizeof(rq.apn), "internet");
	snprintf(rq.aaa_session, sizeof(rq.aaa_session), "%s", sid);
	return rq;
}

static struct ha_ike_prefix_rep ask_in(struct cp_ike *k, const struct ha_ike_prefix_req *rq)
{
	struct ha_ike_prefix_rep rep;
	cp_ike_prefix(k, rq, &rep, &left);
	cr_assert_eq(rep.h.seq, rq->h.seq);
	return rep;
}

static struct ha_ike_prefix_rep ask(const struct ha_ike_prefix_req *rq)
{
	return ask_in(&ike, rq);
}

static const char *pfx(const struct ha_ike_prefix_rep *r)
{
	static char s[64];
	inet_ntop(AF_INET6, r->prefix, s, sizeof(s));
	return s;
}

static const char *v4(const uint8_t a[4])
{
	static char s[16];
	inet_ntop(AF_INET, a, s, sizeof(s));
	return s;
}

/* The AAA_ENDs waiting for the plugin, oldest first, taken off the queue. */
static unsigned take_ends(struct cp_ike *k, struct ha_ike_aaa_end *out, unsigned max)
{
	unsigned n = 0;
	const struct ha_ike_aaa_end *m;
	while (n < max && (m = cp_aaa_ends_peek(&k->ends))) {
		cr_assert_eq(ha_ike_check_hdr(&m->h), 0, "a well-formed notice");
		cr_assert_eq(m->h.seq, 0, "a notice carries seq 0");
		out[n++] = *m;
		cp_aaa_ends_pop(&k->ends);
	}
	return n;
}

/* A BU of home address hoa under the session's signalling SA spi, so the prefix is bound;
 * @return the BU's outcome (accepted). */
static struct cp_bu_out register_ue(uint32_t ike_sa, const char *hoa, uint32_t spi, uint64_t now, uint16_t seq,
		 uint16_t lifetime)
{
	struct ha_ike_sa_add m = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_SA_ADD,
					  .len = sizeof(m), .seq = 1, .ike_sa = ike_sa } };
	m.sa = (struct ha_sa_spec){ .spi = spi, .direction = HA_SA_IN, .mode = HA_SA_TRANSPORT,
				    .family = AF_INET6, .encryption = HA_CFG_ENC_AES_GCM_128,
				    .integrity = HA_CFG_INTEG_NONE, .key_len = 20 };
	m.reqid = 1;
	inet_pton(AF_INET6, hoa, m.ts_remote);
	m.ts_remote_len = 128;
	m.ts_proto = MH_PROTO;
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	int rc = cp_ike_sa_add(&ike, &m, &inst, &rb, &has_rb);
	cr_assert(rc == 0 || rc == -EEXIST, "%d", rc);
	struct mh_msg bu = { .type = MH_TYPE_BU };
	bu.bu.seq = seq;
	bu.bu.flags = MH_BU_A | MH_BU_H;
	bu.bu.lifetime = lifetime;
	struct cp_bu_in in = { .bu = &bu, .src6 = A("2001:db8:aaaa::2"), .has_hao = true,
			       .hoa = A(hoa), .esp = true, .sa_spi = spi, .now = now };
	struct cp_bu_out o;
	cp_bu_process(&ctx, &in, &o);
	cr_assert(o.send_ba && o.ba.ba.status == MH_BA_ACCEPTED, "status %u", o.ba.ba.status);
	return o;
}

/* TS 29.273 9.2.2.1 (APN-Configuration's Served-Party-IP-Address): the AAA's home prefix is
 * the UE's, reduced to the PDN's home_prefix_length, taken from the PDN's pool. */
Test(s6b, static_prefix_taken_from_the_pool)
{
	struct ha_ike_prefix_req rq = req(1, UE1, "ha;1;1");
	rq.auth_flags = HA_IKE_AUTH_F_PREFIX;
	memcpy(rq.static_prefix, A("2001:db8:100:3::77").s6_addr, 16);
	rq.static_prefix_len = 128;
	struct ha_ike_prefix_rep r = ask(&rq);
	cr_assert_eq(r.result, 0);
	cr_assert_str_eq(pfx(&r), "2001:db8:100:3::", "the /64 holding the AAA's address");
	cr_assert_eq(r.prefix_len, 64);
	cr_assert_eq(ike.ctr[CP_IKE_STATIC_PREFIX], 1);
	/* a UE without one gets another from the pool, never the static one */
	struct ha_ike_prefix_req rq2 = req(2, UE2, "ha;1;2");
	struct ha_ike_prefix_rep d1 = ask(&rq2);
	cr_assert_eq(d1.result, 0);
	cr_assert_str_eq(pfx(&d1), "2001:db8:100:1::");
	struct ha_ike_prefix_req rq3 = req(3, "0001010000000003@x", "ha;1;3");
	struct ha_ike_prefix_rep d2 = ask(&rq3);
	cr_assert_str_eq(pfx(&d2), "2001:db8:100:2::");
	struct ha_ike_prefix_req rq4 = req(4, "0001010000000004@x", "ha;1;4");
	cr_assert_eq(ask(&rq4).result, -ENOSPC, "the static prefix was taken out of the pool");
	/* the same UE back under a new IKE SA with the same static prefix keeps it */
	rq.h.ike_sa = 5;
	snprintf(rq.aaa_session, sizeof(rq.aaa_session), "ha;1;5");
	struct ha_ike_prefix_rep again = ask(&rq);
	cr_assert_eq(again.result, 0);
	cr_assert_str_eq(pfx(&again), "2001:db8:100:3::");
}

/* A static prefix the HA cannot give is refused (the attach fails), with a counter and
 * nothing taken: another UE's, a static binding's, outside the PDN's pool. */
Test(s6b, static_prefix_refused_when_taken_or_outside_the_pool)
{
	struct ha_ike_prefix_req rq = req(1, UE1, "ha;2;1");
	struct ha_ike_prefix_rep first = ask(&rq);
	cr_assert_eq(first.result, 0);
	cr_assert_str_eq(pfx(&first), "2001:db8:100:1::");

	struct ha_ike_prefix_req other = req(2, UE2, "ha;2;2");
	other.auth_flags = HA_IKE_AUTH_F_PREFIX;
	memcpy(other.static_prefix, first.prefix, 16);
	cr_assert_eq(ask(&other).result, -EADDRINUSE, "UE1's prefix");
	cr_assert_str_eq(ike.refused, "the AAA's home prefix is another UE's or a static binding's");
	memcpy(other.static_prefix, A("2001:db8:100::").s6_addr, 16);
	cr_assert_eq(ask(&other).result, -EADDRINUSE, "the YAML's static binding's");
	memcpy(other.static_prefix, A("2001:db8:999::").s6_addr, 16);
	cr_assert_eq(ask(&other).result, -EADDRNOTAVAIL);
	cr_assert_str_eq(ike.refused, "the AAA's home prefix is outside the PDN's home_prefix_pool");
	cr_assert_eq(ike.ctr[CP_IKE_STATIC_PREFIX_REFUSED], 3);
	cr_assert_eq(ike.count, 1, "no session for the refused UE");
	cr_assert_null(cp_ike_session_by_aaa(&ike, "ha;2;2"));

	/* the UE with a session may not be moved to another prefix by a new authorisation */
	rq.h.ike_sa = 3;
	rq.auth_flags = HA_IKE_AUTH_F_PREFIX;
	memcpy(rq.static_prefix, A("2001:db8:100:2::").s6_addr, 16);
	cr_assert_eq(ask(&rq).result, -EADDRINUSE);
	cr_assert_not_null(cp_ike_session_of(&ike, 1), "the session stays under its IKE SA");
	/* nothing was taken by the refusals: the pool's two free prefixes are there */
	struct ha_ike_prefix_req a = req(4, "0001010000000003@x", "");
	struct ha_ike_prefix_req b = req(5, "0001010000000004@x", "");
	cr_assert_eq(ask(&a).result, 0);
	cr_assert_eq(ask(&b).result, 0);
}

/* The AAA's IPv4 home address (Served-Party-IP-Address, IPv4) when the UE asked; PDN type IPv6
 * only withholds one even when it asked. */
Test(s6b, static_ipv4_and_no_ipv4)
{
	struct ha_ike_prefix_req rq = req(1, UE1, "ha;3;1");
	rq.want_ip4 = 1;
	rq.auth_flags = HA_IKE_AUTH_F_IP4;
	memcpy(rq.static_ip4, (uint8_t[4]){ 10, 45, 0, 5 }, 4);
	struct ha_ike_prefix_rep r = ask(&rq);
	cr_assert_eq(r.result, 0);
	cr_assert(r.has_ip4);
	cr_assert_str_eq(v4(r.ip4), "10.45.0.5");
	cr_assert_eq(ike.ctr[CP_IKE_STATIC_IP4], 1);
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 1);

	/* taken, or outside the pool: refused, and the prefix it would have had stays free */
	struct ha_ike_prefix_req o = req(2, UE2, "ha;3;2");
	o.want_ip4 = 1;
	o.auth_flags = HA_IKE_AUTH_F_IP4;
	memcpy(o.static_ip4, (uint8_t[4]){ 10, 45, 0, 5 }, 4);
	cr_assert_eq(ask(&o).result, -EADDRINUSE);
	memcpy(o.static_ip4, (uint8_t[4]){ 10, 99, 0, 1 }, 4);
	cr_assert_eq(ask(&o).result, -EADDRNOTAVAIL);
	cr_assert_str_eq(ike.refused, "the AAA's IPv4 home address is outside the PDN's ipv4_pool");
	cr_assert_eq(ike.ctr[CP_IKE_STATIC_IP4_REFUSED], 2);
	cr_assert_eq(ike.count, 1);

	/* NO_IP4: the UE asks, gets none, and the pool gives nothing */
	o.auth_flags = HA_IKE_AUTH_F_NO_IP4;
	struct ha_ike_prefix_rep n = ask(&o);
	cr_assert_eq(n.result, 0);
	cr_assert_not(n.has_ip4);
	cr_assert_eq(ike.ctr[CP_IKE_NO_IP4], 1);
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 1);
	cr_assert_str_eq(pfx(&n), "2001:db8:100:2::", "refusals took no prefix");

	/* the UE's static address without asking for IPv4: none given, none taken */
	struct ha_ike_prefix_req q = req(3, "0001010000000003@x", "ha;3;3");
	q.auth_flags = HA_IKE_AUTH_F_IP4;
	memcpy(q.static_ip4, (uint8_t[4]){ 10, 45, 0, 6 }, 4);
	struct ha_ike_prefix_rep qr = ask(&q);
	cr_assert_eq(qr.result, 0);
	cr_assert_not(qr.has_ip4);
	cr_assert_eq(cp_pool4_used(&ctx.pool4[0]), 1);
}

/* 002 5.4.3: the AAA's reallocation indication at attach (MIP6-Agent-Info naming another HA)
 * waits for the UE's first BU from its prefix, whose BA is followed by a Home Agent Switch. */
Test(s6b, reallocation_indication_recorded_for_the_prefix)
{
	struct ha_ike_prefix_req rq = req(1, UE1, "ha;4;1");
	rq.auth_flags = HA_IKE_AUTH_F_REALLOC;
	memcpy(rq.realloc_ha, A("2001:db8:eeee::1").s6_addr, 16);
	cr_assert_eq(ask(&rq).result, 0);
	cr_assert_eq(ike.ctr[CP_IKE_REALLOC], 1);

	struct cp_bu_out o = register_ue(1, "2001:db8:100:1::9", 0xc0000001, 5, 1, 100);
	cr_assert(o.send_has, "the Home Agent Switch follows the BA");
	struct in6_addr t = A("2001:db8:eeee::1");
	cr_assert_arr_eq(&o.has.has.addrs[0], &t, 16);
}

/* The Session-Id lives in the ike_sessions state file: a restarted hacpd finds the session by
 * it (the AAA's later ASR or RAR), and its end is still told. */
Test(s6b, session_id_kept_across_hacpd_adoption)
{
	char dir[] = "/tmp/test_cp_ike_aaa.XXXXXX", err[400];
	cr_assert_not_null(mkdtemp(dir));
	struct ha_state_file f;
	cr_assert_eq(ha_state_open(&f, dir, "ike_sessions", "ike-sessions", CP_IKE_SESSION_VERSION,
				   sizeof(struct cp_ike_session), 8, err, sizeof(err)), 0, "%s", err);
	struct cp_ike first;
	cr_assert_eq(cp_ike_init_store(&first, &ctx, f.records, 8, false), 0);
	struct ha_ike_prefix_req rq = req(7, UE1, "ha.example;77;1");
	struct ha_ike_prefix_rep r = ask_in(&first, &rq);
	cr_assert_eq(r.result, 0);
	cp_ike_free(&first);
	ha_state_close(&f); /* hacpd gone */

	struct cp_ctx again;
	struct cp_ike second;
	cr_assert_eq(cp_ctx_init(&again, &cfg), 0);
	cr_assert_eq(ha_state_open(&f, dir, "ike_sessions", "ike-sessions", CP_IKE_SESSION_VERSION,
				   sizeof(struct cp_ike_session), 8, err, sizeof(err)), 0, "%s", err);
	cr_assert(f.adopted);
	cr_assert_eq(cp_ike_init_store(&second, &again, f.records, 8, true), 0);
	const struct cp_ike_session *s = cp_ike_session_by_aaa(&second, "ha.example;77;1");
	cr_assert_not_null(s, "found again by its Session-Id");
	cr_assert_eq(s->ike_sa, 7);
	struct ha_ike_aaa_order o = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_AAA_ORDER,
					     .len = sizeof(o), .seq = 1 },
				      .order = HA_IKE_AAA_KNOWN };
	snprintf(o.aaa_session, sizeof(o.aaa_session), "ha.example;77;1");
	struct cp_ike_abort ab;
	cr_assert_eq(cp_ike_aaa_order(&second, &o, &ab), 0, "RAR: known");
	struct cp_ike_gone gone;
	cr_assert_eq(cp_ike_down(&second, 7, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	struct ha_ike_aaa_end e[4];
	cr_assert_eq(take_ends(&second, e, 4), 1);
	cr_assert_str_eq(e[0].aaa_session, "ha.example;77;1");
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_LOGOUT);
	cp_ike_free(&second);
	cp_ctx_free(&again);
	ha_state_close(&f);

	/* a file of the previous record version is refused, not misread (docs/restarts.md) */
	int rc = ha_state_open(&f, dir, "ike_sessions", "ike-sessions", CP_IKE_SESSION_VERSION - 1,
			       sizeof(struct cp_ike_session), 8, err, sizeof(err));
	cr_assert_lt(rc, 0);
	cr_assert(strstr(err, "record version"), "%s", err);
	char path[600];
	snprintf(path, sizeof(path), "%s/ike_sessions", dir);
	unlink(path);
	rmdir(dir);
}

/* TS 29.273 9.2.2.4 / 004 5.4.3.1: an ASR for a UE with a binding starts the detach as hactl
 * detach does (the BRI); the session is marked so its end is ADMINISTRATIVE, whoever closes it
 * (here the UE's DELETE after the BRA). Unknown Session-Ids and bad orders are refused. */
static struct in6_addr detached_hoa;
static unsigned detaches;

static int fake_detach(void *arg, const struct in6_addr *hoa)
{
	(void)arg;
	detached_hoa = *hoa;
	return detaches++ ? -EALREADY : 0;
}

static int no_install(void *arg, struct ha_cmd *c)
{
	(void)arg;
	(void)c;
	return 0;
}

static struct ha_ike_result call(struct cp_ike_srv *srv, const struct ha_ike_hdr *h)
{
	union {
		struct ha_ike_prefix_rep rep;
		struct ha_ike_result res;
	} r;
	cr_assert_eq(cp_ike_srv_handle(srv, h, &r, sizeof(r)), 0);
	cr_assert_eq(r.res.h.type, HA_IKE_RESULT);
	cr_assert_eq(r.res.h.seq, h->seq);
	return r.res;
}

static struct ha_ike_aaa_order order(uint8_t kind, const char *sid)
{
	struct ha_ike_aaa_order o = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_AAA_ORDER,
					     .len = sizeof(o), .seq = 40 },
				      .order = kind };
	snprintf(o.aaa_session, sizeof(o.aaa_session), "%s", sid);
	return o;
}

Test(s6b, abort_of_a_bound_ue_sends_the_bri_and_ends_administrative)
{
	struct cp_ike_srv srv = { .listen_fd = -1, .fd = -1, .ike = &ike, .install = no_install,
				  .detach = fake_detach, .hello = true };
	detaches = 0;
	struct ha_ike_prefix_req rq = req(1, UE1, "ha;6;1");
	cr_assert_eq(ask(&rq).result, 0);
	register_ue(1, "2001:db8:100:1::55", 0xc0000001, 10, 1, 100);

	struct ha_ike_aaa_order o = order(HA_IKE_AAA_ABORT, "ha;6;1");
	cr_assert_eq(call(&srv, &o.h).result, 0);
	cr_assert_eq(detaches, 1, "the BRI of hactl detach");
	struct in6_addr hoa = A("2001:db8:100:1::55");
	cr_assert_arr_eq(&detached_hoa, &hoa, 16);
	cr_assert_eq(call(&srv, &o.h).result, 0, "a second ASR while the detach runs: answered 0");
	cr_assert_eq(ike.ctr[CP_IKE_AAA_ABORT], 2);

	struct ha_ike_aaa_order u = order(HA_IKE_AAA_ABORT, "ha;6;nobody");
	cr_assert_eq(call(&srv, &u.h).result, -ENOENT, "5002 UNKNOWN_SESSION_ID");
	struct ha_ike_aaa_order bad = order(9, "ha;6;1");
	cr_assert_eq(call(&srv, &bad.h).result, -EINVAL);
	struct ha_ike_aaa_order empty = order(HA_IKE_AAA_KNOWN, "");
	cr_assert_eq(call(&srv, &empty.h).result, -EINVAL);
	struct ha_ike_aaa_order k = order(HA_IKE_AAA_KNOWN, "ha;6;1");
	cr_assert_eq(call(&srv, &k.h).result, 0);
	struct ha_ike_aaa_order ra = order(HA_IKE_AAA_REALLOCATE, "ha;6;1");
	cr_assert_eq(call(&srv, &ra.h).result, -EINVAL, "no target");
	memcpy(ra.target, A("2001:db8:eeee::2").s6_addr, 16);
	cr_assert_eq(call(&srv, &ra.h).result, 0);
	cr_assert_eq(ike.ctr[CP_IKE_AAA_REALLOCATE], 1);
	cr_assert_eq(ike.ctr[CP_IKE_AAA_UNKNOWN], 1);
	cr_assert_eq(ike.ctr[CP_IKE_AAA_BAD], 3);

	/* the UE answers the BRI and deletes its IKE SA (004 5.4.2.1): IKE_DOWN */
	struct ha_ike_aaa_end e[4];
	cr_assert_eq(take_ends(&ike, e, 4), 0, "nothing ended yet");
	struct ha_ike_down down = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_IKE_DOWN,
					   .len = sizeof(down), .seq = 41, .ike_sa = 1 } };
	cr_assert_eq(call(&srv, &down.h).result, 0);
	cr_assert_eq(take_ends(&ike, e, 4), 1);
	cr_assert_str_eq(e[0].aaa_session, "ha;6;1");
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_ADMINISTRATIVE);
	cr_assert_null(cp_ike_session_by_aaa(&ike, "ha;6;1"));
	cr_assert_eq(call(&srv, &k.h).result, -ENOENT, "over: unknown from now on");
}

/* ASR for a UE without a binding: nothing to revoke, its IKE SA is deleted at once (IKE_DELETE
 * on the plugin's connection), and charon's IKE_DOWN then ends the session ADMINISTRATIVE. */
Test(s6b, abort_without_binding_deletes_the_ike_sa)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct cp_ike_srv srv = { .listen_fd = -1, .fd = sv[0], .ike = &ike, .install = no_install,
				  .detach = fake_detach, .hello = true };
	detaches = 0;
	struct ha_ike_prefix_req rq = req(4, UE1, "ha;7;1");
	cr_assert_eq(ask(&rq).result, 0);
	struct ha_ike_aaa_order o = order(HA_IKE_AAA_ABORT, "ha;7;1");
	cr_assert_eq(call(&srv, &o.h).result, 0);
	cr_assert_eq(detaches, 0, "no BRI without a binding");
	struct ha_ike_down del;
	cr_assert_eq(recv(sv[1], &del, sizeof(del), MSG_DONTWAIT), (ssize_t)sizeof(del));
	cr_assert_eq(del.h.type, HA_IKE_IKE_DELETE);
	cr_assert_eq(del.h.ike_sa, 4);
	struct ha_ike_down down = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_IKE_DOWN,
					   .len = sizeof(down), .seq = 2, .ike_sa = 4 } };
	cr_assert_eq(call(&srv, &down.h).result, 0);
	/* the end goes on the same connection at the next flush */
	cr_assert_eq(cp_ike_srv_flush_ends(&srv), 1);
	struct ha_ike_aaa_end e;
	cr_assert_eq(recv(sv[1], &e, sizeof(e), MSG_DONTWAIT), (ssize_t)sizeof(e));
	cr_assert_eq(e.h.type, HA_IKE_AAA_END);
	cr_assert_eq(e.cause, HA_IKE_AAA_END_ADMINISTRATIVE);
	cr_assert_str_eq(e.aaa_session, "ha;7;1");
	cr_assert_eq(ike.ctr[CP_IKE_AAA_END_SENT], 1);
	close(sv[0]);
	close(sv[1]);
}

/* The ends (TS 29.273 9.2.2.3): the UE's DELETE is a LOGOUT; a new IKE SA with a new
 * Session-Id ends the old Diameter session (LOGOUT: the UE's own re-attach ended it); an expired
 * binding is SESSION_TIMEOUT and clears the Session-Id, so the IKE SA's later end tells nothing
 * more; without a Session-Id (not S6b) nothing is told. */
Test(s6b, each_session_ends_once_with_its_cause)
{
	struct ha_ike_aaa_end e[8];
	struct cp_ike_gone gone;

	struct ha_ike_prefix_req a = req(1, UE1, "ha;8;1");
	cr_assert_eq(ask(&a).result, 0);
	a.h.ike_sa = 2;
	snprintf(a.aaa_session, sizeof(a.aaa_session), "ha;8;2");
	cr_assert_eq(ask(&a).result, 0, "re-authentication under a new IKE SA");
	cr_assert_eq(take_ends(&ike, e, 8), 1);
	cr_assert_str_eq(e[0].aaa_session, "ha;8;1");
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_LOGOUT);
	cr_assert_eq(ike.ctr[CP_IKE_SID_REPLACED], 1);
	cr_assert_null(cp_ike_session_by_aaa(&ike, "ha;8;1"));
	cr_assert_eq(cp_ike_session_by_aaa(&ike, "ha;8;2")->ike_sa, 2);
	a.h.ike_sa = 3;
	cr_assert_eq(ask(&a).result, 0, "a new IKE SA on the same Diameter session");
	cr_assert_eq(take_ends(&ike, e, 8), 0, "ends nothing");
	cr_assert_eq(cp_ike_down(&ike, 3, HA_IKE_AAA_END_LOGOUT, &gone), 0, "the UE's DELETE");
	cr_assert_eq(take_ends(&ike, e, 8), 1);
	cr_assert_str_eq(e[0].aaa_session, "ha;8;2");
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_LOGOUT);

	/* a binding that runs out: SESSION_TIMEOUT at the expiry, nothing at the IKE SA's end */
	struct ha_ike_prefix_req b = req(5, UE2, "ha;8;3");
	struct ha_ike_prefix_rep br = ask(&b);
	cr_assert_eq(br.result, 0);
	char hoa[80];
	snprintf(hoa, sizeof(hoa), "%s9", pfx(&br));
	register_ue(5, hoa, 0xc0000005, 100, 1, 10); /* 40 s */
	struct ha_binding_spec del[4];
	cr_assert_eq(cp_expire(&ctx, 139, del, 4), 0);
	unsigned n = cp_expire(&ctx, 140, del, 4);
	cr_assert_eq(n, 1);
	cp_ike_binding_expired(&ike, del[0].home_prefix);
	cr_assert_eq(take_ends(&ike, e, 8), 1);
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_SESSION_TIMEOUT);
	cr_assert_str_eq(e[0].aaa_session, "ha;8;3");
	cr_assert_str_eq(cp_ike_session_of(&ike, 5)->aaa_session, "", "the Session-Id is cleared");
	cp_ike_binding_expired(&ike, del[0].home_prefix);
	cr_assert_eq(cp_ike_down(&ike, 5, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(take_ends(&ike, e, 8), 0, "never ended twice");

	/* hactl detach marks the session: its DELETE then ends it ADMINISTRATIVE */
	struct ha_ike_prefix_req c = req(6, "0001010000000003@x", "ha;8;4");
	struct ha_ike_prefix_rep cr = ask(&c);
	char hoa3[80];
	snprintf(hoa3, sizeof(hoa3), "%s1", pfx(&cr));
	struct in6_addr h3 = A(hoa3);
	cp_ike_detaching(&ike, &h3);
	cr_assert_eq(cp_ike_down(&ike, 6, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(take_ends(&ike, e, 8), 1);
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_ADMINISTRATIVE);

	/* the AAA is not S6b: no Session-Id, no end */
	struct ha_ike_prefix_req d = req(7, "0001010000000004@x", "");
	cr_assert_eq(ask(&d).result, 0);
	cr_assert_eq(cp_ike_down(&ike, 7, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(take_ends(&ike, e, 8), 0);
	cr_assert_eq(ike.ctr[CP_IKE_AAA_END_DROPPED], 0);
}

/* Orphans (charon restarted): one whose UE attaches again ends its old Diameter session
 * (LOGOUT); one whose UE never comes back ends at ike.ike_lifetime: AUTH_EXPIRED; an ASR for
 * an orphan without a binding ends it at once (no IKE SA to delete). */
Test(s6b, orphans_end_auth_expired_or_at_once_on_abort)
{
	struct cp_ike_srv srv = { .listen_fd = -1, .fd = -1, .ike = &ike, .install = no_install,
				  .detach = fake_detach, .hello = true };
	struct ha_ike_aaa_end e[4];
	struct cp_ike_gone gone;
	struct ha_ike_prefix_req a = req(1, UE1, "ha;9;1");
	struct ha_ike_prefix_req b = req(2, UE2, "ha;9;2");
	struct ha_ike_prefix_req c = req(3, "0001010000000003@x", "ha;9;3");
	cr_assert_eq(ask(&a).result, 0);
	cr_assert_eq(ask(&b).result, 0);
	cr_assert_eq(ask(&c).result, 0);
	cr_assert_eq(cp_ike_hello(&ike, 0x77, 100), 3);
	/* an orphan's UE attaches again: a new Diameter session, the old one over (LOGOUT) */
	c.h.ike_sa = 1;
	snprintf(c.aaa_session, sizeof(c.aaa_session), "ha;9;3b");
	cr_assert_eq(ask(&c).result, 0);
	cr_assert_eq(take_ends(&ike, e, 4), 1);
	cr_assert_str_eq(e[0].aaa_session, "ha;9;3");
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_LOGOUT);
	cr_assert_eq(ike.ctr[CP_IKE_ORPHAN_BACK], 1);
	uint32_t due[4];
	cr_assert_eq(cp_ike_orphans_due(&ike, 100 + cfg.ike.ike_lifetime - 1, due, 4), 0);

	struct ha_ike_aaa_order o = order(HA_IKE_AAA_ABORT, "ha;9;2");
	cr_assert_eq(call(&srv, &o.h).result, 0);
	cr_assert_eq(take_ends(&ike, e, 4), 1);
	cr_assert_str_eq(e[0].aaa_session, "ha;9;2");
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_ADMINISTRATIVE);
	cr_assert_eq(ike.count, 2);

	cr_assert_eq(cp_ike_orphans_due(&ike, 100 + cfg.ike.ike_lifetime, due, 4), 1);
	cr_assert_eq(cp_ike_down(&ike, due[0], HA_IKE_AAA_END_AUTH_EXPIRED, &gone), 0);
	cr_assert_eq(take_ends(&ike, e, 4), 1);
	cr_assert_str_eq(e[0].aaa_session, "ha;9;1");
	cr_assert_eq(e[0].cause, HA_IKE_AAA_END_AUTH_EXPIRED);
}

/* The plugin away: the ends wait (at most CP_AAA_ENDS_MAX, the rest counted lost) and go, in
 * order, after its next HELLO, the HELLO's RESULT first. */
Test(s6b, ends_wait_for_the_plugin_and_go_after_hello)
{
	struct cp_ike_gone gone;
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct cp_ike_srv srv = { .listen_fd = -1, .fd = -1, .ike = &ike, .install = no_install };
	for (uint32_t i = 1; i <= 3; i++) {
		char nai[32], sid[32];
		snprintf(nai, sizeof(nai), "00010100000000%02u@x", i);
		snprintf(sid, sizeof(sid), "ha;10;%u", i);
		struct ha_ike_prefix_req rq = req(i, nai, sid);
		cr_assert_eq(ask(&rq).result, 0);
		cr_assert_eq(cp_ike_down(&ike, i, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	}
	cr_assert_eq(cp_ike_srv_flush_ends(&srv), 0, "no connection: they wait");
	srv.fd = sv[0];
	cr_assert_eq(cp_ike_srv_flush_ends(&srv), 0, "connected, but no HELLO yet");
	struct ha_ike_hello hello = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_HELLO,
					     .len = sizeof(hello), .seq = 1 },
				      .instance = 5 };
	cr_assert_eq(call(&srv, &hello.h).result, 0);
	cr_assert_eq(cp_ike_srv_flush_ends(&srv), 3);
	for (unsigned i = 1; i <= 3; i++) {
		struct ha_ike_aaa_end e;
		char sid[32];
		snprintf(sid, sizeof(sid), "ha;10;%u", i);
		cr_assert_eq(recv(sv[1], &e, sizeof(e), MSG_DONTWAIT), (ssize_t)sizeof(e));
		cr_assert_str_eq(e.aaa_session, sid, "in the order they ended");
	}
	cr_assert_eq(ike.ctr[CP_IKE_AAA_END_SENT], 3);
	close(sv[0]);
	close(sv[1]);

	/* bounded: one more than fits is counted lost, not kept */
	for (unsigned i = 0; i < CP_AAA_ENDS_MAX; i++)
		cr_assert(cp_aaa_ends_push(&ike.ends, "x", HA_IKE_AAA_END_LOGOUT));
	struct ha_ike_prefix_req rq = req(9, UE1, "ha;10;9");
	cr_assert_eq(ask(&rq).result, 0);
	cr_assert_eq(cp_ike_down(&ike, 9, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(ike.ctr[CP_IKE_AAA_END_DROPPED], 1);
	cr_assert_eq(ike.ends.n, CP_AAA_ENDS_MAX);
}

/* AAA_EVENT: counted under ha_ike_aaa_event_name, beside the IKE counters. */
Test(s6b, events_counted_by_name)
{
	struct cp_ike_srv srv = { .listen_fd = -1, .fd = -1, .ike = &ike, .hello = true };
	struct ha_ike_aaa_event_msg ev = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_AAA_EVENT,
						  .len = sizeof(ev), .seq = 3 },
					   .event = HA_IKE_AAA_EV_AUTH_REJECTED };
	cr_assert_eq(call(&srv, &ev.h).result, 0);
	cr_assert_eq(call(&srv, &ev.h).result, 0);
	ev.event = HA_IKE_AAA_EV__COUNT;
	cr_assert_eq(call(&srv, &ev.h).result, -EINVAL);
	ev.event = 0;
	cr_assert_eq(call(&srv, &ev.h).result, -EINVAL);
	bool found = false;
	for (unsigned i = 0; i < CP_IKE_N_COUNTERS; i++)
		if (!strcmp(cp_ike_counter_name(i), "s6b-auth-rejected")) {
			cr_assert_eq(cp_ike_counter(&ike, i), 2);
			found = true;
		}
	cr_assert(found);
	cr_assert_str_eq(cp_ike_counter_name(CP_IKE_N_COUNTERS), "invalid");
}
