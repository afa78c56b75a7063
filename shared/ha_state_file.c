#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ha_state_file.h"

const char *ha_file_prefix(const struct ha_config *cfg)
{
	const struct ha_config_dataplane *dp = &cfg->dataplane;
	for (unsigned i = 0; i < dp->n_eal_args; i++) {
		if (!strncmp(dp->eal_args[i], "--file-prefix=", 14))
			return dp->eal_args[i] + 14;
		if (!strcmp(dp->eal_args[i], "--file-prefix") && i + 1 < dp->n_eal_args)
			return dp->eal_args[i + 1];
	}
	return "rte";
}

void ha_dpdk_runtime_dir(const char *prefix, char *buf, size_t len)
{
	const char *base = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	snprintf(buf, len, "%s/dpdk/%s", base ? base : "/tmp", prefix);
}

void ha_state_dir(const struct ha_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", HA_STATE_ROOT, ha_file_prefix(cfg));
}

static int make_dirs(const char *dir)
{
	char p[320];
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

int ha_state_open(struct ha_state_file *f, const char *dir, const char *name, const char *kind,
		  uint32_t version, uint32_t record_size, uint32_t capacity, char *err,
		  size_t errlen)
{
	struct stat st;
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
	f->len = sizeof(struct ha_state_hdr) + (size_t)capacity * record_size;
	if ((rc = make_dirs(dir)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	f->fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		goto fail;
	}
	if (flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EEXIST : -errno;
		snprintf(err, errlen, "%s: %s", f->path, rc == -EEXIST ?
			 "another process holds it (is one already running on this state directory?)"
			 : strerror(errno));
		goto fail;
	}
	bool fresh = st.st_size == 0;
	if (!fresh && (size_t)st.st_size < sizeof(struct ha_state_hdr)) {
		rc = -EPROTO;
		snprintf(err, errlen, "%s: %lld octets, too short to be a state file: refused (remove "
			 "it to start without its records)", f->path, (long long)st.st_size);
		goto fail;
	}
	if (fresh && ftruncate(f->fd, (off_t)f->len) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		goto fail;
	}
	size_t map_len = fresh ? f->len : (size_t)st.st_size;
	void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (m == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "%s: mmap: %s", f->path, strerror(errno));
		goto fail;
	}
	f->hdr = m;
	f->records = f->hdr + 1;
	/* no header yet: a process stopped between sizing the file and writing it, before any
	 * record was used; the file is new */
	static const char zero[sizeof(f->hdr->magic)];
	if (!fresh && !memcmp(f->hdr->magic, zero, sizeof(zero)) && map_len == f->len)
		fresh = true;
	if (fresh) {
		struct ha_state_hdr h = { .version = version, .record_size = record_size,
					  .capacity = capacity, .generation = 1 };
		snprintf(h.kind, sizeof(h.kind), "%s", kind);
		memcpy(h.magic, HA_STATE_MAGIC, 8);
		*f->hdr = h;
		return 0;
	}
	const struct ha_state_hdr *h = f->hdr;
	const char *why = NULL;
	char what[160];
	if (memcmp(h->magic, HA_STATE_MAGIC, 8) || strncmp(h->kind, kind, sizeof(h->kind)))
		why = "not a state file of this kind";
	else if (h->version != version)
		why = (snprintf(what, sizeof(what), "record version %u, this build reads version %u",
				h->version, version), what);
	else if (h->record_size != record_size)
		why = (snprintf(what, sizeof(what), "records of %u octets, this build's are %u",
				h->record_size, record_size), what);
	else if (h->capacity != capacity)
		why = (snprintf(what, sizeof(what), "made for %u records, the configuration says %u",
				h->capacity, capacity), what);
	else if (map_len < f->len)
		why = "shorter than its header says";
	if (why) {
		munmap(m, map_len);
		f->hdr = NULL;
		rc = -EPROTO;
		snprintf(err, errlen, "%s (%s): %s: refused, not misread (remove the file to start "
			 "without its records)", f->path, kind, why);
		goto fail;
	}
	f->len = map_len;
	f->adopted = true;
	f->hdr->generation++;
	return 0;
fail:
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	return rc;
}

void ha_state_close(struct ha_state_file *f)
{
	if (f->hdr)
		munmap(f->hdr, f->len);
	if (f->fd >= 0)
		close(f->fd); /* the lock goes with it */
	f->hdr = NULL;
	f->fd = -1;
}
