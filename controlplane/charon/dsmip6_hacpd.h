/*
 * The plugin's connection to hacpd's IKE socket (shared/ha_ike_msg.h): one request at a time
 * (charon's threads take turns), each answered before the next; (re)connected and HELLO said on
 * demand, so charon and hacpd may start in any order and either may restart.
 */
#ifndef DSMIP6_HACPD_H_
#define DSMIP6_HACPD_H_

#include <stddef.h>

#include "ha_ike_msg.h"

typedef struct dsmip6_hacpd_t dsmip6_hacpd_t;

struct dsmip6_hacpd_t {
	/** Send req (its header's len, type and ike_sa set; seq is chosen here) and wait for the
	 *  answer of that seq into reply (reply_len octets at most). @return 0 or -errno (the
	 *  transport failed: -ENOTCONN, -ETIMEDOUT, -EPROTO). */
	int (*request)(dsmip6_hacpd_t *this, struct ha_ike_hdr *req, void *reply, size_t reply_len);
	void (*destroy)(dsmip6_hacpd_t *this);
};

/** The socket named by <ns>.plugins.dsmip6.hacpd_socket (default /run/hacpd/ike.sock). */
dsmip6_hacpd_t *dsmip6_hacpd_create(void);

/** The plugin's one connection (dsmip6_plugin.c), for the kernel interface and providers. */
extern dsmip6_hacpd_t *dsmip6_hacpd;

#endif
