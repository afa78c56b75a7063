/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of hactl config reload's application (controlplane/cp_reload.c) on hacpd's state,
 * hadp's ring played by a function that keeps the commands:
 *
 *  - PDNs reordered and one added: the pools move with their PDN, a binding and an IKE session
 *    follow theirs by name (the session still found by its NAI), the new PDN's IPv4 pool made;
 *  - a PDN removed while a binding and an IKE session use it: refused, nothing changed; a
 *    static SA on an IKE child SA's SPI likewise;
 *  - static bindings and SAs: hadp's commands in the order it accepts, static bindings at
 *    generation 0; the answer waits for the last one's ack and tells what hadp refused;
 *  - a file that does not load: exit status 2 with the loader's line, nothing changed.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp_ike.h"
#include "cp_reload.h"

static const char *head =
	"dataplane:\n"
	"  lcores: { main: 0, workers: [1] }\n"
	"  ports: { access: { device: net_null0 }, core: { device: net_null1 } }\n"
	"  tables: { max_bindings: 1024 }\n"
	"home_agent: { ipv6_address: 2001:db8:ffff::1, ipv4_address: 192.0.2.1 }\n";
#define INTERNET "  - { name: internet, home_prefix_pool: 2001:db8:100::/48, ipv4_pool: 10.45.0.0/16 }\n"
#define IMS "  - { name: ims, apn: ims.example, home_prefix_pool: 2001:db8:200::/48 }\n"
#define CORP "  - { name: corp, home_prefix_pool: 2001:db8:300::/48, ipv4_pool: 10.47.0.0/16 }\n"
#define SAS \
	"static_sas:\n" \
	"  - { spi: 0x1001, direction: in, mode: tunnel, local: 2001:db8:ffff::1," \
	" peer: 2001:db8:aaaa::9, encryption: aes-gcm-128, key: \"000102030405060708090a0b0c0d0e0f10111213\" }\n" \
	"  - { spi: 0x1001, direction: out, mode: tunnel, local: 2001:db8:ffff::1," \
	" peer: 2001:db8:aaaa::9, encryption: aes-gcm-128, key: \"000102030405060708090a0b0c0d0e0f10111213\" }\n"
#define SB(p, extra) "  - { pdn: internet, home_prefix: \"" p "/64\", care_of: 2001:db8:aaaa::9" extra " }\n"

static char path[] = "/tmp/test_cp_reload_XXXXXX";
static struct ha_config *cfg;
static struct cp_ctx ctx;
static struct cp_ike ike;
static struct cp_ike_guard guard;
static struct cp_reload rl;
static struct ha_cmd cmds[32];
static unsigned n_cmds, room = 100;
static uint32_t seq;

static int capture(void *arg, struct ha_cmd *c)
{
	(void)arg;
	c->seq = ++seq;
	cr_assert_lt(n_cmds, 32);
	cmds[n_cmds++] = *c;
	return 0;
}

static unsigned room_of(void *arg)
{
	(void)arg;
	return room;
}

static void write_file(const char *pdns, const char *rest)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%spdns:\n%sike: { enabled: false }\n%s", head, pdns, rest);
	fclose(f);
}

static void setup(void)
{
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	write_file(INTERNET IMS, SAS "static_bindings:\n" SB("2001:db8:100:ff00::", ""));
	struct ha_config_error err;
	cfg = calloc(1, sizeof(*cfg));
	cr_assert_eq(ha_config_load_file(path, cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(cp_ctx_init(&ctx, cfg), 0);
	cr_assert_eq(cp_ike_init(&ike, &ctx), 0);
	cr_assert_eq(cp_ike_guard_init(&guard, 16, 30), 0);
	rl = (struct cp_reload){ .cfg = cfg, .path = path, .cp = &ctx, .ike = &ike, .guard = &guard,
				 .send = capture, .room = room_of };
}

static void teardown(void)
{
	free(rl.what);
	cp_ike_guard_free(&guard);
	cp_ike_free(&ike);
	cp_ctx_free(&ctx);
	ha_config_free(cfg);
	free(cfg);
	unlink(path);
}

TestSuite(reload, .init = setup, .fini = teardown);

/* cp_reload_run's answer as text, its return in *rc. */
static char *run(int *rc, uint32_t *last)
{
	static char buf[8192];
	FILE *m = fmemopen(buf, sizeof(buf), "w");
	*rc = cp_reload_run(&rl, m, last);
	fclose(m);
	return buf;
}

#define NAI "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"

static struct cp_ike_gone left; /* what an orphaned session leaves: nothing here */

/* An IKE session and a binding in the ims PDN. */
static struct in6_addr ims_ue(void)
{
	struct ha_ike_prefix_req rq = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_PREFIX_REQ,
					       .len = sizeof(rq), .seq = 1, .ike_sa = 7 } };
	struct ha_ike_prefix_rep rep;
	snprintf(rq.nai, sizeof(rq.nai), "%s", NAI);
	snprintf(rq.apn, sizeof(rq.apn), "ims.example");
	cp_ike_prefix(&ike, &rq, &rep, &left);
	struct in6_addr p;
	memcpy(&p, rep.prefix, 16);
	cr_assert_eq(ike.count, 1);
	struct cp_binding *b = cp_bcache_alloc(&ctx.cache);
	cp_bkey_make(&b->key, &p, 64);
	b->hoa = p;
	b->hoa.s6_addr[15] = 0x55;
	b->pdn = 1;
	cp_bcache_insert(&ctx.cache, b);
	return p;
}

Test(reload, pdns_reordered_and_added_bindings_and_sessions_follow)
{
	struct in6_addr p = ims_ue();
	int rc;
	uint32_t last;
	write_file(IMS CORP INTERNET, SAS "static_bindings:\n" SB("2001:db8:100:ff00::", ""));
	char *out = run(&rc, &last);
	cr_assert_eq(rc, 0, "%s", out);
	cr_expect(strstr(out, "+ pdns: 'corp' added"), "%s", out);
	cr_expect_eq(n_cmds, 0, "nothing for hadp");
	cr_assert_eq(cfg->n_pdns, 3);
	cr_expect_str_eq(cfg->pdns[0].name, "ims");
	cr_expect_str_eq(cfg->pdns[2].name, "internet");
	cr_expect_eq(cp_bcache_find(&ctx.cache, &p, 64)->pdn, 0, "the binding follows its PDN");
	const struct cp_ike_session *s[4];
	cr_assert_eq(cp_ike_sessions_of_nai(&ike, NAI, s, 4), 1, "the session found by its NAI");
	cr_expect_eq(s[0]->pdn, 0);
	cr_expect(cp_pool6_contains(&ike.pool6[0], &p), "ims's prefix pool moved with it");
	cr_expect(cp_pool4_ready(&ctx.pool4[1]), "corp's IPv4 pool made");
	cr_expect(cp_pool4_ready(&ctx.pool4[2]) && !cp_pool4_ready(&ctx.pool4[0]),
		  "internet's IPv4 pool moved with it");
	struct in_addr a;
	cr_expect_eq(cp_pool4_alloc(&ctx.pool4[1], &a), 0);
	cr_expect_eq(ntohl(a.s_addr) >> 16, (10u << 8) | 47u, "an address of corp's pool");
	cr_expect_eq(rl.applied, 1);
}

Test(reload, a_pdn_in_use_is_not_removed)
{
	ims_ue();
	int rc;
	uint32_t last;
	write_file(INTERNET, SAS "static_bindings:\n" SB("2001:db8:100:ff00::", ""));
	char *out = run(&rc, &last);
	cr_assert_eq(rc, -1, "%s", out);
	cr_expect(strstr(out, "= 1 refused: pdns: 'ims' cannot be removed: 1 bindings and 1 IKE "
			      "sessions use it"), "%s", out);
	cr_expect_eq(cfg->n_pdns, 2, "nothing changed");
	cr_expect_eq(rl.refused, 1);
	cr_expect_eq(rl.applied, 0);
}

Test(reload, statics_in_hadps_order_and_the_answer_waits_for_the_last_ack)
{
	int rc;
	uint32_t last = 0;
	/* the binding's SA changes (a new key), one binding added, the other removed */
	write_file(INTERNET IMS, "static_sas:\n"
		   "  - { spi: 0x1001, direction: in, mode: tunnel, local: 2001:db8:ffff::1,"
		   " peer: 2001:db8:aaaa::9, encryption: aes-gcm-128, key: \"f00102030405060708090a0b0c0d0e0f10111213\" }\n"
		   "  - { spi: 0x1001, direction: out, mode: tunnel, local: 2001:db8:ffff::1,"
		   " peer: 2001:db8:aaaa::9, encryption: aes-gcm-128, key: \"000102030405060708090a0b0c0d0e0f10111213\" }\n"
		   "static_bindings:\n" SB("2001:db8:100:ff00::", ", sa_in: 0x1001, sa_out: 0x1001")
		   SB("2001:db8:100:fe00::", ""));
	char *out = run(&rc, &last);
	cr_assert_eq(rc, 1, "%s", out);
	/* the binding (changed: it now uses the SA) leaves, the SA of a new key is deleted and
	 * added again (hadp refuses an add over another key's SA), both bindings in */
	uint16_t want[] = { HA_CMD_BINDING_DELETE, HA_CMD_SA_DELETE, HA_CMD_SA_ADD,
			    HA_CMD_BINDING_UPSERT, HA_CMD_BINDING_UPSERT };
	cr_assert_eq(n_cmds, 5, "%s", out);
	for (unsigned i = 0; i < 5; i++) {
		cr_expect_eq(cmds[i].type, want[i], "command %u: %u", i, cmds[i].type);
		cr_expect_eq(cmds[i].generation, 0);
	}
	cr_expect_eq(cmds[1].sa_del.spi, 0x1001);
	cr_expect_eq(cmds[1].sa_del.direction, HA_SA_IN);
	cr_expect(cmds[3].binding.flags & HA_BIND_F_SA);
	cr_expect_eq(last, cmds[4].seq);
	bool done;
	cr_expect(!cp_reload_ack(&rl, 999, 0, &done), "not the reload's");
	cr_expect(cp_reload_ack(&rl, cmds[0].seq, 0, &done) && !done);
	cr_expect(cp_reload_ack(&rl, cmds[1].seq, 0, &done) && !done);
	cr_expect(cp_reload_ack(&rl, cmds[2].seq, -16, &done) && !done);
	cr_expect(cp_reload_ack(&rl, cmds[3].seq, 0, &done) && !done);
	cr_expect(cp_reload_ack(&rl, cmds[4].seq, 0, &done) && done);
	char buf[1024];
	FILE *m = fmemopen(buf, sizeof(buf), "w");
	cp_reload_finish(&rl, false, m);
	fclose(m);
	cr_expect(strstr(buf, "+ hadp refused: static SA 0x00001001 in add: Device or resource busy"),
		  "%s", buf);
	cr_expect(strstr(buf, "= 1 config reload: hadp refused 1 of its 5 changes"), "%s", buf);
	cr_expect(!cp_reload_ack(&rl, cmds[4].seq, 0, &done), "over: late answers are nobody's");
	cr_expect_eq(cfg->n_static_bindings, 2, "the new file runs");
}

Test(reload, a_file_that_does_not_load_changes_nothing)
{
	int rc;
	uint32_t last;
	FILE *f = fopen(path, "a");
	fprintf(f, "bogus: 1\n");
	fclose(f);
	char *out = run(&rc, &last);
	cr_expect_eq(rc, -1);
	cr_expect(strstr(out, "= 2 ") && strstr(out, ":15:1: bogus: unknown key 'bogus'"), "%s", out);
	cr_expect_eq(rl.refused, 1);
	cr_expect_eq(cfg->n_static_bindings, 1);
}

Test(reload, a_static_sa_on_an_ike_sas_spi_is_refused)
{
	struct in6_addr p = ims_ue();
	struct ha_ike_sa_add m = { .h = { .version = HA_IKE_VERSION, .type = HA_IKE_SA_ADD,
					  .len = sizeof(m), .seq = 1, .ike_sa = 7 } };
	m.sa = (struct ha_sa_spec){ .spi = 0xc0000001, .direction = HA_SA_IN,
				    .mode = HA_SA_TRANSPORT, .family = AF_INET6,
				    .encryption = HA_CFG_ENC_AES_GCM_128, .key_len = 20 };
	m.reqid = 1;
	memcpy(m.ts_remote, &p, 16);
	m.ts_remote[15] = 0x55;
	m.ts_remote_len = 128;
	m.ts_proto = MH_PROTO;
	struct ha_sa_spec inst;
	struct ha_binding_spec rb;
	bool has_rb;
	cr_assert_eq(cp_ike_sa_add(&ike, &m, &inst, &rb, &has_rb), 0);
	int rc;
	uint32_t last;
	write_file(INTERNET IMS, SAS
		   "  - { spi: 0xc0000001, direction: in, mode: transport, local: 2001:db8:ffff::1,"
		   " peer: 2001:db8:100::9, encryption: aes-gcm-128, key: \"000102030405060708090a0b0c0d0e0f10111213\" }\n"
		   "static_bindings:\n" SB("2001:db8:100:ff00::", ""));
	char *out = run(&rc, &last);
	cr_expect_eq(rc, -1, "%s", out);
	cr_expect(strstr(out, "= 1 refused: static_sas: spi 0xc0000001 in is an IKE child SA's"),
		  "%s", out);
	cr_expect_eq(cfg->n_static_sas, 2, "nothing changed");
	cr_expect_eq(n_cmds, 0);
}
