/* hacpd's Unix listening sockets (hactl's, charon's): one way to make them. */
#ifndef CP_SOCK_H
#define CP_SOCK_H

#include <sys/types.h>

/** A non-blocking listening socket at path (its directory made, a stale socket replaced), with
 *  mode and, unless group is NULL, that group. @return the fd, or -errno. */
int cp_sock_listen(const char *path, mode_t mode, const char *group);

#endif
