/*
 * The ESP sequence ledger: for every SA hadp holds, in a state file that outlives hadp
 * (shared/ha_state_file.h), the highest outbound sequence number it may have used and the
 * highest inbound one it accepted. AES-GCM's IV is the sequence number (RFC 4106 3.1): an SA
 * installed again after a restart of hadp, with the same key, must never send a number it may
 * have sent before, nor accept a packet it has accepted before.
 *
 * - Outbound: the owner lcore reserves numbers in blocks of DP_SEQ_BLOCK, writing the block's
 *   end here before it uses the first of them (dp_seq_reserve); an SA created again, or a
 *   replacement of the same SPI, starts above what is written. Each reservation takes the next
 *   block from the record, so two SAs of one key (the old and the new of a replacement, on the
 *   same owner lcore) never share a number either.
 * - Inbound: each authenticated number is written here as the window's right edge moves; an SA
 *   created again starts with that edge and every number at or below it marked as seen.
 *
 * A record is found by (SPI, direction) and belongs to one key (a 64-bit fingerprint of the
 * key material): the same SPI under another key starts afresh. Records of deleted SAs are kept,
 * the oldest reused first, so an SA deleted and added again with the same key (a static SA in a
 * configuration reload) resumes as well. Control thread: open, claim, release; owner lcore: the
 * record's numbers.
 */
#ifndef DP_SEQ_LEDGER_H
#define DP_SEQ_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "ha_sa.h"
#include "ha_state_file.h"

#define DP_SEQ_BLOCK 4096u
#define DP_SEQ_LEDGER_VERSION 1

enum dp_seq_state { DP_SEQ_FREE = 0, DP_SEQ_LIVE, DP_SEQ_RETIRED };

struct dp_seq_rec {
	uint32_t spi;
	uint8_t dir;                /* enum ha_sa_dir */
	uint8_t state;              /* enum dp_seq_state */
	uint16_t users;             /* SAs of this run pointing at it (control thread) */
	uint64_t key_fp;
	volatile uint64_t out_reserved; /* outbound: no number above it was used */
	volatile uint64_t in_seen;      /* inbound: the highest number accepted */
	uint64_t retired;           /* when it was let go, on the ledger's own clock */
	uint8_t pad[24];
};

struct rte_hash;

struct dp_seq_ledger {
	struct ha_state_file file;
	struct dp_seq_rec *recs;
	uint32_t capacity;
	struct rte_hash *idx;       /* (SPI, direction) -> record index */
	uint64_t clock;             /* orders retirements */
	uint32_t hint;              /* where the next free record is looked for */
	uint32_t adopted;           /* records a previous hadp left */
};

/** Open DIR/esp_seq for capacity records (2 per SA and some: retired ones are kept). 0 or
 *  -errno, err a line for the log. */
int dp_seq_ledger_open(struct dp_seq_ledger *l, const char *dir, uint32_t capacity, char *err,
		       size_t errlen);
void dp_seq_ledger_close(struct dp_seq_ledger *l);

/** The record of spec's SA (its numbers kept when spec has the record's key), NULL when the
 *  ledger is full of SAs in use. Control thread. */
struct dp_seq_rec *dp_seq_ledger_claim(struct dp_seq_ledger *l, const struct ha_sa_spec *spec);
/** Whether spec has the key of r's SA (by the record's fingerprint). Control thread. */
bool dp_seq_ledger_same_key(const struct dp_seq_ledger *l, const struct dp_seq_rec *r,
			    const struct ha_sa_spec *spec);
/** An SA that pointed at r is freed. Control thread. */
void dp_seq_ledger_release(struct dp_seq_ledger *l, struct dp_seq_rec *r);

#endif
