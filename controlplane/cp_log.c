/* hacpd's log (see cp_log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "cp_log.h"

static const char *const kind_name[] = {
#define X(e, n) [e] = n,
	CP_LOG_KINDS(X)
#undef X
};

static struct {
	bool open;
	int max_prio;          /* LOG_* of logging.level */
	bool syslog;
	bool stderr_out;       /* false when stderr is the journal and syslog goes there too */
	uint32_t rate;
	uint64_t second[CP_LOG__COUNT]; /* the second each kind's budget is for */
	uint32_t used[CP_LOG__COUNT];
	uint64_t held[CP_LOG__COUNT];   /* suppressed in that second, not yet told */
	uint64_t suppressed;
} lg = { .max_prio = LOG_INFO, .syslog = true, .stderr_out = true, .rate = 20 };

static uint64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* systemd sets JOURNAL_STREAM to stderr's device:inode when stderr is the journal: the lines
 * then reach it by syslog already, and writing them to stderr too would log each twice. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void cp_log_open(const struct ha_config *cfg)
{
	static const int prio[] = { [HA_CFG_LOG_ERROR] = LOG_ERR, [HA_CFG_LOG_WARNING] = LOG_WARNING,
				    [HA_CFG_LOG_NOTICE] = LOG_NOTICE, [HA_CFG_LOG_INFO] = LOG_INFO,
				    [HA_CFG_LOG_DEBUG] = LOG_DEBUG };
	if (cfg) {
		lg.max_prio = prio[cfg->log_level];
		lg.syslog = cfg->log_syslog;
		lg.rate = cfg->log_rate;
	}
	lg.stderr_out = !(lg.syslog && stderr_is_journal());
	if (lg.syslog && !lg.open) {
		openlog("hacpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.open = true;
	}
}

static void emit(int prio, char *text)
{
	for (char *t = text; *t; t++) /* a UE's NAI makes no line of its own */
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			*t = '?';
	if (!lg.open && lg.syslog)
		cp_log_open(NULL); /* a line before the configuration was read */
	if (lg.syslog)
		syslog(prio, "%s", text);
	if (lg.stderr_out)
		fprintf(stderr, "hacpd: %s\n", text);
}

static void tell_held(unsigned k)
{
	char line[128];
	if (!lg.held[k])
		return;
	snprintf(line, sizeof(line), "suppressed %llu %s lines (logging.rate_per_second %u)",
		 (unsigned long long)lg.held[k], kind_name[k], lg.rate);
	lg.held[k] = 0;
	emit(LOG_NOTICE, line);
}

bool cp_log_take(enum cp_log_kind kind, int prio)
{
	if (prio > lg.max_prio || (unsigned)kind >= CP_LOG__COUNT)
		return false;
	uint64_t now = now_s();
	if (lg.second[kind] != now) {
		tell_held(kind);
		lg.second[kind] = now;
		lg.used[kind] = 0;
	}
	if (lg.used[kind] >= lg.rate) {
		lg.held[kind]++;
		lg.suppressed++;
		return false;
	}
	lg.used[kind]++;
	return true;
}

static void vwrite(int prio, const char *fmt, va_list ap)
{
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	emit(prio, text);
}

void cp_log_write(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwrite(prio, fmt, ap);
	va_end(ap);
}

void cp_log(enum cp_log_kind kind, int prio, const char *fmt, ...)
{
	va_list ap;
	if (!cp_log_take(kind, prio))
		return;
	va_start(ap, fmt);
	vwrite(prio, fmt, ap);
	va_end(ap);
}

void cp_log_tick(void)
{
	uint64_t now = now_s();
	for (unsigned k = 0; k < CP_LOG__COUNT; k++)
		if (lg.held[k] && lg.second[k] != now)
			tell_held(k);
}

uint64_t cp_log_suppressed(void)
{
	return lg.suppressed;
}
