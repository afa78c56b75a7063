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
	/** Connect now if not connected (the socket needs the connection to receive). 0 or -errno. */
	int (*ensure)(dsmip6_hacpd_t *this);
	/** Who takes the IKE messages hadp received (PACKET): charon's socket (dsmip6_socket.c).
	 *  Called on charon's watcher thread or a requester's; must not block. */
	void (*on_packet)(dsmip6_hacpd_t *this, void (*cb)(void *ctx, const struct ha_ike_packet *p),
			  void *ctx);
	/** cb runs (on a job of its own, without this connection's lock) after each HELLO that
	 *  hacpd accepted: a (re)connection. */
	void (*on_connect)(dsmip6_hacpd_t *this, void (*cb)(void *ctx), void *ctx);
	/** Who takes hacpd's AAA_END notices (the S6b client, dsmip6_s6b.c). Called on charon's
	 *  watcher thread or a requester's, with this connection's lock held: must not block. */
	void (*on_aaa_end)(dsmip6_hacpd_t *this, void (*cb)(void *ctx, const struct ha_ike_aaa_end *m),
			   void *ctx);
	void (*destroy)(dsmip6_hacpd_t *this);
};

/** The socket named by <ns>.plugins.dsmip6.hacpd_socket (default /run/hacpd/ike.sock). */
dsmip6_hacpd_t *dsmip6_hacpd_create(void);

/** The plugin's one connection (dsmip6_plugin.c), for the kernel interface and providers. */
extern dsmip6_hacpd_t *dsmip6_hacpd;

#endif
