/*
 * The UE's end of a payload SA (RFC 4303 tunnel mode, AES-GCM as RFC 4106 uses it), for
 * ha-pktgen: it seals the uplink traffic of bindings that have payload SAs and opens what hadp
 * sends them. AES-GCM only: the benchmark's algorithm; the other algorithms are shown against
 * scapy in tests/dataplane.
 */
#ifndef PG_ESP_H
#define PG_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha_config.h"

#define PG_ESP_OVERHEAD_MAX (8 + 8 + 3 + 2 + 16) /* header, IV, padding, trailer, ICV */

struct pg_esp;

/** One state for every static SA of cfg (keys expanded on first use). NULL: out of memory. */
struct pg_esp *pg_esp_create(const struct ha_config *cfg);
void pg_esp_free(struct pg_esp *e);

/** Whether ha-pktgen can seal and open under static SA sa_index; err says why not. */
bool pg_esp_usable(struct pg_esp *e, uint32_t sa_index, char *err, size_t err_len);

/**
 * ESP of the plain octets under SA sa_index with the SA's next sequence number: header, IV,
 * the plain octets, padding (1, 2, ...), pad length, next header nh, ICV, written to out.
 * @return the ESP length (plain_len + 34 + 0..3 padding).
 */
size_t pg_esp_seal(struct pg_esp *e, uint32_t sa_index, uint8_t nh, const uint8_t *plain,
		   size_t plain_len, uint8_t *out);

/**
 * Open ESP (esp_len octets from the SPI) under SA sa_index: the ICV must verify and the padding
 * be RFC 4303's. The plain octets are written to out, *nh gets the next header.
 * @return the plain length, or -1.
 */
long pg_esp_open(struct pg_esp *e, uint32_t sa_index, const uint8_t *esp, size_t esp_len,
		 uint8_t *out, uint8_t *nh);

#endif
