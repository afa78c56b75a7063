/*
 * hacpd's operator connections (see cp_cli.h): non-blocking, multiplexed in hacpd's loop, each
 * with its own buffers and deadlines, so that no operator's tool can hold up signalling.
 *
 * Each turn of hacpd's loop, cp_cli_poll accepts what waits, reads what the clients sent, runs
 * a complete request line, makes at most CP_CLI_SLICE_ROWS rows of a long answer per connection
 * and only while less than CP_CLI_OUT_HIGH octets wait to be sent, and sends what each reader
 * takes without waiting. The limits (cp_cli.h): connections at once (more are told "busy"), the
 * request's size and time to arrive, the time a reader may take nothing, the time a route
 * command waits for hadp.
 *
 * A monitor (hactl monitor) stays: its events are queued up to CP_CLI_MONITOR_QUEUE octets and
 * sent as it reads; one that does not read loses events (counted, and told in a "dropped" line
 * once it has room again) but is never dropped for stalling, and never holds up hacpd.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cp_cli.h"
#include "cp_reload.h"
#include "cp_sock.h"

int cp_cli_open(struct cp_cli *cli, struct cp_ctx *cp, const char *config_path,
		uint64_t (*now)(void), uint64_t (*now_ms)(void))
{
	const struct ha_config_cli *c = &cp->cfg->cli;

	memset(cli, 0, sizeof(*cli));
	cli->cp = cp;
	cli->config_path = config_path;
	cli->now = now;
	cli->now_ms = now_ms;
	cli->path = c->socket;
	cli->listen_fd = -1;
	for (unsigned i = 0; i < CP_CLI_MAX_CONNS; i++)
		cli->conns[i].fd = -1;
	int fd = cp_sock_listen(c->socket, c->mode, c->group);
	if (fd < 0)
		return fd;
	cli->listen_fd = fd;
	return 0;
}

static void conn_close(struct cp_cli *cli, struct cp_cli_conn *c)
{
	if (c->state == CP_CLI_MONITOR)
		cli->n_monitors--;
	close(c->fd);
	free(c->out);
	*c = (struct cp_cli_conn){ .fd = -1 };
	cli->n_conns--;
}

/* What the command wrote into a memory stream goes behind what waits to be sent. */
static bool conn_append(struct cp_cli_conn *c, const char *buf, size_t len)
{
	if (!len)
		return true; /* nothing to add (and no buffer yet, maybe) */
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap && c->out_off) {
		/* what was sent makes room first: a monitor whose reader is never quite done
		 * must not grow its buffer beyond its queue's bound */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len)
			cap *= 2;
		char *n = realloc(c->out, cap);
		if (!n)
			return false;
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return true;
}

/* Runs fn into a memory stream and appends its text. false: no memory (the connection goes). */
static bool conn_produce(struct cp_cli *cli, struct cp_cli_conn *c, int step)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return false;
	switch (step) {
	case 0: /* the request */
		c->state = cp_cli_run(cli, c->req, m, &c->job);
		break;
	case 1: /* a slice of a listing */
		if (cp_cli_list_step(cli, &c->job, m, CP_CLI_SLICE_ROWS))
			c->state = CP_CLI_DONE;
		break;
	default: /* hadp did not answer in time */
		cp_cli_route_done(cli, &c->job, -ETIMEDOUT, m);
		c->state = CP_CLI_DONE;
	}
	fclose(m);
	bool ok = buf && conn_append(c, buf, len);
	free(buf);
	return ok;
}

/* A request line, complete or not. @return false when the connection is over. */
static bool conn_read(struct cp_cli *cli, struct cp_cli_conn *c, uint64_t now)
{
	ssize_t k = recv(c->fd, c->req + c->req_n, sizeof(c->req) - 1 - c->req_n, MSG_DONTWAIT);
	if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		return false; /* gone before its request */
	if (k > 0)
		c->req_n += (size_t)k;
	c->req[c->req_n] = '\0';
	const char *nl = memchr(c->req, '\n', c->req_n);
	const char *bad = NULL;
	if (!nl && c->req_n == sizeof(c->req) - 1)
		bad = "= 2 a request is one line of at most 1023 octets\n";
	else if (!nl && now >= c->deadline_ms) {
		bad = "= 2 no request line within 2 s\n";
		cli->timed_out++;
	}
	if (bad) {
		cli->errors++;
		c->ran = true;
		c->state = CP_CLI_DONE;
		return conn_append(c, bad, strlen(bad));
	}
	if (!nl)
		return true;
	c->ran = true;
	c->deadline_ms = now + (uint64_t)CP_CLI_STALL_MS;
	if (!conn_produce(cli, c, 0))
		return false;
	if (c->state == CP_CLI_MONITOR)
		cli->n_monitors++;
	if (c->state == CP_CLI_WAIT)
		c->deadline_ms = now + (c->job.reload ? CP_CLI_RELOAD_MS : CP_CLI_ROUTE_MS);
	return true;
}

/* Sends what the reader takes now. @return false when the connection is over (all sent and
 * nothing more to come, the reader gone, or stalled too long). */
static bool conn_send(struct cp_cli *cli, struct cp_cli_conn *c, uint64_t now, bool *progress)
{
	while (c->out_off < c->out_len) {
		ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return false;
			break;
		}
		c->out_off += (size_t)k;
		*progress = true;
		if (c->state != CP_CLI_WAIT)
			c->deadline_ms = now + CP_CLI_STALL_MS;
	}
	if (c->out_off < c->out_len && c->state != CP_CLI_WAIT && c->state != CP_CLI_MONITOR &&
	    now >= c->deadline_ms) {
		cli->dropped_stalled++;
		return false;
	}
	return !(c->out_off == c->out_len && c->state == CP_CLI_DONE);
}

/* What a monitor sends after its request means nothing; its end means it is gone. */
static bool monitor_read(struct cp_cli_conn *c)
{
	char junk[256];
	ssize_t k = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
	return k > 0 || (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

static void accept_new(struct cp_cli *cli, uint64_t now)
{
	for (;;) {
		int fd = accept4(cli->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return; /* EAGAIN: no more waiting */
		if (cli->n_conns == CP_CLI_MAX_CONNS) {
			char busy[96];
			int n = snprintf(busy, sizeof(busy), "= 1 busy: hacpd serves %u operator "
					 "connections at once\n", CP_CLI_MAX_CONNS);
			ssize_t k = send(fd, busy, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
			(void)k;
			close(fd);
			cli->refused_busy++;
			continue;
		}
		for (unsigned i = 0; i < CP_CLI_MAX_CONNS; i++)
			if (cli->conns[i].fd < 0) {
				cli->conns[i] = (struct cp_cli_conn){
					.fd = fd, .deadline_ms = now + CP_CLI_REQUEST_MS };
				cli->n_conns++;
				break;
			}
	}
}

unsigned cp_cli_poll(struct cp_cli *cli)
{
	struct pollfd pf[1 + CP_CLI_MAX_CONNS];
	unsigned slot[1 + CP_CLI_MAX_CONNS], n = 0, busy = 0;

	if (cli->listen_fd < 0)
		return 0;
	/* one poll for the listening socket and every connection, never waiting */
	pf[n++] = (struct pollfd){ .fd = cli->listen_fd, .events = POLLIN };
	for (unsigned i = 0; i < CP_CLI_MAX_CONNS; i++) {
		const struct cp_cli_conn *c = &cli->conns[i];
		if (c->fd < 0)
			continue;
		slot[n] = i;
		short out = c->out_off < c->out_len ? POLLOUT : 0;
		/* a monitor is read too: its end (hactl interrupted) is how it goes */
		pf[n++] = (struct pollfd){ .fd = c->fd,
					   .events = (short)(!c->ran ? POLLIN :
							     c->state == CP_CLI_MONITOR ? POLLIN | out
							     : out) };
	}
	if (poll(pf, n, 0) < 0)
		return 0;
	cli->busy_turns = cli->signalling_waits ? cli->busy_turns + 1 : 0;
	uint64_t now = cli->now_ms();
	for (unsigned p = 1; p < n; p++) {
		struct cp_cli_conn *c = &cli->conns[slot[p]];
		bool progress = false, alive = true, io = pf[p].revents != 0;
		if (c->state == CP_CLI_MONITOR) {
			if (pf[p].revents & (POLLIN | POLLHUP | POLLERR))
				alive = monitor_read(c);
			if (alive && c->out_off < c->out_len)
				alive = conn_send(cli, c, now, &progress);
			if (!alive)
				conn_close(cli, c);
			busy += progress;
			continue;
		}
		if (!c->ran) {
			if (io || now >= c->deadline_ms) {
				size_t before = c->req_n;
				alive = conn_read(cli, c, now);
				progress = c->ran || c->req_n != before;
				io = true;
			}
		} else if (c->state == CP_CLI_MORE && c->out_len - c->out_off < CP_CLI_OUT_HIGH &&
			   (!cli->signalling_waits || cli->busy_turns % CP_CLI_BUSY_EVERY == 0)) {
			/* signalling first: under a storm a listing goes on, more slowly */
			alive = conn_produce(cli, c, 1);
			progress = io = true;
		} else if (c->state == CP_CLI_WAIT && now >= c->deadline_ms) {
			alive = conn_produce(cli, c, 2);
			progress = io = true;
		}
		if (alive && c->ran) {
			if (io)
				alive = conn_send(cli, c, now, &progress);
			else if (c->state != CP_CLI_WAIT && now >= c->deadline_ms) {
				cli->dropped_stalled++; /* a reader that takes nothing */
				alive = false;
			}
		}
		if (!alive)
			conn_close(cli, c);
		busy += progress;
	}
	if (pf[0].revents & POLLIN)
		accept_new(cli, now);
	return busy;
}

bool cp_cli_ack(struct cp_cli *cli, uint32_t seq, int result)
{
	bool done = false;
	/* a reload's commands: only the last one ends its answer */
	bool reload = cli->reload && cp_reload_ack(cli->reload, seq, result, &done);
	if (reload && !done)
		return true;
	for (unsigned i = 0; i < CP_CLI_MAX_CONNS; i++) {
		struct cp_cli_conn *c = &cli->conns[i];
		if (c->fd < 0 || c->state != CP_CLI_WAIT || c->job.wait_seq != seq)
			continue;
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (m) {
			cp_cli_route_done(cli, &c->job, result, m);
			fclose(m);
		}
		c->state = CP_CLI_DONE;
		c->deadline_ms = cli->now_ms() + CP_CLI_STALL_MS;
		if (!buf || !conn_append(c, buf, len))
			conn_close(cli, c);
		free(buf);
		return true;
	}
	if (reload) /* its operator went away: nobody to tell */
		cp_reload_finish(cli->reload, false, NULL);
	return reload;
}

void cp_cli_close(struct cp_cli *cli)
{
	for (unsigned i = 0; i < CP_CLI_MAX_CONNS; i++)
		if (cli->conns[i].fd >= 0)
			conn_close(cli, &cli->conns[i]);
	if (cli->listen_fd >= 0) {
		close(cli->listen_fd);
		unlink(cli->path);
		cli->listen_fd = -1;
	}
}

void cp_cli_monitor_push(struct cp_cli *cli, const char *json, size_t len)
{
	for (unsigned i = 0; i < CP_CLI_MAX_CONNS && cli->n_monitors; i++) {
		struct cp_cli_conn *c = &cli->conns[i];
		if (c->fd < 0 || c->state != CP_CLI_MONITOR)
			continue;
		char note[96];
		int nl = c->mon_dropped ? snprintf(note, sizeof(note), "+ {\"event\":\"dropped\","
						   "\"count\":%llu}\n",
						   (unsigned long long)c->mon_dropped) : 0;
		size_t queued = c->out_len - c->out_off;
		if (queued + (size_t)nl + len + 3 > CP_CLI_MONITOR_QUEUE) {
			c->mon_dropped++; /* a monitor that does not read loses events, not hacpd */
			cli->mon_dropped++;
			continue;
		}
		/* the protocol's data line: "+ " JSON "\n" */
		if ((nl && !conn_append(c, note, (size_t)nl)) || !conn_append(c, "+ ", 2) ||
		    !conn_append(c, json, len) || !conn_append(c, "\n", 1)) {
			c->mon_dropped++;
			cli->mon_dropped++;
			continue;
		}
		c->mon_dropped = 0;
		cli->mon_events++;
	}
}
