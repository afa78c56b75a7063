#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <rte_memzone.h>
#include <rte_random.h>

#include "dp_instance.h"
#include "ha_ring.h"
#include "ha_state_file.h"

int dp_wait_previous_run(const char *file_prefix, unsigned timeout_ms)
{
	char dir[512], path[600];
	ha_dpdk_runtime_dir(file_prefix, dir, sizeof(dir));
	/* every process attached to a DPDK group holds a shared lock on the memzone list; a
	 * killed primary's secondaries hold theirs until they notice and let go (hacpd: within
	 * milliseconds). Starting meanwhile would fail in EAL, or worse share their pages. */
	snprintf(path, sizeof(path), "%s/fbarray_memzone", dir);
	bool said = false;
	for (unsigned waited = 0;; waited += 10) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 0;
		int rc = flock(fd, LOCK_EX | LOCK_NB);
		close(fd);
		if (rc == 0)
			return 0;
		if (waited >= timeout_ms) {
			fprintf(stderr, "hadp: processes attached to a previous hadp of file prefix %s "
					"still hold %s after %u ms: stop them (fuser %s)\n",
				file_prefix, path, timeout_ms, path);
			return -EBUSY;
		}
		if (!said)
			fprintf(stderr, "hadp: waiting for the processes of a previous hadp to let go "
					"of its memory (%s)\n", path);
		said = true;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
}

static struct ha_instance *published;

int dp_instance_publish(uint64_t start_ns)
{
	const struct rte_memzone *mz = rte_memzone_reserve(HA_SHM_INSTANCE,
							   sizeof(struct ha_instance),
							   SOCKET_ID_ANY, 0);
	if (!mz)
		return -ENOMEM;
	struct ha_instance *in = mz->addr;
	*in = (struct ha_instance){ .ring_version = HA_RING_VERSION, .id = rte_rand() | 1,
				    .pid = (uint32_t)getpid(), .start_ns = start_ns };
	__atomic_store_n(&in->magic, HA_INSTANCE_MAGIC, __ATOMIC_RELEASE);
	published = in;
	return 0;
}

void dp_instance_retire(void)
{
	if (!published)
		return;
	__atomic_store_n(&published->magic, 0, __ATOMIC_RELEASE);
	published = NULL;
	nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
}
