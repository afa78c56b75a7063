/*
 * The daemons' state for a service manager: systemd's Type=notify units (deploy/systemd/)
 * start hacpd once hadp has said it is ready, and hactl or `systemctl status` show the status
 * line. Without NOTIFY_SOCKET in the environment (a daemon run by hand or by a test) these do
 * nothing. Called from main() only: not from a signal handler.
 */
#pragma once

/* READY=1 with a STATUS= line (printf format): the process serves what its unit promises. */
void ha_notify_ready(const char *status_fmt, ...) __attribute__((format(printf, 1, 2)));

/* STOPPING=1: the process has begun its shutdown. */
void ha_notify_stopping(void);
