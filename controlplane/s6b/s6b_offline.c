#include "s6b_offline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <freeDiameter/libfdcore.h>

#if defined(__SANITIZE_ADDRESS__)
#define S6B_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S6B_ASAN 1
#endif
#endif
#ifdef S6B_ASAN
#include <sanitizer/lsan_interface.h>
#endif

/* Quiet: only freeDiameter's errors, on stderr. */
static void log_errors(int level, const char *fmt, va_list ap)
{
	if (level < FD_LOG_ERROR && !getenv("S6B_DEBUG"))
		return;
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int s6b_offline_init(const char *identity, struct s6b_dict *d)
{
	static const char *const ext[] = { S6B_DICT_EXTENSIONS };
	const char *dot = strchr(identity, '.');
	char path[] = "/tmp/s6b-offline-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	fprintf(f, "Identity = \"%s\";\nRealm = \"%s\";\nNo_SCTP;\nSecPort = 0;\n", identity,
		dot ? dot + 1 : identity);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		fprintf(f, "LoadExtension = \"%s\";\n", ext[i]);
	fclose(f);

	fd_log_handler_register(log_errors);
#ifdef S6B_ASAN
	__lsan_disable(); /* freeDiameter's dictionary extensions leak their objects' names */
#endif
	int rc = fd_core_initialize();
	if (!rc)
		rc = fd_core_parseconf(path);
#ifdef S6B_ASAN
	__lsan_enable();
#endif
	unlink(path);
	if (rc) {
		fprintf(stderr, "s6b: freeDiameter would not load its dictionaries (%s)\n",
			strerror(rc));
		return -rc;
	}
	const char *missing;
	rc = s6b_dict_load(fd_g_config->cnf_dict, d, &missing);
	if (rc)
		fprintf(stderr, "s6b: the dictionary has no %s\n", missing);
	return rc;
}
