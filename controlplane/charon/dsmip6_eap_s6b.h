/*
 * The HA's EAP-AKA server role with ike.aaa: s6b: an EAP method of charon that relays the
 * UE's EAP messages to the 3GPP AAA in Diameter-EAP-Requests (TS 29.273 9.2.2.1: User-Name =
 * the NAI, EAP-Payload, Service-Selection = the APN, MIP6-Agent-Info) and the AAA's back, as
 * strongSwan's eap-radius does over RADIUS. The final DEA's MSK keys the IKE SA; its
 * authorisation goes with the UE's PREFIX_REQ to hacpd (dsmip6_session.c).
 */
#ifndef DSMIP6_EAP_S6B_H_
#define DSMIP6_EAP_S6B_H_

#include <sa/eap/eap_method.h>

/** An EAP_SERVER method for EAP-AKA; NULL when S6b is not configured (charon then tries the
 *  next provider of the method, e.g. eap-aka with the local subscriber file). */
eap_method_t *dsmip6_eap_s6b_create(identification_t *server, identification_t *peer);

#endif
