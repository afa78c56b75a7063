#include <string.h>
#include <sys/socket.h>

#include "cp_ike_path.h"

static unsigned slot_of(uint8_t family, const uint8_t *addr)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (unsigned i = 0; i < (family == AF_INET ? 4u : 16u); i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % CP_IKE_PATH_SLOTS;
}

void cp_ike_path_learn(struct cp_ike_path *t, uint8_t family, const uint8_t *addr, uint16_t port)
{
	if (family != AF_INET && family != AF_INET6)
		return;
	unsigned i = slot_of(family, addr);
	memset(t->slot[i].addr, 0, sizeof(t->slot[i].addr));
	memcpy(t->slot[i].addr, addr, family == AF_INET ? 4 : 16);
	t->slot[i].family = family;
	t->slot[i].port = port;
}

uint16_t cp_ike_path_port(const struct cp_ike_path *t, uint8_t family, const uint8_t *addr)
{
	if (family != AF_INET && family != AF_INET6)
		return t->default_port;
	unsigned i = slot_of(family, addr);
	if (t->slot[i].family == family &&
	    !memcmp(t->slot[i].addr, addr, family == AF_INET ? 4 : 16))
		return t->slot[i].port;
	return t->default_port;
}
