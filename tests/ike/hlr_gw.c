/*
 * Test only: the authentication centre behind hostapd's EAP-AKA server, speaking hostapd's
 * hlr_auc_gw protocol on a Unix datagram socket (hostapd src/eap_server/eap_sim_db.c):
 *
 *   AKA-REQ-AUTH <IMSI>                -> AKA-RESP-AUTH <IMSI> <RAND> <AUTN> <IK> <CK> <RES>
 *                                         AKA-RESP-AUTH <IMSI> FAILURE
 *   AKA-AUTS <IMSI> <AUTS> <RAND>      -> (no answer: the SQN is re-synchronised)
 *
 * with the appliance's MILENAGE and subscriber file (controlplane/aka), so that Debian's hostapd
 * can play the operator's RADIUS AAA server for charon's eap-radius. The IMSI is the permanent
 * identity without its leading '0' and realm (TS 23.003 19.3.2).
 *
 *   hlr-gw SUBSCRIBERS.yaml SOCKET
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "aka_subscribers.h"

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) < 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* The subscriber whose permanent identity is 0<IMSI>[@realm]. */
static const char *identity_of(const struct aka_subscribers *db, const char *imsi)
{
	size_t n = strlen(imsi);
	for (size_t i = 0; i < db->n; i++) {
		const char *id = db->v[i].identity;
		if (id[0] == '0' && !strncmp(id + 1, imsi, n) && (id[n + 1] == '@' || !id[n + 1]))
			return id;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct aka_subscribers db;
	char err[512];

	if (argc != 3) {
		fprintf(stderr, "usage: hlr-gw SUBSCRIBERS.yaml SOCKET\n");
		return 2;
	}
	if (aka_subscribers_load(argv[1], &db, err, sizeof(err)) < 0) {
		fprintf(stderr, "hlr-gw: %s\n", err);
		return 1;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
	unlink(argv[2]);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "hlr-gw: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	struct sigaction act = { .sa_handler = on_signal };
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	unsigned long served = 0, resyncs = 0, unknown = 0;
	while (!quit) {
		char buf[1024], reply[512];
		struct sockaddr_un from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		char cmd[32], imsi[32], a1[64] = "", a2[64] = "";
		if (sscanf(buf, "%31s %31s %63s %63s", cmd, imsi, a1, a2) < 2)
			continue;
		const char *id = identity_of(&db, imsi);
		if (!strcmp(cmd, "AKA-REQ-AUTH")) {
			uint8_t rand[AKA_RAND_LEN];
			struct aka_vector v;
			if (!id || getrandom(rand, sizeof(rand), 0) != sizeof(rand) ||
			    aka_subscribers_vector(&db, id, rand, &v) < 0) {
				snprintf(reply, sizeof(reply), "AKA-RESP-AUTH %s FAILURE", imsi);
				unknown++;
			} else {
				char r[33], au[33], ik[33], ck[33], res[17];
				hex(r, v.rand, 16);
				hex(au, v.autn, 16);
				hex(ik, v.ik, 16);
				hex(ck, v.ck, 16);
				hex(res, v.xres, 8);
				snprintf(reply, sizeof(reply), "AKA-RESP-AUTH %s %s %s %s %s %s", imsi, r, au,
					 ik, ck, res);
				served++;
			}
			sendto(fd, reply, strlen(reply), 0, (struct sockaddr *)&from, fl);
		} else if (!strcmp(cmd, "AKA-AUTS")) {
			uint8_t auts[AKA_AUTS_LEN], rand[AKA_RAND_LEN];
			if (id && !unhex(a1, auts, sizeof(auts)) && !unhex(a2, rand, sizeof(rand)) &&
			    aka_subscribers_resync(&db, id, rand, auts) == 0)
				resyncs++;
		}
	}
	fprintf(stderr, "hlr-gw: %lu vectors, %lu resyncs, %lu refused\n", served, resyncs, unknown);
	close(fd);
	unlink(argv[2]);
	aka_subscribers_free(&db);
	return 0;
}
