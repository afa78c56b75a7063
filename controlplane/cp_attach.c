#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "cp_attach.h"
#include "ha_state_file.h"

#define ATTEMPTS_ENV "HACPD_ATTACH_ATTEMPTS"
#define ATTEMPTS_MAX 600 /* 100 ms apart */

static char **saved_argv;

void cp_attach_save_args(int argc, char **argv)
{
	saved_argv = calloc((size_t)argc + 1, sizeof(char *));
	for (int i = 0; saved_argv && i < argc; i++)
		saved_argv[i] = strdup(argv[i]);
}

static void sleep_ms(unsigned ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
		  NULL);
}

noreturn void cp_attach_restart(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *path = "/proc/self/exe";
	if (n > 0) {
		self[n] = '\0';
		/* replaced by an upgrade: the new binary at the same path */
		char *del = strstr(self, " (deleted)");
		if (del && del[10] == '\0')
			*del = '\0';
		path = self;
	}
	fflush(NULL);
	/* nothing of this run's crosses: DPDK's descriptors (hugepage files, the locks a new
	 * hadp waits for) and the sockets, which the next run opens again */
	syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
	if (saved_argv)
		execv(path, saved_argv);
	fprintf(stderr, "hacpd: cannot execute %s again: %s\n", path, strerror(errno));
	_exit(1);
}

/* A transient failure: start over in a while (EAL cannot be initialised twice in a process). */
static noreturn void retry(const char *why)
{
	const char *s = getenv(ATTEMPTS_ENV);
	unsigned n = s ? (unsigned)strtoul(s, NULL, 10) : 0;
	if (n >= ATTEMPTS_MAX) {
		fprintf(stderr, "hacpd: %s; gave up after %u attempts\n", why, n);
		exit(1);
	}
	if (n == 0)
		fprintf(stderr, "hacpd: %s; trying again\n", why);
	char v[16];
	snprintf(v, sizeof(v), "%u", n + 1);
	setenv(ATTEMPTS_ENV, v, 1);
	sleep_ms(100);
	cp_attach_restart();
}

/* --lcores=ID@(CPUS): hacpd's own lcore id (never one of hadp's: DPDK's per-lcore mempool
 * caches are shared by the processes of the group) on the CPUs hacpd was started on. */
static int eal_lcores_arg(const struct ha_config *cfg, char *buf, size_t len)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	int l = snprintf(buf, len, "--lcores=%u@(", cfg->dataplane.control_plane_lcore);
	bool first = true;
	for (int cpu = 0; cpu < CPU_SETSIZE && l > 0 && (size_t)l < len; cpu++)
		if (CPU_ISSET(cpu, &set)) {
			l += snprintf(buf + l, len - (size_t)l, "%s%d", first ? "" : ",", cpu);
			first = false;
		}
	if (l <= 0 || (size_t)l + 2 > len || first)
		return -1;
	buf[l++] = ')';
	buf[l] = '\0';
	return 0;
}

static bool locked(int fd)
{
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	return fcntl(fd, F_GETLK, &l) == 0 && l.l_type != F_UNLCK;
}

int cp_attach(const struct ha_config *cfg, struct cp_attach *a)
{
	const char *prefix = ha_file_prefix(cfg);
	char path[600];
	memset(a, 0, sizeof(*a));
	char dir[512];
	ha_dpdk_runtime_dir(prefix, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/config", dir);

	/* hadp holds a lock on its configuration file while it runs */
	for (;;) {
		a->config_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (a->config_fd >= 0 && locked(a->config_fd))
			break;
		if (a->config_fd >= 0)
			close(a->config_fd);
		if (!a->waited && !getenv(ATTEMPTS_ENV))
			fprintf(stderr, "hacpd: waiting for hadp (file prefix %s)\n", prefix);
		a->waited = true;
		sleep_ms(10);
	}
	char pfx[300], lcores[4096];
	snprintf(pfx, sizeof(pfx), "--file-prefix=%s", prefix);
	if (eal_lcores_arg(cfg, lcores, sizeof(lcores)) < 0) {
		fprintf(stderr, "hacpd: cannot read the CPUs it may run on\n");
		return -EINVAL;
	}
	char *eargv[] = { "hacpd", "--proc-type=secondary", "--no-pci", "--no-telemetry",
			  "--log-level=*:warning", pfx, lcores, NULL };
	if (rte_eal_init(7, eargv) < 0) {
		char why[700];
		snprintf(why, sizeof(why), "cannot attach to hadp (%s): %s", pfx,
			 rte_strerror(rte_errno));
		retry(why);
	}
	/* hadp publishes its instance record once it forwards: until then it is starting */
	const struct rte_memzone *mz = NULL;
	for (unsigned waited = 0;; waited += 10) {
		mz = rte_memzone_lookup(HA_SHM_INSTANCE);
		if (mz && __atomic_load_n(&((const struct ha_instance *)mz->addr)->magic,
					  __ATOMIC_ACQUIRE) == HA_INSTANCE_MAGIC)
			break;
		if (!cp_attach_alive(a) || waited >= 60000)
			retry("hadp went away or never finished starting");
		if (!mz && waited >= 20000 && rte_memzone_lookup(RTE_RING_MZ_PREFIX HA_SHM_RING_CMD)) {
			/* rings but no record long after: a hadp from before instance records */
			fprintf(stderr, "hacpd: hadp has no instance record (%s): a release before "
					"ring version 5; refusing to attach\n", HA_SHM_INSTANCE);
			return -EPROTO;
		}
		sleep_ms(10);
	}
	a->live = mz->addr;
	a->instance = *a->live;
	if (a->instance.ring_version != HA_RING_VERSION) {
		fprintf(stderr, "hacpd: hadp (pid %u) speaks ring version %u, this hacpd version %u: "
				"refusing to attach (run the hacpd of hadp's release)\n",
			a->instance.pid, a->instance.ring_version, HA_RING_VERSION);
		return -EPROTO;
	}
	a->pool = rte_mempool_lookup(HA_SHM_MBUF_POOL);
	a->punt = rte_ring_lookup(HA_SHM_RING_PUNT);
	a->tx = rte_ring_lookup(HA_SHM_RING_TX);
	a->cmd = rte_ring_lookup(HA_SHM_RING_CMD);
	a->ack = rte_ring_lookup(HA_SHM_RING_ACK);
	if (!a->pool || !a->punt || !a->tx || !a->cmd || !a->ack) {
		fprintf(stderr, "hacpd: hadp's rings or mempool are missing\n");
		return -ENODEV;
	}
	unsetenv(ATTEMPTS_ENV);
	return 0;
}

bool cp_attach_alive(const struct cp_attach *a)
{
	return locked(a->config_fd);
}
