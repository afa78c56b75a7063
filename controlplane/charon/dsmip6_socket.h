/*
 * charon's socket when IKE comes through the dataplane (docs/ikev2.md): hadp punts IKE (UDP 500,
 * UDP 4500 with the non-ESP marker), hacpd hands each message to this socket over the IKE
 * socket, and what charon sends goes back through hacpd and out of hadp's port. No kernel socket
 * and no kernel interface are involved. On when <ns>.plugins.dsmip6.ike_via_dataplane = yes;
 * otherwise the constructor declines and charon takes the next socket (socket-default).
 */
#ifndef DSMIP6_SOCKET_H_
#define DSMIP6_SOCKET_H_

#include <network/socket.h>

socket_t *dsmip6_socket_create(void);

#endif
