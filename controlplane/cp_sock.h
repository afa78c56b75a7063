/* hacpd's Unix listening sockets (hactl's, charon's): one way to make them. */
#ifndef CP_SOCK_H
#define CP_SOCK_H

#include <stdbool.h>
#include <sys/types.h>

/** A non-blocking listening socket at path (its directory made, a stale socket replaced), with
 *  mode and, unless group is NULL, that group. @return the fd, or -errno. */
int cp_sock_listen(const char *path, mode_t mode, const char *group);

/** Is a connection waiting on the listening socket? A poll() of it: hacpd's loop asks at every
 *  turn, and a non-blocking accept() that finds nothing still makes and frees a socket in the
 *  kernel (17 % of hacpd's CPU in a BU storm). */
bool cp_sock_pending(int listen_fd);

#endif
