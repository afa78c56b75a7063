/*
 * hactl: the operator CLI, a client of hacpd's Unix socket (cp_cli.h has the protocol).
 *
 *   hactl [-s SOCKET | -c CONFIG] COMMAND...      e.g. hactl show bindings --json
 *
 * It forwards the command line, prints the answer as it streams in, and exits with hacpd's
 * code: 0 ok, 1 not found or refused, 2 bad request, 3 hacpd unreachable. `hactl monitor` prints
 * each event line as it comes (flushed, for a pipe) until interrupted: SIGINT or SIGTERM end it
 * with 0.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ha_config.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hactl [-s SOCKET | -c CONFIG] COMMAND...\n"
		   "  COMMAND is sent to hacpd; 'hactl help' lists them.\n"
		   "  -s SOCKET  hacpd's socket (default: cli.socket of CONFIG, else "
		   "/run/hacpd/hactl.sock)\n");
}

int main(int argc, char **argv)
{
	const char *sock_path = NULL, *config = NULL;
	static char from_config[HA_CFG_SOCKET_SIZE];
	int c;

	while ((c = getopt(argc, argv, "+s:c:h")) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'c': config = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	if (!sock_path && config) {
		struct ha_config *cfg = calloc(1, sizeof(*cfg));
		struct ha_config_error err;
		if (!cfg || ha_config_load_file(config, cfg, &err) < 0) {
			fprintf(stderr, "hactl: %s\n", cfg ? err.msg : "out of memory");
			return 2;
		}
		snprintf(from_config, sizeof(from_config), "%s", cfg->cli.socket);
		ha_config_free(cfg);
		free(cfg);
		sock_path = from_config;
	}
	if (!sock_path)
		sock_path = "/run/hacpd/hactl.sock";

	char req[1024];
	size_t n = 0;
	for (int i = optind; i < argc; i++) {
		int w = snprintf(req + n, sizeof(req) - n, "%s%s", i > optind ? " " : "", argv[i]);
		if (w < 0 || (size_t)w >= sizeof(req) - n - 1) {
			fprintf(stderr, "hactl: command too long\n");
			return 2;
		}
		n += (size_t)w;
	}
	req[n++] = '\n';

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hactl: socket path too long\n");
		return 2;
	}
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "hactl: cannot reach hacpd at %s: %s\n", sock_path, strerror(errno));
		return 3;
	}
	if (write(fd, req, n) != (ssize_t)n) {
		fprintf(stderr, "hactl: %s: %s\n", sock_path, strerror(errno));
		return 3;
	}
	/* a monitor runs until interrupted: the signal breaks the read (no SA_RESTART) */
	bool monitor = !strcmp(argv[optind], "monitor");
	if (monitor) {
		struct sigaction sa_stop = { .sa_handler = on_stop };
		sigaction(SIGINT, &sa_stop, NULL);
		sigaction(SIGTERM, &sa_stop, NULL);
	}
	FILE *in = fdopen(fd, "r");
	char *line = NULL;
	size_t cap = 0;
	int code = 3;
	while (in && !stop && getline(&line, &cap, in) > 0) {
		if (!strncmp(line, "+ ", 2)) {
			fputs(line + 2, stdout);
			if (monitor)
				fflush(stdout);
		} else if (!strncmp(line, "= ", 2)) {
			code = atoi(line + 2);
			char *msg = strchr(line + 2, ' ');
			if (code && msg)
				fprintf(stderr, "hactl: %s", msg + 1);
			break;
		}
	}
	free(line);
	if (in)
		fclose(in);
	if (monitor && stop)
		code = 0; /* the operator's interrupt is how a monitor ends */
	if (code == 3)
		fprintf(stderr, "hactl: hacpd closed the connection without an answer\n");
	if (fflush(stdout) != 0)
		return 3;
	return code;
}
