/*
 * libFuzzer harness for the full packet classifier input: Ethernet or IP (first input octet
 * chooses), the Mobility Header behind it, and the JSON rendering ha-decode prints. Every
 * offset the classifier reports must lie inside the input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ha_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null_out;
	static struct ha_json j;
	struct ha_pkt p;
	struct mh_msg m;
	bool mh;

	if (size < 1)
		return 0;
	if (!null_out) {
		null_out = fopen("/dev/null", "w");
		if (!null_out)
			abort();
	}
	bool eth = data[0] & 1;
	data++;
	size--;
	enum ha_err e = ha_decode_packet(data, size, eth, &p, &m, &mh);
	if (e == HA_OK || e == PKT_ERR_V4COA_NOT_UDP) {
		const struct ha_ip_hdr *ip = ha_pkt_carrier(&p);
		if (p.outer.ver && (p.outer.end > size || p.outer.l4_off > p.outer.end))
			abort();
		if (ip->ver && (ip->end > size || ip->l4_off > ip->end))
			abort();
		if (p.cls == HA_PKT_ESP && p.esp_off + 8 > size)
			abort();
	} else if (p.err_offset > size + 1) {
		abort();
	}
	hj_init(&j, null_out);
	ha_decode_json(&j, 1, data, size, eth);
	return 0;
}
