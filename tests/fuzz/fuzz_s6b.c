/*
 * libFuzzer harness for what the HA reads from the AAA (controlplane/s6b/s6b_msg.c): any bytes
 * freeDiameter parses as a Diameter message against the S6b dictionaries go through
 * s6b_read_answer as a DEA/AAA/STA would. Oracle beyond "no crash, no leak": what was read
 * stays inside its bounds, and only the flags the answer can carry are set.
 */
#include <stdlib.h>
#include <string.h>

#include "s6b_offline.h"

#include <freeDiameter/libfdcore.h>

static struct s6b_dict d;
static const uint8_t own_ha[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 1 };

/* freeDiameter logs every parse error it meets: silent while fuzzing */
static void quiet(int level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (s6b_offline_init("ha.fuzz.example.com", &d))
		abort();
	fd_log_handler_unregister();
	fd_log_handler_register(quiet);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct s6b_answer a;
	struct msg *m = NULL;
	struct fd_pei pei;

	if (size < 20 || size > 65536)
		return 0;
	uint8_t *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (fd_msg_parse_buffer(&buf, size, &m)) {
		free(buf); /* not taken on failure */
		return 0;
	}
	if (fd_msg_parse_dict(m, fd_g_config->cnf_dict, &pei) == 0) {
		int rc = s6b_read_answer(&d, m, "internet", own_ha, &a);
		if (rc == 0) {
			if (a.eap_len > sizeof(a.eap) || a.msk_len > sizeof(a.msk) ||
			    memchr(a.sid, 0, sizeof(a.sid)) == NULL ||
			    memchr(a.origin, 0, sizeof(a.origin)) == NULL)
				abort();
			if (a.auth.flags & ~(HA_IKE_AUTH_F_PREFIX | HA_IKE_AUTH_F_IP4 |
					     HA_IKE_AUTH_F_NO_IP4 | HA_IKE_AUTH_F_REALLOC))
				abort();
			if ((a.auth.flags & HA_IKE_AUTH_F_REALLOC) && !memcmp(a.auth.realloc_ha, own_ha, 16))
				abort(); /* the HA's own address is no reallocation */
		}
		char sid[HA_IKE_SID_MAX];
		if (s6b_session_id(&d, m, sid, sizeof(sid)) == 0 && strlen(sid) >= sizeof(sid))
			abort();
	}
	fd_msg_free(m);
	return 0;
}
