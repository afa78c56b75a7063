#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cp_sock.h"

int cp_sock_listen(const char *path, mode_t mode, const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* the directory, then a fresh socket (a stale one from a crash is replaced) */
	char dir[sizeof(sa.sun_path)];
	memcpy(dir, sa.sun_path, sizeof(dir));
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0777 & ~mode);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	chmod(path, mode);
	if (group) {
		struct group *g = getgrnam(group);
		if (!g || chown(path, (uid_t)-1, g->gr_gid) < 0) {
			rc = g ? -errno : -ENOENT;
			close(fd);
			unlink(path);
			return rc;
		}
	}
	return fd;
}

bool cp_sock_pending(int listen_fd)
{
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}
