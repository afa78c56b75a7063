/* Which of hadp's ports leads to an IKE peer (see cp_ike_path.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cp_ike_path.h"

static bool make_key(uint8_t key[17], uint8_t family, const uint8_t *addr)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	memset(key, 0, 17);
	key[0] = family;
	memcpy(key + 1, addr, family == AF_INET ? 4 : 16);
	return true;
}

void cp_ike_path_learn(struct cp_ike_path *t, uint8_t family, const uint8_t *addr, uint16_t port)
{
	uint8_t key[17];
	struct cp_ike_path_entry *e;
	if (!make_key(key, family, addr))
		return;
	HASH_FIND(hh, t->by_addr, key, sizeof(key), e);
	if (port == t->default_port) { /* back on the default port: no exception any more */
		if (e) {
			HASH_DEL(t->by_addr, e);
			free(e);
			t->count--;
		}
		return;
	}
	if (!e) {
		if (t->count >= CP_IKE_PATH_MAX || !(e = calloc(1, sizeof(*e)))) {
			t->full++;
			return;
		}
		memcpy(e->key, key, sizeof(key));
		HASH_ADD(hh, t->by_addr, key, sizeof(e->key), e);
		t->count++;
	}
	e->port = port;
}

uint16_t cp_ike_path_port(const struct cp_ike_path *t, uint8_t family, const uint8_t *addr)
{
	uint8_t key[17];
	struct cp_ike_path_entry *e = NULL;
	if (make_key(key, family, addr))
		HASH_FIND(hh, t->by_addr, key, sizeof(key), e);
	return e ? e->port : t->default_port;
}

void cp_ike_path_free(struct cp_ike_path *t)
{
	struct cp_ike_path_entry *e, *tmp;
	HASH_ITER(hh, t->by_addr, e, tmp) {
		HASH_DEL(t->by_addr, e);
		free(e);
	}
	t->count = 0;
}
