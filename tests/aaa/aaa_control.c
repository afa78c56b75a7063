#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "aaa_control.h"
#include "aaa_events.h"
#include "aaa_fd.h"
#include "aaa_s6b.h"
#include "aaa_sessions.h"

static int listen_fd = -1;
static volatile int stopping;
static pthread_t thread;
static char sock_path[108];

struct list_ctx {
	FILE *f;
	const char *sep;
};

static void list_one(const struct aaa_session *s, void *arg)
{
	struct list_ctx *c = arg;

	fprintf(c->f, "%s{\"session_id\":", c->sep);
	aaa_json_str(c->f, s->sid);
	fputs(",\"nai\":", c->f);
	aaa_json_str(c->f, s->nai);
	fputs(",\"apn\":", c->f);
	aaa_json_str(c->f, s->apn);
	fputs(",\"ha\":", c->f);
	aaa_json_str(c->f, s->ha_host);
	fprintf(c->f, ",\"state\":\"%s\"}",
		s->state == AAA_S_AUTHENTICATED ? "authenticated" : "challenged");
	c->sep = ",";
}

/* One command line into one reply line (without its newline). */
static void command(char *line, char *reply, size_t sz)
{
	char *arg = strchr(line, ' ');

	if (arg)
		*arg++ = 0;
	if (!strcmp(line, "sessions") && !arg) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct list_ctx c = { f, "" };
		if (!f) {
			snprintf(reply, sz, "error out of memory");
			return;
		}
		fputs("ok [", f);
		pthread_mutex_lock(&aaa_sessions_lock);
		aaa_session_each(list_one, &c);
		pthread_mutex_unlock(&aaa_sessions_lock);
		fputc(']', f);
		fclose(f);
		snprintf(reply, sz, "%s", buf);
		free(buf);
	} else if ((!strcmp(line, "asr") || !strcmp(line, "rar")) && arg && *arg) {
		aaa_s6b_order(line[0] == 'a', arg, reply, sz);
	} else if ((!strcmp(line, "refuse-reauth") || !strcmp(line, "allow-reauth")) && arg &&
		   *arg) {
		pthread_mutex_lock(&aaa_sessions_lock);
		aaa_refuse_reauth(arg, line[0] == 'r');
		pthread_mutex_unlock(&aaa_sessions_lock);
		aaa_note(NULL, arg, "%s", line);
		snprintf(reply, sz, "ok");
	} else {
		snprintf(reply, sz, "error unknown command: try asr NAI|SESSION-ID, rar NAI|SESSION-ID, "
			 "refuse-reauth NAI, allow-reauth NAI, sessions");
	}
}

static void serve(int fd)
{
	FILE *in = fdopen(fd, "r");
	char line[1024];
	static char reply[65536];

	if (!in) {
		close(fd);
		return;
	}
	while (!stopping && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\r\n")] = 0;
		command(line, reply, sizeof(reply) - 1);
		size_t n = strlen(reply);
		reply[n++] = '\n';
		if (write(fd, reply, n) != (ssize_t)n)
			break;
	}
	fclose(in);
}

static void *control_main(void *arg)
{
	(void)arg;
	while (!stopping) {
		struct pollfd p = { .fd = listen_fd, .events = POLLIN };
		if (poll(&p, 1, 200) <= 0)
			continue;
		int c = accept(listen_fd, NULL, NULL);
		if (c >= 0)
			serve(c);
	}
	return NULL;
}

int aaa_control_start(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fd_log_error("ha-aaa-standin: control socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	strcpy(sock_path, path);
	unlink(path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listen_fd, 4) < 0) {
		fd_log_error("ha-aaa-standin: control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (pthread_create(&thread, NULL, control_main, NULL)) {
		fd_log_error("ha-aaa-standin: cannot start the control thread");
		return -1;
	}
	return 0;
}

void aaa_control_stop(void)
{
	if (listen_fd < 0)
		return;
	stopping = 1;
	pthread_join(thread, NULL);
	close(listen_fd);
	unlink(sock_path);
	listen_fd = -1;
}
