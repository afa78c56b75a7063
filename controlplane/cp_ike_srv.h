/*
 * hacpd's IKE socket (ike.socket): charon's plugin connects, says HELLO, then asks for home
 * prefixes and hands over the child SAs it negotiates and the IKE SAs it loses
 * (shared/ha_ike_msg.h). The decisions are cp_ike.c's; this file reads and writes the socket
 * and turns them into hadp commands through the install callback. One connection at a time: a
 * new one (charon restarted) replaces the old. Owner: hacpd's main thread, polled.
 */
#ifndef CP_IKE_SRV_H
#define CP_IKE_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "cp_ike.h"
#include "ha_ring.h"

struct cp_ike_srv {
	int listen_fd;
	int fd;                     /* charon's connection, -1 when none */
	struct cp_ike *ike;
	/* hadp's table changes: 0 when queued, -errno */
	int (*install)(void *arg, struct ha_cmd *cmd);
	/* charon's IKE message out through hadp: 0 when queued, -errno */
	int (*send_packet)(void *arg, const struct ha_ike_packet *p);
	/* 004 5.4.3.1: the network-initiated detach of home address hoa (BRI), hactl detach's:
	 * 0, -EALREADY, -ENOENT (an AAA_ORDER abort of a UE with a binding) */
	int (*detach)(void *arg, const struct in6_addr *hoa);
	void *arg;
	uint8_t rx[8192];
	/* query_sa waiting for hadp's ack: the command's seq, the request's seq */
	struct { uint32_t cmd_seq, req_seq, ike_sa; bool used; } queries[16];
	size_t rx_len;
	bool hello;
	uint64_t swept_s;           /* the last second orphaned sessions were looked at */
	uint64_t msgs, bad_msgs, connects, moves, packets_in, packets_out, packets_dropped;
};

/** Listen at path, root only (0600). 0 or -errno. */
int cp_ike_srv_open(struct cp_ike_srv *s, struct cp_ike *ike, const char *path);
/** Accept, read and answer what is waiting; once a second, end the orphaned sessions that are
 *  due (cp_ike_orphans_due). @return messages handled. */
unsigned cp_ike_srv_poll(struct cp_ike_srv *s);
void cp_ike_srv_close(struct cp_ike_srv *s, const char *path);

/** RFC 4877 4.4: tell charon the IKE SA moves: its peer to coa (a care-of address, or the
 *  home address when the UE came home), its local end to local, the HA's own address of coa's
 *  family; flags HA_IKE_MOVE_F_NATT when the UE is behind a NAT (IKE on UDP 4500). -EAFNOSUPPORT
 *  when local's family is not coa's (the HA has no address of that family). Nothing happens
 *  without a connection. @return 0 or -errno. */
int cp_ike_srv_notify_move(struct cp_ike_srv *s, uint32_t ike_sa, const struct ha_cfg_addr *coa,
			   const struct ha_cfg_addr *local, uint8_t flags);

/** An IKE message hadp punted, for charon's socket. Dropped (and counted) without a
 *  connection. @return 0 or -errno. */
int cp_ike_srv_notify_packet(struct cp_ike_srv *s, const struct ha_ike_packet *p);

/** 004 5.4.3.1: hacpd detached the UE; charon deletes its IKE SA. @return 0 or -errno. */
int cp_ike_srv_notify_delete(struct cp_ike_srv *s, uint32_t ike_sa);

/** The AAA_ENDs waiting (cp_aaa.h) to the plugin, while it is connected and has said HELLO
 *  and its socket takes them; the rest waits. Done at every poll. @return how many went. */
unsigned cp_ike_srv_flush_ends(struct cp_ike_srv *s);

/** hadp's ack of a command: answers the SA_QUERY waiting for it, if any. @return true if it
 *  was one of ours. */
bool cp_ike_srv_ack(struct cp_ike_srv *s, const struct ha_cmd_ack *ack);

/** Handle one message (exposed for tests); the answer, if any, in reply (its header's len,
 *  0 when there is none). @return 0, or -errno when the connection must be dropped. */
int cp_ike_srv_handle(struct cp_ike_srv *s, const struct ha_ike_hdr *h, void *reply,
		      size_t reply_max);

#endif
