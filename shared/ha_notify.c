#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "ha_notify.h"

/* A failed notification is logged, never fatal: the unit's start timeout then tells the
 * operator, and a daemon that works must not stop for want of a supervisor. */
static void send_state(const char *state)
{
	int rc = sd_notify(0, state);
	if (rc < 0)
		fprintf(stderr, "sd_notify(%.*s): %s\n", (int)strcspn(state, "\n"), state,
			strerror(-rc));
}

void ha_notify_ready(const char *status_fmt, ...)
{
	char msg[256];
	va_list ap;
	int n = snprintf(msg, sizeof(msg), "READY=1\nSTATUS=");

	va_start(ap, status_fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, status_fmt, ap);
	va_end(ap);
	send_state(msg);
}

void ha_notify_stopping(void)
{
	send_state("STOPPING=1\nSTATUS=stopping");
}
