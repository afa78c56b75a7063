#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aka_subscribers.h"
#include "ha_config_int.h"

enum { K_ID, K_K, K_OPC, K_OP, K_AMF, K_SQN };
static const char *const sub_keys[] = { "identity", "k", "opc", "op", "amf", "sqn" };

/* Field i of m: exactly len octets in hex. */
static int hex_field(struct cfg_ctx *c, const struct cfg_mapv *m, unsigned i, uint8_t *out,
		     size_t len)
{
	const struct ynode *n = m->v[i];
	size_t old = cfg_push_key(c, sub_keys[i]);
	int rc = -1;

	if (cfg_scalar_str(c, n, "a hex string") < 0)
		goto out;
	if (n->len != 2 * len) {
		cfg_fail(c, n, "expected %zu hex digits, got %zu", 2 * len, n->len);
		goto out;
	}
	for (size_t j = 0; j < 2 * len; j++) {
		char ch = (char)(n->s[j] | 32);
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
			cfg_fail(c, n, "expected hex digits");
			goto out;
		}
	}
	for (size_t j = 0; j < len; j++) {
		char b[3] = { n->s[2 * j], n->s[2 * j + 1], 0 };
		out[j] = (uint8_t)strtoul(b, NULL, 16);
	}
	rc = 0;
out:
	cfg_pop(c, old);
	return rc;
}

static int walk_subscriber(struct cfg_ctx *c, const struct ynode *n, struct aka_subscriber *s)
{
	struct cfg_mapv m;

	if (cfg_map(c, n, sub_keys, 6, &m) < 0)
		return -1;
	for (size_t i = 0; i < 2; i++)
		if (!m.v[i])
			return cfg_missing(c, &m, i);
	size_t old = cfg_push_key(c, sub_keys[K_ID]);
	if (cfg_scalar_str(c, m.v[K_ID], "an identity") < 0)
		return -1;
	if (!m.v[K_ID]->len || m.v[K_ID]->len >= sizeof(s->identity))
		return cfg_fail(c, m.v[K_ID], "expected 1 to %zu characters", sizeof(s->identity) - 1);
	memcpy(s->identity, m.v[K_ID]->s, m.v[K_ID]->len + 1);
	cfg_pop(c, old);
	if (hex_field(c, &m, K_K, s->k, AKA_K_LEN) < 0)
		return -1;
	if (!m.v[K_OPC] == !m.v[K_OP])
		return cfg_fail(c, n, "expected exactly one of opc and op");
	if (m.v[K_OPC]) {
		if (hex_field(c, &m, K_OPC, s->opc, 16) < 0)
			return -1;
	} else {
		uint8_t op[16];
		if (hex_field(c, &m, K_OP, op, 16) < 0)
			return -1;
		if (aka_opc(s->k, op, s->opc) < 0)
			return cfg_fail(c, m.v[K_OP], "AES-128 is not available");
	}
	/* TS 33.402 6.2: EAP-AKA for non-3GPP access uses AMF with the separation bit 0 */
	memset(s->amf, 0, sizeof(s->amf));
	if (m.v[K_AMF] && hex_field(c, &m, K_AMF, s->amf, AKA_AMF_LEN) < 0)
		return -1;
	int64_t sqn = 0;
	old = cfg_push_key(c, sub_keys[K_SQN]);
	if (m.v[K_SQN] && cfg_scalar_int(c, m.v[K_SQN], 0, (int64_t)AKA_SQN_MAX, &sqn) < 0)
		return -1;
	cfg_pop(c, old);
	s->sqn = (uint64_t)sqn;
	return 0;
}

static int by_identity(const void *a, const void *b)
{
	return strcmp(((const struct aka_subscriber *)a)->identity,
		      ((const struct aka_subscriber *)b)->identity);
}

static int walk_root(struct cfg_ctx *c, const struct ynode *root, void *arg)
{
	struct aka_subscribers *db = arg;
	size_t old;
	const struct ynode *list = cfg_root_list(c, root, "subscribers", true, &old);

	if (!list)
		return -1;
	db->v = calloc(list->n, sizeof(*db->v));
	if (!db->v)
		return cfg_fail(c, list, "out of memory");
	for (size_t i = 0; i < list->n; i++) {
		size_t o = cfg_push_index(c, i);
		if (walk_subscriber(c, list->kids[i], &db->v[i]) < 0)
			return -1;
		cfg_pop(c, o);
		db->n++;
	}
	qsort(db->v, db->n, sizeof(*db->v), by_identity);
	for (size_t i = 1; i < db->n; i++)
		if (!strcmp(db->v[i].identity, db->v[i - 1].identity))
			return cfg_fail_at(c, list->line, list->col, "identity %s appears twice",
					   db->v[i].identity);
	cfg_pop(c, old);
	return 0;
}

int aka_subscribers_load(const char *path, struct aka_subscribers *db, char *err, size_t errlen)
{
	memset(db, 0, sizeof(*db));
	if (cfg_load_yaml(path, walk_root, db, err, errlen) < 0) {
		free(db->v);
		db->v = NULL;
		db->n = 0;
		return -1;
	}
	pthread_mutex_init(&db->lock, NULL);
	return 0;
}

void aka_subscribers_free(struct aka_subscribers *db)
{
	if (!db->v)
		return;
	explicit_bzero(db->v, db->n * sizeof(*db->v)); /* keys */
	free(db->v);
	db->v = NULL;
	db->n = 0;
	pthread_mutex_destroy(&db->lock);
}

static struct aka_subscriber *find(struct aka_subscribers *db, const char *identity)
{
	struct aka_subscriber key;
	if (strlen(identity) >= sizeof(key.identity))
		return NULL;
	strcpy(key.identity, identity);
	return bsearch(&key, db->v, db->n, sizeof(*db->v), by_identity);
}

int aka_subscribers_vector(struct aka_subscribers *db, const char *identity,
			   const uint8_t rand[AKA_RAND_LEN], struct aka_vector *v)
{
	struct aka_subscriber *s = find(db, identity);
	int rc = 0;

	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&db->lock);
	/* the next SEQ, IND 0 (TS 33.102 C.3.2); SQN wraps only after 2^43 vectors */
	uint64_t sqn = ((s->sqn / AKA_SQN_STEP) + 1) * AKA_SQN_STEP & AKA_SQN_MAX;
	if (aka_make_vector(s->k, s->opc, rand, sqn, s->amf, v) < 0) {
		rc = -EIO;
	} else {
		s->sqn = sqn;
		s->vectors++;
	}
	pthread_mutex_unlock(&db->lock);
	return rc;
}

int aka_subscribers_resync(struct aka_subscribers *db, const char *identity,
			   const uint8_t rand[AKA_RAND_LEN], const uint8_t auts[AKA_AUTS_LEN])
{
	struct aka_subscriber *s = find(db, identity);
	uint64_t sqn_ms;

	if (!s)
		return -ENOENT;
	int r = aka_resync(s->k, s->opc, rand, auts, &sqn_ms);
	if (r < 0)
		return -EIO;
	if (r > 0)
		return -EACCES;
	pthread_mutex_lock(&db->lock);
	s->sqn = sqn_ms;
	s->resyncs++;
	pthread_mutex_unlock(&db->lock);
	return 0;
}
