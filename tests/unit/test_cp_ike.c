/*
 * hacpd's IKE sessions (controlplane/cp_ike.c): TS 24.303 5.1.3.1 (a home prefix per UE and
 * PDN in IKE_AUTH, RFC 5026), 002 4.3 (one session per PDN), RFC 4877 4.1 (the BU/BA child SA's
 * selectors are the UE's home address; the BU is accepted only under an SA of the IKE SA that
 * was given that prefix), 003 / 004 5.4.3.2 (the IKE SA's DELETE takes its SAs and binding).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "cp_ike_fixture.h"
#include "cp_ike_guard.h"
#include "cp_ike_path.h"
#include "cp_ike_srv.h"

TestSuite(ike, .init = setup, .fini = teardown);

static struct ha_ike_prefix_rep ask(uint32_t ike_sa, const char *nai, const char *apn)
{
	struct ha_ike_prefix_req rq = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REQ,
					       .len = sizeof(rq), .seq = 9, .ike_sa = ike_sa } };
	struct ha_ike_prefix_rep rep;
	snprintf(rq.nai, sizeof(rq.nai), "%s", nai);
	snprintf(rq.apn, sizeof(rq.apn), "%s", apn);
	cp_ike_prefix(&ike, &rq, &rep, &left);
	cr_assert_eq(rep.h.seq, 9);
	cr_assert_eq(ha_ike_check_hdr(&rep.h), 0);
	return rep;
}

static const char *pfx(const struct ha_ike_prefix_rep *r)
{
	static char s[64];
	inet_ntop(AF_INET6, r->prefix, s, sizeof(s));
	return s;
}

Test(ike, a_prefix_per_ue_and_pdn_kept_across_ike_sas)
{
	struct ha_ike_prefix_rep a = ask(1, UE1, "internet");
	cr_assert_eq(a.result, 0);
	cr_assert_str_eq(pfx(&a), "2001:db8:100:1::", "2001:db8:100::/64 is a static binding's");
	cr_assert_eq(a.prefix_len, 64);
	struct ha_ike_prefix_rep b = ask(2, UE2, "INTERNET");
	cr_assert_eq(b.result, 0, "APNs compare without case (TS 23.003 9.1)");
	cr_assert_str_eq(pfx(&b), "2001:db8:100:2::");
	/* 002 4.3: the same UE on a second PDN: another session, another prefix */
	struct ha_ike_prefix_rep c = ask(3, UE1, "ims.mnc001.mcc001.gprs");
	cr_assert_eq(c.result, 0);
	cr_assert_str_eq(pfx(&c), "2001:db8:200::");
	/* the same UE and PDN under a new IKE SA keeps its prefix */
	struct ha_ike_prefix_rep d = ask(4, UE1, "internet");
	cr_assert_str_eq(pfx(&d), "2001:db8:100:1::");
	cr_assert_null(cp_ike_session_of(&ike, 1));
	cr_assert_not_null(cp_ike_session_of(&ike, 4));
	cr_assert_eq(ask(5, UE2, "nowhere").result, -ENOENT);
	cr_assert_eq(ask(6, "0001010000000003@x", "internet").result, 0);
	cr_assert_eq(ask(7, "0001010000000004@x", "internet").result, -ENOSPC,
		     "a /62 of /64s holds four prefixes, one of them static");
	cr_assert_eq(ike.ctr[CP_IKE_PREFIX_NO_SPACE], 1);
}

static struct ha_ike_sa_add sa_msg(uint32_t ike_sa, uint32_t reqid, uint32_t spi, uint8_t dir,
				   const char *ts, uint8_t ts_len)
{
	struct ha_ike_sa_add m = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_SA_ADD,
					  .len = sizeof(m), .seq = 1, .ike_sa = ike_sa } };
	m.sa = (struct ha_sa_spec){ .spi = spi, .direction = dir, .mode = HA_SA_TRANSPORT,
				    .family = AF_INET6, .encryption = HA_CFG_ENC_AES_GCM_128,
				    .integrity = HA_CFG_INTEG_NONE, .key_len = 20 };
	m.reqid = reqid;
	inet_pton(AF_INET6, ts, m.ts_remote);
	m.ts_remote_len = ts_len;
	m.ts_proto = MH_PROTO;
	return m;
}

static struct mh_msg bu_msg(uint16_t seq)
{
	struct mh_msg m = { .type = MH_TYPE_BU };
	m.bu.seq = seq;
	m.bu.flags = MH_BU_A | MH_BU_H | MH_BU_K;
	m.bu.lifetime = 100;
	return m;
}

/* The BU m of home address hoa from care-of address 2001:db8:aaaa::2 (HAO), under ESP SA spi. */
static struct cp_bu_in bu_from(const struct mh_msg *m, const char *hoa, uint32_t spi, uint64_t now)
{
	return (struct cp_bu_in){ .bu = m, .src6 = A("2001:db8:aaaa::2"), .has_hao = true,
				  .hoa = A(hoa), .esp = true, .sa_spi = spi, .now = now };
}

Test(ike, child_sas_only_for_the_own_home_address_and_delete_takes_all)
{
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	cr_assert_eq(ask(1, UE1, "internet").result, 0); /* 2001:db8:100:1::/64 */
	cr_assert_eq(ask(2, UE2, "internet").result, 0); /* 2001:db8:100:2::/64 */

	struct ha_ike_sa_add in = sa_msg(1, 1, 0xc0000001, HA_SA_IN, "2001:db8:100:1::55", 128);
	struct ha_ike_sa_add out = sa_msg(1, 1, 0xc1000001, HA_SA_OUT, "2001:db8:100:1::55", 128);
	cr_assert_eq(cp_ike_sa_add(&ike, &in, &inst, &rb, &has_rb), 0);
	cr_assert_eq(inst.spi, 0xc0000001);
	cr_assert_eq(cp_ike_sa_add(&ike, &out, &inst, &rb, &has_rb), 0);

	/* RFC 4877 4.1: UE2's IKE SA asks for selectors of UE1's home address: refused */
	struct ha_ike_sa_add steal = sa_msg(2, 1, 0xc0000002, HA_SA_IN, "2001:db8:100:1::77", 128);
	cr_assert_eq(cp_ike_sa_add(&ike, &steal, &inst, &rb, &has_rb), -EPERM);
	struct ha_ike_sa_add wide = sa_msg(2, 1, 0xc0000002, HA_SA_IN, "2001:db8:100::", 48);
	cr_assert_eq(cp_ike_sa_add(&ike, &wide, &inst, &rb, &has_rb), -EPERM, "a transport SA names one address");
	struct ha_ike_sa_add orphan = sa_msg(99, 1, 0xc0000003, HA_SA_IN, "2001:db8:100:1::55", 128);
	cr_assert_eq(cp_ike_sa_add(&ike, &orphan, &inst, &rb, &has_rb), -ENOENT);
	cr_assert_eq(ike.ctr[CP_IKE_SA_NOT_HOA], 2);

	/* a BU of UE1's home address under UE1's IKE-made SA is accepted, its BA goes under the
	 * outbound half (TS 24.303 5.1.3.2) */
	struct mh_msg m = bu_msg(1);
	struct cp_bu_in bu = bu_from(&m, "2001:db8:100:1::55", 0xc0000001, 10);
	struct cp_bu_out o;
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(o.send_ba && o.ba.ba.status == MH_BA_ACCEPTED);
	cr_assert_eq(o.spi_out, 0xc1000001);
	cr_assert_eq(ctx.cache.count, 1);
	cr_assert(o.moved, "K set, a new binding: the IKE SA goes to the care-of address");
	/* RFC 4877 4.4: a refresh from the same care-of address moves nothing, a handover does */
	m = bu_msg(2);
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(o.send_ba && !o.moved);
	m = bu_msg(3);
	bu.src6 = A("2001:db8:aaaa::3");
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(o.moved);
	struct in6_addr coa3 = A("2001:db8:aaaa::3");
	cr_assert_arr_eq(&o.coa.v6, &coa3, 16);
	m = bu_msg(4);
	m.bu.flags &= (uint16_t)~MH_BU_K;
	bu.src6 = A("2001:db8:aaaa::4");
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(o.send_ba && !o.moved, "without K the IKE SA stays (RFC 4877 4.4)");
	/* UE2 cannot register UE1's home address: no SA of UE2's is bound to it */
	bu.sa_spi = 0xc0000002;
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(o.drop);

	/* 004 5.4.3.2: the IKE SA's DELETE takes the binding and both SAs */
	struct cp_ike_gone gone;
	cr_assert_eq(cp_ike_down(&ike, 1, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(gone.n_sa, 2);
	cr_assert(gone.has_binding);
	struct in6_addr p1 = A("2001:db8:100:1::");
	cr_assert_arr_eq(gone.binding.home_prefix, &p1, 16);
	cr_assert_eq(ctx.cache.count, 0);
	cr_assert_null(cp_sigsa_of(&ctx.sigsa, 0xc0000001));
	cr_assert_eq(cp_ike_down(&ike, 1, HA_IKE_AAA_END_LOGOUT, &gone), -ENOENT);
	/* the prefix went back to the pool: the next UEs get :3:: and then :1:: again */
	struct ha_ike_prefix_rep r3 = ask(3, "0001010000000009@x", "internet");
	cr_assert_str_eq(pfx(&r3), "2001:db8:100:3::");
	struct ha_ike_prefix_rep r4 = ask(4, "0001010000000008@x", "internet");
	cr_assert_str_eq(pfx(&r4), "2001:db8:100:1::");
}

/* The IKE socket's message handling (shared/ha_ike_msg.h): HELLO first, every request answered
 * with its seq, hadp's commands queued, anything malformed refused (the connection drops). */
static struct ha_cmd cmds[16];
static unsigned n_cmds;

static int capture(void *arg, struct ha_cmd *c)
{
	(void)arg;
	cr_assert_lt(n_cmds, 16);
	c->seq = 100 + n_cmds;
	cmds[n_cmds++] = *c;
	return 0;
}

Test(ike, socket_messages)
{
	struct cp_ike_srv srv = { .listen_fd = -1, .fd = -1, .ike = &ike, .install = capture };
	union {
		struct ha_ike_prefix_rep rep;
		struct ha_ike_result res;
	} r;
	struct ha_ike_hdr bad = { .version = HA_IKE_VERSION, .type = HA_IKE_HELLO, .len = 17 };
	cr_assert_eq(cp_ike_srv_handle(&srv, &bad, &r, sizeof(r)), -EBADMSG, "a wrong length");
	bad.version = HA_IKE_VERSION + 1;
	bad.len = sizeof(struct ha_ike_hello);
	cr_assert_eq(cp_ike_srv_handle(&srv, &bad, &r, sizeof(r)), -EPROTO, "another version");

	struct ha_ike_prefix_req rq = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REQ,
					       .len = sizeof(rq), .seq = 2, .ike_sa = 5 } };
	snprintf(rq.nai, sizeof(rq.nai), UE1);
	snprintf(rq.apn, sizeof(rq.apn), "internet");
	cr_assert_eq(cp_ike_srv_handle(&srv, &rq.h, &r, sizeof(r)), -EPROTO, "HELLO comes first");

	struct ha_ike_hello hello = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_HELLO,
					     .len = sizeof(hello), .seq = 1 } };
	cr_assert_eq(cp_ike_srv_handle(&srv, &hello.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.res.h.type, HA_IKE_RESULT);
	cr_assert_eq(r.res.h.seq, 1);
	cr_assert_eq(cp_ike_srv_handle(&srv, &rq.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.rep.h.type, HA_IKE_PREFIX_REP);
	cr_assert_eq(r.rep.h.seq, 2);
	cr_assert_eq(r.rep.result, 0);

	struct ha_ike_sa_add add = sa_msg(5, 1, 0xc0000005, HA_SA_IN, "2001:db8:100:1::1", 128);
	cr_assert_eq(cp_ike_srv_handle(&srv, &add.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.res.result, 0);
	cr_assert_eq(n_cmds, 1);
	cr_assert_eq(cmds[0].type, HA_CMD_SA_ADD);
	cr_assert_eq(cmds[0].sa.spi, 0xc0000005);
	struct ha_ike_sa_add steal = sa_msg(5, 2, 0xc0000006, HA_SA_IN, "2001:db8:100:2::1", 128);
	cr_assert_eq(cp_ike_srv_handle(&srv, &steal.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.res.result, -EPERM, "refused, and said so to charon");
	cr_assert_eq(n_cmds, 1, "nothing for hadp");

	struct ha_ike_down down = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_IKE_DOWN,
					   .len = sizeof(down), .seq = 4, .ike_sa = 5 } };
	cr_assert_eq(cp_ike_srv_handle(&srv, &down.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.res.result, 0);
	cr_assert_eq(n_cmds, 2);
	cr_assert_eq(cmds[1].type, HA_CMD_SA_DELETE);
	cr_assert_eq(cmds[1].sa_del.spi, 0xc0000005);

	/* query_sa: a command to hadp, answered when hadp acks it (not at once) */
	struct ha_ike_sa_del q = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_SA_QUERY,
					  .len = sizeof(q), .seq = 6, .ike_sa = 5 },
				   .spi = 0xc0000005, .direction = HA_SA_IN };
	cr_assert_eq(cp_ike_srv_handle(&srv, &q.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.res.h.len, 0, "no answer before hadp's");
	cr_assert_eq(cmds[n_cmds - 1].type, HA_CMD_SA_QUERY);
	struct ha_cmd_ack ack = { .version = HA_RING_VERSION, .type = HA_CMD_SA_QUERY,
				  .seq = cmds[n_cmds - 1].seq, .packets = 2, .bytes = 56 };
	cr_assert(cp_ike_srv_ack(&srv, &ack), "the ack answers the waiting query");
	cr_assert_not(cp_ike_srv_ack(&srv, &ack), "once");

	struct ha_ike_down move = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_IKE_DELETE,
					   .len = sizeof(move), .seq = 5 } };
	cr_assert_eq(cp_ike_srv_handle(&srv, &move.h, &r, sizeof(r)), -EBADMSG,
		     "a hacpd-to-plugin message from the plugin");
}

/* TS 24.303 5.1.2.2: an IPv4 home address asked for in IKEv2 (INTERNAL_IP4_ADDRESS) comes from
 * the PDN's pool and is the one the UE's BU then gets (RFC 5555 3.1.1); the binding never gives
 * it back to the pool, the IKE SA's end does. */
Test(ike, ipv4_home_address_from_ike_then_in_the_ba)
{
	static const char *y =
		"dataplane:\n"
		"  lcores: { main: 0, workers: [1] }\n"
		"  ports: { access: { device: net_null0 }, core: { device: net_null1 } }\n"
		"home_agent: { ipv6_address: 2001:db8:ffff::1, ipv4_address: 192.0.2.1 }\n"
		"pdns:\n"
		"  - { name: internet, home_prefix_pool: 2001:db8:100::/48, home_prefix_length: 64,\n"
		"      ipv4_pool: 10.45.0.0/30 }\n"
		"ike: { enabled: false }\n";
	struct ha_config c4;
	struct ha_config_error err;
	struct cp_ctx x;
	struct cp_ike k;
	cr_assert_eq(ha_config_load_buffer("t4.yaml", y, strlen(y), &c4, &err), 0, "%s", err.msg);
	cr_assert_eq(cp_ctx_init(&x, &c4), 0);
	cr_assert_eq(cp_ike_init(&k, &x), 0);

	struct ha_ike_prefix_req rq = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REQ,
					       .len = sizeof(rq), .seq = 1, .ike_sa = 3 },
					.want_ip4 = 1 };
	snprintf(rq.nai, sizeof(rq.nai), UE1);
	struct ha_ike_prefix_rep rep;
	cp_ike_prefix(&k, &rq, &rep, &left);
	cr_assert_eq(rep.result, 0);
	cr_assert(rep.has_ip4);
	char v4[16];
	inet_ntop(AF_INET, rep.ip4, v4, sizeof(v4));
	cr_assert_str_eq(v4, "10.45.0.1");

	struct ha_ike_sa_add in = sa_msg(3, 1, 0xc0000003, HA_SA_IN, "2001:db8:100::1", 128);
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	cr_assert_eq(cp_ike_sa_add(&k, &in, &inst, &rb, &has_rb), 0);
	struct mh_msg m = bu_msg(1);
	MH_SET_OPT(&m.opts, MH_OPT_IPV4_HOA);
	m.opts.ipv4_hoa.prefix_len = 32; /* 0.0.0.0: "assign me one" */
	struct cp_bu_in bu = bu_from(&m, "2001:db8:100::1", 0xc0000003, 5);
	struct cp_bu_out o;
	cp_bu_process(&x, &bu, &o);
	cr_assert(MH_HAS_OPT(&o.ba.opts, MH_OPT_IPV4_ACK));
	cr_assert_eq(o.ba.opts.ipv4_ack.status, 0);
	inet_ntop(AF_INET, &o.ba.opts.ipv4_ack.addr, v4, sizeof(v4));
	cr_assert_str_eq(v4, "10.45.0.1", "the BA gives the address IKE gave");
	cr_assert_eq(cp_pool4_used(&x.pool4[0]), 1, "one address, not two");

	/* de-registration: the binding goes, the address stays the session's */
	m = bu_msg(2);
	m.bu.lifetime = 0;
	cp_bu_process(&x, &bu, &o);
	cr_assert_eq(x.cache.count, 0);
	cr_assert_eq(cp_pool4_used(&x.pool4[0]), 1);
	struct cp_ike_gone gone;
	cr_assert_eq(cp_ike_down(&k, 3, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(cp_pool4_used(&x.pool4[0]), 0, "the IKE SA's end gives it back");
	cp_ike_free(&k);
	cp_ctx_free(&x);
	ha_config_free(&c4);
}

/* The payload child SA (tunnel mode, TS 24.303 5.1.3.2: the UE's data in ESP): once both halves
 * are in and the UE has a binding, the binding is given to hadp again with the pair; a BU then
 * keeps it; deleting a half takes the binding back to plain before the SA goes. */
Test(ike, payload_sa_pair_follows_the_binding)
{
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	cr_assert_eq(ask(1, UE1, "internet").result, 0); /* 2001:db8:100:1::/64 */
	struct ha_ike_sa_add bu_in = sa_msg(1, 1, 0xc0000001, HA_SA_IN, "2001:db8:100:1::55", 128);
	struct ha_ike_sa_add bu_out = sa_msg(1, 1, 0xc1000001, HA_SA_OUT, "2001:db8:100:1::55", 128);
	cr_assert_eq(cp_ike_sa_add(&ike, &bu_in, &inst, &rb, &has_rb), 0);
	cr_assert_eq(cp_ike_sa_add(&ike, &bu_out, &inst, &rb, &has_rb), 0);
	struct mh_msg m = bu_msg(1);
	struct cp_bu_in bu = bu_from(&m, "2001:db8:100:1::55", 0xc0000001, 10);
	struct cp_bu_out o;
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(!(o.spec.flags & HA_BIND_F_SA), "no payload SA yet");

	struct ha_ike_sa_add p_in = sa_msg(1, 2, 0xc0000002, HA_SA_IN, "2001:db8:100:1::", 64);
	struct ha_ike_sa_add p_out = sa_msg(1, 2, 0xc1000002, HA_SA_OUT, "2001:db8:100:1::", 64);
	p_in.sa.mode = p_out.sa.mode = HA_SA_TUNNEL;
	p_in.ts_proto = p_out.ts_proto = 0;
	cr_assert_eq(cp_ike_sa_add(&ike, &p_in, &inst, &rb, &has_rb), 0);
	cr_assert_not(has_rb, "half a pair changes nothing");
	cr_assert_eq(cp_ike_sa_add(&ike, &p_out, &inst, &rb, &has_rb), 0);
	cr_assert(has_rb);
	cr_assert(rb.flags & HA_BIND_F_SA);
	cr_assert_eq(rb.sa_in, 0xc0000002);
	cr_assert_eq(rb.sa_out, 0xc1000002);
	cr_assert_null(cp_sigsa_of(&ctx.sigsa, 0xc0000002), "a tunnel SA protects no signalling");

	m = bu_msg(2);
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(o.spec.flags & HA_BIND_F_SA, "a refresh keeps the payload SAs");

	struct ha_ike_sa_del d = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_SA_DEL,
					  .len = sizeof(d), .ike_sa = 1 },
				   .spi = 0xc1000002, .direction = HA_SA_OUT };
	cp_ike_sa_del(&ike, &d, &rb, &has_rb);
	cr_assert(has_rb && !(rb.flags & HA_BIND_F_SA), "the binding goes back to plain first");
}

/* RFC 3948 across a NAT (docs/ikev2.md): only a tunnel-mode SA between IPv4 addresses travels in
 * UDP; a BU/BA SA's ESP rides RFC 5555's UDP 4191 tunnel, so a port for it is refused, and a
 * new NAT mapping (charon's update_sa) reaches hadp only for the IKE SA's own SAs. */
Test(ike, esp_in_udp_only_for_ipv4_payload_sas_of_the_ike_sa)
{
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	cr_assert_eq(ask(1, UE1, "internet").result, 0);
	struct ha_ike_sa_add bu_in = sa_msg(1, 1, 0xc0000001, HA_SA_IN, "2001:db8:100:1::55", 128);
	bu_in.sa.family = AF_INET;
	bu_in.sa.encap_port = 4500;
	cr_assert_eq(cp_ike_sa_add(&ike, &bu_in, &inst, &rb, &has_rb), -EINVAL,
		     "a transport SA takes no RFC 3948 port");
	bu_in.sa.encap_port = 0;
	cr_assert_eq(cp_ike_sa_add(&ike, &bu_in, &inst, &rb, &has_rb), 0);

	struct ha_ike_sa_add p_in = sa_msg(1, 2, 0xc0000002, HA_SA_IN, "2001:db8:100:1::", 64);
	p_in.sa.mode = HA_SA_TUNNEL;
	p_in.ts_proto = 0;
	p_in.sa.encap_port = 40500;
	cr_assert_eq(cp_ike_sa_add(&ike, &p_in, &inst, &rb, &has_rb), -EINVAL,
		     "ESP-in-UDP between IPv6 addresses is refused");
	p_in.sa.family = AF_INET;
	cr_assert_eq(cp_ike_sa_add(&ike, &p_in, &inst, &rb, &has_rb), 0);
	cr_assert_eq(inst.encap_port, 40500, "hadp gets the NAT's port");

	struct ha_ike_sa_del e = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_SA_ENCAP,
					  .len = sizeof(e), .ike_sa = 1 },
				   .spi = 0xc0000002, .direction = HA_SA_IN, .encap_port = 40777 };
	cr_assert_eq(ha_ike_check_hdr(&e.h), 0);
	cr_assert_eq(cp_ike_sa_encap(&ike, &e), 0);
	e.spi = 0xc0000001;
	cr_assert_eq(cp_ike_sa_encap(&ike, &e), -EINVAL, "not for the BU/BA SA");
	e.spi = 0xc0000002;
	e.h.ike_sa = 2;
	cr_assert_eq(cp_ike_sa_encap(&ike, &e), -ENOENT, "not through another IKE SA");
}

/* A restarted hacpd (docs/controlplane.md "Restart"): the sessions live in slots that outlive
 * it; the next one adopts them: the same IKE SA owns the same prefix, the signalling SA still
 * speaks for the home address (RFC 4877 4.1), and the prefix is not handed out again. */
Test(ike, sessions_adopted_by_a_restarted_hacpd)
{
	struct cp_ike_session *slots = calloc(8, sizeof(*slots));
	struct cp_ike first;
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	cr_assert_eq(cp_ike_init_store(&first, &ctx, slots, 8, false), 0);
	struct ha_ike_prefix_req rq = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REQ,
					       .len = sizeof(rq), .seq = 1, .ike_sa = 7 },
					.want_ip4 = 0 };
	snprintf(rq.nai, sizeof(rq.nai), "%s", UE1);
	struct ha_ike_prefix_rep rep;
	cp_ike_prefix(&first, &rq, &rep, &left);
	cr_assert_eq(rep.result, 0);
	char given[INET6_ADDRSTRLEN], hoa[INET6_ADDRSTRLEN + 4];
	inet_ntop(AF_INET6, rep.prefix, given, sizeof(given));
	snprintf(hoa, sizeof(hoa), "%s55", given); /* prefix::55 */
	struct ha_ike_sa_add in = sa_msg(7, 1, 0xc0000011, HA_SA_IN, hoa, 128);
	cr_assert_eq(cp_ike_sa_add(&first, &in, &inst, &rb, &has_rb), 0);
	cp_ike_free(&first);  /* hacpd goes; its slots stay */

	struct cp_ctx again;
	struct cp_ike second;
	cr_assert_eq(cp_ctx_init(&again, &cfg), 0);
	slots[5] = slots[0];
	slots[5].pdn = 9;  /* a PDN the configuration no longer has: dropped */
	cr_assert_eq(cp_ike_init_store(&second, &again, slots, 8, true), 0);
	cr_assert_eq(second.adopted, 1);
	cr_assert_not(slots[5].used, "the stale slot was cleared");
	const struct cp_ike_session *s = cp_ike_session_of(&second, 7);
	cr_assert_not_null(s);
	cr_assert_str_eq(s->nai, UE1);
	cr_assert_eq(memcmp(&s->prefix, rep.prefix, 16), 0, "the same prefix");
	const struct cp_sigsa *sig = cp_sigsa_of(&again.sigsa, 0xc0000011);
	cr_assert_not_null(sig, "the BU/BA SA is registered again");
	cr_assert_eq(sig->ike_sa, 7);
	/* another UE gets another prefix: the adopted one is taken */
	struct ha_ike_prefix_req rq2 = rq;
	rq2.h.ike_sa = 8;
	snprintf(rq2.nai, sizeof(rq2.nai), "%s", UE2);
	struct ha_ike_prefix_rep rep2;
	cp_ike_prefix(&second, &rq2, &rep2, &left);
	cr_assert_eq(rep2.result, 0);
	cr_assert_neq(memcmp(rep2.prefix, rep.prefix, 16), 0);
	/* and the session ends as any other */
	struct cp_ike_gone gone;
	cr_assert_eq(cp_ike_down(&second, 7, HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(gone.n_sa, 1);
	cr_assert_null(cp_sigsa_of(&again.sigsa, 0xc0000011));
	cp_ike_free(&second);
	cp_ctx_free(&again);
	free(slots);
}

/* The IKE SAs of a run of charon die with it, not what they made (docs/ikev2.md, "charon
 * restarted"): at a HELLO from another run the sessions of the old one are orphaned, their
 * binding, signalling SAs and payload SAs kept (hadp is told nothing), their ids out of the new
 * run's way; a reconnection of the same run changes nothing. The UE re-authenticating gets its
 * prefix again (TS 24.303 5.1.3.1): the binding first lets go of the old payload pair, then
 * the old SAs leave hadp, and the new pair takes the same binding. */
Test(ike, a_new_run_of_charon_orphans_the_old_runs_sessions)
{
	struct cp_ike_srv srv = { .listen_fd = -1, .fd = -1, .ike = &ike, .install = capture };
	union {
		struct ha_ike_prefix_rep rep;
		struct ha_ike_result res;
	} r;
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	n_cmds = 0;
	struct ha_ike_hello hello = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_HELLO,
					     .len = sizeof(hello), .seq = 1 },
				      .instance = 0x1111 };
	cr_assert_eq(cp_ike_srv_handle(&srv, &hello.h, &r, sizeof(r)), 0);
	struct ha_ike_prefix_req rq = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REQ,
					       .len = sizeof(rq), .seq = 2, .ike_sa = 1 } };
	snprintf(rq.nai, sizeof(rq.nai), UE1);
	cr_assert_eq(cp_ike_srv_handle(&srv, &rq.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.rep.result, 0);
	struct in6_addr p1;
	memcpy(&p1, r.rep.prefix, 16);
	struct ha_ike_sa_add add[4] = {
		sa_msg(1, 1, 0xc0000005, HA_SA_IN, "2001:db8:100:1::1", 128),
		sa_msg(1, 1, 0xc1000005, HA_SA_OUT, "2001:db8:100:1::1", 128),
		sa_msg(1, 2, 0xc0000006, HA_SA_IN, "2001:db8:100:1::", 64),
		sa_msg(1, 2, 0xc1000006, HA_SA_OUT, "2001:db8:100:1::", 64),
	};
	for (unsigned i = 2; i < 4; i++) {
		add[i].sa.mode = HA_SA_TUNNEL;
		add[i].ts_proto = 0;
	}
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(cp_ike_sa_add(&ike, &add[i], &inst, &rb, &has_rb), 0);
	struct mh_msg m = bu_msg(1);
	struct cp_bu_in bu = bu_from(&m, "2001:db8:100:1::1", 0xc0000005, 10);
	struct cp_bu_out o;
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(o.send_ba && o.ba.ba.status == MH_BA_ACCEPTED);
	cr_assert(o.spec.flags & HA_BIND_F_SA);

	cr_assert_eq(cp_ike_srv_handle(&srv, &hello.h, &r, sizeof(r)), 0);
	cr_assert_eq(ike.orphans, 0, "the same run reconnecting orphans nothing");
	cr_assert_not_null(cp_ike_session_of(&ike, 1));

	hello.instance = 0x2222;
	unsigned before = n_cmds;
	cr_assert_eq(cp_ike_srv_handle(&srv, &hello.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.res.result, 0);
	cr_assert_eq(n_cmds, before, "hadp keeps the binding and every SA");
	cr_assert_eq(ike.ctr[CP_IKE_ORPHANED], 1);
	cr_assert_eq(ike.orphans, 1);
	cr_assert_null(cp_ike_session_of(&ike, 1), "id 1 is the new run's to give");
	const struct cp_ike_session *s = cp_ike_session_by_prefix(&ike, p1.s6_addr);
	cr_assert_not_null(s);
	cr_assert(s->orphaned);
	cr_assert_eq(s->n_sa, 4);
	const struct cp_sigsa *sig = cp_sigsa_of(&ctx.sigsa, 0xc0000005);
	cr_assert_not_null(sig, "the UE's BUs are still accepted under its old SA");
	cr_assert_eq(sig->ike_sa, s->ike_sa);
	m = bu_msg(2);
	cp_bu_process(&ctx, &bu, &o);
	cr_assert(o.send_ba && o.ba.ba.status == MH_BA_ACCEPTED);
	cr_assert(o.spec.flags & HA_BIND_F_SA, "and its payload still flows in the old pair");
	uint32_t due[4];
	cr_assert_eq(cp_ike_orphans_due(&ike, s->orphaned_s + 1, due, 4), 0,
		     "bound, and its lifetime to run");

	/* another UE of the new run takes id 1: no clash with the orphan */
	rq.h.ike_sa = 1;
	snprintf(rq.nai, sizeof(rq.nai), UE2);
	cr_assert_eq(cp_ike_srv_handle(&srv, &rq.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.rep.result, 0);
	cr_assert_neq(memcmp(r.rep.prefix, &p1, 16), 0);

	/* UE1 re-authenticates under IKE SA 2 of the new run: its prefix, its old SAs out */
	rq.h.ike_sa = 2;
	snprintf(rq.nai, sizeof(rq.nai), UE1);
	before = n_cmds;
	cr_assert_eq(cp_ike_srv_handle(&srv, &rq.h, &r, sizeof(r)), 0);
	cr_assert_eq(r.rep.result, 0);
	cr_assert_eq(memcmp(r.rep.prefix, &p1, 16), 0, "the same home prefix");
	cr_assert_eq(ike.ctr[CP_IKE_ORPHAN_BACK], 1);
	cr_assert_eq(ike.orphans, 0);
	cr_assert_eq(n_cmds, before + 5, "a rebind and four SA deletes");
	cr_assert_eq(cmds[before].type, HA_CMD_BINDING_UPSERT, "the binding lets go first");
	cr_assert_not(cmds[before].binding.flags & HA_BIND_F_SA);
	cr_assert_arr_eq(cmds[before].binding.home_prefix, &p1, 16);
	for (unsigned i = 1; i < 5; i++)
		cr_assert_eq(cmds[before + i].type, HA_CMD_SA_DELETE);
	cr_assert_null(cp_sigsa_of(&ctx.sigsa, 0xc0000005));
	s = cp_ike_session_of(&ike, 2);
	cr_assert_not_null(s);
	cr_assert_not(s->orphaned);
	cr_assert_eq(s->n_sa, 0);
	cr_assert_eq(ctx.cache.count, 1, "the binding stays, one for the prefix");
	for (unsigned i = 0; i < 4; i++) {
		add[i].h.ike_sa = 2;
		add[i].sa.spi += 0x10;
		cr_assert_eq(cp_ike_sa_add(&ike, &add[i], &inst, &rb, &has_rb), 0);
	}
	cr_assert(has_rb && (rb.flags & HA_BIND_F_SA), "the new pair takes the same binding");
	cr_assert_eq(rb.sa_in, 0xc0000016);
	cr_assert_eq(rb.sa_out, 0xc1000016);
}

/* An orphaned session whose UE does not come back ends, with what it holds in hadp and its
 * prefix: once its binding is gone, or ike.ike_lifetime after charon restarted. */
Test(ike, orphans_end_without_their_binding_or_after_the_ike_lifetime)
{
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	cr_assert_eq(ask(1, UE1, "internet").result, 0); /* 2001:db8:100:1::/64 */
	cr_assert_eq(ask(2, UE2, "internet").result, 0); /* 2001:db8:100:2::/64, never bound */
	struct ha_ike_sa_add in = sa_msg(1, 1, 0xc0000001, HA_SA_IN, "2001:db8:100:1::55", 128);
	cr_assert_eq(cp_ike_sa_add(&ike, &in, &inst, &rb, &has_rb), 0);
	struct mh_msg m = bu_msg(1);
	struct cp_bu_in bu = bu_from(&m, "2001:db8:100:1::55", 0xc0000001, 10);
	struct cp_bu_out o;
	cp_bu_process(&ctx, &bu, &o);
	cr_assert_eq(ctx.cache.count, 1);
	cr_assert_eq(cp_ike_hello(&ike, 0x3333, 100), 2);
	cr_assert_eq(cp_ike_hello(&ike, 0x4444, 101), 0, "an orphan stays one");

	uint32_t due[4];
	const uint32_t life = cfg.ike.ike_lifetime;
	cr_assert_eq(cp_ike_orphans_due(&ike, 101, due, 4), 0);
	/* UE1 de-registers: its binding goes, so does its session */
	m = bu_msg(2);
	m.bu.lifetime = 0;
	cp_bu_process(&ctx, &bu, &o);
	cr_assert_eq(ctx.cache.count, 0);
	cr_assert_eq(cp_ike_orphans_due(&ike, 102, due, 4), 1);
	struct cp_ike_gone gone;
	cr_assert_eq(cp_ike_down(&ike, due[0], HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(gone.n_sa, 1);
	cr_assert_null(cp_sigsa_of(&ctx.sigsa, 0xc0000001));
	/* UE2 had no binding: it waits for its lifetime */
	cr_assert_eq(cp_ike_orphans_due(&ike, 100 + life - 1, due, 4), 0);
	cr_assert_eq(cp_ike_orphans_due(&ike, 100 + life, due, 4), 1);
	cr_assert_eq(cp_ike_down(&ike, due[0], HA_IKE_AAA_END_LOGOUT, &gone), 0);
	cr_assert_eq(ike.count, 0);
	cr_assert_eq(ike.orphans, 0);
	cr_assert_eq(ike.ctr[CP_IKE_ORPHAN_ENDED], 2);
	/* the /62 has three prefixes besides the static binding's: all free again */
	cr_assert_eq(ask(3, "0001010000000007@x", "internet").result, 0);
	cr_assert_eq(ask(4, "0001010000000008@x", "internet").result, 0);
	cr_assert_eq(ask(5, "0001010000000009@x", "internet").result, 0, "the prefixes went back");
}

/* 003 8.4.3.1: after a detach the HA waits ike.detach_guard_s for the UE's DELETE; guards fall
 * due in the order armed, none before its time, and a full ring says so (the caller deletes at
 * once). */
Test(cp_ike, detach_guard_waits_its_time)
{
	struct cp_ike_guard g;
	uint32_t due[8];

	cr_assert_eq(cp_ike_guard_init(&g, 2, 30), 0);
	cr_expect_eq(cp_ike_guard_arm(&g, 7, 1000), 0);
	cr_expect_eq(cp_ike_guard_arm(&g, 9, 2000), 0);
	cr_expect_eq(cp_ike_guard_arm(&g, 11, 2000), -ENOSPC, "two fit, not three");
	cr_expect_eq(cp_ike_guard_due(&g, 30999, due, 8), 0, "nothing before 30 s");
	cr_expect_eq(cp_ike_guard_due(&g, 31000, due, 8), 1);
	cr_expect_eq(due[0], 7);
	cr_expect_eq(cp_ike_guard_arm(&g, 11, 31000), 0, "room again (the ring wraps)");
	cr_expect_eq(cp_ike_guard_due(&g, 100000, due, 1), 1, "at most max at a time");
	cr_expect_eq(due[0], 9);
	cr_expect_eq(cp_ike_guard_due(&g, 100000, due, 8), 1);
	cr_expect_eq(due[0], 11);
	cr_expect_eq(cp_ike_guard_due(&g, 100000, due, 8), 0);
	cp_ike_guard_free(&g);
}

/* 001 5.2.3.3: the HA's IKE to a UE leaves by the port it was last seen on (the core port for
 * a UE at home), the access port for a peer never seen; IPv4 and IPv6 apart. */
Test(cp_ike, path_follows_the_peer)
{
	static struct cp_ike_path t;
	uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 1 }, b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 2 };
	uint8_t a4[4] = { 192, 0, 2, 20 };

	t.default_port = 0;
	cr_expect_eq(cp_ike_path_port(&t, AF_INET6, a6), 0);
	cp_ike_path_learn(&t, AF_INET6, a6, 1);
	cp_ike_path_learn(&t, AF_INET, a4, 0);
	cr_expect_eq(cp_ike_path_port(&t, AF_INET6, a6), 1);
	cr_expect_eq(cp_ike_path_port(&t, AF_INET6, b6), 0, "another address: the access port");
	cr_expect_eq(cp_ike_path_port(&t, AF_INET, a6), 0, "the same octets in another family");
	cp_ike_path_learn(&t, AF_INET6, a6, 0);
	cr_expect_eq(cp_ike_path_port(&t, AF_INET6, a6), 0, "it left home again");
	cr_expect_eq(cp_ike_path_port(&t, 99, a6), 0);
	cr_expect_eq(t.count, 0, "only the peers off the default port are kept");
	cp_ike_path_free(&t);
}

/* Many UEs at home at once: none forgotten for another (a fixed table of 4,096 slots dropped
 * the older of two colliding peers, so the HA's IKE to a UE at home left by the access port). */
Test(cp_ike, path_keeps_every_ue_at_home)
{
	static struct cp_ike_path t;
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	t.default_port = 0;
	for (unsigned i = 0; i < 20000; i++) {
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i;
		cp_ike_path_learn(&t, AF_INET6, a, 1);
	}
	unsigned wrong = 0;
	for (unsigned i = 0; i < 20000; i++) {
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i;
		wrong += cp_ike_path_port(&t, AF_INET6, a) != 1;
	}
	cr_expect_eq(wrong, 0, "%u of 20000 UEs at home would be sent to by the access port", wrong);
	cr_expect_eq(t.count, 20000);
	cp_ike_path_free(&t);
}
