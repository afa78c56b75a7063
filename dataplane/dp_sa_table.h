/*
 * The SA table: (SPI, direction) -> the runtime SA (dp_sa.h).
 *
 * Ownership: the control thread is the only writer (add, delete, reclaim, and the reference
 * counts bindings hold); workers look inbound SAs up lock-free by SPI. A deleted or replaced SA
 * is freed (keys wiped) only after every worker has passed a quiescent state. An SA used by a
 * binding cannot be deleted or replaced (-EBUSY): a rekey adds the new SPI, moves the binding,
 * then deletes the old SPI. Each SA gets its owner lcore here.
 *
 * The SPIs of the HA's outbound SAs are the UEs' choice (RFC 4301 4.1: the receiver picks its
 * SPI), so two UEs may pick one. An add of an SPI that an SA of another key holds is refused,
 * not made a replacement: that would send the first UE's packets under the second's key. A
 * key change of an SA that keeps its SPI (a static SA in a reload) deletes it first.
 */
#ifndef DP_SA_TABLE_H
#define DP_SA_TABLE_H

#include <stdint.h>

#include "dp_sa.h"
#include "ha_sa.h"

struct rte_rcu_qsbr;
struct dp_sa_table;

/** ledger: where each SA's sequence numbers outlive hadp (dp_seq_ledger.h), NULL for none. */
struct dp_sa_table *dp_sa_table_create(uint32_t max_sas, int socket_id, struct rte_rcu_qsbr *qsbr,
				       unsigned n_workers, struct dp_seq_ledger *ledger);
void dp_sa_table_free(struct dp_sa_table *t);

/** Control thread: compile and insert (replacing an unused SA of the same SPI and key: a new
 *  NAT port, a peer that moved). 0 or -errno (-ENOSPC: the table, or the ledger, is full;
 *  -EEXIST: the SPI is an SA's of another key, below). */
int dp_sa_table_add(struct dp_sa_table *t, const struct ha_sa_spec *spec, int socket_id);
/** Control thread: remove. 0, -ENOENT, or -EBUSY while a binding uses it. */
int dp_sa_table_delete(struct dp_sa_table *t, uint32_t spi, uint8_t dir);
/** Control thread: find by SPI and direction (enum ha_sa_dir). */
struct dp_sa *dp_sa_table_find(const struct dp_sa_table *t, uint32_t spi, uint8_t dir);
void dp_sa_table_reclaim(struct dp_sa_table *t);
uint32_t dp_sa_table_count(const struct dp_sa_table *t);

/** Workers: inbound SAs for n SPIs (host order), NULL where none. n <= 64. */
void dp_sa_table_lookup_in(const struct dp_sa_table *t, const uint32_t spi[], unsigned n,
			   struct dp_sa *out[]);

#endif
