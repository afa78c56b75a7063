/* Big-endian (network order) loads and stores on unaligned octets, for the codec and packets. */
#ifndef HA_BYTES_H
#define HA_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t ha_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ha_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Four octets as they are on the wire (an IPv4 address, an SPI), from any alignment: one load
 * on x86, without the undefined behaviour of a cast to uint32_t * on an odd address. */
static inline uint32_t ha_ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline void ha_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ha_wr32(uint8_t *p, uint32_t v)
{
	ha_wr16(p, (uint16_t)(v >> 16));
	ha_wr16(p + 2, (uint16_t)v);
}

#endif
