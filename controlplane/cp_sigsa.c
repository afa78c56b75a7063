#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cp_sigsa.h"

static uint64_t req_key(uint32_t ike_sa, uint32_t reqid)
{
	return (uint64_t)ike_sa << 32 | reqid;
}

/* the entry the home address index names: the newest one of that address */
static void index_hoa(struct cp_sigsas *t, struct cp_sigsa *e)
{
	struct cp_sigsa *old = NULL;
	HASH_REPLACE(hh_hoa, t->by_hoa, hoa, sizeof(e->hoa), e, old);
	(void)old;
}

static struct cp_sigsa *find_req(const struct cp_sigsas *t, uint32_t ike_sa, uint32_t reqid)
{
	struct cp_sigsa *e;
	uint64_t k = req_key(ike_sa, reqid);
	HASH_FIND(hh_req, t->by_req, &k, sizeof(k), e);
	return e;
}

int cp_sigsa_add(struct cp_sigsas *t, uint32_t ike_sa, uint32_t reqid, const struct in6_addr *hoa,
		 uint32_t spi, bool in)
{
	struct cp_sigsa *e = NULL, *other;

	if (ike_sa) {
		e = find_req(t, ike_sa, reqid);
	} else {
		/* the YAML's SAs pair by home address: the static entry still missing this half */
		HASH_FIND(hh_hoa, t->by_hoa, hoa, sizeof(*hoa), other);
		if (other && !other->ike_sa && !(in ? other->spi_in : other->spi_out))
			e = other;
	}

	if (in) {
		HASH_FIND(hh_in, t->by_in, &spi, sizeof(spi), other);
		if (other && other != e)
			return -EEXIST;
	}
	if (e && memcmp(&e->hoa, hoa, 16))
		return -EEXIST; /* the other half named another home address */
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->hoa = *hoa;
		e->ike_sa = ike_sa;
		e->reqid = reqid;
		e->req_key = req_key(ike_sa, reqid);
		if (ike_sa)
			HASH_ADD(hh_req, t->by_req, req_key, sizeof(e->req_key), e);
		index_hoa(t, e);
		t->count++;
	}
	if (in) {
		if (e->spi_in)
			HASH_DELETE(hh_in, t->by_in, e);
		e->spi_in = spi;
		HASH_ADD(hh_in, t->by_in, spi_in, sizeof(e->spi_in), e);
	} else {
		e->spi_out = spi;
	}
	return 0;
}

static void unlink_entry(struct cp_sigsas *t, struct cp_sigsa *e)
{
	struct cp_sigsa *x;
	if (e->spi_in)
		HASH_DELETE(hh_in, t->by_in, e);
	if (e->ike_sa)
		HASH_DELETE(hh_req, t->by_req, e);
	HASH_FIND(hh_hoa, t->by_hoa, &e->hoa, sizeof(e->hoa), x);
	if (x == e) {
		HASH_DELETE(hh_hoa, t->by_hoa, e);
		/* another SA of the same address (a rekey's older child) takes the index */
		struct cp_sigsa *o, *tmp;
		HASH_ITER(hh_in, t->by_in, o, tmp)
			if (!memcmp(&o->hoa, &e->hoa, 16)) {
				index_hoa(t, o);
				break;
			}
	}
	t->count--;
	free(e);
}

void cp_sigsa_del(struct cp_sigsas *t, uint32_t ike_sa, uint32_t reqid, uint32_t spi, bool in)
{
	struct cp_sigsa *e = NULL;

	if (in)
		HASH_FIND(hh_in, t->by_in, &spi, sizeof(spi), e);
	else if (ike_sa)
		e = find_req(t, ike_sa, reqid);
	if (!e || (!in && e->spi_out != spi))
		return;
	if (in) {
		HASH_DELETE(hh_in, t->by_in, e);
		e->spi_in = 0;
	} else {
		e->spi_out = 0;
	}
	if (!e->spi_in && !e->spi_out)
		unlink_entry(t, e);
}

unsigned cp_sigsa_del_ike(struct cp_sigsas *t, uint32_t ike_sa,
			  void (*gone)(void *arg, const struct cp_sigsa *s), void *arg)
{
	struct cp_sigsa *e, *tmp;
	unsigned n = 0;

	if (!ike_sa)
		return 0;
	HASH_ITER(hh_req, t->by_req, e, tmp) {
		if (e->ike_sa != ike_sa)
			continue;
		if (gone)
			gone(arg, e);
		unlink_entry(t, e);
		n++;
	}
	return n;
}

void cp_sigsa_rename_ike(struct cp_sigsas *t, uint32_t old_ike_sa, uint32_t new_ike_sa)
{
	struct cp_sigsa *e, *tmp, *moved = NULL;

	if (!old_ike_sa || !new_ike_sa || old_ike_sa == new_ike_sa)
		return;
	HASH_ITER(hh_req, t->by_req, e, tmp) {
		if (e->ike_sa != old_ike_sa)
			continue;
		HASH_DELETE(hh_req, t->by_req, e);
		e->ike_sa = new_ike_sa;
		e->req_key = req_key(new_ike_sa, e->reqid);
		/* re-added after the walk, so the walk never meets an entry twice */
		e->hh_req.next = moved;
		moved = e;
	}
	while (moved) {
		e = moved;
		moved = e->hh_req.next;
		HASH_ADD(hh_req, t->by_req, req_key, sizeof(e->req_key), e);
	}
}

const struct cp_sigsa *cp_sigsa_of(const struct cp_sigsas *t, uint32_t spi_in)
{
	struct cp_sigsa *e;
	HASH_FIND(hh_in, t->by_in, &spi_in, sizeof(spi_in), e);
	return e;
}

const struct cp_sigsa *cp_sigsa_for_hoa(const struct cp_sigsas *t, const struct in6_addr *hoa)
{
	struct cp_sigsa *e;
	HASH_FIND(hh_hoa, t->by_hoa, hoa, sizeof(*hoa), e);
	return e;
}

void cp_sigsa_clear(struct cp_sigsas *t)
{
	/* every entry is in by_req (IKE) or by_in (static); by_hoa only indexes them */
	while (t->by_req)
		unlink_entry(t, t->by_req);
	while (t->by_in)
		unlink_entry(t, t->by_in);
	while (t->by_hoa)
		unlink_entry(t, t->by_hoa);
	t->count = 0;
}
