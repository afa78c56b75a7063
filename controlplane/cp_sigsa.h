/*
 * The SAs that protect UEs' signalling (RFC 4877): for each inbound transport SA, the home
 * address whose Binding Updates it may carry, the outbound SA that protects the answers, and the
 * IKE SA both came from (0 for the YAML's static SAs). A BU is accepted only under an SA of its
 * own home address (cp_bu.c). Owner: hacpd's main thread.
 */
#ifndef CP_SIGSA_H
#define CP_SIGSA_H

#include <netinet/in.h>
#include <stdint.h>

#include "uthash.h"

struct cp_sigsa {
	uint32_t spi_in;             /* 0 until the inbound half is installed */
	uint32_t spi_out;            /* 0 until the outbound half is installed */
	struct in6_addr hoa;
	uint32_t ike_sa;             /* charon's IKE SA id, 0: static */
	uint32_t reqid;              /* charon's child SA, pairs the two halves */
	UT_hash_handle hh_in;        /* by spi_in */
	UT_hash_handle hh_hoa;       /* by home address: the newest */
	UT_hash_handle hh_req;       /* by (ike_sa, reqid) */
	uint64_t req_key;
};

struct cp_sigsas {
	struct cp_sigsa *by_in, *by_hoa, *by_req;
	unsigned count;
};

/** One direction of a signalling SA. in: spi is the inbound SPI, else the outbound one.
 *  @return 0, -ENOMEM, -EEXIST (that inbound SPI protects another home address). */
int cp_sigsa_add(struct cp_sigsas *t, uint32_t ike_sa, uint32_t reqid, const struct in6_addr *hoa,
		 uint32_t spi, bool in);
/** Remove the direction with that SPI; the entry goes when both halves are gone. */
void cp_sigsa_del(struct cp_sigsas *t, uint32_t ike_sa, uint32_t reqid, uint32_t spi, bool in);
/** Every entry of an IKE SA, removed; each one is passed to gone (may be NULL) before it is. */
unsigned cp_sigsa_del_ike(struct cp_sigsas *t, uint32_t ike_sa,
			  void (*gone)(void *arg, const struct cp_sigsa *s), void *arg);
/** An IKE SA rekeyed: its children now belong to the new one. */
void cp_sigsa_rename_ike(struct cp_sigsas *t, uint32_t old_ike_sa, uint32_t new_ike_sa);
const struct cp_sigsa *cp_sigsa_of(const struct cp_sigsas *t, uint32_t spi_in);
const struct cp_sigsa *cp_sigsa_for_hoa(const struct cp_sigsas *t, const struct in6_addr *hoa);
void cp_sigsa_clear(struct cp_sigsas *t);

#endif
