/*
 * The YAML's static bindings as the dataplane's binding spec (shared/ha_ring.h): what hadp
 * installs at its start and what hacpd sends when a reload adds one (controlplane/cp_reload.c),
 * built in one place so that both are the same binding.
 */
#ifndef HA_STATIC_H
#define HA_STATIC_H

#include "ha_config.h"
#include "ha_ring.h"

/** Fill a spec from one of the YAML's static bindings (HA_BIND_F_SA with its SPIs). */
void ha_binding_spec_from_config(const struct ha_config_binding *c, struct ha_binding_spec *s);

#endif
