/*
 * Mobility Header codec (RFC 6275 6.1/6.2, RFC 5555, RFC 5846, RFC 5142).
 *
 * Pure functions: bytes and a length in, a structure or a precise error out; builders write into
 * the caller's buffer. No allocation, no I/O, no DPDK, so both processes, the unit tests and the
 * fuzzers share exactly this code. Thread-safe (no global state).
 */
#ifndef MH_CODEC_H
#define MH_CODEC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha_errors.h"

#define MH_PROTO        135 /* IPv6 Next Header / IPv4 protocol of the Mobility Header */
#define MH_IPPROTO_NONE 59  /* the only valid Payload Proto */
#define MH_FIXED_LEN    6   /* Payload Proto, Header Len, MH Type, Reserved, Checksum */
#define MH_MAX_LEN      2048 /* (255 + 1) * 8 */
#define MH_LIFETIME_UNIT 4  /* BU/BA lifetime and Binding Refresh Advice: 4-second units */

enum mh_type {
#define X(e, v, name, minlen) e = v,
#include "mh_types.def"
#undef X
};

enum mh_opt_type {
#define X(e, v, name, an, ao, len) e = v,
#include "mh_options.def"
#undef X
};

enum mh_ba_status {
#define X(e, v, name) e = v,
#include "mh_ba_status.def"
#undef X
};

enum mh_revocation_trigger {
#define X(e, v, name) e = v,
#include "mh_revocation_trigger.def"
#undef X
};

/* Binding Update flags: the 16-bit word at MH offset 8 (IANA, protocol.md 2.1). */
#define MH_BU_A 0x8000
#define MH_BU_H 0x4000
#define MH_BU_L 0x2000
#define MH_BU_K 0x1000
#define MH_BU_M 0x0800
#define MH_BU_R 0x0400
#define MH_BU_P 0x0200
#define MH_BU_F 0x0100
#define MH_BU_T 0x0080
#define MH_BU_B 0x0040
#define MH_BU_S 0x0020
#define MH_BU_D 0x0010

/* Binding Acknowledgement flags: the octet at MH offset 7 (IANA, protocol.md 2.2). */
#define MH_BA_K 0x80
#define MH_BA_R 0x40
#define MH_BA_P 0x20
#define MH_BA_T 0x10
#define MH_BA_B 0x08
#define MH_BA_S 0x04
#define MH_BA_D 0x02

/* Binding Error status (RFC 6275 6.1.9). */
#define MH_BE_UNKNOWN_BINDING_HAO 1
#define MH_BE_UNKNOWN_MH_TYPE     2

/* Binding Revocation (RFC 5846): B.R. Type and the flags word at MH offset 10. */
#define MH_BR_BRI 1
#define MH_BR_BRA 2
#define MH_BR_P   0x8000
#define MH_BR_V   0x4000
#define MH_BR_G   0x2000

/* NAT Detection option refresh time meaning "no keepalives needed" (RFC 5555). */
#define MH_NATD_NO_KEEPALIVE 0xFFFFFFFFu

#define MH_MAX_MNP     8   /* Mobile Network Prefix options kept per message */
#define MH_MAX_UNKNOWN 8   /* unknown option types recorded (all are skipped) */
#define MH_MAX_HAS     127 /* HA addresses that fit in the largest MH */
#define MH_MAX_MNID    255
#define MH_MAX_ORDER   24  /* decoded options whose wire order is kept */

/* Presence bits of struct mh_opts, one per option kind. */
#define MH_HAS_OPT(o, kind) ((unsigned)(((o)->present >> (kind)) & 1u))
#define MH_SET_OPT(o, kind) ((o)->present |= 1ull << (kind))

struct mh_mnp {
	uint8_t prefix_len;
	struct in6_addr prefix;
};

struct mh_ipv4_hoa {
	uint8_t prefix_len; /* 6 bits */
	bool p;             /* mobile network prefix requested */
	struct in_addr addr;
};

struct mh_ipv4_ack {
	uint8_t status;
	uint8_t prefix_len; /* 6 bits */
	struct in_addr addr;
};

struct mh_natd {
	bool f;            /* UDP encapsulation must be used */
	uint32_t refresh;  /* seconds; 0 = default, MH_NATD_NO_KEEPALIVE = none needed */
};

/* Every option the codec decodes, at most one of each except MNP (RFC 3963 allows several). */
struct mh_opts {
	uint64_t present;           /* bit (1 << enum mh_opt_type) */
	uint16_t refresh_advice;    /* 4-second units */
	struct in6_addr alt_coa;
	uint16_t home_nonce_index, coa_nonce_index;
	uint8_t auth[12];
	uint8_t n_mnp;
	struct mh_mnp mnp[MH_MAX_MNP];
	uint8_t mnid_subtype;       /* 1 = NAI (RFC 4283) */
	uint8_t mnid_len;
	uint8_t mnid[MH_MAX_MNID];
	struct mh_ipv4_hoa ipv4_hoa;
	struct mh_ipv4_ack ipv4_ack;
	struct mh_natd natd;
	struct in_addr ipv4_coa;
	uint8_t n_unknown;          /* unknown options skipped (only the first few types kept) */
	uint8_t unknown_type[MH_MAX_UNKNOWN];
	/* Wire order of the decoded options (pads and unknowns left out). The builder follows it
	 * when n_order > 0, so a parsed message re-encodes to the same octets; else it uses the
	 * canonical order of mh_build(). */
	uint8_t n_order;
	uint8_t order[MH_MAX_ORDER];
};

struct mh_bu {
	uint16_t seq;
	uint16_t flags;     /* MH_BU_* */
	uint16_t lifetime;  /* 4-second units */
};

struct mh_ba {
	uint8_t status;
	uint8_t flags;      /* MH_BA_* */
	uint16_t seq;
	uint16_t lifetime;  /* 4-second units */
};

struct mh_be {
	uint8_t status;
	struct in6_addr hoa;
};

/* Home Test Init / Care-of Test Init / Home Test / Care-of Test (RFC 6275 6.1.3-6.1.6). */
struct mh_rr {
	uint16_t nonce_index; /* HoT/CoT only */
	uint8_t cookie[8];
	uint8_t keygen[8];    /* HoT/CoT only */
};

/* BRI and BRA share MH type 16; trigger_status is the Revocation Trigger (BRI) or Status (BRA). */
struct mh_br {
	uint8_t br_type;        /* MH_BR_BRI / MH_BR_BRA */
	uint8_t trigger_status;
	uint16_t seq;
	uint16_t flags;         /* MH_BR_P | MH_BR_V | MH_BR_G */
};

struct mh_has {
	uint8_t n_addrs;
	struct in6_addr addrs[MH_MAX_HAS];
};

/* One decoded (or to-be-built) Mobility Header message. */
struct mh_msg {
	uint8_t type;        /* enum mh_type */
	uint8_t payload_proto;
	uint16_t checksum;   /* as received / as built */
	uint16_t len;        /* total MH length in octets, (Header Len + 1) * 8 */
	union {
		struct mh_bu bu;
		struct mh_ba ba;
		struct mh_be be;
		struct mh_rr rr;
		struct mh_br br;
		struct mh_has has;
	};
	struct mh_opts opts;
	uint16_t err_offset; /* on error: MH offset of the offending field (ICMP pointer) */
};

/* Upper-layer pseudo-header addresses (RFC 6275 6.1.1): src is the home address from a Home
 * Address option when there is one, dst the home address from a type 2 routing header. */
struct mh_pseudo {
	struct in6_addr src;
	struct in6_addr dst;
};

/**
 * Parse the Mobility Header at buf.
 * @param len  octets available; the MH length comes from Header Len and must fit in len.
 * @param ph   pseudo-header for the checksum check, or NULL to skip it (already verified).
 * @return HA_OK, or the error; on error out->err_offset names the offending octet.
 */
enum ha_err mh_parse(const uint8_t *buf, size_t len, const struct mh_pseudo *ph,
		     struct mh_msg *out);

/**
 * Build msg (type, body, every option marked present) into buf: options in a fixed canonical
 * order, each padded to its alignment, the MH padded to a multiple of 8 octets, Header Len and
 * the checksum over ph filled in (ph may be NULL to leave the checksum 0).
 * @return the MH length, or -1 if cap is too small or msg cannot be encoded.
 */
int mh_build(const struct mh_msg *msg, const struct mh_pseudo *ph, uint8_t *buf, size_t cap);

/** RFC 6275 6.1.1 checksum of the MH at mh (checksum field included as it is). */
uint16_t mh_checksum(const struct mh_pseudo *ph, const uint8_t *mh, size_t len);

/** One's-complement sum helpers, shared with the packet code (UDP, IPv4). */
uint32_t ha_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t ha_csum_fold(uint32_t sum);

/** Modular sequence comparison (RFC 6275 9.5.1): true if a is newer than b. */
static inline bool mh_seq_newer(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b) > 0;
}

const char *mh_type_name(uint8_t type);       /* "unknown" if not in mh_types.def */
const char *mh_opt_name(uint8_t type);
const char *mh_ba_status_name(uint8_t status); /* NULL if the HA never sends it */
const char *mh_revocation_trigger_name(uint8_t trigger); /* NULL if RFC 5846 names none */

#endif
