/*
 * ha-decode FILE.pcap...: one JSON object per packet (see docs/ha-decode.md).
 * Exit status: 0 all packets decoded cleanly, 1 some packet had a decode error, 2 usage or
 * file error.
 */
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "ha_decode.h"

#define LINKTYPE_IPV4 228
#define LINKTYPE_IPV6 229

static void usage(FILE *f)
{
	fprintf(f, "usage: ha-decode [--errors-only] FILE.pcap...\n"
		   "  Prints one JSON object per packet: outer headers, RFC 5555 UDP encapsulation,\n"
		   "  Home Address option, type 2 routing header, ESP SPI, the Mobility Header\n"
		   "  message and its options, or the decode error and the Home Agent's action.\n"
		   "  Link types: Ethernet, raw IP, Linux cooked (SLL).\n");
}

static int decode_file(const char *path, bool errors_only, uint64_t *n_err)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, ebuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	struct ha_json j;
	uint64_t frame = 0;
	int dlt, rc;
	size_t skip;
	bool eth;

	if (!pc) {
		fprintf(stderr, "ha-decode: %s: %s\n", path, ebuf);
		return -1;
	}
	dlt = pcap_datalink(pc);
	switch (dlt) {
	case DLT_EN10MB: skip = 0; eth = true; break;
	case DLT_RAW: case LINKTYPE_IPV4: case LINKTYPE_IPV6: skip = 0; eth = false; break;
	case DLT_LINUX_SLL: skip = 16; eth = false; break;
	default:
		fprintf(stderr, "ha-decode: %s: unsupported link type %s\n", path,
			pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		pcap_close(pc);
		return -1;
	}
	hj_init(&j, stdout);
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		frame++;
		size_t len = h->caplen > skip ? h->caplen - skip : 0;
		const uint8_t *pkt = data + (h->caplen > skip ? skip : 0);
		struct ha_pkt p;
		struct mh_msg m;
		bool mh;
		enum ha_err e = ha_decode_packet(pkt, len, eth, &p, &m, &mh);

		if (e != HA_OK)
			(*n_err)++;
		if (!errors_only || e != HA_OK)
			ha_decode_json(&j, frame, pkt, len, eth);
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "ha-decode: %s: %s\n", path, pcap_geterr(pc));
		pcap_close(pc);
		return -1;
	}
	pcap_close(pc);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "errors-only", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool errors_only = false;
	uint64_t n_err = 0;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "eh", lopts, NULL)) != -1) {
		switch (c) {
		case 'e': errors_only = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	for (; optind < argc; optind++)
		if (decode_file(argv[optind], errors_only, &n_err) < 0)
			bad = 1;
	if (fflush(stdout) != 0) {
		perror("ha-decode: stdout");
		return 2;
	}
	return bad ? 2 : n_err ? 1 : 0;
}
