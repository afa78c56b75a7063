#include <string.h>
#include <sys/socket.h>

#include "ha_sa.h"

void ha_sa_spec_from_config(const struct ha_config_sa *c, struct ha_sa_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->spi = c->spi;
	s->direction = c->direction == HA_CFG_SA_IN ? HA_SA_IN : HA_SA_OUT;
	s->mode = c->mode == HA_CFG_SA_TUNNEL ? HA_SA_TUNNEL : HA_SA_TRANSPORT;
	s->family = c->peer.family;
	s->encryption = (uint8_t)c->encryption;
	s->integrity = (uint8_t)c->integrity;
	s->key_len = c->key_len;
	s->auth_key_len = c->auth_key_len;
	s->flags = c->esn ? HA_SA_F_ESN : 0;
	s->replay_window = c->replay_window;
	s->encap_port = c->udp_encap_port;
	memcpy(s->local, c->local.family == AF_INET ? (const void *)&c->local.v4 : (const void *)&c->local.v6,
	       c->local.family == AF_INET ? 4 : 16);
	memcpy(s->peer, c->peer.family == AF_INET ? (const void *)&c->peer.v4 : (const void *)&c->peer.v6,
	       c->peer.family == AF_INET ? 4 : 16);
	memcpy(s->key, c->key, c->key_len);
	memcpy(s->auth_key, c->auth_key, c->auth_key_len);
}
