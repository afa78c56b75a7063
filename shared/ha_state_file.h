/*
 * A state file: fixed-size records in a file under the appliance's state directory, mapped
 * shared, so what a process writes there outlives it (a crash, an upgrade) and the next run of
 * it adopts the records. hacpd keeps its binding cache, the UEs' IKE sessions and the SAs it
 * installed this way; hadp its ESP sequence ledger (docs/restarts.md).
 *
 * The header says what the records are (kind), their layout (version, record size) and how many
 * there are; a file whose header does not match what this build reads is refused with a message
 * naming the file and the difference, never misread. The file is locked (flock) while mapped: a
 * second process of the same kind on the same directory is refused too.
 *
 * The state directory is /run/ha/FILE-PREFIX (ha_state_dir): one appliance per DPDK file prefix,
 * in memory (tmpfs), gone at a reboot, when every peer's state is gone too.
 */
#ifndef HA_STATE_FILE_H
#define HA_STATE_FILE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha_config.h"

#define HA_STATE_MAGIC "HASTATE1"
#define HA_STATE_ROOT "/run/ha"

struct ha_state_hdr {
	char magic[8];           /* HA_STATE_MAGIC */
	char kind[16];           /* what the records are, NUL-terminated ("bindings", ...) */
	uint32_t version;        /* the records' layout */
	uint32_t record_size;
	uint32_t capacity;
	uint32_t generation;     /* 1 in a new file, one more at every adoption (never 0) */
	uint64_t instance;       /* the owner's: e.g. which hadp the records were installed in */
	uint8_t reserved[16];
};

static_assert(sizeof(struct ha_state_hdr) == 64, "state file header: 64 octets");

struct ha_state_file {
	struct ha_state_hdr *hdr;
	void *records;           /* capacity * record_size octets, zero in a new file */
	size_t len;
	int fd;
	bool adopted;            /* the file held a previous run's records */
	char path[320];
};

/** The DPDK file prefix the YAML gives hadp (dataplane.eal_args), "rte" by default. */
const char *ha_file_prefix(const struct ha_config *cfg);

/** EAL's runtime directory of a file prefix, where hadp's configuration file and memzone list
 *  are (as EAL makes it: /var/run for root, else $XDG_RUNTIME_DIR or /tmp, then dpdk/PREFIX). */
void ha_dpdk_runtime_dir(const char *prefix, char *buf, size_t len);

/** The state directory of an appliance: HA_STATE_ROOT/FILE-PREFIX. */
void ha_state_dir(const struct ha_config *cfg, char *buf, size_t len);

/**
 * Open (creating the directory and the file, mode 0700 / 0600) and map DIR/NAME with capacity
 * records of record_size octets of the given kind and version. A file that exists is adopted
 * when its header matches; otherwise 0 is not returned.
 * @return 0; -EEXIST (another process holds it), -EPROTO (another kind, version, record size or
 *         capacity: err says which), or -errno; err holds a line for the log.
 */
int ha_state_open(struct ha_state_file *f, const char *dir, const char *name, const char *kind,
		  uint32_t version, uint32_t record_size, uint32_t capacity, char *err,
		  size_t errlen);

/** Record i. */
static inline void *ha_state_record(const struct ha_state_file *f, uint32_t i)
{
	return (char *)f->records + (size_t)i * f->hdr->record_size;
}

/** Unmap and close (the file stays). NULL mapping allowed. */
void ha_state_close(struct ha_state_file *f);

#endif
