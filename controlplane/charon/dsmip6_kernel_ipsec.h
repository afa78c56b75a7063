/*
 * charon's kernel_ipsec_t for the appliance: every ESP SA charon negotiates goes to hacpd, and
 * from there, checked against the UE's session, into hadp's SA table (shared/ha_ike_msg.h). No
 * SA, key or policy ever reaches the kernel (there is no ESP in it: the dataplane does all ESP).
 * Policies are no-ops (connections use policies = no).
 */
#ifndef DSMIP6_KERNEL_IPSEC_H_
#define DSMIP6_KERNEL_IPSEC_H_

#include <kernel/kernel_ipsec.h>

kernel_ipsec_t *dsmip6_kernel_ipsec_create(void);

#endif
