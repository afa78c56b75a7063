/* The YAML's static bindings as binding specs (see ha_static.h). */
#include <string.h>
#include <sys/socket.h>

#include "ha_static.h"

void ha_binding_spec_from_config(const struct ha_config_binding *c, struct ha_binding_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->home_prefix_len = c->home_prefix_len;
	memcpy(s->home_prefix, &c->home_prefix, 16);
	if (c->has_ipv4_home_address) {
		s->flags |= HA_BIND_F_IPV4_HOA;
		memcpy(s->hoa4, &c->ipv4_home_address, 4);
	}
	if (c->care_of.family == AF_INET) {
		s->flags |= HA_BIND_F_COA4;
		memcpy(s->coa, &c->care_of.v4, 4);
	} else {
		memcpy(s->coa, &c->care_of.v6, 16);
	}
	if (c->has_udp_port) {
		s->flags |= HA_BIND_F_UDP;
		s->udp_port = c->udp_port;
	}
	if (c->has_sa) {
		s->flags |= HA_BIND_F_SA;
		s->sa_out = c->sa_out;
		s->sa_in = c->sa_in;
	}
}
