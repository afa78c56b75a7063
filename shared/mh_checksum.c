/* Internet checksum (RFC 1071) and the Mobility Header pseudo-header rule (RFC 6275 6.1.1). */
#include <string.h>

#include "mh_codec.h"

uint32_t ha_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len >= 2; p += 2, len -= 2) {
		sum += (uint32_t)p[0] << 8 | p[1];
		if (sum & 0x80000000u) /* fold before the 32-bit sum could overflow */
			sum = (sum & 0xFFFF) + (sum >> 16);
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t ha_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t mh_checksum(const struct mh_pseudo *ph, const uint8_t *mh, size_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum = 0;

	/* pseudo-header: src, dst, 32-bit upper-layer length, 3 zero octets, next header 135 */
	tail[0] = (uint8_t)(len >> 24);
	tail[1] = (uint8_t)(len >> 16);
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[7] = MH_PROTO;
	sum = ha_csum_add(sum, &ph->src, 16);
	sum = ha_csum_add(sum, &ph->dst, 16);
	sum = ha_csum_add(sum, tail, sizeof(tail));
	sum = ha_csum_add(sum, mh, len);
	return ha_csum_fold(sum);
}
