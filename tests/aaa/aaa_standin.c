/*
 * ha-aaa-standin: a 3GPP AAA server stand-in for tests and the lab, on freeDiameter: the
 * server side of S6b (3GPP TS 29.273 9.2.2, DSMIPv6) with EAP-AKA over the project's MILENAGE
 * subscribers. See tests/aaa/README.md.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aaa_control.h"
#include "aaa_events.h"
#include "aaa_fd.h"
#include "aaa_profiles.h"
#include "aaa_s6b.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: ha-aaa-standin --conf FD.CONF --subscribers FILE [--profiles FILE]\n"
		"                      [--control PATH] [--events FILE] [--debug]\n");
}

/* RFC 6733 has no list of AAA clients here: the stand-in takes any peer (plain TCP, or TLS
 * when the peer's connection already is). */
static int accept_any_peer(struct peer_info *info, int *auth, int (**cb2)(struct peer_info *))
{
	*cb2 = NULL;
	*auth = 1;
	if (!info->runtime.pir_cert_list)
		info->config.pic_flags.sec = PI_SEC_NONE;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "subscribers", required_argument, NULL, 's' },
		{ "profiles", required_argument, NULL, 'p' },
		{ "control", required_argument, NULL, 'k' },
		{ "events", required_argument, NULL, 'e' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *conf = NULL, *subs_path = NULL, *prof_path = NULL, *control = NULL,
		   *events = NULL;
	int debug = 0, o;
	struct aka_subscribers subs;
	struct aaa_profiles profiles = { 0 };
	char err[512];

	while ((o = getopt_long(argc, argv, "c:s:p:k:e:dh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': conf = optarg; break;
		case 's': subs_path = optarg; break;
		case 'p': prof_path = optarg; break;
		case 'k': control = optarg; break;
		case 'e': events = optarg; break;
		case 'd': debug = 1; break;
		default: usage(); return o == 'h' ? 0 : 2;
		}
	}
	if (!conf || !subs_path || optind != argc) {
		usage();
		return 2;
	}
	if (aka_subscribers_load(subs_path, &subs, err, sizeof(err)) < 0) {
		fprintf(stderr, "ha-aaa-standin: %s\n", err);
		return 1;
	}
	if (prof_path && aaa_profiles_load(prof_path, &profiles, err, sizeof(err)) < 0) {
		fprintf(stderr, "ha-aaa-standin: %s\n", err);
		return 1;
	}
	/* the signals go to fd_core_wait_shutdown's caller: blocked in every thread, waited here */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	aaa_log_to_stderr();
	if (fd_core_initialize() || (fd_g_debug_lvl = debug ? FD_LOG_DEBUG : FD_LOG_NOTICE, 0) ||
	    fd_core_parseconf(conf) || aaa_dict_init() ||
	    /* the DER's checks are the stand-in's, so that each is noted and answered alike */
	    aaa_rule_optional(aaa_d.der, aaa_d.eap_payload) ||
	    aaa_rule_optional(aaa_d.der, aaa_d.auth_req_type) ||
	    fd_peer_validate_register(accept_any_peer) || aaa_events_open(events) ||
	    aaa_s6b_start(&subs, &profiles) || fd_core_start()) {
		fprintf(stderr, "ha-aaa-standin: cannot start (freeDiameter's log above)\n");
		return 1;
	}
	if (control && aaa_control_start(control) < 0) {
		fd_core_shutdown();
		fd_core_wait_shutdown_complete();
		return 1;
	}
	fd_core_waitstartcomplete();
	fprintf(stderr, "ha-aaa-standin: ready, %zu subscribers, %zu profiles\n", subs.n,
		profiles.n);
	int sig = 0;
	sigwait(&sigs, &sig);
	fprintf(stderr, "ha-aaa-standin: signal %d, stopping\n", sig);
	aaa_control_stop();
	fd_core_shutdown();
	fd_core_wait_shutdown_complete();
	aaa_events_close();
	aka_subscribers_free(&subs);
	aaa_profiles_free(&profiles);
	return 0;
}
