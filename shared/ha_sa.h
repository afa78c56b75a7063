/*
 * An ESP security association as the control plane hands it to the dataplane: the fixed-size,
 * by-value description carried in the command ring (SA add/update) and built from the YAML's
 * static SAs. The dataplane compiles it into its own runtime object (dataplane/dp_sa.h) with the
 * keys expanded once for Intel IPsec-MB; this struct is never read on a worker's path.
 */
#ifndef HA_SA_H
#define HA_SA_H

#include <assert.h>
#include <stdint.h>

#include "ha_config.h"

enum ha_sa_dir { HA_SA_IN = 0, HA_SA_OUT = 1 };
enum ha_sa_mode { HA_SA_TRANSPORT = 0, HA_SA_TUNNEL = 1 };

#define HA_SA_F_ESN 0x01 /* 64-bit extended sequence numbers (RFC 4303 2.2.1) */

struct ha_sa_spec {
	uint32_t spi;            /* host order */
	uint8_t direction;       /* enum ha_sa_dir */
	uint8_t mode;            /* enum ha_sa_mode */
	uint8_t family;          /* AF_INET or AF_INET6: the tunnel endpoints' family */
	uint8_t encryption;      /* enum ha_cfg_enc */
	uint8_t integrity;       /* enum ha_cfg_integ */
	uint8_t key_len;         /* octets, GCM salt (last 4 octets) included */
	uint8_t auth_key_len;
	uint8_t flags;           /* HA_SA_F_* */
	uint16_t replay_window;  /* packets; 0 disables anti-replay (inbound only) */
	uint16_t encap_port;     /* RFC 3948 ESP-in-UDP (a NAT between UE and HA): the peer's UDP
	                            port, host order; 0 = plain ESP. Tunnel mode, IPv4 only */
	uint8_t local[16];       /* tunnel mode: outer source (IPv4 in the first 4 octets) */
	uint8_t peer[16];        /* tunnel mode: outer destination */
	uint8_t key[HA_CFG_KEY_MAX];
	uint8_t auth_key[HA_CFG_AUTH_KEY_MAX];
	uint64_t seq_start;      /* outbound: next sequence number - 1 (0 for a new SA) */
};

static_assert(sizeof(struct ha_sa_spec) == 128, "ring layout changed: bump HA_RING_VERSION");


/** Fill a spec from one of the YAML's static SAs. */
void ha_sa_spec_from_config(const struct ha_config_sa *c, struct ha_sa_spec *s);

#endif
